"""The designer's Save, Check and Preview off the GUI thread: the loop keeps running while a
large screen is checked, written and the screen set loaded, or checked for the Check list, or read
for the preview (a 10 ms timer keeps firing); a preview switched off while it is being prepared
never shows; and an edit made while a save is in flight is neither lost nor half-saved: the file
gets the text as it was when Save was pressed, the document stays modified, and the next Save
writes the rest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import qasync
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import load_project
from hmi_app.shell.design_save import reread
from hmi_app.shell.design_window import DesignerWindow
from screens.memory_source import MemoryTagSource
from screens.templates import ScreenCheck
from tests.shell.test_design_mode import copy_demo
from tests.shell.test_design_scenario import click, tool

WIDGETS = 360
COLUMNS = 18
CELL_W, CELL_H = 70, 36


def big_screen(tags: list[str]) -> str:
    """A 1280x720 screen of ``WIDGETS`` numeric and text widgets in a grid, the numerics bound
    to the project's tags (none overlaps: the check finds nothing)."""
    lines = ["schema_version: 1", "name: big", "size: [1280, 720]", "widgets:"]
    for n in range(WIDGETS):
        row, column = divmod(n, COLUMNS)
        geometry = f"[{column * CELL_W + 2}, {row * CELL_H + 2}, {CELL_W - 4}, {CELL_H - 4}]"
        if n % 2:
            lines.append(
                f"  - {{id: w{n}, type: text, geometry: {geometry}, props: {{text: 'T{n}'}}}}"
            )
        else:
            tag = tags[n % len(tags)]
            lines.append(
                f"  - {{id: w{n}, type: numeric, geometry: {geometry}, "
                f"props: {{label: N{n}}}, bind: {{value: {tag}}}}}"
            )
    return "\n".join(lines) + "\n"


def big_project(tmp_path: Path) -> Path:
    """The demo project with the large screen ``big`` added to its screens."""
    folder = copy_demo(tmp_path)
    tags = [
        t.name
        for t in load_project(folder).model.runtime_tags
        if t.meta().data_type.startswith("float")
    ]
    (folder / "screens" / "big.yaml").write_text(big_screen(tags), encoding="utf-8")
    project_file = folder / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(
        text.replace(
            "  - screens/overview.yaml\n", "  - screens/overview.yaml\n  - screens/big.yaml\n"
        ),
        encoding="utf-8",
    )
    return folder


