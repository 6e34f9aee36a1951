"""Waiting in async tests for something that happens on the event loop, with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition`` on the running loop until it holds; fail naming ``what`` after
    ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)
