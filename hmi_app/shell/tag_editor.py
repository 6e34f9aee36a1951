"""The tag editor: the project's tags as a table to add, edit and delete, plus its connections.

Every row is checked as it is edited (``tag_editor_rows``: the tag model, a known connection and
scan class, the driver's address check, a unique name) and names its problem in its last column.
Nothing is written until "Save" (``tag_editor_saving``), which needs every row valid and goes, in
a worker thread, through ``hmi_app.core.project.connection_editing.save_project`` (only the changed
tag items and connection keys of ``project.yaml`` are rewritten, atomically, with a backup in
``.backups/``; the saved project is checked like ``hmi-app check`` and a refused save puts the old
file back and lists why). "Export CSV…" writes
the rows as ``tags_csv`` columns; "Import CSV…" checks the file like the tag browser's import and
merges its rows into the table (still unsaved). Closing with unsaved changes asks first.
The "Connections" tab (``tag_editor_connections``) edits the connections the same way: checked
by each driver's settings model, saved with the tags in one write
(``connection_editing.save_project``); renaming one moves its tags, deleting a used one is refused.
Tags a save adds or changes take effect in the running engine at once, and connections it adds or
edits restart with their new settings (``apply_saved``, see ``hmi_app.shell.live_tags``); removed
tags and renamed or deleted connections apply when the app is restarted.
"""

from __future__ import annotations

import asyncio
import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hmi_app.check import address_checker
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.editing import SaveResult
from hmi_app.core.project.loader import Project, demo_project_dir
from hmi_app.core.project.model import MEMORY, ConnectionConfig, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.shell.edit_table import editable_table, item_at, tool_button
from hmi_app.shell.live_tags import ApplySaved
from hmi_app.shell.tag_editor_connections import ConnectionsPanel
from hmi_app.shell.tag_editor_csv import TagCsvActions
from hmi_app.shell.tag_editor_rows import (
    COL,
    COL_PROBLEM,
    COLUMNS,
    HEADERS,
    PROBLEM_BG,
    PROBLEM_TEXT,
    ROLE_BASE,
    ChoiceDelegate,
    cells_tag,
    duplicates,
    tag_cells,
)
from hmi_app.shell.tag_editor_saving import TagSaveActions

STYLE = """
QLabel#tagEditorMessage { padding: 4px 2px; }
QTableWidget { gridline-color: #d0d0d0; selection-background-color: #c9d3dc;
    selection-color: #1a1a1a; }
"""


