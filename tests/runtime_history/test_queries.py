"""Historian queries against a brute-force NumPy computation over the same random samples.

Random tags with random gaps, duplicate-free random times and random qualities are stored in a
real SQLite file; ``buckets`` (rollup tier for whole minutes, raw samples at the edges) must
equal the reduction of the raw samples bucket by bucket, empty buckets and range edges included.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmi_app.core.history import BucketSeries, HistoryError
from hmi_app.runtime.historian import Historian
from hmi_app.runtime.historian_query import _RAW_PARTS, _ROLLUP_PARTS, EMPTY_WORST, bucket_edges

T0 = 1_700_000_000.0


def brute_buckets(
    ts: np.ndarray, value: np.ndarray, quality: np.ndarray, start: float, end: float, count: int
) -> dict[str, np.ndarray]:
    """The reference: every bucket reduced from the raw samples in plain NumPy."""
    edges = bucket_edges(start, end, count)
    out: dict[str, np.ndarray] = {
        k: np.full(count, np.nan)
        for k in ("min", "max", "avg", "first", "last", "first_ts", "last_ts")
    }
    out["count"] = np.zeros(count, dtype=np.int64)
    out["worst"] = np.full(count, EMPTY_WORST, dtype=np.int64)
    for i in range(count):
        inside = (ts >= edges[i]) & (ts < edges[i + 1])
        if not inside.any():
            continue
        t, v, q = ts[inside], value[inside], quality[inside]
        order = np.argsort(t)
        t, v, q = t[order], v[order], q[order]
        out["count"][i] = t.size
        out["worst"][i] = q.max()
        good = v[(q == 0) & ~np.isnan(v)]
        if good.size:
            out["min"][i], out["max"][i], out["avg"][i] = good.min(), good.max(), good.mean()
        out["first"][i], out["first_ts"][i] = v[0], t[0]
        out["last"][i], out["last_ts"][i] = v[-1], t[-1]
    return out


def assert_same(series: BucketSeries, ref: dict[str, np.ndarray]) -> None:
    np.testing.assert_array_equal(series.count, ref["count"])
    np.testing.assert_array_equal(series.worst, ref["worst"])
    for key in ("min", "max", "first", "last", "first_ts", "last_ts"):
        np.testing.assert_array_equal(getattr(series, key), ref[key], err_msg=key)
    np.testing.assert_allclose(series.avg, ref["avg"], rtol=1e-9, atol=1e-9, err_msg="avg")


def random_history(rng: np.random.Generator, span: float, n: int) -> tuple[np.ndarray, ...]:
    """Sorted unique times with gaps (a few long holes), values with NaN, random qualities."""
    ts = np.unique(T0 + np.round(rng.random(n) * span, 3))
    holes = rng.random(4) * span
    for hole in holes:
        ts = ts[(ts < T0 + hole) | (ts > T0 + hole + span / 20)]
    ts = np.concatenate([[T0 - 100_000.0], ts])  # one sample long before: the tag is known
    value = rng.normal(50, 20, ts.size)
    value[rng.random(ts.size) < 0.02] = np.nan
    quality = rng.choice([0, 0, 0, 0, 0, 0, 1, 2, 3], ts.size).astype(np.int64)
    return ts, value, quality


async def store(
    path: Path, tag: str, ts: np.ndarray, value: np.ndarray, quality: np.ndarray
) -> Historian:
    historian = await Historian.open(path)
    await historian.insert(
        (tag, t, None if math.isnan(v) else v, q)
        for t, v, q in zip(ts.tolist(), value.tolist(), quality.tolist(), strict=True)
    )
    return historian


async def test_buckets_match_brute_force_on_random_history(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    ts, value, quality = random_history(rng, 6 * 3600, 20_000)
    historian = await store(tmp_path / "h.sqlite", "a.b", ts, value, quality)
    try:
        cases = [
            (T0, T0 + 6 * 3600, 100),  # wide buckets: rollup tier with raw edges
            (T0 - 600.5, T0 + 6 * 3600 + 77.25, 333),  # unaligned, beyond both ends
            (T0 + 120, T0 + 3720, 60),  # minute-aligned edges: whole minutes only
            (T0 + 1000.123, T0 + 1100.7, 50),  # narrow: raw tier only
            (T0 + 500.5, T0 + 1500.5, 40),  # 25 s buckets: 10 s slots and raw edges
            (T0 + 3 * 3600 + 0.25, T0 + 5 * 3600 - 3.5, 47),  # minutes, 10 s slots and raw
            (T0 + 3 * 3600, T0 + 3 * 3600 + 7200, 7),
            (T0 - 7200, T0 - 3600, 10),  # before any sample: all empty
        ]
        for start, end, count in cases:
            series = await historian.buckets("a.b", start, end, count)
            assert series.start == start and math.isclose(series.width, (end - start) / count)
            assert_same(series, brute_buckets(ts, value, quality, start, end, count))
        empty = await historian.buckets("a.b", T0 - 7200, T0 - 3600, 10)
        assert (
            (empty.count == 0).all() and np.isnan(empty.min).all() and np.isnan(empty.first).all()
        )
    finally:
        await historian.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    span=st.floats(60, 20_000),
    n=st.integers(0, 2_000),
    count=st.integers(1, 400),
    lead=st.floats(-3000, 3000),
    length=st.floats(0.001, 25_000),
)
def test_buckets_property(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    span: float,
    n: int,
    count: int,
    lead: float,
    length: float,
) -> None:
    import asyncio

    rng = np.random.default_rng(seed)
    ts, value, quality = random_history(rng, span, n)
    start = T0 + lead
    end = start + length

    async def run() -> None:
        historian = await store(tmp_path_factory.mktemp("h") / "h.sqlite", "t", ts, value, quality)
        try:
            series = await historian.buckets("t", start, end, count)
            assert_same(series, brute_buckets(ts, value, quality, start, end, count))
        finally:
            await historian.close()

    asyncio.run(run())


async def test_raw_with_limit_range_and_quality_round_trip(tmp_path: Path) -> None:
    historian = await Historian.open(tmp_path / "h.sqlite")
    try:
        rows = [("x", T0 + i, float(i) if i % 5 else None, i % 4) for i in range(100)]
        await historian.insert(reversed(rows))  # order of arrival does not matter
        series = await historian.raw("x", T0 + 10, T0 + 20)
        assert series.ts.tolist() == [T0 + i for i in range(10, 20)]
        assert series.quality.tolist() == [i % 4 for i in range(10, 20)]
        assert np.isnan(series.value[0]) and np.isnan(series.value[5])
        assert series.value[1] == 11.0
        limited = await historian.raw("x", T0, T0 + 1000, limit=3)
        assert limited.ts.tolist() == [T0, T0 + 1, T0 + 2]
        assert len(await historian.raw("x", T0 + 1000, T0 + 2000)) == 0
        assert len(await historian.raw("x", T0 + 5, T0 + 5)) == 0  # end is exclusive
        await historian.insert([("x", T0 + 10, 99.0, 0)])  # same time: replaces
        again = await historian.raw("x", T0 + 10, T0 + 11)
        assert again.value.tolist() == [99.0] and again.quality.tolist() == [0]
        bucket = await historian.buckets("x", T0 + 10, T0 + 11, 1)
        assert bucket.count.tolist() == [1] and bucket.max.tolist() == [99.0]
        assert historian.history_tags() == ["x"]
        with pytest.raises(HistoryError, match="'nope' has no history"):
            await historian.raw("nope", T0, T0 + 1)
        with pytest.raises(HistoryError, match="before it starts"):
            await historian.buckets("x", T0 + 5, T0, 10)
        with pytest.raises(HistoryError, match="buckets"):
            await historian.buckets("x", T0, T0 + 5, 0)
    finally:
        await historian.close()


async def test_a_refused_batch_leaves_no_tag_behind(tmp_path: Path) -> None:
    historian = await Historian.open(tmp_path / "h.sqlite")
    try:
        await historian.insert([("kept", T0, 1.0, 0)])
        with pytest.raises(ValueError, match="quality code 7"):
            await historian.insert([("lost", T0, 1.0, 0), ("lost", T0 + 1, 2.0, 7)])
        assert historian.history_tags() == ["kept"]
        await historian.insert([("next", T0, 3.0, 0)])  # gets its own id, not lost's
        assert historian.history_tags() == ["kept", "next"]
        assert (await historian.raw("next", T0, T0 + 1)).value.tolist() == [3.0]
        assert (await historian.raw("kept", T0, T0 + 1)).value.tolist() == [1.0]
        with pytest.raises(HistoryError, match="'lost' has no history"):
            await historian.raw("lost", T0, T0 + 2)
    finally:
        await historian.close()


async def test_bucket_queries_read_index_ranges_on_a_file_with_planner_statistics(
    tmp_path: Path,
) -> None:
    """A file the app has closed carries the statistics ``PRAGMA optimize`` writes; with them
    SQLite once chose to scan every rollup row of the tag against every bucket segment (a day
    in 1,200 buckets took 3.5 s instead of 30 ms). Each part must be one primary-key range."""
    rng = np.random.default_rng(3)
    path = tmp_path / "h.sqlite"
    for tag in ("a.b", "c.d"):
        ts, value, quality = random_history(rng, 4 * 3600, 10_000)
        historian = await store(path, tag, ts, value, quality)
        await historian.close()  # PRAGMA optimize: sqlite_stat1 describes the tables it chose
    # the statistics a week of four tags left in a real file (read off one): what matters is
    # that they exist and say the rollup is big, whatever this small file made optimize write
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("ANALYZE")
        conn.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'rollup'")
        conn.execute("INSERT INTO sqlite_stat1 VALUES ('rollup', 'rollup', '282248 70562 35281 1')")
    historian = await Historian.open(path)
    try:

        def plans(conn: sqlite3.Connection) -> list[str]:
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS seg (id INTEGER PRIMARY KEY, kind INTEGER NOT"
                " NULL, b INTEGER NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL)"
            )
            stats = conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0]
            assert stats > 0, "the closed file should carry planner statistics"
            return [
                " | ".join(str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, (1,)))
                for sql in (_RAW_PARTS, _ROLLUP_PARTS)
            ]

        raw_plan, rollup_plan = await historian.db.read(plans)
        assert raw_plan.startswith("SCAN seg")
        assert "SEARCH s USING PRIMARY KEY (tag_id=? AND ts>? AND ts<?)" in raw_plan
        assert rollup_plan.startswith("SCAN seg")
        assert "SEARCH r USING PRIMARY KEY (tag_id=? AND tier=? AND slot>? AND slot<?)" in (
            rollup_plan
        )
        # and the answers are still the brute-force ones
        start, end = T0 + 17.5, T0 + 4 * 3600 - 3.25
        series = await historian.buckets("c.d", start, end, 120)
        assert_same(series, brute_buckets(ts, value, quality, start, end, 120))
    finally:
        await historian.close()
