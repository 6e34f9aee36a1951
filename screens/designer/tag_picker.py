"""The tag picker: a searchable table of the project's tags (name, type, units, connection,
description), shown without blocking (``show()``, not modal) from a binding's "…" button.

Typing filters as you type over every column (so ``line1_plc`` lists that connection's tags,
``bpm`` the tags in bpm); several words must all match. A double-click or Enter on a row picks
that tag: ``tag_picked`` carries its name and the picker closes.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.tagsource import TagMeta

HEADERS = ("Tag", "Type", "Units", "Connection", "Description")
COL_NAME = 0


class _WordFilter(QSortFilterProxyModel):
    """Rows where every word of the search text is in some column (case-insensitive)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words: list[str] = []

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        texts = " ".join(
            str(model.index(source_row, col, source_parent).data() or "")
            for col in range(model.columnCount())
        ).lower()
        return all(word in texts for word in self.words)


class _Table(QTableView):
    """Enter on a row picks it (the table would otherwise only move the current cell)."""

    activated_row = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_row.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class TagPicker(QDialog):
    """Search and pick one of the project's tags; non-modal, emits ``tag_picked(name)``."""

    tag_picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tagPicker")
        self.setWindowTitle("Pick a tag")
        self.setModal(False)
        self.resize(760, 460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        self.search = QLineEdit()
        self.search.setObjectName("tagSearch")
        self.search.setPlaceholderText("search name, type, units, connection, description")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(list(HEADERS))
        self.proxy = _WordFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = _Table()
        self.table.setObjectName("tagTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setStyleSheet(
            "QTableView { selection-background-color: #c9d3dc; selection-color: #1a1a1a; }"
        )
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_NAME, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(self._pick)
        self.table.activated_row.connect(self._pick)
        layout.addWidget(self.table, 1)
        self.count = QLabel("")
        self.count.setObjectName("tagCount")
        self.count.setStyleSheet("color: #5c5c5c;")
        layout.addWidget(self.count)
        self.search.returnPressed.connect(self._pick_first)

    def set_tags(
        self, tags: Mapping[str, TagMeta], connections: Mapping[str, str] | None = None
    ) -> None:
        """The tags to choose from; ``connections`` maps tag name -> its connection."""
        self.model.setRowCount(0)
        for name in sorted(tags):
            meta = tags[name]
            kind = meta.data_type.value + (f"[{meta.array_length}]" if meta.array_length else "")
            cells = [
                name,
                kind,
                meta.units,
                (connections or {}).get(name, ""),
                meta.description,
            ]
            row = [QStandardItem(text) for text in cells]
            for item in row:
                item.setToolTip(f"{name}: {meta.description}" if meta.description else name)
            self.model.appendRow(row)
        self._filter(self.search.text())

    def shown_names(self) -> list[str]:
        """The tag names the filter lets through, in the order shown."""
        return [str(self.proxy.index(row, COL_NAME).data()) for row in range(self.proxy.rowCount())]

    def open_for(self, current: str = "") -> None:
        """Show the picker (non-modal) with the search box focused and ``current`` selected."""
        self.search.clear()
        self.show()  # not open(): that would make it window-modal over the designer
        self.raise_()
        self.activateWindow()
        self.search.setFocus()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, COL_NAME).data() == current:
                self.table.selectRow(row)
                self.table.scrollTo(self.proxy.index(row, COL_NAME))
                break

    def _filter(self, text: str) -> None:
        self.proxy.set_text(text)
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} of {total} tags" if text else f"{total} tags")
        if shown and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, COL_NAME))

    def _pick_first(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid() and self.proxy.rowCount():
            index = self.proxy.index(0, COL_NAME)
        if index.isValid():
            self._pick(index)

    def _pick(self, index: QModelIndex) -> None:
        name = str(self.proxy.index(index.row(), COL_NAME).data())
        self.tag_picked.emit(name)
        self.hide()
