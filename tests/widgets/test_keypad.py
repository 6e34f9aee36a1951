"""The numeric keypad accepts only numbers inside the range, says why it refuses one, works by
touch and keyboard alike, and never blocks the asyncio loop the app runs on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from widgets.confirm import MIN_TOUCH_PX
from widgets.keypad import BACKSPACE, NumericKeypad, format_number, open_keypad, range_text

SHOTS = Path("/tmp/dialogs")


def _keypad(qtbot: QtBot, **kwargs: object) -> tuple[NumericKeypad, list[object]]:
    options: dict[str, object] = {
        "current": 412,
        "minimum": 0,
        "maximum": 600,
        "units": "bpm",
        "subtitle": "line1.filler.speed_sp",
    }
    options.update(kwargs)
    keypad = NumericKeypad("Filler speed setpoint", **options)  # type: ignore[arg-type]
    qtbot.addWidget(keypad)
    entered: list[object] = []
    keypad.value_entered.connect(entered.append)
    keypad.open()
    qtbot.waitExposed(keypad)
    return keypad, entered


def _press(qtbot: QtBot, keypad: NumericKeypad, keys: str) -> None:
    """Touch the keypad's buttons, one per character ("E" is Enter, "<" is backspace)."""
    names = {"E": None, "<": BACKSPACE, "-": "\u00b1"}
    for key in keys:
        button = keypad.enter_button if key == "E" else keypad.buttons[names.get(key) or key]
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def test_touching_4_5_0_enter_emits_450_and_closes(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot)
    _shot(keypad, "keypad")
    _press(qtbot, keypad, "450")
    assert keypad.text() == "450"
    _shot(keypad, "keypad_typed")
    with qtbot.waitSignal(keypad.accepted, timeout=1000):
        _press(qtbot, keypad, "E")
    assert entered == [450]
    assert type(entered[0]) is int
    assert not keypad.isVisible()


def test_keyboard_typing_works_like_the_buttons(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot)
    qtbot.keyClicks(keypad, "450")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert entered == [450]
    assert not keypad.isVisible()

    keypad, entered = _keypad(qtbot, current=None)
    qtbot.keyClicks(keypad, "1234")
    qtbot.keyClick(keypad, Qt.Key.Key_Backspace)
    qtbot.keyClick(keypad, Qt.Key.Key_Enter)  # the number pad's Enter
    assert entered == [123]


def test_value_above_the_maximum_is_refused_and_the_keypad_stays_open(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot)
    _press(qtbot, keypad, "700E")
    assert entered == []
    assert keypad.isVisible()
    assert keypad.result() == 0
    assert keypad.message() == "700 is above the maximum 600 bpm"
    assert keypad.message_label.property("level") == "error"
    _shot(keypad, "keypad_refused")
    # the next key edits the entry again and takes the warning away
    _press(qtbot, keypad, "<")
    assert keypad.message() == ""
    assert keypad.text() == "70"
    _press(qtbot, keypad, "E")
    assert entered == [70]


def test_refusal_names_the_typed_value_and_the_limit(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, decimals=1, current=412.0)
    qtbot.keyClicks(keypad, "600.5")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "600.5 is above the maximum 600 bpm"

    keypad, entered = _keypad(qtbot, minimum=50, current=None)
    qtbot.keyClicks(keypad, "12")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "12 is below the minimum 50 bpm"
    assert entered == [] and keypad.isVisible()


def test_nothing_typed_or_a_lone_sign_is_not_a_number(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, minimum=-10, current=None)
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "Enter a value first"
    qtbot.keyClicks(keypad, "-")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "\u2212 is not a number"
    assert entered == [] and keypad.isVisible()


@pytest.mark.parametrize("how", ["escape", "cancel"])
def test_escape_and_cancel_emit_nothing(qtbot: QtBot, how: str) -> None:
    keypad, entered = _keypad(qtbot)
    qtbot.keyClicks(keypad, "450")
    with qtbot.waitSignal(keypad.rejected, timeout=1000):
        if how == "escape":
            qtbot.keyClick(keypad, Qt.Key.Key_Escape)
        else:
            qtbot.mouseClick(keypad.cancel_button, Qt.MouseButton.LeftButton)
    assert entered == []
    assert not keypad.isVisible()


def test_the_current_value_is_selected_and_the_first_key_replaces_it(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, current=412)
    assert keypad.text() == "412"
    assert keypad.is_replacing()
    assert keypad.display.selected()  # drawn inverted, like selected text
    assert "background-color" in keypad.display.text()
    _press(qtbot, keypad, "9")
    assert keypad.text() == "9"
    assert not keypad.is_replacing()
    _press(qtbot, keypad, "5")
    assert keypad.text() == "95"

    keypad, entered = _keypad(qtbot, current=412)
    _press(qtbot, keypad, "<")  # backspace on the selection deletes all of it
    assert keypad.text() == ""
    keypad, entered = _keypad(qtbot, current=412)
    _press(qtbot, keypad, "E")  # Enter on the untouched value re-enters it
    assert entered == [412]


def test_clear_and_delete_empty_the_entry(qtbot: QtBot) -> None:
    keypad, _ = _keypad(qtbot, current=None)
    _press(qtbot, keypad, "123")
    qtbot.mouseClick(keypad.buttons["C"], Qt.MouseButton.LeftButton)
    assert keypad.text() == ""
    _press(qtbot, keypad, "45")
    qtbot.keyClick(keypad, Qt.Key.Key_Delete)
    assert keypad.text() == ""


def test_leading_zeros_are_dropped(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, current=None)
    _press(qtbot, keypad, "0005E")
    assert entered == [5]


