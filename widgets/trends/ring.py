"""A preallocated ring buffer of (time, value, quality) samples for a live trend pen.

Appending is O(1) and allocation-free (no ``np.roll`` per sample): three fixed NumPy arrays and a
write index. Reading returns the samples in time order: views when they sit in one piece, copies
when the buffer has wrapped. Times are kept non-decreasing (a sample older than the newest one, a
clock stepped back, is stored at the newest time), so ``since`` can bisect.
"""

from __future__ import annotations

import numpy as np

from hmi_app.core.history import FloatArray, QualityArray


class RingBuffer:
    """The newest ``capacity`` samples of one pen; the oldest is dropped when full."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.version = 0
        self._ts = np.zeros(capacity, dtype=np.float64)
        self._value = np.zeros(capacity, dtype=np.float64)
        self._quality = np.zeros(capacity, dtype=np.uint8)
        self._head = 0  # where the next sample goes
        self._size = 0

    def __len__(self) -> int:
        return self._size

    # ---- writing ---------------------------------------------------------------------------
    def append(self, ts: float, value: float, quality: int) -> None:
        """Add one sample (``value`` NaN when it is not a number)."""
        if self._size:
            newest = self._ts[self._head - 1]
            if ts < newest:
                ts = float(newest)
        i = self._head
        self._ts[i] = ts
        self._value[i] = value
        self._quality[i] = quality
        self._head = (i + 1) % self.capacity
        if self._size < self.capacity:
            self._size += 1
        self.version += 1

    def extend(self, ts: FloatArray, value: FloatArray, quality: QualityArray) -> None:
        """Add samples in time order (a backfill); only the newest ``capacity`` are kept."""
        n = int(ts.shape[0])
        if value.shape[0] != n or quality.shape[0] != n:
            raise ValueError(
                f"ts, value and quality differ in length ({n}, {value.shape[0]}, "
                f"{quality.shape[0]})"
            )
        if n == 0:
            return
        ts = np.asarray(ts, dtype=np.float64)
        if n > self.capacity:
            keep = slice(n - self.capacity, n)
            ts, value, quality = ts[keep], value[keep], quality[keep]
            n = self.capacity
        floor = self._ts[self._head - 1] if self._size else -np.inf
        ts = np.maximum.accumulate(np.maximum(ts, floor))
        first = min(n, self.capacity - self._head)
        head = self._head
        self._ts[head : head + first] = ts[:first]
        self._value[head : head + first] = value[:first]
        self._quality[head : head + first] = quality[:first]
        rest = n - first
        if rest:
            self._ts[:rest] = ts[first:]
            self._value[:rest] = value[first:]
            self._quality[:rest] = quality[first:]
        self._head = (head + n) % self.capacity
        self._size = min(self.capacity, self._size + n)
        self.version += 1

    def clear(self) -> None:
        """Forget every sample (the arrays stay allocated)."""
        self._head = 0
        self._size = 0
        self.version += 1

    # ---- reading ---------------------------------------------------------------------------
    def _start(self) -> int:
        return (self._head - self._size) % self.capacity

    def arrays(self) -> tuple[FloatArray, FloatArray, QualityArray]:
        """All samples, oldest first: read-only views when contiguous, copies when wrapped."""
        return self._slice(0)

    def last(self) -> tuple[float, float, int] | None:
        """The newest sample, or None when empty."""
        if not self._size:
            return None
        i = self._head - 1
        return float(self._ts[i]), float(self._value[i]), int(self._quality[i])

    def first(self) -> tuple[float, float, int] | None:
        """The oldest sample kept, or None when empty."""
        if not self._size:
            return None
        i = self._start()
        return float(self._ts[i]), float(self._value[i]), int(self._quality[i])

    def at_or_before(self, t: float) -> tuple[float, float, int] | None:
        """The newest sample with ``ts <= t`` (what a cursor at ``t`` reads), or None."""
        if not self._size:
            return None
        kept = self._size - self._count_since(np.nextafter(t, np.inf))
        if kept == 0:
            return None
        i = (self._start() + kept - 1) % self.capacity
        return float(self._ts[i]), float(self._value[i]), int(self._quality[i])

    def since(self, t0: float) -> tuple[FloatArray, FloatArray, QualityArray]:
        """The samples with ``ts >= t0``, oldest first (views or copies as ``arrays``)."""
        return self._slice(self._size - self._count_since(t0))

    def _count_since(self, t0: float) -> int:
        """How many samples have ``ts >= t0`` (bisection over the one or two stored runs)."""
        if not self._size:
            return 0
        start = self._start()
        if start + self._size <= self.capacity:
            skip = int(np.searchsorted(self._ts[start : start + self._size], t0, side="left"))
        else:
            older = self._ts[start:]
            skip = int(np.searchsorted(older, t0, side="left"))
            if skip == older.shape[0]:
                skip += int(np.searchsorted(self._ts[: self._head], t0, side="left"))
        return self._size - skip

    def _slice(self, skip: int) -> tuple[FloatArray, FloatArray, QualityArray]:
        """The samples after the oldest ``skip``, in time order."""
        count = self._size - skip
        begin = (self._start() + skip) % self.capacity
        if count <= 0:
            return (
                np.empty(0, dtype=np.float64),
                np.empty(0, dtype=np.float64),
                np.empty(0, dtype=np.uint8),
            )
        if begin + count <= self.capacity:
            parts = (
                self._ts[begin : begin + count],
                self._value[begin : begin + count],
                self._quality[begin : begin + count],
            )
            for part in parts:
                part.flags.writeable = False
            return parts
        tail = count - (self.capacity - begin)
        return (
            np.concatenate((self._ts[begin:], self._ts[:tail])),
            np.concatenate((self._value[begin:], self._value[:tail])),
            np.concatenate((self._quality[begin:], self._quality[:tail])),
        )
