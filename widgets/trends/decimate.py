"""Turning samples and buckets into x/y arrays that pyqtgraph draws quickly and honestly.

Every function returns ``(x, y)`` float64 arrays for a ``PlotDataItem`` drawn with
``connect='finite'``: a NaN in ``y`` breaks the line, which is how a gap (no data, or data that
cannot be trusted) is shown.

Quality rule (``drawable``): GOOD and UNCERTAIN samples are drawn (an uncertain value is still
the best estimate, and the legend marks it); STALE and BAD samples are gaps, because a stale value
is an old one repeated after the link dropped and a bad one is no value at all.

Decimation keeps every extreme: a bucket is drawn as its minimum and its maximum (two points),
ordered so that a rising bucket goes min -> max and a falling one max -> min, so a one-sample
spike in a week of data still reaches its true height.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hmi_app.core.history import BucketSeries, FloatArray, QualityArray
from hmi_app.core.quality import Quality

DRAWN_WORST = int(Quality.UNCERTAIN)
"""The worst quality still drawn as a line (see the module docstring)."""


BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]


def drawable(quality: QualityArray) -> BoolArray:
    """Which samples are drawn (GOOD or UNCERTAIN)."""
    return np.asarray(quality) <= DRAWN_WORST


def line_with_gaps(
    ts: FloatArray, value: FloatArray, quality: QualityArray, *, max_gap: float
) -> tuple[FloatArray, FloatArray]:
    """Samples as a line: NaN where quality is not drawable, and a NaN point inserted between
    two samples more than ``max_gap`` seconds apart (no data there)."""
    x = np.asarray(ts, dtype=np.float64)
    y = np.where(drawable(quality), np.asarray(value, dtype=np.float64), np.nan)
    if x.shape[0] < 2:
        return x.copy(), y
    holes = np.flatnonzero(np.diff(x) > max_gap)
    if holes.shape[0] == 0:
        return x.copy(), y
    mid = (x[holes] + x[holes + 1]) / 2
    return np.insert(x, holes + 1, mid), np.insert(y, holes + 1, np.nan)


def peak_decimate(
    ts: FloatArray, value: FloatArray, start: float, end: float, buckets: int
) -> tuple[FloatArray, FloatArray]:
    """Samples with ``start <= ts < end`` (``ts`` sorted) cut into ``buckets`` equal buckets, each
    drawn as its min and max (2 points at the bucket's middle, ordered by the direction of the
    bucket); a bucket with no number in it is NaN. NaN values are ignored inside a bucket."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    if not end > start:
        raise ValueError(f"end {end} must be after start {start}")
    ts = np.asarray(ts, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    width = (end - start) / buckets
    edges = start + width * np.arange(buckets + 1, dtype=np.float64)
    edges[-1] = end
    bounds = np.searchsorted(ts, edges, side="left")
    lo_i, hi_i = bounds[:-1], bounds[1:]
    filled = hi_i > lo_i
    lows = np.full(buckets, np.nan)
    highs = np.full(buckets, np.nan)
    firsts = np.full(buckets, np.nan)
    lasts = np.full(buckets, np.nan)
    if filled.any():
        starts = lo_i[filled]
        # reduceat over the concatenated non-empty runs: each run starts at its lo index and
        # ends where the next non-empty one starts, so cut the array to [first lo, last hi)
        base = int(starts[0])
        stop = int(hi_i[filled][-1])
        chunk = value[base:stop]
        offsets = starts - base
        # runs are contiguous only if empty buckets hold no samples in between, which is true
        # by construction (an empty bucket has lo == hi == the next bucket's lo)
        lows[filled] = np.fmin.reduceat(chunk, offsets)
        highs[filled] = np.fmax.reduceat(chunk, offsets)
        firsts[filled] = value[starts]
        lasts[filled] = value[hi_i[filled] - 1]
    centres = edges[:-1] + width / 2
    return _zigzag(centres, lows, highs, firsts, lasts)


def _zigzag(
    centres: FloatArray, lows: FloatArray, highs: FloatArray, firsts: FloatArray, lasts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Two points per bucket: min then max when the bucket rises, max then min when it falls."""
    falling = firsts > lasts  # NaN compares False: rising (min first) by default
    y = np.empty(centres.shape[0] * 2, dtype=np.float64)
    y[0::2] = np.where(falling, highs, lows)
    y[1::2] = np.where(falling, lows, highs)
    x = np.repeat(centres, 2)
    return x, y


def buckets_to_line(
    series: BucketSeries, *, max_gap: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """A ``BucketSeries`` drawn as its min/max envelope, a gap (NaN) where ``count == 0`` or the
    bucket has no good value.

    With ``max_gap``, a run of empty buckets shorter than ``max_gap`` seconds (from the last
    sample before it to the first after it) is bridged instead: buckets narrower than the
    sampling interval are empty without any data missing.
    """
    n = len(series)
    centres = series.bucket_starts() + series.width / 2
    x, y = _zigzag(centres, series.min, series.max, series.first, series.last)
    if max_gap is None or n == 0:
        return x, y
    empty = series.count == 0
    if not empty.any():
        return x, y
    keep = ~empty
    filled = np.flatnonzero(~empty)
    if filled.shape[0] >= 2:
        # an empty bucket is a real gap when the samples around it are more than max_gap apart
        before = np.searchsorted(filled, np.flatnonzero(empty)) - 1
        empties = np.flatnonzero(empty)
        inside = (before >= 0) & (before + 1 < filled.shape[0])
        prev_last = np.full(empties.shape[0], -np.inf)
        next_first = np.full(empties.shape[0], np.inf)
        prev_last[inside] = series.last_ts[filled[before[inside]]]
        next_first[inside] = series.first_ts[filled[before[inside] + 1]]
        real = (next_first - prev_last) > max_gap
        keep[empties[~real]] = False
        keep[empties[real]] = True
    else:
        keep[:] = True
    points = np.repeat(keep, 2)
    return x[points], y[points]
