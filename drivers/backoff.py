"""Reconnect delays with exponential growth and jitter, shared by the drivers' link supervisors.

A supervisor asks ``delay(attempt)`` after each failed or lost connection and resets ``attempt``
once a link has stayed up for ``stable_s``. The jitter keeps many connections to one device (or
many HMIs to one server) from reconnecting in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``first_s`` doubling up to ``max_s``, each randomised by ±``jitter``."""

    first_s: float = 0.5
    max_s: float = 30.0
    jitter: float = 0.2
    stable_s: float = 10.0  # a link that stayed up this long starts the next outage at first_s

    def delay(self, attempt: int) -> float:
        """The wait before reconnect attempt ``attempt`` (0 for the first after a loss)."""
        base: float = min(self.max_s, self.first_s * 2.0 ** min(attempt, 30))
        return base * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
