"""What the ranged displays (gauge, bar, tank) share: span, limits, scale ticks and marks.

A ranged display shows one number within ``[min, max]`` (from its props, else the tag's limits,
else 0..100) with optional HH/H/L/LL marks. Limits here are only marks for the operator's eye; the
alarms themselves come from the runtime. ISA-101: marks are dark grey; only with
``alarm_colours: true`` does the mark the value is beyond turn yellow (H/L) or red (HH/LL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field, model_validator
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from hmi_app.core.quality import Quality
from widgets import theme
from widgets.base import HmiWidget, Shown, WidgetProps

Direction = Literal["left", "right", "up", "down"]

# (prop name, short name, severity): severity 2 is the outer (alarm) pair, 1 the inner (warning)
LIMITS: tuple[tuple[str, str, int], ...] = (
    ("hihi", "HH", 2),
    ("hi", "H", 1),
    ("lo", "L", 1),
    ("lolo", "LL", 2),
)


class ScaleProps(WidgetProps):
    """Static properties of a display of one number within a range, with limit marks."""

    label: str = ""
    min: float | None = Field(
        default=None, description="low end of the scale; default: tag min, else 0"
    )
    max: float | None = Field(
        default=None, description="high end of the scale; default: tag max, else 100"
    )
    hihi: float | None = Field(default=None, description="HH mark (high-high limit)")
    hi: float | None = Field(default=None, description="H mark (high limit)")
    lo: float | None = Field(default=None, description="L mark (low limit)")
    lolo: float | None = Field(default=None, description="LL mark (low-low limit)")
    units: str | None = Field(default=None, description="overrides the tag's units")
    format: str | None = Field(default=None, description="overrides the tag's format, e.g. '.1f'")

    @model_validator(mode="after")
    def _ordered(self) -> ScaleProps:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        marks = [m for m in (self.lolo, self.lo, self.hi, self.hihi) if m is not None]
        if marks != sorted(marks):
            raise ValueError("limits must be ordered lolo <= lo <= hi <= hihi")
        return self


class RangeProps(ScaleProps):
    """Scale props of the gauge, bar and tank, which may colour the mark the value passed."""

    alarm_colours: bool = Field(
        default=False,
        description="colour the mark the value is at or beyond: yellow for H/L, red for HH/LL",
    )


@dataclass(frozen=True, slots=True)
class Mark:
    """One limit mark: which limit, where on the scale (0..1) and whether the value is beyond it."""

    key: str
    name: str
    value: float
    fraction: float
    severity: int
    active: bool = False

    def colour(self) -> QColor:
        """Fill of the mark: dark grey, or the warning/alarm colour when active."""
        if not self.active:
            return theme.TEXT
        return theme.ALARM_FILL if self.severity == 2 else theme.WARNING_FILL


class RangeWidget(HmiWidget):
    """Base of the ranged displays: one bound ``value`` within a span, with limit marks.

    Not registered itself (no ``TYPE_KEY``); the gauge, bar and tank build on it.
    """

    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)

    props: ScaleProps

    def span(self) -> tuple[float, float]:
        """The scale's low and high end."""
        meta = self.meta("value")
        low = self.props.min
        high = self.props.max
        if low is None:
            low = meta.min_value if meta and meta.min_value is not None else 0.0
        if high is None:
            high = meta.max_value if meta and meta.max_value is not None else 100.0
        return (low, high) if high > low else (low, low + 1.0)

    def units(self) -> str:
        if self.props.units is not None:
            return self.props.units
        meta = self.meta("value")
        return meta.units if meta is not None else ""

    def value_shown(self) -> Shown | None:
        """Text and quality of the value in the widget's format (None when unbound)."""
        if not self.is_bound("value"):
            return None
        return self.shown("value", self.props.format)

    def value_text(self) -> str:
        """The value with its units, or the BAD placeholder alone."""
        shown = self.value_shown()
        if shown is None:
            return ""
        if shown.quality is Quality.BAD:
            return shown.text
        return f"{shown.text} {self.units()}".strip()

    def quality(self) -> Quality:
        shown = self.value_shown()
        return shown.quality if shown is not None else Quality.GOOD

    def number(self) -> float | None:
        """The value as a float, None when BAD, missing or not a number."""
        shown = self.value_shown()
        if shown is None or shown.quality is Quality.BAD:
            return None
        value = shown.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if math.isnan(value):
            return None
        return float(value)

    def fraction(self) -> float | None:
        """The value's share of the span, clamped to 0..1 (None without a usable value)."""
        value = self.number()
        if value is None:
            return None
        low, high = self.span()
        if math.isinf(value):
            return 1.0 if value > 0 else 0.0
        return min(1.0, max(0.0, (value - low) / (high - low)))

    def marks(self) -> list[Mark]:
        """The limit marks inside the span, HH first; ``active`` only with ``alarm_colours``."""
        low, high = self.span()
        coloured = isinstance(self.props, RangeProps) and self.props.alarm_colours
        beyond = self.beyond() if coloured else None
        result: list[Mark] = []
        for key, name, severity in LIMITS:
            value = getattr(self.props, key)
            if value is None or not low <= value <= high:
                continue
            frac = (value - low) / (high - low)
            result.append(Mark(key, name, value, frac, severity, active=key == beyond))
        return result

    def beyond(self) -> str | None:
        """The most severe limit the value is at or beyond ('hihi', 'hi', 'lo', 'lolo' or None).

        Only trusted data counts: a stale or bad value never colours a mark.
        """
        value = self.number()
        if value is None or self.quality() not in (Quality.GOOD, Quality.UNCERTAIN):
            return None
        p = self.props
        for key, above in (("hihi", True), ("hi", True), ("lolo", False), ("lo", False)):
            limit = getattr(p, key)
            if limit is None:
                continue
            if (above and value >= limit) or (not above and value <= limit):
                return key
        return None

    def active_marks(self) -> tuple[str, ...]:
        """Keys of the marks drawn in colour (for ``display_state``)."""
        return tuple(mark.key for mark in self.marks() if mark.active)


