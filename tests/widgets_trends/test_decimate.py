"""Decimation for drawing, checked against brute force: every min and max survives, gaps show."""

from __future__ import annotations

import numpy as np
import pytest

from hmi_app.core.history import BucketSeries
from hmi_app.core.quality import Quality
from widgets.trends.decimate import buckets_to_line, line_with_gaps, peak_decimate

GOOD, UNCERTAIN, STALE, BAD = (int(q) for q in Quality)


def test_bad_and_stale_samples_break_the_line_uncertain_ones_are_drawn() -> None:
    ts = np.arange(6, dtype=np.float64)
    value = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    quality = np.array([GOOD, UNCERTAIN, BAD, STALE, GOOD, GOOD], dtype=np.uint8)
    x, y = line_with_gaps(ts, value, quality, max_gap=10.0)
    assert x.tolist() == ts.tolist()
    assert np.isnan(y[[2, 3]]).all()
    assert y[[0, 1, 4, 5]].tolist() == [1.0, 2.0, 5.0, 6.0]


def test_a_hole_in_time_longer_than_max_gap_gets_a_nan_point() -> None:
    ts = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 30.0])
    value = ts * 2
    quality = np.zeros(6, dtype=np.uint8)
    x, y = line_with_gaps(ts, value, quality, max_gap=5.0)
    assert x.tolist() == [0.0, 1.0, 2.0, 6.0, 10.0, 11.0, 20.5, 30.0]
    assert np.isnan(y[[3, 6]]).all()
    finite = ~np.isnan(y)
    assert y[finite].tolist() == (ts * 2).tolist()
    # nothing further apart than max_gap: the input comes back unchanged
    x, y = line_with_gaps(ts, value, quality, max_gap=60.0)
    assert x.tolist() == ts.tolist() and y.tolist() == value.tolist()


def _brute(
    ts: np.ndarray, value: np.ndarray, start: float, end: float, buckets: int
) -> list[tuple[float, float] | None]:
    width = (end - start) / buckets
    result: list[tuple[float, float] | None] = []
    for i in range(buckets):
        lo = start + i * width
        hi = end if i == buckets - 1 else start + (i + 1) * width
        inside = value[(ts >= lo) & (ts < hi)]
        inside = inside[~np.isnan(inside)]
        result.append((float(inside.min()), float(inside.max())) if inside.size else None)
    return result


@pytest.mark.parametrize("seed", range(12))
def test_peak_decimate_keeps_every_bucket_min_and_max(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3000))
    ts = np.sort(rng.uniform(-50, 1050, n))
    # bursts and holes: some buckets empty, some dense
    ts = ts[(ts < 300) | (ts > 420)]
    value = rng.normal(0, 5, ts.shape[0])
    value[rng.random(ts.shape[0]) < 0.05] = np.nan
    spikes = rng.integers(0, max(1, ts.shape[0]), 3) if ts.shape[0] else []
    for i in spikes:
        value[i] = 1e6 * (1 if rng.random() < 0.5 else -1)
    buckets = int(rng.integers(1, 400))
    x, y = peak_decimate(ts, value, 0.0, 1000.0, buckets)
    assert x.shape == y.shape == (2 * buckets,)
    width = 1000.0 / buckets
    assert np.allclose(x[0::2], width * (np.arange(buckets) + 0.5))
    for i, want in enumerate(_brute(ts, value, 0.0, 1000.0, buckets)):
        pair = y[2 * i : 2 * i + 2]
        if want is None:
            assert np.isnan(pair).all(), f"bucket {i} should be a gap"
        else:
            assert (float(np.min(pair)), float(np.max(pair))) == want, f"bucket {i}"
    inside = value[(ts >= 0) & (ts < 1000)]
    if np.isfinite(inside).any():
        assert np.nanmax(y) == np.nanmax(inside) and np.nanmin(y) == np.nanmin(inside)


def test_peak_decimate_orders_each_bucket_by_its_direction() -> None:
    ts = np.arange(20, dtype=np.float64)
    value = np.concatenate((np.arange(10.0), np.arange(10.0)[::-1]))
    _, y = peak_decimate(ts, value, 0.0, 20.0, 2)
    assert y.tolist() == [0.0, 9.0, 9.0, 0.0]  # rising then falling: no false zigzag
    with pytest.raises(ValueError, match="after start"):
        peak_decimate(ts, value, 5.0, 5.0, 2)
    with pytest.raises(ValueError, match="at least 1"):
        peak_decimate(ts, value, 0.0, 5.0, 0)


def _series(
    count: list[int], lo: list[float], hi: list[float], width: float = 10.0
) -> BucketSeries:
    n = len(count)
    starts = width * np.arange(n)
    c = np.array(count, dtype=np.int64)
    empty = c == 0
    nan = np.where(empty, np.nan, 0.0)
    return BucketSeries(
        tag="t",
        start=0.0,
        width=width,
        count=c,
        min=np.array(lo) + nan,
        max=np.array(hi) + nan,
        avg=(np.array(lo) + np.array(hi)) / 2 + nan,
        first=np.array(lo) + nan,
        first_ts=starts + 1 + nan,
        last=np.array(hi) + nan,
        last_ts=starts + 9 + nan,
        worst=np.zeros(n, dtype=np.uint8),
    )


def test_buckets_draw_their_envelope_and_empty_buckets_as_gaps() -> None:
    series = _series([3, 0, 0, 2, 5], [1, 0, 0, -4, 2], [5, 0, 0, 4, 3])
    x, y = buckets_to_line(series)
    assert x.tolist() == [5, 5, 15, 15, 25, 25, 35, 35, 45, 45]
    assert y[[0, 1, 6, 7, 8, 9]].tolist() == [1, 5, -4, 4, 2, 3]
    assert np.isnan(y[2:6]).all()


def test_max_gap_bridges_empty_buckets_narrower_than_the_sampling() -> None:
    series = _series(
        [0, 3, 0, 2, 0, 0, 0, 0, 5, 0],
        [0, 1, 0, 2, 0, 0, 0, 0, 3, 0],
        [0, 5, 0, 4, 0, 0, 0, 0, 6, 0],
    )
    x, y = buckets_to_line(series, max_gap=15.0)
    # bucket 2 (samples 19 -> 31 apart: 12 s) is bridged; buckets 4-7 (39 -> 81) stay a gap;
    # empty buckets before the first and after the last sample are no data: gaps
    assert x.tolist() == [5, 5, 15, 15, 35, 35, 45, 45, 55, 55, 65, 65, 75, 75, 85, 85, 95, 95]
    assert np.isnan(y[:2]).all() and np.isnan(y[6:14]).all() and np.isnan(y[-2:]).all()
    assert y[[2, 3, 4, 5, 14, 15]].tolist() == [1, 5, 2, 4, 3, 6]
