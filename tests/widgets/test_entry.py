"""The entry opens the touch keypad when clicked (or on Enter/Space), pre-filled with the value and
limited to the props' or the tag's range; only accepted numbers reach the write handler. A string
tag opens a text dialog. Without a handler, on a read-only tag or a BAD value it is disabled."""

from __future__ import annotations

import time
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from tests.support.items import click_item
from widgets.canvas import ItemCanvas, host_item
from widgets.entry import EDIT_SEGMENT_PX, EntryProps, NumericEntry, TextEntryDialog
from widgets.keypad import NumericKeypad

D = TypeVar("D", bound=QDialog)
SPEED = TagMeta(
    "line1.filler.speed_sp", DataType.FLOAT32, "bpm", ".0f", "Filler speed", writable=True
)


def _value(value: Any, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _entry(
    qtbot: QtBot,
    meta: TagMeta = SPEED,
    value: Any = 412.0,
    *,
    quality: Quality = Quality.GOOD,
    handler: bool = True,
    **props: Any,
) -> tuple[NumericEntry, ItemCanvas, list[Any]]:
    entry = NumericEntry(EntryProps(**props))
    canvas = host_item(entry, 280, 44)
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    entry.bind_meta("value", meta)
    entry.apply("value", _value(value, quality))
    written: list[Any] = []
    if handler:
        entry.set_write_handler(written.append)
    return entry, canvas, written


def _open(canvas: ItemCanvas, kind: type[D]) -> list[D]:
    """The dialogs of ``kind`` the canvas has open (closed ones are deleted later)."""
    return [dialog for dialog in canvas.findChildren(kind) if dialog.isVisible()]


def test_click_opens_the_keypad_with_the_value_and_450_enter_writes_450(qtbot: QtBot) -> None:
    entry, canvas, written = _entry(qtbot, label="Speed setpoint", min=0, max=600)
    click_item(qtbot, entry)
    (keypad,) = _open(canvas, NumericKeypad)
    assert entry.editor() is keypad
    assert keypad.windowTitle() == "Speed setpoint"
    assert keypad.text() == "412" and keypad.is_replacing()  # pre-filled, selected
    assert keypad.range_label.text() == "Range: 0 \u2026 600 bpm"
    assert keypad.units == "bpm"
    qtbot.keyClicks(keypad, "450")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert written == [450.0]
    assert type(written[0]) is float  # a float tag gets a float, though 450 was typed
    assert not keypad.isVisible()
    assert entry.editor() is None


def test_700_above_max_is_refused_in_the_keypad_and_never_written(qtbot: QtBot) -> None:
    entry, canvas, written = _entry(qtbot, label="Speed setpoint", max=600)
    click_item(qtbot, entry)
    (keypad,) = _open(canvas, NumericKeypad)
    qtbot.keyClicks(keypad, "700")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "700 is above the maximum 600 bpm"
    assert keypad.isVisible()
    assert written == []
    qtbot.keyClick(keypad, Qt.Key.Key_Escape)
    assert written == [] and not keypad.isVisible()


def test_the_tags_limits_apply_when_the_props_give_none(qtbot: QtBot) -> None:
    limited = TagMeta(
        "line1.temp_sp", DataType.FLOAT32, "°C", ".1f", writable=True, min_value=20, max_value=95.5
    )
    entry, canvas, written = _entry(qtbot, limited, 60.0)
    click_item(qtbot, entry)
    (keypad,) = _open(canvas, NumericKeypad)
    assert keypad.decimals == 1  # from the tag's format
    assert (keypad.minimum, keypad.maximum) == (20, 95.5)
    qtbot.keyClicks(keypad, "12.5")
    qtbot.keyClick(keypad, Qt.Key.Key_Enter)
    assert keypad.message() == "12.5 is below the minimum 20 °C"
    qtbot.keyClick(keypad, Qt.Key.Key_Delete)
    qtbot.keyClicks(keypad, "72.5")
    qtbot.keyClick(keypad, Qt.Key.Key_Enter)
    assert written == [72.5]
    # the props win over the tag's limits
    entry, canvas, written = _entry(qtbot, limited, 60.0, min=30, max=40, decimals=0)
    click_item(qtbot, entry)
    (keypad,) = _open(canvas, NumericKeypad)
    assert (keypad.minimum, keypad.maximum, keypad.decimals) == (30, 40, 0)


def test_an_integer_tag_writes_an_int(qtbot: QtBot) -> None:
    meta = TagMeta("line1.batch_size", DataType.INT32, "pcs", writable=True)
    entry, canvas, written = _entry(qtbot, meta, 1200)
    click_item(qtbot, entry)
    (keypad,) = _open(canvas, NumericKeypad)
    assert keypad.decimals == 0 and keypad.text() == "1200"
    qtbot.keyClicks(keypad, "1500")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert written == [1500] and type(written[0]) is int


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space])
def test_enter_or_space_on_the_focused_entry_opens_the_keypad(qtbot: QtBot, key: Qt.Key) -> None:
    entry, canvas, written = _entry(qtbot)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)  # Tab moves the focus onto the entry
    assert entry.has_focus()
    qtbot.keyClick(canvas, key)
    (keypad,) = _open(canvas, NumericKeypad)
    qtbot.keyClicks(keypad, "5")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert written == [5.0]