def paint_triangle(
    painter: QPainter, tip: QPointF, direction: Direction, size: float, fill: QColor, scale: float
) -> None:
    """A filled mark triangle whose tip points ``direction`` at ``tip``.

    A coloured (active) triangle gets a dark edge so yellow still reads on light grey.
    """
    half = size / 1.6
    x, y = tip.x(), tip.y()
    if direction == "left":
        points = [tip, QPointF(x + size, y - half), QPointF(x + size, y + half)]
    elif direction == "right":
        points = [tip, QPointF(x - size, y - half), QPointF(x - size, y + half)]
    elif direction == "up":
        points = [tip, QPointF(x - half, y + size), QPointF(x + half, y + size)]
    else:
        points = [tip, QPointF(x - half, y - size), QPointF(x + half, y - size)]
    painter.setBrush(fill)
    if fill == theme.TEXT:
        painter.setPen(QPen(fill, max(1.0, 1.0 * scale)))
    else:
        painter.setPen(QPen(theme.TEXT, max(1.0, 1.0 * scale)))
    painter.drawPolygon(QPolygonF(points))


def spread(centres: list[float], height: float) -> list[float]:
    """Tops for labels of ``height`` centred on ``centres`` (ascending), pushed apart so none
    overlaps the one above it (close marks keep readable names)."""
    tops: list[float] = []
    for centre in centres:
        top = centre - height / 2
        if tops and top < tops[-1] + height:
            top = tops[-1] + height
        tops.append(top)
    return tops


def nice_step(span: float, target: int = 6) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^k) giving about ``target`` intervals over ``span``."""
    raw = span / max(1, target)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw * 0.999:
            return factor * power
    return 10.0 * power


@dataclass(frozen=True, slots=True)
class Scale:
    """Tick positions of a scale: major values (labelled) and minor values."""

    majors: tuple[float, ...]
    minors: tuple[float, ...]
    labels: tuple[str, ...]


def scale_ticks(low: float, high: float, target: int = 6) -> Scale:
    """Major ticks at round values (with their labels) and minor ticks between them."""
    step = nice_step(high - low, target)
    mantissa = step / 10 ** math.floor(math.log10(step))
    minor_count = 4 if math.isclose(mantissa, 2.0) else 5
    minor = step / minor_count
    eps = step * 1e-6
    first = math.ceil((low - eps) / minor)
    majors: list[float] = []
    minors: list[float] = []
    index = first
    while index * minor <= high + eps:
        value = index * minor
        if index % minor_count == 0:
            majors.append(value)
        else:
            minors.append(value)
        index += 1
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if mantissa == 2.5 and step < 10:
        decimals += 1
    labels = tuple(_number(v, decimals) for v in majors)
    return Scale(tuple(majors), tuple(minors), labels)


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and text.strip("-0.") == "" else text


def compact(value: float) -> str:
    """A short label for a scale end (``1500``, ``0.5``, ``12.5k`` past 10,000)."""
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"
