"""The tag editor driven with keyboard and mouse on a copy of the demo project: add a tag (a bad
address is refused with the driver's message), save into project.yaml (comments kept, only the new
item added, in a worker thread with the table locked) and reload, delete (a tag the screens use is
refused by the project check), CSV export then import round trip, unsaved changes ask before
closing, and the built-in demo is read-only. The Connections tab: a setting edited and saved
changes only its line, a new connection and a tag on it are saved together, the driver's own
message names a bad setting and blocks saving, a renamed connection takes its tags, and a
connection tags use cannot be deleted."""

from __future__ import annotations

import asyncio
import difflib
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QTableWidget,
)
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.shell.tag_editor import TagEditor
from hmi_app.shell.tag_editor_connections import CCOL
from hmi_app.shell.tag_editor_rows import COL, COL_PROBLEM
from tests.support.waiting import wait_until


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


@pytest.fixture
def editor(qtbot: QtBot, qapp: QApplication, demo: Path) -> Iterator[TagEditor]:
    qapp.setQuitOnLastWindowClosed(False)
    window = TagEditor(load_project(demo))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    yield window
    window.discard_changes()  # closing at the end of the test must not ask


def _type_cell(qtbot: QtBot, editor: TagEditor, row: int, column: str, text: str) -> None:
    """Click the cell, press F2 and type ``text`` over what it holds, then Enter (the table
    takes the text a moment later)."""
    _type_into(qtbot, editor.table, row, COL[column], text)


def _type_into(qtbot: QtBot, table: QTableWidget, row: int, col: int, text: str) -> None:
    """``_type_cell`` in any table of the editor."""
    index = table.model().index(row, col)
    table.scrollTo(index)
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center()
    )
    qtbot.keyClick(table, Qt.Key.Key_F2)
    widget = table.indexWidget(index)  # the cell's editor
    assert isinstance(widget, QLineEdit | QComboBox), "no cell editor opened"
    if isinstance(widget, QComboBox):  # a list column: type to choose, Enter takes it
        qtbot.keyClicks(widget, text)
        qtbot.keyClick(widget, Qt.Key.Key_Return)
    else:
        widget.selectAll()
        if not text:
            qtbot.keyClick(widget, Qt.Key.Key_Backspace)  # clear the cell
        qtbot.keyClicks(widget, text)
        qtbot.keyClick(widget, Qt.Key.Key_Return)


def _edit_cell(qtbot: QtBot, editor: TagEditor, row: int, column: str, text: str) -> None:
    """``_type_cell`` and wait until the table has the text."""
    _type_cell(qtbot, editor, row, column, text)
    qtbot.waitUntil(lambda: editor.row_cells(row)[column] == text, timeout=2000)


async def _edit(qtbot: QtBot, editor: TagEditor, row: int, column: str, text: str) -> None:
    """``_edit_cell`` inside a scenario running on the application's (qasync) loop."""
    _type_cell(qtbot, editor, row, column, text)
    await wait_until(lambda: editor.row_cells(row)[column] == text, 2, f"{column} = {text}")


async def _save(qtbot: QtBot, editor: TagEditor) -> None:
    """Click Save and wait for the write (it runs in a worker thread; the table is locked)."""
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert not editor.table.isEnabled(), "the table stays locked while saving"
    await editor.wait_saves()
    assert editor.table.isEnabled()


def _run(qloop: qasync.QEventLoop, scenario: Callable[[], Awaitable[None]]) -> None:
    qloop.run_until_complete(asyncio.wait_for(scenario(), 30))


