"""Numeric keypad popup: the operator types a number on the touch screen or the keyboard.

It shows what is being set (title, optional tag name), the current value, the units and the
allowed range ("0 … 600 bpm"). A value outside the range, or text that is not a number, is
refused with a message inside the dialog, in the warning colours, and the dialog stays open; a
valid Enter emits ``value_entered`` (an ``int`` when ``decimals`` is 0, else a ``float``) and
closes. Like a calculator, the current value starts out selected, so the first digit replaces it.

Never opened with ``exec()``: see ``widgets.confirm`` for why.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetricsF, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from widgets import theme
from widgets.confirm import PopupDialog

MAX_CHARS = 16  # beyond float precision; keeps the display from growing past the dialog
BACKSPACE = "\u2190"  # leftwards arrow: in every UI font, unlike the "erase" sign U+232B
MINUS = "\u2212"  # the typographic minus reads better than a hyphen at value size
DISPLAY_PX = theme.VALUE_PX * 1.5
MIN_FIT = 0.5


def format_number(value: float, decimals: int) -> str:
    """``value`` with at most ``decimals`` decimals and no trailing zeros: 600, 0.5, -12.25."""
    text = f"{value:.{max(0, decimals)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def shown_number(value: float, decimals: int) -> str:
    """``format_number`` with a typographic minus, as the operator sees it."""
    return format_number(value, decimals).replace("-", MINUS)


def range_text(minimum: float | None, maximum: float | None, decimals: int, units: str) -> str:
    """The allowed range as shown to the operator: "0 … 600 bpm", "≥ 0 bpm", "any value"."""
    suffix = f" {units}" if units else ""
    if minimum is not None and maximum is not None:
        low, high = shown_number(minimum, decimals), shown_number(maximum, decimals)
        return f"{low} \u2026 {high}{suffix}"
    if minimum is not None:
        return f"\u2265 {shown_number(minimum, decimals)}{suffix}"
    if maximum is not None:
        return f"\u2264 {shown_number(maximum, decimals)}{suffix}"
    return "any value"


class ValueDisplay(QLabel):
    """The entry field: the typed number, large and right-aligned, drawn inverted while selected.

    A long number is drawn in a smaller font rather than widening the dialog under the operator's
    finger (down to ``MIN_FIT`` of the normal size; the entry stops at ``MAX_CHARS`` anyway).
    """

    def __init__(self, scale: float, height: int) -> None:
        super().__init__()
        self.setObjectName("keypadDisplay")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setMinimumHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._scale = scale
        self._padding = round(10 * scale)
        self._value = ""
        self._selected = False
        self.setStyleSheet(
            f"QLabel#keypadDisplay {{ background: {theme.FIELD_BG.name()};"
            f" border: 1px solid {theme.FIELD_EDGE.name()};"
            f" padding: 0 {self._padding}px; color: {theme.TEXT.name()}; }}"
        )
        self.setFont(theme.font(DISPLAY_PX, scale, bold=True))

    def value(self) -> str:
        """The number as shown (typographic minus)."""
        return self._value

    def selected(self) -> bool:
        """True while the value is drawn inverted (the next key replaces it)."""
        return self._selected

    def show_value(self, value: str, *, selected: bool) -> None:
        """Show ``value``; ``selected`` draws it inverted, like selected text."""
        self._value, self._selected = value, selected and bool(value)
        self._fit()
        shown = html.escape(value)
        if self._selected:
            shown = (
                f'<span style="background-color:{theme.RUNNING_FILL.name()};'
                f' color:{theme.RUNNING_TEXT.name()};">&nbsp;{shown}&nbsp;</span>'
            )
        self.setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width() - 2 * self._padding
        text = f"\u00a0{self._value}\u00a0" if self._selected else self._value
        size = DISPLAY_PX
        font = theme.font(size, self._scale, bold=True)
        while size > DISPLAY_PX * MIN_FIT and QFontMetricsF(font).horizontalAdvance(text) > room:
            size -= 1
            font = theme.font(size, self._scale, bold=True)
        if font != self.font():
            self.setFont(font)


class NumericKeypad(PopupDialog):
    """A touch keypad for one number; emits ``value_entered(int | float)`` on a valid Enter."""

    value_entered = Signal(object)

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        current: float | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        decimals: int = 0,
        units: str = "",
        subtitle: str = "",
        scale: float = 1.0,
    ) -> None:
        if decimals < 0:
            raise ValueError(f"decimals must be 0 or more, not {decimals}")
        if minimum is not None and maximum is not None and minimum > maximum:
            raise ValueError(f"minimum {minimum} is above maximum {maximum}")
        super().__init__(title, parent, subtitle=subtitle, scale=scale)
        self.minimum = minimum
        self.maximum = maximum
        self.decimals = decimals
        self.units = units
        self.allows_negative = minimum is None or minimum < 0
        self._text = "" if current is None else self._initial_text(current)
        self._replace = bool(self._text)  # the current value is "selected"
        self._build(current)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._show_text()

    # -- building -----------------------------------------------------------------------------

    def _build(self, current: float | None) -> None:
        shown_current = "\u2014" if current is None else shown_number(current, self.decimals)
        unit_suffix = f" {self.units}" if self.units else ""
        info = QHBoxLayout()
        self.current_label = self.make_label(
            f"Current: {shown_current}{unit_suffix}", theme.LABEL_PX, muted=True
        )
        self.range_label = self.make_label(
            "Range: " + range_text(self.minimum, self.maximum, self.decimals, self.units),
            theme.LABEL_PX,
            muted=True,
        )
        self.range_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        info.addWidget(self.current_label)
        info.addWidget(self.range_label)
        self.body.addLayout(info)

        self.display = ValueDisplay(self.scale, self.button_px())
        self.units_label = self.make_label(self.units, theme.VALUE_PX, muted=True)
        self.units_label.setWordWrap(False)
        self.units_label.setVisible(bool(self.units))
        entry = QHBoxLayout()
        entry.setSpacing(self.px(8))
        entry.addWidget(self.display, 1)
        entry.addWidget(self.units_label)
        self.body.addLayout(entry)

        self.message_label = self.make_label("", theme.LABEL_PX, bold=True)
        self.message_label.setProperty("role", "message")
        self.message_label.setMinimumHeight(self.px(theme.LABEL_PX * 1.4 + 14))
        self.body.addWidget(self.message_label)

        grid = QGridLayout()
        grid.setSpacing(self.px(8))
        self.buttons: dict[str, QPushButton] = {}
        rows = [("C", "\u00b1", BACKSPACE), ("7", "8", "9"), ("4", "5", "6"), ("1", "2", "3")]
        for r, keys in enumerate(rows):
            for c, key in enumerate(keys):
                grid.addWidget(self._key(key), r, c)
        grid.addWidget(self._key("0"), 4, 0, 1, 2)
        grid.addWidget(self._key("."), 4, 2)
        self.body.addLayout(grid)
        self.buttons["."].setEnabled(self.decimals > 0)
        self.buttons["\u00b1"].setEnabled(self.allows_negative)
        self.buttons[BACKSPACE].setAutoRepeat(True)

        self.body.addSpacing(self.px(4))
        actions = QHBoxLayout()
        actions.setSpacing(self.px(12))
        self.cancel_button = self.make_button("Cancel", focus=False)
        self.enter_button = self.make_button("Enter", primary=True, focus=False)
        self.cancel_button.clicked.connect(self.reject)
        self.enter_button.clicked.connect(self.submit)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.enter_button)
        self.body.addLayout(actions)
        self.frame.setMinimumWidth(self.px(380))

    def _key(self, key: str) -> QPushButton:
        button = self.make_button(key, focus=False)
        if key == "C":
            button.setToolTip("Clear")
            button.clicked.connect(self.clear)
        elif key == BACKSPACE:
            button.setToolTip("Backspace")
            button.clicked.connect(self.backspace)
        elif key == "\u00b1":
            button.setToolTip("Change sign")
            button.clicked.connect(self.toggle_sign)
        elif key == ".":
            button.clicked.connect(self.decimal_point)
        else:
            button.clicked.connect(lambda: self.digit(key))
        self.buttons[key] = button
        return button

    def _initial_text(self, current: float) -> str:
        if not math.isfinite(current):
            return ""
        return f"{current:.{self.decimals}f}"

    # -- editing (buttons and keyboard share these) -------------------------------------------

    def text(self) -> str:
        """What is typed so far, with an ASCII minus ("-12.5")."""
        return self._text

    def is_replacing(self) -> bool:
        """True while the shown value is selected: the next key replaces it."""
        return self._replace

    def digit(self, key: str) -> None:
        """Type one digit ``key``."""
        text = "" if self._replace else self._text
        if "." in text and len(text.split(".", 1)[1]) >= self.decimals:
            return self._edited(text)  # no more decimals than the tag holds
        if text in ("0", "-0"):
            text = text[:-1]  # no leading zeros: "0" then "5" is 5
        self._edited(text + key)

    def decimal_point(self) -> None:
        """Type the decimal point (ignored for whole numbers and when there is one already)."""
        if self.decimals == 0:
            return
        text = "" if self._replace else self._text
        if "." in text:
            return self._edited(text)
        self._edited((text if text not in ("", "-") else text + "0") + ".")

    def toggle_sign(self) -> None:
        """Change the sign; on the selected value it starts a new negative number, like "-"."""
        if not self.allows_negative:
            return
        text = "" if self._replace else self._text
        self._edited(text[1:] if text.startswith("-") else "-" + text)

    def backspace(self) -> None:
        """Delete the last character (the whole selected value, if it is selected)."""
        self._edited("" if self._replace else self._text[:-1])

    def clear(self) -> None:
        """Empty the entry."""
        self._edited("")

    def _edited(self, text: str) -> None:
        if len(text) > MAX_CHARS:
            return
        self._text = text
        self._replace = False
        self.show_message("")
        self._show_text()

    def _show_text(self) -> None:
        self.display.show_value(self._text.replace("-", MINUS), selected=self._replace)

    # -- result -------------------------------------------------------------------------------

    def message(self) -> str:
        """The refusal message shown, "" when none."""
        return self.message_label.text()

    def show_message(self, text: str) -> None:
        """Show ``text`` in the warning style (an empty text hides the warning)."""
        self.message_label.setText(text)
        self.message_label.setProperty("level", "error" if text else "")
        style = self.message_label.style()
        style.unpolish(self.message_label)
        style.polish(self.message_label)

    def check(self) -> tuple[int | float | None, str]:
        """The typed value and "" if acceptable, else (None, why not)."""
        text = self._text.rstrip(".")
        shown = text.replace("-", MINUS)
        try:
            number = float(text)
        except ValueError:
            if not text:
                return None, "Enter a value first"
            return None, f"{shown} is not a number"
        suffix = f" {self.units}" if self.units else ""
        if self.minimum is not None and number < self.minimum:
            low = shown_number(self.minimum, self.decimals)
            return None, f"{shown} is below the minimum {low}{suffix}"
        if self.maximum is not None and number > self.maximum:
            high = shown_number(self.maximum, self.decimals)
            return None, f"{shown} is above the maximum {high}{suffix}"
        if self.decimals == 0:
            return int(text), ""
        return round(number, self.decimals), ""

    def submit(self) -> None:
        """Enter: emit ``value_entered`` and close if the value is acceptable, else say why."""
        value, problem = self.check()
        if value is None:
            self.show_message(problem)
            return
        self.value_entered.emit(value)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        text = event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
        elif key == Qt.Key.Key_Escape:
            self.reject()
        elif key == Qt.Key.Key_Backspace:
            self.backspace()
        elif key == Qt.Key.Key_Delete:
            self.clear()
        elif text in tuple("0123456789"):
            self.digit(text)
        elif text in (".", ","):  # a comma for keyboards with a decimal comma
            self.decimal_point()
        elif text in ("-", MINUS, "\u00b1"):
            self.toggle_sign()
        else:
            super().keyPressEvent(event)


def open_keypad(
    parent: QWidget | None,
    *,
    title: str,
    current: float | None,
    minimum: float | None,
    maximum: float | None,
    decimals: int = 0,
    units: str = "",
    on_value: Callable[[int | float], None],
    subtitle: str = "",
    scale: float = 1.0,
) -> NumericKeypad:
    """Open a keypad (non-blocking) that calls ``on_value`` with the accepted number."""
    keypad = NumericKeypad(
        title,
        parent,
        current=current,
        minimum=minimum,
        maximum=maximum,
        decimals=decimals,
        units=units,
        subtitle=subtitle,
        scale=scale,
    )
    keypad.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    keypad.value_entered.connect(on_value)
    keypad.open()
    keypad.setFocus()
    return keypad
