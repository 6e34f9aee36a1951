"""RingBuffer: preallocated, time-ordered reads across the wrap, since() by bisection."""

from __future__ import annotations

import numpy as np
import pytest

from widgets.trends.ring import RingBuffer


def _fill(ring: RingBuffer, times: range) -> None:
    for t in times:
        ring.append(float(t), float(t) * 10, t % 4)


def test_before_wrapping_reads_in_order_as_read_only_views() -> None:
    ring = RingBuffer(8)
    assert len(ring) == 0 and ring.last() is None
    _fill(ring, range(5))
    ts, value, quality = ring.arrays()
    assert ts.tolist() == [0, 1, 2, 3, 4]
    assert value.tolist() == [0, 10, 20, 30, 40]
    assert quality.tolist() == [0, 1, 2, 3, 0]
    assert not ts.flags.writeable
    assert ring.last() == (4.0, 40.0, 0)


def test_wrap_around_keeps_the_newest_capacity_samples_in_time_order() -> None:
    ring = RingBuffer(8)
    version = ring.version
    _fill(ring, range(21))
    assert ring.version == version + 21
    assert len(ring) == 8
    ts, value, quality = ring.arrays()
    assert ts.tolist() == list(range(13, 21))
    assert value.tolist() == [t * 10 for t in range(13, 21)]
    assert quality.tolist() == [t % 4 for t in range(13, 21)]
    assert ring.last() == (20.0, 200.0, 0)
    assert ring.first() == (13.0, 130.0, 1)
    # storage is never reallocated: the same arrays hold every sample
    assert ring._ts.shape == (8,)


@pytest.mark.parametrize("count", [3, 8, 11, 16, 19])
@pytest.mark.parametrize("t0", [-1.0, 0.0, 5.5, 12.0, 13.0, 15.0, 17.5, 18.0, 30.0])
def test_since_matches_a_filter_of_the_whole_buffer(count: int, t0: float) -> None:
    ring = RingBuffer(8)
    _fill(ring, range(count))
    all_ts, all_v, all_q = ring.arrays()
    ts, value, quality = ring.since(t0)
    mask = all_ts >= t0
    assert ts.tolist() == all_ts[mask].tolist()
    assert value.tolist() == all_v[mask].tolist()
    assert quality.tolist() == all_q[mask].tolist()


def test_extend_wraps_like_appends_and_keeps_only_the_newest() -> None:
    by_append, by_extend = RingBuffer(10), RingBuffer(10)
    _fill(by_append, range(7))
    _fill(by_extend, range(7))
    t = np.arange(7, 32, dtype=np.float64)
    by_extend.extend(t, t * 10, (t % 4).astype(np.uint8))
    _fill(by_append, range(7, 32))
    for got, want in zip(by_extend.arrays(), by_append.arrays(), strict=True):
        assert got.tolist() == want.tolist()
    small = np.arange(32, 35, dtype=np.float64)
    by_extend.extend(small, small, np.zeros(3, dtype=np.uint8))
    assert by_extend.arrays()[0].tolist() == list(range(25, 35))


def test_extend_refuses_arrays_of_different_lengths() -> None:
    ring = RingBuffer(4)
    with pytest.raises(ValueError, match="differ in length"):
        ring.extend(np.zeros(3), np.zeros(2), np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="at least 1"):
        RingBuffer(0)


def test_a_clock_stepping_back_keeps_times_sorted() -> None:
    ring = RingBuffer(4)
    ring.append(10.0, 1.0, 0)
    ring.append(9.0, 2.0, 0)
    ring.extend(np.array([8.0, 12.0]), np.array([3.0, 4.0]), np.zeros(2, dtype=np.uint8))
    assert ring.arrays()[0].tolist() == [10.0, 10.0, 10.0, 12.0]
    assert ring.arrays()[1].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_clear_empties_and_bumps_the_version() -> None:
    ring = RingBuffer(4)
    _fill(ring, range(6))
    version = ring.version
    ring.clear()
    assert len(ring) == 0 and ring.version == version + 1
    assert ring.arrays()[0].shape == (0,) and ring.since(0.0)[0].shape == (0,)
    _fill(ring, range(2))
    assert ring.arrays()[0].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("count", [0, 3, 8, 13])
def test_at_or_before_reads_the_newest_sample_not_after_t(count: int) -> None:
    ring = RingBuffer(8)
    _fill(ring, range(count))
    ts, value, quality = ring.arrays()
    for t in (-5.0, 0.0, 4.5, 5.0, 7.0, 12.9, 13.0, 100.0):
        i = int(np.searchsorted(ts, t, side="right")) - 1
        want = None if i < 0 else (float(ts[i]), float(value[i]), int(quality[i]))
        assert ring.at_or_before(t) == want, t
