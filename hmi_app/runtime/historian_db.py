"""The historian's SQLite file: schema, one writer thread, one reader thread, clear open errors.

Why not ``store.Database`` (the production database): history is written many times a second
and can grow to gigabytes, which changes two choices:

- ``synchronous=NORMAL`` instead of ``FULL``. In WAL mode NORMAL never corrupts the file; a
  power cut may lose the last batches committed before it (at most a second or two of samples),
  and in return a commit does not wait for an fsync, which is what lets one writer thread keep
  well above 100,000 samples/s on an ordinary disk. Counts must survive a power cut; a trend
  missing its last second does not matter.
- no ``PRAGMA quick_check`` at open: it reads the whole file (seconds for a few GB, delaying
  every start). The open reads the header and the schema instead, which is what refuses a file
  that is not a history file; a damaged page met later is reported by the query that met it,
  naming the file.

It can also be opened read-only (``hmi-app history`` while the app runs: WAL lets it read while
the app writes). Writes run on one writer thread in the order they were submitted, each inside
one ``BEGIN IMMEDIATE ... COMMIT``; reads run on a reader thread, each in one snapshot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hmi_app.runtime.store import (
    StoreError,
    close_threads,
    closed_on_error,
    read_snapshot,
    require_wal,
)

__all__ = ["SCHEMA_VERSION", "HistoryDb", "StoreError"]

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITER_THREAD = "hmi-history-writer"
READER_THREAD = "hmi-history-reader"
BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 32 * 1024
SCHEMA_VERSION = 2
ROLLUP_TIERS = (60, 10)
"""Slot widths (s) of the rollup tiers, widest first; each a multiple of the finest, the finest
built from samples, the wider ones from it (see historian_write and historian_query)."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )""",
    # one row per stored sample; value NULL when there was no number (bad quality, NaN)
    """CREATE TABLE IF NOT EXISTS samples (
        tag_id INTEGER NOT NULL,
        ts REAL NOT NULL,
        value REAL,
        quality INTEGER NOT NULL,
        PRIMARY KEY (tag_id, ts)
    ) WITHOUT ROWID""",
    # per tag, tier (slot width, s) and slot: counts, min/max/sum of the good values, worst
    # quality, first/last time; rebuilt by the writer in the transaction that wrote the samples
    """CREATE TABLE IF NOT EXISTS rollup (
        tag_id INTEGER NOT NULL,
        tier INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        n INTEGER NOT NULL,
        n_good INTEGER NOT NULL,
        vmin REAL,
        vmax REAL,
        vsum REAL,
        worst INTEGER NOT NULL,
        first_ts REAL NOT NULL,
        last_ts REAL NOT NULL,
        PRIMARY KEY (tag_id, tier, slot)
    ) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_TABLES = {
    "tags": {"id", "name"},
    "samples": {"tag_id", "ts", "value", "quality"},
    "rollup": {"tag_id", "tier", "slot", "n", "n_good", "vmin", "vmax", "vsum", "worst"},
}


class HistoryDb:
    """One history file: a writer connection on its thread (unless read-only), a reader on its."""

    path: Path
    readonly: bool

    def __init__(
        self,
        path: Path,
        writer: concurrent.futures.ThreadPoolExecutor | None,
        reader: concurrent.futures.ThreadPoolExecutor,
        write_conn: sqlite3.Connection | None,
        read_conn: sqlite3.Connection,
    ) -> None:
        """Use ``HistoryDb.open``; this only stores what it prepared."""
        self.path = path
        self.readonly = write_conn is None
        self._writer = writer
        self._reader = reader
        self._write_conn = write_conn
        self._read_conn = read_conn
        self._closed = False
        self.transactions = 0
        """Write transactions submitted so far (tests check that samples are batched)."""
        self.on_rollback: Callable[[sqlite3.Connection], None] | None = None
        """Called on the writer thread after a transaction was rolled back (to forget what the
        caller cached from it, such as the ids of tags it added)."""

    @classmethod
    async def open(cls, path: Path, *, readonly: bool = False) -> HistoryDb:
        """Open (or, unless ``readonly``, create) the history file; StoreError naming it if not."""
        path = Path(path)
        loop = asyncio.get_running_loop()
        reader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=READER_THREAD)
        writer = (
            None
            if readonly
            else concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=WRITER_THREAD)
        )
        write_conn: sqlite3.Connection | None = None
        try:
            if writer is not None:
                write_conn = await loop.run_in_executor(writer, _open_writer, path)
            read_conn = await loop.run_in_executor(reader, _open_reader, path, readonly)
        except BaseException:
            if write_conn is not None and writer is not None:
                await loop.run_in_executor(writer, write_conn.close)
            if writer is not None:
                writer.shutdown(wait=True)
            reader.shutdown(wait=True)
            raise
        log.info("history %s opened%s", path, " read-only" if readonly else "")
        return cls(path, writer, reader, write_conn, read_conn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the writer thread in one transaction (rolled back if it raises)."""
        return await asyncio.wrap_future(self.submit(fn))

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn`` for the writer thread without waiting (callable from the event loop)."""
        if self._closed:
            raise StoreError(f"history {self.path} is closed")
        if self._writer is None or self._write_conn is None:
            raise StoreError(f"history {self.path} is open read-only")
        self.transactions += 1
        return self._writer.submit(_transaction, self._write_conn, fn, self.on_rollback)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the reader thread in one read transaction (a consistent snapshot)."""
        if self._closed:
            raise StoreError(f"history {self.path} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, read_snapshot, self._read_conn, fn)

    async def close(self) -> None:
        """Finish queued writes, close both connections and end both threads."""
        if self._closed:
            return
        self._closed = True
        conn = self._write_conn
        await close_threads(
            self._reader,
            self._read_conn.close,
            self._writer,
            None if conn is None else functools.partial(_close_writer, conn),
        )
        log.info("history %s closed", self.path)


def damaged(path: Path, what: object) -> str:
    """The message for a history file that cannot be used."""
    return (
        f"history file {path} is damaged or not a history file ({what}): move it aside "
        "(history starts again in a new file) or restore it from a backup"
    )


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: the module starts no transactions of its own; ours are explicit.
    try:
        if readonly:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"history file {path} cannot be opened: {exc}") from exc

    def tune() -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")

    return closed_on_error(conn, tune, functools.partial(damaged, path))


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = _connect(path, readonly=False)

    def prepare() -> None:
        require_wal(conn, f"history file {path}")
        conn.execute("PRAGMA synchronous = NORMAL")
        _check_schema(conn, path, create=True)

    return closed_on_error(conn, prepare, functools.partial(damaged, path))


