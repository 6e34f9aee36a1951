"""The production service's own rows in the runtime database: counters, bookings, lines.

Functions here run on the database's writer or reader thread (inside ``Database.write`` or
``Database.read``); they take plain values, never the service's objects, so nothing is shared
between threads.

- ``production_counter``: per line and counter the tracker state (baseline, last good time), the
  key epoch and the last booking number. Saved in the same transaction as the booking and its
  outbox record, so after a crash either all three are there or none.
- ``production_booking``: every booked delta with its shift, hour and product, so the figures of
  the current shift survive a restart (kept :data:`KEEP_BOOKINGS_S`).
- ``production_line``: per line the last order and product seen and the shift the figures belong
  to, so an order change or a shift summary missed while the runtime was down is still written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

KEEP_BOOKINGS_S = 62 * 86_400

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS production_counter (
        line TEXT NOT NULL,
        counter TEXT NOT NULL,
        epoch TEXT NOT NULL,
        booking INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (json_valid(state)),
        updated REAL NOT NULL,
        PRIMARY KEY (line, counter)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS production_booking (
        key TEXT PRIMARY KEY,
        line TEXT NOT NULL,
        counter TEXT NOT NULL,
        kind TEXT NOT NULL,
        amount INTEGER NOT NULL,
        at REAL NOT NULL,
        shift_key TEXT NOT NULL,
        hour_index INTEGER NOT NULL,
        product TEXT,
        work_order TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS production_booking_by_shift
        ON production_booking (line, shift_key)""",
    """CREATE TABLE IF NOT EXISTS production_line (
        line TEXT PRIMARY KEY,
        work_order TEXT,
        product TEXT,
        shift_key TEXT,
        shift_name TEXT,
        shift_start REAL,
        shift_end REAL,
        scheduled INTEGER NOT NULL DEFAULT 0
    )""",
)


@dataclass(frozen=True, slots=True)
class SavedCounter:
    """A counter's row: its tracker state (``CounterState.to_dict``), key epoch, last booking."""

    epoch: str
    booking: int
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SavedLine:
    """A line's row: the last order and product, and the shift its figures belonged to."""

    work_order: str | None
    product: str | None
    shift_key: str | None
    shift_name: str | None
    shift_start: float | None
    shift_end: float | None
    scheduled: bool


@dataclass(frozen=True, slots=True)
class BookingRow:
    """One booked delta as kept for the shift figures."""

    key: str
    line: str
    counter: str
    kind: str
    amount: int
    at: float
    shift_key: str
    hour_index: int
    product: str | None
    work_order: str | None


def create_schema(conn: sqlite3.Connection, now: float) -> None:
    """Create the tables (idempotent) and forget bookings older than :data:`KEEP_BOOKINGS_S`."""
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("DELETE FROM production_booking WHERE at < ?", (now - KEEP_BOOKINGS_S,))


def load_counters(conn: sqlite3.Connection) -> dict[tuple[str, str], SavedCounter]:
    """Every saved counter by (line, counter)."""
    rows = conn.execute("SELECT line, counter, epoch, booking, state FROM production_counter")
    return {
        (line, counter): SavedCounter(epoch, int(booking), json.loads(state))
        for line, counter, epoch, booking, state in rows
    }


def load_lines(conn: sqlite3.Connection) -> dict[str, SavedLine]:
    """Every saved line by name."""
    rows = conn.execute(
        "SELECT line, work_order, product, shift_key, shift_name, shift_start, shift_end,"
        " scheduled FROM production_line"
    )
    return {
        line: SavedLine(order, product, key, name, start, end, bool(scheduled))
        for line, order, product, key, name, start, end, scheduled in rows
    }


def shift_bookings(
    conn: sqlite3.Connection, line: str, shift_key: str
) -> list[tuple[str, str | None, int, int]]:
    """(kind, product, hour index, amount) sums of ``line`` in shift ``shift_key``."""
    rows = conn.execute(
        "SELECT kind, product, hour_index, sum(amount) FROM production_booking"
        " WHERE line = ? AND shift_key = ? GROUP BY kind, product, hour_index",
        (line, shift_key),
    ).fetchall()
    return [(str(k), p, int(h), int(a)) for k, p, h, a in rows]


def save_counter(
    conn: sqlite3.Connection,
    line: str,
    counter: str,
    saved: SavedCounter,
    now: float,
) -> None:
    """Insert or replace the row of one counter."""
    conn.execute(
        "INSERT INTO production_counter (line, counter, epoch, booking, state, updated)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (line, counter) DO UPDATE SET"
        " epoch = excluded.epoch, booking = excluded.booking, state = excluded.state,"
        " updated = excluded.updated",
        (line, counter, saved.epoch, saved.booking, json.dumps(saved.state), now),
    )


def save_booking(conn: sqlite3.Connection, row: BookingRow) -> None:
    """Keep one booked delta (its key is the outbox record's)."""
    conn.execute(
        "INSERT INTO production_booking (key, line, counter, kind, amount, at, shift_key,"
        " hour_index, product, work_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.key,
            row.line,
            row.counter,
            row.kind,
            row.amount,
            row.at,
            row.shift_key,
            row.hour_index,
            row.product,
            row.work_order,
        ),
    )


def save_line(conn: sqlite3.Connection, line: str, fields: dict[str, Any]) -> None:
    """Insert the line's row if missing, then set ``fields`` (column -> value)."""
    conn.execute("INSERT INTO production_line (line) VALUES (?) ON CONFLICT DO NOTHING", (line,))
    columns: Sequence[str] = sorted(fields)
    allowed = {
        "work_order",
        "product",
        "shift_key",
        "shift_name",
        "shift_start",
        "shift_end",
        "scheduled",
    }
    unknown = set(columns) - allowed
    if unknown:
        raise ValueError(f"production_line has no columns {sorted(unknown)}")
    if columns:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(
            f"UPDATE production_line SET {assignments} WHERE line = ?",  # columns checked above
            [*(fields[c] for c in columns), line],
        )
