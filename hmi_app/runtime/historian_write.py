"""What the history writer thread does with a batch: tag ids, samples, and the rollup tiers.

Everything here runs on the writer thread inside one transaction (``HistoryDb.write``). The
rollup slots a batch touched (10 s and 1 min, ``ROLLUP_TIERS``) are rebuilt in the same
transaction, so the rollup is never out of step with the samples: a reader sees both or neither.
Rebuilding from the stored rows (rather than adding the batch to them) keeps the rollup exact
whatever arrives: samples out of order, a sample replacing one at the same time, a purge.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterable

from hmi_app.runtime.historian_db import ROLLUP_TIERS

Row = tuple[str, float, float | None, int]
"""(tag, ts, value, quality code) as handed to ``Historian.insert``."""

QUALITY_MAX = 3
FINEST = ROLLUP_TIERS[-1]
WIDER = ROLLUP_TIERS[:-1]
assert all(width % FINEST == 0 for width in WIDER), "each tier a multiple of the finest"


class TagIds:
    """Tag name <-> id of one history file; the writer adds names, readers look them up."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def load(self, conn: sqlite3.Connection) -> None:
        """Read every tag of the file (at open, and before a read-only query)."""
        ids = {str(name): int(tag_id) for tag_id, name in conn.execute("SELECT id, name FROM tags")}
        with self._lock:
            self._ids = ids

    def get(self, name: str) -> int | None:
        """The id of ``name``, None if it was never recorded."""
        return self._ids.get(name)

    def names(self) -> list[str]:
        """Every recorded tag, sorted."""
        with self._lock:
            return sorted(self._ids)

    def ensure(self, conn: sqlite3.Connection, name: str) -> int:
        """The id of ``name``, added to the file if new (writer thread only)."""
        tag_id = self._ids.get(name)
        if tag_id is not None:
            return tag_id
        conn.execute("INSERT OR IGNORE INTO tags(name) VALUES (?)", (name,))
        row = conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
        tag_id = int(row[0])
        with self._lock:
            self._ids = {**self._ids, name: tag_id}
        return tag_id


def slot_of(ts: float, width: int) -> int:
    """The slot of ``ts`` in a tier of ``width`` seconds: ``k * width <= ts < (k + 1) * width``
    exactly, as SQL compares (``ts / width`` may round across a slot edge)."""
    slot = math.floor(ts / width)
    if slot * float(width) > ts:
        slot -= 1
    elif (slot + 1) * float(width) <= ts:
        slot += 1
    return slot


def insert_rows(conn: sqlite3.Connection, ids: TagIds, rows: Iterable[Row]) -> int:
    """Store ``rows`` (a later sample of a tag at the same time replaces the earlier one) and
    rebuild the rollup slots they fall in; the number of rows stored."""
    data: list[tuple[int, float, float | None, int]] = []
    touched: set[tuple[int, int]] = set()
    last_tag: str | None = None
    tag_id = 0
    for tag, ts, value, quality in rows:
        if tag != last_tag:
            tag_id = ids.ensure(conn, tag)
            last_tag = tag
        ts = float(ts)
        if not math.isfinite(ts):
            raise ValueError(f"sample of {tag} has no valid time ({ts!r})")
        number: float | None = None
        if value is not None:
            number = float(value)
            if math.isnan(number):
                number = None
        code = int(quality)
        if not 0 <= code <= QUALITY_MAX:
            raise ValueError(f"sample of {tag} has quality code {code} (0 good .. 3 bad)")
        data.append((tag_id, ts, number, code))
        touched.add((tag_id, slot_of(ts, FINEST)))
    if not data:
        return 0
    conn.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?, ?, ?)", data)
    refresh_rollup(conn, touched)
    return len(data)


def refresh_rollup(conn: sqlite3.Connection, slots: Iterable[tuple[int, int]]) -> None:
    """Rebuild the rollup of ``slots`` ((tag id, slot of the finest tier) pairs): the finest
    tier from the samples, each wider tier from the finest tier's rows it covers."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS touched (tag_id INTEGER NOT NULL, tier INTEGER NOT NULL,"
        " slot INTEGER NOT NULL, PRIMARY KEY (tag_id, tier, slot)) WITHOUT ROWID"
    )
    conn.execute("DELETE FROM temp.touched")
    fine = sorted(set(slots))
    keys = [(tag_id, FINEST, slot) for tag_id, slot in fine]
    for width in WIDER:
        factor = width // FINEST
        keys += sorted({(tag_id, width, slot // factor) for tag_id, slot in fine})
    conn.executemany("INSERT OR IGNORE INTO temp.touched VALUES (?, ?, ?)", keys)
    conn.execute(
        "DELETE FROM rollup WHERE (tag_id, tier, slot) IN"
        " (SELECT tag_id, tier, slot FROM temp.touched)"
    )
    # the outer loop walks temp.touched in key order, so GROUP BY needs no sorter
    conn.execute(
        f"""INSERT INTO rollup
        SELECT t.tag_id, t.tier, t.slot, count(*),
               count(CASE WHEN s.quality = 0 THEN s.value END),
               min(CASE WHEN s.quality = 0 THEN s.value END),
               max(CASE WHEN s.quality = 0 THEN s.value END),
               sum(CASE WHEN s.quality = 0 THEN s.value END),
               max(s.quality), min(s.ts), max(s.ts)
        FROM temp.touched AS t
        JOIN samples AS s ON s.tag_id = t.tag_id
             AND s.ts >= t.slot * {FINEST} AND s.ts < (t.slot + 1) * {FINEST}
        WHERE t.tier = {FINEST}
        GROUP BY t.tag_id, t.tier, t.slot"""
    )
    for width in WIDER:
        factor = width // FINEST
        conn.execute(
            f"""INSERT INTO rollup
            SELECT t.tag_id, t.tier, t.slot, sum(r.n), sum(r.n_good), min(r.vmin), max(r.vmax),
                   sum(r.vsum), max(r.worst), min(r.first_ts), max(r.last_ts)
            FROM temp.touched AS t
            JOIN rollup AS r ON r.tag_id = t.tag_id AND r.tier = {FINEST}
                 AND r.slot >= t.slot * {factor} AND r.slot < (t.slot + 1) * {factor}
            WHERE t.tier = {width}
            GROUP BY t.tag_id, t.tier, t.slot"""
        )
    conn.execute("DELETE FROM temp.touched")
