"""Design mode in the running app, on the real runtime and a copy of the demo project: the
Design button only with a PIN, the PIN dialog refusing wrong PINs (and locking after three),
the right PIN opening the designer; a file saved by the designer shown in the operator window
without a restart; the live preview refusing writes until they are allowed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import qasync
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hmi_app.core.pin import hash_pin
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality
from hmi_app.pin_cli import save_pin_hash
from hmi_app.plant import words
from hmi_app.plant.bottling_plant import HR_SPEED_SP, BottlingLinePlant
from hmi_app.plant.server import Table
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.design_mode import DesignMode, PinDialog
from hmi_app.shell.design_preview import WRITES_OFF, DesignPreview
from hmi_app.shell.window import MainWindow
from screens.designer.document import ScreenDocument
from screens.renderer import ScreenView
from tests.support.items import click_item
from tests.support.operator_window import operator_window
from tests.support.waiting import wait_until
from widgets.base import HmiWidget
from widgets.confirm import ConfirmDialog
from widgets.keypad import NumericKeypad

PIN = "2580"


def copy_demo(tmp_path: Path, *, pin: str | None = PIN) -> Path:
    """The demo project in ``tmp_path`` with ``pin`` (cheap hash: tests are not about its
    cost), or without a designer section."""
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder, ignore=shutil.ignore_patterns(".backups"))
    path = folder / "project.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("# ---- design mode")], encoding="utf-8")
    if pin is not None:
        save_pin_hash(folder, hash_pin(pin, n=2**10))
        shutil.rmtree(folder / ".backups")
    return folder


@dataclass
class Plant:
    """The operator window on a started runtime for a project folder."""

    folder: Path
    runtime: Runtime
    window: MainWindow

    @property
    def design(self) -> DesignMode:
        assert self.window.design_mode is not None
        return self.window.design_mode

    def setpoint_register(self) -> float:
        plant = self.runtime.plants["bottling_line"]
        assert isinstance(plant, BottlingLinePlant)
        return words.to_float32(plant.image.read(Table.HOLDING, HR_SPEED_SP, 2))


def run_plant(
    qtbot: QtBot,
    qloop: qasync.QEventLoop,
    folder: Path,
    scenario: Callable[[Plant], Coroutine[Any, Any, None]],
    *,
    within: float = 40,
) -> None:
    """Run ``scenario`` on the operator window of ``folder`` and the real runtime."""
    project = load_project(folder)
    runtime = Runtime(project, production=False, history=False)

    async def main() -> None:
        async with operator_window(qtbot, project, runtime) as window:
            await scenario(Plant(folder, runtime, window))

    qloop.run_until_complete(asyncio.wait_for(main(), within))


def pin_dialog(window: MainWindow) -> PinDialog:
    (dialog,) = [d for d in window.findChildren(PinDialog) if d.isVisible()]
    return dialog


async def type_pin(qtbot: QtBot, dialog: PinDialog, pin: str) -> None:
    """Type ``pin`` and press Enter, as a supervisor would; wait for the verdict."""
    qtbot.keyClicks(dialog.edit, pin)
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    await wait_until(lambda: not dialog.busy, 5, "the PIN check")
    dialog.wait_checked()
    await asyncio.sleep(0.05)  # the verdict arrives as a queued signal


def good_text(widget: HmiWidget) -> str:
    shown = widget.shown("value")
    return shown.text if shown.quality is Quality.GOOD else ""


def test_without_a_pin_there_is_no_design_button(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(plant: Plant) -> None:
        assert plant.window.design_mode is None
        assert plant.window.design_button is None
        assert plant.window.findChildren(QWidget, "designButton") == []

    run_plant(qtbot, qloop, copy_demo(tmp_path, pin=None), scenario)


def test_a_wrong_pin_is_refused_three_lock_and_the_right_one_opens_the_designer(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(plant: Plant) -> None:
        window = plant.window
        button = window.design_button
        assert button is not None and button.isVisible() and button.text() == "Design…"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        dialog = pin_dialog(window)
        assert not dialog.isModal()
        await type_pin(qtbot, dialog, "1111")
        assert dialog.message.text() == "Wrong PIN. 2 attempts left."
        assert dialog.isVisible() and plant.design.designer is None
        await type_pin(qtbot, dialog, "2222")
        await type_pin(qtbot, dialog, "3333")
        assert dialog.message.text().startswith("Too many wrong PINs: try again in 30 s")
        assert not dialog.edit.isEnabled()
        # even the right PIN is not checked while locked; a new dialog stays locked too
        assert plant.design.gate.locked_for() > 25
        dialog.close()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        dialog = pin_dialog(window)
        assert not dialog.edit.isEnabled() and "Too many wrong PINs" in dialog.message.text()
        plant.design.gate._locked_until = 0.0  # the 30 s pass (the gate's own test waits them)
        await wait_until(lambda: dialog.edit.isEnabled(), 2, "the lock to end")
        await type_pin(qtbot, dialog, PIN)
        designer = plant.design.designer
        assert designer is not None and designer.isVisible()
        assert not shiboken6.isValid(dialog) or not dialog.isVisible()
        assert designer.document is not None and designer.document.name == "overview"
        # the button raises the open designer instead of asking again
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert [d for d in window.findChildren(PinDialog) if d.isVisible()] == []

    run_plant(qtbot, qloop, copy_demo(tmp_path), scenario)


def test_a_pin_changed_with_set_pin_while_the_app_runs_replaces_the_old_one(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        window = plant.window
        # what `hmi-app set-pin` writes (its hashing and the file write, off the loop)
        await asyncio.to_thread(lambda: save_pin_hash(folder, hash_pin("7391")))
        assert window.design_button is not None
        qtbot.mouseClick(window.design_button, Qt.MouseButton.LeftButton)
        dialog = pin_dialog(window)
        await type_pin(qtbot, dialog, PIN)  # the old PIN no longer opens design mode
        assert dialog.message.text() == "Wrong PIN. 2 attempts left."
        assert plant.design.designer is None
        await type_pin(qtbot, dialog, "7391")
        designer = plant.design.designer
        assert designer is not None and designer.isVisible()
        designer.close()

    run_plant(qtbot, qloop, folder, scenario)


def test_a_saved_screen_shows_in_the_operator_window_without_a_restart(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        window = plant.window
        old = window.page("overview")
        assert isinstance(old, ScreenView)
        filler_page = window.page("filler")
        screens = list(window.nav.buttons)
        document = ScreenDocument.load(folder / "screens" / "overview.yaml")
        x, y, w, h = document.entry("start").geometry
        document.set_geometries({"start": (x, y + 2, w, h)})
        document.set_prop("start", "text", "GO")
        document.save()
        plant.design._saved(["overview"])
        new = window.page("overview")
        assert isinstance(new, ScreenView) and new is not old
        assert window.current_screen == "overview"
        assert window.stack.currentWidget() is new
        assert new.definition.widgets[
            [p.config.id for p in new.definition.widgets].index("start")
        ].config.geometry == (x, y + 2, w, h)
        assert window.page("filler") is filler_page  # unchanged screens keep their page
        assert list(window.nav.buttons) == screens
        good = new.widgets["count_good"]
        await wait_until(lambda: good_text(good) != "", 5, "live values on the new page")
        # navigation still works after the reload
        qtbot.mouseClick(window.nav.buttons["filler"], Qt.MouseButton.LeftButton)
        assert window.current_screen == "filler"
        assert window.nav.back_button.isEnabled()

    run_plant(qtbot, qloop, folder, scenario)


@pytest.mark.parametrize("allow", [False, True])
def test_the_preview_runs_live_and_writes_only_when_allowed(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path, allow: bool
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        path = folder / "screens" / "filler.yaml"
        document = ScreenDocument.load(path)
        preview = DesignPreview(plant.runtime.bus)
        qtbot.addWidget(preview)
        preview.resize(1280, 760)
        preview.show()
        others = {k: d for k, d in load_project(folder).screen_docs.items() if k != "filler"}
        tags = {t.name for t in load_project(folder).model.runtime_tags}
        assert preview.show_text(document.text(), path, "screens/filler.yaml", others, tags)
        assert not preview.allow_writes.isChecked()
        if allow:
            qtbot.mouseClick(preview.allow_writes, Qt.MouseButton.LeftButton)
            assert preview.source.allow_writes and "WRITES GO TO THE PLANT" in preview.note.text()
        view = preview.view
        assert view is not None
        entry = view.widgets["speed_sp"]
        await wait_until(lambda: good_text(entry) == "300", 5, "the live setpoint")
        click_item(qtbot, entry)
        (keypad,) = [k for k in view.findChildren(NumericKeypad) if k.isVisible()]
        qtbot.keyClicks(keypad, "450")
        qtbot.keyClick(keypad, Qt.Key.Key_Return)
        (confirm,) = [c for c in view.findChildren(ConfirmDialog) if c.isVisible()]
        qtbot.mouseClick(confirm.yes_button, Qt.MouseButton.LeftButton)
        await view.wait_writes()
        feedback = view.feedback["speed_sp"]
        if allow:
            assert not feedback.is_error, feedback.message
            assert plant.setpoint_register() == 450.0
        else:
            assert feedback.is_error and WRITES_OFF in feedback.message
            assert plant.setpoint_register() == 300.0
            assert preview.source.refused == [("line1.filler.speed_sp", 450.0)]
        preview.clear()
        assert preview.view is None
        await preview.wait_writes()
        preview.close()

    run_plant(qtbot, qloop, folder, scenario)
