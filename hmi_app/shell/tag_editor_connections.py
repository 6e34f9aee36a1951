"""The tag editor's "Connections" tab: the project's connections as rows to add, edit and delete.

A row is a connection: its name, driver, simulated plant and driver settings written as one YAML
line (``host: 10.0.0.5, port: 502``). Each row is checked as it is edited, by the project model
(``ConnectionConfig``) and by the driver's own settings model (``drivers.registry.create``, as
``hmi-app check`` does), and names its problem in its last column. Renaming a connection moves the
tag rows on it to the new name; deleting one is refused while tags use it. The rows are saved with
the tags by the editor (``connection_editing.save_project``); the running app keeps its current
connections until it is restarted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from drivers import registry
from hmi_app.core.project.editing import dump_mapping
from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import MEMORY, ConnectionConfig
from hmi_app.plant.registry import plant_names
from hmi_app.runtime.runtime import driver_settings
from hmi_app.shell.edit_table import editable_table, item_at, tool_button
from hmi_app.shell.tag_editor_rows import (
    PROBLEM_BG,
    PROBLEM_TEXT,
    ROLE_BASE,
    ChoiceDelegate,
    duplicates,
    validation_message,
)

CONNECTION_COLUMNS = ("name", "driver", "plant", "settings", "tags", "problem")
CONNECTION_HEADERS = ("Connection", "Driver", "Simulated plant", "Settings", "Tags", "Problem")
CCOL = {name: index for index, name in enumerate(CONNECTION_COLUMNS)}
ROLE_PREVIOUS = Qt.ItemDataRole.UserRole + 2
"""The name a connection row had before its latest edit (to move its tags on a rename)."""
NOTE = (
    "Settings are a YAML line of the driver's keys, e.g. <i>host: 10.0.0.5, port: 502</i>. "
    "A connection with a simulated plant gets its host and port from the plant served inside "
    "the app. A saved connection restarts with its new settings at once; renaming or deleting "
    "one applies when the app is restarted."
)
_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def settings_tooltip(kind: str, plant: str) -> str:
    """What the settings cell of a ``kind`` connection may hold: every key of the driver with
    its default, range and meaning (and where host and port come from with a plant)."""
    lines = [f"host and port come from the simulated plant {plant!r}"] if plant else []
    if kind in registry.kinds():
        keys = registry.settings_help(kind)
        if keys:
            lines.append(f"{kind} settings, as one line of key: value, key: value")
            lines.extend(f"  {key}" for key in keys)
    return "\n".join(lines)


def settings_text(settings: Mapping[str, Any]) -> str:
    """Driver settings as the one YAML line a row shows (``a: 1, b: x``)."""
    if not settings:
        return ""
    return dump_mapping(dict(settings), flow=True).strip()[1:-1]


def parse_settings(text: str) -> tuple[dict[str, Any] | None, str]:
    """The settings a row's YAML line means, or None and why it cannot be read."""
    if not text.strip():
        return {}, ""
    try:
        data = YAML(typ="safe").load("{" + text + "}")
    except YAMLError as exc:
        detail = str(getattr(exc, "problem", "") or exc).splitlines()[0]
        return None, f"settings: not a 'key: value, ...' line ({detail})"
    if not isinstance(data, dict) or any(value is None for value in data.values()):
        return None, "settings: write each setting as 'key: value', separated by commas"
    return {str(key): value for key, value in data.items()}, ""


