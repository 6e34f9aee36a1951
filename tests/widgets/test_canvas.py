"""The canvas repaints only what changed, and what is on screen is what a full repaint draws."""

from __future__ import annotations

import time

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from tests.support.items import click_item
from widgets.canvas import ItemCanvas
from widgets.numeric import NumericDisplay, NumericProps
from widgets.panel import Panel, PanelProps
from widgets.state_indicator import StateIndicator, StateProps


def _value(value: object, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "timeout")


def _on_screen(canvas: ItemCanvas) -> QImage:
    """What the window system shows: the backing store, not a fresh rendering."""
    QApplication.processEvents()
    QApplication.processEvents()
    screen = canvas.screen()
    return screen.grabWindow(canvas.winId()).toImage().convertToFormat(QImage.Format.Format_RGB32)


def _rendered(canvas: ItemCanvas) -> QImage:
    """A full rendering of every item (what the screen must match)."""
    return canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _scene(
    qtbot: QtBot,
) -> tuple[ItemCanvas, Panel, NumericDisplay, NumericDisplay, StateIndicator]:
    canvas = ItemCanvas(QSize(600, 300), QColor("#d9d9d9"))
    panel = Panel(PanelProps(title="Process"))
    on_panel = NumericDisplay(NumericProps(label="Speed"))
    elsewhere = NumericDisplay(NumericProps(label="Level"))
    state = StateIndicator(StateProps(label="Filler"))
    canvas.place(panel, QRect(10, 10, 300, 200))
    canvas.place(on_panel, QRect(20, 50, 260, 40))
    canvas.place(elsewhere, QRect(330, 50, 260, 40))
    canvas.place(state, QRect(20, 120, 260, 40))
    for widget, tag, data_type in (
        (on_panel, "speed", DataType.FLOAT64),
        (elsewhere, "level", DataType.FLOAT64),
        (state, "running", DataType.BOOL),
    ):
        widget.bind_meta("value", TagMeta(tag, data_type, display_format=".1f"))
    canvas.resize(600, 300)
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas, panel, on_panel, elsewhere, state


def test_partial_repaints_leave_the_same_picture_as_a_full_one(qtbot: QtBot) -> None:
    canvas, _panel, on_panel, elsewhere, state = _scene(qtbot)
    for step in range(30):
        on_panel.apply("value", _value(step * 1.5))
        if step % 3 == 0:
            elsewhere.apply("value", _value(100 - step))
        if step % 5 == 0:
            state.apply("value", _value(step % 2 == 0))
        if step == 20:
            on_panel.apply("value", _value(7.0, Quality.BAD))
        QApplication.processEvents()
    assert _on_screen(canvas) == _rendered(canvas)


def test_only_changed_items_are_painted(qtbot: QtBot) -> None:
    canvas, _panel, on_panel, elsewhere, state = _scene(qtbot)
    for widget in (on_panel, elsewhere, state):
        widget.apply("value", _value(1.0) if widget is not state else _value(True))
    for _ in range(3):  # settle: the first paints after show cover everything
        _on_screen(canvas)
    before = canvas.items_painted
    elsewhere.apply("value", _value(2.0))
    _on_screen(canvas)
    assert canvas.items_painted - before == 1  # nothing lies under or over it
    before = canvas.items_painted
    on_panel.apply("value", _value(2.0))
    _on_screen(canvas)
    assert canvas.items_painted - before == 2  # the panel under it, then the value itself
    before = canvas.items_painted
    on_panel.apply("value", _value(2.0))  # same text: no repaint at all
    _on_screen(canvas)
    assert canvas.items_painted == before


def test_hiding_an_item_repaints_what_was_under_it(qtbot: QtBot) -> None:
    canvas, _panel, on_panel, *_ = _scene(qtbot)
    on_panel.apply("value", _value(3.0))
    _on_screen(canvas)
    on_panel.set_visible(False)
    assert _on_screen(canvas) == _rendered(canvas)
    on_panel.set_visible(True)
    assert _on_screen(canvas) == _rendered(canvas)


def test_clicks_and_tab_reach_items_that_take_them(qtbot: QtBot) -> None:
    canvas, _panel, on_panel, _elsewhere, state = _scene(qtbot)
    clicked: list[str] = []
    state.click_handler = lambda: clicked.append("state")
    assert canvas.item_at(on_panel.geometry().center()) is None  # displays let clicks through
    assert canvas.item_at(state.geometry().center()) is state
    click_item(qtbot, state)
    assert clicked == ["state"]
    assert canvas.focus_item() is state  # a click gives the focus
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert clicked == ["state", "state"]
    canvas.set_focus_item(None)
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)  # Tab goes to the first item taking clicks
    assert canvas.focus_item() is state
    qtbot.keyClick(canvas, Qt.Key.Key_Space)
    assert clicked == ["state", "state", "state"]
