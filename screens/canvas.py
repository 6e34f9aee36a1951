"""A container that lays its children out at a design size scaled to fit, keeping the aspect.

Children stay real QWidgets (they get mouse clicks and focus); only their geometry and their
``scale`` change. The area outside the scaled design is filled with the screen background.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from widgets.base import HmiWidget


class ScaledCanvas(QWidget):
    """Places children at design geometry x scale factor, centred in the widget."""

    def __init__(self, design: QSize, background: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.design = design
        self.background = background
        self.scale = 1.0
        self._offset = (0.0, 0.0)
        self._children: list[tuple[QWidget, QRect]] = []
        self.setMinimumSize(160, 100)

    def place(self, child: QWidget, design_rect: QRect) -> None:
        """Add ``child`` at ``design_rect`` (design pixels)."""
        child.setParent(self)
        self._children.append((child, QRect(design_rect)))
        self._layout_child(child, design_rect)

    def move_child(self, child: QWidget, design_rect: QRect) -> None:
        """Change where a placed child sits (design pixels)."""
        for index, (placed, _) in enumerate(self._children):
            if placed is child:
                self._children[index] = (child, QRect(design_rect))
                self._layout_child(child, design_rect)
                return
        raise KeyError("widget is not on this canvas")

    def design_rect_of(self, child: QWidget) -> QRect:
        for placed, rect in self._children:
            if placed is child:
                return QRect(rect)
        raise KeyError("widget is not on this canvas")

    def to_widget(self, rect: QRect) -> QRect:
        """Design rectangle -> widget pixels."""
        ox, oy = self._offset
        s = self.scale
        left = round(ox + rect.x() * s)
        top = round(oy + rect.y() * s)
        right = round(ox + (rect.x() + rect.width()) * s)
        bottom = round(oy + (rect.y() + rect.height()) * s)
        return QRect(left, top, max(1, right - left), max(1, bottom - top))

    def design_area(self) -> QRectF:
        """Where the scaled design sits inside the widget."""
        ox, oy = self._offset
        return QRectF(ox, oy, self.design.width() * self.scale, self.design.height() * self.scale)

    def sizeHint(self) -> QSize:
        return QSize(self.design)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        w, h = self.width(), self.height()
        self.scale = min(w / self.design.width(), h / self.design.height())
        self._offset = (
            (w - self.design.width() * self.scale) / 2,
            (h - self.design.height() * self.scale) / 2,
        )
        for child, rect in self._children:
            self._layout_child(child, rect)

    def _layout_child(self, child: QWidget, rect: QRect) -> None:
        child.setGeometry(self.to_widget(rect))
        if isinstance(child, HmiWidget):
            child.set_scale(self.scale)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.background)
        painter.end()