def connection_from_cells(
    cells: Mapping[str, str], folder: Path
) -> tuple[ConnectionConfig | None, str]:
    """The connection a row describes and what is wrong with it ("" when nothing)."""
    name, kind, plant = cells["name"].strip(), cells["driver"].strip(), cells["plant"].strip()
    if not name:
        return None, "name: is required"
    if name == MEMORY:
        return None, f"name: {MEMORY!r} is reserved for memory tags"
    if kind not in registry.kinds():
        return None, f"driver: unknown driver {kind!r}; known: {', '.join(registry.kinds())}"
    settings, problem = parse_settings(cells["settings"])
    if settings is None:
        return None, problem
    for key in ("driver", "simulated_plant"):
        if key in settings:
            return None, f"settings: {key} has its own column"
    if plant and plant not in plant_names():
        return None, f"simulated plant: unknown {plant!r} (known: {', '.join(plant_names())})"
    try:
        connection = ConnectionConfig.model_validate(
            {"driver": kind, "simulated_plant": plant or None, **settings}
        )
        registry.create(kind, name, driver_settings(connection, folder))
    except ValidationError as exc:
        return None, f"settings.{validation_message(exc)}"
    return connection, ""


class ConnectionsPanel(QWidget):
    """The Connections tab: a checked table of connections with Add and Delete."""

    changed = Signal()  # a row was added, edited or deleted
    renamed = Signal(str, str)  # old name, new name: the editor moves the tags
    message = Signal(str, bool)  # text, is an error

    def __init__(self, tag_counts: Callable[[], Mapping[str, int]], parent: QWidget | None = None):
        super().__init__(parent)
        self.tag_counts = tag_counts
        self.folder = Path(".")
        self._filling = False
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 0, 0)
        tools = QHBoxLayout()
        self.add_button = tool_button("Add connection", "addConnection", self.add_row)
        self.delete_button = tool_button("Delete", "deleteConnection", self.delete_selected)
        tools.addWidget(self.add_button)
        tools.addWidget(self.delete_button)
        tools.addStretch(1)
        column.addLayout(tools)
        widths = {"name": 160, "driver": 110, "plant": 130, "tags": 50}
        self.table = editable_table(
            "connectionTable",
            CONNECTION_HEADERS,
            {CCOL[name]: width for name, width in widths.items()},
            [CCOL["settings"], CCOL["problem"]],
        )
        self.table.verticalHeader().setVisible(False)
        self._delegates = [
            ChoiceDelegate(registry.kinds, self.table),
            ChoiceDelegate(lambda: ["", *plant_names()], self.table),
        ]
        self.table.setItemDelegateForColumn(CCOL["driver"], self._delegates[0])
        self.table.setItemDelegateForColumn(CCOL["plant"], self._delegates[1])
        self.table.itemChanged.connect(self._item_changed)
        column.addWidget(self.table, 1)
        self.note = QLabel(NOTE)
        self.note.setObjectName("connectionNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #404040; padding: 2px;")
        column.addWidget(self.note)

    # ---- content ------------------------------------------------------------------------------

    def load(self, project: Project) -> None:
        """Show ``project``'s connections (unsaved edits are dropped)."""
        self.folder = project.folder
        self._filling = True
        self.table.setRowCount(0)
        for name, connection in project.model.connections.items():
            cells = {
                "name": name,
                "driver": connection.driver,
                "plant": connection.simulated_plant or "",
                "settings": settings_text(connection.driver_settings()),
            }
            self._append(cells, name)
        self._filling = False

    def _append(self, cells: Mapping[str, str], base: str | None) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, name in enumerate(CONNECTION_COLUMNS):
            item = QTableWidgetItem(cells.get(name, ""))
            if name in ("tags", "problem"):
                item.setFlags(_READ_ONLY)
            if name == "problem":
                item.setForeground(QBrush(PROBLEM_TEXT))
            self.table.setItem(row, col, item)
        name_cell = self._cell(row, CCOL["name"])
        name_cell.setData(ROLE_BASE, base)
        name_cell.setData(ROLE_PREVIOUS, cells.get("name", ""))
        return row

    def _cell(self, row: int, col: int) -> QTableWidgetItem:
        return item_at(self.table, row, col)

    def row_cells(self, row: int) -> dict[str, str]:
        """The texts of a row, by column name."""
        return {name: self._cell(row, CCOL[name]).text() for name in CONNECTION_COLUMNS}

    def row_problem(self, row: int) -> str:
        return self._cell(row, CCOL["problem"]).text()

    def row_of(self, name: str) -> int:
        """The row of connection ``name`` (-1 when none)."""
        for row in range(self.table.rowCount()):
            if self._cell(row, CCOL["name"]).text().strip() == name:
                return row
        return -1

    def names(self) -> list[str]:
        """The connection names the rows hold now."""
        rows = range(self.table.rowCount())
        return [n for n in (self._cell(r, CCOL["name"]).text().strip() for r in rows) if n]

    def renames(self) -> dict[str, str]:
        """Saved name -> new name of every renamed row."""
        found: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            cell = self._cell(row, CCOL["name"])
            base, now = cell.data(ROLE_BASE), cell.text().strip()
            if base and now != base:
                found[str(base)] = now
        return found

    # ---- checking -----------------------------------------------------------------------------

    def check(self) -> tuple[dict[str, ConnectionConfig], list[tuple[int, str]]]:
        """Check every row and show the problems: the valid connections and the bad rows."""
        rows = range(self.table.rowCount())
        doubled = duplicates([self._cell(r, CCOL["name"]).text().strip() for r in rows])
        counts = self.tag_counts()
        good: dict[str, ConnectionConfig] = {}
        bad: list[tuple[int, str]] = []
        self._filling = True
        for row in rows:
            cells = self.row_cells(row)
            connection, problem = connection_from_cells(cells, self.folder)
            problem = doubled.get(row, problem)
            name = cells["name"].strip()
            self._cell(row, CCOL["tags"]).setText(str(counts.get(name, 0)))
            cell = self._cell(row, CCOL["problem"])
            cell.setText(problem)
            cell.setToolTip(problem)
            cell.setBackground(QBrush(PROBLEM_BG) if problem else QBrush())
            if problem or connection is None:
                bad.append((row, problem))
            else:
                good[name] = connection
            plant = cells["plant"].strip()
            self._cell(row, CCOL["settings"]).setToolTip(
                settings_tooltip(cells["driver"].strip(), plant)
            )
        self._filling = False
        return good, bad

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() in (CCOL["tags"], CCOL["problem"]):
            return
        if item.column() == CCOL["name"]:
            before, now = str(item.data(ROLE_PREVIOUS) or ""), item.text().strip()
            self._filling = True
            item.setData(ROLE_PREVIOUS, now)
            self._filling = False
            if before and now and before != now:
                self.renamed.emit(before, now)
        self.changed.emit()

    # ---- edits --------------------------------------------------------------------------------

    def add_row(self) -> int:
        """A new Modbus TCP connection row with a free name, ready to edit; its row."""
        taken = set(self.names())
        number = 1
        while f"connection_{number}" in taken:
            number += 1
        cells = {
            "name": f"connection_{number}",
            "driver": "modbus-tcp",
            "settings": "host: 127.0.0.1, port: 502",
        }
        self._filling = True
        row = self._append(cells, None)
        self._filling = False
        self.changed.emit()
        self.table.setCurrentCell(row, CCOL["name"])
        self.table.scrollToItem(self._cell(row, CCOL["name"]))
        self.table.setFocus()
        return row

    def delete_selected(self) -> list[str]:
        """Remove the selected rows no tag uses (saved only with "Save"); the names removed.
        A connection tags still use is kept and the message says how many."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        counts = self.tag_counts()
        removed: list[str] = []
        refused: list[str] = []
        for row in rows:
            name = self._cell(row, CCOL["name"]).text().strip()
            used = counts.get(name, 0)
            if used:
                refused.append(f"{name!r} ({used} tag{'s' if used != 1 else ''} use it)")
                continue
            self.table.removeRow(row)
            removed.append(name)
        if removed:
            self.changed.emit()
        if refused:
            self.message.emit(
                f"Not deleted: {', '.join(reversed(refused))}. Move or delete those tags first.",
                True,
            )
        elif removed:
            self.message.emit(f"Removed {', '.join(reversed(removed))} (not saved yet).", False)
        return list(reversed(removed))
