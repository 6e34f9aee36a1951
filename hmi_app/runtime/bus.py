"""The tag bus: what screens subscribe to. Latest value wins; one flush hands values on.

Between two flushes the bus keeps only the newest value of each tag, so a widget on a tag that
changes 100 times a second is still updated once per flush. ``flush`` is called by one timer on
the GUI thread (about 10 Hz); subscribing and flushing happen on that thread too, so no locks.
Subscriptions are counted per tag onto the engine: the first widget on a tag subscribes the
engine, the last one leaving unsubscribes it (and so the driver stops reading it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hmi_app.core.quality import TagValue
from hmi_app.core.tagsource import Subscription, TagCallback, TagMeta
from hmi_app.runtime.engine import TagEngine


class _BusSubscription:
    """Handle of one bus listener."""

    __slots__ = ("_bus", "_callback", "_tag")

    def __init__(self, bus: TagBus, tag: str, callback: TagCallback) -> None:
        self._bus, self._tag, self._callback = bus, tag, callback

    def cancel(self) -> None:
        self._bus._remove(self._tag, self._callback)


class TagBus:
    """A ``TagSource`` for displays, batching engine changes until the next ``flush``."""

    def __init__(self, engine: TagEngine, user: Callable[[], str] = lambda: "operator") -> None:
        self._engine = engine
        self._user = user
        self._pending: dict[str, TagValue] = {}
        self._listeners: dict[str, list[TagCallback]] = {}
        self._upstream: dict[str, Subscription] = {}

    def subscribe(self, tag: str, callback: TagCallback) -> _BusSubscription:
        listeners = self._listeners.get(tag)
        if listeners is None:
            self._engine.meta(tag)  # KeyError for an unknown tag before anything is recorded
            listeners = self._listeners[tag] = []

            def record(value: TagValue) -> None:
                self._pending[tag] = value

            self._upstream[tag] = self._engine.subscribe(tag, record)
        listeners.append(callback)
        current = self._engine.current(tag)
        if current is not None:
            callback(current)
        return _BusSubscription(self, tag, callback)

    def _remove(self, tag: str, callback: TagCallback) -> None:
        listeners = self._listeners.get(tag)
        if not listeners or callback not in listeners:
            return
        listeners.remove(callback)
        if not listeners:
            del self._listeners[tag]
            self._pending.pop(tag, None)
            self._upstream.pop(tag).cancel()

    def current(self, tag: str) -> TagValue | None:
        return self._engine.current(tag)

    def meta(self, tag: str) -> TagMeta:
        return self._engine.meta(tag)

    async def write(self, tag: str, value: Any) -> None:
        await self._engine.write(tag, value, user=self._user())

    def subscribed_tags(self) -> list[str]:
        return list(self._listeners)

    def flush(self) -> int:
        """Hand each listener the newest value of its tag since the last flush; count the calls."""
        if not self._pending:
            return 0
        pending = self._pending
        self._pending = {}
        calls = 0
        listeners = self._listeners
        for tag, value in pending.items():
            for callback in listeners.get(tag, ()):
                callback(value)
                calls += 1
        return calls