def test_whole_numbers_take_no_decimal_point(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, decimals=0, current=None)
    assert not keypad.buttons["."].isEnabled()
    qtbot.keyClicks(keypad, "4.5")
    assert keypad.text() == "45"
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert entered == [45]


def test_decimals_are_limited_and_give_a_float(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, decimals=2, minimum=0, maximum=100, current=12.5)
    assert keypad.text() == "12.50"
    assert keypad.buttons["."].isEnabled()
    qtbot.keyClicks(keypad, "3.14159")  # digits past the second decimal are not taken
    assert keypad.text() == "3.14"
    qtbot.keyClicks(keypad, ".")  # a second point neither
    assert keypad.text() == "3.14"
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert entered == [3.14]
    assert type(entered[0]) is float


def test_a_point_first_means_zero_point_and_a_comma_is_a_point(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, decimals=1, current=None)
    _press(qtbot, keypad, ".5")
    assert keypad.text() == "0.5"
    _press(qtbot, keypad, "C")
    qtbot.keyClicks(keypad, "7,5")
    assert keypad.text() == "7.5"
    _press(qtbot, keypad, "E")
    assert entered == [7.5]


def test_negative_numbers_only_when_the_minimum_is_negative(qtbot: QtBot) -> None:
    keypad, entered = _keypad(qtbot, minimum=0, current=None)
    assert not keypad.buttons["\u00b1"].isEnabled()
    qtbot.keyClicks(keypad, "-5")
    assert keypad.text() == "5"
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert entered == [5]

    keypad, entered = _keypad(
        qtbot, minimum=-50.0, maximum=50.0, decimals=1, units="\u00b0C", current=21.5
    )
    assert keypad.buttons["\u00b1"].isEnabled()
    assert keypad.range_label.text() == "Range: \u221250 \u2026 50 \u00b0C"
    _press(qtbot, keypad, "-")  # on the selected value: a new negative number
    assert keypad.text() == "-"
    _press(qtbot, keypad, "20")
    assert keypad.text() == "-20"
    _shot(keypad, "keypad_negative_decimals")
    _press(qtbot, keypad, "--")  # toggles the sign of what is typed
    assert keypad.text() == "-20"
    _press(qtbot, keypad, "-E")
    assert entered == [20.0]

    keypad, entered = _keypad(qtbot, minimum=-50, maximum=50, current=None)
    qtbot.keyClicks(keypad, "-75")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert keypad.message() == "\u221275 is below the minimum \u221250 bpm"
    assert entered == []


def test_every_key_is_big_enough_for_a_gloved_finger(qtbot: QtBot) -> None:
    keypad, _ = _keypad(qtbot)
    buttons = [*keypad.buttons.values(), keypad.enter_button, keypad.cancel_button]
    assert len(buttons) == 16
    for button in buttons:
        assert button.width() >= MIN_TOUCH_PX and button.height() >= MIN_TOUCH_PX, button.text()
        assert button.focusPolicy() == Qt.FocusPolicy.NoFocus  # keys go to the dialog itself
    small, _ = _keypad(qtbot, scale=0.6)  # a small screen still gets touch-size keys
    for button in small.buttons.values():
        assert button.height() >= MIN_TOUCH_PX


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="above maximum"):
        NumericKeypad("x", minimum=10, maximum=0)
    with pytest.raises(ValueError, match="decimals"):
        NumericKeypad("x", decimals=-1)


def test_range_and_number_formatting() -> None:
    assert range_text(0, 600, 0, "bpm") == "0 \u2026 600 bpm"
    assert range_text(0, 1.5, 2, "") == "0 \u2026 1.5"
    assert range_text(0, None, 0, "bpm") == "\u2265 0 bpm"
    assert range_text(None, 100, 0, "%") == "\u2264 100 %"
    assert range_text(None, None, 0, "") == "any value"
    assert format_number(600.0, 1) == "600"
    assert format_number(-0.0001, 2) == "0"
    assert format_number(12.25, 2) == "12.25"


def test_open_keypad_calls_back_and_leaves_nothing_behind(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(1280, 800)
    parent.show()
    values: list[int | float] = []
    keypad = open_keypad(
        parent,
        title="Filler speed setpoint",
        current=412,
        minimum=0,
        maximum=600,
        decimals=0,
        units="bpm",
        on_value=values.append,
    )
    assert keypad.isVisible() and keypad.isModal()  # open() returned: nothing waited
    gone: list[bool] = []
    keypad.destroyed.connect(lambda: gone.append(True))
    qtbot.keyClicks(keypad, "450")
    qtbot.keyClick(keypad, Qt.Key.Key_Return)
    assert values == [450]
    qtbot.waitUntil(lambda: gone == [True], timeout=1000)  # deleted once closed
    assert parent.findChildren(NumericKeypad) == []


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop driven by Qt, as in the application."""
    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()


def test_the_asyncio_loop_keeps_running_while_the_keypad_is_open(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    async def scenario() -> tuple[list[int | float], int]:
        ticks = 0
        values: list[int | float] = []
        done = asyncio.Event()

        def got(value: int | float) -> None:
            values.append(value)
            done.set()

        keypad = open_keypad(parent, title="Speed", current=1, minimum=0, maximum=600, on_value=got)
        for _ in range(5):  # a driver's poll cycle goes on while the operator types
            await asyncio.sleep(0.01)
            ticks += 1
        qtbot.keyClicks(keypad, "42")
        qtbot.keyClick(keypad, Qt.Key.Key_Return)
        await asyncio.wait_for(done.wait(), 2)
        return values, ticks

    values, ticks = qloop.run_until_complete(asyncio.wait_for(scenario(), 10))
    assert values == [42]
    assert ticks == 5
