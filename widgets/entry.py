"""Numeric (and text) entry: shows a setpoint like a numeric display, and a touch opens a keypad.

The field looks editable (a darker edge and an edit segment with a pencil at its right end) only
while the operator can write: with no write handler, a read-only tag, a BAD value (the current
value is unknown and the link is likely down) or a write in flight it looks exactly like a numeric
display and ignores clicks; the tooltip says why. A click, Enter or Space opens the touch keypad
(``widgets.keypad``) pre-filled with the current value and limited to ``min``/``max`` (from the
props, else the tag's limits): an out-of-range number is refused inside the keypad and never
reaches ``request_write``. A string tag opens ``TextEntryDialog`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

import shiboken6
from pydantic import Field, model_validator
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLineEdit, QWidget

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWriter, Shown, WidgetExample, WidgetProps, WriterProps
from widgets.confirm import PopupDialog
from widgets.keypad import open_keypad
from widgets.numeric import fit_text
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour

FLOAT_DECIMALS = 3  # a float tag with no format: enough for most process values
EDIT_SEGMENT_PX = 30  # design px of the pencil segment at the field's right end
_DECIMALS_IN_FORMAT = re.compile(r"\.(\d+)[eEfFgG%]?$")


class EntryProps(WriterProps):
    """Static properties of a numeric/text entry."""

    label: str = ""
    label_width: int | None = Field(default=None, ge=0, description="design px; default 45%")
    units: str | None = Field(default=None, description="overrides the tag's units")
    format: str | None = Field(default=None, description="overrides the tag's format, e.g. '.1f'")
    min: float | None = Field(default=None, description="lowest value accepted; default: tag's")
    max: float | None = Field(default=None, description="highest value accepted; default: tag's")
    decimals: int | None = Field(
        default=None, ge=0, le=9, description="decimals the keypad accepts; default from format"
    )
    max_length: int = Field(
        default=40, ge=1, le=246, description="string tags: most characters accepted"
    )
    title: str | None = Field(
        default=None, description="keypad title; default: label, else the tag's description"
    )

    @model_validator(mode="after")
    def _ordered(self) -> EntryProps:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        if self.format and not (_formats(1.5, self.format) or _formats(1, self.format)):
            raise ValueError(f"format {self.format!r} does not fit a number, e.g. '.1f'")
        return self


def _formats(sample: float, spec: str) -> bool:
    try:
        format(sample, spec)
    except ValueError:
        return False
    return True


def why_not_writable(writer: HmiWriter) -> str:
    """Why ``writer`` cannot take input now ("" when it can); shared by the entry controls."""
    meta = writer.meta(writer.WRITE_PROP)
    if meta is None:
        return "not bound to a tag"
    if not meta.writable:
        return "the tag is read-only"
    if writer.busy:
        return "writing…"
    if not writer.can_write():
        return "writing is not possible here"
    if writer.shown(writer.WRITE_PROP).quality is Quality.BAD:
        return "the value is BAD: writing waits until the tag reads again"
    return ""


def decimals_of(display_format: str, data_type: DataType) -> int:
    """Decimals a value in ``display_format`` shows: '.1f' -> 1, 'd' -> 0."""
    found = _DECIMALS_IN_FORMAT.search(display_format)
    if found:
        return int(found.group(1))
    if display_format.endswith(("d", "n", "x", "X", "b", "o")) or data_type.is_integer:
        return 0
    return FLOAT_DECIMALS


class NumericEntry(HmiWriter):
    """A setpoint field: shows the bound value, and writes what the operator types on the keypad."""

    TYPE_KEY: ClassVar[str] = "entry"
    Props: ClassVar[type[WidgetProps]] = EntryProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (280, 44),
        {"label": "Speed setpoint"},
        {
            "value": (
                TagMeta(
                    "line.speed_sp",
                    DataType.FLOAT32,
                    "bpm",
                    ".0f",
                    writable=True,
                    min_value=0,
                    max_value=600,
                ),
                450.0,
            )
        },
    )

    props: EntryProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._pressed = False
        self._dialog: QDialog | None = None

    # ---- what is shown ---------------------------------------------------------------------
    def value_shown(self) -> Shown | None:
        return self.shown("value", self.props.format) if self.is_bound("value") else None

    def units(self) -> str:
        if self.props.units is not None:
            return self.props.units
        meta = self.meta("value")
        return meta.units if meta is not None else ""

    def is_text(self) -> bool:
        """True for a string tag (text dialog instead of the keypad)."""
        meta = self.meta("value")
        return meta is not None and meta.data_type is DataType.STRING

    def editable(self) -> bool:
        """Whether a click opens the keypad now."""
        meta = self.meta("value")
        if meta is None or meta.array_length or not (meta.data_type.is_numeric or self.is_text()):
            return False
        return not why_not_writable(self)

    def display_state(self) -> Hashable:
        shown = self.value_shown()
        return (
            (shown.text, shown.quality, shown.reason) if shown else None,
            self.units(),
            self.editable(),
            self._pressed,
            self.has_focus(),
        )

    def tooltip_text(self) -> str:
        text = super().tooltip_text()
        meta = self.meta("value")
        if meta is None:
            return text
        why = why_not_writable(self)
        if not why and meta.array_length:
            why = "an array cannot be entered here"
        elif not why and not (meta.data_type.is_numeric or self.is_text()):
            why = f"a {meta.data_type.value} tag cannot be typed in; use a selector"
        if why:
            return f"{text}\nread-only: {why}"
        if self.is_text():
            return f"{text}\ntouch to enter text"
        low, high = self.limits()
        return f"{text}\ntouch to enter a value ({_range(low, high, self.units())})"

    # ---- the dialog ------------------------------------------------------------------------
    def limits(self) -> tuple[float | None, float | None]:
        """(min, max) the keypad accepts: the props', else the tag's."""
        meta = self.meta("value")
        low = self.props.min if self.props.min is not None else (meta.min_value if meta else None)
        high = self.props.max if self.props.max is not None else (meta.max_value if meta else None)
        return low, high

    def decimals(self) -> int:
        if self.props.decimals is not None:
            return self.props.decimals
        meta = self.meta("value")
        if meta is None:
            return 0
        return decimals_of(self.props.format or meta.display_format, meta.data_type)

    def dialog_title(self) -> str:
        meta = self.meta("value")
        if self.props.title:
            return self.props.title
        if self.props.label:
            return self.props.label
        return (meta.description or meta.name) if meta is not None else ""

    def editor(self) -> QDialog | None:
        """The keypad or text dialog this entry opened, while it is open."""
        if self._dialog is not None and not shiboken6.isValid(self._dialog):
            self._dialog = None
        return self._dialog

    def open_editor(self) -> QDialog | None:
        """Open the keypad (or the text dialog) if the entry is editable; returns it."""
        if not self.editable() or self.editor() is not None:
            return self.editor()
        meta = self.meta("value")
        assert meta is not None
        shown = self.shown("value")
        title = self.dialog_title()
        subtitle = meta.name if meta.name != title else ""
        dialog: QDialog
        if self.is_text():
            current = shown.value if isinstance(shown.value, str) else ""
            dialog = open_text_entry(
                self.popup_parent(),
                title=title,
                current=current,
                max_length=self.props.max_length,
                on_text=self._entered,
                subtitle=subtitle,
                scale=self.scale,
            )
        else:
            value = shown.value
            number = (
                value if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
            low, high = self.limits()
            dialog = open_keypad(
                self.popup_parent(),
                title=title,
                current=number,
                minimum=low,
                maximum=high,
                decimals=self.decimals(),
                units=self.units(),
                on_value=self._entered,
                subtitle=subtitle,
                scale=self.scale,
            )
        self._dialog = dialog
        dialog.finished.connect(self._closed)
        return dialog

    def _closed(self, _result: int) -> None:
        self._dialog = None

    def _entered(self, value: Any) -> None:
        meta = self.meta("value")
        if meta is not None and meta.data_type in (DataType.FLOAT32, DataType.FLOAT64):
            value = float(value)
        self.request_write(value)

    # ---- input -----------------------------------------------------------------------------
    def mouse_press(self, pos: QPointF) -> None:
        if self.editable():
            self._pressed = True
            self.refresh()

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        was_pressed, self._pressed = self._pressed, False
        self.refresh()
        if was_pressed and inside:
            self.open_editor()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_editor()
            return True
        return False

    # ---- painting --------------------------------------------------------------------------
    def field_rect(self) -> QRectF:
        full = QRectF(self.rect())
        if not self.props.label:
            return full
        label_w = (
            self.props.label_width * self.scale
            if self.props.label_width is not None
            else full.width() * 0.45
        )
        return full.adjusted(label_w, 0, 0, 0)

    def paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        s = self.scale
        field = self.field_rect()
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(
                QRectF(0, 0, field.left() - 6 * s, self.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.label,
            )
        editable = self.editable()
        inner = field.adjusted(0.5, 0.5, -0.5, -0.5)
        pad = 6 * s
        value_right = field.right()
        if editable:
            paint_edit_field(painter, inner, s, pressed=self._pressed, focus=self.has_focus())
            segment = QRectF(inner.right() - EDIT_SEGMENT_PX * s, inner.top(), 0, inner.height())
            segment.setRight(inner.right())
            painter.setPen(QPen(theme.FIELD_EDGE, max(1.0, s)))
            painter.drawLine(
                QPointF(segment.left(), segment.top() + 5 * s),
                QPointF(segment.left(), segment.bottom() - 5 * s),
            )
            paint_pencil(painter, segment.center(), 16 * s, theme.TEXT_MUTED)
            value_right = segment.left()
        else:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(theme.FIELD_EDGE)
            painter.setBrush(theme.FIELD_BG)
            painter.drawRect(field.adjusted(0, 0, -1, -1))
            if self.has_focus():
                painter.setPen(QPen(theme.TEXT_MUTED, max(1.0, s), Qt.PenStyle.DotLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(field.adjusted(2 * s, 2 * s, -2 * s - 1, -2 * s - 1))
        shown = self.value_shown()
        units = self.units()
        units_w = 0.0
        if units:
            units_font = theme.font(theme.LABEL_PX, s)
            units_w = theme.metrics(units_font).horizontalAdvance(units) + pad
            painter.setFont(units_font)
            painter.setPen(theme.TEXT_MUTED)
            painter.drawText(
                QRectF(value_right - units_w, field.top(), units_w - pad, field.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                units,
            )
        if shown is not None:
            left = field.left() + pad
            if shown.quality is Quality.UNCERTAIN and self.is_text():
                left += 16 * s  # clear of the "?" badge
            value_rect = QRectF(left, field.top(), 0, field.height())
            value_rect.setRight(value_right - units_w - pad)
            numeric = isinstance(shown.value, int | float) and shown.text != BAD_PLACEHOLDER
            value_font, text = fit_text(
                shown.text, value_rect.width(), theme.VALUE_PX, s, numeric=numeric
            )
            painter.setFont(value_font)
            painter.setPen(text_colour(shown.quality))
            align = Qt.AlignmentFlag.AlignVCenter | (
                Qt.AlignmentFlag.AlignRight if not self.is_text() else Qt.AlignmentFlag.AlignLeft
            )
            painter.drawText(value_rect, int(align), text)
            paint_quality(painter, field, shown.quality, s, badge="left")


def _range(low: float | None, high: float | None, units: str) -> str:
    suffix = f" {units}" if units else ""
    if low is not None and high is not None:
        return f"{low:g} … {high:g}{suffix}"
    if low is not None:
        return f"≥ {low:g}{suffix}"
    if high is not None:
        return f"≤ {high:g}{suffix}"
    return "any value"


def paint_edit_field(
    painter: QPainter, rect: QRectF, scale: float, *, pressed: bool, focus: bool
) -> None:
    """The look of a field the operator can touch to change: light, with a darker edge and a
    heavier bottom edge (like a form field), darker while pressed, a thick edge with the focus."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    radius = 3 * scale
    painter.setPen(
        QPen(theme.TEXT if focus else theme.STOPPED_EDGE, max(1.0, (2 if focus else 1) * scale))
    )
    painter.setBrush(theme.PANEL_EDGE if pressed else theme.STOPPED_FILL)
    painter.drawRoundedRect(rect, radius, radius)
    if not focus:
        underline = QPen(theme.STOPPED_EDGE, max(1.0, 2 * scale))
        underline.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(underline)
        y = rect.bottom() - max(1.0, 2 * scale) / 2
        painter.drawLine(QPointF(rect.left() + radius, y), QPointF(rect.right() - radius, y))


