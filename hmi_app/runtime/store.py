"""One SQLite file for the runtime's durable state (counters, outbox), written by one thread.

SQLite blocks, so nothing here runs on the event loop: every write goes to a single writer
thread (writes never overlap, and their order is the order ``write`` was called in), each inside
one ``BEGIN IMMEDIATE ... COMMIT`` transaction that is rolled back if the function raises. Reads
use a second connection on a reader thread; WAL lets them run while a write is in progress.

The file is opened with ``journal_mode=WAL`` and ``synchronous=FULL``, so a committed transaction
survives a power cut or a killed process, and ``foreign_keys=ON``. ``PRAGMA quick_check`` runs at
open: a damaged file is refused with a ``StoreError`` that names it, instead of being written to.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["Database", "StoreError"]

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITER_THREAD = "hmi-db-writer"
READER_THREAD = "hmi-db-reader"
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The database file cannot be used; the message names the file and what is wrong."""


class Database:
    """One SQLite file: WAL, synchronous=FULL, checked at open (quick_check), one writer thread."""

    path: Path

    def __init__(
        self,
        path: Path,
        writer: concurrent.futures.ThreadPoolExecutor,
        reader: concurrent.futures.ThreadPoolExecutor,
        write_conn: sqlite3.Connection,
        read_conn: sqlite3.Connection,
    ) -> None:
        """Use ``Database.open``; this only stores what it prepared."""
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_conn = write_conn
        self._read_conn = read_conn
        self._writer_ident: int | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (or create) the file at ``path``; StoreError if it is damaged or unusable."""
        path = Path(path)
        loop = asyncio.get_running_loop()
        writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=WRITER_THREAD)
        reader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=READER_THREAD)
        write_conn: sqlite3.Connection | None = None
        try:
            write_conn = await loop.run_in_executor(writer, _open_checked, path)
            read_conn = await loop.run_in_executor(reader, _connect, path)
        except BaseException:
            if write_conn is not None:
                await loop.run_in_executor(writer, write_conn.close)
            writer.shutdown(wait=True)
            reader.shutdown(wait=True)
            raise
        db = cls(path, writer, reader, write_conn, read_conn)
        db._loop = loop
        db._writer_ident = await loop.run_in_executor(writer, threading.get_ident)
        log.info("database %s opened (WAL, synchronous=FULL, quick_check ok)", path)
        return db

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the writer thread inside one transaction and return its result.

        ``BEGIN IMMEDIATE`` before, ``COMMIT`` after, ``ROLLBACK`` if ``fn`` raises (the exception
        is passed on). A cancelled caller does not undo a write already handed to the thread.
        """
        self._check_open()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._transaction, fn, loop)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` on the reader thread in one read transaction (a consistent snapshot)."""
        self._check_open()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, read_snapshot, self._read_conn, fn)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the event loop once the current write transaction has committed.

        Only from inside a ``write`` function; dropped if the transaction rolls back. This is how
        the outbox wakes its senders only when the new record is really in the file.
        """
        if threading.get_ident() != self._writer_ident:
            raise RuntimeError("after_commit is only for functions run by Database.write")
        self._after_commit.append(callback)

    async def close(self) -> None:
        """Finish queued writes, close both connections and end both threads."""
        if self._closed:
            return
        self._closed = True
        await close_threads(
            self._reader, self._read_conn.close, self._writer, self._write_conn.close
        )
        log.info("database %s closed", self.path)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"database {self.path} is closed")

    def _transaction(
        self, fn: Callable[[sqlite3.Connection], T], loop: asyncio.AbstractEventLoop
    ) -> T:
        conn = self._write_conn
        self._after_commit.clear()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            self._after_commit.clear()
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            self._after_commit.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop is closed: nobody is left to notify
                break
        return result


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: the module starts no transactions of its own; ours are explicit.
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"database {path} cannot be opened: {exc}") from exc

    def tune() -> None:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")

    return closed_on_error(conn, tune, functools.partial(_damaged, path))


def _open_checked(path: Path) -> sqlite3.Connection:
    conn = _connect(path)

    def check() -> None:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
        if problems:
            raise StoreError(_damaged(path, f"quick_check: {'; '.join(problems[:5])}"))
        require_wal(conn, f"database {path}")

    return closed_on_error(conn, check, functools.partial(_damaged, path))


def require_wal(conn: sqlite3.Connection, what: str) -> None:
    """Switch ``conn``'s file to WAL journaling (readers never block the writer); StoreError
    naming ``what`` when SQLite refuses (a file system without shared memory, a network
    share)."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"{what} cannot use WAL journaling (got {mode})")


def closed_on_error(
    conn: sqlite3.Connection, prepare: Callable[[], object], damaged: Callable[[object], str]
) -> sqlite3.Connection:
    """``conn`` once ``prepare`` has run on it; on any failure it is closed first, and an
    SQLite error becomes StoreError with the ``damaged`` message."""
    try:
        prepare()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(damaged(exc)) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _damaged(path: Path, what: object) -> str:
    return (
        f"database {path} is damaged or not an SQLite file ({what}): restore it from a backup,"
        " or move it aside to start with an empty one"
    )


async def close_threads(
    reader: concurrent.futures.ThreadPoolExecutor,
    close_reader: Callable[[], object],
    writer: concurrent.futures.ThreadPoolExecutor | None = None,
    close_writer: Callable[[], object] | None = None,
) -> None:
    """Close a file's reader connection on its thread, then its writer's once the queued writes
    are done (each connection on the thread that owns it), and end both threads."""
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(reader, close_reader)
        if writer is not None and close_writer is not None:
            await loop.run_in_executor(writer, close_writer)
    finally:
        reader.shutdown(wait=True)
        if writer is not None:
            writer.shutdown(wait=True)


def read_snapshot(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(conn)`` inside one read transaction, so it sees one consistent snapshot (WAL)."""
    conn.execute("BEGIN")
    try:
        return fn(conn)
    finally:
        conn.execute("COMMIT")
