"""Durable store-and-forward outbox: records wait in SQLite until each target confirmed them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OutboxRecord"]


@dataclass(frozen=True)
class OutboxRecord:
    """One thing to deliver: a count, a shift summary, a downtime event or an order change."""

    key: str  # stable unique key; receivers dedupe on it
    kind: str  # "count" | "shift_summary" | "downtime" | "order_change"
    created: float  # POSIX seconds
    payload: dict[str, Any]  # JSON-serialisable
    seq: int = 0  # set by the outbox: insertion order