def test_a_second_click_does_not_open_a_second_keypad(qtbot: QtBot) -> None:
    entry, canvas, _ = _entry(qtbot)
    entry.open_editor()
    entry.open_editor()
    assert len(_open(canvas, NumericKeypad)) == 1


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("no handler", "writing is not possible here"),
        ("read-only tag", "the tag is read-only"),
        ("bad value", "the value is BAD"),
        ("busy", "writing…"),
    ],
)
def test_disabled_entry_does_not_open_and_looks_like_a_display(
    qtbot: QtBot, case: str, why: str
) -> None:
    enabled, _, _ = _entry(qtbot, label="Speed")
    meta = TagMeta(SPEED.name, SPEED.data_type, "bpm", ".0f") if case == "read-only tag" else SPEED
    quality = Quality.BAD if case == "bad value" else Quality.GOOD
    entry, canvas, written = _entry(
        qtbot, meta, quality=quality, handler=case != "no handler", label="Speed"
    )
    if case == "busy":
        entry.set_busy(True)
    assert not entry.editable()
    click_item(qtbot, entry)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert _open(canvas, NumericKeypad) == [] and entry.editor() is None
    assert written == []
    assert why in entry.tooltip_text()
    # the edit segment with the pencil (right end of the field) is gone
    segment = QRect(280 - EDIT_SEGMENT_PX, 0, EDIT_SEGMENT_PX, 44)
    enabled_canvas = enabled.popup_parent()
    assert enabled_canvas is not None
    assert canvas.grab(segment).toImage() != enabled_canvas.grab(segment).toImage()


def test_string_tag_opens_a_text_dialog_limited_to_max_length(qtbot: QtBot) -> None:
    meta = TagMeta("line1.order", DataType.STRING, writable=True)
    entry, canvas, written = _entry(qtbot, meta, "WO-1001", label="Order", max_length=8)
    click_item(qtbot, entry)
    (dialog,) = _open(canvas, TextEntryDialog)
    assert _open(canvas, NumericKeypad) == []
    assert dialog.line.text() == "WO-1001" and dialog.line.selectedText() == "WO-1001"
    qtbot.keyClicks(dialog.line, "WO-2002-XYZ")  # replaces the selection, stops at 8
    assert dialog.line.text() == "WO-2002-"
    assert dialog.count_label.text() == "8 / 8 characters"
    qtbot.keyClick(dialog.line, Qt.Key.Key_Return)
    assert written == ["WO-2002-"]
    assert not dialog.isVisible()


def test_text_dialog_cancel_writes_nothing(qtbot: QtBot) -> None:
    meta = TagMeta("line1.order", DataType.STRING, writable=True)
    entry, canvas, written = _entry(qtbot, meta, "WO-1001")
    click_item(qtbot, entry)
    (dialog,) = _open(canvas, TextEntryDialog)
    qtbot.keyClicks(dialog.line, "X")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert written == [] and not dialog.isVisible()


def test_a_boolean_or_array_tag_is_not_typed_in(qtbot: QtBot) -> None:
    flag = TagMeta("line1.enable", DataType.BOOL, writable=True)
    entry, canvas, _ = _entry(qtbot, flag, True)
    click_item(qtbot, entry)
    assert _open(canvas, QDialog) == [] and "use a selector" in entry.tooltip_text()
    array = TagMeta("line1.recipe", DataType.INT16, writable=True, array_length=4)
    entry, canvas, _ = _entry(qtbot, array, (1, 2, 3, 4))
    click_item(qtbot, entry)
    assert _open(canvas, QDialog) == []


def test_value_changes_repaint_only_when_the_shown_text_changes(qtbot: QtBot) -> None:
    entry, _, _ = _entry(qtbot)
    before = entry.repaint_requests
    entry.apply("value", _value(412.2))  # ".0f": still shows 412
    assert entry.repaint_requests == before
    entry.apply("value", _value(413.0))
    assert entry.repaint_requests == before + 1


def test_bad_props_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="min 700 is above max 600"):
        EntryProps(min=700, max=600)
    with pytest.raises(ValidationError, match="does not fit a number"):
        EntryProps(format="%Y")
    with pytest.raises(ValidationError, match="Extra inputs"):
        EntryProps(minimum=0)  # type: ignore[call-arg]
