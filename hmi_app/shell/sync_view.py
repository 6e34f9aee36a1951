"""What operators and plant IT see of the sync: a header chip and the sync status window.

One reader (``SyncMonitor``) asks the runtime's ``SyncService`` for each target's status about
once a second while the sync window is open (every ``IDLE_INTERVAL_MS`` otherwise, for the
header chip alone), as an asyncio task on the qasync loop: the GUI never waits for the database,
and a read still running when the next is due is skipped, not queued. Both the chip and the
window show the same snapshot.

Colours follow ISA-101: grey while records flow; amber when a target's oldest waiting record is
older than ``BACKLOG_AMBER_S`` or the outbox holds more than 80 % of its capacity; red only for
quarantined records (the receiver refused them for good: someone must act) or a target that has
been failing for more than ``FAILING_RED_S``. A short outage stays grey: the outbox is made for
it and nothing is lost.

"Retry quarantined" and "Export quarantined…" run as asyncio tasks too, and say what they did
(both are logged by the outbox as well).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QMouseEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

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

_BASE = "border-radius: 3px; padding: 2px 8px; font-size: 13px; font-weight: bold;"


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


class SyncChip(QLabel):
    """The header's compact sync indicator; a click opens the sync window."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncChip")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.level: Level | None = None
        self.show_snapshot(None)

    def reserve_width(self) -> None:
        """Room for a big backlog, so the link chips beside it do not jump as the count grows."""
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("Sync: 999,999 queued") + 20)

    def show_snapshot(self, snapshot: SyncSnapshot | None) -> None:
        """Show ``snapshot`` (None: not read yet)."""
        if snapshot is None:
            text, level, tip = "Sync: …", Level.OK, "Sync status not read yet"
        else:
            text, level, tip = snapshot.chip_text(), snapshot.level, snapshot.chip_tooltip()
        if text != self.text():
            self.setText(text)
        if level != self.level:
            self.level = level
            self.setStyleSheet(_BASE + STYLES[level])
        self.setToolTip(tip)
        self.reserve_width()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


_COLUMNS = (
    "Target",
    "State",
    "Queued",
    "Oldest waiting",
    "Last success",
    "Last error",
    "Quarantined",
    "",
)


@dataclass
class _Row:
    """The widgets of one target's row."""

    name: QLabel
    state: QLabel
    depth: QLabel
    oldest: QLabel
    success: QLabel
    error: QLabel
    quarantined: QLabel
    retry: QPushButton
    export: QPushButton


