"""The runtime side of the crash test: fill an outbox once, then drain it to a REST receiver.

Run as ``python -m tests.runtime_sync.drain_process DB URL``; the test kills it with SIGKILL at
random moments and starts it again. The fill is idempotent across kills: each chunk of records
and the fill mark commit in one transaction (as a counter's baseline commits with its record),
so a restart continues where the last committed chunk ended and never re-adds delivered records.
Prints ``ready`` once the database is open, ``draining`` once filled and ``done`` when empty.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from drivers.backoff import Backoff
from hmi_app.runtime.outbox import Outbox, OutboxRecord
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.store import Database
from hmi_app.runtime.sync import Sender

TARGET = "receiver"
CHUNK = 500


def record(i: int) -> OutboxRecord:
    """The ``i``-th record of the drain (its key is stable across restarts)."""
    return OutboxRecord(
        key=f"crash/{i:05d}", kind="count", created=1_763_776_000.0 + i, payload={"n": i}
    )


def _fill_chunk(conn: sqlite3.Connection, outbox: Outbox, count: int) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS drain_fill (id INTEGER PRIMARY KEY, filled INTEGER)")
    row = conn.execute("SELECT filled FROM drain_fill WHERE id = 1").fetchone()
    start = 0 if row is None else int(row[0])
    end = min(count, start + CHUNK)
    for i in range(start, end):
        outbox.add(conn, record(i))
    conn.execute("INSERT OR REPLACE INTO drain_fill (id, filled) VALUES (1, ?)", (end,))
    return end


async def main(db_path: Path, url: str, count: int, batch_size: int) -> int:
    """Fill (once), drain, and return 0 when the outbox is empty."""
    db = await Database.open(db_path)
    try:
        outbox = Outbox(db, [TARGET])
        await outbox.setup()
        print("ready", flush=True)
        filled = 0
        while filled < count:
            filled = await db.write(lambda conn: _fill_chunk(conn, outbox, count))
        print("draining", flush=True)
        sink = RestSink(TARGET, url, timeout_s=5.0)
        sender = Sender(outbox, TARGET, sink, batch_size, backoff=Backoff(first_s=0.05, max_s=0.5))
        sender.start()
        try:
            while True:
                await sender.wait_idle(1.0)
                status = await outbox.status(TARGET)
                if status.total == 0:
                    break
        finally:
            await sender.stop()
            await sink.close()
        print("done", flush=True)
        return 0
    finally:
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path)
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.db, args.url, args.count, args.batch)))
