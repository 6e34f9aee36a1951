"""The confirm popup confirms only on its Yes button (Enter cancels), the choice popup emits the
value of the button pressed, and both open without waiting and clean up after themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from widgets.choice_popup import VISIBLE_CHOICES, ChoicePopup, open_choices
from widgets.confirm import MIN_TOUCH_PX, ConfirmDialog, ask_confirm

SHOTS = Path("/tmp/dialogs")
MODES: list[tuple[object, str]] = [(0, "Off"), (1, "Manual"), (2, "Auto")]


def _shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def _confirm(qtbot: QtBot) -> tuple[ConfirmDialog, list[bool]]:
    dialog = ConfirmDialog(
        "Write 450 bpm to line1.filler.speed_sp?",
        detail="Current value 412 bpm. The filler changes speed at once.",
    )
    qtbot.addWidget(dialog)
    confirmed: list[bool] = []
    dialog.confirmed.connect(lambda: confirmed.append(True))
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog, confirmed


def _choices(
    qtbot: QtBot, choices: list[tuple[object, str]] = MODES, current: object = 2
) -> tuple[ChoicePopup, list[object]]:
    popup = ChoicePopup("Filler mode", choices, current=current, subtitle="line1.filler.mode")
    qtbot.addWidget(popup)
    chosen: list[object] = []
    popup.chosen.connect(chosen.append)
    popup.open()
    qtbot.waitExposed(popup)
    return popup, chosen


def test_confirm_default_is_cancel_so_enter_does_not_confirm(qtbot: QtBot) -> None:
    dialog, confirmed = _confirm(qtbot)
    _shot(dialog, "confirm")
    assert dialog.cancel_button.isDefault()
    assert not dialog.yes_button.isDefault() and not dialog.yes_button.autoDefault()
    assert dialog.focusWidget() is dialog.cancel_button
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert confirmed == []
    assert not dialog.isVisible()


def test_enter_on_the_focused_yes_button_still_does_not_confirm(qtbot: QtBot) -> None:
    dialog, confirmed = _confirm(qtbot)
    dialog.yes_button.setFocus()
    qtbot.keyClick(dialog.yes_button, Qt.Key.Key_Return)
    assert confirmed == []


def test_confirm_yes_emits_confirmed_and_closes(qtbot: QtBot) -> None:
    dialog, confirmed = _confirm(qtbot)
    assert dialog.yes_button.text() == "Yes, write"
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.mouseClick(dialog.yes_button, Qt.MouseButton.LeftButton)
    assert confirmed == [True]
    assert not dialog.isVisible()


@pytest.mark.parametrize("how", ["escape", "cancel"])
def test_confirm_cancel_and_escape_emit_nothing(qtbot: QtBot, how: str) -> None:
    dialog, confirmed = _confirm(qtbot)
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        if how == "escape":
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        else:
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert confirmed == []


def test_confirm_buttons_are_touch_size_and_the_detail_is_optional(qtbot: QtBot) -> None:
    dialog, _ = _confirm(qtbot)
    for button in (dialog.yes_button, dialog.cancel_button):
        assert button.width() >= MIN_TOUCH_PX and button.height() >= MIN_TOUCH_PX
    assert dialog.detail_label.isVisible()
    bare = ConfirmDialog("Reset the shift counter?", yes_text="Yes, reset")
    qtbot.addWidget(bare)
    bare.open()
    qtbot.waitExposed(bare)
    assert not bare.detail_label.isVisible()
    assert bare.yes_button.text() == "Yes, reset"
    _shot(bare, "confirm_no_detail")


def test_ask_confirm_calls_on_yes_and_leaves_nothing_behind(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(1280, 800)
    parent.show()
    calls: list[str] = []
    dialog = ask_confirm(parent, "Write 450 bpm?", lambda: calls.append("yes"))
    assert dialog.isVisible() and dialog.isModal()  # open() returned: nothing waited
    gone: list[bool] = []
    dialog.destroyed.connect(lambda: gone.append(True))
    qtbot.mouseClick(dialog.yes_button, Qt.MouseButton.LeftButton)
    assert calls == ["yes"]
    qtbot.waitUntil(lambda: gone == [True], timeout=1000)
    assert parent.findChildren(ConfirmDialog) == []

    refused = ask_confirm(parent, "Write 450 bpm?", lambda: calls.append("again"))
    qtbot.keyClick(refused, Qt.Key.Key_Return)
    assert calls == ["yes"]


def test_choice_emits_the_clicked_value_and_closes(qtbot: QtBot) -> None:
    popup, chosen = _choices(qtbot)
    _shot(popup, "choice")
    assert [b.text() for b in popup.choice_buttons] == ["Off", "Manual", "Auto"]
    with qtbot.waitSignal(popup.accepted, timeout=1000):
        qtbot.mouseClick(popup.choice_buttons[1], Qt.MouseButton.LeftButton)
    assert chosen == [1]
    assert not popup.isVisible()


def test_choice_values_may_be_any_object(qtbot: QtBot) -> None:
    popup, chosen = _choices(qtbot, [("a", "Recipe A"), (None, "No recipe")], current="a")
    qtbot.mouseClick(popup.choice_buttons[1], Qt.MouseButton.LeftButton)
    assert chosen == [None]


def test_the_current_choice_is_marked_and_focused(qtbot: QtBot) -> None:
    popup, chosen = _choices(qtbot, current=1)
    assert [b.isChecked() for b in popup.choice_buttons] == [False, True, False]
    assert popup.choice_buttons[1].font().bold()
    assert popup.focusWidget() is popup.choice_buttons[1]
    qtbot.keyClick(popup.choice_buttons[1], Qt.Key.Key_Return)  # Enter picks the focused one
    assert chosen == [1]

    unmarked, _ = _choices(qtbot, current=None)
    assert not any(b.isChecked() for b in unmarked.choice_buttons)


@pytest.mark.parametrize("how", ["escape", "cancel"])
def test_choice_cancel_and_escape_emit_nothing(qtbot: QtBot, how: str) -> None:
    popup, chosen = _choices(qtbot)
    with qtbot.waitSignal(popup.rejected, timeout=1000):
        if how == "escape":
            qtbot.keyClick(popup, Qt.Key.Key_Escape)
        else:
            qtbot.mouseClick(popup.cancel_button, Qt.MouseButton.LeftButton)
    assert chosen == []


def test_a_long_list_scrolls_to_the_current_choice(qtbot: QtBot) -> None:
    recipes: list[tuple[object, str]] = [(n, f"Recipe {n:02d}") for n in range(1, 21)]
    popup, chosen = _choices(qtbot, recipes, current=18)
    _shot(popup, "choice_long")
    bar = popup.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() > 0  # scrolled down to "Recipe 18"
    assert bar.width() >= MIN_TOUCH_PX * 2 // 3
    assert popup.height() < (VISIBLE_CHOICES + 4) * 2 * MIN_TOUCH_PX
    current = popup.choice_buttons[17]
    assert not current.visibleRegion().isEmpty()
    for button in popup.choice_buttons:
        assert button.height() >= MIN_TOUCH_PX
    qtbot.mouseClick(current, Qt.MouseButton.LeftButton)
    assert chosen == [18]


def test_an_empty_choice_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ChoicePopup("Mode", [])


def test_open_choices_calls_back_and_leaves_nothing_behind(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(1280, 800)
    parent.show()
    picked: list[object] = []
    popup = open_choices(parent, "Filler mode", MODES, 0, picked.append)
    assert popup.isVisible() and popup.isModal()
    gone: list[bool] = []
    popup.destroyed.connect(lambda: gone.append(True))
    qtbot.mouseClick(popup.choice_buttons[2], Qt.MouseButton.LeftButton)
    assert picked == [2]
    qtbot.waitUntil(lambda: gone == [True], timeout=1000)
    assert parent.findChildren(ChoicePopup) == []
