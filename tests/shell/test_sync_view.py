"""The sync chip in the header and the sync status window, on a real outbox (SQLite in tmp_path)
drained by the real SyncService through the REST sink to a real HTTP receiver on loopback.

An operator sees: records flowing (grey "Sync: ok"); an old backlog while the receiver is down
(amber "Sync: N queued", the HTTP error in the window); a target failing too long (red); the
receiver back (grey again, everything delivered); records the receiver refused (red, quarantined
count) which "Export quarantined…" writes to a file and "Retry quarantined" sends again once the
receiver accepts them. Also: the one reader skips a tick while its read runs, and reads every
second only while the window is open; the demo window gets the runtime's sync.
"""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from drivers.backoff import Backoff
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.tagsource import TagMeta
from hmi_app.runtime.outbox import Outbox, OutboxRecord, OutboxStatus
from hmi_app.runtime.runtime import Runtime
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.store import Database
from hmi_app.runtime.sync import SyncService
from hmi_app.shell.app import build_window
from hmi_app.shell.sync_status import (
    IDLE_INTERVAL_MS,
    STYLES,
    VISIBLE_INTERVAL_MS,
    Level,
    SyncMonitor,
    SyncSnapshot,
    classify,
    duration,
)
from hmi_app.shell.sync_view import SyncChip, SyncView
from hmi_app.shell.window import MainWindow
from screens.memory_source import MemoryTagSource
from tests.support.http_receiver import HttpReceiver
from tests.support.waiting import wait_until

FAST = Backoff(first_s=0.05, max_s=0.2, jitter=0.2)


def rec(i: int, age_s: float = 0.0) -> OutboxRecord:
    return OutboxRecord(
        key=f"line1/good/{i:06d}",
        kind="count",
        created=time.time() - age_s,
        payload={"delta": 1, "n": i},
    )


@dataclass
class Setup:
    """A window whose header and sync window read the real sync service."""

    window: MainWindow
    sync: SyncService
    outbox: Outbox
    rx: HttpReceiver
    exports: Path

    @property
    def chip(self) -> SyncChip:
        chip = self.window.header.sync_chip
        assert chip is not None
        return chip

    @property
    def monitor(self) -> SyncMonitor:
        monitor = self.window.sync_monitor
        assert monitor is not None
        return monitor

    def open_view(self, qtbot: QtBot) -> SyncView:
        """Click the chip, as an operator would."""
        qtbot.mouseClick(self.chip, Qt.MouseButton.LeftButton)
        view = self.window.sync_view
        assert view is not None and view.isVisible()
        return view


Scenario = Callable[[Setup], Coroutine[Any, Any, None]]


def _run(qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path, scenario: Scenario) -> None:
    async def main() -> None:
        db = await Database.open(tmp_path / "production.sqlite")
        try:
            outbox = Outbox(db, ["erp"])
            with HttpReceiver() as rx:
                sync = SyncService(
                    outbox,
                    {"erp": RestSink("erp", rx.url)},
                    batch_size=10,
                    backoff=FAST,
                    max_tries=2,
                )
                await sync.start()
                window = MainWindow(
                    plant="Demo Plant",
                    line="Line 1",
                    title="test",
                    source=MemoryTagSource([TagMeta("a.x", DataType.FLOAT32)]),
                    screens={},
                    connections=["plc"],
                    sync=sync,
                    sync_export_dir=tmp_path / "exports",
                )
                qtbot.addWidget(window)  # qtbot closes it (closing it here would quit the app)
                window.resize(1280, 800)
                window.show()
                try:
                    await scenario(Setup(window, sync, outbox, rx, tmp_path / "exports"))
                finally:
                    await window.close_tools()
                    await sync.stop()
        finally:
            await db.close()

    qloop.run_until_complete(asyncio.wait_for(main(), 40))


def _row_text(view: SyncView, column: str) -> str:
    """A cell of the erp row ("" until the first status read made the row)."""
    row = view.rows.get("erp")
    return "" if row is None else str(getattr(row, column).text())


