"""A TagSource kept in memory: values set by code, handed on at ``flush`` (latest value wins).

Used to preview a screen without a runtime (the designer, later) and by tests. It behaves like
the runtime's bus towards screens: subscribe calls back with the current value, ``flush`` hands
each listener the newest value once, writes are checked for writability and recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from hmi_app.core.project.model import ProjectModel, TagConfig
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagCallback, TagMeta, WriteRefused

WriteCheck = Callable[[str, Any], None]


class _Handle:
    """Subscription handle of the memory source."""

    __slots__ = ("_callback", "_source", "_tag")

    def __init__(self, source: MemoryTagSource, tag: str, callback: TagCallback) -> None:
        self._source, self._tag, self._callback = source, tag, callback

    def cancel(self) -> None:
        listeners = self._source._listeners.get(self._tag, [])
        if self._callback in listeners:
            listeners.remove(self._callback)


class MemoryTagSource:
    """Implements ``TagSource`` over dictionaries."""

    def __init__(self, metas: Iterable[TagMeta], *, write_delay: float = 0.0) -> None:
        self._metas = {meta.name: meta for meta in metas}
        self._values: dict[str, TagValue] = {}
        self._pending: dict[str, TagValue] = {}
        self._listeners: dict[str, list[TagCallback]] = {}
        self.writes: list[tuple[str, Any]] = []
        self.write_delay = write_delay
        self.write_check: WriteCheck | None = None
        """Optional hook raising WriteRefused, to play a device that rejects a write."""

    @classmethod
    def for_project(cls, model: ProjectModel) -> MemoryTagSource:
        """A source with the metadata of every tag of a project (no values yet)."""
        return cls(meta_of(tag) for tag in model.tags)

    # ---- values ----------------------------------------------------------------------------
    def set(self, tag: str, value: Any, quality: Quality = Quality.GOOD, reason: str = "") -> None:
        """Record a new value; listeners get it at the next ``flush``."""
        self.meta(tag)
        now = time.time()
        record = TagValue(value, quality, now, now, reason)
        self._values[tag] = record
        self._pending[tag] = record

    def flush(self) -> int:
        """Hand each listener the newest value of its tag; the number of calls made."""
        pending, self._pending = self._pending, {}
        calls = 0
        for tag, value in pending.items():
            for callback in list(self._listeners.get(tag, ())):
                callback(value)
                calls += 1
        return calls

    def listener_count(self, tag: str | None = None) -> int:
        """Open subscriptions on ``tag`` (or on all tags)."""
        if tag is not None:
            return len(self._listeners.get(tag, ()))
        return sum(len(listeners) for listeners in self._listeners.values())

    # ---- TagSource -------------------------------------------------------------------------
    def subscribe(self, tag: str, callback: TagCallback) -> _Handle:
        self.meta(tag)
        self._listeners.setdefault(tag, []).append(callback)
        current = self._values.get(tag)
        if current is not None:
            callback(current)
        return _Handle(self, tag, callback)

    def current(self, tag: str) -> TagValue | None:
        return self._values.get(tag)

    def meta(self, tag: str) -> TagMeta:
        try:
            return self._metas[tag]
        except KeyError:
            raise KeyError(f"unknown tag {tag!r}") from None

    async def write(self, tag: str, value: Any) -> None:
        meta = self.meta(tag)
        if not meta.writable:
            raise WriteRefused(f"{tag} is read-only")
        if self.write_delay:
            await asyncio.sleep(self.write_delay)
        if self.write_check is not None:
            self.write_check(tag, value)
        self.writes.append((tag, value))
        self.set(tag, value)


def meta_of(tag: TagConfig) -> TagMeta:
    """Display metadata of a configured tag."""
    return tag.meta()
