"""Embedded trend: a small live trend of one to four pens on a screen, with a legend of values.

Each pen (bindable ``pen1`` .. ``pen4``) keeps its samples in a preallocated ``RingBuffer``
(``widgets.trends.ring``), sized for the span at the screen's 10 Hz update rate. What is drawn is
the value *held* between samples (the tag bus sends changes only, so a value stands until the next
one): the window is cut into one column per pixel, and each column draws the lowest and highest
value it saw, the value entering it included (``peak_decimate`` does the columns' own samples), so
a one-sample spike survives and the cost of a repaint is bounded by the width, not by the data.

Gaps follow ``widgets.trends.decimate``'s quality rule: GOOD and UNCERTAIN are drawn, STALE and
BAD are not, and a column that saw any of them gets a magenta stroke along the bottom (as the
sparkline does). History backfilled from the historian (``backfill``) also breaks where samples
are further apart than the historian's maximum interval allows (no data there).

The line moves with time, not only with values: the screen calls ``tick(now)`` about twice a
second while shown (``screens.renderer``), and ``display_state`` holds that time quantised to
``REPAINT_PERIOD``, so a trend repaints at most twice a second however fast values arrive, and a
stream of unchanged values costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator
from pyqtgraph.functions import arrayToQPath
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from hmi_app.core.datatypes import DataType
from hmi_app.core.history import FloatArray, RawSeries
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.nav_button import NavButton
from widgets.quality_look import paint_quality, text_colour
from widgets.trends.decimate import DRAWN_WORST, peak_decimate
from widgets.trends.ring import RingBuffer
from widgets.trends.spec import PALETTE

PENS = ("pen1", "pen2", "pen3", "pen4")
PEN_COLOURS = PALETTE
"""Default pen colours: the trend view's (calm, none of alarm red, warning amber, bad magenta)."""
REPAINT_PERIOD = 0.5
SAMPLES_PER_S = 10
"""The bus hands values on at 10 Hz at most: the ring holds a span of them."""
MAX_CAPACITY = 100_000
BACKFILL_MAX_GAP_S = 180.0
"""Recorded samples further apart than this are a gap: the historian writes each recorded tag at
least every ``max_interval`` (60 s by default), so three of those without a sample is no data."""
GAP = QColor(theme.BAD_EDGE)


class TrendItemProps(WidgetProps):
    """Static properties of an embedded trend."""

    title: str = ""
    span: float = Field(default=300.0, ge=10, le=86400, description="seconds shown")
    y_min: float | None = Field(default=None, description="fixed low end; default: the data's")
    y_max: float | None = Field(default=None, description="fixed high end; default: the data's")
    colours: list[str] = Field(
        default_factory=list, description="pen colours '#rrggbb' in pen order; default palette"
    )
    labels: list[str] = Field(
        default_factory=list, description="legend text in pen order; default: the tag name"
    )
    show_legend: bool = Field(default=True, description="legend with each pen's current value")
    legend_width: int = Field(default=160, ge=80, le=600, description="design px of the legend")

    @field_validator("colours")
    @classmethod
    def _colours(cls, value: list[str]) -> list[str]:
        if len(value) > len(PENS):
            raise ValueError(f"at most {len(PENS)} colours (one per pen)")
        for colour in value:
            if not (len(colour) == 7 and colour.startswith("#") and QColor(colour).isValid()):
                raise ValueError(f"{colour!r} is not a colour like '#1f4e9c'")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TrendItemProps:
        if self.y_min is not None and self.y_max is not None and self.y_min >= self.y_max:
            raise ValueError(f"y_min {self.y_min:g} must be below y_max {self.y_max:g}")
        return self


_PenShape = tuple[str, QPainterPath, list[tuple[float, float]]]
"""A pen as drawn: its colour, its line (broken at gaps), the gap spans (x from, x to)."""


class _Pen:
    """One pen's samples: live ones from the bus, and history put before them by a backfill."""

    __slots__ = ("live_from", "resumed", "ring")

    def __init__(self, capacity: int) -> None:
        self.ring = RingBuffer(capacity)
        self.live_from = math.inf
        """Time of the first live sample: samples before it came from history."""
        self.resumed = 0.0
        """When the screen was last shown: a value received before was not seen arriving."""


