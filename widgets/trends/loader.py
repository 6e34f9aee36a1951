"""Fetching history for a trend view off the GUI thread: one request in flight, stale ones
cancelled.

Per pen the loader first asks for raw samples with a limit of a few per pixel: a range that
holds fewer is drawn exactly as stored. A longer range is asked again as min/max buckets, one
per pixel, computed by the database, so a week costs about what a minute does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from hmi_app.core.history import HistoryError, HistorySource
from widgets.trends.pens import HistoryLayer
from widgets.trends.spec import PenSpec

log = logging.getLogger(__name__)

RAW_PER_PIXEL = 3
"""A range with fewer raw samples than this many per pixel is drawn from raw samples."""
RAW_MIN = 2000

Done = Callable[[list[HistoryLayer]], None]


async def load_pen(
    source: HistorySource,
    pen: PenSpec,
    start: float,
    end: float,
    pixels: int,
    max_gap: float,
    expected: float = 0.0,
) -> HistoryLayer:
    """The history layer of one pen for ``[start, end)`` drawn ``pixels`` wide; ``expected``
    (samples, from the pen's last answer) skips the raw attempt when clearly too many."""
    pixels = max(1, pixels)
    limit = max(RAW_MIN, RAW_PER_PIXEL * pixels)
    try:
        if expected < 2 * limit:
            raw = await source.raw(pen.tag, start, end, limit=limit)
            if len(raw) < limit:
                return HistoryLayer.of_raw(raw, start, end, max_gap)
        series = await source.buckets(pen.tag, start, end, pixels)
        return HistoryLayer.of_buckets(series, start, end, max_gap)
    except HistoryError as exc:
        return HistoryLayer.failed(start, end, f"{pen.tag}: {exc}")
    except Exception as exc:  # the view must survive a broken store; the message is shown
        log.exception("history of %s for the trend failed", pen.tag)
        return HistoryLayer.failed(start, end, f"{pen.tag}: history not available ({exc})")


class HistoryLoader:
    """Loads the history layers of a view's pens; a new request replaces the one in flight."""

    def __init__(
        self,
        source: HistorySource,
        pens: Sequence[PenSpec],
        max_gap: float,
        on_done: Done,
        on_busy: Callable[[bool], None],
    ) -> None:
        self._source = source
        self._pens = tuple(pens)
        self._max_gap = max_gap
        self._on_done = on_done
        self._on_busy = on_busy
        self._task: asyncio.Task[None] | None = None
        self.requested: tuple[float, float, int] | None = None
        self._density = [0.0] * len(self._pens)  # samples per second seen last time, per pen
        self._began = 0.0
        self.last_duration = 0.0
        """Seconds from the last completed request to its answers (before drawing)."""

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self, start: float, end: float, pixels: int) -> None:
        """Fetch every pen for ``[start, end)``; cancels a request still running."""
        self.cancel()
        self.requested = (start, end, pixels)
        self._began = time.perf_counter()
        loop = event_loop()
        self._task = loop.create_task(self._run(start, end, pixels), name="trend history load")
        self._on_busy(True)

    def cancel(self) -> None:
        """Drop the request in flight (its answer will not be used)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            self._on_busy(False)

    async def wait(self) -> None:
        """Until the request in flight (if any) is done (for callers that must know)."""
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task})

    async def _run(self, start: float, end: float, pixels: int) -> None:
        began = self._began
        span = end - start
        layers = await asyncio.gather(
            *(
                load_pen(self._source, p, start, end, pixels, self._max_gap, d * span)
                for p, d in zip(self._pens, self._density, strict=True)
            )
        )
        self._density = [
            _density(layer) or d for layer, d in zip(layers, self._density, strict=True)
        ]
        if asyncio.current_task() is not self._task:
            return
        self._task = None
        self.last_duration = time.perf_counter() - began
        self._on_busy(False)
        self._on_done(list(layers))


def _density(layer: HistoryLayer) -> float:
    """Stored samples per second in a layer (0 when unknown)."""
    span = layer.end - layer.start
    if span <= 0:
        return 0.0
    if layer.buckets is not None:
        return float(layer.buckets.count.sum()) / span
    if layer.raw is not None:
        return len(layer.raw) / span
    return 0.0


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop to run on: the running one, else the one set for this thread (qasync's)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()