class SyncView(QWidget):
    """The sync status window (non-modal): per target its state, queue, times, errors and the
    quarantine buttons; refreshed about every second while it is open."""

    def __init__(
        self, monitor: SyncMonitor, export_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("syncView")
        self.setWindowTitle("Sync status")
        self.monitor = monitor
        self.export_dir = Path(export_dir)
        self.export_dialog: QFileDialog | None = None
        self.rows: dict[str, _Row] = {}
        self._watching = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        intro = QLabel(
            "Production records wait in the outbox until each target confirmed them; nothing is"
            " dropped. Amber: a backlog older than "
            f"{duration(BACKLOG_AMBER_S)} or the outbox above "
            f"{CAPACITY_WARN_FRACTION:.0%} of its capacity. Red: records the receiver refused"
            " (quarantined) or a target failing for more than "
            f"{duration(FAILING_RED_S)}."
        )
        intro.setWordWrap(True)
        intro.setObjectName("syncIntro")
        layout.addWidget(intro)
        self.grid_frame = QFrame()
        self.grid_frame.setObjectName("syncTargets")
        self.grid = QGridLayout(self.grid_frame)
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(8)
        for column, title in enumerate(_COLUMNS):
            head = QLabel(title)
            head.setStyleSheet("font-weight: bold; color: #5c5c5c;")
            self.grid.addWidget(head, 0, column)
        self.grid.setColumnStretch(5, 1)
        layout.addWidget(self.grid_frame)
        self.capacity = QLabel("")
        self.capacity.setObjectName("syncCapacity")
        layout.addWidget(self.capacity)
        self.outcome = QLabel("")
        self.outcome.setObjectName("syncOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        monitor.updated.connect(self.show_snapshot)
        if monitor.snapshot is not None:
            self.show_snapshot(monitor.snapshot)

    # ---- showing -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._watching:
            self._watching = True
            self.monitor.watch(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if self._watching:
            self._watching = False
            self.monitor.watch(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.export_dialog is not None:
            self.export_dialog.close()
        super().closeEvent(event)

    def show_snapshot(self, snapshot: SyncSnapshot) -> None:
        """Fill the rows from ``snapshot`` (the monitor's signal)."""
        now = snapshot.taken
        for target, view in snapshot.targets.items():
            row = self.rows.get(target) or self._add_row(target)
            status = view.status
            row.state.setText(view.state_word)
            row.state.setStyleSheet(_BASE + STYLES[view.level])
            row.state.setToolTip(view.why)
            row.depth.setText(f"{status.depth:,}")
            age = status.oldest_age_s(now)
            row.oldest.setText("-" if age is None else duration(age))
            row.success.setText(moment(status.last_success, now))
            if status.last_error:
                when = moment(status.last_error_at, now)
                active = "" if error_active(status) else " (since recovered)"
                text = f"{status.last_error}\nat {when}{active}"
            else:
                text = "none"
            row.error.setText(_elide(text, 240))
            row.error.setToolTip(text)
            row.quarantined.setText(f"{status.quarantined:,}")
            row.quarantined.setStyleSheet(
                "font-weight: bold; color: #d92b1f;" if status.quarantined else ""
            )
            has_quarantine = status.quarantined > 0
            row.retry.setEnabled(has_quarantine and row.retry.property("busy") is not True)
            row.export.setEnabled(has_quarantine and row.export.property("busy") is not True)
        first = next(iter(snapshot.targets.values()), None)
        if snapshot.read_error:
            self.capacity.setText(f"The sync status cannot be read: {snapshot.read_error}")
        elif first is not None:
            status = first.status
            self.capacity.setText(
                f"Outbox: {status.total:,} records of a capacity of {status.capacity:,}"
                f" ({status.total / status.capacity:.1%}); read {time.strftime('%H:%M:%S')}"
            )
        else:
            self.capacity.setText("No sync targets are configured.")

    def _add_row(self, target: str) -> _Row:
        index = len(self.rows) + 1
        labels = [QLabel("") for _ in range(7)]
        labels[0].setText(target)
        labels[0].setStyleSheet("font-weight: bold;")
        labels[1].setAlignment(Qt.AlignmentFlag.AlignCenter)
        labels[1].setMinimumWidth(80)
        labels[1].setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        for label in (labels[2], labels[6]):
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        labels[5].setWordWrap(True)
        labels[5].setMinimumWidth(200)
        labels[5].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for column, label in enumerate(labels):
            label.setObjectName(f"sync_{target}_{_COLUMNS[column].lower().replace(' ', '_')}")
            self.grid.addWidget(label, index, column)
        retry = QPushButton("Retry quarantined")
        retry.setObjectName(f"retry_{target}")
        retry.setToolTip(f"Put the records {target} refused back in line (logged)")
        retry.clicked.connect(lambda: self.retry(target))
        export = QPushButton("Export quarantined…")
        export.setObjectName(f"export_{target}")
        export.setToolTip(
            f"Write the records {target} refused to a CSV or JSON Lines file (they stay queued)"
        )
        export.clicked.connect(lambda: self.ask_export(target))
        for button in (retry, export):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(retry)
        buttons.addWidget(export)
        self.grid.addLayout(buttons, index, len(_COLUMNS) - 1)
        name, state, depth, oldest, success, error, quarantined = labels
        row = _Row(name, state, depth, oldest, success, error, quarantined, retry, export)
        self.rows[target] = row
        return row

    # ---- actions -------------------------------------------------------------------------------
    def _busy(self, button: QPushButton, busy: bool) -> None:
        button.setProperty("busy", busy)
        button.setEnabled(not busy)

    def retry(self, target: str) -> None:
        """Put the quarantined records of ``target`` back in line (asynchronously)."""
        row = self.rows[target]
        self._busy(row.retry, True)
        self.outcome.setText(f"Putting the quarantined records of {target} back in line…")

        def done(count: Any, error: str) -> None:
            self._busy(row.retry, False)
            if error:
                self.outcome.setText(f"Retry of {target} failed: {error}")
            else:
                self.outcome.setText(
                    f"{count:,} quarantined record{'s' if count != 1 else ''} of {target} put"
                    f" back in line at {time.strftime('%H:%M:%S')}; they are sent again now."
                )

        if not self.monitor.run(self.monitor.sync.retry_quarantined(target), done):
            done(None, "the event loop is not running")

    def default_export_path(self, target: str) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self.export_dir / f"quarantine_{target}_{stamp}.csv"

    def ask_export(self, target: str) -> QFileDialog:
        """Ask where to export: a non-modal file dialog (never ``exec()``: the app runs asyncio on
        the Qt loop) proposing a dated file in the data folder."""
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        dialog = QFileDialog(self, f"Export the quarantined records of {target}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilters(["CSV (*.csv)", "JSON Lines (*.jsonl)"])
        dialog.setDefaultSuffix("csv")
        self.export_dir.mkdir(parents=True, exist_ok=True)
        default = self.default_export_path(target)
        dialog.setDirectory(str(default.parent))
        dialog.selectFile(default.name)
        dialog.fileSelected.connect(lambda path: self.export(target, Path(path)))
        self.export_dialog = dialog
        dialog.setWindowModality(Qt.WindowModality.NonModal)  # the plant view stays usable
        dialog.show()
        return dialog

    def export(self, target: str, path: Path) -> None:
        """Write the quarantined records of ``target`` to ``path`` (asynchronously)."""
        row = self.rows[target]
        self._busy(row.export, True)
        self.outcome.setText(f"Exporting the quarantined records of {target} to {path}…")

        def done(count: Any, error: str) -> None:
            self._busy(row.export, False)
            if error:
                self.outcome.setText(f"Export of {target} to {path} failed: {error}")
            else:
                self.outcome.setText(
                    f"{count:,} quarantined record{'s' if count != 1 else ''} of {target}"
                    f" exported to {path} (they stay in quarantine until retried)."
                )

        outbox = self.monitor.sync.outbox
        if not self.monitor.run(outbox.export_quarantined(target, path), done):
            done(None, "the event loop is not running")


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
