"""The sync status the shell shows, read without ever blocking the GUI.

One reader (``SyncMonitor``) asks the runtime's ``SyncService`` for each target's status about
once a second while the sync window is open (every ``IDLE_INTERVAL_MS`` otherwise, for the
header chip alone), as an asyncio task on the qasync loop: the GUI never waits for the database,
and a read still running when the next is due is skipped, not queued. ``classify`` gives each
target its ISA-101 level: grey while records flow; amber when the oldest waiting record is older
than ``BACKLOG_AMBER_S`` or the outbox holds more than 80 % of its capacity; red only for
quarantined records (someone must act) or a target failing for more than ``FAILING_RED_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from hmi_app.runtime.outbox import CAPACITY_WARN_FRACTION, OutboxStatus
from hmi_app.runtime.sync import SyncService

log = logging.getLogger(__name__)

BACKLOG_AMBER_S = 300.0
"""A waiting record older than this turns the target amber (the receiver is not keeping up)."""
FAILING_RED_S = 300.0
"""A target failing for longer than this turns red."""
QUEUED_SHOWN_S = 10.0
"""The chip says "N queued" once the oldest waiting record is this old: records normally leave
within milliseconds, and a chip flickering "3 queued" every second would only teach operators
to ignore it."""
VISIBLE_INTERVAL_MS = 1000
IDLE_INTERVAL_MS = 5000

STYLE_BASE = "border-radius: 3px; padding: 2px 8px; font-size: 13px; font-weight: bold;"


class Level(enum.IntEnum):
    """How a target (or the sync as a whole) looks; higher is worse."""

    OK = 0  # grey: nothing waiting, or records flowing
    BACKLOG = 1  # grey: records waiting, young (or a short outage being retried)
    WARNING = 2  # amber: old backlog, or the outbox above 80 % of capacity
    ERROR = 3  # red: quarantined records, or failing for more than FAILING_RED_S


STYLES: dict[Level, str] = {
    Level.OK: "background: #d9d9d9; color: #262626; border: 1px solid #a6a6a6;",
    Level.BACKLOG: "background: #d9d9d9; color: #262626; border: 1px solid #a6a6a6;",
    Level.WARNING: "background: #f2c21b; color: #1a1a1a; border: 1px solid #b08a00;",
    Level.ERROR: "background: #d92b1f; color: #ffffff; border: 1px solid #a01d14;",
}
STATE_WORDS: dict[Level, str] = {
    Level.OK: "OK",
    Level.BACKLOG: "backlog",
    Level.WARNING: "backlog",
    Level.ERROR: "error",
}


def error_active(status: OutboxStatus) -> bool:
    """The target's last attempt failed (its last error is newer than its last success)."""
    if status.last_error_at is None:
        return False
    return status.last_success is None or status.last_error_at > status.last_success


@dataclass(frozen=True)
class TargetView:
    """One target's status as shown: the outbox's figures and the level derived from them."""

    status: OutboxStatus
    level: Level
    failing_for_s: float | None  # None while the target is not failing
    why: str  # what made the level, for tooltips ("" when OK)

    @property
    def state_word(self) -> str:
        return STATE_WORDS[self.level]


def classify(
    status: OutboxStatus,
    now: float,
    failing_since: float | None,
    *,
    backlog_amber_s: float = BACKLOG_AMBER_S,
    failing_red_s: float = FAILING_RED_S,
) -> TargetView:
    """The level of one target at ``now`` (``failing_since``: when its failure was first seen)."""
    failing_for = None if failing_since is None else max(0.0, now - failing_since)
    age = status.oldest_age_s(now)
    if status.quarantined:
        why = f"{status.quarantined:,} quarantined: refused by the receiver, retry or export them"
        return TargetView(status, Level.ERROR, failing_for, why)
    if failing_for is not None and failing_for > failing_red_s:
        why = f"failing for {duration(failing_for)}: {status.last_error or 'no detail'}"
        return TargetView(status, Level.ERROR, failing_for, why)
    if age is not None and age > backlog_amber_s:
        why = f"oldest record waiting {duration(age)} (over {duration(backlog_amber_s)})"
        return TargetView(status, Level.WARNING, failing_for, why)
    if status.over_capacity_warning:
        share = status.total / status.capacity
        why = (
            f"outbox at {share:.0%} of its capacity of {status.capacity:,} "
            f"(warning above {CAPACITY_WARN_FRACTION:.0%}; nothing is evicted)"
        )
        return TargetView(status, Level.WARNING, failing_for, why)
    if status.depth or failing_for is not None:
        why = "retrying" if failing_for is not None else "records on their way"
        return TargetView(status, Level.BACKLOG, failing_for, why)
    return TargetView(status, Level.OK, None, "")


