"""The selector shows the state a tag is in and writes the one the operator picks: from the choice
popup, or with one click on a segment of the buttons layout. It is disabled without a handler, on a
read-only tag and on a BAD value, and writes nothing when the choice is the state already read."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from tests.support.items import click_item
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.choice_popup import ChoicePopup
from widgets.quality_look import BAD_PLACEHOLDER
from widgets.selector import NO_STATE, Selector, SelectorProps

MODE = TagMeta("line1.mode", DataType.INT16, description="Line 1 mode", writable=True)
STATES = [
    {"value": 0, "text": "OFF"},
    {"value": 1, "text": "MANUAL"},
    {"value": 2, "text": "AUTO"},
]


def _value(value: Any, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _selector(
    qtbot: QtBot,
    value: Any = 2,
    *,
    meta: TagMeta = MODE,
    quality: Quality = Quality.GOOD,
    handler: bool = True,
    **props: Any,
) -> tuple[Selector, ItemCanvas, list[Any]]:
    selector = Selector(SelectorProps(**{"label": "Mode", "states": STATES, **props}))
    canvas = host_item(selector, 320, 44)
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    selector.bind_meta("value", meta)
    selector.apply("value", _value(value, quality))
    written: list[Any] = []
    if handler:
        selector.set_write_handler(written.append)
    return selector, canvas, written


def _popups(canvas: ItemCanvas) -> list[ChoicePopup]:
    return [popup for popup in canvas.findChildren(ChoicePopup) if popup.isVisible()]


def _click_segment(qtbot: QtBot, selector: Selector, index: int) -> None:
    canvas = selector.popup_parent()
    assert canvas is not None
    centre = selector.segments()[index].center().toPoint() + selector.geometry().topLeft()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=centre)


def _segment_colour(selector: Selector, index: int) -> QColor:
    canvas = selector.popup_parent()
    assert canvas is not None
    rect = selector.segments()[index]
    spot = QPoint(round(rect.left() + 6), round(rect.center().y()))  # beside the text
    return canvas.grab().toImage().pixelColor(spot + selector.geometry().topLeft())


def test_popup_lists_the_states_marks_the_current_and_writes_the_choice(qtbot: QtBot) -> None:
    selector, canvas, written = _selector(qtbot, 2)
    assert selector.current_text() == ("AUTO", "normal")
    click_item(qtbot, selector)
    (popup,) = _popups(canvas)
    assert popup is selector.popup()
    assert popup.windowTitle() == "Mode"
    assert [button.text() for button in popup.choice_buttons] == ["OFF", "MANUAL", "AUTO"]
    assert [button.isChecked() for button in popup.choice_buttons] == [False, False, True]
    qtbot.mouseClick(popup.choice_buttons[1], Qt.MouseButton.LeftButton)
    assert written == [1]
    assert not popup.isVisible() and selector.popup() is None


def test_choosing_the_state_already_read_writes_nothing(qtbot: QtBot) -> None:
    selector, canvas, written = _selector(qtbot, 2)
    click_item(qtbot, selector)
    (popup,) = _popups(canvas)
    qtbot.mouseClick(popup.choice_buttons[2], Qt.MouseButton.LeftButton)
    assert written == []
    # ...but while the value is only UNCERTAIN, the operator's choice is written
    selector.apply("value", _value(2, Quality.UNCERTAIN))
    click_item(qtbot, selector)
    (popup,) = _popups(canvas)
    qtbot.mouseClick(popup.choice_buttons[2], Qt.MouseButton.LeftButton)
    assert written == [2]


def test_cancel_writes_nothing(qtbot: QtBot) -> None:
    selector, canvas, written = _selector(qtbot, 2)
    click_item(qtbot, selector)
    (popup,) = _popups(canvas)
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert written == [] and not popup.isVisible()


def test_buttons_layout_writes_on_one_click_and_draws_the_current_selected(qtbot: QtBot) -> None:
    selector, canvas, written = _selector(qtbot, 2, layout="buttons")
    assert _segment_colour(selector, 2) == theme.RUNNING_FILL  # AUTO is dark: selected
    assert _segment_colour(selector, 0) == theme.STOPPED_FILL
    _click_segment(qtbot, selector, 0)
    assert written == [0]
    assert _popups(canvas) == []  # no popup in between
    selector.apply("value", _value(0))  # the PLC took it
    qtbot.wait(1)
    assert _segment_colour(selector, 0) == theme.RUNNING_FILL
    assert _segment_colour(selector, 2) == theme.STOPPED_FILL
    _click_segment(qtbot, selector, 0)  # the current state again: nothing to write
    assert written == [0]


def test_buttons_layout_press_on_one_segment_and_release_on_another_writes_nothing(
    qtbot: QtBot,
) -> None:
    selector, canvas, written = _selector(qtbot, 2, layout="buttons")
    first = selector.segments()[0].center().toPoint()
    second = selector.segments()[1].center().toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=first)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=second)
    assert written == []


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Space])
def test_keyboard_opens_the_popup_in_both_layouts(qtbot: QtBot, key: Qt.Key) -> None:
    for layout in ("popup", "buttons"):
        selector, canvas, written = _selector(qtbot, 2, layout=layout)
        canvas.setFocus()
        qtbot.keyClick(canvas, Qt.Key.Key_Tab)
        assert selector.has_focus()
        qtbot.keyClick(canvas, key)
        (popup,) = _popups(canvas)
        qtbot.mouseClick(popup.choice_buttons[0], Qt.MouseButton.LeftButton)
        assert written == [0]


@pytest.mark.parametrize("case", ["no handler", "read-only tag", "bad value"])
@pytest.mark.parametrize("layout", ["popup", "buttons"])
def test_disabled_selector_neither_opens_nor_writes(qtbot: QtBot, case: str, layout: str) -> None:
    meta = TagMeta(MODE.name, MODE.data_type) if case == "read-only tag" else MODE
    quality = Quality.BAD if case == "bad value" else Quality.GOOD
    selector, canvas, written = _selector(
        qtbot, 1, meta=meta, quality=quality, handler=case != "no handler", layout=layout
    )
    assert not selector.enabled()
    click_item(qtbot, selector)
    if layout == "buttons":
        _click_segment(qtbot, selector, 0)
    assert _popups(canvas) == [] and written == []
    assert "read-only" in selector.tooltip_text()
    if layout == "buttons" and case != "bad value":
        assert _segment_colour(selector, 0) == theme.PANEL_BG  # greyed, not touchable


def test_bad_value_shows_the_placeholder_and_no_state_selected(qtbot: QtBot) -> None:
    selector, _, _ = _selector(qtbot, 2, quality=Quality.BAD)
    assert selector.current_text() == (BAD_PLACEHOLDER, "bad")
    assert selector.current_index() == NO_STATE
    selector, _, _ = _selector(qtbot, 2, quality=Quality.BAD, layout="buttons")
    assert _segment_colour(selector, 2) != theme.RUNNING_FILL


def test_a_value_none_of_the_states_has_is_shown_and_can_be_corrected(qtbot: QtBot) -> None:
    selector, canvas, written = _selector(qtbot, 7)
    assert selector.current_text() == ("? 7", "unknown")
    assert "none of the states" in selector.tooltip_text()
    click_item(qtbot, selector)
    (popup,) = _popups(canvas)
    assert not any(button.isChecked() for button in popup.choice_buttons)
    qtbot.mouseClick(popup.choice_buttons[2], Qt.MouseButton.LeftButton)
    assert written == [2]


def test_repaints_only_when_the_state_shown_changes(qtbot: QtBot) -> None:
    selector, _, _ = _selector(qtbot, 2)
    before = selector.repaint_requests
    selector.apply("value", _value(2))
    assert selector.repaint_requests == before
    selector.apply("value", _value(1))
    assert selector.repaint_requests == before + 1


def test_bad_props_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="at least two states"):
        SelectorProps(states=[{"value": 1, "text": "ON"}])
    with pytest.raises(ValidationError, match="state value 1 is listed twice"):
        SelectorProps(states=[{"value": 1, "text": "A"}, {"value": 1, "text": "B"}])
    with pytest.raises(ValidationError, match="layout"):
        SelectorProps(states=STATES, layout="dropdown")
