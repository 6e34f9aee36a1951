"""History queries on the reader thread: raw samples of a range, and buckets reduced in SQL.

Buckets are exact whatever their edges. A bucket ``[lo, hi)`` is split into the whole minutes
it contains (answered from the 1-minute rollup), then the rest at its two edges into whole
10-second slots (the 10 s rollup), and what is left (under 10 s at each edge) is read from the
samples themselves; the parts are combined per bucket. The rollup rows are rebuilt by the writer
with the samples they cover (historian_write), so every sample is counted exactly once: count,
min, max, worst, first and last equal a brute-force computation over the raw samples; avg is
``sum / count`` of the good values, equal up to floating-point rounding of the sum. A tier is
used for a piece only when it holds at least ``MIN_SLOTS`` whole slots of it.

Buckets whose edges fall on whole minutes are answered from the minute rollup alone (the
fastest: a trend that aligns its range and bucket width to minutes gets it). A week of
one-second samples (604,800 rows) as 2,000 buckets with arbitrary edges reads about 8,000 minute
rows, 20,000 ten-second rows and 20,000 samples (see benchmarks/historian.py).
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from hmi_app.core.history import BucketSeries, FloatArray, HistoryError, RawSeries
from hmi_app.core.quality import Quality
from hmi_app.runtime.historian_db import ROLLUP_TIERS
from hmi_app.runtime.historian_write import TagIds

MIN_SLOTS = 2
RAW = 0
EMPTY_WORST = int(Quality.BAD)
"""``worst`` of a bucket with no sample: nothing in it can be trusted (``count`` is 0)."""

_GOOD = "CASE WHEN s.quality = 0 THEN s.value END"
_RAW_PARTS = f"""
    SELECT seg.b, count(*), count({_GOOD}), min({_GOOD}), max({_GOOD}), sum({_GOOD}),
           max(s.quality), min(s.ts), max(s.ts)
    FROM temp.seg AS seg
    CROSS JOIN samples AS s ON s.tag_id = ? AND s.ts >= seg.lo AND s.ts < seg.hi
    WHERE seg.kind = 0
    GROUP BY seg.id"""
# seg.kind is the tier (slot width in seconds); lo and hi are slot numbers of that tier.
# CROSS JOIN fixes the join order (SQLite's documented hint): the segments outside, one index
# range of the primary key inside each. With the statistics PRAGMA optimize leaves behind, the
# planner otherwise scanned every rollup row of the tag against every segment (3.5 s for a day
# in 1,200 buckets instead of 30 ms).
_ROLLUP_PARTS = """
    SELECT seg.b, sum(r.n), sum(r.n_good), min(r.vmin), max(r.vmax), sum(r.vsum),
           max(r.worst), min(r.first_ts), max(r.last_ts)
    FROM temp.seg AS seg
    CROSS JOIN rollup AS r
        ON r.tag_id = ? AND r.tier = seg.kind AND r.slot >= seg.lo AND r.slot < seg.hi
    WHERE seg.kind > 0
    GROUP BY seg.id"""


def check_range(start: float, end: float) -> None:
    """HistoryError unless ``start <= end`` are finite times."""
    if not (math.isfinite(start) and math.isfinite(end)):
        raise HistoryError(f"the range {start!r} .. {end!r} is not two times")
    if end < start:
        raise HistoryError(f"the range ends ({end}) before it starts ({start})")


def tag_id_of(conn: sqlite3.Connection, ids: TagIds, tag: str, path: object) -> int:
    """The id of ``tag``; HistoryError when the file has no history of it."""
    tag_id = ids.get(tag)
    if tag_id is None:
        ids.load(conn)  # another process (the running app) may have added it since
        tag_id = ids.get(tag)
    if tag_id is None:
        raise HistoryError(f"tag {tag!r} has no history in {path}")
    return tag_id


def read_raw(
    conn: sqlite3.Connection, tag_id: int, tag: str, start: float, end: float, limit: int | None
) -> RawSeries:
    """Samples with ``start <= ts < end``, oldest first, at most ``limit`` (the oldest)."""
    rows = conn.execute(
        "SELECT ts, value, quality FROM samples WHERE tag_id = ? AND ts >= ? AND ts < ?"
        " ORDER BY ts LIMIT ?",
        (tag_id, start, end, -1 if limit is None else limit),
    ).fetchall()
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
    return RawSeries(
        tag=tag,
        ts=np.ascontiguousarray(table[:, 0]),
        value=np.ascontiguousarray(table[:, 1]),  # NULL arrives as None, stored as NaN
        quality=table[:, 2].astype(np.uint8),
    )


def bucket_edges(start: float, end: float, count: int) -> FloatArray:
    """The ``count + 1`` edges of ``[start, end)`` in equal buckets (the last edge is ``end``)."""
    width = (end - start) / count
    edges = start + width * np.arange(count + 1, dtype=np.float64)
    edges[-1] = end
    return edges


def _whole_slots(lo: float, hi: float, width: int) -> tuple[int, int]:
    """Slots ``k`` of ``width`` s with ``lo <= k * width`` and ``(k + 1) * width <= hi``, as
    ``[first, stop)`` (exact as SQL compares, whatever ``lo / width`` rounds to)."""
    step = float(width)
    first = math.ceil(lo / step)
    if (first - 1) * step >= lo:
        first -= 1
    elif first * step < lo:
        first += 1
    stop = math.floor(hi / step)
    if stop * step > hi:
        stop -= 1
    elif (stop + 1) * step <= hi:
        stop += 1
    return first, stop


def _split(
    bucket: int,
    lo: float,
    hi: float,
    tiers: tuple[int, ...],
    out: list[tuple[int, int, float, float]],
) -> None:
    """Append the parts of ``[lo, hi)``: whole slots of the widest tier that fits, the edges
    split again with the finer tiers, samples for what no tier covers."""
    if not tiers:
        out.append((RAW, bucket, lo, hi))
        return
    width, finer = tiers[0], tiers[1:]
    first, stop = _whole_slots(lo, hi, width)
    if stop - first < MIN_SLOTS:
        _split(bucket, lo, hi, finer, out)
        return
    if lo < first * float(width):
        _split(bucket, lo, first * float(width), finer, out)
    out.append((width, bucket, float(first), float(stop)))
    if stop * float(width) < hi:
        _split(bucket, stop * float(width), hi, finer, out)


def plan_segments(
    edges: FloatArray, tiers: tuple[int, ...] = ROLLUP_TIERS
) -> list[tuple[int, int, float, float]]:
    """Per bucket, its parts as (kind, bucket, lo, hi): kind 0 samples with ``lo <= ts < hi``,
    kind W the W-second rollup slots ``lo <= slot < hi``."""
    segments: list[tuple[int, int, float, float]] = []
    bounds = edges.tolist()
    for i in range(len(bounds) - 1):
        if bounds[i] < bounds[i + 1]:
            _split(i, bounds[i], bounds[i + 1], tiers, segments)
    return segments


def read_buckets(
    conn: sqlite3.Connection,
    tag_id: int,
    tag: str,
    start: float,
    end: float,
    count: int,
    tiers: tuple[int, ...] = ROLLUP_TIERS,
) -> BucketSeries:
    """``[start, end)`` in ``count`` buckets (see the module docstring); ``tiers``: the rollup
    tiers to use (none: every part from the samples, as the benchmark compares)."""
    edges = bucket_edges(start, end, count)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS seg (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
        " b INTEGER NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL)"
    )
    conn.execute("DELETE FROM temp.seg")
    conn.executemany(
        "INSERT INTO temp.seg (kind, b, lo, hi) VALUES (?, ?, ?, ?)", plan_segments(edges, tiers)
    )
    parts = conn.execute(_RAW_PARTS, (tag_id,)).fetchall()
    parts += conn.execute(_ROLLUP_PARTS, (tag_id,)).fetchall()
    conn.execute("DELETE FROM temp.seg")

    n = np.zeros(count, dtype=np.int64)
    n_good = np.zeros(count, dtype=np.int64)
    vmin = np.full(count, np.nan)
    vmax = np.full(count, np.nan)
    vsum = np.zeros(count)
    worst = np.zeros(count, dtype=np.int64)
    first_ts = np.full(count, np.inf)
    last_ts = np.full(count, -np.inf)
    if parts:
        table = np.array(parts, dtype=np.float64)
        b = table[:, 0].astype(np.int64)
        np.add.at(n, b, table[:, 1].astype(np.int64))
        np.add.at(n_good, b, table[:, 2].astype(np.int64))
        np.fmin.at(vmin, b, table[:, 3])  # NaN (no good value in that part) is skipped
        np.fmax.at(vmax, b, table[:, 4])
        np.add.at(vsum, b, np.nan_to_num(table[:, 5]))
        np.maximum.at(worst, b, table[:, 6].astype(np.int64))
        np.minimum.at(first_ts, b, table[:, 7])
        np.maximum.at(last_ts, b, table[:, 8])
    empty = n == 0
    worst[empty] = EMPTY_WORST
    first_ts[empty] = np.nan
    last_ts[empty] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(n_good > 0, vsum / np.maximum(n_good, 1), np.nan)
    first, last = _values_at(conn, tag_id, first_ts, last_ts)
    return BucketSeries(
        tag=tag,
        start=float(start),
        width=(end - start) / count,
        count=n,
        min=vmin,
        max=vmax,
        avg=avg,
        first=first,
        first_ts=first_ts,
        last=last,
        last_ts=last_ts,
        worst=worst.astype(np.uint8),
    )


def _values_at(
    conn: sqlite3.Connection, tag_id: int, first_ts: FloatArray, last_ts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The stored values at the given times of one tag (NaN where the time is NaN)."""
    count = first_ts.shape[0]
    wanted = np.flatnonzero(~np.isnan(first_ts))
    keys = [(int(i), float(first_ts[i])) for i in wanted]
    keys += [(int(i) + count, float(last_ts[i])) for i in wanted]
    values = np.full(2 * count, np.nan)
    if keys:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS at_ts (i INTEGER PRIMARY KEY, ts REAL NOT NULL)"
        )
        conn.execute("DELETE FROM temp.at_ts")
        conn.executemany("INSERT INTO temp.at_ts VALUES (?, ?)", keys)
        rows = conn.execute(
            "SELECT k.i, s.value FROM temp.at_ts AS k"
            " JOIN samples AS s ON s.tag_id = ? AND s.ts = k.ts",
            (tag_id,),
        ).fetchall()
        conn.execute("DELETE FROM temp.at_ts")
        if rows:
            found = np.array(rows, dtype=np.float64)
            values[found[:, 0].astype(np.int64)] = found[:, 1]
    return values[:count], values[count:]