class TrendItem(HmiWidget):
    """A live trend of up to four tags over the last ``span`` seconds, with a value legend."""

    TYPE_KEY: ClassVar[str] = "trend"
    Props: ClassVar[type[WidgetProps]] = TrendItemProps
    BINDABLE: ClassVar[tuple[str, ...]] = PENS
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (520, 200),
        {"title": "Filler", "span": 300, "labels": ["Level", "Speed"]},
        {
            "pen1": (TagMeta("line1.filler.level", DataType.FLOAT32, "%", ".1f"), 62.5),
            "pen2": (TagMeta("line1.filler.speed", DataType.FLOAT32, "bpm", ".0f"), 240.0),
        },
    )

    props: TrendItemProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        capacity = min(MAX_CAPACITY, int(self.props.span * SAMPLES_PER_S) + 64)
        self._pens = {prop: _Pen(capacity) for prop in PENS}
        self._clock = 0.0  # the newest time known: tick() or a sample
        self._shape_key: Hashable = None
        self._shape: list[_PenShape] = []
        self._range = (0.0, 1.0)

    # ---- data ------------------------------------------------------------------------------
    def apply(self, prop: str, value: TagValue | None) -> None:
        if value is not None and prop in self._pens:
            pen = self._pens[prop]
            t = max(value.recv_ts, pen.resumed)
            if pen.live_from == math.inf:
                pen.live_from = t
            pen.ring.append(t, _number(value), int(value.quality))
            self._clock = max(self._clock, t)
        super().apply(prop, value)

    def tick(self, now: float) -> None:
        """The screen's clock: the window ends at ``now`` (repaints at most every period)."""
        self._clock = max(self._clock, now)
        self.refresh()

    def pause(self, now: float) -> None:
        """The screen is hidden (values stop coming): the line breaks at ``now``."""
        for prop in self.pen_props():
            self._pens[prop].ring.append(now, math.nan, int(Quality.BAD))
        self._clock = max(self._clock, now)

    def resume(self, now: float, restart: tuple[str, ...] = ()) -> None:
        """The screen is shown again at ``now``: values arriving now count from ``now``. The
        pens in ``restart`` forget their samples (a backfill from history follows)."""
        for prop in restart:
            pen = self._pens[prop]
            pen.ring.clear()
            pen.live_from = math.inf
        for pen in self._pens.values():
            pen.resumed = now
        self._clock = max(self._clock, now)
        self.update()

    def backfill(
        self, prop: str, series: RawSeries, *, max_gap: float = BACKFILL_MAX_GAP_S
    ) -> None:
        """Put recorded samples before the live ones of ``prop`` (those at or after the first
        live sample are dropped: the live ones are newer news). Samples more than ``max_gap``
        seconds apart get a gap between them."""
        pen = self._pens[prop]
        live = pen.ring.arrays()
        live = (live[0].copy(), live[1].copy(), live[2].copy())
        keep = series.ts < pen.live_from
        ts, value, quality = series.ts[keep], series.value[keep], series.quality[keep]
        if ts.shape[0] >= 2:
            holes = np.flatnonzero(np.diff(ts) > max_gap) + 1
            ends = ts[holes - 1] + max_gap  # the data ends there: a BAD marker (no value)
            ts = np.insert(ts, holes, ends)
            value = np.insert(value, holes, np.nan)
            quality = np.insert(quality, holes, np.uint8(Quality.BAD))
        if ts.shape[0] and pen.live_from != math.inf and pen.live_from - ts[-1] > max_gap:
            ts = np.append(ts, ts[-1] + max_gap)
            value = np.append(value, np.nan)
            quality = np.append(quality, np.uint8(Quality.BAD))
        pen.ring.clear()
        pen.ring.extend(ts, value, quality.astype(np.uint8))
        pen.ring.extend(*live)
        if ts.shape[0]:
            self._clock = max(self._clock, float(ts[-1]))
        self.update()

    def samples(self, prop: str) -> tuple[FloatArray, FloatArray, np.ndarray]:
        """The pen's samples in time order (times, values with NaN for no number, qualities)."""
        return self._pens[prop].ring.arrays()

    def window(self) -> tuple[float, float]:
        """The time span drawn: ``span`` seconds up to the newest time known."""
        return self._clock - self.props.span, self._clock

    # ---- what is shown ---------------------------------------------------------------------
    def pen_props(self) -> list[str]:
        """The bound pens, in order."""
        return [prop for prop in PENS if self.is_bound(prop)]

    def pen_label(self, prop: str) -> str:
        index = PENS.index(prop)
        labels = self.props.labels
        if index < len(labels) and labels[index]:
            return labels[index]
        meta = self.meta(prop)
        return meta.name if meta is not None else prop

    def pen_colour(self, prop: str) -> QColor:
        index = PENS.index(prop)
        colours = self.props.colours
        return QColor(colours[index] if index < len(colours) else PEN_COLOURS[index])

    def display_state(self) -> Hashable:
        # each pen's quality (a change shows at once) and the time quantum, not the values: the
        # line and the legend's values are redrawn at most once per REPAINT_PERIOD
        qualities = tuple(
            (shown.quality, shown.reason) for shown in (self.shown(p) for p in self.pen_props())
        )
        return qualities, math.floor(self._clock / REPAINT_PERIOD)

    def tooltip_text(self) -> str:
        text = super().tooltip_text()
        return f"{text}\nlast {_span_words(self.props.span)}" if text else text

    # ---- drawing ---------------------------------------------------------------------------
    def columns(
        self, prop: str, width: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray]:
        """The pen over the window cut into ``width`` columns: per column its centre time, low
        and high (NaN: nothing drawn) and whether it saw a STALE/BAD value or a hole in history.
        """
        start, end = self.window()
        width = max(1, width)
        edges = start + (end - start) * np.arange(width + 1, dtype=np.float64) / width
        end = edges[-1] = np.nextafter(end, np.inf)  # the newest sample sits at the end: keep it
        centres = (edges[:-1] + edges[1:]) / 2
        ts, value, quality = self._pens[prop].ring.arrays()
        if ts.shape[0] == 0 or end <= start:
            empty = np.full(width, np.nan)
            return centres, empty, empty.copy(), np.zeros(width, dtype=bool)
        drawn = np.asarray(quality) <= DRAWN_WORST
        y = np.where(drawn, value, np.nan)
        bounds = np.searchsorted(ts, edges, side="left")
        lo_i, hi_i = bounds[:-1], bounds[1:]
        _x, y2 = peak_decimate(ts, y, start, end, width)
        inside_lo = np.fmin(y2[0::2], y2[1::2])
        inside_hi = np.fmax(y2[0::2], y2[1::2])
        entering = np.where(lo_i > 0, y[np.maximum(lo_i - 1, 0)], np.nan)
        low = np.fmin(entering, inside_lo)
        high = np.fmax(entering, inside_hi)
        not_drawn = np.concatenate(([0], np.cumsum(~drawn)))
        saw_bad = (not_drawn[hi_i] - not_drawn[lo_i]) > 0
        started = hi_i > 0  # before the first sample there is no data yet: not a gap
        gaps = started & (saw_bad | np.isnan(high))
        return centres, low, high, gaps

    def y_range(self, lows: list[FloatArray], highs: list[FloatArray]) -> tuple[float, float]:
        """The plot's value range: the fixed ends, or the data's with a margin."""
        low, high = self.props.y_min, self.props.y_max
        data = [a[~np.isnan(a)] for a in (*lows, *highs)]
        values = np.concatenate(data) if data else np.empty(0)
        if low is None or high is None:
            d_low = float(values.min()) if values.size else 0.0
            d_high = float(values.max()) if values.size else 1.0
            margin = (d_high - d_low) * 0.08 or (abs(d_low) * 0.05 or 1.0)
            low = d_low - margin if low is None else low
            high = d_high + margin if high is None else high
            if high <= low:
                high = low + 1.0
            for _ in range(2):  # auto ends on grid lines: -100..400, not -23.97..323.7
                step = nice_step(high - low)
                if self.props.y_min is None:
                    low = math.floor(low / step) * step
                if self.props.y_max is None:
                    high = math.ceil(high / step) * step
        return low, high

    def paint(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pad = 6 * s
        caption = theme.font(theme.CAPTION_PX, s)
        cap_h = theme.metrics(caption).height()
        title_h = cap_h + 2 * s if self.props.title else 0.0
        legend_w = self.props.legend_width * s if self.props.show_legend else 0.0
        legend_w = min(legend_w, r.width() * 0.5)
        axis_w = theme.metrics(caption).horizontalAdvance("-8888.8") + 4 * s
        plot = QRectF(
            pad + axis_w,
            pad + title_h,
            r.width() - legend_w - axis_w - 2 * pad,
            r.height() - 2 * pad - title_h - cap_h,
        )
        if self.props.title:
            painter.setFont(caption)
            painter.setPen(theme.TEXT_MUTED)
            painter.drawText(
                QRectF(pad, pad - 2 * s, plot.right() - pad, title_h),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.title,
            )
        painter.setPen(QPen(theme.FIELD_EDGE, max(1.0, 1.0 * s)))
        painter.setBrush(theme.FIELD_BG)
        painter.drawRect(plot)
        if plot.width() > 4 and plot.height() > 4:
            self._paint_lines(painter, plot)
        if legend_w:
            self._paint_legend(
                painter, QRectF(plot.right() + pad, plot.top(), legend_w - pad, plot.height())
            )
        if self.pen_props():
            paint_quality(painter, r, self.worst_quality(), s)

    def _paint_lines(self, painter: QPainter, plot: QRectF) -> None:
        s = self.scale
        inner = plot.adjusted(1 * s, 3 * s, -1 * s, -3 * s)
        width = max(1, round(inner.width()))
        key = (math.floor(self._clock / REPAINT_PERIOD), width, inner.height(), self._versions())
        if key != self._shape_key:
            self._shape_key = key
            self._range, self._shape = self._build(inner, width)
        low, high = self._range
        painter.setFont(theme.font(theme.CAPTION_PX, s))
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        h = theme.metrics(theme.font(theme.CAPTION_PX, s)).height()
        step = nice_step(high - low)
        decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
        scale_y = inner.height() / (high - low)
        grid = QPen(theme.PANEL_EDGE, max(1.0, 0.8 * s))
        last_label = math.inf
        value = math.ceil(low / step - 1e-9) * step
        while value <= high + step * 1e-9:
            y = inner.bottom() - (value - low) * scale_y
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left() + 1, y), QPointF(plot.right() - 1, y))
            if last_label - y >= h:  # a label per line while they fit, the lowest first
                painter.setPen(theme.TEXT_MUTED)
                box = QRectF(0, y - h / 2, plot.left() - 3 * s, h)
                painter.drawText(box, right, f"{value:.{decimals}f}")
                last_label = y
            value += step
        painter.setPen(theme.TEXT_MUTED)
        under = QRectF(plot.left(), plot.bottom(), plot.width(), h)
        painter.drawText(under, int(Qt.AlignmentFlag.AlignLeft), f"-{_span_words(self.props.span)}")
        painter.drawText(under, int(Qt.AlignmentFlag.AlignRight), "now")
        painter.setBrush(Qt.BrushStyle.NoBrush)
        gap_pen = QPen(GAP, max(1.0, 2.0 * s))
        gap_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        for colour, path, gaps in self._shape:
            if gaps:
                painter.setPen(gap_pen)
                y = plot.bottom() - 1.5 * s
                for left, right_x in gaps:
                    painter.drawLine(QPointF(left, y), QPointF(right_x, y))
            # a 1 px line without antialiasing, drawn once per pixel of width a pixel lower: a
            # wide pen strokes each of a thousand short segments and costs five times as much
            painter.setPen(QPen(QColor(colour), 1))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            for offset in range(max(1, round(1.6 * s))):
                painter.translate(0, offset)
                painter.drawPath(path)
                painter.translate(0, -offset)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def _versions(self) -> tuple[int, ...]:
        return tuple(self._pens[prop].ring.version for prop in self.pen_props())

    def _build(self, plot: QRectF, width: int) -> tuple[tuple[float, float], list[_PenShape]]:
        """The value range, and the polylines and gap spans of every pen (cached per time
        quantum, size and data version)."""
        props = self.pen_props()
        cols = {prop: self.columns(prop, width) for prop in props}
        low, high = self.y_range([c[1] for c in cols.values()], [c[2] for c in cols.values()])
        scale_y = plot.height() / (high - low)
        xs = plot.left() + (np.arange(width, dtype=np.float64) + 0.5) * plot.width() / width
        shapes: list[_PenShape] = []
        for prop, (_centres, lows, highs, gaps) in cols.items():
            y_low = plot.bottom() - (np.clip(lows, low, high) - low) * scale_y
            y_high = plot.bottom() - (np.clip(highs, low, high) - low) * scale_y
            # two points per column (low, high), NaN breaking the line: built by pyqtgraph from
            # the arrays in one go (a Python loop over QPointF costs more than the drawing)
            line = array_to_path(np.repeat(xs, 2), np.column_stack((y_low, y_high)).ravel())
            spans: list[tuple[float, float]] = []
            step = plot.width() / width
            for column in np.flatnonzero(gaps).tolist():
                left = plot.left() + column * step
                if spans and left - spans[-1][1] < step / 2:
                    spans[-1] = (spans[-1][0], left + step)
                else:
                    spans.append((left, left + step))
            shapes.append((self.pen_colour(prop).name(), line, spans))
        return (low, high), shapes

    def _paint_legend(self, painter: QPainter, area: QRectF) -> None:
        s = self.scale
        props = self.pen_props()
        if not props:
            return
        row_h = min(area.height() / len(props), 44 * s)
        label_font = theme.font(theme.CAPTION_PX, s)
        value_font = theme.font(theme.LABEL_PX + 2, s, bold=True)
        for index, prop in enumerate(props):
            top = area.top() + index * row_h
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.pen_colour(prop))
            painter.drawRect(QRectF(area.left(), top + 4 * s, 4 * s, row_h - 8 * s))
            text_left = area.left() + 10 * s
            text_w = area.width() - 10 * s
            half = row_h / 2
            painter.setFont(label_font)
            painter.setPen(theme.TEXT_MUTED)
            label = theme.metrics(label_font).elidedText(
                self.pen_label(prop), Qt.TextElideMode.ElideRight, text_w
            )
            left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            painter.drawText(QRectF(text_left, top, text_w, half), left, label)
            shown = self.shown(prop)
            meta = self.meta(prop)
            units = meta.units if meta is not None and shown.quality is not Quality.BAD else ""
            painter.setFont(value_font)
            painter.setPen(text_colour(shown.quality))
            value = f"{shown.text} {units}".strip()
            painter.drawText(QRectF(text_left, top + half, text_w, half), left, value)


