"""A drag held at the edge of the designer's view scrolls it and carries on: the widget goes
where the pointer is over the screen that scrolled in, with real mouse events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QScrollArea
from pytestqt.qtbot import QtBot

from screens.designer.autoscroll import EdgeScroller
from screens.designer.canvas import DesignCanvas
from screens.designer.document import ScreenDocument


def test_a_drag_held_at_the_bottom_edge_scrolls_and_the_widget_follows(
    qtbot: QtBot, small: ScreenDocument
) -> None:
    area = QScrollArea()
    qtbot.addWidget(area)
    canvas = DesignCanvas(small)
    area.setWidget(canvas)
    area.resize(640, 400)
    canvas.resize(1400, 800)
    canvas.set_zoom(1.0)
    area.show()
    qtbot.waitExposed(area)
    bar = area.verticalScrollBar()
    assert bar.value() == 0 and bar.maximum() > 300
    start = canvas.item_rect("a").center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(0, 40))
    edge = QPoint(start.x(), canvas.visibleRegion().boundingRect().bottom() - 5)
    qtbot.mouseMove(canvas, edge)  # held here: no more mouse events
    assert isinstance(canvas.edge_scroller, EdgeScroller) and canvas.edge_scroller.timer.isActive()
    qtbot.waitUntil(lambda: bar.value() >= 150, timeout=3000)
    scrolled = bar.value()
    last = canvas.edge_scroller._pos.toPoint()  # where the pointer is over the canvas now
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=last)
    assert not canvas.edge_scroller.timer.isActive()
    x, y, _w, _h = small.entry("a").geometry
    # dropped where the pointer ended, past the part of the screen first visible
    assert y > 100 + scrolled + 200 and abs(x - 100) <= 8
    assert small.undo_stack.count() == 1


def test_no_scrolling_without_a_scroll_area_or_a_drag(qtbot: QtBot, canvas: DesignCanvas) -> None:
    corner = QPoint(5, 5)
    qtbot.mouseMove(canvas, corner)  # hovering at the edge
    assert not canvas.edge_scroller.timer.isActive()
    start = canvas.item_rect("a").center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(0, 20))
    qtbot.mouseMove(canvas, corner)  # dragging to the edge of a canvas shown on its own
    assert canvas.edge_scroller.scroll_area() is None
    assert not canvas.edge_scroller.timer.isActive()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=corner)