@dataclass(frozen=True)
class SyncSnapshot:
    """Every target's view at one moment (what the chip and the window show)."""

    taken: float
    targets: dict[str, TargetView] = field(default_factory=dict)
    read_error: str = ""  # the status could not be read (the database is unusable)

    @property
    def level(self) -> Level:
        if self.read_error:
            return Level.ERROR
        return max((t.level for t in self.targets.values()), default=Level.OK)

    def chip_text(self) -> str:
        """``Sync: ok`` / ``Sync: 1,234 queued`` / ``Sync: error``."""
        if self.level is Level.ERROR:
            return "Sync: error"
        queued = max(
            (
                t.status.depth
                for t in self.targets.values()
                if (t.status.oldest_age_s(self.taken) or 0.0) >= QUEUED_SHOWN_S
                or t.level is Level.WARNING
            ),
            default=0,
        )
        return f"Sync: {queued:,} queued" if queued else "Sync: ok"

    def chip_tooltip(self) -> str:
        if self.read_error:
            return f"Sync status cannot be read: {self.read_error}\nClick for details"
        lines = []
        for name, view in self.targets.items():
            line = f"{name}: {view.state_word}, {view.status.depth:,} waiting"
            if view.why:
                line += f" - {view.why}"
            lines.append(line)
        return "\n".join(lines or ["no sync targets"]) + "\nClick for details"


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 12 s``, ``2 h 05 min``, ``3 d 4 h``."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" + (f" {s % 60:02d} s" if s % 60 else "")
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86_400} d {s % 86_400 // 3600} h"


def moment(ts: float | None, now: float) -> str:
    """``14:03:27 (12 s ago)``, the date too when not today; ``never`` for None."""
    if ts is None:
        return "never"
    same_day = time.localtime(ts)[:3] == time.localtime(now)[:3]
    stamp = time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", time.localtime(ts))
    return f"{stamp} ({duration(max(0.0, now - ts))} ago)"


class SyncMonitor(QObject):
    """The one periodic reader of the sync status; ``updated`` carries each new snapshot."""

    updated = Signal(object)  # SyncSnapshot

    def __init__(self, sync: SyncService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sync = sync
        self.snapshot: SyncSnapshot | None = None
        self.reads = 0
        self.skipped = 0
        """Reads not started because the previous one was still running."""
        self.backlog_amber_s = BACKLOG_AMBER_S
        self.failing_red_s = FAILING_RED_S
        self._failing_since: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._actions: set[asyncio.Task[Any]] = set()
        self._watchers = 0
        self._timer = QTimer(self)
        self._timer.setInterval(IDLE_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)

    def start(self) -> None:
        """Read now and then periodically (on the running asyncio loop)."""
        self._timer.start()
        self.refresh()

    def watch(self, on: bool) -> None:
        """A window showing details opened (True) or closed: read every second while one is."""
        self._watchers = max(0, self._watchers + (1 if on else -1))
        self._timer.setInterval(VISIBLE_INTERVAL_MS if self._watchers else IDLE_INTERVAL_MS)
        if on:
            self.refresh()

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def refresh(self) -> bool:
        """Start a status read unless one is running (then False: skipped)."""
        if self._task is not None and not self._task.done():
            self.skipped += 1
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False  # no asyncio loop (yet): the next tick tries again
        self._task = loop.create_task(self._read(), name="sync-status-read")
        return True

    def run(self, coro: Coroutine[Any, Any, Any], done: Callable[[Any, str], None]) -> bool:
        """Run an action (retry, export) as a task; ``done(result, error)`` on the GUI thread."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return False
        task = loop.create_task(self._act(coro, done), name="sync-action")
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)
        return True

    async def _act(self, coro: Coroutine[Any, Any, Any], done: Callable[[Any, str], None]) -> None:
        try:
            result = await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sync action failed")
            done(None, f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
        else:
            done(result, "")
        self.refresh()

    async def _read(self) -> None:
        self.reads += 1
        try:
            statuses = await self.sync.status()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("sync status read failed: %s", exc)
            last = self.snapshot.targets if self.snapshot is not None else {}
            snapshot = SyncSnapshot(time.time(), dict(last), str(exc) or type(exc).__name__)
        else:
            snapshot = self._snapshot(statuses, time.time())
        self.snapshot = snapshot
        self.updated.emit(snapshot)

    def _snapshot(self, statuses: Mapping[str, OutboxStatus], now: float) -> SyncSnapshot:
        views: dict[str, TargetView] = {}
        for target, status in statuses.items():
            since = self._failing_since.get(target)
            if error_active(status):
                if since is None:  # failing since its first failure after the last success
                    since = self._failing_since[target] = status.last_error_at or now
            else:
                self._failing_since.pop(target, None)
                since = None
            views[target] = classify(
                status,
                now,
                since,
                backlog_amber_s=self.backlog_amber_s,
                failing_red_s=self.failing_red_s,
            )
        return SyncSnapshot(now, views)

    def stop(self) -> list[asyncio.Task[Any]]:
        """Stop reading (before the runtime stops); the tasks cancelled, to await if you can."""
        self._timer.stop()
        tasks = [t for t in (self._task, *self._actions) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        return tasks

    async def aclose(self) -> None:
        """Stop reading and wait for the read and any action still running."""
        tasks = self.stop()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