def _open_reader(path: Path, readonly: bool) -> sqlite3.Connection:
    conn = _connect(path, readonly)
    return closed_on_error(
        conn,
        lambda: _check_schema(conn, path, create=False),
        functools.partial(damaged, path),
    )


def _check_schema(conn: sqlite3.Connection, path: Path, *, create: bool) -> None:
    """Refuse a file that is not a history file (another SQLite file, a newer schema)."""
    tables = {
        str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if create and not tables:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return
    if "meta" not in tables or "samples" not in tables:
        raise StoreError(damaged(path, "no history tables: another application's file?"))
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None and str(row[0]).isdigit() else 0
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"history file {path} has schema version {version}; this version of hmi-app reads "
            f"version {SCHEMA_VERSION}: move the file aside (history starts again in a new file)"
        )
    for table, columns in _TABLES.items():
        if table not in tables:
            raise StoreError(damaged(path, f"no {table} table"))
        have = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
        if not columns <= have:
            raise StoreError(damaged(path, f"table {table} lacks {sorted(columns - have)}"))
    conn.execute("SELECT 1 FROM samples LIMIT 1").fetchall()


def _transaction(
    conn: sqlite3.Connection,
    fn: Callable[[sqlite3.Connection], T],
    on_rollback: Callable[[sqlite3.Connection], None] | None,
) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if on_rollback is not None:
            on_rollback(conn)
        raise
    return result


def _close_writer(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA optimize")
    except sqlite3.Error:  # only a hint for the query planner
        log.debug("PRAGMA optimize failed", exc_info=True)
    conn.close()
