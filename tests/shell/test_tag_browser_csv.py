"""The tag browser's CSV actions: export and import through the browser (problems named with
their line, nothing imported while any row is wrong), and the buttons' window-modal file dialogs
(never a nested event loop)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.shell.tag_browser import TagBrowser


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def test_csv_export_and_import_from_the_browser(qtbot: QtBot, demo: Path, tmp_path: Path) -> None:
    project_file = demo / "project.yaml"
    before = project_file.read_bytes()
    browser = TagBrowser(load_project(demo), {})
    qtbot.addWidget(browser)
    path = tmp_path / "tags.csv"
    n = len(browser.project.model.tags)
    assert browser.export_csv(path) == n
    result = browser.import_file(path)
    assert result is not None and not result.edit.changed
    assert project_file.read_bytes() == before
    assert "no change" in browser.message.text()
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",CO1,", ",CX1,")  # line 6
    lines.append("line1.extra,line1_plc,HR90,uint16,,,,,,,,,,,,,,,sometimes")  # line n + 2
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert browser.import_file(path) is None
    message = browser.message.text()
    assert "Nothing imported from tags.csv: 2 problems" in message
    assert "tags.csv:6: address: 'CX1' is not a Modbus address" in message
    assert f"tags.csv:{n + 2}: scan: unknown scan class 'sometimes'" in message
    assert project_file.read_bytes() == before
    path.write_text(
        path.read_text(encoding="utf-8").replace(",CX1,", ",CO1,").replace("sometimes", "slow"),
        encoding="utf-8",
    )
    result = browser.import_file(path)
    assert result is not None and result.edit.added == ["line1.extra"]
    assert "Restart the runtime to apply" in browser.message.text()
    assert browser.project.tag("line1.extra").scan == "slow"


def test_csv_buttons_open_dialogs_without_a_nested_loop(
    qtbot: QtBot, demo: Path, tmp_path: Path
) -> None:
    """Export CSV… and Import CSV… open window-modal dialogs and return at once (a static
    QFileDialog.get… would spin a nested loop under qasync); choosing a file does the work."""
    browser = TagBrowser(load_project(demo), {})
    qtbot.addWidget(browser)
    browser.show()
    path = tmp_path / "exported.csv"
    qtbot.mouseClick(browser.export_button, Qt.MouseButton.LeftButton)  # returns: no exec()
    dialog = browser.findChild(QFileDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowModality() is Qt.WindowModality.WindowModal
    assert dialog.acceptMode() is QFileDialog.AcceptMode.AcceptSave
    dialog.selectFile(str(path))
    dialog.accept()
    assert path.read_text(encoding="utf-8").startswith("name,connection,address,type")
    assert f"{len(browser.project.model.tags)} tags" in browser.message.text()
    qtbot.mouseClick(browser.import_button, Qt.MouseButton.LeftButton)
    opener = [d for d in browser.findChildren(QFileDialog) if d.isVisible()]
    assert len(opener) == 1 and opener[0].fileMode() is QFileDialog.FileMode.ExistingFile
    opener[0].selectFile(str(path))
    opener[0].accept()
    assert "no change" in browser.message.text()
