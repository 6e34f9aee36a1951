"""Known history for the trend view tests: what is stored, and what a reader must get back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta

DAY = 86400.0
STEP = 30.0  # one stored sample every 30 s (the historian's max interval would be 60 s)
GOOD, UNCERTAIN, STALE, BAD = (int(q) for q in Quality)


@dataclass(frozen=True)
class Stored:
    """The samples of one tag as written to the historian."""

    tag: str
    ts: np.ndarray
    value: np.ndarray
    quality: np.ndarray

    def rows(self) -> list[tuple[str, float, float | None, int]]:
        return [
            (self.tag, float(t), float(v), int(q))
            for t, v, q in zip(self.ts, self.value, self.quality, strict=True)
        ]

    def between(self, start: float, end: float) -> Stored:
        keep = (self.ts >= start) & (self.ts < end)
        return Stored(self.tag, self.ts[keep], self.value[keep], self.quality[keep])

    def at(self, t: float, max_gap: float) -> tuple[float, int] | None:
        """Brute force: the last sample at or before ``t`` within ``max_gap``."""
        before = np.flatnonzero(self.ts <= t)
        if before.shape[0] == 0 or t - self.ts[before[-1]] > max_gap:
            return None
        i = int(before[-1])
        return float(self.value[i]), int(self.quality[i])


def make_history(end: float) -> list[Stored]:
    """Eight days up to ``end`` for three tags, with bad, stale and uncertain stretches and a
    two-hour hole with no data at all (a recorder that was off)."""
    ts = np.arange(end - 8 * DAY, end, STEP)
    hole = (ts >= end - 30 * 3600) & (ts < end - 28 * 3600)
    ts = ts[~hole]
    flow = 50 + 20 * np.sin(2 * np.pi * ts / (3 * 3600)) + 3 * np.sin(ts / 97.0)
    level = 40 + 30 * np.sin(2 * np.pi * ts / DAY)
    temp = 18 + 4 * np.cos(2 * np.pi * ts / (6 * 3600))
    # a spike that only min/max decimation keeps, three days ago
    flow[np.argmin(np.abs(ts - (end - 3 * DAY)))] = 140.0
    quality = np.full(ts.shape[0], GOOD, dtype=np.uint8)
    quality[(ts >= end - 300) & (ts < end - 240)] = BAD  # a minute of bad data 5 min ago
    quality[(ts >= end - 12 * 3600) & (ts < end - 11 * 3600)] = STALE
    temp_quality = quality.copy()
    temp_quality[(ts >= end - 180) & (ts < end - 120)] = UNCERTAIN
    return [
        Stored("plant.flow", ts, flow, quality),
        Stored("plant.level", ts, level, quality.copy()),
        Stored("plant.temp", ts, temp, temp_quality),
    ]


METAS = [
    TagMeta("plant.flow", DataType.FLOAT32, "m³/h", ".1f"),
    TagMeta("plant.level", DataType.FLOAT32, "%", ".1f"),
    TagMeta("plant.temp", DataType.FLOAT32, "°C", ".2f"),
]
