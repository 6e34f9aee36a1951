"""Sparkline: a small trend of the bound value over the last N seconds, the value at its right.

Values are collected as they arrive (``apply``), in time buckets: at most ``MAX_BUCKETS`` per
window, each keeping the lowest and highest value seen in it, so a spike survives the downsampling
and memory stays bounded however fast values come. A bucket where the value was BAD (or not a
number) is a gap in the line, marked by a thin magenta stroke along the bottom. The drawing is
redone at most ``1 / REPAINT_PERIOD`` times a second: ``display_state`` holds the time quantised
to that period (and the quality, so a change to BAD shows at once), not the value itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field, model_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, Shown, WidgetExample, WidgetProps
from widgets.numeric import fit_text
from widgets.quality_look import paint_quality, text_colour

MAX_BUCKETS = 150  # a point per ~1.2 px of a typical plot; 0.4 s each at 60 s
REPAINT_PERIOD = 0.5  # seconds
LINE = QColor("#3d3d3d")
GAP = QColor(theme.BAD_EDGE)


class SparklineProps(WidgetProps):
    """Static properties of a sparkline."""

    label: str = ""
    seconds: float = Field(default=60.0, ge=5, le=3600, description="how much history to show")
    units: str | None = Field(default=None, description="overrides the tag's units")
    format: str | None = Field(default=None, description="overrides the tag's format, e.g. '.1f'")
    show_range: bool = Field(default=False, description="show the window's min and max")
    min: float | None = Field(
        default=None, description="fixed low end of the plot; default: follows the data"
    )
    max: float | None = Field(
        default=None, description="fixed high end of the plot; default: follows the data"
    )
    value_width: int = Field(
        default=96, ge=40, le=400, description="design px kept at the right for the value"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SparklineProps:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        return self


@dataclass(slots=True)
class Bucket:
    """The values of one time bucket: lowest, highest, and the first and last (for the order of
    the line); ``lo`` is None for a gap (BAD or not a number)."""

    index: int
    lo: float | None
    hi: float | None
    first_is_lo: bool = True


@dataclass(slots=True)
class _Shape:
    """The drawable line of one window: polylines between gaps, gap spans and the end dot."""

    segments: list[QPolygonF]
    gaps: list[tuple[float, float]]
    dot: QPointF | None


class Sparkline(HmiWidget):
    """A small trend line of the last ``seconds`` of the value, the current value at the right."""

    TYPE_KEY: ClassVar[str] = "sparkline"
    Props: ClassVar[type[WidgetProps]] = SparklineProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (280, 56),
        {"label": "Flow", "seconds": 60},
        {"value": (TagMeta("line.flow", DataType.FLOAT32, "m³/h", ".1f"), 64.5)},
    )

    props: SparklineProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self.bucket_seconds = self.props.seconds / MAX_BUCKETS
        self._buckets: deque[Bucket] = deque(maxlen=MAX_BUCKETS + 1)
        self._now = 0.0
        self._shape: _Shape | None = None
        self._shape_key: Hashable = None

    # ---- data ------------------------------------------------------------------------------
    def apply(self, prop: str, value: TagValue | None) -> None:
        if prop == "value" and value is not None:
            self._record(value)
        super().apply(prop, value)

    def _record(self, value: TagValue) -> None:
        # the receive time, not the device's: the window is the last N seconds on this screen
        t = max(value.recv_ts, self._now)
        self._now = t
        index = math.floor(t / self.bucket_seconds)
        number = _number(value)
        last = self._buckets[-1] if self._buckets else None
        if last is None or last.index != index:
            self._buckets.append(Bucket(index, number, number))
        elif last.lo is None:
            pass  # already a gap
        elif number is None:
            # any BAD in a bucket makes it a gap: that is what the operator must see
            last.lo = last.hi = None
        else:
            if number < last.lo:
                last.lo = number
                last.first_is_lo = False
            if last.hi is not None and number > last.hi:
                last.hi = number
                last.first_is_lo = True
        oldest = index - MAX_BUCKETS
        while self._buckets and self._buckets[0].index <= oldest:
            self._buckets.popleft()

    def window(self) -> list[Bucket]:
        """The buckets in the window, oldest first (bounded by ``MAX_BUCKETS``)."""
        return list(self._buckets)

    def window_range(self) -> tuple[float, float] | None:
        """Lowest and highest value in the window (None when it has no number)."""
        lows = [b.lo for b in self._buckets if b.lo is not None]
        highs = [b.hi for b in self._buckets if b.hi is not None]
        if not lows:
            return None
        return min(lows), max(highs)

    # ---- what is shown ---------------------------------------------------------------------
    def value_shown(self) -> Shown | None:
        if not self.is_bound("value"):
            return None
        return self.shown("value", self.props.format)

    def units(self) -> str:
        if self.props.units is not None:
            return self.props.units
        meta = self.meta("value")
        return meta.units if meta is not None else ""

    def display_state(self) -> Hashable:
        shown = self.value_shown()
        quality = shown.quality if shown is not None else None
        # time, not the value: the line is redrawn at most every REPAINT_PERIOD however fast
        # values arrive; a change of quality (e.g. to BAD) still shows at once
        return quality, math.floor(self._now / REPAINT_PERIOD), self.units()

    def tooltip_text(self) -> str:
        text = super().tooltip_text()
        if not text:
            return text
        span = self.window_range()
        window = f"last {self.props.seconds:g} s"
        if span is not None:
            meta = self.meta("value")
            low, high = (meta.format_value(v) if meta else f"{v:g}" for v in span)
            window += f": min {low}, max {high}"
        return f"{text}\n{window}"

    # ---- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        shown = self.value_shown()
        quality = shown.quality if shown is not None else Quality.GOOD
        value_w = min(r.width() * 0.6, self.props.value_width * s)
        pad = 4 * s
        label_h = 16 * s if self.props.label else 0.0
        axis = self._axis_labels() if self.props.show_range else None
        axis_font = theme.font(11, s)
        axis_w = 0.0
        if axis is not None:
            fm = theme.metrics(axis_font)
            axis_w = max(fm.horizontalAdvance(axis[0]), fm.horizontalAdvance(axis[1])) + 4 * s
        plot = QRectF(
            pad,
            pad + label_h,
            r.width() - value_w - axis_w - 2 * pad,
            r.height() - 2 * pad - label_h,
        )
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.CAPTION_PX, s))
            painter.drawText(
                QRectF(pad, 0, plot.width(), label_h + pad),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.label,
            )
        painter.setPen(QPen(theme.FIELD_EDGE, max(1.0, 1.0 * s)))
        painter.setBrush(theme.FIELD_BG)
        painter.drawRect(plot)
        self._paint_line(painter, plot.adjusted(2 * s, 3 * s, -3 * s, -3 * s), quality)
        if axis is not None:
            painter.setFont(axis_font)
            painter.setPen(theme.TEXT_MUTED)
            h = theme.metrics(axis_font).height()
            left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            for text, y in ((axis[1], plot.top() + h / 2), (axis[0], plot.bottom() - h / 2)):
                painter.drawText(QRectF(plot.right() + 3 * s, y - h / 2, axis_w, h), left, text)
        column = QRectF(plot.right() + axis_w + pad, 0, value_w - pad, r.height())
        if quality is Quality.UNCERTAIN:  # keep the value clear of the "?" badge
            column.setRight(column.right() - 14 * s)
        self._paint_value(painter, column, shown)
        if shown is not None:
            paint_quality(painter, r, quality, s)

    def _axis_labels(self) -> tuple[str, str] | None:
        """The window's min and max as text (``show_range``), None without numbers."""
        span = self.window_range()
        if span is None:
            return None
        meta = self.meta("value")
        fmt = self.props.format
        low, high = (
            format(v, fmt) if fmt else (meta.format_value(v) if meta else f"{v:g}") for v in span
        )
        return low, high

    def _y_range(self) -> tuple[float, float] | None:
        span = self.window_range()
        low = self.props.min
        high = self.props.max
        if span is None and (low is None or high is None):
            return None
        if low is None:
            low = span[0] if span is not None else 0.0
        if high is None:
            high = span[1] if span is not None else low + 1.0
        if high <= low:  # a flat line sits in the middle
            pad = abs(low) * 0.05 or 1.0
            return low - pad, low + pad
        if self.props.min is None or self.props.max is None:
            margin = (high - low) * 0.08
            low = low if self.props.min is not None else low - margin
            high = high if self.props.max is not None else high + margin
        return low, high

    def _paint_line(self, painter: QPainter, plot: QRectF, quality: Quality) -> None:
        if not self._buckets:
            return
        s = self.scale
        key = (math.floor(self._now / REPAINT_PERIOD), plot, quality)
        if self._shape_key != key or self._shape is None:
            self._shape, self._shape_key = self._build(plot, quality), key
        shape = self._shape
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if shape.gaps:
            gap_pen = QPen(GAP, max(1.0, 2.0 * s))
            gap_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(gap_pen)
            y = plot.bottom() + 1.5 * s
            for left, right in shape.gaps:
                painter.drawLine(QPointF(left, y), QPointF(right, y))
        colour = theme.TEXT_STALE if quality is Quality.STALE else LINE
        line_pen = QPen(colour, max(1.0, 1.5 * s))
        line_pen.setJoinStyle(Qt.PenJoinStyle.BevelJoin)
        painter.setPen(line_pen)
        for polygon in shape.segments:
            if polygon.size() == 1:
                painter.drawPoint(polygon.at(0))
            else:
                painter.drawPolyline(polygon)
        if shape.dot is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            radius = max(1.5, 2.5 * s)
            painter.drawEllipse(shape.dot, radius, radius)

    def _build(self, plot: QRectF, quality: Quality) -> _Shape:
        """The line's polylines, gaps and end dot for the current window (cached per quantum:
        the canvas may repaint the widget for a neighbour's sake without new data)."""
        y_range = self._y_range()
        end = math.floor(self._now / self.bucket_seconds)
        start = end - MAX_BUCKETS + 1
        left, bottom, right = plot.left(), plot.bottom(), plot.right()
        dx = plot.width() / (MAX_BUCKETS - 1)
        low, high = y_range if y_range is not None else (0.0, 1.0)
        scale_y = plot.height() / (high - low)
        segment: list[QPointF] = []
        gaps: list[tuple[float, float]] = []
        segments: list[QPolygonF] = []
        for bucket in self._buckets:
            if bucket.index < start:
                continue
            x = left + (bucket.index - start) * dx
            lo, hi = bucket.lo, bucket.hi
            if lo is None or hi is None:
                if segment:
                    segments.append(QPolygonF(segment))
                    segment = []
                if gaps and x - gaps[-1][1] <= dx * 1.5:
                    gaps[-1] = (gaps[-1][0], min(right, x + dx))
                else:
                    gaps.append((x, min(right, x + dx)))
                continue
            first, second = (lo, hi) if bucket.first_is_lo else (hi, lo)
            segment.append(QPointF(x, bottom - (min(high, max(low, first)) - low) * scale_y))
            if second != first:
                segment.append(QPointF(x, bottom - (min(high, max(low, second)) - low) * scale_y))
        if segment:
            segments.append(QPolygonF(segment))
        dot = None
        last = self._buckets[-1]
        if last.lo is not None and last.index >= start and quality is not Quality.BAD:
            v = self._last_number(last)
            x = left + (last.index - start) * dx
            dot = QPointF(x, bottom - (min(high, max(low, v)) - low) * scale_y)
        return _Shape(segments, gaps, dot)

    def _last_number(self, bucket: Bucket) -> float:
        value = self.tag_value("value")
        number = _number(value) if value is not None else None
        if number is not None:
            return number
        return bucket.hi if bucket.hi is not None else 0.0

    def _paint_value(self, painter: QPainter, column: QRectF, shown: Shown | None) -> None:
        if shown is None:
            return
        s = self.scale
        quality = shown.quality
        units = self.units() if quality is not Quality.BAD else ""
        units_font = theme.font(theme.CAPTION_PX, s)
        units_h = theme.metrics(units_font).height() if units else 0.0
        value_h = min(column.height() - units_h, theme.VALUE_PX * s * 1.3)
        block = value_h + units_h
        top = column.top() + (column.height() - block) / 2
        numeric = quality is not Quality.BAD and isinstance(shown.value, int | float)
        font, text = fit_text(shown.text, column.width(), theme.VALUE_PX, s, numeric=numeric)
        painter.setFont(font)
        painter.setPen(text_colour(quality))
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(QRectF(column.left(), top, column.width(), value_h), right, text)
        if units:
            painter.setFont(units_font)
            painter.setPen(text_colour(quality, theme.TEXT_MUTED))
            painter.drawText(
                QRectF(column.left(), top + value_h, column.width(), units_h), right, units
            )


def _number(value: TagValue) -> float | None:
    """The value as a float, None when BAD or not a finite number (a gap in the line)."""
    if value.quality is Quality.BAD:
        return None
    v = value.value
    if isinstance(v, bool):
        return float(v)
    if not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)
