"""The tag bus: what screens subscribe to. Latest value wins; one flush hands values on.

Between two flushes the bus keeps only the newest value of each tag, so a widget on a tag that
changes 100 times a second is still updated once per flush. ``flush`` is called by one timer on
the GUI thread (about 10 Hz); subscribing and flushing happen on that thread too, so no locks.
Subscriptions are counted per tag onto the engine: the first widget on a tag subscribes the
engine, the last one leaving unsubscribes it (and so the driver stops reading it).
"""

from __future__ import annotations

import collections
import itertools
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

    def pending_count(self) -> int:
        """Tags with a value not yet handed on."""
        return len(self._pending)

    def flush(self, limit: int | None = None) -> int:
        """Hand each listener the newest value of its tag since the last flush; count the calls.

        With ``limit``, only the ``limit`` tags that have waited longest are handed on; the rest
        stay pending (and still get only their newest value when their turn comes).
        """
        if not self._pending:
            return 0
        if limit is None or limit >= len(self._pending):
            pending = self._pending
            self._pending = {}
        else:
            pending = dict(itertools.islice(self._pending.items(), max(0, limit)))
            for tag in pending:
                del self._pending[tag]
        calls = 0
        listeners = self._listeners
        for tag, value in pending.items():
            for callback in listeners.get(tag, ()):
                callback(value)
                calls += 1
        return calls


class FlushPacer:
    """Spreads the bus's values over several timer ticks instead of one burst per period.

    Values arrive in bursts (a driver scans hundreds of tags at once); handing them all to the
    screen in one flush makes the GUI paint them all in one go, and the event loop stalls for
    that long. The pacer hands on, per tick, the average number of tags that became pending per
    tick over the last ``slices`` ticks, and never lets a value wait longer than ``slices``
    ticks: a burst of 1,000 tags is shown as 5 x 200 over the next 100 ms (at 20 ms ticks), and
    a steady stream passes at its own rate. Oldest values go first.
    """

    def __init__(self, bus: TagBus, slices: int = 5) -> None:
        if slices < 1:
            raise ValueError("slices must be at least 1")
        self._bus = bus
        self.slices = slices
        self._arrivals: collections.deque[int] = collections.deque(maxlen=slices)
        self._left = 0  # tags still pending after the previous tick

    def tick(self) -> int:
        """One timer tick: hand on this tick's share; the number of listener calls made."""
        pending = self._bus.pending_count()
        self._arrivals.append(max(0, pending - self._left))
        recent = sum(self._arrivals)
        # what arrived slices - 1 ticks ago (or earlier) must go now; the rest evenly
        oldest = self._arrivals[0] if len(self._arrivals) == self.slices else 0
        overdue = pending - (recent - oldest)
        share = max(-(-recent // self.slices), overdue)
        calls = self._bus.flush(share) if share > 0 else 0
        self._left = self._bus.pending_count()
        return calls
