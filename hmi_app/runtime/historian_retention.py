"""Keeping the history file within its limits: samples older than ``retention_days`` go, and the
oldest go while the file holds more than ``max_size_mb``.

A purge never blocks the recorder for long: it deletes in chunks of at most ``CHUNK_ROWS``
samples, each chunk its own short transaction on the writer thread, so the recorder's batches
queued meanwhile are written between two chunks (a batch waits at most one chunk; the longest
chunk is reported, and measured by benchmarks/historian.py). Deleted pages go to SQLite's free
list and are reused by later samples: the file does not shrink, and no VACUUM rewrites it
(that would block the writer for minutes on a big file). The size is therefore measured as the
pages in use, ``(page_count - freelist_count) * page_size``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from hmi_app.core.deadlines import cancel_and_wait
from hmi_app.runtime.historian import Historian
from hmi_app.runtime.historian_db import ROLLUP_TIERS
from hmi_app.runtime.historian_write import FINEST, refresh_rollup, slot_of

log = logging.getLogger(__name__)

CHUNK_ROWS = 5_000
PURGE_EVERY_S = 600.0
SIZE_TARGET = 0.95
"""A purge for size stops at this share of ``max_size_mb``, so it does not run for every batch."""
DAY_S = 86_400.0


@dataclass(slots=True)
class PurgeReport:
    """What one purge did."""

    deleted: int = 0
    chunks: int = 0
    longest_chunk_s: float = 0.0
    used_bytes: int = 0


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the file's pages in use (free pages left by purges excluded)."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (pages - free) * size


def delete_chunk(conn: sqlite3.Connection, cutoff: float, budget: int) -> int:
    """Delete up to ``budget`` samples older than ``cutoff``, oldest of each tag first, and
    rebuild the rollup slots they leave; the number deleted (0: nothing left)."""
    deleted = 0
    tag_ids = [int(row[0]) for row in conn.execute("SELECT id FROM tags ORDER BY id")]
    for tag_id in tag_ids:
        if deleted >= budget:
            break
        row = conn.execute(
            "SELECT ts FROM samples WHERE tag_id = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?",
            (tag_id, cutoff, budget - deleted - 1),
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT max(ts) FROM samples WHERE tag_id = ? AND ts < ?", (tag_id, cutoff)
            ).fetchone()
            if row is None or row[0] is None:
                continue
        upto = float(row[0])
        cursor = conn.execute(
            "DELETE FROM samples WHERE tag_id = ? AND ts <= ? AND ts < ?", (tag_id, upto, cutoff)
        )
        deleted += cursor.rowcount
        # every sample of the slots before upto's is gone; upto's slots may keep some
        edge = slot_of(upto, FINEST)
        for width in ROLLUP_TIERS:
            conn.execute(
                "DELETE FROM rollup WHERE tag_id = ? AND tier = ? AND slot < ?",
                (tag_id, width, edge // (width // FINEST)),
            )
        refresh_rollup(conn, [(tag_id, edge)])
    return deleted


def time_span(conn: sqlite3.Connection) -> tuple[float, float] | None:
    """The oldest and newest sample time of the file (None when it holds none)."""
    oldest, newest = math.inf, -math.inf
    for (tag_id,) in conn.execute("SELECT id FROM tags").fetchall():
        first = conn.execute("SELECT min(ts) FROM samples WHERE tag_id = ?", (tag_id,)).fetchone()
        last = conn.execute("SELECT max(ts) FROM samples WHERE tag_id = ?", (tag_id,)).fetchone()
        if first[0] is not None:
            oldest, newest = min(oldest, float(first[0])), max(newest, float(last[0]))
    return None if oldest == math.inf else (oldest, newest)


async def purge(
    historian: Historian, now: float | None = None, *, chunk_rows: int = CHUNK_ROWS
) -> PurgeReport:
    """Delete what is beyond the historian's age and size limits, chunk by chunk."""
    settings = historian.settings
    report = PurgeReport()
    now = time.time() if now is None else now
    await _purge_before(historian, now - settings.retention_days * DAY_S, chunk_rows, report)
    cap = settings.max_size_mb * 1024 * 1024
    report.used_bytes = await historian.write(used_bytes)
    while report.used_bytes > cap:
        span = await historian.write(time_span)
        if span is None:
            break
        oldest, newest = span
        share = min(0.25, max(0.01, (report.used_bytes - cap * SIZE_TARGET) / report.used_bytes))
        cutoff = oldest + max((newest - oldest) * share, 1.0)
        if await _purge_before(historian, min(cutoff, newest), chunk_rows, report) == 0:
            break  # only the newest samples are left: nothing more to give
        report.used_bytes = await historian.write(used_bytes)
    if report.deleted:
        log.info(
            "history purge: %d samples deleted in %d chunks (longest %.1f ms), %.1f MB in use",
            report.deleted,
            report.chunks,
            report.longest_chunk_s * 1000,
            report.used_bytes / 1024 / 1024,
        )
    return report


async def _purge_before(
    historian: Historian, cutoff: float, chunk_rows: int, report: PurgeReport
) -> int:
    total = 0
    while True:

        def chunk(conn: sqlite3.Connection) -> tuple[int, float]:
            began = time.perf_counter()
            count = delete_chunk(conn, cutoff, chunk_rows)
            return count, time.perf_counter() - began

        count, took = await historian.write(chunk)
        report.chunks += 1
        report.longest_chunk_s = max(report.longest_chunk_s, took)
        if count == 0:
            return total
        total += count
        report.deleted += count


class RetentionKeeper:
    """Purges the historian now and every ``every`` seconds while started."""

    def __init__(
        self,
        historian: Historian,
        *,
        every: float = PURGE_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` decides what is old (tests may shift it)."""
        self.historian = historian
        self.every = every
        self.last: PurgeReport | None = None
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start purging in the background."""
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="history-retention")

    async def stop(self) -> None:
        """Stop purging (a chunk already handed to the writer still completes)."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                self.last = await purge(self.historian, self._clock())
            except Exception:
                log.exception("history purge in %s failed", self.historian.path)
            await asyncio.sleep(self.every)
