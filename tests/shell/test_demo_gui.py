"""The demo window on the real runtime: the embedded Modbus plant runs, values arrive and change
on screen, link chips report the connections, and the window closes with the runtime stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.app import FLUSH_MS, build_window, run_gui
from screens.renderer import ScreenView
from tests.support.items import click_item
from tests.support.waiting import wait_until
from widgets.numeric import NumericDisplay


def test_demo_window_shows_live_changing_values(qtbot: QtBot, qloop: qasync.QEventLoop) -> None:
    project = load_project(demo_project_dir())
    runtime = Runtime(project)

    async def scenario() -> None:
        await runtime.start()
        window = build_window(project, runtime)
        qtbot.addWidget(window)
        timer = QTimer()
        timer.setInterval(FLUSH_MS)
        timer.timeout.connect(runtime.bus.flush)
        try:
            window.resize(1280, 800)
            window.show()
            timer.start()
            view = window.page("overview")
            assert isinstance(view, ScreenView)
            good = view.widgets["count_good"]
            level = view.widgets["filler_tank"]
            assert isinstance(good, NumericDisplay)

            def shown_good() -> str:
                shown = good.value_shown()
                return shown.text if shown and shown.quality is Quality.GOOD else ""

            await wait_until(lambda: shown_good() != "", 10, "a good bottle count")
            first = shown_good()
            first_level = level.display_state()
            await wait_until(
                lambda: shown_good() not in ("", first) and level.display_state() != first_level,
                15,
                "the count and the tank level to change",
            )
            assert window.header.chips["line1_plc"].state is LinkState.CONNECTED
            assert window.header.chips["utilities"].state is LinkState.CONNECTED
            assert view.widgets["line_state"].worst_quality() is Quality.GOOD
            image: QImage = window.grab().toImage()
            assert image.width() == 1280
            assert image.height() == 800
            assert set(runtime.bus.subscribed_tags()) == view.definition.tags()
        finally:
            timer.stop()
            window.release_screens()
            await window.wait_writes()
            await runtime.stop()
        assert runtime.bus.subscribed_tags() == []

    qloop.run_until_complete(asyncio.wait_for(scenario(), 40))


def test_stop_button_writes_the_coil_on_the_real_runtime(
    qtbot: QtBot, qloop: qasync.QEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    project = load_project(demo_project_dir())
    runtime = Runtime(project)
    caplog.set_level(logging.INFO, logger="hmi.audit")

    async def scenario() -> None:
        await runtime.start()
        window = build_window(project, runtime)
        qtbot.addWidget(window)
        try:
            window.resize(1280, 800)
            window.show()
            view = window.page("overview")
            assert isinstance(view, ScreenView)
            stop = view.widgets["stop"]
            await wait_until(
                lambda: window.header.chips["line1_plc"].state is LinkState.CONNECTED,
                10,
                "the PLC link",
            )
            click_item(qtbot, stop)
            await view.wait_writes()
            stop_feedback = view.feedback["stop"]
            assert not stop_feedback.is_error, stop_feedback.message
            assert stop_feedback.message.endswith("written")
        finally:
            window.release_screens()
            await runtime.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 40))
    audit = [r.getMessage() for r in caplog.records if r.name == "hmi.audit"]
    assert any("tag=line1.stop_cmd" in m and "new=True" in m for m in audit), audit


def test_run_gui_runs_for_a_while_and_saves_a_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "shots" / "window.png"
    assert run_gui(None, for_seconds=2.5, screenshot=shot) == 0
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)


def test_run_gui_refuses_a_broken_project_with_located_errors(
    tmp_path: Path, capsys: object
) -> None:
    (tmp_path / "project.yaml").write_text(
        "schema_version: 1\nproject: {name: x}\ntags:\n  - {name: 9bad}\n", encoding="utf-8"
    )
    assert run_gui(tmp_path, for_seconds=1) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "project.yaml:4: tags[0].name" in err
