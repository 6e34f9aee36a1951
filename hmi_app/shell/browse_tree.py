"""The tag browser's tree: its roles and columns, the rows it is built from, the search filter
and the style sheet shared by the browser and its dialogs.

Every connection is a top-level row (bold, its driver in the Type column, its link state in the
Description column); node rows carry their ``BrowseNode``; "status" rows ("loading…", an error,
"(no items)") are not selectable. Kept apart from ``tag_browser`` (which loads, adds and
imports) so each module has one job.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem
from PySide6.QtWidgets import QWidget

from drivers.base import BrowseNode

LOADING = "loading…"

ROLE_KIND = Qt.ItemDataRole.UserRole + 1  # "connection" | "node" | "status"
ROLE_NODE = Qt.ItemDataRole.UserRole + 2  # the BrowseNode of a node row
ROLE_STATE = Qt.ItemDataRole.UserRole + 3  # "unloaded" | "loading" | "loaded" | "failed"
ROLE_CONNECTION = Qt.ItemDataRole.UserRole + 4
ROLE_DRIVER = Qt.ItemDataRole.UserRole + 5  # the driver key of a connection row
COL_NAME, COL_ADDRESS, COL_TYPE, COL_DESCRIPTION = range(4)
HEADERS = ["Name", "Address", "Type", "Description"]

TEXT_MUTED = QColor("#5c5c5c")
TEXT_ERROR = QColor("#a01d14")

STYLE = """
#tagBrowser { background: #d9d9d9; }
#tagBrowser QLabel { color: #262626; font-size: 14px; }
#browserHeader { background: #e6e6e6; border-bottom: 1px solid #b3b3b3; }
#browserHeader #browserTitle { font-size: 18px; font-weight: bold; }
#browserHeader #browserProject { color: #5c5c5c; font-size: 13px; }
#tagBrowser QLineEdit {
    background: #f7f7f7; color: #262626; border: 1px solid #a6a6a6; border-radius: 3px;
    padding: 4px 8px; font-size: 14px; min-height: 22px;
}
#tagBrowser QTreeView {
    background: #f2f2f2; alternate-background-color: #e9e9e9; color: #262626;
    border: 1px solid #b3b3b3; font-size: 14px;
    selection-background-color: #4d4d4d; selection-color: #ffffff;
}
#tagBrowser QTreeView::item { padding: 3px 2px; }
#tagBrowser QTreeView::item:selected { background: #4d4d4d; color: #ffffff; }
#addTagsDialog QTableWidget {
    background: #f2f2f2; color: #262626; border: 1px solid #b3b3b3; font-size: 14px;
    gridline-color: #cccccc; selection-background-color: #4d4d4d; selection-color: #ffffff;
}
#addTagsDialog QLineEdit, #addTagsDialog QComboBox {
    background: #f7f7f7; color: #262626; border: 1px solid #a6a6a6; border-radius: 3px;
    padding: 3px 8px; font-size: 14px; min-height: 22px;
}
#tagBrowser QHeaderView::section, #addTagsDialog QHeaderView::section {
    background: #e0e0e0; color: #262626; border: none; border-right: 1px solid #c4c4c4;
    border-bottom: 1px solid #b3b3b3; padding: 4px 8px; font-size: 13px; font-weight: bold;
}
#tagBrowser QPushButton, #addTagsDialog QPushButton {
    background: #ececec; color: #262626; border: 1px solid #a6a6a6; border-radius: 3px;
    padding: 5px 16px; font-size: 14px; min-height: 22px;
}
#tagBrowser QPushButton:hover, #addTagsDialog QPushButton:hover { background: #f5f5f5; }
#tagBrowser QPushButton:disabled, #addTagsDialog QPushButton:disabled {
    color: #9a9a9a; background: #dedede; border-color: #c4c4c4;
}
#tagBrowser #addTags, #addTagsDialog #addTagsOk {
    background: #4d4d4d; color: #ffffff; border-color: #4d4d4d; font-weight: bold;
}
#tagBrowser #addTags:disabled, #addTagsDialog #addTagsOk:disabled {
    background: #a6a6a6; color: #e6e6e6; border-color: #a6a6a6;
}
#browserFooter { background: #e6e6e6; border-top: 1px solid #b3b3b3; }
#browserFooter #message { color: #262626; font-size: 13px; }
#browserFooter #selectionInfo { color: #5c5c5c; font-size: 13px; }
#addTagsDialog { background: #e6e6e6; }
#addTagsDialog QLabel { color: #262626; font-size: 14px; }
#addTagsDialog #formProblems { color: #a01d14; }
"""


class BrowseFilter(QSortFilterProxyModel):
    """Keeps rows whose name, address or description contain the search text (and their
    ancestors); connections always stay; "loading…" and error rows hide while searching."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.needle = ""
        self.setRecursiveFilteringEnabled(True)

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self.needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self.needle:
            return True
        model = self.sourceModel()
        index = model.index(source_row, COL_NAME, source_parent)
        kind = index.data(ROLE_KIND)
        if kind == "connection":
            return True
        if kind != "node":
            return False
        texts = (model.index(source_row, col, source_parent).data() or "" for col in (0, 1, 3))
        return any(self.needle in text.casefold() for text in texts)


def connection_row(name: str, driver: str) -> list[QStandardItem]:
    """A connection's top-level row, with an empty child so the expand arrow shows."""
    item = QStandardItem(name)
    item.setData("connection", ROLE_KIND)
    item.setData(name, ROLE_CONNECTION)
    item.setData(driver, ROLE_DRIVER)
    item.setData("unloaded", ROLE_STATE)
    bold = QFont()
    bold.setBold(True)
    item.setFont(bold)
    item.appendRow(status_row(name, ""))  # the expand arrow before anything is loaded
    state = QStandardItem("")
    state.setForeground(QBrush(TEXT_MUTED))
    return [item, QStandardItem(""), QStandardItem(driver), state]


def status_row(connection: str, text: str, *, error: bool = False) -> list[QStandardItem]:
    """A "loading…", "(no items)" or error row (italic, not selectable)."""
    item = QStandardItem(text)
    item.setToolTip(text)
    item.setData("status", ROLE_KIND)
    item.setData(connection, ROLE_CONNECTION)
    item.setSelectable(False)
    font = QFont()
    font.setItalic(True)
    item.setFont(font)
    item.setForeground(QBrush(TEXT_ERROR if error else TEXT_MUTED))
    return [item, *(_blank() for _ in HEADERS[1:])]


def _blank() -> QStandardItem:
    item = QStandardItem("")
    item.setSelectable(False)
    return item


def node_row(connection: str, node: BrowseNode) -> list[QStandardItem]:
    """The row of a browsed node; a subtree the driver sent along is added at once."""
    item = QStandardItem(node.name)
    item.setData("node", ROLE_KIND)
    item.setData(node, ROLE_NODE)
    item.setData(connection, ROLE_CONNECTION)
    item.setToolTip(node.description or node.address)
    if node.children:  # a driver may answer with a subtree: no need to ask again
        item.setData("loaded", ROLE_STATE)
        for child in node.children:
            item.appendRow(node_row(connection, child))
    elif node.expandable:
        item.setData("unloaded", ROLE_STATE)
        item.appendRow(status_row(connection, ""))
    else:
        item.setData("loaded", ROLE_STATE)
    type_text = node.data_type.value if node.data_type is not None else ""
    cells = [QStandardItem(node.address), QStandardItem(type_text)]
    cells.append(QStandardItem(node.description))
    return [item, *cells]
