"""Screen management in the designer, through its buttons and name dialogs, on the running app:
a new screen and a new template, rename, duplicate, start screen, delete; the operator window's
navigation follows every change without a restart, templates stay out of it, and what would
break the project (deleting the start screen, renaming a screen with unsaved edits) is refused
with the reason."""

from __future__ import annotations

from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from ruamel.yaml import YAML

from hmi_app.shell.design_names import NameDialog
from hmi_app.shell.design_window import DesignerWindow
from tests.shell.test_design_mode import PIN, Plant, copy_demo, pin_dialog, run_plant, type_pin
from tests.shell.test_design_scenario import click
from tests.support.waiting import wait_exposed


def _project(folder: Path) -> dict[str, object]:
    data = YAML(typ="safe").load((folder / "project.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


async def open_designer(qtbot: QtBot, plant: Plant) -> DesignerWindow:
    """Design button, PIN: the designer on the current screen."""
    assert plant.window.design_button is not None
    click(qtbot, plant.window.design_button)
    await type_pin(qtbot, pin_dialog(plant.window), PIN)
    designer = plant.design.designer
    assert designer is not None
    await wait_exposed(designer)
    return designer


def name_it(qtbot: QtBot, designer: DesignerWindow, button: str, name: str) -> NameDialog:
    """Click a screen-list button and answer its name dialog (it stays open when refused)."""
    click(qtbot, designer.screens.buttons[button])
    dialog = designer.screens.question
    assert isinstance(dialog, NameDialog) and dialog.isVisible() and not dialog.isModal()
    dialog.edit.clear()
    qtbot.keyClicks(dialog.edit, name)
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    return dialog


def select(qtbot: QtBot, designer: DesignerWindow, key: str) -> None:
    """Click the screen ``key`` in the list (it opens on the canvas)."""
    listing = designer.screens.list
    rect = listing.visualItemRect(designer.screens.item_of(key))
    click(qtbot, listing.viewport(), rect.center())


def test_new_rename_duplicate_start_delete_and_the_operator_navigation_follows(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        window = plant.window
        designer = await open_designer(qtbot, plant)
        screens_before = list(window.nav.buttons)

        # a new screen: its file, the project's list, opened in the designer, in the navigation
        name_it(qtbot, designer, "new", "pump_house")
        assert designer.status.text() == "Reading the project's screens…"  # off the GUI thread
        await designer.wait_saves()
        assert (folder / "screens" / "pump_house.yaml").exists()
        assert "screens/pump_house.yaml" in _project(folder)["screens"]  # type: ignore[operator]
        assert designer.document is not None and designer.document.name == "pump_house"
        assert list(window.nav.buttons) == [*screens_before, "pump_house"]

        # a name already taken is refused in the dialog, which stays open with the reason
        dialog = name_it(qtbot, designer, "new", "filler")
        assert dialog.isVisible() and dialog.error.text()
        dialog.close()

        # a template with a parameter: listed apart, never in the operator navigation
        name_it(qtbot, designer, "template", "pump_face: equipment")
        await designer.wait_saves()
        assert designer.screens.templates() == ["machine_faceplate", "pump_face"]
        assert "pump_face" not in window.nav.buttons
        assert designer.document is not None and designer.document.name == "pump_face"

        # rename: file, name and navigation follow
        select(qtbot, designer, "pump_house")
        name_it(qtbot, designer, "rename", "pumps")
        await designer.wait_saves()
        assert not (folder / "screens" / "pump_house.yaml").exists()
        assert (folder / "screens" / "pumps.yaml").exists()
        assert list(window.nav.buttons) == [*screens_before, "pumps"]
        assert designer.document is not None and designer.document.name == "pumps"

        # duplicate the filler screen
        select(qtbot, designer, "filler")
        name_it(qtbot, designer, "duplicate", "filler_2")
        await designer.wait_saves()
        copy = (folder / "screens" / "filler_2.yaml").read_text(encoding="utf-8")
        assert "name: filler_2" in copy
        assert "filler_2" in window.nav.buttons

        # the start screen
        select(qtbot, designer, "utilities")
        click(qtbot, designer.screens.buttons["start"])
        await designer.wait_saves()
        assert _project(folder)["project"]["start_screen"] == "utilities"  # type: ignore[index]
        assert designer.screens.item_of("utilities").text().endswith("start")

        # deleting the start screen is refused, with the reason
        click(qtbot, designer.screens.buttons["delete"])
        box = designer.screens.question
        assert isinstance(box, QMessageBox)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        refused = designer.screens.question
        assert isinstance(refused, QMessageBox) and "start screen" in refused.text()
        refused.close()
        assert (folder / "screens" / "utilities.yaml").exists()

        # delete the copy: gone from the list and the navigation, its file kept in .backups
        select(qtbot, designer, "filler_2")
        click(qtbot, designer.screens.buttons["delete"])
        box = designer.screens.question
        assert isinstance(box, QMessageBox)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        await designer.wait_saves()
        assert not (folder / "screens" / "filler_2.yaml").exists()
        assert "filler_2" not in window.nav.buttons
        assert "filler_2" not in designer.screens.screen_keys()
        assert any(
            p.name.startswith("filler_2-") for p in (folder / "screens" / ".backups").iterdir()
        )
        assert designer.document is not None and designer.document.name != "filler_2"

        # a screen with unsaved edits cannot be renamed under the designer's feet
        select(qtbot, designer, "pumps")
        assert designer.document is not None and designer.document.name == "pumps"
        designer.document.set_screen_props(title="Pump house")
        dialog = name_it(qtbot, designer, "rename", "pump_room")
        assert "unsaved changes" in dialog.error.text()
        dialog.close()
        assert (folder / "screens" / "pumps.yaml").exists()
        designer.document.undo_stack.undo()
        designer.close()
        # opened again, the designer lists the screens as they are now
        designer = await open_designer(qtbot, plant)
        assert "pumps" in designer.screens.screen_keys()
        assert "filler_2" not in designer.screens.screen_keys()
        designer.close()

    run_plant(qtbot, qloop, folder, scenario, within=60)
