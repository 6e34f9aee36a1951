"""Bar chart: vertical bars for an array value (e.g. good bottles per hour of the shift).

One bar per element of the bound array, its value written over it, a label under it (from
``labels``, clock hours from ``start_hour``, or the 1-based position), and an optional dashed
target line. ISA-101: the bars are grey whatever their height (missing the target is not an
alarm); the quality of the array shows as on every widget.

The scale's top is the largest of the values and the target rounded up to a "nice" number
(1, 2, 2.5 or 5 times a power of ten), so it does not jump with every count. Painting is cheap:
the frame, the caption, the axis labels and the target's legend come from a cached pixmap; a
paint draws at most ``len(value)`` rectangles and texts, and only when a shown text or a bar's
height (to 0.2 %) changed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar, NamedTuple

from pydantic import Field, model_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour

BAR = QColor("#7f7f7f")
BAR_STALE = QColor("#bdbdbd")
TARGET = QColor("#333333")
AXIS_PX = 12  # labels under the bars, design px
VALUE_PX = 12  # values over the bars, design px
MIN_VALUE_PX = 8  # a value text shrinks down to this before it is left to the tooltip
HEIGHT_STEPS = 500  # bar heights are compared to 0.2 %: finer is below a pixel
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
_BOTTOM = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)


class BarChartProps(WidgetProps):
    """Static properties of a bar chart."""

    label: str = Field(default="", description="caption above the chart")
    labels: list[str] | None = Field(
        default=None, description="text under each bar, in order (default: 1, 2, 3, ...)"
    )
    start_hour: int | None = Field(
        default=None, ge=0, le=23, description="label the bars as clock hours from this one"
    )
    hour_step: int = Field(default=1, ge=1, le=12, description="hours per bar with start_hour")
    bars: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="show at least the first N values; a later non-zero one adds its bars "
        "(e.g. 8 for an 8 h shift in a 24 h array; a 9 h DST night still shows)",
    )
    target: float | None = Field(
        default=None, description="dashed line at this value (e.g. the planned count per hour)"
    )
    max: float | None = Field(
        default=None, gt=0, description="top of the scale; default follows values and target"
    )
    format: str | None = Field(default=None, description="overrides the tag's format, e.g. ',d'")
    show_values: bool = Field(default=True, description="write each value over its bar")

    @model_validator(mode="after")
    def _consistent(self) -> BarChartProps:
        if self.labels is not None and self.start_hour is not None:
            raise ValueError("give labels or start_hour, not both")
        if self.format:
            try:
                format(1234, self.format)
            except ValueError:
                try:
                    format(1234.5, self.format)
                except ValueError:
                    raise ValueError(
                        f"format {self.format!r} does not fit a number, e.g. ',d' or '.1f'"
                    ) from None
        if self.max is not None and self.target is not None and self.target > self.max:
            raise ValueError(f"target {self.target:g} is above max {self.max:g}")
        return self


class Chart(NamedTuple):
    """What a bar chart shows: the ``display_state`` (hashable, compared before a repaint)."""

    quality: Quality
    texts: tuple[str, ...]  # value text per bar ("" where the element is not a number)
    heights: tuple[int, ...]  # per bar, in 1/HEIGHT_STEPS of the scale
    top: float  # the scale's top value
    target: int | None  # the target line's height in 1/HEIGHT_STEPS, None without one


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n that is at least ``value`` (1 for nothing)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power


def _numbers(value: Any) -> list[float | None]:
    """The array's elements as floats (None for one that is not a finite number)."""
    items: Sequence[Any]
    if isinstance(value, list | tuple):
        items = value
    elif value is None:
        items = ()
    else:
        items = (value,)  # a single value bound by mistake still draws as one bar
    out: list[float | None] = []
    for item in items:
        number = item if isinstance(item, int | float) and not isinstance(item, bool) else None
        out.append(None if number is None or not math.isfinite(number) else float(number))
    return out