class TrendButtonProps(WidgetProps):
    """Static properties of a trend button."""

    text: str = Field(description="what the operator reads, e.g. 'Filler trend'")
    trend: str = Field(min_length=1, description="the saved trend (trends/<name>.yaml) it opens")
    icon: str | None = Field(default=None, max_length=2, description="a glyph before the text")
    arrow: Literal["right", "left", "none"] = Field(default="right")


class TrendButton(NavButton):
    """A button (drawn as a navigation button) that opens the trend window on a saved trend,
    through the ``click_handler`` the screen renderer sets."""

    TYPE_KEY: ClassVar[str] = "trend_button"
    Props: ClassVar[type[WidgetProps]] = TrendButtonProps
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (220, 48), {"text": "Filler trend", "trend": "filler"}
    )

    props: TrendButtonProps  # type: ignore[assignment]

    def saved_trend(self) -> str:
        """The name of the saved trend this button opens."""
        return self.props.trend

    def target_screen(self) -> str:
        return ""  # not a navigation: the renderer asks saved_trend()

    def tooltip_text(self) -> str:
        if not self.enabled():
            return f"trend {self.props.trend} (the trend window is not available here)"
        return f"open the trend window on the saved trend {self.props.trend}"


def array_to_path(x: FloatArray, y: FloatArray) -> QPainterPath:
    """A path through the points, broken wherever ``y`` is NaN."""
    path: QPainterPath = arrayToQPath(x, y, connect="finite")
    return path


def nice_step(span: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) cutting ``span`` into about 5."""
    raw = max(span, 1e-12) / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10.0 * magnitude


def _number(value: TagValue) -> float:
    """The value as a float; NaN when BAD or not a finite number (a gap in the line)."""
    if value.quality is Quality.BAD:
        return math.nan
    v = value.value
    if isinstance(v, bool):
        return float(v)
    if not isinstance(v, int | float) or not math.isfinite(v):
        return math.nan
    return float(v)


def _span_words(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)} {unit}"
    return f"{seconds:g} s"
