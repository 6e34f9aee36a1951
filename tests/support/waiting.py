"""Waiting in async tests for something that happens on the event loop, with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from PySide6.QtWidgets import QWidget


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition`` on the running loop until it holds; fail naming ``what`` after
    ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_exposed(widget: QWidget, within: float = 10) -> None:
    """Wait on the running loop until ``widget``'s window is exposed. qtbot.waitExposed spins a
    nested Qt event loop: inside a coroutine that re-enters qasync and can lose a task's wake-up
    ("Cannot enter into task ... while another task is being executed")."""

    def exposed() -> bool:
        handle = widget.windowHandle()
        return handle is not None and handle.isExposed()

    await wait_until(exposed, within, f"{type(widget).__name__} to be exposed")