def paint_pencil(painter: QPainter, centre: QPointF, size: float, colour: Any) -> None:
    """A small pencil outline, tip at lower left, ``size`` pixels long (the edit affordance)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.translate(centre)
    painter.rotate(-45)
    half, w = size / 2, size * 0.26
    tip = size * 0.28
    body = QPainterPath()
    body.moveTo(-half, 0)
    body.lineTo(-half + tip, -w / 2)
    body.lineTo(half, -w / 2)
    body.lineTo(half, w / 2)
    body.lineTo(-half + tip, w / 2)
    body.closeSubpath()
    pen = QPen(colour, max(1.0, size / 12))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(body)
    painter.drawLine(QPointF(-half + tip, -w / 2), QPointF(-half + tip, w / 2))
    cap = half - size * 0.2
    painter.drawLine(QPointF(cap, -w / 2), QPointF(cap, w / 2))
    painter.restore()


class TextEntryDialog(PopupDialog):
    """Text entry for a string tag: one large line limited to ``max_length``, Cancel and Enter.

    Emits ``text_entered(str)`` on Enter and closes; Esc or Cancel emit nothing. Opened with
    ``open()`` like every operator popup (see ``widgets.confirm``).
    """

    text_entered = Signal(str)

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        current: str = "",
        max_length: int = 40,
        subtitle: str = "",
        scale: float = 1.0,
    ) -> None:
        super().__init__(title, parent, subtitle=subtitle, scale=scale)
        self.line = QLineEdit(current[:max_length])
        self.line.setMaxLength(max_length)
        self.line.setFont(theme.font(theme.VALUE_PX * 1.2, scale, bold=True))
        self.line.setMinimumHeight(self.button_px())
        self.line.setStyleSheet(
            f"QLineEdit {{ background: {theme.FIELD_BG.name()};"
            f" border: {max(1, round(scale))}px solid {theme.STOPPED_EDGE.name()};"
            f" padding: 0 {self.px(10)}px; color: {theme.TEXT.name()};"
            f" selection-background-color: {theme.RUNNING_FILL.name()};"
            f" selection-color: {theme.RUNNING_TEXT.name()}; }}"
        )
        self.line.selectAll()
        self.line.returnPressed.connect(self.submit)
        self.body.addWidget(self.line)
        self.count_label = self.make_label("", theme.CAPTION_PX, muted=True)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.line.textChanged.connect(self._count)
        self._count(self.line.text())
        self.body.addWidget(self.count_label)
        actions = QHBoxLayout()
        actions.setSpacing(self.px(12))
        self.cancel_button = self.make_button("Cancel", focus=False)
        self.enter_button = self.make_button("Enter", primary=True, focus=False)
        self.cancel_button.clicked.connect(self.reject)
        self.enter_button.clicked.connect(self.submit)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.enter_button)
        self.body.addLayout(actions)
        self.frame.setMinimumWidth(self.px(480))
        self.line.setFocus()

    def _count(self, text: str) -> None:
        self.count_label.setText(f"{len(text)} / {self.line.maxLength()} characters")

    def submit(self) -> None:
        """Enter: emit the typed text and close."""
        self.text_entered.emit(self.line.text())
        self.accept()


def open_text_entry(
    parent: QWidget | None,
    *,
    title: str,
    current: str,
    max_length: int,
    on_text: Callable[[str], None],
    subtitle: str = "",
    scale: float = 1.0,
) -> TextEntryDialog:
    """Open a text entry popup (non-blocking) that calls ``on_text`` with the entered text."""
    dialog = TextEntryDialog(
        title, parent, current=current, max_length=max_length, subtitle=subtitle, scale=scale
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.text_entered.connect(on_text)
    dialog.open()
    dialog.line.setFocus()
    return dialog
