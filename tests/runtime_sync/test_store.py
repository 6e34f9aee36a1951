"""The runtime's SQLite store: durable settings, refusal of damaged files, one writer thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from hmi_app.runtime.store import WRITER_THREAD, Database, StoreError


async def test_opens_in_wal_with_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "runtime.db")
    try:

        def pragmas(conn: sqlite3.Connection) -> tuple[str, int, int]:
            return (
                conn.execute("PRAGMA journal_mode").fetchone()[0],
                conn.execute("PRAGMA synchronous").fetchone()[0],
                conn.execute("PRAGMA foreign_keys").fetchone()[0],
            )

        assert await db.write(pragmas) == ("wal", 2, 1)  # 2 = FULL
        assert await db.read(pragmas) == ("wal", 2, 1)
    finally:
        await db.close()
    # WAL is a property of the file: a plain connection sees it too
    with sqlite3.connect(tmp_path / "runtime.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "runtime.db"
    path.write_bytes(b"this is not an SQLite file at all " * 200)
    with pytest.raises(StoreError) as err:
        await Database.open(path)
    assert str(path) in str(err.value)
    assert "damaged" in str(err.value)


async def test_refuses_a_file_with_damaged_pages(tmp_path: Path) -> None:
    path = tmp_path / "runtime.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("CREATE INDEX t_text ON t (text)")
        conn.executemany(
            "INSERT INTO t (text) VALUES (?)", [(f"row {i}" * 20,) for i in range(2000)]
        )
    conn.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 10 * 4096
    for page in range(3, len(data) // 4096, 2):  # garble every other page after the schema
        start = page * 4096
        data[start : start + 4096] = bytes((i * 7 + page) % 251 for i in range(4096))
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        await Database.open(path)
    assert str(path) in str(err.value)


async def test_writes_run_on_one_writer_thread_never_the_loop(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "runtime.db")
    try:
        await db.write(lambda c: c.execute("CREATE TABLE log (n INTEGER, thread TEXT)"))
        active = 0
        overlap = False
        lock = threading.Lock()

        def insert(conn: sqlite3.Connection, n: int) -> str:
            nonlocal active, overlap
            with lock:
                active += 1
                overlap = overlap or active > 1
            try:
                name = threading.current_thread().name
                conn.execute("INSERT INTO log VALUES (?, ?)", (n, name))
                return name
            finally:
                with lock:
                    active -= 1

        names = await asyncio.gather(*(db.write(lambda c, n=n: insert(c, n)) for n in range(50)))
        assert {n.rsplit("_", 1)[0] for n in names} == {WRITER_THREAD}
        assert len(set(names)) == 1
        assert threading.current_thread().name not in names
        assert not overlap
        # handed over in call order: the writer keeps the order of the calls
        order = await db.read(
            lambda c: [r[0] for r in c.execute("SELECT n FROM log ORDER BY rowid")]
        )
        assert order == list(range(50))
    finally:
        await db.close()


async def test_a_failing_write_is_rolled_back_whole(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "runtime.db")
    try:
        await db.write(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))

        def half_then_fail(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("the caller changed its mind")

        with pytest.raises(RuntimeError, match="changed its mind"):
            await db.write(half_then_fail)
        assert await db.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 0
        await db.write(lambda c: c.execute("INSERT INTO t VALUES (3)"))
        assert await db.read(lambda c: c.execute("SELECT n FROM t").fetchall()) == [(3,)]
    finally:
        await db.close()


async def test_committed_writes_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "runtime.db"
    db = await Database.open(path)
    await db.write(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    await db.write(lambda c: c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(10)]))
    await db.close()
    db = await Database.open(path)
    try:
        assert await db.read(lambda c: c.execute("SELECT sum(n) FROM t").fetchone()[0]) == 45
    finally:
        await db.close()


async def test_after_commit_runs_on_the_loop_only_for_committed_writes(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "runtime.db")
    try:
        seen: list[str] = []
        loop_thread = threading.current_thread()

        def note(what: str) -> None:
            assert threading.current_thread() is loop_thread
            seen.append(what)

        def committed(conn: sqlite3.Connection) -> None:
            db.after_commit(lambda: note("committed"))

        def rolled_back(conn: sqlite3.Connection) -> None:
            db.after_commit(lambda: note("rolled back"))
            raise ValueError("no")

        await db.write(committed)
        with pytest.raises(ValueError):
            await db.write(rolled_back)
        await asyncio.sleep(0.01)
        assert seen == ["committed"]
        with pytest.raises(RuntimeError):
            db.after_commit(lambda: None)  # not inside a write
    finally:
        await db.close()


async def test_closed_database_refuses_work(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "runtime.db")
    await db.close()
    await db.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        await db.write(lambda c: None)
