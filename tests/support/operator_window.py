"""The operator window on a started runtime, as the GUI tests use it: one place for set-up and
tear-down (flush timer, PLC link up, screens released, writes awaited, tools closed, runtime
stopped, nothing left subscribed)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.core.project.loader import Project
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.app import FLUSH_MS, build_window
from hmi_app.shell.window import MainWindow
from tests.support.waiting import wait_until


@contextlib.asynccontextmanager
async def operator_window(
    qtbot: QtBot,
    project: Project,
    runtime: Runtime,
    *,
    size: tuple[int, int] = (1280, 800),
    link: str | None = "line1_plc",
) -> AsyncIterator[MainWindow]:
    """Start ``runtime``, show ``project``'s window at ``size`` with the bus flushed every
    ``FLUSH_MS``, wait until connection ``link`` is up (None: do not wait); stop it all after."""
    await runtime.start()
    window = build_window(project, runtime)
    qtbot.addWidget(window)
    timer = QTimer()
    timer.setInterval(FLUSH_MS)
    timer.timeout.connect(runtime.bus.flush)
    try:
        window.resize(*size)
        window.show()
        timer.start()
        if link is not None:
            await wait_until(
                lambda: window.header.chips[link].state is LinkState.CONNECTED,
                10,
                f"the {link} link",
            )
        yield window
    finally:
        timer.stop()
        window.release_screens()
        await window.wait_writes()
        await window.close_tools()
        await runtime.stop()
    assert runtime.bus.subscribed_tags() == []