def test_backlog_turns_amber_then_red_and_drains_back_to_grey(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(s: Setup) -> None:
        chip = s.chip
        await wait_until(lambda: chip.text() == "Sync: ok", 5, "the first status read")
        assert chip.level is Level.OK and STYLES[Level.OK] in chip.styleSheet()
        # records flow while the receiver is up: calm
        await s.outbox.extend(rec(i) for i in range(5))
        await wait_until(lambda: len(s.rx.stored_keys()) == 5, 5, "five records delivered")
        # the receiver goes down; records queued 400 s ago are still waiting
        s.rx.fail_with(503)
        await s.outbox.extend(rec(i, age_s=400) for i in range(5, 35))
        view = s.open_view(qtbot)
        assert s.monitor.interval_ms == VISIBLE_INTERVAL_MS
        await wait_until(lambda: chip.text() == "Sync: 30 queued", 5, "the backlog on the chip")
        assert chip.level is Level.WARNING and STYLES[Level.WARNING] in chip.styleSheet()
        await wait_until(lambda: "503" in _row_text(view, "error"), 5, "the HTTP error shown")
        assert _row_text(view, "depth") == "30"
        assert _row_text(view, "state") == "backlog"
        assert _row_text(view, "oldest").startswith("6 min")  # 400 s: "6 min 40 s"
        assert _row_text(view, "quarantined") == "0"
        assert "ago" in _row_text(view, "success")  # the five delivered before the outage
        assert not view.rows["erp"].retry.isEnabled()  # nothing in quarantine
        # still failing after the red threshold (5 min in the app; 1 s here)
        s.monitor.failing_red_s = 1.0
        await wait_until(lambda: chip.text() == "Sync: error", 5, "red after failing too long")
        assert chip.level is Level.ERROR and STYLES[Level.ERROR] in chip.styleSheet()
        assert _row_text(view, "state") == "error"
        assert "failing for" in view.rows["erp"].state.toolTip()
        # the receiver is back: the backlog drains and the colours go back to grey
        s.rx.fail_with(None)
        await wait_until(lambda: chip.text() == "Sync: ok", 10, "the backlog drained")
        assert chip.level is Level.OK
        await wait_until(lambda: _row_text(view, "depth") == "0", 5, "the window's depth")
        assert _row_text(view, "state") == "OK"
        assert "since recovered" in _row_text(view, "error")
        assert s.rx.stored_keys() == {rec(i).key for i in range(35)}
        assert s.rx.duplicates == 0
        # closing the window slows the reader down to what the chip needs
        view.close()
        assert s.monitor.interval_ms == IDLE_INTERVAL_MS

    _run(qtbot, qloop, tmp_path, scenario)


def test_quarantined_records_are_exported_and_retried_from_the_window(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(s: Setup) -> None:
        chip = s.chip
        view = s.open_view(qtbot)
        # the receiver refuses three records for good (422): after two tries they go to
        # quarantine and later records keep flowing
        s.rx.fail_with(422)
        await s.outbox.extend(rec(i) for i in range(3))
        await wait_until(lambda: _row_text(view, "quarantined") == "3", 10, "three quarantined")
        assert chip.text() == "Sync: error" and chip.level is Level.ERROR
        assert _row_text(view, "state") == "error"
        assert "422" in _row_text(view, "error")
        assert "quarantined" in view.rows["erp"].state.toolTip()
        s.rx.fail_with(None)
        await s.outbox.extend(rec(i) for i in range(3, 8))
        await wait_until(lambda: len(s.rx.stored_keys()) == 5, 5, "later records delivered")
        assert chip.text() == "Sync: error"  # the quarantine still needs someone
        # export: the file dialog is not modal; the operator picks a file and saves
        row = view.rows["erp"]
        assert row.export.isEnabled() and row.retry.isEnabled()
        qtbot.mouseClick(row.export, Qt.MouseButton.LeftButton)
        dialog = view.export_dialog
        assert isinstance(dialog, QFileDialog) and dialog.isVisible() and not dialog.isModal()
        assert Path(dialog.directory().absolutePath()) == s.exports
        target = s.exports / "refused.csv"
        dialog.selectFile(str(target))
        dialog.accept()
        await wait_until(lambda: "exported to" in view.outcome.text(), 5, "the export outcome")
        assert str(target) in view.outcome.text() and view.outcome.text().startswith("3 ")
        with target.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["key"] for r in rows] == [rec(i).key for i in range(3)]
        assert json.loads(rows[0]["payload"]) == {"delta": 1, "n": 0}
        assert "422" in rows[0]["last_error"]
        # retry: the records go back in line and the receiver (accepting now) gets them
        qtbot.mouseClick(row.retry, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "put back in line" in view.outcome.text(), 5, "retry outcome")
        assert view.outcome.text().startswith("3 quarantined records of erp")
        await wait_until(lambda: len(s.rx.stored_keys()) == 8, 5, "the retried records")
        await wait_until(lambda: chip.text() == "Sync: ok", 5, "the chip back to grey")
        assert _row_text(view, "quarantined") == "0"
        assert not row.retry.isEnabled() and not row.export.isEnabled()
        assert s.rx.stored_keys() == {rec(i).key for i in range(8)}

    _run(qtbot, qloop, tmp_path, scenario)


def test_one_reader_skips_a_tick_while_its_read_runs(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(s: Setup) -> None:
        monitor = s.monitor
        await wait_until(lambda: monitor.snapshot is not None, 5, "the first read")
        reads = monitor.reads
        assert monitor.refresh() is True
        assert monitor.refresh() is False  # the read just started has not finished
        assert monitor.skipped >= 1
        await wait_until(lambda: monitor.reads == reads + 1, 5, "the read")
        # the chip and the window show the same snapshot
        view = s.open_view(qtbot)
        await asyncio.sleep(1.2)
        snapshot = monitor.snapshot
        assert snapshot is not None and s.chip.text() == snapshot.chip_text()
        assert _row_text(view, "depth") == str(snapshot.targets["erp"].status.depth)

    _run(qtbot, qloop, tmp_path, scenario)


def _status(**kw: Any) -> OutboxStatus:
    fields: dict[str, Any] = {
        "target": "erp",
        "depth": 0,
        "oldest_created": None,
        "quarantined": 0,
        "total": 0,
        "capacity": 1000,
        "over_capacity_warning": False,
    }
    fields.update(kw)
    return OutboxStatus(**fields)


def test_levels_follow_the_isa_101_rules() -> None:
    now = 1_800_000_000.0
    young = _status(depth=12, oldest_created=now - 3, total=12)
    assert classify(young, now, None).level is Level.BACKLOG  # grey: on its way
    assert classify(_status(), now, None).level is Level.OK
    short_outage = classify(young, now, now - 60)
    assert short_outage.level is Level.BACKLOG and short_outage.why == "retrying"
    old = _status(depth=1234, oldest_created=now - 301, total=1234)
    assert classify(old, now, None).level is Level.WARNING
    full = _status(depth=850, oldest_created=now - 5, total=850, over_capacity_warning=True)
    assert classify(full, now, None).level is Level.WARNING
    assert "85%" in classify(full, now, None).why
    assert classify(young, now, now - 301).level is Level.ERROR  # failing > 5 min
    assert classify(_status(quarantined=1), now, None).level is Level.ERROR
    snap = SyncSnapshot(now, {"erp": classify(old, now, None)})
    assert snap.chip_text() == "Sync: 1,234 queued" and snap.level is Level.WARNING
    # a young queue is not worth a number on the chip: records leave within milliseconds
    assert SyncSnapshot(now, {"erp": classify(young, now, None)}).chip_text() == "Sync: ok"
    assert SyncSnapshot(now, {}, read_error="database is locked").chip_text() == "Sync: error"
    assert [duration(s) for s in (42, 192, 300, 7500, 200_000)] == [
        "42 s",
        "3 min 12 s",
        "5 min",
        "2 h 05 min",
        "2 d 7 h",
    ]


def test_the_demo_window_shows_its_file_drop_sync(qtbot: QtBot, qloop: qasync.QEventLoop) -> None:
    """build_window hands the runtime's sync to the window: the demo counts bottles into its
    file drop, and the chip and the window say so."""
    project = load_project(demo_project_dir())
    runtime = Runtime(project)

    async def main() -> None:
        await runtime.start()
        window = build_window(project, runtime)
        qtbot.addWidget(window)
        try:
            window.resize(1280, 800)
            window.show()
            chip = window.header.sync_chip
            assert chip is not None and runtime.sync is not None
            await wait_until(lambda: chip.text() == "Sync: ok", 10, "the demo's sync chip")
            qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
            view = window.sync_view
            assert view is not None and view.isVisible()
            await wait_until(lambda: "file_drop" in view.rows, 5, "the file drop's row")
            assert view.rows["file_drop"].state.text() == "OK"
            assert view.export_dir.parent.name == "demo-bottling-plant"  # the data folder
        finally:
            window.release_screens()
            await window.wait_writes()
            await window.close_tools()
            await runtime.stop()

    qloop.run_until_complete(asyncio.wait_for(main(), 40))