class GapProbe:
    """A 10 ms timer on the GUI loop: the longest time between two of its ticks."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer.start()

    def stop(self) -> float:
        """The longest gap, in seconds."""
        self.timer.stop()
        return self.longest


def standalone(qtbot: QtBot, folder: Path, checks: list[ScreenCheck | None]) -> DesignerWindow:
    """A designer on the large screen whose saves hand their loaded screen set to ``checks``."""
    project = load_project(folder)
    designer = DesignerWindow(
        project,
        MemoryTagSource.for_project(project.model),
        screen="big",
        on_saved=lambda _names, check: checks.append(check),
    )
    designer.resize(1280, 800)
    designer.show()
    qtbot.waitExposed(designer)
    return designer


def nudge(qtbot: QtBot, designer: DesignerWindow, widget_id: str) -> None:
    """Select ``widget_id`` on the canvas and move it one pixel right (one undo step)."""
    canvas = designer.canvas
    assert canvas is not None
    click(qtbot, canvas, canvas.item_rect(widget_id).center())
    qtbot.keyClick(canvas, Qt.Key.Key_Right)


def test_the_gui_loop_keeps_running_while_a_large_screen_is_saved(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = big_project(tmp_path)
    path = folder / "screens" / "big.yaml"
    checks: list[ScreenCheck | None] = []
    designer = standalone(qtbot, folder, checks)
    document = designer.document
    assert document is not None and len(document.entries()) == WIDGETS
    probe = GapProbe()
    result: dict[str, float] = {}

    async def scenario() -> None:
        # the save as it was, all on the GUI thread: the check, the write (which checked
        # again), the screen set loaded for the operator window; the probe cannot tick
        nudge(qtbot, designer, "w0")
        await asyncio.sleep(0.05)
        probe.start()
        start = time.perf_counter()
        assert not designer.issues.errors() and designer.check() == []
        document.save(designer.tags, designer.saving._names())
        designer.project, _check = reread(designer.project, "big", path, "screens/big.yaml", True)
        result["sync"] = time.perf_counter() - start
        await asyncio.sleep(0.03)
        result["sync_gap"] = probe.stop()
        assert not document.is_modified()

        # Save: the same work in worker threads, the loop ticking all along
        nudge(qtbot, designer, "w1")
        expected = document.text()
        await asyncio.sleep(0.05)
        probe.start()
        start = time.perf_counter()
        click(qtbot, tool(designer, "save"))
        assert designer.saving.busy  # returned at once
        await designer.wait_saves()
        result["async"] = time.perf_counter() - start
        await asyncio.sleep(0.03)
        result["async_gap"] = probe.stop()
        assert path.read_text(encoding="utf-8") == expected
        assert not document.is_modified() and designer.status.text().startswith("Saved big.yaml")
        (check,) = checks
        assert check is not None and "big" in check.screens  # loaded in the worker thread
        designer.close()

    qloop.run_until_complete(scenario())
    print(  # the figures for the report (pytest -s)
        f"\nsynchronous save {result['sync'] * 1000:.0f} ms (longest loop gap "
        f"{result['sync_gap'] * 1000:.0f} ms); Save {result['async'] * 1000:.0f} ms, longest "
        f"loop gap {result['async_gap'] * 1000:.0f} ms"
    )
    assert result["sync_gap"] >= result["sync"] * 0.9  # the probe sees a blocked loop
    assert result["async_gap"] < result["sync"] / 3


def test_an_edit_made_while_saving_is_kept_and_saved_next_time(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = big_project(tmp_path)
    path = folder / "screens" / "big.yaml"
    checks: list[ScreenCheck | None] = []
    designer = standalone(qtbot, folder, checks)
    document = designer.document
    assert document is not None

    async def scenario() -> None:
        nudge(qtbot, designer, "w0")
        pressed = document.text()
        save = tool(designer, "save")
        click(qtbot, save)
        nudge(qtbot, designer, "w2")  # while the save is in flight
        click(qtbot, save)  # a second Save waits for the first
        assert "Saving" in designer.status.text()
        await designer.wait_saves()
        assert path.read_text(encoding="utf-8") == pressed  # the text as Save was pressed
        assert document.is_modified() and " * " in designer.windowTitle()
        assert "not saved" in designer.status.text()
        assert len(list((folder / "screens" / ".backups").iterdir())) == 1  # one write
        click(qtbot, save)
        await designer.wait_saves()
        assert path.read_text(encoding="utf-8") == document.text() != pressed
        assert not document.is_modified() and " * " not in designer.windowTitle()
        assert len(checks) == 2
        designer.close()

    qloop.run_until_complete(scenario())


def test_check_and_preview_read_the_screen_in_a_worker_thread(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = big_project(tmp_path)
    designer = standalone(qtbot, folder, [])
    document = designer.document
    assert document is not None
    probe = GapProbe()
    result: dict[str, float] = {}

    async def timed(name: str, work: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(0.05)
        probe.start()
        start = time.perf_counter()
        await work()
        result[name] = time.perf_counter() - start
        await asyncio.sleep(0.03)
        result[f"{name}_gap"] = probe.stop()

    async def check_here() -> None:
        assert designer.check() == []

    async def check_button() -> None:
        click(qtbot, tool(designer, "check"))
        assert designer.issues.summary.text() == "Checking big.yaml…"  # returned at once
        await designer.wait_saves()
        assert designer.issues.summary.text() == "No problems found."

    async def preview_here() -> None:
        path = document.path
        others = designer.other_docs(path.stem)
        assert designer.preview.show_text(document.text(), path, "big", others, designer.tags)
        designer.preview.clear()

    async def preview_button() -> None:
        click(qtbot, tool(designer, "preview"))
        assert designer.preview.view is None  # returned at once, the screen being read
        await designer.preview.wait_shown()
        assert designer.preview.view is not None and len(designer.preview.view.widgets) == WIDGETS
        click(qtbot, tool(designer, "preview"))

    async def scenario() -> None:
        await timed("check_sync", check_here)
        await timed("check", check_button)
        await timed("preview_sync", preview_here)
        await timed("preview", preview_button)
        # switched off while it is being prepared: the preview never shows, editing is back
        click(qtbot, tool(designer, "preview"))
        click(qtbot, tool(designer, "preview"))
        await designer.preview.wait_shown()
        await asyncio.sleep(0.2)
        assert designer.preview.view is None and designer.centre.currentWidget() is not (
            designer.preview
        )
        assert designer.inspector.isEnabled() and designer.status.text() == "Editing"
        designer.close()

    qloop.run_until_complete(scenario())
    print(
        "\n" + ", ".join(f"{name} {value * 1000:.0f} ms" for name, value in result.items())
    )
    assert result["check_sync_gap"] >= result["check_sync"] * 0.9  # the probe sees a block
    assert result["check_gap"] < result["check_sync"] / 2
    assert result["preview_gap"] < result["preview_sync"] / 2
