"""The outbox: idempotent adds in the caller's transaction, order, quarantine, capacity."""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hmi_app.runtime.outbox import Outbox, OutboxRecord
from hmi_app.runtime.store import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "runtime.db")
    yield database
    await database.close()


def rec(i: int, kind: str = "count") -> OutboxRecord:
    return OutboxRecord(
        key=f"line1/good/{i:06d}", kind=kind, created=1_700_000_000.0 + i, payload={"delta": i}
    )


async def test_add_commits_with_the_callers_rows_and_is_idempotent(db: Database) -> None:
    outbox = Outbox(db, ["erp"])
    await db.write(lambda c: c.execute("CREATE TABLE baseline (counter TEXT PRIMARY KEY, v INT)"))

    def book(conn: sqlite3.Connection, value: int, record: OutboxRecord) -> bool:
        conn.execute("INSERT OR REPLACE INTO baseline VALUES ('good', ?)", (value,))
        return outbox.add(conn, record)

    assert await db.write(lambda c: book(c, 10, rec(1))) is True
    assert await db.write(lambda c: book(c, 11, rec(1))) is False  # same key: not queued again

    def book_then_fail(conn: sqlite3.Connection) -> None:
        book(conn, 99, rec(2))
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await db.write(book_then_fail)
    # neither the baseline nor the record of the failed transaction is there
    assert await db.read(lambda c: c.execute("SELECT v FROM baseline").fetchone()[0]) == 11
    batch = await outbox.next_batch("erp", 10)
    assert [r.key for r in batch] == [rec(1).key]
    assert batch[0].payload == {"delta": 1} and batch[0].seq > 0
    assert await outbox.append(rec(1)) is False


async def test_batches_come_in_insertion_order_per_target(db: Database) -> None:
    outbox = Outbox(db, ["erp", "mes"])
    # keys deliberately not in sorted order: the order is the order of adding
    for i in [5, 3, 9, 1, 7]:
        assert await outbox.append(rec(i))
    assert await outbox.extend([rec(2), rec(5), rec(4)]) == 2
    erp = await outbox.next_batch("erp", 3)
    assert [r.payload["delta"] for r in erp] == [5, 3, 9]
    await outbox.delivered("erp", [r.key for r in erp])
    assert [r.payload["delta"] for r in await outbox.next_batch("erp", 10)] == [1, 7, 2, 4]
    # the other target still has everything: nothing left the outbox
    assert len(await outbox.next_batch("mes", 100)) == 7
    status = await outbox.status("mes")
    assert (status.depth, status.total, status.quarantined) == (7, 7, 0)


async def test_a_record_leaves_only_when_every_target_confirmed_it(db: Database) -> None:
    outbox = Outbox(db, ["erp", "mes"])
    await outbox.extend(rec(i) for i in range(3))
    await outbox.delivered("erp", [rec(0).key, rec(1).key])
    assert (await outbox.status("erp")).total == 3
    await outbox.delivered("mes", [rec(0).key])
    status = await outbox.status("erp")
    assert (status.depth, status.total) == (1, 2)
    assert status.oldest_created == rec(2).created
    # a record gone from the outbox can be queued again under its key (a new occurrence)
    await outbox.delivered("mes", [rec(1).key, rec(2).key])
    await outbox.delivered("erp", [rec(2).key])
    assert (await outbox.status("erp")).total == 0
    assert (await outbox.status("erp")).oldest_created is None


