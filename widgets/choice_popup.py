"""Choice popup: the operator picks one of a few states (Auto / Manual / Off, a recipe, a mode).

One big button per choice, the current one marked (a dark bar on its left, and checked), and
Cancel. Pressing a choice emits ``chosen(value)`` and closes, even for the current choice: the
caller decides whether writing the same value again matters. Cancel or Esc emits nothing. A long
list scrolls, with a scroll bar wide enough for a gloved finger.

Never opened with ``exec()``: see ``widgets.confirm`` for why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QPushButton, QScrollArea, QVBoxLayout, QWidget

from widgets import theme
from widgets.confirm import PopupDialog

VISIBLE_CHOICES = 7  # more than this and the list scrolls instead of growing off the screen


class ChoicePopup(PopupDialog):
    """A list of big buttons, one per ``(value, text)`` choice; emits ``chosen(value)``."""

    chosen = Signal(object)

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[object, str]],
        parent: QWidget | None = None,
        *,
        current: object = None,
        subtitle: str = "",
        scale: float = 1.0,
    ) -> None:
        if not choices:
            raise ValueError("a choice popup needs at least one choice")
        super().__init__(title, parent, subtitle=subtitle, scale=scale)
        self.choice_buttons: list[QPushButton] = []
        inner = QWidget()
        column = QVBoxLayout(inner)
        scrolls = len(choices) > VISIBLE_CHOICES
        column.setContentsMargins(0, 0, self.px(10) if scrolls else 0, 0)  # clear of the bar
        column.setSpacing(self.px(8))
        current_button: QPushButton | None = None
        for value, text in choices:
            button = self.make_button(text)
            button.setCheckable(True)
            button.setAutoDefault(True)  # Enter / Space on the focused choice picks it
            if current is not None and value == current:
                button.setChecked(True)
                button.setFont(theme.font(theme.VALUE_PX, scale, bold=True))
                button.setToolTip("Current")
                current_button = button
            # a checkable button toggles itself on click; the popup closes at once, so only the
            # emitted value matters, not the toggled state
            button.clicked.connect(lambda _=False, v=value: self._choose(v))
            column.addWidget(button)
            self.choice_buttons.append(button)
        column.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        shown = min(len(choices), VISIBLE_CHOICES)
        scroll.setMinimumHeight(shown * self.button_px() + (shown - 1) * self.px(8))
        self.scroll_area = scroll
        self.body.addWidget(scroll)

        self.body.addSpacing(self.px(6))
        self.cancel_button = self.make_button("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.body.addWidget(self.cancel_button)
        self.frame.setMinimumWidth(self.px(360))
        self._current_button = current_button
        (current_button or self.choice_buttons[0]).setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._current_button is not None:  # laid out only now: scroll the current into view
            margin = self.button_px() + self.px(8)  # the next choice shows too, not an edge
            self.scroll_area.ensureWidgetVisible(self._current_button, 0, margin)

    def _choose(self, value: object) -> None:
        self.chosen.emit(value)
        self.accept()


def open_choices(
    parent: QWidget | None,
    title: str,
    choices: Sequence[tuple[object, str]],
    current: object,
    on_choice: Callable[[object], None],
    *,
    subtitle: str = "",
    scale: float = 1.0,
) -> ChoicePopup:
    """Open a choice popup (non-blocking) that calls ``on_choice`` with the chosen value."""
    popup = ChoicePopup(title, choices, parent, current=current, subtitle=subtitle, scale=scale)
    popup.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    popup.chosen.connect(on_choice)
    popup.open()
    return popup
