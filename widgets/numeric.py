"""Numeric display: a label, then the value right-aligned in a field with its units.

A value never shows cut off: text wider than the field is drawn smaller (down to
``MIN_FIT`` of its size); if it still does not fit, a number shows ``…`` (a clipped
number reads as a different number) and other text ends in an ellipsis.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal, NamedTuple, cast

from pydantic import Field
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QPainter

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, Shown, WidgetExample, WidgetProps
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour

MIN_FIT = 0.6
TOO_WIDE = "…"  # not "####": that is the BAD placeholder


class NumericProps(WidgetProps):
    """Static properties of a numeric display."""

    label: str = ""
    units: str | None = Field(default=None, description="overrides the tag's units")
    format: str | None = Field(default=None, description="overrides the tag's format, e.g. '.2f'")
    label_above: bool = Field(default=False, description="label on its own line above the value")
    label_width: int | None = Field(default=None, ge=0, description="design px; default 45%")
    value_size: int = Field(default=theme.VALUE_PX, ge=8, le=96, description="design px")
    display: Literal["value", "duration"] = Field(
        default="value", description="'duration' shows seconds as h:mm:ss"
    )


_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_NUMBER_CHARS = "0123456789-+.,:#e "  # what formatted numbers (and ####) are made of


class _ValueLayout(NamedTuple):
    rect: QRectF
    font: QFont
    safe_chars: int
    """Texts up to this long fit for sure (measured with the widest number character)."""
    advances: dict[str, float]
    """Widths of the characters numbers are written with (no kerning between them)."""
    baseline: float


class NumericDisplay(HmiWidget):
    """Shows one number (or any value) with units, right-aligned, in the tag's display format."""

    TYPE_KEY: ClassVar[str] = "numeric"
    Props: ClassVar[type[WidgetProps]] = NumericProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (260, 40),
        {"label": "Speed"},
        {"value": (TagMeta("line.speed", DataType.FLOAT32, "bpm", ".1f"), 412.34)},
    )

    props: NumericProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._layout: tuple[Hashable, _ValueLayout] | None = None

    def value_shown(self) -> Shown | None:
        if not self.is_bound("value"):
            return None
        shown = self.shown("value", self.props.format)
        numeric = isinstance(shown.value, int | float)
        if self.props.display == "duration" and numeric and shown.text != BAD_PLACEHOLDER:
            return shown._replace(text=format_duration(shown.value))
        return shown

    def units(self) -> str:
        if self.props.display == "duration":
            return ""
        if self.props.units is not None:
            return self.props.units
        meta = self.meta("value")
        return meta.units if meta is not None else ""

    def display_state(self) -> Hashable:
        return (self.value_shown(), self.units())

    def field_rect(self) -> QRectF:
        """Where the value box is drawn."""
        full = QRectF(self.rect())
        if not self.props.label:
            return full
        if self.props.label_above:
            label_h = theme.LABEL_PX * self.scale * 1.5
            return full.adjusted(0, label_h, 0, 0)
        label_w = (
            self.props.label_width * self.scale
            if self.props.label_width is not None
            else full.width() * 0.45
        )
        return full.adjusted(label_w, 0, 0, 0)

    def paint(self, painter: QPainter) -> None:
        # label, field and units come from a cached pixmap; only the value is drawn each time
        state = self._on_screen  # what refresh() computed for this paint
        if not isinstance(state, tuple):
            state = self.display_state()
        shown, units = cast(tuple[Shown | None, str], state)
        self.paint_cached(painter, units, self._paint_static)
        if shown is None:
            return
        layout = self._value_layout(units)
        text = shown.text
        painter.setPen(text_colour(shown.quality))
        advances = layout.advances
        if len(text) <= layout.safe_chars and all(c in advances for c in text):
            # surely fits, and its width is the sum of cached character widths (most values)
            painter.setFont(layout.font)
            width = sum(advances[c] for c in text)
            painter.drawText(QPointF(layout.rect.right() - width, layout.baseline), text)
        else:
            numeric = isinstance(shown.value, int | float) and text != BAD_PLACEHOLDER
            font, text = fit_text(
                text, layout.rect.width(), self.props.value_size, self.scale, numeric=numeric
            )
            painter.setFont(font)
            painter.drawText(layout.rect, _RIGHT, text)
        if shown.quality is not Quality.GOOD:
            paint_quality(painter, self.field_rect(), shown.quality, self.scale, badge="left")

    def _value_layout(self, units: str) -> _ValueLayout:
        """Where and in which font the value goes (kept until size, scale or units change)."""
        key = (self.width(), self.height(), self.scale, units)
        if self._layout is None or self._layout[0] != key:
            s = self.scale
            field = self.field_rect()
            pad = 6 * s
            units_w = theme.metrics(theme.font(theme.LABEL_PX, s)).horizontalAdvance(units) + pad
            rect = field.adjusted(pad, 0, -((units_w if units else 0.0) + pad), 0)
            font = theme.font(self.props.value_size, s, bold=True)
            metrics = theme.metrics(font)
            advances = {c: metrics.horizontalAdvance(c) for c in _NUMBER_CHARS}
            widest = max(advances.values())
            safe = int(rect.width() // widest) if widest > 0 else 0
            baseline = rect.center().y() + (metrics.ascent() - metrics.descent()) / 2
            self._layout = (key, _ValueLayout(rect, font, safe, advances, baseline))
        return self._layout[1]

    def _paint_static(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        s = self.scale
        field = self.field_rect()
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            if self.props.label_above:
                label_rect = QRectF(0, 0, self.width(), field.top())
                align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
            else:
                label_rect = QRectF(0, 0, field.left() - 6 * s, self.height())
                align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(label_rect, int(align), self.props.label)
        painter.setPen(theme.FIELD_EDGE)
        painter.setBrush(theme.FIELD_BG)
        painter.drawRect(field.adjusted(0, 0, -1, -1))
        units = self.units()
        if units:
            pad = 6 * s
            units_font = theme.font(theme.LABEL_PX, s)
            units_w = theme.metrics(units_font).horizontalAdvance(units) + pad
            painter.setFont(units_font)
            painter.setPen(theme.TEXT_MUTED)
            units_rect = QRectF(field.right() - units_w, field.top(), units_w - pad, field.height())
            painter.drawText(
                units_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), units
            )


def fit_text(
    text: str, width: float, size: float, scale: float, *, numeric: bool
) -> tuple[QFont, str]:
    """The bold font and text to draw ``text`` within ``width`` pixels, never cut off."""
    value_font = theme.font(size, scale, bold=True)
    advance = theme.metrics(value_font).horizontalAdvance(text)
    if advance <= width or not text:
        return value_font, text
    smaller = size * width / advance  # fonts are whole pixels: step down until it fits
    while smaller >= size * MIN_FIT:
        value_font = theme.font(smaller, scale, bold=True)
        if theme.metrics(value_font).horizontalAdvance(text) <= width:
            return value_font, text
        smaller -= 0.5 / max(scale, 0.1)
    value_font = theme.font(size * MIN_FIT, scale, bold=True)
    metrics = theme.metrics(value_font)
    if numeric:
        return value_font, TOO_WIDE
    return value_font, metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


def format_duration(seconds: float) -> str:
    """``3725`` -> ``1:02:05`` (hours keep counting past a day)."""
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
