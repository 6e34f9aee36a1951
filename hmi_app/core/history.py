"""What the historian answers, as the trend views and scripts see it (no storage, no Qt here).

The historian in ``hmi_app.runtime`` stores samples of the tags marked for history; trend views
and the ``history`` command read them through ``HistorySource``. Series are column arrays
(NumPy), not lists of objects: a week of one-second samples is 604,800 rows, and a trend draws
arrays.

Times are POSIX seconds (float64). A value that is not a number (bad quality with no value, a
string) is NaN in ``value``; ``quality`` holds ``Quality`` codes (0 good ... 3 bad) as uint8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
QualityArray = npt.NDArray[np.uint8]
CountArray = npt.NDArray[np.int64]


class HistoryError(Exception):
    """A history query cannot be answered (unknown tag, bad range); the message says why."""


@dataclass(frozen=True, slots=True)
class RawSeries:
    """Stored samples of one tag in time order: one row per sample, as written."""

    tag: str
    ts: FloatArray
    value: FloatArray
    quality: QualityArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True, slots=True)
class BucketSeries:
    """One tag's range cut into equal buckets, reduced per bucket (computed by the database).

    Row ``i`` covers ``[start + i * width, start + (i + 1) * width)``. A bucket with no sample
    has ``count == 0`` and NaN in every value column: a gap, drawn as one. ``min``/``max``/
    ``avg`` are over the samples of good quality only (NaN when the bucket has none);
    ``first``/``last`` are the first and last stored values with their times, whatever their
    quality; ``worst`` is the worst quality seen in the bucket (``Quality`` code).
    """

    tag: str
    start: float
    width: float
    count: CountArray
    min: FloatArray
    max: FloatArray
    avg: FloatArray
    first: FloatArray
    first_ts: FloatArray
    last: FloatArray
    last_ts: FloatArray
    worst: QualityArray

    def __len__(self) -> int:
        return int(self.count.shape[0])

    def bucket_starts(self) -> FloatArray:
        """The start time of each bucket."""
        return self.start + self.width * np.arange(len(self), dtype=np.float64)


class HistorySource(Protocol):
    """Read access to stored history; every call runs off the caller's thread (awaitable)."""

    def history_tags(self) -> list[str]:
        """Names of the tags that are recorded, sorted."""
        ...

    async def raw(self, tag: str, start: float, end: float, limit: int | None = None) -> RawSeries:
        """Samples with ``start <= ts < end``, oldest first (at most ``limit``, the oldest)."""
        ...

    async def buckets(self, tag: str, start: float, end: float, count: int) -> BucketSeries:
        """``[start, end)`` cut into ``count`` equal buckets, reduced per bucket."""
        ...
