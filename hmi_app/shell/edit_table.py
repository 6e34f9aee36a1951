"""The pieces the tag editor's tables share: a tool button, an editable table set up the same
way (rows selected whole, editing on double-click, F2 or typing, fixed and stretching columns),
and reading one of its cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)


def tool_button(text: str, name: str, clicked: Callable[[], object]) -> QPushButton:
    """A button named ``name`` (tests and style sheets find it) that calls ``clicked``."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(lambda _checked=False: clicked())
    return button


def editable_table(
    name: str, headers: Sequence[str], widths: Mapping[int, int], stretch: Iterable[int]
) -> QTableWidget:
    """An empty editable table: ``widths`` (column -> pixels) fixed, ``stretch`` columns
    sharing the rest."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setDefaultSectionSize(26)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(
        QAbstractItemView.EditTrigger.DoubleClicked
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.AnyKeyPressed
    )
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column, width in widths.items():
        table.setColumnWidth(column, width)
    for column in stretch:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    return table


def item_at(table: QTableWidget, row: int, col: int) -> QTableWidgetItem:
    """The item at ``row``, ``col`` (every cell of these tables has one)."""
    item = table.item(row, col)
    assert item is not None
    return item