class TagEditor(QDialog, TagCsvActions, TagSaveActions):
    """Tags and connections of a project: edit in the table, check per row, save on "Save"."""

    saved = Signal(object)  # SaveResult, after project.yaml was written

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagEditor")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setStyleSheet(STYLE)
        self.resize(1240, 640)
        self.project = project
        self.read_only = project.folder.resolve() == demo_project_dir().resolve()
        self.apply_saved: ApplySaved | None = None
        """Hands the tags a save added to the running engine (set by the designer)."""
        self._filling = False
        self._modified = False
        self._discard = False
        self._close_after_save = False
        self._saving: asyncio.Task[SaveResult | None] | None = None
        self.dialog: QDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_tags_tab(), "Tags")
        self.connection_panel = ConnectionsPanel(self.tag_counts)
        self.connections = self.connection_panel.table
        self.connection_panel.changed.connect(self._connections_changed)
        self.connection_panel.renamed.connect(self._move_tags)
        self.connection_panel.message.connect(
            lambda text, error: self.show_message(text, error=error)
        )
        self._checked_connections: dict[str, ConnectionConfig] | None = None
        self.tabs.addTab(self.connection_panel, "Connections")
        self.message = QLabel("")
        self.message.setObjectName("tagEditorMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addLayout(self._build_buttons())
        self.load(project)

    # ---- building -----------------------------------------------------------------------------

    def _build_tags_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 8, 0, 0)
        tools = QHBoxLayout()
        self.add_button = tool_button("Add tag", "addTag", self.add_row)
        self.delete_button = tool_button("Delete", "deleteTag", self.delete_selected)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.clicked.connect(self._import_clicked)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._export_clicked)
        for button in (self.add_button, self.delete_button):
            tools.addWidget(button)
        tools.addStretch(1)
        tools.addWidget(self.import_button)
        tools.addWidget(self.export_button)
        column.addLayout(tools)
        widths = {
            "name": 210, "connection": 95, "address": 130, "type": 70, "access": 85,
            "scan": 60, "units": 55, "format": 55, "min": 70, "max": 70, "description": 150,
        }  # fmt: skip
        self.table = editable_table(
            "tagTable",
            HEADERS,
            {COL[name]: width for name, width in widths.items()},
            # the long texts share the rest
            [COL[name] for name in ("address", "description", "problem")],
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        choices = {
            "connection": lambda: [MEMORY, *sorted(self.connection_panel.names())],
            "type": lambda: [t.value for t in DataType],
            "access": lambda: ["read", "read_write"],
            "scan": lambda: list(self.project.model.scan_classes),
        }
        self._delegates: list[ChoiceDelegate] = []
        for name, source in choices.items():
            delegate = ChoiceDelegate(source, self.table)
            self._delegates.append(delegate)
            self.table.setItemDelegateForColumn(COL[name], delegate)
        self.table.itemChanged.connect(self._item_changed)
        column.addWidget(self.table, 1)
        return page

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("tagEditorStatus")
        row.addWidget(self.status, 1)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveTags")
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        row.addWidget(self.save_button)
        row.addWidget(self.close_button)
        return row

    # ---- content ------------------------------------------------------------------------------

    def load(self, project: Project) -> None:
        """Show ``project``'s tags and connections (unsaved edits are dropped)."""
        self.project = project
        self._check_address = address_checker(project)
        name = project.model.project.name
        self.setWindowTitle(f"Tags - {name}[*]" + (" (read-only demo)" if self.read_only else ""))
        self._filling = True
        self.table.setRowCount(0)
        for tag in project.model.tags:
            self._append(tag_cells(tag), tag)
        self._filling = False
        self.connection_panel.load(project)
        self._checked_connections = None
        self._set_modified(False)
        self.check_rows()

    def _append(self, cells: dict[str, str], base: TagConfig | None) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, name in enumerate(COLUMNS):
            item = QTableWidgetItem(cells.get(name, ""))
            if col == COL_PROBLEM:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setForeground(QBrush(PROBLEM_TEXT))
            self.table.setItem(row, col, item)
        self._cell(row, COL["name"]).setData(ROLE_BASE, base)
        return row

    def _cell(self, row: int, col: int) -> QTableWidgetItem:
        return item_at(self.table, row, col)

    def row_cells(self, row: int) -> dict[str, str]:
        return {name: self._cell(row, COL[name]).text() for name in COLUMNS[:-1]}

    def row_problem(self, row: int) -> str:
        return self._cell(row, COL_PROBLEM).text()

    def row_of(self, name: str) -> int:
        """The row of tag ``name`` (-1 when none)."""
        for row in range(self.table.rowCount()):
            if self._cell(row, COL["name"]).text().strip() == name:
                return row
        return -1

    def is_modified(self) -> bool:
        return self._modified

    def _set_modified(self, modified: bool) -> None:
        self._modified = modified
        self.setWindowModified(modified)

    # ---- checking -----------------------------------------------------------------------------

    def tag_counts(self) -> dict[str, int]:
        """Connection name -> how many tag rows are on it."""
        counts: dict[str, int] = {}
        for row in range(self.table.rowCount()):
            name = self._cell(row, COL["connection"]).text().strip()
            counts[name] = counts.get(name, 0) + 1
        return counts

    def check_rows(self) -> list[TagConfig] | None:
        """Check every row of both tabs, show the problems; the tags when every row is valid."""
        connections, bad_connections = self.connection_panel.check()
        for row, _problem in bad_connections:  # its tags wait for it: not "unknown connection"
            cells = self.connection_panel.row_cells(row)
            if cells["name"].strip() and cells["name"].strip() not in connections:
                kind = cells["driver"].strip() or "unknown"
                connections[cells["name"].strip()] = ConnectionConfig(driver=kind)
        if connections != self._checked_connections:  # the tags are checked against these
            model = self.project.model.model_copy(update={"connections": connections})
            self._model = model
            self._check_address = address_checker(dataclasses.replace(self.project, model=model))
            self._checked_connections = connections
        names = [self._cell(r, COL["name"]).text().strip() for r in range(self.table.rowCount())]
        doubled = duplicates(names)
        tags: list[TagConfig] = []
        bad: list[tuple[int, str]] = []
        self._filling = True
        for row in range(self.table.rowCount()):
            base = self._cell(row, COL["name"]).data(ROLE_BASE)
            tag, problem = cells_tag(self.row_cells(row), base, self._model, self._check_address)
            problem = doubled.get(row, problem)
            cell = self._cell(row, COL_PROBLEM)
            cell.setText(problem)
            cell.setToolTip(problem)
            cell.setBackground(QBrush(PROBLEM_BG) if problem else QBrush())
            if problem or tag is None:
                bad.append((row, problem))
            else:
                tags.append(tag)
        self._filling = False
        count = self.table.rowCount()
        text = f"{count} tag{'s' if count != 1 else ''}"
        if bad:
            text += f" · {len(bad)} row{'s' if len(bad) != 1 else ''} to fix before saving"
            text += f" (row {bad[0][0] + 1}: {bad[0][1]})"
        if bad_connections:
            row, problem = bad_connections[0]
            text += f" · connection row {row + 1} to fix: {problem}"
        bad += bad_connections
        if not bad and self._modified:
            text += " · unsaved changes"
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {PROBLEM_TEXT.name()};" if bad else "color: #404040;")
        self.save_button.setEnabled(not bad and self._modified and not self.read_only)
        return None if bad else tags

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() == COL_PROBLEM:
            return
        self._set_modified(True)
        self.check_rows()

    def _connections_changed(self) -> None:
        self._set_modified(True)
        self.check_rows()

    def _move_tags(self, old: str, new: str) -> None:
        """A renamed connection takes its tag rows along (saved with the rename)."""
        rows = [
            row
            for row in range(self.table.rowCount())
            if self._cell(row, COL["connection"]).text().strip() == old
        ]
        self._filling = True
        for row in rows:
            self._cell(row, COL["connection"]).setText(new)
        self._filling = False
        if rows:
            self.show_message(
                f"Renamed connection {old!r} to {new!r}; its {len(rows)} "
                f"tag{'s' if len(rows) != 1 else ''} moved with it (not saved yet)."
            )

    # ---- edits --------------------------------------------------------------------------------

    def add_row(self) -> int:
        """A new memory tag row with a free name, ready to edit; its row."""
        names = {self._cell(r, COL["name"]).text() for r in range(self.table.rowCount())}
        number = 1
        while f"new_tag_{number}" in names:
            number += 1
        cells = {
            "name": f"new_tag_{number}",
            "connection": MEMORY,
            "type": "float32",
            "access": "read",
            "scan": "normal",
        }
        self._filling = True
        row = self._append(cells, None)
        self._filling = False
        self._set_modified(True)
        self.check_rows()
        self.table.setCurrentCell(row, COL["name"])
        self.table.scrollToItem(self._cell(row, COL["name"]))
        self.table.setFocus()
        return row

    def delete_selected(self) -> list[str]:
        """Remove the selected rows (saved only with "Save"); the names removed."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        removed = [self._cell(row, COL["name"]).text() for row in rows]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._set_modified(True)
            self.check_rows()
            self.show_message(f"Removed {', '.join(reversed(removed))} (not saved yet).")
        return removed

    # ---- saving (the rest is in tag_editor_saving) -----------------------------------------

    def _set_busy(self, busy: bool) -> None:
        widgets = (self.table, self.add_button, self.delete_button, self.import_button)
        for widget in (*widgets, self.connection_panel):
            widget.setEnabled(not busy)
        if busy:
            self.save_button.setEnabled(False)
        else:
            self.check_rows()

    # ---- messages and closing -----------------------------------------------------------------

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {PROBLEM_TEXT.name() if error else '#262626'};")

    def show_problems(self, title: str, issues: list[ProjectIssue]) -> None:
        shown = [str(issue) for issue in issues[:8]]
        if len(issues) > 8:
            shown.append(f"… and {len(issues) - 8} more")
        self.show_message(f"{title}:\n" + "\n".join(shown), error=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._modified or self._discard:
            event.accept()
            return
        event.ignore()
        self.ask_before_closing()

    def ask_before_closing(self) -> QMessageBox:
        """Ask (non-modal) whether to save, discard or keep editing the unsaved changes."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved tag changes",
            "The tag table has changes that are not saved. Save them to project.yaml?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("unsavedTags")
        if self.read_only or self.check_rows() is None:
            save = box.button(QMessageBox.StandardButton.Save)
            if save is not None:
                save.setEnabled(False)
        box.finished.connect(lambda result: self._answered(QMessageBox.StandardButton(result)))
        self.dialog = box
        box.open()
        return box

    def discard_changes(self) -> None:
        """Close without asking, dropping unsaved changes."""
        self._discard = True
        self.close()

    def _answered(self, answer: QMessageBox.StandardButton) -> None:
        if answer == QMessageBox.StandardButton.Save:
            self._close_after_save = self.save() is not None  # closes once written
        elif answer == QMessageBox.StandardButton.Discard:
            self.discard_changes()