class BarChart(HmiWidget):
    """Vertical bars for the elements of an array, values over them, labels under them."""

    TYPE_KEY: ClassVar[str] = "barchart"
    Props: ClassVar[type[WidgetProps]] = BarChartProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (420, 200),
        {"label": "Good per hour", "start_hour": 6, "bars": 8, "target": 18000},
        {
            "value": (
                TagMeta("line.hourly_good", DataType.UINT32, display_format="d", array_length=24),
                (17450, 17980, 16210, 9020, 17760, 4310) + (0,) * 18,
            )
        },
    )

    props: BarChartProps

    # ---- what is shown ---------------------------------------------------------------------
    def values(self) -> list[float | None]:
        """The numbers the bars show (cut to ``bars``, see the prop); [] when BAD or unbound."""
        if not self.is_bound("value"):
            return []
        shown = self.shown("value")
        if shown.quality is Quality.BAD:
            return []
        numbers = _numbers(shown.value)
        return numbers[: self._bar_count(numbers)]

    def _bar_count(self, numbers: Sequence[float | None]) -> int:
        wanted = self.props.bars
        if wanted is None:
            return len(numbers)
        last = max((i + 1 for i, v in enumerate(numbers) if v), default=0)
        return max(wanted, last)

    def quality(self) -> Quality:
        return self.shown("value").quality if self.is_bound("value") else Quality.GOOD

    def value_text(self, number: float | None) -> str:
        if number is None:
            return ""
        fmt = self.props.format
        meta = self.meta("value")
        shown: float | int = int(number) if number.is_integer() else number
        if fmt:
            try:
                return format(shown, fmt)
            except ValueError:
                return format(number, fmt)
        if meta is not None and meta.display_format:
            return meta.format_value(shown)
        return f"{shown:g}" if isinstance(shown, float) else str(shown)

    def chart(self) -> Chart:
        """The display state: texts and heights of the bars, the scale and the target line."""
        quality = self.quality()
        numbers = self.values()
        target = self.props.target
        top = self.props.max
        if top is None:
            peak = max((v for v in numbers if v is not None), default=0.0)
            top = nice_ceiling(max(peak, target or 0.0))
        heights = tuple(
            0 if v is None else round(min(1.0, max(0.0, v / top)) * HEIGHT_STEPS) for v in numbers
        )
        texts = tuple(self.value_text(v) for v in numbers)
        target_h = (
            None if target is None else round(min(1.0, max(0.0, target / top)) * HEIGHT_STEPS)
        )
        return Chart(quality, texts, heights, top, target_h)

    def display_state(self) -> Hashable:
        return self.chart()

    def bar_labels(self, count: int) -> list[str]:
        """The text under each of ``count`` bars."""
        props = self.props
        if props.labels is not None:
            return [props.labels[i] if i < len(props.labels) else "" for i in range(count)]
        if props.start_hour is not None:
            return [f"{(props.start_hour + i * props.hour_step) % 24:02d}" for i in range(count)]
        return [str(i + 1) for i in range(count)]

    def tooltip_text(self) -> str:
        text = super().tooltip_text()
        numbers = [v for v in self.values() if v is not None]
        if text and numbers:
            text += (
                f"\ntotal {self.value_text(sum(numbers))}, highest {self.value_text(max(numbers))}"
            )
            if self.props.target is not None:
                text += f", target {self.value_text(self.props.target)} per bar"
        return text

    # ---- painting --------------------------------------------------------------------------
    def _areas(self) -> tuple[QRectF, QRectF, float]:
        """(plot area, label strip under it, caption height) in widget pixels."""
        s = self.scale
        r = QRectF(self.rect())
        pad = 6 * s
        has_caption = bool(self.props.label) or self.props.target is not None
        caption_h = (theme.CAPTION_PX + 6) * s if has_caption else 0.0
        axis_h = theme.metrics(theme.font(AXIS_PX, s)).height() + 4 * s
        plot = QRectF(pad, caption_h + pad, r.width() - 2 * pad, 0)
        plot.setBottom(r.height() - pad - axis_h)
        strip = QRectF(plot.left(), plot.bottom(), plot.width(), axis_h)
        return plot, strip, caption_h

    def paint(self, painter: QPainter) -> None:
        state = self._on_screen
        chart = state if isinstance(state, Chart) else self.chart()
        count = len(chart.heights)
        self.paint_cached(
            painter,
            (count, chart.target, chart.top),
            lambda inner: self._paint_static(inner, chart),
            limit=4,
        )
        plot, _strip, _caption = self._areas()
        s = self.scale
        if chart.quality is Quality.BAD and self.is_bound("value"):
            painter.setFont(theme.font(theme.VALUE_PX, s, bold=True))
            painter.setPen(theme.TEXT)
            painter.drawText(plot, _CENTRE, BAD_PLACEHOLDER)
        elif count:
            self._paint_bars(painter, plot, chart)
        if self.is_bound("value"):
            paint_quality(painter, QRectF(self.rect()), chart.quality, s)

    def _paint_static(self, painter: QPainter, chart: Chart) -> None:
        """Field, caption, baseline, labels under the bars and the target line's caption."""
        s = self.scale
        r = QRectF(self.rect())
        plot, strip, caption_h = self._areas()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setPen(QPen(theme.FIELD_EDGE, max(1.0, 1.0 * s)))
        painter.setBrush(theme.FIELD_BG)
        painter.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.CAPTION_PX, s, bold=True))
            painter.drawText(
                QRectF(8 * s, 2 * s, r.width() * 0.62, caption_h),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.label,
            )
        painter.setPen(QPen(theme.STOPPED_EDGE, max(1.0, 1.0 * s)))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        count = len(chart.heights)
        if count:
            font = theme.font(AXIS_PX, s)
            metrics = theme.metrics(font)
            slot = plot.width() / count
            labels = self.bar_labels(count)
            # with many narrow bars, label every n-th one so labels never run into each other
            widest = max(metrics.horizontalAdvance(text) for text in labels) + 4 * s
            every = max(1, math.ceil(widest / slot))
            painter.setFont(font)
            painter.setPen(theme.TEXT_MUTED)
            for i, text in enumerate(labels):
                if i % every:
                    continue
                cell = QRectF(plot.left() + i * slot, strip.top(), slot, strip.height())
                painter.drawText(cell.adjusted(-slot, 0, slot, 0), _CENTRE, text)
        if self.props.target is not None:  # a legend at the top right: never over a bar
            font = theme.font(AXIS_PX, s)
            metrics = theme.metrics(font)
            caption = f"target {self.value_text(self.props.target)}"
            text_w = metrics.horizontalAdvance(caption)
            # clear of the top-right corner, where the UNCERTAIN badge goes
            row = QRectF(0, 2 * s, r.width() - 26 * s, caption_h)
            painter.setFont(font)
            painter.setPen(TARGET)
            right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            painter.drawText(row, right, caption)
            y = row.center().y()
            end = row.right() - text_w - 4 * s
            pen = QPen(TARGET, max(1.0, 1.5 * s), Qt.PenStyle.DashLine)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawLine(QPointF(end - 18 * s, y), QPointF(end, y))

    def _y(self, plot: QRectF, height: int) -> float:
        """Where a height (1/HEIGHT_STEPS of the scale) is: the top of the plot keeps room for
        the value text over a full bar."""
        headroom = theme.metrics(theme.font(VALUE_PX, self.scale)).height() + 2 * self.scale
        usable = max(1.0, plot.height() - headroom)
        return plot.bottom() - usable * height / HEIGHT_STEPS

    def _paint_bars(self, painter: QPainter, plot: QRectF, chart: Chart) -> None:
        s = self.scale
        count = len(chart.heights)
        slot = plot.width() / count
        gap = min(slot * 0.25, 10 * s)
        stale = chart.quality is Quality.STALE
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BAR_STALE if stale else BAR)
        for i, height in enumerate(chart.heights):
            if height <= 0:
                continue
            top = self._y(plot, height)
            left = plot.left() + i * slot + gap / 2
            painter.drawRect(QRectF(left, top, slot - gap, plot.bottom() - top))
        if chart.target is not None:
            pen = QPen(TARGET, max(1.0, 1.5 * s), Qt.PenStyle.DashLine)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            y = self._y(plot, chart.target)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        if not self.props.show_values:
            return
        painter.setPen(text_colour(chart.quality))
        for i, (text, height) in enumerate(zip(chart.texts, chart.heights, strict=True)):
            if not text:
                continue
            font, shown = self._fit(text, slot - 1 * s)
            if not shown:
                continue  # too narrow even for the short form: the tooltip has it
            painter.setFont(font)
            metrics = theme.metrics(font)
            cell_h = metrics.height()
            cell = QRectF(
                plot.left() + i * slot, self._y(plot, height) - cell_h - 1 * s, slot, cell_h
            )
            if chart.target is not None:  # the target line stops short of the text
                text_w = metrics.horizontalAdvance(shown) + 2 * s
                painter.fillRect(
                    QRectF(cell.center().x() - text_w / 2, cell.top(), text_w, cell_h),
                    theme.FIELD_BG,
                )
            painter.drawText(cell, _BOTTOM, shown)

    def _fit(self, text: str, width: float) -> tuple[QFont, str]:
        """A font and text that fit ``width``: smaller, then ``12.5k``; "" when nothing fits."""
        s = self.scale
        for candidate in dict.fromkeys((text, _short(text), _short(text, 0))):
            size = float(VALUE_PX)
            while size >= MIN_VALUE_PX:
                font = theme.font(size, s, bold=True)
                if theme.metrics(font).horizontalAdvance(candidate) <= width:
                    return font, candidate
                size -= 1
        return theme.font(MIN_VALUE_PX, s, bold=True), ""


def _short(text: str, decimals: int = 1) -> str:
    """``1,842`` -> ``1.8k`` (``2k`` with no decimals), ``17,842`` -> ``18k``, ``1234567`` ->
    ``1.2M``; text that is not a number as it is."""
    try:
        number = float(text.replace(",", "").replace(" ", ""))
    except ValueError:
        return text
    size = abs(number)
    if size >= 1_000_000:
        return f"{number / 1_000_000:.{decimals}f}M"
    if size >= 10_000:
        return f"{number / 1000:.0f}k"
    if size >= 1000:
        return f"{number / 1000:.{decimals}f}k"
    return f"{number:g}"
