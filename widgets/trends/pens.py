"""The data of one trend pen: its live ring buffer and the history loaded for the view.

What is drawn, read by the cursor and exported comes from two layers: the **live** samples
received since the view opened (a ``RingBuffer``, every change the tag bus handed on) and the
**history** layer, the last answer of the historian for the visible range (raw samples, or
min/max buckets for long ranges). The live layer wins from its oldest sample on (the "cut");
history fills everything before it.

Live samples are changes only: a value that stays put produces no new sample. The live line is
therefore drawn as a step where samples are more than ``HOLD_S`` apart (the value held until it
changed) and runs on to "now" at the last value, and only quality breaks it, never time.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from hmi_app.core.history import BucketSeries, FloatArray, HistorySource, QualityArray, RawSeries
from hmi_app.core.quality import Quality, TagValue
from widgets.trends.decimate import DRAWN_WORST, buckets_to_line, drawable, line_with_gaps
from widgets.trends.ring import RingBuffer
from widgets.trends.spec import PenSpec

log = logging.getLogger(__name__)

HOLD_S = 1.0
"""Live samples further apart than this are drawn as a step (the value held in between)."""

Sample = tuple[float, int]
Samples = tuple[FloatArray, FloatArray, QualityArray]

_EMPTY = np.empty(0, dtype=np.float64)


def number(value: TagValue) -> float:
    """A tag value as a float to draw; NaN when it is not a finite number."""
    v = value.value
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float) and math.isfinite(v):
        return float(v)
    return math.nan


@dataclass(frozen=True, slots=True)
class HistoryLayer:
    """The historian's answer for ``[start, end)``: raw samples or buckets, ready to draw."""

    start: float
    end: float
    raw: RawSeries | None
    buckets: BucketSeries | None
    x: FloatArray
    y: FloatArray
    error: str = ""

    @classmethod
    def of_raw(cls, raw: RawSeries, start: float, end: float, max_gap: float) -> HistoryLayer:
        x, y = line_with_gaps(raw.ts, raw.value, raw.quality, max_gap=max_gap)
        return cls(start, end, raw, None, x, y)

    @classmethod
    def of_buckets(
        cls, series: BucketSeries, start: float, end: float, max_gap: float
    ) -> HistoryLayer:
        x, y = buckets_to_line(series, max_gap=max_gap)
        return cls(start, end, None, series, x, y)

    @classmethod
    def failed(cls, start: float, end: float, error: str) -> HistoryLayer:
        return cls(start, end, None, None, _EMPTY, _EMPTY, error)

    def value_at(self, t: float, max_gap: float) -> Sample | None:
        """The last stored sample at or before ``t`` (None: none within ``max_gap``). From
        buckets this is approximate: the last sample of the latest bucket ended by ``t``, or
        the first of the bucket holding ``t``, with the bucket's worst quality."""
        if self.raw is not None:
            ts = self.raw.ts
            i = int(np.searchsorted(ts, t, side="right")) - 1
            if i < 0 or t - ts[i] > max_gap:
                return None
            return float(self.raw.value[i]), int(self.raw.quality[i])
        b = self.buckets
        if b is None or len(b) == 0:
            return None
        i = min(len(b) - 1, int((t - b.start) // b.width))
        if i < 0:
            return None
        if b.count[i] and b.first_ts[i] <= t:
            if b.last_ts[i] <= t:
                return float(b.last[i]), int(b.worst[i])
            return float(b.first[i]), int(b.worst[i])
        done = np.flatnonzero((b.count[:i] > 0) & (b.last_ts[:i] <= t))
        if done.shape[0] == 0:
            return None
        j = int(done[-1])
        if t - b.last_ts[j] > max_gap:
            return None
        return float(b.last[j]), int(b.worst[j])


class PenData:
    """Live buffer and history layer of one pen."""

    def __init__(self, spec: PenSpec, capacity: int, max_gap: float) -> None:
        self.spec = spec
        self.ring = RingBuffer(capacity)
        self.max_gap = max_gap
        self.history: HistoryLayer | None = None
        self.latest: TagValue | None = None
        self._probe: tuple[float, Sample | None] | None = None

    def on_value(self, value: TagValue) -> None:
        """A value from the tag bus, kept in the ring at the time the historian stores it: the
        device's time when good, else the time it arrived (a link drop re-marks the last value
        with its old device time, but the line must run on until the drop was seen)."""
        self.latest = value
        ts = value.source_ts if value.quality is Quality.GOOD else value.recv_ts
        self.ring.append(ts, number(value), int(value.quality))

    def cut(self) -> float:
        """Where live samples take over from history (+inf before the first live sample)."""
        first = self.ring.first()
        return first[0] if first is not None else math.inf

    def covered(self, start: float, end: float) -> bool:
        """Whether history plus live samples cover ``[start, end]`` (nothing to fetch)."""
        need_end = min(end, self.cut())
        if need_end <= start:
            return True
        h = self.history
        if h is None:
            return False
        slack = max(1.0, (h.end - h.start) * 0.002)
        return h.start <= start + slack and h.end >= need_end - slack

    # ---- drawing ---------------------------------------------------------------------------
    def line(self, start: float, end: float, now: float | None) -> tuple[FloatArray, FloatArray]:
        """x/y of the pen over ``[start, end]``: history before the cut, live samples after,
        running on to ``now`` (live mode) at the last good value."""
        cut = self.cut()
        parts_x: list[FloatArray] = []
        parts_y: list[FloatArray] = []
        h = self.history
        if h is not None and h.x.shape[0] and cut > start:
            k = int(np.searchsorted(h.x, cut, side="left"))
            parts_x.append(h.x[:k])
            parts_y.append(h.y[:k])
            if k and cut - h.x[k - 1] > self.max_gap and math.isfinite(cut):
                parts_x.append(np.array([(h.x[k - 1] + cut) / 2]))
                parts_y.append(np.array([math.nan]))
        if math.isfinite(cut) and end >= cut:
            x, y = self._live_line(start, now)
            parts_x.append(x)
            parts_y.append(y)
        if not parts_x:
            return _EMPTY, _EMPTY
        if len(parts_x) == 1:
            return parts_x[0], parts_y[0]
        return np.concatenate(parts_x), np.concatenate(parts_y)

    def _live_line(self, start: float, now: float | None) -> tuple[FloatArray, FloatArray]:
        ts, value, quality = self.ring.since(start)
        anchor = self.ring.at_or_before(np.nextafter(start, -math.inf))
        if anchor is not None:  # the sample before the window: the line enters from the edge
            ts = np.concatenate(([anchor[0]], ts))
            value = np.concatenate(([anchor[1]], value))
            quality = np.concatenate(([anchor[2]], quality)).astype(np.uint8)
        y = np.where(drawable(quality), value, np.nan)
        x = np.asarray(ts, dtype=np.float64)
        if x.shape[0] >= 2:
            steps = np.flatnonzero(np.diff(x) > HOLD_S) + 1
            if steps.shape[0]:
                x = np.insert(x, steps, x[steps])
                y = np.insert(y, steps, y[steps - 1])
        if now is not None and x.shape[0] and now > x[-1] and quality[-1] <= DRAWN_WORST:
            x = np.append(x, now)
            y = np.append(y, y[-1])
        return x, y

    # ---- reading ---------------------------------------------------------------------------
    def value_at(self, t: float) -> Sample | None:
        """The pen's value at ``t``: the last sample at or before it, with its quality."""
        if t >= self.cut():
            last = self.ring.at_or_before(t)
            return None if last is None else (last[1], last[2])
        if self._probe is not None and self._probe[0] == t:
            return self._probe[1]
        if self.history is None:
            return None
        return self.history.value_at(t, self.max_gap)

    def latest_sample(self, now: float) -> Sample | None:
        """The newest value: the last live sample, else the newest stored one."""
        last = self.ring.last()
        if last is not None:
            return last[1], last[2]
        return self.value_at(now)

    def needs_probe(self, t: float) -> bool:
        """Whether ``value_at(t)`` would only be approximate (read from buckets)."""
        h = self.history
        fresh = self._probe is None or self._probe[0] != t
        return fresh and t < self.cut() and h is not None and h.buckets is not None

    def set_probe(self, t: float, raw: RawSeries) -> None:
        """The exact samples read around ``t`` (at most ``max_gap`` before it)."""
        i = int(np.searchsorted(raw.ts, t, side="right")) - 1
        if i < 0 or t - raw.ts[i] > self.max_gap:
            self._probe = (t, None)
        else:
            self._probe = (t, (float(raw.value[i]), int(raw.quality[i])))

    def live_samples(self, start: float, end: float) -> Samples:
        """Live samples with ``start <= ts < end`` (copies)."""
        ts, value, quality = self.ring.since(start)
        k = int(np.searchsorted(ts, end, side="left"))
        return ts[:k].copy(), value[:k].copy(), quality[:k].copy()


def quality_label(code: int) -> str:
    """The word for a quality code (``good`` ... ``bad``)."""
    try:
        return Quality(code).label
    except ValueError:
        return f"quality {code}"


async def read_exact(history: HistorySource, pens: list[PenData], t: float) -> None:
    """Ask the historian for the samples just before ``t`` of ``pens`` (a cursor placed where
    they show buckets); a pen whose read fails keeps the bucket estimate."""
    for pen in pens:
        try:
            raw = await history.raw(pen.spec.tag, t - pen.max_gap, np.nextafter(t, math.inf))
        except Exception:
            log.info("exact cursor read of %s failed", pen.spec.tag, exc_info=True)
            continue
        pen.set_probe(t, raw)
