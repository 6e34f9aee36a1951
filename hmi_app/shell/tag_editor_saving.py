"""The tag editor's "Save" (split from ``tag_editor``): the tag and connection rows go, in a worker
thread, through ``connection_editing.save_project`` (only the changed items of ``project.yaml``
rewritten, atomically, with a backup; the saved project checked like ``hmi-app check``, and a
refused save puts the old file back and lists why). The window stays live and locked meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

import shiboken6

from hmi_app.check import check_project
from hmi_app.core.project.connection_editing import save_project
from hmi_app.core.project.editing import EditRefused, SaveResult
from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import ConnectionConfig, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.shell.browser_csv import check_folder
from hmi_app.shell.live_tags import NOTHING, ApplySaved, restart_note
from hmi_app.shell.tag_editor_connections import ConnectionsPanel


class _Editor(Protocol):
    """What saving uses of the tag editor it is mixed into."""

    project: Project
    read_only: bool
    apply_saved: ApplySaved | None
    connection_panel: ConnectionsPanel
    saved: Any  # Signal(object)
    _saving: asyncio.Task[SaveResult | None] | None
    _close_after_save: bool

    def check_rows(self) -> list[TagConfig] | None: ...
    def load(self, project: Project) -> None: ...
    def show_message(self, text: str, *, error: bool = False) -> None: ...
    def show_problems(self, title: str, issues: list[ProjectIssue]) -> None: ...
    def discard_changes(self) -> None: ...
    def _set_busy(self, busy: bool) -> None: ...
    def _set_modified(self, modified: bool) -> None: ...
    async def _save(
        self,
        folder: Path,
        tags: list[TagConfig],
        connections: dict[str, ConnectionConfig],
        renames: dict[str, str],
    ) -> SaveResult | None: ...


class TagSaveActions:
    """Mixin of ``TagEditor`` (a QDialog): saving its rows into project.yaml."""

    _saving: asyncio.Task[SaveResult | None] | None
    """The save in flight (None when none)."""

    def save(self: _Editor) -> asyncio.Task[SaveResult | None] | None:
        """Start writing the table into project.yaml: checked, atomic, with a backup, in a worker
        thread (the window stays live and read-only meanwhile). The save task, or None when
        nothing can be saved now (the reason is shown)."""
        if self.read_only:
            self.show_message("The built-in demo project is read-only.", error=True)
            return None
        if self._saving is not None:
            return self._saving
        tags = self.check_rows()
        if tags is None:
            self.show_message(
                "Nothing saved: fix the rows marked in the Problem column.", error=True
            )
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.show_message("Not saved: the application loop is not running.", error=True)
            return None
        self._set_busy(True)
        self.show_message("Saving project.yaml…")
        connections = self.connection_panel.check()[0]
        renames = self.connection_panel.renames()
        task = loop.create_task(
            self._save(self.project.folder, tags, connections, renames), name="save tags"
        )
        self._saving = task
        return task

    async def _save(
        self: _Editor,
        folder: Path,
        tags: list[TagConfig],
        connections: dict[str, ConnectionConfig],
        renames: dict[str, str],
    ) -> SaveResult | None:
        try:
            try:
                result = await asyncio.to_thread(
                    save_project,
                    folder,
                    tags,
                    connections,
                    renames=renames,
                    validator=check_folder,
                )
                project, _issues = await asyncio.to_thread(check_project, folder)
            except EditRefused as exc:
                if shiboken6.isValid(self):
                    self._close_after_save = False
                    self.show_problems(
                        "Not saved: the project check refused the change", exc.issues
                    )
                return None
            except OSError as exc:
                if shiboken6.isValid(self):
                    self._close_after_save = False
                    self.show_message(f"Not saved: {exc}", error=True)
                return None
        finally:
            if shiboken6.isValid(self):
                self._saving = None
                self._set_busy(False)
        if not shiboken6.isValid(self):
            return result
        applied = NOTHING
        if project is not None:
            self.load(project)
            if self.apply_saved is not None:
                applied = self.apply_saved(project, result)
        self._set_modified(False)
        self.check_rows()
        summary = result.edit.summary() if result.edit.changed else "no change"
        if result.connections.changed:
            summary = f"tags {summary}; connections {result.connections.summary()}"
        self.show_message(f"Saved project.yaml: {summary}. " + restart_note(result, applied))
        self.saved.emit(result)
        if self._close_after_save:
            self.discard_changes()
        return result

    async def wait_saves(self: _Editor) -> None:
        """Wait for a save in flight (tests, shutdown)."""
        task = self._saving
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
