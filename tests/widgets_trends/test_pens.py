"""A pen's data layers: live samples drawn as held steps running on to "now", history before
the live buffer's first sample, and the values a cursor reads from each (brute force compared)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hmi_app.core.history import BucketSeries, RawSeries
from hmi_app.core.quality import Quality, TagValue
from widgets.trends.pens import HOLD_S, HistoryLayer, PenData
from widgets.trends.spec import PenSpec

T0 = 1_700_000_000.0


def _pen() -> PenData:
    return PenData(PenSpec("t"), capacity=100, max_gap=150.0)


def _tv(t: float, v: object, q: Quality = Quality.GOOD) -> TagValue:
    return TagValue(v, q, t, t)


def test_live_samples_hold_their_value_until_the_next_change_and_run_on_to_now() -> None:
    pen = _pen()
    for t, v in ((0.0, 1.0), (0.2, 2.0), (5.0, 3.0), (5.1, True)):
        pen.on_value(_tv(T0 + t, v))
    x, y = pen.line(T0 - 10, T0 + 60, now=T0 + 8)
    # 0.2 -> 5.0 is longer than HOLD_S: the value 2 held until 5.0, then the step to 3
    assert (x - T0).round(3).tolist() == [0.0, 0.2, 5.0, 5.0, 5.1, 8.0]
    assert y.tolist() == [1.0, 2.0, 2.0, 3.0, 1.0, 1.0]
    assert HOLD_S < 4.8
    # outside live mode (now=None) the line ends at the last sample
    x, _ = pen.line(T0 - 10, T0 + 60, now=None)
    assert x[-1] == T0 + 5.1


def test_bad_and_non_numeric_live_values_break_the_line_and_stop_the_tail() -> None:
    pen = _pen()
    pen.on_value(_tv(T0, 1.0))
    pen.on_value(_tv(T0 + 0.1, "jammed"))
    pen.on_value(_tv(T0 + 0.2, 2.0))
    pen.on_value(_tv(T0 + 0.3, 2.5, Quality.BAD))
    x, y = pen.line(T0 - 1, T0 + 10, now=T0 + 2)
    assert x.tolist() == [T0, T0 + 0.1, T0 + 0.2, T0 + 0.3]  # no tail after a bad value
    assert [v if not math.isnan(v) else None for v in y.tolist()] == [1.0, None, 2.0, None]
    assert pen.value_at(T0 + 0.15) == (pytest.approx(math.nan, nan_ok=True), 0)
    assert pen.value_at(T0 + 5) == (2.5, 3)
    assert pen.latest_sample(T0 + 5) == (2.5, 3)


def test_the_sample_before_the_window_makes_the_line_enter_from_the_edge() -> None:
    pen = _pen()
    pen.on_value(_tv(T0, 7.0))
    pen.on_value(_tv(T0 + 100, 8.0))
    x, y = pen.line(T0 + 50, T0 + 150, now=T0 + 120)
    assert x.tolist()[0] == T0 and y.tolist()[0] == 7.0
    assert y.tolist() == [7.0, 7.0, 8.0, 8.0]


def _raw(ts: list[float], values: list[float], qualities: list[int]) -> RawSeries:
    return RawSeries("t", np.array(ts), np.array(values), np.array(qualities, dtype=np.uint8))


def test_history_before_the_cut_live_after_with_a_gap_when_they_do_not_meet() -> None:
    pen = _pen()
    history = _raw([T0, T0 + 30, T0 + 60], [1.0, 2.0, 3.0], [0, 0, 0])
    pen.history = HistoryLayer.of_raw(history, T0 - 10, T0 + 70, 150.0)
    pen.on_value(_tv(T0 + 400, 9.0))  # live starts 340 s after the last stored sample
    x, y = pen.line(T0, T0 + 500, now=T0 + 410)
    assert x.tolist()[:3] == [T0, T0 + 30, T0 + 60] and y.tolist()[:3] == [1.0, 2.0, 3.0]
    assert math.isnan(y[3]) and T0 + 60 < x[3] < T0 + 400  # no data in between: a gap
    assert x.tolist()[4:] == [T0 + 400, T0 + 410] and y.tolist()[4:] == [9.0, 9.0]
    assert pen.value_at(T0 + 45) == (2.0, 0)
    assert pen.value_at(T0 + 300) is None  # 240 s after the last stored sample: no data
    assert pen.value_at(T0 + 405) == (9.0, 0)
    assert pen.covered(T0, T0 + 500) is False  # history ends at +70, live starts at +400
    pen.history = HistoryLayer.of_raw(history, T0 - 10, T0 + 400, 150.0)
    assert pen.covered(T0, T0 + 500) is True


def test_cursor_on_buckets_reads_the_last_sample_of_the_latest_bucket_ended_by_then() -> None:
    count = np.array([2, 0, 3], dtype=np.int64)
    series = BucketSeries(
        tag="t",
        start=T0,
        width=60.0,
        count=count,
        min=np.array([1.0, np.nan, 4.0]),
        max=np.array([2.0, np.nan, 6.0]),
        avg=np.array([1.5, np.nan, 5.0]),
        first=np.array([1.0, np.nan, 4.0]),
        first_ts=np.array([T0 + 5, np.nan, T0 + 125]),
        last=np.array([2.0, np.nan, 6.0]),
        last_ts=np.array([T0 + 50, np.nan, T0 + 170]),
        worst=np.array([0, 3, 1], dtype=np.uint8),
    )
    layer = HistoryLayer.of_buckets(series, T0, T0 + 180, 150.0)
    assert layer.value_at(T0 + 1, 150.0) is None
    assert layer.value_at(T0 + 30, 150.0) == (1.0, 0)  # first sample of the bucket
    assert layer.value_at(T0 + 55, 150.0) == (2.0, 0)
    assert layer.value_at(T0 + 100, 150.0) == (2.0, 0)  # held from the previous bucket
    assert layer.value_at(T0 + 175, 150.0) == (6.0, 1)
    assert layer.value_at(T0 + 121, 60.0) is None  # 71 s after the last sample > max_gap


def test_a_link_drop_marked_on_the_old_value_breaks_the_line_when_it_was_seen() -> None:
    pen = _pen()
    good = _tv(T0, 5.0)
    pen.on_value(good)
    pen.on_value(good.with_quality(Quality.STALE, "comm failure", T0 + 30))
    x, y = pen.line(T0 - 10, T0 + 60, now=T0 + 40)
    # held at 5 until the drop was seen 30 s later (as the historian stores it), then a gap
    assert x.tolist() == [T0, T0 + 30, T0 + 30]
    assert y.tolist()[:2] == [5.0, 5.0] and math.isnan(y[2])
