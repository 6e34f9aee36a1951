"""Scrolling the designer's view while a drag is held near its edge.

When the canvas is zoomed in, the screen is larger than the view; a widget dragged (or a frame
resized, or a band drawn) towards the edge should carry on past it. While the pointer stays
within ``EDGE_PX`` of an edge of the visible part, a timer scrolls the enclosing scroll area
every ``TICK_MS`` and replays the pointer's position as a mouse move, so the gesture follows
what scrolled under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QAbstractScrollArea

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

EDGE_PX = 24
"""How near the edge of the visible part the pointer starts the scrolling."""
TICK_MS = 30
STEP_PX = 12
"""Scrolled per tick (400 px/s); twice that once the pointer is past the edge."""


class EdgeScroller(QObject):
    """Scrolls ``canvas``'s scroll area while ``dragging()`` and the pointer is near its edge."""

    def __init__(self, canvas: DesignCanvas, dragging: Callable[[], bool]) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.dragging = dragging
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._pos = QPointF()
        self._modifiers = Qt.KeyboardModifier.NoModifier

    def scroll_area(self) -> QAbstractScrollArea | None:
        """The scroll area showing the canvas (None when it is shown on its own)."""
        viewport = self.canvas.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        return area if isinstance(area, QAbstractScrollArea) else None

    def moved(self, event: QMouseEvent) -> None:
        """The pointer moved: start or stop scrolling by where it is."""
        self._pos = event.position()
        self._modifiers = event.modifiers()
        if self.dragging() and self._direction() != (0, 0):
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    def stop(self) -> None:
        self.timer.stop()

    def _direction(self) -> tuple[int, int]:
        """How far per tick (x, y) to scroll for the pointer where it is; (0, 0): not at all."""
        if self.scroll_area() is None:
            return (0, 0)
        visible = self.canvas.visibleRegion().boundingRect()
        if visible.isEmpty():
            return (0, 0)

        def along(value: float, low: int, high: int) -> int:
            if value < low + EDGE_PX:
                return -STEP_PX * (2 if value < low else 1)
            if value > high - EDGE_PX:
                return STEP_PX * (2 if value > high else 1)
            return 0

        return (
            along(self._pos.x(), visible.left(), visible.right()),
            along(self._pos.y(), visible.top(), visible.bottom()),
        )

    def _tick(self) -> None:
        area = self.scroll_area()
        dx, dy = self._direction()
        if area is None or not self.dragging() or (dx, dy) == (0, 0):
            self.timer.stop()
            return
        moved = []
        for bar, step in ((area.horizontalScrollBar(), dx), (area.verticalScrollBar(), dy)):
            before = bar.value()
            bar.setValue(before + step)
            moved.append(bar.value() - before)
        if moved == [0, 0]:  # at the end of the screen both ways
            self.timer.stop()
            return
        # the same place on screen is now this much further into the canvas
        self._pos = self._pos + QPointF(moved[0], moved[1])
        replay = QMouseEvent(
            QEvent.Type.MouseMove,
            self._pos,
            self.canvas.mapToGlobal(self._pos),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            self._modifiers,
        )
        self.canvas.mouseMoveEvent(replay)
