"""Retention on real history files: purge by age and by size, in chunks, the rollup kept exact."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path

import numpy as np

from hmi_app.runtime.historian import Historian, HistorianSettings
from hmi_app.runtime.historian_retention import RetentionKeeper, purge, used_bytes

T0 = 1_700_000_000.0
DAY = 86_400.0


def page_count(conn: sqlite3.Connection) -> int:
    """Pages of the file, free ones included (what it takes on disk once checkpointed)."""
    return int(conn.execute("PRAGMA page_count").fetchone()[0])


async def test_purge_by_age_in_chunks_keeps_buckets_exact(tmp_path: Path) -> None:
    settings = HistorianSettings(retention_days=3)
    historian = await Historian.open(tmp_path / "h.sqlite", settings)
    try:
        ts = T0 + np.arange(0, 10 * DAY, 60.0)  # ten days, a sample a minute, two tags
        await historian.insert(("a", t, t % 977, 0) for t in ts.tolist())
        await historian.insert(("b", t + 7.5, -t % 13, int(t) % 4) for t in ts.tolist())
        now = T0 + 10 * DAY
        report = await purge(historian, now, chunk_rows=1_000)
        cutoff = now - 3 * DAY
        assert report.chunks > 10 and report.longest_chunk_s > 0
        a = await historian.raw("a", 0, now + 1)
        b = await historian.raw("b", 0, now + 1)
        assert a.ts[0] >= cutoff and a.ts.tolist() == ts[ts >= cutoff].tolist()
        assert b.ts[0] >= cutoff and b.ts[-1] == ts[-1] + 7.5
        assert report.deleted == int((ts < cutoff).sum() + (ts + 7.5 < cutoff).sum())
        # the rollup followed: buckets over the whole span count only what is left
        buckets = await historian.buckets("a", T0, now, 10)
        assert buckets.count.tolist() == [0] * 7 + [1440] * 3
        assert buckets.max[-1] == np.max(a.value[a.ts >= T0 + 9 * DAY])
        half = await historian.buckets("a", cutoff - 1800, cutoff + 1800, 2)
        assert half.count.tolist() == [0, 30]
        again = await purge(historian, now, chunk_rows=1_000)
        assert again.deleted == 0
    finally:
        await historian.close()


async def test_purge_by_size_frees_pages_that_are_reused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    settings = HistorianSettings(retention_days=10_000, max_size_mb=1.0)
    historian = await Historian.open(path, settings)
    try:
        n = 150_000
        ts = T0 + np.arange(n, dtype=np.float64)
        await historian.insert(("x", t, math.sin(t), 0) for t in ts.tolist())
        before = await historian.write(used_bytes)
        assert before > 2 * 1024 * 1024
        report = await purge(historian, T0 + n)
        assert report.used_bytes <= 1024 * 1024 and report.deleted > n / 2
        left = await historian.raw("x", 0, T0 + n)
        assert left.ts[-1] == ts[-1]  # the newest are kept, the oldest went
        assert left.ts.tolist() == ts[n - len(left) :].tolist()
        # free pages are reused: the file does not grow while new samples replace purged ones
        pages = await historian.write(page_count)
        more = T0 + n + np.arange(len(left) // 2, dtype=np.float64)
        await historian.insert(("x", t, 1.0, 0) for t in more.tolist())
        await purge(historian, T0 + 2 * n)
        assert await historian.write(page_count) <= pages * 1.05
    finally:
        await historian.close()


async def test_keeper_purges_at_start(tmp_path: Path) -> None:
    historian = await Historian.open(tmp_path / "h.sqlite", HistorianSettings(retention_days=1))
    keeper = RetentionKeeper(historian, every=3600, clock=lambda: T0 + 2 * DAY)
    try:
        await historian.insert([("a", T0, 1.0, 0), ("a", T0 + 1.5 * DAY, 2.0, 0)])
        keeper.start()
        for _ in range(100):
            if keeper.last is not None:
                break
            await asyncio.sleep(0.02)
        assert keeper.last is not None and keeper.last.deleted == 1
        assert (await historian.raw("a", 0, T0 + 3 * DAY)).value.tolist() == [2.0]
    finally:
        await keeper.stop()
        await historian.close()


async def test_writes_go_between_purge_chunks(tmp_path: Path) -> None:
    """A batch handed over during a long purge is committed long before the purge ends."""
    historian = await Historian.open(tmp_path / "h.sqlite", HistorianSettings(retention_days=1))
    try:
        ts = T0 + np.arange(100_000, dtype=np.float64)
        await historian.insert(("old", t, 1.0, 0) for t in ts.tolist())
        purging = asyncio.get_running_loop().create_task(
            purge(historian, T0 + 200_000 + DAY, chunk_rows=500)
        )
        await asyncio.sleep(0.02)
        assert not purging.done()
        await historian.insert([("live", T0 + 300_000, 5.0, 0)])
        assert not purging.done()  # the batch did not wait for the whole purge
        report = await purging
        assert report.deleted == 100_000 and report.chunks > 100
        assert (await historian.raw("live", 0, T0 + 400_000)).value.tolist() == [5.0]
    finally:
        await historian.close()