async def test_rejected_records_are_quarantined_after_max_tries_and_later_ones_flow(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(db, ["erp"])
    await outbox.extend(rec(i) for i in range(4))
    bad = rec(1).key
    caplog.set_level(logging.WARNING, "hmi_app.runtime.outbox")
    assert await outbox.rejected("erp", bad, "HTTP 422: no such product") is False
    assert await outbox.rejected("erp", bad, "HTTP 422: no such product") is False
    assert [r.key for r in await outbox.next_batch("erp", 2)] == [rec(0).key, bad]
    assert await outbox.rejected("erp", bad, "HTTP 422: no such product") is True
    assert [r.key for r in await outbox.next_batch("erp", 10)] == [
        rec(0).key,
        rec(2).key,
        rec(3).key,
    ]
    status = await outbox.status("erp")
    assert (status.depth, status.quarantined, status.total) == (3, 1, 4)
    (q,) = await outbox.quarantined("erp")
    assert (q.record.key, q.tries, q.last_error) == (bad, 3, "HTTP 422: no such product")
    assert any("quarantined" in r.message and bad in r.message for r in caplog.records)
    # confirming the others empties the queue but the quarantined record stays
    await outbox.delivered("erp", [rec(i).key for i in (0, 2, 3)])
    status = await outbox.status("erp")
    assert (status.depth, status.quarantined, status.total) == (0, 1, 1)


async def test_quarantine_export_and_retry_are_logged(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(db, ["erp"])
    await outbox.extend(rec(i) for i in range(5))
    for i in (1, 3):
        for _ in range(2):
            await outbox.rejected("erp", rec(i).key, f"HTTP 422: bad {i}", max_tries=2)
    caplog.set_level(logging.INFO, "hmi_app.runtime.outbox")

    jsonl = tmp_path / "export" / "quarantine.jsonl"
    assert await outbox.export_quarantined("erp", jsonl) == 2
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["key"] for line in lines] == [rec(1).key, rec(3).key]
    assert lines[0]["payload"] == {"delta": 1} and lines[0]["tries"] == 2
    assert lines[0]["created"] == "2023-11-14T22:13:21.000Z"
    assert lines[1]["last_error"] == "HTTP 422: bad 3"
    as_csv = tmp_path / "quarantine.csv"
    assert await outbox.export_quarantined("erp", as_csv) == 2
    with as_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [json.loads(r["payload"]) for r in rows] == [{"delta": 1}, {"delta": 3}]
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["quarantine.jsonl"]
    assert (await outbox.status("erp")).quarantined == 2  # export leaves them in quarantine

    assert await outbox.retry_quarantined("erp", [rec(3).key]) == 1
    assert [r.key for r in await outbox.next_batch("erp", 10)] == [
        rec(0).key,
        rec(2).key,
        rec(3).key,
        rec(4).key,
    ]
    assert await outbox.retry_quarantined("erp") == 1
    assert (await outbox.status("erp")).quarantined == 0
    assert len(await outbox.next_batch("erp", 10)) == 5
    messages = [r.getMessage() for r in caplog.records]
    assert sum("exported to" in m for m in messages) == 2
    assert sum("put back in line" in m for m in messages) == 2


async def test_capacity_warning_once_per_crossing_and_nothing_evicted(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(db, ["erp"], capacity=10)
    caplog.set_level(logging.INFO, "hmi_app.runtime.outbox")
    await outbox.extend(rec(i) for i in range(8))
    assert not outbox.over_capacity_warning
    assert not (await outbox.status("erp")).over_capacity_warning
    for i in range(8, 25):  # far past the capacity: still accepted, one at a time
        assert await outbox.append(rec(i)) is True
    status = await outbox.status("erp")
    assert status.over_capacity_warning and outbox.over_capacity_warning
    assert (status.depth, status.total, status.capacity) == (25, 25, 10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    above = [m for m in warnings if "above 80 %" in m]
    assert len(above) == 1 and "evicted" in above[0]
    assert sum("at its capacity" in m for m in warnings) == 1
    # drained below 80 %: the flag clears; crossing again warns again
    await outbox.delivered("erp", [rec(i).key for i in range(20)])
    assert not outbox.over_capacity_warning
    await outbox.extend(rec(i) for i in range(100, 105))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("above 80 %" in m for m in warnings) == 2


async def test_queued_records_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "runtime.db"
    db = await Database.open(path)
    outbox = Outbox(db, ["erp"])
    await outbox.extend(rec(i) for i in range(3))
    await outbox.rejected("erp", rec(0).key, "HTTP 400", max_tries=1)
    await db.close()
    db = await Database.open(path)
    try:
        outbox = Outbox(db, ["erp"])
        status = await outbox.status("erp")
        assert (status.depth, status.quarantined, status.total) == (2, 1, 3)
        assert [r.key for r in await outbox.next_batch("erp", 10)] == [rec(1).key, rec(2).key]
        assert await outbox.append(rec(2)) is False
        assert await outbox.append(rec(3)) is True  # seq keeps growing after the restart
        seqs = [r.seq for r in await outbox.next_batch("erp", 10)]
        assert seqs[:2] == [2, 3] and seqs[2] > 3  # (a refused duplicate may use up a number)
    finally:
        await db.close()


async def test_append_wakes_the_targets(db: Database) -> None:
    outbox = Outbox(db, ["erp", "mes"])
    erp, mes = outbox.wakeup("erp"), outbox.wakeup("mes")
    await outbox.setup()
    assert not erp.is_set()
    await outbox.append(rec(1))
    await outbox.append(rec(1))  # already there: nothing new
    assert erp.is_set() and mes.is_set()
    with pytest.raises(KeyError):
        outbox.wakeup("nobody")
