"""The historian on a real SQLite file: insert rate, bucket queries against decimating in Python,
and how long a purge holds up the writer.

- Insert: 1,000,000 samples of 100 tags (10,000 s of one-second samples each, in time order,
  tags interleaved as a recorder sees them) handed to the writer thread in batches of 10,000
  (what the recorder sends every half second at 20,000 samples/s), timed from the first batch
  handed over to the last one committed (rollup maintenance included).
- A 7-day, 1 s history of one tag (604,800 samples) as 2,000 buckets: the historian's query
  (rollup tier for whole minutes, raw samples at the bucket edges, computed in SQL) against
  fetching the raw rows and reducing them in NumPy, and in plain Python, in the same run. The
  range starts off the minute (as a trend's "now - 7 d" does). Median of several runs.
- 24 h at 2,000 buckets (43.2 s buckets: all from the raw samples).
- Purge: half of the insert file (500,000 samples) purged by age while a recorder-like client
  writes a batch of 500 samples every 50 ms; the longest wait of a batch (handed over ->
  committed) during the purge is the writer stall, next to the longest purge chunk.

    python -m benchmarks.historian [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

from hmi_app.runtime.historian import Historian, HistorianSettings, Row
from hmi_app.runtime.historian_query import read_buckets
from hmi_app.runtime.historian_retention import purge, used_bytes

T0 = 1_700_000_000.0
WEEK = 7 * 86_400
BUCKETS = 2_000


async def timed(fn: Callable[[], Awaitable[object]], runs: int) -> float:
    """Median seconds of ``runs`` calls (after one warm-up call)."""
    await fn()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def insert_rate(path: Path, tags: int, seconds: int, batch: int) -> tuple[float, int]:
    """Samples per second through the writer thread, and the samples written."""
    rows: list[Row] = [
        (f"line{t % 10}.machine{t}.value", T0 + s, math.sin(s / 60 + t), 0)
        for s in range(seconds)
        for t in range(tags)
    ]
    historian = await Historian.open(path)
    try:
        began = time.perf_counter()
        futures = [historian.submit(rows[i : i + batch]) for i in range(0, len(rows), batch)]
        stored = sum(await asyncio.gather(*futures))
        took = time.perf_counter() - began
    finally:
        await historian.close()
    return stored / took, stored


def numpy_buckets(
    ts: np.ndarray, value: np.ndarray, quality: np.ndarray, start: float, end: float, count: int
) -> tuple[np.ndarray, ...]:
    """min/max/avg/first/last per bucket from raw arrays, vectorised."""
    edges = start + (end - start) / count * np.arange(count + 1)
    edges[-1] = end
    index = np.searchsorted(edges, ts, side="right") - 1
    inside = (index >= 0) & (index < count)
    index, ts, value, quality = index[inside], ts[inside], value[inside], quality[inside]
    counts = np.bincount(index, minlength=count)
    good = (quality == 0) & ~np.isnan(value)
    vmin = np.full(count, np.inf)
    vmax = np.full(count, -np.inf)
    np.minimum.at(vmin, index[good], value[good])
    np.maximum.at(vmax, index[good], value[good])
    sums = np.bincount(index[good], weights=value[good], minlength=count)
    n_good = np.bincount(index[good], minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = sums / n_good
    starts = np.searchsorted(index, np.arange(count))
    stops = np.searchsorted(index, np.arange(count), side="right")
    first = np.where(counts > 0, value[np.minimum(starts, len(value) - 1)], np.nan)
    last = np.where(counts > 0, value[np.maximum(stops - 1, 0)], np.nan)
    return counts, vmin, vmax, avg, first, last


def python_buckets(
    rows: Sequence[tuple[float, float | None, int]], start: float, end: float, count: int
) -> list[tuple[int, float, float, float, float | None, float | None]]:
    """The same in plain Python, one row at a time."""
    width = (end - start) / count
    n = [0] * count
    n_good = [0] * count
    vmin = [math.inf] * count
    vmax = [-math.inf] * count
    vsum = [0.0] * count
    first: list[float | None] = [None] * count
    last: list[float | None] = [None] * count
    for ts, value, quality in rows:
        i = int((ts - start) // width)
        if not 0 <= i < count:
            continue
        if not n[i]:
            first[i] = value
        n[i] += 1
        last[i] = value
        if quality == 0 and value is not None:
            vmin[i] = min(vmin[i], value)
            vmax[i] = max(vmax[i], value)
            vsum[i] += value
            n_good[i] += 1
    return [
        (n[i], vmin[i], vmax[i], vsum[i] / n_good[i] if n_good[i] else math.nan, first[i], last[i])
        for i in range(count)
    ]


async def week_queries(path: Path, runs: int) -> list[tuple[str, float, str]]:
    """The 7-day and 24-h bucket queries against the raw fetch and Python decimation."""
    rng = np.random.default_rng(1)
    ts = T0 + np.arange(WEEK, dtype=np.float64)
    value = np.cumsum(rng.normal(0, 0.1, WEEK)) + 50
    quality = np.where(rng.random(WEEK) < 0.002, 3, 0)
    historian = await Historian.open(path)
    results: list[tuple[str, float, str]] = []
    try:
        rows = [
            ("week", t, v, int(q))
            for t, v, q in zip(ts.tolist(), value.tolist(), quality.tolist(), strict=True)
        ]
        began = time.perf_counter()
        await historian.insert(rows)
        took = time.perf_counter() - began
        size = await historian.write(used_bytes) / WEEK
        results.append(
            (
                "bulk import of the week (one transaction)",
                took,
                f"{WEEK / took:,.0f} samples/s; file {size:.1f} bytes per sample, rollup included",
            )
        )
        # queries run on a file as the app leaves it: closed (PRAGMA optimize writes the planner's
        # statistics), then opened again; a query plan that only holds without them shows here
        await historian.close()
        historian = await Historian.open(path)
        start, end = T0 + 23.4, T0 + WEEK  # off the minute, like now - 7 d
        series = await historian.buckets("week", start, end, BUCKETS)
        assert int(series.count.sum()) == WEEK - 24
        sql = await timed(lambda: historian.buckets("week", start, end, BUCKETS), runs)
        results.append(
            ("7 d (604,800 samples) as 2,000 buckets: historian (SQL)", sql, "target < 100 ms")
        )

        whole = math.ceil(T0 / 60) * 60.0  # buckets on whole minutes: the rollup answers alone
        aligned = await timed(lambda: historian.buckets("week", whole, whole + WEEK, 2_016), runs)
        results.append(("7 d as 2,016 buckets of 5 min on whole minutes", aligned, "rollup only"))
        raw_sql = await timed(  # the same SQL on the samples alone (tag id 1: the only tag)
            lambda: historian.db.read(
                lambda conn: read_buckets(conn, 1, "week", start, end, BUCKETS, tiers=())
            ),
            3,
        )
        results.append(("7 d as 2,000 buckets: SQL over raw samples only (no rollup)", raw_sql, ""))

        async def fetch_numpy() -> None:
            raw = await historian.raw("week", start, end)
            counts = numpy_buckets(raw.ts, raw.value, raw.quality, start, end, BUCKETS)[0]
            assert (counts == series.count).all()

        results.append(("7 d: fetch raw rows + NumPy decimation", await timed(fetch_numpy, 3), ""))

        def fetch_rows() -> list[tuple[float, float | None, int]]:
            conn = historian.db._read_conn  # the plain-Python way: rows as SQLite gives them
            return conn.execute(
                "SELECT s.ts, s.value, s.quality FROM samples s JOIN tags t ON t.id = s.tag_id"
                " WHERE t.name = 'week' AND s.ts >= ? AND s.ts < ? ORDER BY s.ts",
                (start, end),
            ).fetchall()

        async def fetch_python() -> None:
            loop = asyncio.get_running_loop()
            raw_rows = await loop.run_in_executor(historian.db._reader, fetch_rows)
            reduced = python_buckets(raw_rows, start, end, BUCKETS)
            assert sum(b[0] for b in reduced) == WEEK - 24

        results.append(("7 d: fetch raw rows + plain Python", await timed(fetch_python, 3), ""))
        day0 = T0 + 3 * 86_400 + 11.1
        day = await timed(lambda: historian.buckets("week", day0, day0 + 86_400, BUCKETS), runs)
        results.append(("24 h (86,400 samples) as 2,000 buckets: historian (SQL)", day, ""))
        hour = await timed(lambda: historian.raw("week", day0, day0 + 3600), runs)
        results.append(("1 h raw samples (3,600)", hour, ""))
    finally:
        await historian.close()
    return results


async def purge_stall(path: Path) -> tuple[float, float, int, float]:
    """Longest batch wait and longest chunk (s), samples purged, purge seconds."""
    historian = await Historian.open(path, HistorianSettings(retention_days=1))
    waits: list[float] = []
    stop = asyncio.Event()

    async def recorder() -> None:
        t = T0 + 1e6
        while not stop.is_set():
            batch = [(f"live.{i}", t, float(i), 0) for i in range(500)]
            t += 1
            began = time.perf_counter()
            await historian.submit(batch)
            waits.append(time.perf_counter() - began)
            await asyncio.sleep(0.05)

    try:
        # the insert file spans 10,000 s; "now" puts the retention cut in its middle
        task = asyncio.get_running_loop().create_task(recorder())
        await asyncio.sleep(0.3)
        began = time.perf_counter()
        report = await purge(historian, now=T0 + 5_000 + 86_400)
        took = time.perf_counter() - began
        stop.set()
        await task
    finally:
        await historian.close()
    return max(waits), report.longest_chunk_s, report.deleted, took


def table(rows: list[tuple[str, str, str]]) -> str:
    """A markdown table."""
    lines = ["| measure | result | note |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


async def run_all(runs: int) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="hmi-historian-bench-") as folder:
        insert_path = Path(folder) / "insert.sqlite"
        rate, stored = await insert_rate(insert_path, tags=100, seconds=10_000, batch=10_000)
        rows.append(
            (
                f"sustained insert, {stored:,} samples of 100 tags, batches of 10,000",
                f"{rate:,.0f} samples/s",
                "target >= 100,000 samples/s",
            )
        )
        for name, seconds, note in await week_queries(Path(folder) / "week.sqlite", runs):
            rows.append((name, f"{seconds * 1000:,.1f} ms", note))
        wait, chunk, deleted, took = await purge_stall(insert_path)
        rows.append(
            (
                f"purge of {deleted:,} samples by age",
                f"{took * 1000:,.0f} ms",
                f"{deleted / took:,.0f} samples/s, in chunks",
            )
        )
        rows.append(("longest purge chunk (writer busy)", f"{chunk * 1000:,.1f} ms", ""))
        rows.append(
            (
                "longest recorder batch wait during the purge",
                f"{wait * 1000:,.1f} ms",
                "batch of 500 samples every 50 ms",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the historian benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="runs per timed query (median)")
    args = parser.parse_args(argv)
    print("Historian on a real SQLite file (WAL, synchronous=NORMAL, one writer thread)")
    print(table(asyncio.run(run_all(args.runs))))


if __name__ == "__main__":
    main()
