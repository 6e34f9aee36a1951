"""Scan-group bookkeeping shared by the drivers that poll: points grouped by scan period.

``ScanGroups`` keeps one group per scan period with one task each (``<prefix>:scan<ms>ms``):
a group is made, and its task started if scanning, when its first point joins; a point joining
wakes its group so it is read now, not a period later; a group left empty is removed and its task
cancelled but kept (``retiring``) until it ends, so ``take_tasks`` at stop still waits for it.
What a group holds beyond ``ScanGroup`` (a read plan, say) is the driver's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from drivers.tasks import retire

__all__ = ["ScanGroup", "ScanGroups"]


@dataclass(slots=True)
class ScanGroup:
    """Points read at one scan period, and the task that reads them."""

    scan_ms: int
    keys: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    passes: int = 0


G = TypeVar("G", bound=ScanGroup)


class ScanGroups(Generic[G]):
    """The scan groups of one driver by key, and their tasks.

    ``make(key)`` makes the group for a key, ``run(group)`` is its scan loop; tasks are named
    ``<prefix>:scan<ms>ms``.
    """

    def __init__(
        self,
        prefix: str,
        make: Callable[[int], G],
        run: Callable[[G], Coroutine[Any, Any, None]],
    ) -> None:
        self._prefix = prefix
        self._make = make
        self._run = run
        self._groups: dict[int, G] = {}
        self.retiring: set[asyncio.Task[None]] = set()
        self.running = False

    def __iter__(self) -> Iterator[G]:
        return iter(self._groups.values())

    def items(self) -> Iterator[tuple[int, G]]:
        """(key, group) pairs."""
        return iter(self._groups.items())

    def start(self) -> None:
        """Start one scan task per group (new groups start as they are made)."""
        self.running = True
        for group in self._groups.values():
            self._start(group)

    def take_tasks(self) -> list[asyncio.Task[None]]:
        """Stop scanning: the scan tasks (and those retiring), for the driver to cancel."""
        self.running = False
        tasks = [g.task for g in self._groups.values() if g.task is not None]
        tasks.extend(self.retiring)
        for group in self._groups.values():
            group.task = None
        return tasks

    def join(self, group_key: int, key: str) -> G:
        """Add point ``key`` to the group ``group_key`` (made if new) and wake it to read now."""
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = self._make(group_key)
            if self.running:
                self._start(group)
        group.keys.add(key)
        group.wake.set()  # read the new point now, not a whole period later
        return group

    def leave(self, group_key: int, key: str) -> G | None:
        """Remove point ``key`` from its group; a group left empty goes and its task retires."""
        group = self._groups.get(group_key)
        if group is None:
            return None
        group.keys.discard(key)
        if not group.keys:
            del self._groups[group_key]
            if group.task is not None:
                group.task.cancel()  # stop() still waits for it, should it be mid-request
                retire(group.task, self.retiring)
        return group

    def wake_all(self) -> None:
        """Have every group read now."""
        for group in self._groups.values():
            group.wake.set()

    def _start(self, group: G) -> None:
        group.task = asyncio.create_task(
            self._run(group), name=f"{self._prefix}:scan{group.scan_ms}ms"
        )
