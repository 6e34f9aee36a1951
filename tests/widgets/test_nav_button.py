"""The navigation button names its target screen and, when clicked or activated from the keyboard,
calls the click handler the renderer sets (it never navigates by itself); without a handler it is
drawn disabled and does nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from tests.support.items import click_item
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.nav_button import NavButton, NavProps


def _button(qtbot: QtBot, **props: object) -> tuple[NavButton, ItemCanvas]:
    button = NavButton(NavProps(**{"text": "Filler", "screen": "filler", **props}))
    canvas = host_item(button, 180, 48)
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    return button, canvas


def test_a_click_calls_the_click_handler_with_the_target_screen_known(qtbot: QtBot) -> None:
    button, _ = _button(qtbot)
    assert button.target_screen() == "filler"
    went: list[str] = []
    button.click_handler = lambda: went.append(button.target_screen())
    click_item(qtbot, button)
    assert went == ["filler"]


def test_release_outside_the_button_does_not_navigate(qtbot: QtBot) -> None:
    button, canvas = _button(qtbot)
    calls: list[None] = []
    button.click_handler = lambda: calls.append(None)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=button.geometry().center())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(500, 500))
    assert calls == []


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space])
def test_keyboard_activates_the_focused_button(qtbot: QtBot, key: Qt.Key) -> None:
    button, canvas = _button(qtbot)
    calls: list[None] = []
    button.click_handler = lambda: calls.append(None)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert button.has_focus()
    qtbot.keyClick(canvas, key)
    assert calls == [None]


def test_without_a_handler_it_is_drawn_disabled_and_ignores_clicks(qtbot: QtBot) -> None:
    button, canvas = _button(qtbot)
    click_item(qtbot, button)  # nothing to call: must not fail
    spot = QPoint(6, 24)  # inside the button, left of the text
    assert canvas.grab().toImage().pixelColor(spot) == theme.PANEL_BG
    button.click_handler = lambda: None
    button.update()
    qtbot.wait(1)
    assert canvas.grab().toImage().pixelColor(spot) == theme.STOPPED_FILL
    assert "go to screen filler" in button.tooltip_text()


def test_pressed_look_while_the_button_is_held(qtbot: QtBot) -> None:
    button, canvas = _button(qtbot)
    button.click_handler = lambda: None
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=button.geometry().center())
    qtbot.wait(1)
    assert canvas.grab().toImage().pixelColor(QPoint(6, 24)) == theme.RUNNING_FILL
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=button.geometry().center())
    qtbot.wait(1)
    assert canvas.grab().toImage().pixelColor(QPoint(6, 24)) == theme.STOPPED_FILL


def test_icon_and_back_arrow_change_the_drawing(qtbot: QtBot) -> None:
    variants: list[dict[str, object]] = [{}, {"icon": "\u2699"}, {"arrow": "left"}]
    images = [_button(qtbot, **props)[1].grab().toImage() for props in variants]
    assert images[0] != images[1] and images[0] != images[2] and images[1] != images[2]


def test_bad_props_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="needs the name of a screen"):
        NavProps(text="Filler", screen=" ")
    with pytest.raises(ValidationError, match="screen"):
        NavProps(text="Filler")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="arrow"):
        NavProps(text="Filler", screen="filler", arrow="up")
