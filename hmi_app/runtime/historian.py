"""The historian: samples of the tags marked for history in one SQLite file, and queries on them.

``Historian`` is the store and its query API (``hmi_app.core.history.HistorySource``): bulk
``insert``, ``raw`` samples of a range and ``buckets`` reduced per bucket in SQL. Writes go to one
writer thread in batches (``historian_db``), reads to a reader thread; nothing blocks the event
loop. The live path that decides what to store (deadband, maximum interval, quality changes) is
the ``Recorder`` (``historian_recorder``); keeping the file within its age and size limits is
``historian_retention``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hmi_app.core.history import BucketSeries, HistoryError, RawSeries
from hmi_app.core.project.history_model import HistorianConfig
from hmi_app.runtime.historian_db import HistoryDb, StoreError, damaged
from hmi_app.runtime.historian_query import check_range, read_buckets, read_raw, tag_id_of
from hmi_app.runtime.historian_write import Row, TagIds, insert_rows

__all__ = ["Historian", "HistorianSettings", "HistoryError", "Row", "StoreError"]

T = TypeVar("T")

MAX_BUCKETS = 100_000


@dataclass(frozen=True, slots=True)
class HistorianSettings:
    """How the historian keeps its file (the project's ``historian:`` section, minus the path)."""

    retention_days: float = 90.0
    max_size_mb: float = 2048.0
    default_deadband: float = 0.0
    default_max_interval: float = 60.0

    @classmethod
    def from_config(cls, config: HistorianConfig) -> HistorianSettings:
        """The settings a project's ``historian:`` section gives."""
        return cls(
            retention_days=config.retention_days,
            max_size_mb=config.max_size_mb,
            default_deadband=config.default_deadband,
            default_max_interval=config.default_max_interval,
        )


class Historian:
    """One history file: bulk inserts on the writer thread, queries on the reader thread."""

    path: Path
    settings: HistorianSettings

    def __init__(self, db: HistoryDb, settings: HistorianSettings, ids: TagIds) -> None:
        """Use ``Historian.open``; this only stores what it prepared."""
        self.path = db.path
        self.settings = settings
        self.db = db
        self._ids = ids
        self._flush_hooks: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    async def open(
        cls, path: Path, settings: HistorianSettings | None = None, *, readonly: bool = False
    ) -> Historian:
        """Open (or create) the history file at ``path``; StoreError naming it if unusable.

        ``readonly``: only queries (a script reading while the app records); the file must exist.
        """
        path = Path(path)
        if readonly and not path.exists():
            raise StoreError(f"no history file {path} (nothing has been recorded yet)")
        db = await HistoryDb.open(path, readonly=readonly)
        ids = TagIds()
        db.on_rollback = ids.load  # a tag added by a rolled-back batch is not in the file
        try:
            await db.read(ids.load)
        except BaseException:
            await db.close()
            raise
        return cls(db, settings or HistorianSettings(), ids)

    @property
    def readonly(self) -> bool:
        """True when opened for queries only."""
        return self.db.readonly

    # ---- writing -----------------------------------------------------------------------
    async def insert(self, rows: Iterable[Row]) -> None:
        """Store ``(tag, ts, value, quality code)`` rows in one transaction; return once committed.

        For imports, tests and benchmarks (the live path is the Recorder). A value of None or
        NaN is stored as no value; a second sample of a tag at the same time replaces the first.
        """
        batch = list(rows)
        if batch:
            await self.write(lambda conn: insert_rows(conn, self._ids, batch))

    def submit(self, rows: Sequence[Row]) -> asyncio.Future[int]:
        """Queue ``rows`` for the writer thread without waiting (the Recorder's batches)."""
        return asyncio.wrap_future(self.db.submit(lambda conn: insert_rows(conn, self._ids, rows)))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer thread in one transaction, a damaged file named in the error."""
        try:
            return await self.db.write(fn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(damaged(self.path, exc)) from exc

    def add_flush_hook(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Have ``flush`` first call ``hook`` (a recorder handing over what it holds)."""
        self._flush_hooks.append(hook)

    def remove_flush_hook(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Forget ``hook`` (a recorder that stopped)."""
        if hook in self._flush_hooks:
            self._flush_hooks.remove(hook)

    async def flush(self) -> None:
        """Return once everything recorded so far is committed."""
        for hook in list(self._flush_hooks):
            await hook()
        if not self.readonly:
            # the writer runs jobs in order: once this one ran, every earlier one has too
            await self.db.write(lambda _conn: None)

    # ---- reading -----------------------------------------------------------------------
    def history_tags(self) -> list[str]:
        """Names of the tags that are recorded, sorted."""
        return self._ids.names()

    async def refresh_tags(self) -> list[str]:
        """``history_tags`` after re-reading the file (another process may be recording)."""
        await self.db.read(self._ids.load)
        return self._ids.names()

    async def raw(self, tag: str, start: float, end: float, limit: int | None = None) -> RawSeries:
        """Samples with ``start <= ts < end``, oldest first (at most ``limit``, the oldest)."""
        check_range(start, end)
        if limit is not None and limit < 0:
            raise HistoryError(f"limit {limit} is negative")

        def query(conn: sqlite3.Connection) -> RawSeries:
            tag_id = tag_id_of(conn, self._ids, tag, self.path)
            return read_raw(conn, tag_id, tag, start, end, limit)

        return await self._read(query)

    async def buckets(self, tag: str, start: float, end: float, count: int) -> BucketSeries:
        """``[start, end)`` cut into ``count`` equal buckets, reduced per bucket."""
        check_range(start, end)
        if not 1 <= count <= MAX_BUCKETS:
            raise HistoryError(f"{count} buckets: ask for 1 to {MAX_BUCKETS}")
        if end <= start:
            raise HistoryError(f"the range {start} .. {end} is empty: nothing to cut in buckets")

        def query(conn: sqlite3.Connection) -> BucketSeries:
            tag_id = tag_id_of(conn, self._ids, tag, self.path)
            return read_buckets(conn, tag_id, tag, start, end, count)

        return await self._read(query)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self.db.read(fn)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(damaged(self.path, exc)) from exc
        except StoreError as exc:
            raise HistoryError(str(exc)) from exc

    async def close(self) -> None:
        """Finish queued writes and close the file (after the recorder has stopped)."""
        await self.db.close()
