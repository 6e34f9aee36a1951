"""A compact table editor for a list of small records, e.g. the ``states`` of a state indicator.

Used for a field whose type is ``list[Model]`` where every field of ``Model`` is a scalar: one row
per item, one column per field. A ``Literal`` column is a list to choose from; a text column takes
the text as typed; any other column takes a YAML scalar (``true``, ``2``, ``'2'`` for the text 2),
so ``value: 2`` and ``value: '2'`` stay apart as in the screen file. Each cell edit, added or
removed row commits (the inspector checks the whole list before it leaves).
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from screens.designer.editors import FieldEditor, dump_yaml, load_yaml, optional_inner

SCALARS = (bool, int, float, str)
MAX_VISIBLE_ROWS = 6


def table_item_model(annotation: Any) -> type[BaseModel] | None:
    """The item model when ``annotation`` is ``list[Model]`` of scalar fields (else None)."""
    inner, _optional = optional_inner(annotation)
    if typing.get_origin(inner) is not list:
        return None
    args = typing.get_args(inner)
    item = args[0] if args else None
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return None
    for info in item.model_fields.values():
        kind, _ = optional_inner(info.annotation)
        parts = typing.get_args(kind) if typing.get_origin(kind) is not Literal else ()
        if typing.get_origin(kind) is Literal or kind in SCALARS:
            continue
        if parts and all(part in SCALARS for part in parts):
            continue
        return None
    return item


class ListTableEditor(FieldEditor):
    """Rows of a list of records; "+" adds a row (a copy of the last), "−" removes the current."""

    def __init__(self, item: type[BaseModel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, FieldInfo] = dict(item.model_fields)
        self.names = list(self.fields)
        self._filling = False
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.table = QTableWidget(0, len(self.names))
        self.table.setHorizontalHeaderLabels(self.names)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for index, name in enumerate(self.names):
            info = self.fields[name]
            if self._choices(name) is not None:
                header_view.setSectionResizeMode(index, QHeaderView.ResizeMode.Fixed)
                probe = QComboBox()
                probe.addItems([str(choice) for choice in self._choices(name) or ()])
                self.table.setColumnWidth(index, probe.sizeHint().width() + 4)
            if info.description:
                header = self.table.horizontalHeaderItem(index)
                if header is not None:
                    header.setToolTip(info.description)
        self.table.itemChanged.connect(self._cell_changed)
        column.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_button = QPushButton("+")
        self.add_button.setToolTip("add a row")
        self.add_button.setFixedWidth(32)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton("−")
        self.remove_button.setToolTip("remove the selected row")
        self.remove_button.setFixedWidth(32)
        self.remove_button.clicked.connect(self.remove_row)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        column.addLayout(buttons)

    # ---- cells --------------------------------------------------------------------------------

    def _choices(self, name: str) -> tuple[Any, ...] | None:
        kind, _ = optional_inner(self.fields[name].annotation)
        return typing.get_args(kind) if typing.get_origin(kind) is Literal else None

    def _is_text(self, name: str) -> bool:
        return optional_inner(self.fields[name].annotation)[0] is str

    def _put_row(self, row: int, record: dict[str, Any]) -> None:
        for col, name in enumerate(self.names):
            value = record.get(name)
            choices = self._choices(name)
            if choices is not None:
                combo = QComboBox()
                for choice in choices:
                    combo.addItem(str(choice), choice)
                shown = value if value is not None else self.fields[name].get_default()
                combo.setCurrentIndex(max(0, combo.findData(shown)))
                combo.activated.connect(lambda _i: self._commit())
                self.table.setCellWidget(row, col, combo)
                continue
            if value is None:
                text = ""
            elif self._is_text(name):
                text = str(value)
            else:
                text = dump_yaml(value)
            self.table.setItem(row, col, QTableWidgetItem(text))

    def _fit_height(self) -> None:
        rows = min(MAX_VISIBLE_ROWS, max(1, self.table.rowCount()))
        header = self.table.horizontalHeader().height() or 26
        self.table.setFixedHeight(header + rows * 26 + 4)

    def _cell_changed(self, _item: QTableWidgetItem) -> None:
        if not self._filling:
            self._commit()

    def _commit(self) -> None:
        self.typing.emit()
        self.changed.emit()

    # ---- rows ---------------------------------------------------------------------------------

    def add_row(self) -> None:
        """A new row, a copy of the last one (or empty)."""
        try:
            records = self.value() or []
        except ValueError:
            records = []
        row = self.table.rowCount()
        self._filling = True
        self.table.insertRow(row)
        self._put_row(row, dict(records[-1]) if records else {})
        self._filling = False
        self._fit_height()
        self.table.setCurrentCell(row, 0)
        self._commit()

    def remove_row(self) -> None:
        """Remove the selected row (the last when none is selected)."""
        if not self.table.rowCount():
            return
        row = self.table.currentRow()
        self.table.removeRow(row if row >= 0 else self.table.rowCount() - 1)
        self._fit_height()
        self._commit()

    # ---- value --------------------------------------------------------------------------------

    def value(self) -> Any:
        records: list[dict[str, Any]] = []
        for row in range(self.table.rowCount()):
            record: dict[str, Any] = {}
            for col, name in enumerate(self.names):
                widget = self.table.cellWidget(row, col)
                if isinstance(widget, QComboBox):
                    record[name] = widget.currentData()
                    continue
                item = self.table.item(row, col)
                text = item.text() if item is not None else ""
                if not text.strip():
                    continue  # the field's default (or "is required")
                try:
                    record[name] = text if self._is_text(name) else load_yaml(text)
                except ValueError as exc:
                    raise ValueError(f"row {row + 1}, {name}: {exc}") from None
            records.append(record)
        return records

    def set_value(self, value: Any) -> None:
        self._filling = True
        with QSignalBlocker(self.table):
            self.table.setRowCount(0)
            for row, record in enumerate(value if isinstance(value, list) else []):
                self.table.insertRow(row)
                self._put_row(row, record if isinstance(record, dict) else {})
        self._filling = False
        self._fit_height()
