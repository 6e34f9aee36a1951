"""Fixed-period pacing of a scan loop, shared by the drivers' scan and poll tasks.

A ``Pacer`` keeps the deadline of the next pass: each pass moves it on by one period (so passes
do not drift), and a pass that overran skips the polls that fell due meanwhile instead of
running them back to back. ``wait`` sleeps until the deadline but wakes early when an event is
set (new points, a new link) and then restarts the period from that moment.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Pacer"]


class Pacer:
    """The deadlines of a loop that runs every ``period_s`` seconds, from now on."""

    __slots__ = ("_loop", "deadline", "period")

    def __init__(self, period_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.period = period_s
        self.deadline = self._loop.time()

    def advance(self) -> int:
        """A pass ended: the next deadline; returns how many polls were skipped (overrun)."""
        period = self.period
        self.deadline += period
        now = self._loop.time()
        if now < self.deadline:
            return 0
        missed = int((now - self.deadline) // period) + 1
        self.deadline += missed * period
        return missed

    async def sleep(self) -> None:
        """Sleep until the deadline."""
        await asyncio.sleep(self.deadline - self._loop.time())

    async def wait(self, wake: asyncio.Event) -> None:
        """Sleep until the deadline or until ``wake`` is set (then the period restarts now).

        ``wake`` is left set, for the caller to see and clear.
        """
        with contextlib.suppress(TimeoutError):
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that races
            # the event being set, and stop() would have to cancel twice
            async with asyncio.timeout_at(self.deadline):
                await wake.wait()
        if wake.is_set():
            self.deadline = self._loop.time()
