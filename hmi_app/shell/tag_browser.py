"""The tag browser: the project's connections as a tree of what each live device offers.

Every connection is a top-level row; expanding it (or any expandable node under it) asks the
running driver for ``browse(address)`` in a named asyncio task on the GUI loop, so the window never
waits: the row shows "loading…" until the answer comes, and a failure shows inline ("browse failed:
timeout"), to be retried by expanding again. It works with any driver honouring the ``BrowseNode``
protocol (flat lists such as the simulator's, the Modbus tables, OPC UA and Logix trees).

The search box filters what has been loaded (for drivers with flat lists, that is the whole
list). Selected items become tags through the "Add as tags" form, saved into ``project.yaml`` by
``hmi_app.core.project.editing`` and checked like ``hmi-app check``; the tags added join the
running engine at once (``apply_saved``), and so do changes to existing ones; the browser says
what waits for a restart. "Export CSV…" and "Import CSV…" are ``browser_csv``'s.

An OPC UA connection that refused an unknown server certificate says so on its row, with a hint;
"Server certificates…" (enabled when such a connection with certificates waiting in its
``pki_dir/rejected`` is selected) opens ``CertificateDialog`` to review and trust one. The rows,
filter and style live in ``browse_tree``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
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
from drivers.opcua.security import rejected_certificates
from hmi_app.check import address_checker, check_project
from hmi_app.core.deadlines import within
from hmi_app.core.project.editing import SaveResult, save_tags
from hmi_app.core.project.loader import Project, demo_project_dir
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.runtime.runtime import driver_settings
from hmi_app.shell.add_tags_dialog import AddTagsDialog, Candidate
from hmi_app.shell.browse_tree import (
    COL_ADDRESS,
    COL_DESCRIPTION,
    COL_NAME,
    COL_TYPE,
    HEADERS,
    LOADING,
    ROLE_CONNECTION,
    ROLE_KIND,
    ROLE_NODE,
    ROLE_STATE,
    STYLE,
    TEXT_ERROR,
    TEXT_MUTED,
    BrowseFilter,
    connection_row,
    node_row,
    status_row,
)
from hmi_app.shell.browser_csv import CsvActions, check_folder
from hmi_app.shell.certificate_dialog import CertificateDialog
from hmi_app.shell.live_tags import NOTHING, ApplySaved, restart_note

__all__ = ["BROWSE_TIMEOUT_S", "LOADING", "TagBrowser"]

BROWSE_TIMEOUT_S = 10.0
UNTRUSTED_HINT = "select this connection and click “Server certificates…” to review and trust it"


class TagBrowser(QDialog, CsvActions):
    """Browse live connections, search, add items as tags, export and import CSV."""

    saved = Signal(object)  # SaveResult, after tags were written to project.yaml

    def __init__(
        self,
        project: Project,
        drivers: Mapping[str, Driver],
        *,
        link_states: Mapping[str, tuple[LinkState, str]] | None = None,
        user: str = "operator",
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
        self.apply_saved: ApplySaved | None = None
        """Hands the tags a save added to the running engine (set by the app)."""
        self.applied = NOTHING
        """What the last save changed in the running engine."""
        self.user = user
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.pki_dirs = _pki_dirs(project)  # OPC UA connections with a PKI folder
        self.rejected_counts: dict[str, int] = {}  # connection -> certificates in rejected/
        self.link_details: dict[str, str] = {}
        self.certificate_dialog: CertificateDialog | None = None
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
            row = connection_row(name, connection.driver)
            self.model.appendRow(row)
            self.connection_rows[name] = row[0]
        for name, (state, detail) in (link_states or {}).items():
            self.set_link(name, state, detail)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        self._on_selection()
        self.refresh_certificates()
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
        self.cert_button = QPushButton("Server certificates…")
        self.cert_button.setObjectName("serverCertificates")
        self.cert_button.setToolTip(
            "Review and trust the server certificates an OPC UA connection rejected"
        )
        self.cert_button.clicked.connect(self.open_certificate_dialog)
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
        row.addWidget(self.cert_button)
        row.addSpacing(16)
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

    # ---- link states --------------------------------------------------------------------------

    def set_link(self, connection: str, state: LinkState, detail: str) -> None:
        """Link listener: the state column of the connection's row."""
        item = self.connection_rows.get(connection)
        if item is None or self._closed:
            return
        cell = self.model.item(item.row(), COL_DESCRIPTION)
        self.link_details[connection] = detail if state is not LinkState.CONNECTED else ""
        text = state.value + (f": {detail}" if detail and state is not LinkState.CONNECTED else "")
        cell.setToolTip(text)
        if self._untrusted(connection):
            text = f"{state.value}: untrusted certificate, see “Server certificates…”"
            self.refresh_certificates()
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
        self._replace_children(item, [status_row(connection, LOADING)])
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
            nodes = await within(driver.browse(path), BROWSE_TIMEOUT_S)
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
        rows = [node_row(connection, node) for node in nodes]
        item.setData("loaded", ROLE_STATE)
        self._replace_children(item, rows or [status_row(connection, "(no items)")])
        if not rows:
            item.setData("loaded", ROLE_STATE)

    def _fail(self, item: QStandardItem, error: str) -> None:
        item.setData("failed", ROLE_STATE)
        connection = item.data(ROLE_CONNECTION)
        if self._untrusted(connection):
            error = f"{error} (server certificate not trusted: {UNTRUSTED_HINT})"
        self._replace_children(item, [status_row(connection, error, error=True)])

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
        self._update_cert_button()

    # ---- server certificates ------------------------------------------------------------------

    def selected_connection(self) -> str | None:
        """The connection of the selected rows, when they all belong to one."""
        rows = self.tree.selectionModel().selectedRows(COL_NAME)
        names = {self.item_at(index).data(ROLE_CONNECTION) for index in rows}
        return names.pop() if len(names) == 1 else None

    def _untrusted(self, connection: str) -> bool:
        detail = self.link_details.get(connection, "")
        return connection in self.pki_dirs and "not trusted" in detail

    def _update_cert_button(self) -> None:
        connection = self.selected_connection()
        ready = connection in self.pki_dirs and self.rejected_counts.get(connection or "", 0) > 0
        self.cert_button.setEnabled(ready)

    def refresh_certificates(self) -> None:
        """Count the certificates in each OPC UA connection's ``rejected/`` (worker thread)."""
        if not self.pki_dirs or self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop yet (a browser built outside the app): counted on next event
        task = loop.create_task(self._count_rejected(), name="tag-browser:certificates")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _count_rejected(self) -> None:
        dirs = dict(self.pki_dirs)
        counts = await asyncio.to_thread(_count_rejected, dirs)
        if self._closed:
            return
        self.rejected_counts = counts
        self._update_cert_button()

    def open_certificate_dialog(self) -> CertificateDialog | None:
        """Open the "Server certificates" dialog for the selected OPC UA connection."""
        connection = self.selected_connection()
        if connection is None or connection not in self.pki_dirs:
            return None
        if self.certificate_dialog is not None:
            self.certificate_dialog.close()
        dialog = CertificateDialog(
            connection, self.pki_dirs[connection], user=self.user, parent=self
        )
        dialog.trusted.connect(self._on_trusted)
        dialog.finished.connect(self.refresh_certificates)
        self.certificate_dialog = dialog
        dialog.resize(820, 480)
        dialog.open()
        return dialog

    def _on_trusted(self, connection: str, _fingerprint: str) -> None:
        self.show_message(
            f"Trusted a server certificate for {connection}: the connection retries within 30 s"
            " and connects by itself."
        )
        self.refresh_certificates()

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
        result = self._save(lambda: save_tags(self.project.folder, tags, validator=check_folder))
        names = ", ".join(tag.name for tag in tags[:4]) + (" …" if len(tags) > 4 else "")
        self.show_message(
            f"Added {len(tags)} tag{'s' if len(tags) != 1 else ''} to project.yaml ({names}). "
            + restart_note(result, self.applied)
        )
        return result

    def _save(self, action: Callable[[], SaveResult]) -> SaveResult:
        result = action()
        project, _issues = check_project(self.project.folder)
        self.applied = NOTHING
        if project is not None:
            self.project = project
            if self.apply_saved is not None:
                self.applied = self.apply_saved(project, result)
        self.saved.emit(result)
        return result

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
        if self.certificate_dialog is not None:
            self.certificate_dialog.close()
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


def _pki_dirs(project: Project) -> dict[str, Path]:
    dirs: dict[str, Path] = {}
    for name, connection in project.model.connections.items():
        if connection.driver != "opcua":
            continue
        pki = driver_settings(connection, project.folder).get("pki_dir")
        if isinstance(pki, str) and pki:
            dirs[name] = Path(pki)
    return dirs


def _count_rejected(dirs: dict[str, Path]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, pki in dirs.items():
        try:
            counts[name] = len(rejected_certificates(pki))
        except OSError:
            counts[name] = 0
    return counts
