"""Task plumbing shared by the drivers: stopping a driver's tasks, and retiring scan tasks.

``cancel_and_wait`` is how ``stop()`` leaves no task behind: it cancels every task and waits,
cancelling again any task still running after ``grace_s`` (one that swallowed its cancel).
``retire`` keeps a task that was cancelled (or left to finish) while the driver runs in a set
until it ends, so ``stop()`` still waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

__all__ = ["cancel_and_wait", "retire"]


async def cancel_and_wait(tasks: Iterable[asyncio.Task[None] | None], grace_s: float) -> None:
    """Cancel ``tasks`` (None entries skipped) and wait until every one has ended."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    pending = {task for task in live if not task.done()}
    while pending:
        _done, pending = await asyncio.wait(pending, timeout=grace_s)
        for task in pending:  # a task still running swallowed a cancel: cancel it again
            task.cancel()


def retire(task: asyncio.Task[None], retiring: set[asyncio.Task[None]]) -> None:
    """Keep ``task`` in ``retiring`` until it ends (for ``stop()`` to wait for)."""
    retiring.add(task)
    task.add_done_callback(retiring.discard)