def test_add_a_tag_refuse_a_bad_address_then_save_and_reload(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    before = (demo / "project.yaml").read_text(encoding="utf-8")

    async def scenario() -> None:
        count = editor.table.rowCount()
        assert editor.save_button.isEnabled() is False  # nothing changed yet
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
        row = count
        assert editor.table.rowCount() == count + 1 and editor.is_modified()
        await _edit(qtbot, editor, row, "name", "line1.filler.pressure")
        await _edit(qtbot, editor, row, "connection", "line1_plc")
        await _edit(qtbot, editor, row, "address", "XX99")
        problem = editor.row_problem(row)
        assert "not a Modbus address" in problem and "XX99" in problem
        assert "to fix before saving" in editor.status.text()
        assert not editor.save_button.isEnabled()
        assert (demo / "project.yaml").read_text(encoding="utf-8") == before  # nothing written
        await _edit(qtbot, editor, row, "address", "IR60")
        await _edit(qtbot, editor, row, "units", "bar")
        assert editor.row_problem(row) == ""
        assert editor.save_button.isEnabled()
        await _save(qtbot, editor)

    _run(qloop, scenario)
    after = (demo / "project.yaml").read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")[: len(before) // 2])  # the rest is untouched
    assert "line1.filler.pressure" in after
    assert [line for line in before.splitlines() if line.strip().startswith("#")] == [
        line for line in after.splitlines() if line.strip().startswith("#")
    ]
    assert list((demo / ".backups").glob("project-*.yaml"))  # the previous file kept
    assert not editor.is_modified()
    assert "Saved project.yaml: 1 added" in editor.message.text()
    reloaded = load_project(demo).tag("line1.filler.pressure")
    assert (reloaded.connection, reloaded.address, reloaded.units) == ("line1_plc", "IR60", "bar")
    reopened = TagEditor(load_project(demo))
    qtbot.addWidget(reopened)
    assert reopened.row_of("line1.filler.pressure") >= 0


def test_closing_with_changes_can_save_first(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    async def scenario() -> None:
        row = editor.add_row()
        await _edit(qtbot, editor, row, "name", "line1.spare")
        editor.close()
        box = editor.dialog
        assert isinstance(box, QMessageBox) and box.isVisible()
        save = box.button(QMessageBox.StandardButton.Save)
        assert save is not None and save.isEnabled()
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        await editor.wait_saves()
        await wait_until(lambda: not editor.isVisible(), 2, "the editor to close once saved")

    _run(qloop, scenario)
    assert load_project(demo).tag("line1.spare").connection == "memory"


def test_duplicate_names_unknown_connection_and_bad_limits_are_named(
    qtbot: QtBot, editor: TagEditor
) -> None:
    row = editor.add_row()
    _edit_cell(qtbot, editor, row, "name", "line1.state")
    assert "name 'line1.state' is also on row 1" in editor.row_problem(row)
    assert "is also on row" in editor.row_problem(editor.row_of("line1.state"))
    _edit_cell(qtbot, editor, row, "name", "line1.extra")
    _edit_cell(qtbot, editor, row, "address", "HR5")
    editor.table.item(row, COL["connection"]).setText("plc9")  # as a pasted cell would
    assert "unknown connection 'plc9'" in editor.row_problem(row)
    editor.table.item(row, COL["connection"]).setText("memory")
    editor.table.item(row, COL["address"]).setText("")
    _edit_cell(qtbot, editor, row, "min", "10")
    _edit_cell(qtbot, editor, row, "max", "5")
    assert "min 10.0 is above max 5.0" in editor.row_problem(row)
    _edit_cell(qtbot, editor, row, "max", "x")
    assert "is not a number" in editor.row_problem(row)
    assert not editor.table.item(row, COL_PROBLEM).flags() & Qt.ItemFlag.ItemIsEditable


def _select_row(qtbot: QtBot, editor: TagEditor, name: str) -> None:
    index = editor.table.model().index(editor.row_of(name), COL["name"])
    editor.table.scrollTo(index)
    rect = editor.table.visualRect(index)
    qtbot.mouseClick(editor.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_delete_then_save(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    project_file = demo / "project.yaml"
    before = project_file.read_bytes()

    async def scenario() -> None:
        # a tag the screens show cannot go: the project check refuses, the file stays
        _select_row(qtbot, editor, "line1.fault_code")
        qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
        assert editor.row_of("line1.fault_code") < 0
        await _save(qtbot, editor)
        assert "Not saved" in editor.message.text()
        assert "unknown tag 'line1.fault_code'" in editor.message.text()
        assert project_file.read_bytes() == before
        assert editor.is_modified()
        # a tag nothing uses: added and saved, then deleted and saved
        editor.load(load_project(demo))
        row = editor.add_row()
        await _edit(qtbot, editor, row, "name", "line1.spare")
        await _save(qtbot, editor)
        assert "line1.spare" in project_file.read_text(encoding="utf-8")
        _select_row(qtbot, editor, "line1.spare")
        qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
        await _save(qtbot, editor)
        assert "1 removed" in editor.message.text()

    _run(qloop, scenario)
    assert project_file.read_bytes() == before  # back to the original bytes
    with pytest.raises(KeyError):
        load_project(demo).tag("line1.spare")


def test_csv_export_import_round_trip(qtbot: QtBot, editor: TagEditor, tmp_path: Path) -> None:
    original = [editor.row_cells(row) for row in range(editor.table.rowCount())]
    csv_path = tmp_path / "tags.csv"
    qtbot.mouseClick(editor.export_button, Qt.MouseButton.LeftButton)
    dialog = editor.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    dialog.fileSelected.emit(str(csv_path))  # what choosing the file sends
    dialog.close()
    assert csv_path.read_text(encoding="utf-8").startswith("name,connection,address,type")
    assert f"Exported {len(original)} tags" in editor.message.text()
    # change one tag and delete another in the table, then import the export back
    speed = editor.row_of("line1.filler.speed")
    _edit_cell(qtbot, editor, speed, "units", "bottles/min")
    editor.table.selectRow(editor.row_of("line1.name"))
    editor.delete_selected()
    assert editor.import_csv(csv_path) == len(original)
    restored = {
        editor.row_cells(row)["name"]: editor.row_cells(row) for row in range(len(original))
    }
    assert restored == {cells["name"]: cells for cells in original}
    assert "1 added" in editor.message.text() and "not saved yet" in editor.message.text()
    # a file with a bad row changes nothing and names the line
    bad = tmp_path / "bad.csv"
    bad.write_text("name,connection,address,type\nline1.x,line1_plc,ZZ1,uint16\n", encoding="utf-8")
    assert editor.import_csv(bad) == 0
    assert "bad.csv:2: address" in editor.message.text()
    assert editor.row_of("line1.x") < 0


def test_unsaved_changes_ask_before_closing(qtbot: QtBot, editor: TagEditor) -> None:
    editor.add_row()
    editor.close()
    assert editor.isVisible()  # still open: it asks
    box = editor.dialog
    assert isinstance(box, QMessageBox) and box.isVisible()
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert cancel is not None
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert editor.isVisible() and editor.is_modified()
    editor.close()
    box = editor.dialog
    assert isinstance(box, QMessageBox)
    discard = box.button(QMessageBox.StandardButton.Discard)
    assert discard is not None
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=2000)


def test_connections_tab_and_read_only_demo(qtbot: QtBot) -> None:
    demo = TagEditor(load_project(demo_project_dir()))
    qtbot.addWidget(demo)
    assert demo.read_only and "read-only" in demo.windowTitle()
    names = [demo.connections.item(r, 0).text() for r in range(demo.connections.rowCount())]
    assert names == ["line1_plc", "utilities"]
    assert "bottling_line" in demo.connections.item(0, 2).text()
    hint = demo.connections.item(0, 3).toolTip()  # the settings cell says what it may hold
    assert hint.startswith("host and port come from the simulated plant 'bottling_line'")
    assert "modbus-tcp settings" in hint and "  unit_id = 1 (0..255)" in hint
    demo.add_row()
    assert not demo.save_button.isEnabled()
    assert demo.save() is None and "read-only" in demo.message.text()
    demo.discard_changes()


def test_grab_at_1280x720(editor: TagEditor, tmp_path: Path) -> None:
    row = editor.add_row()
    editor.table.item(row, COL["connection"]).setText("line1_plc")
    editor.table.item(row, COL["address"]).setText("XX99")
    QApplication.processEvents()
    image = editor.grab().toImage()
    assert (image.width(), image.height()) == (1280, 720)
    assert image.save(str(tmp_path / "tag_editor.png"))


# ---- the Connections tab -------------------------------------------------------------------------


async def _edit_connection(
    qtbot: QtBot, editor: TagEditor, row: int, column: str, text: str
) -> None:
    """Type into a cell of the Connections tab and wait until the table has it."""
    editor.tabs.setCurrentWidget(editor.connection_panel)
    panel = editor.connection_panel
    _type_into(qtbot, panel.table, row, CCOL[column], text)
    await wait_until(lambda: panel.row_cells(row)[column] == text, 2, f"{column} = {text}")


def test_edit_a_connection_setting_save_changes_only_its_line(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    path = demo / "project.yaml"
    before = path.read_text(encoding="utf-8")
    panel = editor.connection_panel
    row = panel.row_of("line1_plc")
    assert panel.row_cells(row)["settings"] == "unit_id: 1, timeout_ms: 1000"
    assert panel.row_cells(row)["tags"] == str(
        sum(
            1
            for r in range(editor.table.rowCount())
            if editor.row_cells(r)["connection"] == "line1_plc"
        )
    )
    assert "gets its host and port from the plant" in panel.note.text()

    async def scenario() -> None:
        await _edit_connection(qtbot, editor, row, "settings", "unit_id: 1, timeout_ms: 2500")
        assert panel.row_problem(row) == "" and editor.save_button.isEnabled()
        await _save(qtbot, editor)

    _run(qloop, scenario)
    after = path.read_text(encoding="utf-8")
    diff = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    assert diff == ["-    timeout_ms: 1000", "+    timeout_ms: 2500"]
    text = editor.message.text()
    assert "connections 0 added, 1 updated" in text
    assert "Restart the runtime to apply" in text
    assert load_project(demo).model.connections["line1_plc"].driver_settings()["timeout_ms"] == 2500


def test_add_a_connection_and_a_tag_on_it(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    panel = editor.connection_panel

    async def scenario() -> None:
        editor.tabs.setCurrentWidget(panel)
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
        row = panel.table.rowCount() - 1
        assert panel.row_cells(row)["driver"] == "modbus-tcp"
        await _edit_connection(qtbot, editor, row, "name", "packer_plc")
        await _edit_connection(qtbot, editor, row, "settings", "host: 10.0.0.7, port: 5020")
        assert panel.row_problem(row) == ""
        editor.tabs.setCurrentIndex(0)
        tag_row = editor.add_row()
        await _edit(qtbot, editor, tag_row, "name", "packer.count")
        await _edit(qtbot, editor, tag_row, "connection", "packer_plc")  # offered in the list
        await _edit(qtbot, editor, tag_row, "address", "HR4")
        await _edit(qtbot, editor, tag_row, "type", "uint16")
        assert editor.row_problem(tag_row) == ""
        assert panel.row_cells(row)["tags"] == "1"
        await _save(qtbot, editor)

    _run(qloop, scenario)
    assert "connections 1 added" in editor.message.text()
    project = load_project(demo)
    assert project.model.connections["packer_plc"].driver_settings() == {
        "host": "10.0.0.7",
        "port": 5020,
    }
    assert project.tag("packer.count").connection == "packer_plc"


def test_bad_settings_name_the_driver_message_and_block_saving(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    before = (demo / "project.yaml").read_bytes()
    panel = editor.connection_panel
    plc, sim = panel.row_of("line1_plc"), panel.row_of("utilities")

    async def scenario() -> None:
        await _edit_connection(qtbot, editor, plc, "settings", "unit_id: 1, port: abc")
        assert "settings.port: Input should be a valid integer" in panel.row_problem(plc)
        assert "'abc'" in panel.row_problem(plc)
        assert editor.row_problem(editor.row_of("line1.state")) == ""  # its tags wait for it
        assert "rows to fix" not in editor.status.text()
        assert not editor.save_button.isEnabled()
        assert "connection row 1 to fix" in editor.status.text()
        await _edit_connection(qtbot, editor, plc, "settings", "unit_id: 1, timeout_ms: 1000")
        await _edit_connection(qtbot, editor, sim, "settings", "colour: blue")
        assert panel.row_problem(sim) == (
            "settings.colour: Extra inputs are not permitted (got 'blue')"
        )
        await _edit_connection(qtbot, editor, sim, "settings", "colour: [blue")
        assert "not a 'key: value, ...' line" in panel.row_problem(sim)
        assert not editor.save_button.isEnabled()
        assert editor.save() is None and "Nothing saved" in editor.message.text()
        await _edit_connection(qtbot, editor, sim, "settings", "")
        assert panel.row_problem(sim) == "" and editor.save_button.isEnabled()
        await _save(qtbot, editor)  # back to what the file says: nothing to write

    _run(qloop, scenario)
    assert (demo / "project.yaml").read_bytes() == before
    assert not (demo / ".backups").exists()
    assert "Saved project.yaml: no change" in editor.message.text()


def test_delete_is_refused_while_tags_use_it_and_rename_moves_them(
    qtbot: QtBot, qloop: qasync.QEventLoop, editor: TagEditor, demo: Path
) -> None:
    panel = editor.connection_panel
    used = sum(
        1
        for r in range(editor.table.rowCount())
        if editor.row_cells(r)["connection"] == "utilities"
    )

    async def scenario() -> None:
        editor.tabs.setCurrentWidget(panel)
        row = panel.row_of("utilities")
        rect = panel.table.visualRect(panel.table.model().index(row, CCOL["driver"]))
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
        assert panel.row_of("utilities") == row  # still there
        assert f"'utilities' ({used} tags use it)" in editor.message.text()
        await _edit_connection(qtbot, editor, row, "name", "utils")
        assert f"its {used} tags moved with it" in editor.message.text()
        await _save(qtbot, editor)

    _run(qloop, scenario)
    text = (demo / "project.yaml").read_text(encoding="utf-8")
    assert "  utils:\n    driver: sim\n" in text and "connection: utilities" not in text
    project = load_project(demo)
    assert list(project.model.connections) == ["line1_plc", "utils"]
    assert sum(1 for tag in project.model.tags if tag.connection == "utils") == used
    # an unused connection can go
    row = editor.connection_panel.add_row()
    editor.connection_panel.table.selectRow(row)
    assert editor.connection_panel.delete_selected() == ["connection_1"]


def test_grab_connections_tab(editor: TagEditor, tmp_path: Path) -> None:
    editor.tabs.setCurrentWidget(editor.connection_panel)
    row = editor.connection_panel.add_row()
    editor.connection_panel.table.item(row, CCOL["settings"]).setText("host: 10.0.0.7, port: abc")
    QApplication.processEvents()
    image = editor.grab().toImage()
    assert image.save(str(tmp_path / "connections.png"))
