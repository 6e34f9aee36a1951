"""The "Add as tags" form of the tag browser: browse nodes become tag definitions.

Names are proposed from the node names (sanitised to valid tag names, made unique, behind a
prefix such as ``line1.filler.``), types from ``BrowseNode.data_type``; the user picks the scan
class and access for all of them and may edit every name, address and type. Each row is checked
as it is edited (the tag model, and the driver's address check); the form saves only when every
row is valid, and a save the project check refuses keeps the form open with the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drivers.base import BrowseNode
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.editing import EditRefused
from hmi_app.core.project.model import TAG_NAME, TagConfig

STRING_LENGTH = 82  # a Logix STRING holds 82 characters; editable in project.yaml afterwards
DEFAULT_TYPE = DataType.FLOAT32
COL_NAME, COL_ADDRESS, COL_TYPE, COL_PROBLEM = range(4)
PROBLEM_TEXT = QColor("#a01d14")


@dataclass(frozen=True)
class Candidate:
    """A node picked in the browser, with the connection it belongs to."""

    connection: str
    node: BrowseNode


def sanitise(name: str) -> str:
    """A node name as a tag name part: dots kept as levels, other characters become ``_``."""
    parts = []
    for part in re.split(r"[./\\]+", name):
        clean = re.sub(r"[^A-Za-z0-9_]+", "_", part).strip("_")
        if not clean:
            continue
        parts.append(f"_{clean}" if clean[0].isdigit() else clean)
    return ".".join(parts) or "tag"


def join_prefix(prefix: str, name: str) -> str:
    """``line1.filler`` + ``speed`` -> ``line1.filler.speed``; a prefix ending in . or _ stays."""
    prefix = prefix.strip()
    if prefix and not prefix.endswith((".", "_")):
        prefix += "."
    return prefix + name


def propose_names(prefix: str, names: Sequence[str], taken: set[str]) -> list[str]:
    """Unique tag names for ``names`` behind ``prefix``, avoiding ``taken`` (suffix _2, _3...)."""
    result: list[str] = []
    used = set(taken)
    for name in names:
        base = join_prefix(prefix, sanitise(name))
        candidate, count = base, 1
        while candidate in used:
            count += 1
            candidate = f"{base}_{count}"
        used.add(candidate)
        result.append(candidate)
    return result


class AddTagsDialog(QDialog):
    """Choose prefix, scan class and access for the picked nodes, check each row, then save."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        *,
        scan_classes: Sequence[str],
        existing: set[str],
        check_address: Callable[[TagConfig], str | None],
        save: Callable[[list[TagConfig]], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("addTagsDialog")
        self.setWindowTitle("Add as tags")
        self.setModal(True)
        self.resize(1040, 460)
        self.candidates = list(candidates)
        self._existing = existing
        self._check_address = check_address
        self._save = save
        self._edited: set[int] = set()
        self._filling = False
        self.saved: list[TagConfig] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        intro = QLabel(
            f"{len(self.candidates)} item{'s' if len(self.candidates) != 1 else ''} "
            "become tags of the project. Names, addresses and types can be edited below."
        )
        intro.setObjectName("formIntro")
        layout.addWidget(intro)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        first = self.candidates[0].connection if self.candidates else ""
        self.prefix = QLineEdit(f"{first}." if first else "")
        self.prefix.setObjectName("prefix")
        self.prefix.setPlaceholderText("e.g. line1.filler.")
        self.prefix.textChanged.connect(self._refill_names)
        self.scan = QComboBox()
        self.scan.setObjectName("scan")
        self.scan.addItems(list(scan_classes))
        if "normal" in scan_classes:
            self.scan.setCurrentText("normal")
        self.scan.currentTextChanged.connect(self._check_all)
        self.access = QComboBox()
        self.access.setObjectName("access")
        self.access.addItems(["read", "read_write"])
        self.access.currentTextChanged.connect(self._check_all)
        self.prefix.setMaximumWidth(420)
        self.scan.setMaximumWidth(220)
        self.access.setMaximumWidth(220)
        form.addRow("Name prefix", self.prefix)
        form.addRow("Scan class", self.scan)
        form.addRow("Access", self.access)
        layout.addLayout(form)
        self.table = QTableWidget(len(self.candidates), 4)
        self.table.setObjectName("candidates")
        self.table.setHorizontalHeaderLabels(["Tag name", "Address", "Type", "Problem"])
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_PROBLEM, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(COL_NAME, 280)
        self.table.setColumnWidth(COL_ADDRESS, 340)
        self.table.setColumnWidth(COL_TYPE, 110)
        self._types: list[QComboBox] = []
        self._filling = True
        for row, candidate in enumerate(self.candidates):
            self.table.setItem(row, COL_NAME, QTableWidgetItem(""))
            self.table.setItem(row, COL_ADDRESS, QTableWidgetItem(candidate.node.address))
            problem = QTableWidgetItem("")
            problem.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, COL_PROBLEM, problem)
            types = QComboBox()
            types.addItems([t.value for t in DataType])
            types.setCurrentText((candidate.node.data_type or DEFAULT_TYPE).value)
            types.currentTextChanged.connect(self._check_all)
            self.table.setCellWidget(row, COL_TYPE, types)
            self._types.append(types)
        self._filling = False
        self.table.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.table, 1)
        self.problems = QLabel("")
        self.problems.setObjectName("formProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.problems)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton("")
        self.ok_button.setObjectName("addTagsOk")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._on_ok)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self._refill_names()

    # ---- rows ---------------------------------------------------------------------------------

    def _refill_names(self) -> None:
        names = propose_names(
            self.prefix.text(), [c.node.name for c in self.candidates], self._existing
        )
        self._filling = True
        for row, name in enumerate(names):
            if row not in self._edited:
                self._cell(row, COL_NAME).setText(name)
        self._filling = False
        self._check_all()

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        if item.column() == COL_NAME:
            self._edited.add(item.row())
        if item.column() in (COL_NAME, COL_ADDRESS):
            self._check_all()

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None
        return item

    def tag_names(self) -> list[str]:
        return [self._cell(row, COL_NAME).text().strip() for row in range(self.table.rowCount())]

    def row_tag(self, row: int) -> tuple[TagConfig | None, str]:
        """The tag of ``row`` and what is wrong with it ("" when nothing)."""
        candidate = self.candidates[row]
        data_type = DataType(self._types[row].currentText())
        name = self._cell(row, COL_NAME).text().strip()
        if not TAG_NAME.match(name):
            return None, "not a tag name: letters, digits and _ in dot-separated parts"
        if name in self._existing:
            return None, "a tag of this name exists"
        fields: dict[str, object] = {
            "name": name,
            "connection": candidate.connection,
            "address": self._cell(row, COL_ADDRESS).text().strip(),
            "type": data_type,
            "access": self.access.currentText(),
            "scan": self.scan.currentText(),
            "description": candidate.node.description,
        }
        if data_type is DataType.STRING:
            fields["length"] = STRING_LENGTH
        try:
            tag = TagConfig.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            return None, f"{where}: {message}" if where else message
        problem = self._check_address(tag)
        return (None, problem) if problem else (tag, "")

    def _check_all(self) -> list[TagConfig] | None:
        tags: list[TagConfig] = []
        names = self.tag_names()
        bad = 0
        problems: list[str] = []
        self._filling = True
        for row in range(self.table.rowCount()):
            tag, problem = self.row_tag(row)
            if not problem and names.count(names[row]) > 1:
                tag, problem = None, "the same name is given twice"
            problems.append(problem)
            cell = self._cell(row, COL_PROBLEM)
            cell.setText(problem)
            cell.setToolTip(problem)
            cell.setForeground(QBrush(PROBLEM_TEXT))
            if tag is None:
                bad += 1
            else:
                tags.append(tag)
        self._filling = False
        count = self.table.rowCount()
        self.ok_button.setText(f"Add {count} tag{'s' if count != 1 else ''}")
        self.ok_button.setEnabled(bad == 0 and count > 0)
        first = next((p for p in problems if p), "")
        self.problems.setText(
            f"{bad} row{'s' if bad != 1 else ''} to fix before saving (first: {first})"
            if bad
            else ""
        )
        return tags if bad == 0 else None

    def _on_ok(self) -> None:
        tags = self._check_all()
        if not tags:
            return
        try:
            self._save(tags)
        except EditRefused as exc:
            self.problems.setText(
                "Not saved: the project check refused the change:\n"
                + "\n".join(str(issue) for issue in exc.issues[:8])
            )
            return
        self.saved = tags
        self.accept()
