"""Durable store-and-forward outbox: records wait in SQLite until each target confirmed them.

Every record (count, shift summary, downtime event, order change) is written with a stable unique
key before anything is sent, in the same transaction as the caller's own rows (``add`` inside a
``Database.write``). Each target has a delivery row per record: the target's sender takes pending
rows in insertion order (``next_batch``), deletes them once the receiver confirmed them
(``delivered``; the record goes when no target needs it any more) and counts permanent rejections
(``rejected``), which move the row to quarantine after ``max_tries``. Quarantined rows no longer
hold up later records; they can be retried or exported, and both are logged.

Nothing is ever evicted: above 80 % of ``capacity`` the outbox logs a warning (once per crossing)
and flags it in ``status``, but it keeps accepting records.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hmi_app.runtime.store import Database

__all__ = [
    "CAPACITY_WARN_FRACTION",
    "Outbox",
    "OutboxRecord",
    "OutboxStatus",
    "QuarantinedRecord",
    "iso_utc",
]

log = logging.getLogger(__name__)

CAPACITY_WARN_FRACTION = 0.8

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS outbox_records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        created REAL NOT NULL,
        payload TEXT NOT NULL CHECK (json_valid(payload))
    )""",
    """CREATE TABLE IF NOT EXISTS outbox_delivery (
        target TEXT NOT NULL,
        seq INTEGER NOT NULL REFERENCES outbox_records (seq) ON DELETE CASCADE,
        tries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'quarantined')),
        PRIMARY KEY (target, seq)
    ) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS outbox_delivery_by_state
        ON outbox_delivery (target, state, seq)""",
    "CREATE INDEX IF NOT EXISTS outbox_delivery_by_seq ON outbox_delivery (seq)",
)


