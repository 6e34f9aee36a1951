"""What operators and plant IT see of the sync: a header chip and the sync status window.

Both show the snapshot of one ``SyncMonitor`` (``sync_status.py``). "Retry quarantined" and
"Export quarantined…" run as asyncio tasks and say what they did (both are logged by the outbox
as well).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
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

from hmi_app.runtime.outbox import CAPACITY_WARN_FRACTION
from hmi_app.shell.sync_status import (
    BACKLOG_AMBER_S,
    FAILING_RED_S,
    STYLE_BASE,
    STYLES,
    Level,
    SyncMonitor,
    SyncSnapshot,
    duration,
    error_active,
    moment,
)

log = logging.getLogger(__name__)


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
            self.setStyleSheet(STYLE_BASE + STYLES[level])
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
            row.state.setStyleSheet(STYLE_BASE + STYLES[view.level])
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
