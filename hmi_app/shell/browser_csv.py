"""The tag browser's CSV actions: "Export CSV…" writes every tag of the project, "Import CSV…"
plans an import with ``hmi_app.core.project.tags_csv`` and saves it into ``project.yaml`` (checked
like ``hmi-app check``, atomic, with a backup), reporting the result or every problem, with its
line, in the browser's message line. Nothing is written when any row is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QFileDialog, QWidget

from hmi_app.check import address_checker, check_project
from hmi_app.core.project.editing import EditRefused, SaveResult, save_tags
from hmi_app.core.project.loader import Project
from hmi_app.core.project.tags_csv import CsvImportError, plan_import, write_csv
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.runtime.runtime import AppliedEdits
from hmi_app.shell.file_dialogs import csv_dialog
from hmi_app.shell.live_tags import restart_note


class _Browser(Protocol):
    """What the CSV actions use of the browser they are mixed into."""

    project: Project
    read_only: bool
    applied: AppliedEdits

    def _save(self, action: Callable[[], SaveResult]) -> SaveResult: ...
    def show_message(self, text: str, *, error: bool = False) -> None: ...
    def show_problems(self, title: str, issues: list[ProjectIssue]) -> None: ...
    def export_csv(self, path: Path) -> int: ...
    def import_csv(self, path: Path, *, replace: bool = False) -> SaveResult: ...
    def export_file(self, path: Path) -> bool: ...
    def import_file(self, path: Path, *, replace: bool = False) -> SaveResult | None: ...


class CsvActions:
    """Mixin of ``TagBrowser`` (a QWidget): export and import of the project's tags as CSV."""

    def export_csv(self: _Browser, path: Path) -> int:
        """Write every tag of the project to ``path``; the number of tags."""
        write_csv(path, self.project.model.tags)
        count = len(self.project.model.tags)
        self.show_message(f"Exported {count} tags to {path}.")
        return count

    def import_csv(self: _Browser, path: Path, *, replace: bool = False) -> SaveResult:
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
            lambda: save_tags(
                self.project.folder, plan.tags, replace=replace, validator=check_folder
            )
        )
        edit = result.edit
        if edit.changed:
            note = restart_note(result, self.applied)
            self.show_message(f"Imported {path.name}: {edit.summary()}. " + note)
        else:
            self.show_message(f"Imported {path.name}: no change ({edit.summary()}).")
        return result

    def export_file(self: _Browser, path: Path) -> bool:
        """Export to ``path``, reporting success or failure in the message line."""
        try:
            self.export_csv(path)
        except OSError as exc:
            self.show_message(f"Export failed: {exc}", error=True)
            return False
        return True

    def import_file(self: _Browser, path: Path, *, replace: bool = False) -> SaveResult | None:
        """Import ``path``, reporting the result or every problem (with lines) in the message
        line; None when nothing was imported."""
        try:
            return self.import_csv(path, replace=replace)
        except (CsvImportError, EditRefused) as exc:
            self.show_problems(f"Nothing imported from {path.name}", exc.issues)
            return None

    def _export_clicked(self: _Browser) -> QFileDialog:
        proposed = self.project.folder / "tags.csv"
        dialog = csv_dialog(_widget(self), "Export tags", proposed, save=True)
        dialog.fileSelected.connect(lambda name: self.export_file(Path(name)))
        dialog.open()
        return dialog

    def _import_clicked(self: _Browser) -> QFileDialog:
        dialog = csv_dialog(_widget(self), "Import tags", self.project.folder, save=False)
        dialog.fileSelected.connect(lambda name: self.import_file(Path(name)))
        dialog.open()
        return dialog


def check_folder(folder: Path) -> list[ProjectIssue]:
    """The problems ``hmi-app check`` finds in ``folder`` (the validator of every save)."""
    return check_project(folder)[1]


def _widget(browser: _Browser) -> QWidget:
    assert isinstance(browser, QWidget)
    return browser
