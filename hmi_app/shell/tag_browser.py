"""The tag browser: the project's connections as a tree of what each live device offers.

Every connection is a top-level row; expanding it (or any expandable node under it) asks the
running driver for ``browse(address)`` in a named asyncio task on the GUI loop, so the window never
waits: the row shows "loading…" until the answer comes, and a failure shows inline ("browse failed:
timeout"), to be retried by expanding again. It works with any driver honouring the ``BrowseNode``
protocol (flat lists such as the simulator's, the Modbus tables, OPC UA and Logix trees).

The search box filters what has been loaded (for drivers with flat lists, that is the whole
list). Selected items become tags through the "Add as tags" form, saved into ``project.yaml`` by
``hmi_app.core.project.editing`` and checked like ``hmi-app check``; the running engine keeps its
tags until the runtime is restarted, which the browser says. "Export CSV…" and "Import CSV…" use
``hmi_app.core.project.tags_csv``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QColor,
    QFont,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from drivers.base import BrowseNode, Driver, LinkState
from hmi_app.check import address_checker, check_project
from hmi_app.core.project.editing import EditRefused, SaveResult, save_tags
from hmi_app.core.project.loader import Project, demo_project_dir
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.tags_csv import CsvImportError, plan_import, write_csv
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.shell.add_tags_dialog import AddTagsDialog, Candidate

BROWSE_TIMEOUT_S = 10.0
LOADING = "loading…"

ROLE_KIND = Qt.ItemDataRole.UserRole + 1  # "connection" | "node" | "status"
ROLE_NODE = Qt.ItemDataRole.UserRole + 2  # the BrowseNode of a node row
ROLE_STATE = Qt.ItemDataRole.UserRole + 3  # "unloaded" | "loading" | "loaded" | "failed"
ROLE_CONNECTION = Qt.ItemDataRole.UserRole + 4
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


class TagBrowser(QDialog):
    """Browse live connections, search, add items as tags, export and import CSV."""

    saved = Signal(object)  # SaveResult, after tags were written to project.yaml

    def __init__(
        self,
        project: Project,
        drivers: Mapping[str, Driver],
        *,
        link_states: Mapping[str, tuple[LinkState, str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tagBrowser")
        self.setWindowTitle(f"Tag browser - {project.model.project.name}")
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setStyleSheet(STYLE)
        self.project = project
        self.drivers = drivers
        self.read_only = project.folder.resolve() == demo_project_dir().resolve()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(HEADERS)
        self.proxy = BrowseFilter(self)
        self.proxy.setSourceModel(self.model)
        self.connection_rows: dict[str, QStandardItem] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(14, 12, 14, 12)
        body_layout.setSpacing(8)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search loaded items by name, address or description")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        body_layout.addWidget(self.search)
        self.tree = QTreeView()
        self.tree.setObjectName("browseTree")
        self.tree.setModel(self.proxy)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.expanded.connect(self._on_expanded)
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        self.add_dialog: AddTagsDialog | None = None
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(COL_NAME, 300)
        self.tree.setColumnWidth(COL_ADDRESS, 380)
        self.tree.setColumnWidth(COL_TYPE, 100)
        body_layout.addWidget(self.tree, 1)
        layout.addWidget(body, 1)
        layout.addWidget(self._build_footer())
        for name, connection in project.model.connections.items():
            self._add_connection_row(name, connection.driver)
        for name, (state, detail) in (link_states or {}).items():
            self.set_link(name, state, detail)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        self._on_selection()
        if self.read_only:
            self.show_message(
                "The built-in demo project is read-only: browse and export here; copy its folder "
                "to add or import tags."
            )

    # ---- layout -------------------------------------------------------------------------------

    def _build_header(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("browserHeader")
        frame.setFixedHeight(52)
        row = QHBoxLayout(frame)
        row.setContentsMargins(14, 4, 14, 4)
        title = QLabel("Tag browser")
        title.setObjectName("browserTitle")
        info = self.project.model.project
        where = QLabel(f"{info.name}   ·   {self.project.folder}")
        where.setObjectName("browserProject")
        row.addWidget(title)
        row.addSpacing(16)
        row.addWidget(where)
        row.addStretch(1)
        hint = QLabel("Expand a connection to browse it")
        hint.setObjectName("browserProject")
        row.addWidget(hint)
        return frame

    def _build_footer(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("browserFooter")
        outer = QVBoxLayout(frame)
        outer.setContentsMargins(14, 8, 14, 10)
        outer.setSpacing(6)
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        outer.addWidget(self.message)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.add_button = QPushButton("Add as tags…")
        self.add_button.setObjectName("addTags")
        self.add_button.clicked.connect(self.open_add_dialog)
        self.selection_info = QLabel("")
        self.selection_info.setObjectName("selectionInfo")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("exportCsv")
        self.export_button.clicked.connect(self._export_clicked)
        self.import_button = QPushButton("Import CSV…")
        self.import_button.setObjectName("importCsv")
        self.import_button.clicked.connect(self._import_clicked)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeBrowser")
        self.close_button.clicked.connect(self.close)
        row.addWidget(self.add_button)
        row.addWidget(self.selection_info)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        row.addSpacing(16)
        row.addWidget(self.close_button)
        outer.addLayout(row)
        if self.read_only:
            reason = "The built-in demo project is read-only: copy its folder to edit tags"
            self.import_button.setEnabled(False)
            self.import_button.setToolTip(reason)
            self.add_button.setToolTip(reason)
        return frame

    def _add_connection_row(self, name: str, driver: str) -> None:
        item = QStandardItem(name)
        item.setData("connection", ROLE_KIND)
        item.setData(name, ROLE_CONNECTION)
        item.setData("unloaded", ROLE_STATE)
        bold = QFont()
        bold.setBold(True)
        item.setFont(bold)
        item.appendRow(self._status_row(name, ""))  # the expand arrow before anything is loaded
        state = QStandardItem("")
        state.setForeground(QBrush(TEXT_MUTED))
        self.model.appendRow([item, QStandardItem(""), QStandardItem(driver), state])
        self.connection_rows[name] = item

    def _status_row(
        self, connection: str, text: str, *, error: bool = False
    ) -> list[QStandardItem]:
        item = QStandardItem(text)
        item.setToolTip(text)
        item.setData("status", ROLE_KIND)
        item.setData(connection, ROLE_CONNECTION)
        item.setSelectable(False)
        font = QFont()
        font.setItalic(True)
        item.setFont(font)
        item.setForeground(QBrush(TEXT_ERROR if error else TEXT_MUTED))
        return [item, *(self._blank() for _ in HEADERS[1:])]

    @staticmethod
    def _blank() -> QStandardItem:
        item = QStandardItem("")
        item.setSelectable(False)
        return item

    def _node_row(self, connection: str, node: BrowseNode) -> list[QStandardItem]:
        item = QStandardItem(node.name)
        item.setData("node", ROLE_KIND)
        item.setData(node, ROLE_NODE)
        item.setData(connection, ROLE_CONNECTION)
        item.setToolTip(node.description or node.address)
        if node.children:  # a driver may answer with a subtree: no need to ask again
            item.setData("loaded", ROLE_STATE)
            for child in node.children:
                item.appendRow(self._node_row(connection, child))
        elif node.expandable:
            item.setData("unloaded", ROLE_STATE)
            item.appendRow(self._status_row(connection, ""))
        else:
            item.setData("loaded", ROLE_STATE)
        type_text = node.data_type.value if node.data_type is not None else ""
        cells = [QStandardItem(node.address), QStandardItem(type_text)]
        cells.append(QStandardItem(node.description))
        return [item, *cells]

    # ---- link states --------------------------------------------------------------------------

    def set_link(self, connection: str, state: LinkState, detail: str) -> None:
        """Link listener: the state column of the connection's row."""
        item = self.connection_rows.get(connection)
        if item is None or self._closed:
            return
        cell = self.model.item(item.row(), COL_DESCRIPTION)
        text = state.value + (f": {detail}" if detail and state is not LinkState.CONNECTED else "")
        cell.setText(text)
        bad = state in (LinkState.DISCONNECTED, LinkState.CONNECTING)
        cell.setForeground(QBrush(TEXT_ERROR if bad else TEXT_MUTED))

    # ---- lazy loading -------------------------------------------------------------------------

    def item_at(self, proxy_index: QModelIndex) -> QStandardItem:
        """The name-column item behind a row of the tree."""
        source = self.proxy.mapToSource(proxy_index.siblingAtColumn(COL_NAME))
        item = self.model.itemFromIndex(source)
        assert item is not None
        return item

    def proxy_index(self, item: QStandardItem) -> QModelIndex:
        return self.proxy.mapFromSource(item.index())

    def _on_expanded(self, proxy_index: QModelIndex) -> None:
        if self.proxy.needle:
            return  # searching looks at what is loaded; it never starts a browse
        item = self.item_at(proxy_index)
        if item.data(ROLE_STATE) in ("unloaded", "failed"):
            self.load(item)

    def load(self, item: QStandardItem) -> None:
        """Browse the children of a connection or node row, in a task."""
        connection = item.data(ROLE_CONNECTION)
        node = item.data(ROLE_NODE)
        path = node.address if isinstance(node, BrowseNode) else ""
        item.setData("loading", ROLE_STATE)
        self._replace_children(item, [self._status_row(connection, LOADING)])
        driver = self.drivers.get(connection)
        if driver is None:
            self._fail(item, "not running: start the runtime to browse this connection")
            return
        target = QPersistentModelIndex(item.index())
        task = asyncio.get_running_loop().create_task(
            self._browse(driver, connection, path, target),
            name=f"tag-browser:browse:{connection}:{path or '/'}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _browse(
        self, driver: Driver, connection: str, path: str, target: QPersistentModelIndex
    ) -> None:
        error = ""
        nodes: list[BrowseNode] = []
        try:
            nodes = await asyncio.wait_for(driver.browse(path), BROWSE_TIMEOUT_S)
        except TimeoutError:
            error = "browse failed: timeout"
        except Exception as exc:
            error = f"browse failed: {exc}" if str(exc) else f"browse failed: {type(exc).__name__}"
        if self._closed or not target.isValid():
            return
        item = self.model.itemFromIndex(self.model.index(target.row(), 0, target.parent()))
        if item is None:
            return
        if error:
            self._fail(item, error)
            return
        rows = [self._node_row(connection, node) for node in nodes]
        item.setData("loaded", ROLE_STATE)
        self._replace_children(item, rows or [self._status_row(connection, "(no items)")])
        if not rows:
            item.setData("loaded", ROLE_STATE)

    def _fail(self, item: QStandardItem, error: str) -> None:
        item.setData("failed", ROLE_STATE)
        connection = item.data(ROLE_CONNECTION)
        self._replace_children(item, [self._status_row(connection, error, error=True)])

    def _replace_children(self, item: QStandardItem, rows: list[list[QStandardItem]]) -> None:
        item.removeRows(0, item.rowCount())
        for row in rows:
            item.appendRow(row)
        # a "loading…" or error row reads across the whole width (errors are long)
        status = len(rows) == 1 and rows[0][0].data(ROLE_KIND) == "status"
        parent = self.proxy_index(item)
        if parent.isValid() or item is self.model.invisibleRootItem():
            self.tree.setFirstColumnSpanned(0, parent, status)

    def row_texts(self, item: QStandardItem | None = None) -> list[str]:
        """Names of the loaded children of ``item`` (the connections when None), for tests and
        diagnostics."""
        parent = item if item is not None else self.model.invisibleRootItem()
        return [parent.child(row, COL_NAME).text() for row in range(parent.rowCount())]

    def loading(self) -> bool:
        return bool(self._tasks)

    # ---- search -------------------------------------------------------------------------------

    def _on_search(self, text: str) -> None:
        self.proxy.set_needle(text)
        if self.proxy.needle:
            self._expand_matches(QModelIndex())

    def _expand_matches(self, parent: QModelIndex) -> None:
        for row in range(self.proxy.rowCount(parent)):
            index = self.proxy.index(row, COL_NAME, parent)
            if self.proxy.rowCount(index):
                self.tree.expand(index)
                self._expand_matches(index)

    # ---- selection and adding -----------------------------------------------------------------

    def selected_candidates(self) -> list[Candidate]:
        """Selected node rows that can be tags (variables, not folders), in tree order."""
        picked: list[Candidate] = []
        rows = self.tree.selectionModel().selectedRows(COL_NAME)
        for index in sorted(rows, key=self._tree_order):
            item = self.item_at(index)
            node = item.data(ROLE_NODE)
            if item.data(ROLE_KIND) != "node" or not isinstance(node, BrowseNode):
                continue
            if node.expandable and node.data_type is None:
                continue  # a folder
            picked.append(Candidate(item.data(ROLE_CONNECTION), node))
        return picked

    def _tree_order(self, index: QModelIndex) -> list[int]:
        path: list[int] = []
        while index.isValid():
            path.insert(0, index.row())
            index = index.parent()
        return path

    def _on_selection(self, *_args: object) -> None:
        count = len(self.selected_candidates())
        self.add_button.setEnabled(count > 0 and not self.read_only)
        self.selection_info.setText(f"{count} selected" if count else "Select items to add")

    def open_add_dialog(self) -> AddTagsDialog | None:
        """Open the "Add as tags" form for the selection (non-blocking); returns the form."""
        candidates = self.selected_candidates()
        if not candidates or self.read_only:
            return None
        dialog = AddTagsDialog(
            candidates,
            scan_classes=list(self.project.model.scan_classes),
            existing={tag.name for tag in self.project.model.tags},
            check_address=address_checker(self.project),
            save=self.add_tags,
            parent=self,
        )
        dialog.setStyleSheet(STYLE)
        self.add_dialog = dialog
        dialog.finished.connect(self._forget_add_dialog)
        dialog.open()
        return dialog

    def _forget_add_dialog(self) -> None:
        # the form holds a callback to this browser: drop the cycle instead of leaving it to gc
        self.add_dialog = None

    def add_tags(self, tags: list[TagConfig]) -> SaveResult:
        """Save ``tags`` into project.yaml (checked, atomic, with a backup); EditRefused if not."""
        result = self._save(lambda: save_tags(self.project.folder, tags, validator=_check))
        names = ", ".join(tag.name for tag in tags[:4]) + (" …" if len(tags) > 4 else "")
        self.show_message(
            f"Added {len(tags)} tag{'s' if len(tags) != 1 else ''} to project.yaml ({names}). "
            + _restart_note(result)
        )
        return result

    def _save(self, action: Callable[[], SaveResult]) -> SaveResult:
        result = action()
        project, _issues = check_project(self.project.folder)
        if project is not None:
            self.project = project
        self.saved.emit(result)
        return result

    # ---- CSV ----------------------------------------------------------------------------------

    def export_csv(self, path: Path) -> int:
        """Write every tag of the project to ``path``; the number of tags."""
        write_csv(path, self.project.model.tags)
        count = len(self.project.model.tags)
        self.show_message(f"Exported {count} tags to {path}.")
        return count

    def import_csv(self, path: Path, *, replace: bool = False) -> SaveResult:
        """Import ``path`` into project.yaml; CsvImportError or EditRefused (nothing written)."""
        if self.read_only:
            raise EditRefused(
                [ProjectIssue(str(path), 0, "", "the built-in demo project is read-only")]
            )
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CsvImportError(
                [ProjectIssue(path.name, 0, "", f"cannot be read: {exc}")]
            ) from None
        plan = plan_import(
            text,
            self.project.model,
            path.name,
            replace=replace,
            check_address=address_checker(self.project),
        )
        result = self._save(
            lambda: save_tags(self.project.folder, plan.tags, replace=replace, validator=_check)
        )
        edit = result.edit
        if edit.changed:
            self.show_message(f"Imported {path.name}: {edit.summary()}. " + _restart_note(result))
        else:
            self.show_message(f"Imported {path.name}: no change ({edit.summary()}).")
        return result

    def export_file(self, path: Path) -> bool:
        """Export to ``path``, reporting success or failure in the message line."""
        try:
            self.export_csv(path)
        except OSError as exc:
            self.show_message(f"Export failed: {exc}", error=True)
            return False
        return True

    def import_file(self, path: Path, *, replace: bool = False) -> SaveResult | None:
        """Import ``path``, reporting the result or every problem (with lines) in the message
        line; None when nothing was imported."""
        try:
            return self.import_csv(path, replace=replace)
        except (CsvImportError, EditRefused) as exc:
            self.show_problems(f"Nothing imported from {path.name}", exc.issues)
            return None

    def _export_clicked(self) -> None:
        default = str(self.project.folder / "tags.csv")
        name, _ = QFileDialog.getSaveFileName(self, "Export tags", default, "CSV files (*.csv)")
        if name:
            self.export_file(Path(name))

    def _import_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Import tags", str(self.project.folder), "CSV files (*.csv);;All files (*)"
        )
        if name:
            self.import_file(Path(name))

    # ---- messages and closing -----------------------------------------------------------------

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        color = "#a01d14" if error else "#262626"
        self.message.setStyleSheet(f"color: {color};")
        self.message.setVisible(bool(text))

    def show_problems(self, title: str, issues: list[ProjectIssue]) -> None:
        shown = [str(issue) for issue in issues[:8]]
        if len(issues) > 8:
            shown.append(f"… and {len(issues) - 8} more")
        count = len(issues)
        self.show_message(
            f"{title}: {count} problem{'s' if count != 1 else ''}\n" + "\n".join(shown),
            error=True,
        )

    def cancel_tasks(self) -> None:
        self._closed = True
        self.add_dialog = None
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        """Close and wait until every browse task has ended."""
        self.close()
        self.cancel_tasks()
        tasks = list(self._tasks)
        if tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel_tasks()
        super().closeEvent(event)


def _check(folder: Path) -> list[ProjectIssue]:
    return check_project(folder)[1]


def _restart_note(result: SaveResult) -> str:
    backup = (
        f" Previous file: {result.backup.parent.name}/{result.backup.name}."
        if (result.backup)
        else ""
    )
    return f"Restart the runtime to apply.{backup}"
