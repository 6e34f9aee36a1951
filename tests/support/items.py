"""Driving canvas items (``HmiWidget``) with the mouse, as an operator would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from widgets.base import HmiWidget


def click_item(qtbot: QtBot, item: HmiWidget) -> None:
    """Left-click the middle of ``item`` on the canvas that shows it."""
    canvas = item.popup_parent()
    assert canvas is not None, "the item is not on a canvas"
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=item.geometry().center())
