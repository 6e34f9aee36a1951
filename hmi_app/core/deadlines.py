"""Time limits on awaits that never lose a cancellation.

On Python 3.11, ``asyncio.wait_for`` returns the result instead of raising when the awaited
thing completes in the same loop turn as a cancel of the waiting task: the cancel is lost. A
task stopped by cancelling it then carries on (its ``stop`` waits for ever). 3.12 rebuilt
``wait_for`` on ``asyncio.timeout``; these helpers do the same, so the code behaves alike on
every supported Python. Use them instead of ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``; ``TimeoutError`` when it takes longer than ``seconds``. A cancel of
    the caller always propagates."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set, at most ``seconds``; True when it is set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended (an error it ends with is raised here). The
    task's own ``CancelledError`` is the expected end; a cancel of the caller still propagates
    (``with suppress(CancelledError): await task`` would swallow that too)."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
