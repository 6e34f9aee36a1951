"""The designer window's save check and leaving, on the running app: an error (a widget pushed
off the screen in the inspector) blocks the save, is listed and jumps to its widget; leaving with
unsaved changes asks Save / Discard / Cancel; a changed faceplate template applies to faceplates
opened afterwards; the app closing with the designer open keeps the unsaved edits in a recovery
copy; the built-in demo is read-only, and Tags… opens the tag editor."""

from __future__ import annotations

from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality, TagValue
from hmi_app.shell.design_window import DesignerWindow
from hmi_app.shell.tag_editor import TagEditor
from hmi_app.shell.tag_editor_connections import CCOL
from hmi_app.shell.tag_editor_rows import COL
from screens.designer.entries import WidgetEntry
from screens.faceplate import FaceplateDialog
from screens.memory_source import MemoryTagSource
from screens.renderer import ScreenView
from tests.shell.test_design_mode import Plant, copy_demo, run_plant
from tests.shell.test_design_scenario import click, tool
from tests.shell.test_design_screens import name_it, open_designer, select
from tests.support.items import click_item
from tests.support.waiting import wait_until


def test_an_error_blocks_the_save_and_jumps_to_its_widget(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    path = folder / "screens" / "overview.yaml"
    original = path.read_bytes()

    async def scenario(plant: Plant) -> None:
        designer = await open_designer(qtbot, plant)
        canvas, document = designer.canvas, designer.document
        assert canvas is not None and document is not None
        # push the START button off the screen with the inspector's x field
        click(qtbot, canvas, canvas.item_rect("start").center())
        assert canvas.selected() == ["start"]
        spin = designer.inspector.geometry_spins["x"]
        spin.selectAll()
        qtbot.keyClicks(spin, "1250")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert document.entry("start").geometry[0] == 1250
        click(qtbot, canvas, canvas.item_rect("filler").center())  # look elsewhere
        click(qtbot, tool(designer, "save"))
        await designer.wait_saves()  # checked in a worker thread
        assert path.read_bytes() == original  # not saved
        errors = designer.issues.errors()
        assert [e.widget_id for e in errors] == ["start"]
        assert "outside" in errors[0].message
        assert canvas.selected() == ["start"]  # the save jumped to the first error
        assert designer.status.text().startswith("Not saved: 1 error")
        # double-click the error in the list: the widget is selected again
        click(qtbot, canvas, canvas.item_rect("filler").center())
        listing = designer.issues.list
        row = listing.visualItemRect(listing.item(designer.issues.row_of("start")))
        # a double-click is a press and release, then the double-click event
        click(qtbot, listing.viewport(), row.center())
        qtbot.mouseDClick(listing.viewport(), Qt.MouseButton.LeftButton, pos=row.center())
        assert canvas.selected() == ["start"]
        # undo it: the check is clean again and the save goes through (nothing to write)
        click(qtbot, tool(designer, "undo"))
        click(qtbot, tool(designer, "check"))
        assert designer.issues.summary.text() == "Checking overview.yaml…"  # in a worker thread
        await designer.wait_saves()
        assert designer.issues.errors() == []
        designer.close()
        assert not designer.isVisible()  # nothing unsaved: closes without asking

    run_plant(qtbot, qloop, folder, scenario)


def test_leaving_with_unsaved_changes_asks_save_discard_or_cancel(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    path = folder / "screens" / "overview.yaml"
    original = path.read_bytes()

    async def scenario(plant: Plant) -> None:
        designer = await open_designer(qtbot, plant)
        canvas, document = designer.canvas, designer.document
        assert canvas is not None and document is not None
        click(qtbot, canvas, canvas.item_rect("start").center())
        qtbot.keyClick(canvas, Qt.Key.Key_Right)  # nudge
        assert document.is_modified() and designer.windowTitle().startswith("Designer - overview *")

        def answer(button: QMessageBox.StandardButton) -> None:
            box = designer.question
            assert isinstance(box, QMessageBox) and box.isVisible()
            assert box.objectName() == "unsavedChanges"
            click(qtbot, box.button(button))

        # another screen: Cancel stays on the overview with its edit
        select(qtbot, designer, "filler")
        answer(QMessageBox.StandardButton.Cancel)
        assert designer.document is document and document.is_modified()
        # closing: Cancel keeps the window open
        designer.close()
        answer(QMessageBox.StandardButton.Cancel)
        assert designer.isVisible()
        # Save from the question, then the other screen opens
        select(qtbot, designer, "filler")
        answer(QMessageBox.StandardButton.Save)
        await designer.wait_saves()
        assert path.read_bytes() != original
        assert designer.document is not None and designer.document.name == "filler"
        # an edit on the filler, discarded on closing: the file stays as it was
        filler = folder / "screens" / "filler.yaml"
        before = filler.read_bytes()
        canvas = designer.canvas
        assert canvas is not None
        click(qtbot, canvas, canvas.item_rect(designer.document.entries()[-1].id).center())
        qtbot.keyClick(canvas, Qt.Key.Key_Down)
        assert designer.document.is_modified()
        designer.close()
        answer(QMessageBox.StandardButton.Discard)
        assert not designer.isVisible()
        assert filler.read_bytes() == before
        assert plant.window.page("overview") is not None

    run_plant(qtbot, qloop, folder, scenario)


def test_a_changed_faceplate_applies_to_faceplates_opened_afterwards(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        window = plant.window
        overview = window.page("overview")
        assert isinstance(overview, ScreenView)
        click_item(qtbot, overview.widgets["filler"])
        (first,) = window.faceplates.dialogs()
        assert first.view is not None
        before = set(first.view.widgets)
        first.close()
        designer = await open_designer(qtbot, plant)
        select(qtbot, designer, "machine_faceplate")
        document = designer.document
        assert document is not None and document.name == "machine_faceplate"
        note = WidgetEntry("note", "text", (16, 530, 200, 20), props={"text": "{equipment}"})
        document.add_widgets([note])
        # the template previews with the parameters of its first use (the filler's click)
        click(qtbot, tool(designer, "preview"))
        assert designer.status.text() == "Preview: preparing…"  # read in a worker thread
        await designer.preview.wait_shown()
        assert designer.status.text() == "Preview: live values"
        view = designer.preview.view
        assert view is not None and "note" in view.widgets
        assert view.definition.params["equipment"] == "line1.infeed"  # the overview's first
        click(qtbot, tool(designer, "preview"))
        click(qtbot, tool(designer, "save"))
        await designer.wait_saves()
        box = designer.question
        if isinstance(box, QMessageBox) and box.isVisible():  # overlap warnings ask
            click(qtbot, box.button(QMessageBox.StandardButton.Save))
            await designer.wait_saves()
        assert not document.is_modified()
        click_item(qtbot, overview.widgets["filler"])
        dialogs = [d for d in window.faceplates.dialogs() if isinstance(d, FaceplateDialog)]
        (second,) = dialogs
        assert second.view is not None
        assert set(second.view.widgets) == before | {"note"}
        designer.close()

    run_plant(qtbot, qloop, folder, scenario)


def test_the_app_closing_keeps_unsaved_designer_edits_in_a_recovery_copy(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    path = folder / "screens" / "overview.yaml"
    original = path.read_bytes()
    seen: dict[str, str] = {}

    async def scenario(plant: Plant) -> None:
        designer = await open_designer(qtbot, plant)
        assert designer.document is not None
        designer.document.set_prop("start", "text", "GO")
        seen["text"] = designer.document.text()
        # run_plant's shutdown closes the tools as the app does (close_tools)

    run_plant(qtbot, qloop, folder, scenario)
    assert path.read_bytes() == original
    (copy,) = (folder / "screens" / ".backups").glob("overview-unsaved-*.yaml")
    assert copy.read_text(encoding="utf-8") == seen["text"]


def test_the_builtin_demo_is_read_only_and_tags_opens_the_tag_editor(qtbot: QtBot) -> None:
    project = load_project(demo_project_dir())
    path = project.folder / "screens" / "overview.yaml"
    original = path.read_bytes()
    designer = DesignerWindow(project, MemoryTagSource.for_project(project.model))
    # not qtbot.addWidget: the window deletes itself on close, which the test ends with
    designer.resize(1280, 800)
    designer.show()
    qtbot.waitExposed(designer)
    canvas, document = designer.canvas, designer.document
    assert canvas is not None and document is not None and designer.read_only
    click(qtbot, canvas, canvas.item_rect("start").center())
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert document.is_modified()
    click(qtbot, tool(designer, "save"))
    assert "read-only" in designer.status.text() and document.is_modified()
    assert path.read_bytes() == original
    # Tags…: the tag editor, not modal, over the project as saved
    click(qtbot, tool(designer, "tags"))
    editor = designer.tag_editor
    assert isinstance(editor, TagEditor) and editor.isVisible() and not editor.isModal()
    assert editor.read_only
    editor.close()
    # leaving: Discard (nothing is written to the built-in demo)
    designer.close()
    box = designer.question
    assert isinstance(box, QMessageBox)
    click(qtbot, box.button(QMessageBox.StandardButton.Discard))
    assert not designer.isVisible()
    assert path.read_bytes() == original


def test_a_screen_whose_file_is_named_otherwise_opens_by_its_name(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    (folder / "screens" / "overview.yaml").rename(folder / "screens" / "main_view.yaml")
    project_file = folder / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(
        text.replace("- screens/overview.yaml", "- screens/main_view.yaml").replace(
            "start_screen: overview", "start_screen: main_view"
        ),
        encoding="utf-8",
    )
    project = load_project(folder)
    designer = DesignerWindow(
        project, MemoryTagSource.for_project(project.model), screen="overview"
    )
    designer.show()
    assert designer.document is not None and designer.document.name == "overview"
    assert designer.document.path.name == "main_view.yaml"
    assert designer.screens.current() == "main_view"
    designer.close()


def _standalone(qtbot: QtBot, folder: Path, screen: str) -> DesignerWindow:
    """A designer on ``folder`` without the running app (no operator window to reload)."""
    project = load_project(folder)
    designer = DesignerWindow(project, MemoryTagSource.for_project(project.model), screen=screen)
    designer.resize(1280, 800)
    designer.show()
    qtbot.waitExposed(designer)
    return designer


def click_and_wait_saves(
    qtbot: QtBot, qloop: qasync.QEventLoop, designer: DesignerWindow, button: QWidget
) -> None:
    """Click ``button`` with the app's loop running (a save is a task on it) and wait for the
    save it starts to end."""

    async def go() -> None:
        click(qtbot, button)
        await designer.wait_saves()

    qloop.run_until_complete(go())


def test_renaming_another_screen_updates_the_open_one_and_keeps_its_edits(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    designer = _standalone(qtbot, folder, "overview")
    canvas, document = designer.canvas, designer.document
    assert canvas is not None and document is not None
    click(qtbot, canvas, canvas.item_rect("start").center())
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    moved = document.entry("start").geometry
    # rename the filler screen: the overview's "Filler detail" button follows, on disk
    designer.screens.set_current("filler")  # marked in the list without opening it
    name_it(qtbot, designer, "rename", "filling")
    assert document.entry("filler_detail").props["screen"] == "filling"
    assert document.entry("start").geometry == moved and document.is_modified()
    click_and_wait_saves(qtbot, qloop, designer, tool(designer, "save"))
    text = (folder / "screens" / "overview.yaml").read_text(encoding="utf-8")
    assert "screen: filling" in text and not document.is_modified()
    designer.close()


def test_a_file_changed_on_disk_asks_before_it_is_overwritten(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    path = folder / "screens" / "overview.yaml"
    designer = _standalone(qtbot, folder, "overview")
    canvas, document = designer.canvas, designer.document
    assert canvas is not None and document is not None
    click(qtbot, canvas, canvas.item_rect("start").center())
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    # someone else changes the same widget meanwhile
    theirs = path.read_text(encoding="utf-8").replace("geometry: [902, 42,", "geometry: [900, 42,")
    path.write_text(theirs, encoding="utf-8")
    click_and_wait_saves(qtbot, qloop, designer, tool(designer, "save"))
    box = designer.question
    assert isinstance(box, QMessageBox) and box.objectName() == "changedOnDisk"
    assert path.read_text(encoding="utf-8") == theirs  # nothing overwritten yet
    click_and_wait_saves(qtbot, qloop, designer, box.button(QMessageBox.StandardButton.Save))
    assert path.read_text(encoding="utf-8") == document.text()
    assert "geometry: [903, 42," in document.text() and not document.is_modified()
    designer.close()


def test_a_tag_added_in_the_designers_tag_editor_is_live_without_a_restart(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)

    async def scenario(plant: Plant) -> None:
        designer = await open_designer(qtbot, plant)
        click(qtbot, tool(designer, "tags"))
        editor = designer.tag_editor
        assert isinstance(editor, TagEditor) and not editor.read_only
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
        row = editor.table.rowCount() - 1
        for column, text in (
            ("name", "line1.filler.speed_b"),
            ("connection", "line1_plc"),
            ("address", "IR10"),
            ("type", "float32"),
        ):
            editor.table.item(row, COL[column]).setText(text)
        # and a connection's settings (the PLC answers slowly today)
        panel = editor.connection_panel
        row_of = [panel.table.item(r, CCOL["name"]).text() for r in range(panel.table.rowCount())]
        settings = panel.table.item(row_of.index("line1_plc"), CCOL["settings"])
        assert "unit_id: 1" in settings.text()
        settings.setText("unit_id: 1, timeout_ms: 2500")
        old_driver = plant.runtime.drivers["line1_plc"]
        await editor_save(qtbot, editor)
        message = editor.message.text()
        assert "1 new tag live now; connection line1_plc restarting" in message, message
        await plant.runtime.wait_applied()
        assert plant.runtime.drivers["line1_plc"] is not old_driver
        assert designer.status.text().startswith("Tags saved: the running app uses them now")
        assert "line1.filler.speed_b" in designer.tags  # the inspector and the check know it
        seen: list[TagValue] = []
        subscription = plant.runtime.engine.subscribe("line1.filler.speed_b", seen.append)
        await wait_until(
            lambda: any(v.quality is Quality.GOOD for v in seen), 10, "its value from the PLC"
        )
        subscription.cancel()
        # a changed tag takes its new units at once; the operator pages are built again
        before = plant.window.page("overview")
        speed_row = editor.row_of("line1.filler.speed")
        editor.table.item(speed_row, COL["units"]).setText("b/min")
        await editor_save(qtbot, editor)
        assert "1 changed tag updated" in editor.message.text(), editor.message.text()
        assert plant.runtime.engine.meta("line1.filler.speed").units == "b/min"
        page = plant.window.page("overview")
        assert isinstance(page, ScreenView) and page is not before
        meta = page.widgets["speed_trend"].meta("value")
        assert meta is not None and meta.units == "b/min"
        editor.close()
        designer.close()

    run_plant(qtbot, qloop, folder, scenario)


async def editor_save(qtbot: QtBot, editor: TagEditor) -> None:
    """Save in the tag editor and wait for the write (a worker thread)."""
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    await editor.wait_saves()
