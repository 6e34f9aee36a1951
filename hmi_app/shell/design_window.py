"""The designer window: screens | palette, the canvas (or the live preview), the inspector, and
below them the issues and the undo history.

Every edit goes to the ``ScreenDocument`` as one undoable command (canvas drags, inspector
edits alike). Save checks first: errors are listed and block saving, warnings ask; then the file
is written atomically with a backup, and ``on_saved`` makes the operator window reload it. The
check, the write and the re-reading run in worker threads (``design_save``), so the operator
window never freezes on a save.
Leaving (closing the window, or opening another screen) with unsaved changes asks Save /
Discard / Cancel in a non-modal box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QUndoView,
    QWidget,
)

from hmi_app.core.project.editing import backup_file
from hmi_app.core.project.loader import Project, demo_project_dir, read_project
from hmi_app.core.project.yamlio import YamlDocument
from hmi_app.core.quality import TagValue
from hmi_app.core.tagsource import TagMeta, TagSource
from hmi_app.shell.design_files import FileCommandFlow
from hmi_app.shell.design_issues import IssuesPanel
from hmi_app.shell.design_preview import DesignPreview
from hmi_app.shell.design_save import SaveFlow, display_name
from hmi_app.shell.design_screens import ScreenList
from hmi_app.shell.design_toolbar import DesignToolbar
from hmi_app.shell.live_tags import ApplySaved
from hmi_app.shell.tag_editor import TagEditor
from screens.designer.canvas import DesignCanvas
from screens.designer.document import DocumentError, ScreenDocument
from screens.designer.entries import DesignIssue
from screens.designer.inspector import PropertyInspector
from screens.designer.palette import WidgetPalette
from screens.templates import ScreenCheck

log = logging.getLogger(__name__)

Answer = QMessageBox.StandardButton

OnSaved = Callable[[list[str], ScreenCheck | None], None]
"""Screen files written (their keys), and the project's screen set as loaded after a save
(None: the callee loads it): the operator window reloads them."""


class DesignerWindow(QMainWindow):
    """Design mode's window for one project; edits one screen at a time."""

    def __init__(
        self,
        project: Project,
        source: TagSource,
        *,
        screen: str = "",
        on_saved: OnSaved | None = None,
        apply_saved: ApplySaved | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.apply_saved = apply_saved
        """Hands the tags the tag editor saves to the running engine (None: after a restart)."""
        self.setObjectName("designerWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.project = project
        self.folder = project.folder
        project = self.read_project()  # as saved now: screens may have come and gone since
        self.source = source
        self.on_saved = on_saved
        self.tags: dict[str, TagMeta] = {t.name: t.meta() for t in project.model.runtime_tags}
        self.read_only = project.folder.resolve() == demo_project_dir().resolve()
        self.tag_editor: TagEditor | None = None
        self.document: ScreenDocument | None = None
        self.canvas: DesignCanvas | None = None
        self._leave_ok = False  # set once the user chose how to leave unsaved changes
        self.question: QMessageBox | None = None  # the open Save / Discard / Cancel box
        self.widget_palette = WidgetPalette()
        self.widget_palette.setObjectName("designPalette")
        self.screens = ScreenList(self)
        self.screens.open_requested.connect(self.open_screen)
        self.files = FileCommandFlow(self)
        self.screens.files_changed.connect(self._files_changed)
        self.screens.guard = self._unsaved_guard
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.screens)
        left.addWidget(self.widget_palette)
        left.setStretchFactor(1, 1)
        left.setSizes([330, 470])
        self.inspector = PropertyInspector()
        self.inspector.set_tags(self.tags, {t.name: t.connection for t in project.model.tags})
        self.inspector.prop_edited.connect(self._prop_edited)
        self.inspector.binding_edited.connect(self._binding_edited)
        self.inspector.geometry_edited.connect(self._geometry_edited)
        self.inspector.on_click_edited.connect(self._on_click_edited)
        self.canvas_scroll = QScrollArea()
        self.canvas_scroll.setObjectName("canvasScroll")
        self.canvas_scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas_scroll.setWidgetResizable(True)  # the canvas fits the view until zoomed
        self.preview = DesignPreview(source)
        self.centre = QStackedWidget()
        self.centre.addWidget(self.canvas_scroll)
        self.centre.addWidget(self.preview)
        self.setCentralWidget(self.centre)
        # palette and inspector run the full height; the check and history sit under the canvas
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        left_dock = self._dock(
            "Screens and widgets", left, Qt.DockWidgetArea.LeftDockWidgetArea, "dockLeft"
        )
        right_dock = self._dock(
            "Properties", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea, "dockProps"
        )
        self.issues = IssuesPanel()
        self.issues.jump_requested.connect(self.jump_to)
        self.history = QUndoView()
        self.history.setObjectName("undoHistory")
        self.history.setEmptyLabel("Opened")
        issues_dock = self._dock(
            "Check", self.issues, Qt.DockWidgetArea.BottomDockWidgetArea, "dockIssues"
        )
        history_dock = self._dock(
            "History", self.history, Qt.DockWidgetArea.BottomDockWidgetArea, "dockHistory"
        )
        self.tabifyDockWidget(issues_dock, history_dock)
        issues_dock.raise_()
        self.issues_dock = issues_dock
        self.resizeDocks([left_dock, right_dock], [270, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([issues_dock], [130], Qt.Orientation.Vertical)
        self.saving = SaveFlow(self)
        self.toolbar = DesignToolbar(self)
        self.addToolBar(self.toolbar)
        self.status = QLabel("")
        self.status.setObjectName("designStatus")
        self.statusBar().addWidget(self.status, 1)
        self.screens.reload(project)
        first = screen or project.model.project.start_screen or next(iter(self.screen_paths()), "")
        if first:
            self.open_screen(first)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # ---- the project's screens -------------------------------------------------------------
    def read_project(self) -> Project:
        """The project as it is on disk now (screens may have been added or saved)."""
        project, _issues = read_project(self.folder)
        if project is not None:
            self.project = project
        return self.project

    def screen_paths(self) -> dict[str, Path]:
        """Screen file key (its stem) -> path, in the project's order."""
        return {Path(rel).stem: self.folder / rel for rel in self.project.model.screens}

    def other_docs(self, key: str) -> dict[str, YamlDocument]:
        """Every screen file of the project as last read, but ``key``'s.

        Read when the designer opens and after every file command; a save re-reads only the
        file it wrote (``design_save.reread``), so a check or a preview does not parse every
        file.
        """
        docs = dict(self.project.screen_docs)
        docs.pop(key, None)
        return docs

    def _unsaved_guard(self, key: str) -> str | None:
        document = self.document
        if document is not None and document.path.stem == key and document.is_modified():
            return f"'{key}' has unsaved changes: save them (or undo them) first"
        return None

    def _files_changed(self, names: list[str], open_: str) -> None:
        """The screen list created, renamed, duplicated or deleted a file (then open ``open_``):
        read again in a worker thread (``design_files``)."""
        self.files.changed(names, open_)

    # ---- opening ---------------------------------------------------------------------------
    def open_screen(self, name: str) -> None:
        """Edit screen ``name`` (asks first when the one open has unsaved changes)."""
        if self.document is not None and self.document.path.stem == self.key_of(name):
            return
        if self.document is not None and self.document.is_modified():
            self.ask_unsaved(lambda: self._open(name))
            return
        self._open(name)

    def key_of(self, name: str) -> str:
        """The file key of screen ``name`` (a file may declare a name other than its stem)."""
        if name in self.screen_paths():
            return name
        for key, doc in self.project.screen_docs.items():
            data = doc.data if isinstance(doc.data, dict) else {}
            if data.get("name") == name:
                return key
        return name

    def _open(self, name: str) -> None:
        name = self.key_of(name)
        path = self.screen_paths().get(name)
        if path is None:
            self.say(f"No screen '{name}' in this project")
            return
        try:
            document = ScreenDocument.load(path)
        except DocumentError as exc:
            self.say(f"{name} cannot be edited: {exc}")
            return
        self.close_document()
        self.set_preview(False)
        self.document = document
        canvas = DesignCanvas(document)
        canvas.setObjectName("designCanvas")
        canvas.set_tags(self.tags, self.last_value)
        canvas.selection_changed.connect(self._selection_changed)
        self.widget_palette.activated.connect(canvas.add_widget)
        self.canvas = canvas
        self.canvas_scroll.setWidget(canvas)
        self.history.setStack(document.undo_stack)
        document.changed.connect(self._document_changed)
        document.undo_stack.cleanChanged.connect(self.update_title)
        self.inspector.set_screens(list(self.screen_paths()))
        self.inspector.set_resource_dir(path.parent)
        self.inspector.show_none()
        self.toolbar.attach(canvas, document)
        self.screens.set_current(name)
        self.issues.show_issues([])
        self.issues.summary.setText("Not checked yet: Check or Save runs the check.")
        self.update_title()
        canvas.setFocus()

    def close_document(self) -> None:
        """Stop editing the open screen (its changes are dropped: ask first)."""
        if self.document is None:
            return
        self.set_preview(False)
        if self.canvas is not None:
            self.widget_palette.activated.disconnect(self.canvas.add_widget)
            self.canvas_scroll.takeWidget()
            self.canvas.deleteLater()
            self.canvas = None
        self.history.setStack(None)  # type: ignore[arg-type]  # Qt accepts no stack
        self.document.deleteLater()
        self.document = None

    def update_title(self, *_: object) -> None:
        """``Designer - overview * - <project>`` (the star: unsaved changes)."""
        document = self.document
        if document is not None and not shiboken6.isValid(document.undo_stack):
            return  # the document is being torn down (the application is quitting)
        name = document.name if document is not None else "no screen"
        mark = " *" if document is not None and document.is_modified() else ""
        self.setWindowTitle(f"Designer - {name}{mark} - {self.project.model.project.name}")

    # ---- selection and edits ---------------------------------------------------------------
    def _selection_changed(self, ids: Sequence[str]) -> None:
        self._show_selection(list(ids))

    def _show_selection(self, ids: list[str]) -> None:
        if self.document is None:
            return
        known = {entry.id: entry for entry in self.document.entries()}
        entries = [known[i] for i in ids if i in known]
        if not entries:
            self.inspector.show_none()
        elif len(entries) == 1:
            self.inspector.show_entry(entries[0])
        else:
            self.inspector.show_many(entries)

    def _document_changed(self) -> None:
        if self.canvas is not None:
            self._show_selection(self.canvas.selected())
        self.update_title()

    def _prop_edited(self, widget_id: str, name: str, value: object) -> None:
        if self.document is not None:
            self.document.set_prop(widget_id, name, value)

    def _binding_edited(self, widget_id: str, prop: str, source: object) -> None:
        if self.document is not None:
            self.document.set_binding(widget_id, prop, None if source is None else str(source))

    def _geometry_edited(self, widget_id: str, geometry: object) -> None:
        if self.document is not None and isinstance(geometry, tuple) and len(geometry) == 4:
            x, y, w, h = (int(v) for v in geometry)
            self.document.set_geometries({widget_id: (x, y, w, h)}, "Move")

    def _on_click_edited(self, widget_id: str, action: object) -> None:
        if self.document is not None:
            self.document.set_on_click(widget_id, action if isinstance(action, dict) else None)

    def jump_to(self, widget_id: str) -> None:
        """Select ``widget_id`` on the canvas and scroll it into view (leaves the preview)."""
        if self.canvas is None or self.document is None:
            return
        if widget_id not in {entry.id for entry in self.document.entries()}:
            self.say(f"'{widget_id}' is no longer on this screen")
            return
        self.set_preview(False)
        self.canvas.select([widget_id])
        rect = self.canvas.item_rect(widget_id)
        centre = rect.center()
        self.canvas_scroll.ensureVisible(centre.x(), centre.y(), rect.width() // 2 + 40, 80)
        self.canvas.setFocus()

    # ---- check, preview, save --------------------------------------------------------------
    def check(self) -> list[DesignIssue]:
        """Run the save check on the open screen here and list what it finds."""
        return self.saving.check()

    def check_soon(self) -> None:
        """The Check button: the save check in a worker thread, listed when done
        (``wait_saves``)."""
        self.saving.check_soon()

    def set_preview(self, on: bool) -> None:
        """Show the screen being edited running live (True), or the canvas again (False)."""
        self.toolbar.preview.setChecked(on)
        if not on:
            was_previewing = self.centre.currentWidget() is self.preview
            self.preview.clear()
            self.centre.setCurrentWidget(self.canvas_scroll)
            self.toolbar.set_editing(True)
            if was_previewing:
                self.say("Editing")
            return
        if self.document is None:
            self.toolbar.preview.setChecked(False)
            return
        path = self.document.path
        self.centre.setCurrentWidget(self.preview)
        self.toolbar.set_editing(False)
        self.say("Preview: preparing…")
        self.preview.show_soon(
            self.document.text(),
            path,
            display_name(self.folder, path),
            self.other_docs(path.stem),
            set(self.tags),
            lambda shown: self.say(
                "Preview: live values" if shown else "Preview: the screen has errors (listed)"
            ),
        )

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Check, then write (errors block, warnings ask); ``then`` runs after a good save.
        Returns at once: the check and the write run in worker threads (``wait_saves``)."""
        self.saving.save(then)

    async def wait_saves(self) -> None:
        """Wait for the check, save or screen-file command in flight to end (tests,
        shutdown)."""
        await self.files.wait()
        await self.saving.wait()

    def say(self, text: str) -> None:
        """A line in the status bar."""
        self.status.setText(text)

    # ---- leaving ---------------------------------------------------------------------------
    def ask_unsaved(self, proceed: Callable[[], None]) -> None:
        """Save / Discard / Cancel for the open screen's changes; ``proceed`` after Save or
        Discard."""
        self.saving.ask_unsaved(proceed)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.document is not None and self.document.is_modified() and not self._leave_ok:
            event.ignore()
            self.ask_unsaved(self._leave)
            return
        self.preview.clear()
        super().closeEvent(event)

    def _leave(self) -> None:
        self._leave_ok = True
        self.close()

    async def aclose(self) -> None:
        """The app is closing: unsaved changes go to a recovery copy in ``.backups/``, the
        preview's writes end, the window closes."""
        await self.wait_saves()
        if self.document is not None and self.document.is_modified():
            path = self.document.path
            copy = backup_file(
                path.with_name(f"{path.stem}-unsaved{path.suffix}"),
                self.document.text().encode("utf-8"),
            )
            log.warning("designer closed with unsaved changes to %s: kept in %s", path, copy)
            self._leave_ok = True
        await self.preview.wait_writes()
        if shiboken6.isValid(self):
            self.close()

    # ---- tags ------------------------------------------------------------------------------
    def open_tag_editor(self) -> TagEditor:
        """The tag editor on the project as saved (non-modal); its saves refresh the tags the
        inspector offers and the check knows."""
        if self.tag_editor is None or not shiboken6.isValid(self.tag_editor):
            self.tag_editor = TagEditor(self.read_project(), self)
            self.tag_editor.apply_saved = self.apply_saved
            self.tag_editor.saved.connect(self._tags_saved)
        self.tag_editor.show()
        self.tag_editor.raise_()
        self.tag_editor.activateWindow()
        return self.tag_editor

    def last_value(self, tag: str) -> TagValue | None:
        """The live source's last value of ``tag`` (None for a tag it does not know yet: one
        saved in the tag editor that the running app takes after a restart)."""
        try:
            return self.source.current(tag)
        except KeyError:
            return None

    def _tags_saved(self, _result: object) -> None:
        # the editor has just read the saved project in its worker thread: no second read here
        editor = self.tag_editor
        if editor is not None and shiboken6.isValid(editor):
            self.project = editor.project
        project = self.project
        self.tags = {t.name: t.meta() for t in project.model.runtime_tags}
        self.inspector.set_tags(self.tags, {t.name: t.connection for t in project.model.tags})
        if self.canvas is not None:
            self.canvas.set_tags(self.tags, self.last_value)
        if self.apply_saved is None:
            self.say("Tags saved: new tags get live values once the app is restarted")
        else:
            self.say("Tags saved: the running app uses them now (the tag editor says what waits)")

    def select_action(self, name: str) -> QAction:
        """The toolbar action called ``name`` (tests click it)."""
        return self.toolbar.actions_by_name[name]
