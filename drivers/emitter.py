"""Handing samples to the engine's ``publish`` callback, shared by the drivers.

``Emitter`` holds the callback a driver was started with; ``emit`` skips empty batches and
batches before start, and logs (never raises) when the callback fails, so a faulty subscriber
cannot stop a scan. ``bad`` publishes points BAD with one reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from drivers.base import PublishFn, Sample
from hmi_app.core.quality import Quality

__all__ = ["Emitter"]

log = logging.getLogger(__name__)


class Emitter:
    """The ``publish`` callback of driver ``name`` (None until the driver starts)."""

    __slots__ = ("name", "publish")

    def __init__(self, name: str) -> None:
        self.name = name
        self.publish: PublishFn | None = None

    def emit(self, samples: Sequence[Sample]) -> None:
        """Publish ``samples`` (if any, and once started); a failing callback is only logged."""
        if samples and self.publish is not None:
            try:
                self.publish(samples)
            except Exception:
                log.exception("%s: publish callback failed", self.name)

    def bad(self, keys: Iterable[str], reason: str, ts: float | None = None) -> None:
        """Publish the points ``keys`` BAD with ``reason`` (at ``ts``, default now)."""
        now = time.time() if ts is None else ts
        self.emit([Sample(key, None, Quality.BAD, now, reason) for key in keys])
