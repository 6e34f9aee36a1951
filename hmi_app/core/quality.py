"""Quality and the value record that every tag value travels in."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class Quality(enum.IntEnum):
    """How far a value can be trusted; higher is worse, so ``max()`` combines qualities."""

    GOOD = 0
    UNCERTAIN = 1
    STALE = 2
    BAD = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Reason:
    """Standard reason prefixes carried with a non-good quality (free text may follow a colon)."""

    COMM_FAILURE = "comm failure"
    DEVICE_EXCEPTION = "device exception"
    CONFIG_ERROR = "config error"
    TIMEOUT = "timeout"
    NOT_CONNECTED = "not connected"
    WAITING = "waiting for first value"
    NO_UPDATE = "no update"
    DECODE_ERROR = "decode error"


class TagValue(NamedTuple):
    """One value of one tag: what it is, how good it is, and when it was measured and received.

    ``source_ts`` is when the device (or the driver, when the device gives no time) produced the
    value; ``recv_ts`` is when the runtime received it. Both are POSIX seconds. A named tuple:
    immutable, so one instance is shared by every listener, and cheap to create in the hot path.
    """

    value: Any
    quality: Quality
    source_ts: float
    recv_ts: float
    reason: str = ""

    @property
    def is_good(self) -> bool:
        return self.quality is Quality.GOOD

    def with_quality(self, quality: Quality, reason: str, ts: float) -> TagValue:
        """The same value, marked with another quality (used when a link drops: last value kept)."""
        return TagValue(self.value, quality, self.source_ts, ts, reason)