@dataclass(frozen=True)
class OutboxRecord:
    """One thing to deliver: a count, a shift summary, a downtime event or an order change."""

    key: str  # stable unique key; receivers dedupe on it
    kind: str  # "count" | "shift_summary" | "downtime" | "order_change"
    created: float  # POSIX seconds
    payload: dict[str, Any]  # JSON-serialisable
    seq: int = 0  # set by the outbox: insertion order


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record a target refused ``tries`` times; it waits for a retry or an export."""

    record: OutboxRecord
    tries: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxStatus:
    """What the sync view shows for one target (plain data, no Qt)."""

    target: str
    depth: int  # records waiting for this target (quarantined ones not included)
    oldest_created: float | None  # POSIX seconds of the oldest waiting record
    quarantined: int
    total: int  # records in the outbox for any target
    capacity: int
    over_capacity_warning: bool  # total above 80 % of capacity (nothing is evicted)
    last_success: float | None = None  # POSIX seconds of the sender's last confirmed batch
    last_error: str | None = None
    last_error_at: float | None = None

    def oldest_age_s(self, now: float | None = None) -> float | None:
        """Seconds the oldest waiting record has waited, or None when nothing waits."""
        if self.oldest_created is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.oldest_created)


@dataclass
class _Health:
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None


@dataclass
class _Capacity:
    total: int = 0
    warned: bool = False
    full_warned: bool = False
    events: dict[str, asyncio.Event] = field(default_factory=dict)


def iso_utc(ts: float) -> str:
    """POSIX seconds as ISO 8601 UTC with milliseconds, e.g. ``2026-11-22T02:07:18.123Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Outbox:
    """The records waiting for delivery, one delivery row per (target, record)."""

    def __init__(self, db: Database, targets: Sequence[str], capacity: int = 1_000_000) -> None:
        """An outbox in ``db`` for ``targets``; tables are created on first use."""
        if capacity <= 0:
            raise ValueError("outbox capacity must be positive")
        if len(set(targets)) != len(targets):
            raise ValueError(f"sync target names must be unique: {list(targets)}")
        self.db = db
        self.targets: tuple[str, ...] = tuple(targets)
        self.capacity = capacity
        self._ready = False
        self._setup_lock = asyncio.Lock()
        self._state = _Capacity()
        self._health: dict[str, _Health] = {t: _Health() for t in self.targets}

    # -- writing -------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Create the tables if needed and count what is queued; idempotent, done on first use."""
        if self._ready:
            return
        async with self._setup_lock:
            if self._ready:
                return
            total = await self.db.write(self._create_schema)
            self._state.total = total
            self._ready = True
            if total:
                log.info("outbox %s: %d records waiting from before", self.db.path, total)
            self._check_capacity()

    def _create_schema(self, conn: sqlite3.Connection) -> int:
        for statement in SCHEMA:
            conn.execute(statement)
        total: int = conn.execute("SELECT count(*) FROM outbox_records").fetchone()[0]
        return total

    def add(self, conn: sqlite3.Connection, record: OutboxRecord) -> bool:
        """Queue ``record`` for every target, inside the caller's ``Database.write`` transaction.

        The caller's own rows (counter baseline, delta) and the record commit together. False if a
        record with this key is already queued (idempotent). A full outbox still accepts.
        """
        if not self._ready:  # before setup() ran: the tables commit with this transaction
            self._create_schema(conn)
        payload = json.dumps(record.payload, separators=(",", ":"), allow_nan=False)
        cur = conn.execute(
            "INSERT INTO outbox_records (key, kind, created, payload) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING",
            (record.key, record.kind, record.created, payload),
        )
        if cur.rowcount != 1:
            return False
        seq = cur.lastrowid
        conn.executemany(
            "INSERT INTO outbox_delivery (target, seq) VALUES (?, ?)",
            [(target, seq) for target in self.targets],
        )
        self.db.after_commit(self._added_one)
        return True

    async def append(self, record: OutboxRecord) -> bool:
        """Queue ``record`` in its own transaction; False if its key is already queued."""
        await self.setup()
        return await self.db.write(lambda conn: self.add(conn, record))

    async def extend(self, records: Iterable[OutboxRecord]) -> int:
        """Queue many records in one transaction; the number that were new."""
        await self.setup()
        batch = list(records)
        return await self.db.write(lambda conn: sum(self.add(conn, r) for r in batch))

    def wakeup(self, target: str) -> asyncio.Event:
        """The event set whenever a record is queued (or retried) for ``target``."""
        self._check_target(target)
        event = self._state.events.get(target)
        if event is None:
            event = self._state.events[target] = asyncio.Event()
        return event

    def notify(self) -> None:
        """Wake every target's sender (new records were committed)."""
        for target in self.targets:
            self.wakeup(target).set()

    def _added_one(self) -> None:
        self._state.total += 1
        self._check_capacity()
        self.notify()

    # -- delivering ----------------------------------------------------------------------------

    async def next_batch(self, target: str, limit: int) -> list[OutboxRecord]:
        """Up to ``limit`` records waiting for ``target``, oldest first, quarantine skipped."""
        self._check_target(target)
        await self.setup()

        def query(conn: sqlite3.Connection) -> list[OutboxRecord]:
            rows = conn.execute(
                "SELECT r.seq, r.key, r.kind, r.created, r.payload FROM outbox_delivery d"
                " JOIN outbox_records r ON r.seq = d.seq"
                " WHERE d.target = ? AND d.state = 'pending' ORDER BY d.seq LIMIT ?",
                (target, limit),
            ).fetchall()
            return [_record(row) for row in rows]

        return await self.db.read(query)

    async def delivered(self, target: str, keys: Sequence[str]) -> int:
        """``target`` confirmed ``keys``: drop their delivery rows; the number dropped.

        A record whose last target confirmed it leaves the outbox.
        """
        self._check_target(target)
        if not keys:
            return 0
        await self.setup()
        keys_json = json.dumps(list(keys))

        def apply(conn: sqlite3.Connection) -> tuple[int, int]:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS confirmed_seq (seq INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM confirmed_seq")
            conn.execute(
                "INSERT INTO confirmed_seq SELECT seq FROM outbox_records"
                " WHERE key IN (SELECT value FROM json_each(?))",
                (keys_json,),
            )
            dropped = conn.execute(
                "DELETE FROM outbox_delivery WHERE target = ? AND seq IN confirmed_seq",
                (target,),
            ).rowcount
            removed = conn.execute(
                "DELETE FROM outbox_records WHERE seq IN confirmed_seq AND NOT EXISTS"
                " (SELECT 1 FROM outbox_delivery d WHERE d.seq = outbox_records.seq)"
            ).rowcount
            return dropped, removed

        dropped, removed = await self.db.write(apply)
        if removed:
            self._state.total = max(0, self._state.total - removed)
            self._check_capacity()
        return dropped

    async def rejected(self, target: str, key: str, reason: str, max_tries: int = 3) -> bool:
        """``target`` refused ``key`` for good; True if it is now quarantined (after ``max_tries``).

        Until then the record stays pending and is offered again with the next batch.
        """
        self._check_target(target)
        await self.setup()

        def apply(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "UPDATE outbox_delivery SET tries = tries + 1, last_error = ?"
                " WHERE target = ? AND state = 'pending'"
                " AND seq = (SELECT seq FROM outbox_records WHERE key = ?) RETURNING tries",
                (reason, target, key),
            ).fetchone()
            if row is None:
                return None
            tries = int(row[0])
            if tries >= max_tries:
                conn.execute(
                    "UPDATE outbox_delivery SET state = 'quarantined' WHERE target = ?"
                    " AND seq = (SELECT seq FROM outbox_records WHERE key = ?)",
                    (target, key),
                )
            return tries

        tries = await self.db.write(apply)
        if tries is None:
            log.warning("outbox: %s rejected %s, which is not waiting for it", target, key)
            return False
        if tries >= max_tries:
            log.error(
                "outbox: %s rejected record %s %d times (%s): quarantined; later records go on",
                target,
                key,
                tries,
                reason,
            )
            return True
        log.warning(
            "outbox: %s rejected record %s (try %d of %d): %s",
            target,
            key,
            tries,
            max_tries,
            reason,
        )
        return False

    # -- quarantine ----------------------------------------------------------------------------

    async def quarantined(self, target: str, limit: int = 1000) -> list[QuarantinedRecord]:
        """The quarantined records of ``target``, oldest first (for the sync view)."""
        self._check_target(target)
        await self.setup()

        def query(conn: sqlite3.Connection) -> list[QuarantinedRecord]:
            return [
                QuarantinedRecord(_record(row[:5]), int(row[5]), row[6])
                for row in _quarantined_rows(conn, target, limit)
            ]

        return await self.db.read(query)

    async def retry_quarantined(self, target: str, keys: Sequence[str] | None = None) -> int:
        """Put quarantined records of ``target`` (all, or ``keys``) back in line; how many."""
        self._check_target(target)
        await self.setup()

        def apply(conn: sqlite3.Connection) -> int:
            sql = (
                "UPDATE outbox_delivery SET state = 'pending', tries = 0"
                " WHERE target = ? AND state = 'quarantined'"
            )
            if keys is None:
                return conn.execute(sql, (target,)).rowcount
            return conn.execute(
                sql + " AND seq IN (SELECT seq FROM outbox_records"
                " WHERE key IN (SELECT value FROM json_each(?)))",
                (target, json.dumps(list(keys))),
            ).rowcount

        count = await self.db.write(apply)
        which = "all" if keys is None else f"{len(keys)} requested"
        log.warning(
            "outbox: %d quarantined records of %s put back in line (%s)", count, target, which
        )
        if count:
            self.wakeup(target).set()
        return count

    async def export_quarantined(self, target: str, path: Path) -> int:
        """Write the quarantined records of ``target`` to ``path``; how many.

        ``.csv`` gives CSV (payload as JSON text in one column), anything else JSON Lines. The file
        is written atomically (a temporary file renamed over ``path``). The records stay in
        quarantine; export does not remove them.
        """
        self._check_target(target)
        await self.setup()
        path = Path(path)

        def export(conn: sqlite3.Connection) -> int:
            rows = _quarantined_rows(conn, target, None)
            _write_atomically(path, rows)
            return len(rows)

        count = await self.db.read(export)
        log.warning("outbox: %d quarantined records of %s exported to %s", count, target, path)
        return count

    # -- status --------------------------------------------------------------------------------

    def report_success(self, target: str, when: float | None = None) -> None:
        """The sender of ``target`` had a batch confirmed (kept in memory for ``status``)."""
        self._health[target].last_success = time.time() if when is None else when

    def report_error(self, target: str, error: str, when: float | None = None) -> None:
        """The sender of ``target`` failed to deliver (kept in memory for ``status``)."""
        health = self._health[target]
        health.last_error = error
        health.last_error_at = time.time() if when is None else when

    @property
    def over_capacity_warning(self) -> bool:
        """True while the outbox holds more than 80 % of its capacity."""
        return self._state.warned

    async def status(self, target: str) -> OutboxStatus:
        """Queue depth, oldest waiting record, quarantine and the sender's last result."""
        self._check_target(target)
        await self.setup()

        def query(conn: sqlite3.Connection) -> tuple[int, float | None, int, int]:
            depth, oldest = conn.execute(
                "SELECT count(*), min(r.created) FROM outbox_delivery d"
                " JOIN outbox_records r ON r.seq = d.seq"
                " WHERE d.target = ? AND d.state = 'pending'",
                (target,),
            ).fetchone()
            quarantined = conn.execute(
                "SELECT count(*) FROM outbox_delivery WHERE target = ? AND state = 'quarantined'",
                (target,),
            ).fetchone()[0]
            total = conn.execute("SELECT count(*) FROM outbox_records").fetchone()[0]
            return int(depth), oldest, int(quarantined), int(total)

        depth, oldest, quarantined, total = await self.db.read(query)
        health = self._health[target]
        return OutboxStatus(
            target=target,
            depth=depth,
            oldest_created=oldest,
            quarantined=quarantined,
            total=total,
            capacity=self.capacity,
            over_capacity_warning=total > CAPACITY_WARN_FRACTION * self.capacity,
            last_success=health.last_success,
            last_error=health.last_error,
            last_error_at=health.last_error_at,
        )

    def _check_capacity(self) -> None:
        state, total = self._state, self._state.total
        if not state.warned and total > CAPACITY_WARN_FRACTION * self.capacity:
            state.warned = True
            log.warning(
                "outbox %s holds %d records, above %d %% of its capacity of %d: the sync targets"
                " are not keeping up. Nothing is evicted (counts are never dropped) and new"
                " records are still accepted, but the file keeps growing",
                self.db.path,
                total,
                round(CAPACITY_WARN_FRACTION * 100),
                self.capacity,
            )
        elif state.warned and total <= CAPACITY_WARN_FRACTION * self.capacity:
            state.warned = False
            log.info(
                "outbox %s back below %d %% of its capacity (%d records)",
                self.db.path,
                round(CAPACITY_WARN_FRACTION * 100),
                total,
            )
        if not state.full_warned and total >= self.capacity:
            state.full_warned = True
            log.warning(
                "outbox %s is at its capacity of %d records; still accepting, nothing is evicted",
                self.db.path,
                self.capacity,
            )
        elif state.full_warned and total < self.capacity:
            state.full_warned = False

    def _check_target(self, target: str) -> None:
        if target not in self._health:
            raise KeyError(f"{target!r} is not a sync target of this outbox")


def _record(row: Sequence[Any]) -> OutboxRecord:
    seq, key, kind, created, payload = row
    return OutboxRecord(key=key, kind=kind, created=created, payload=json.loads(payload), seq=seq)


def _quarantined_rows(
    conn: sqlite3.Connection, target: str, limit: int | None
) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT r.seq, r.key, r.kind, r.created, r.payload, d.tries, d.last_error"
        " FROM outbox_delivery d JOIN outbox_records r ON r.seq = d.seq"
        " WHERE d.target = ? AND d.state = 'quarantined' ORDER BY d.seq LIMIT ?",
        (target, -1 if limit is None else limit),
    ).fetchall()


EXPORT_COLUMNS = ("seq", "key", "kind", "created", "tries", "last_error", "payload")


def _write_atomically(path: Path, rows: Sequence[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            items = [
                {
                    "seq": seq,
                    "key": key,
                    "kind": kind,
                    "created": iso_utc(created),
                    "tries": tries,
                    "last_error": last_error,
                    "payload": json.loads(payload),
                }
                for seq, key, kind, created, payload, tries, last_error in rows
            ]
            if path.suffix.lower() == ".csv":
                writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
                writer.writeheader()
                for item in items:
                    writer.writerow({**item, "payload": json.dumps(item["payload"])})
            else:
                for item in items:
                    out.write(json.dumps(item) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
