"""The tag editor's CSV actions (split from ``tag_editor``): "Export CSV…" writes the table's
rows as ``tags_csv`` columns; "Import CSV…" checks a file like the tag browser's import
(``tags_csv.plan_import`` against the rows as they are now, with the driver's address check) and
merges its rows into the table, unsaved. A file with any bad row changes nothing and every problem
is listed with its line. The file dialogs open without blocking (``open()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QDialog, QFileDialog, QTableWidgetItem, QWidget

from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.tags_csv import CsvImportError, plan_import, write_csv
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.shell.file_dialogs import csv_dialog
from hmi_app.shell.tag_editor_rows import COL, ROLE_BASE, AddressCheck, tag_cells


class _Editor(Protocol):
    """What the CSV actions use of the tag editor they are mixed into."""

    project: Project
    dialog: QDialog | None
    _filling: bool
    _check_address: AddressCheck

    def check_rows(self) -> list[TagConfig] | None: ...
    def show_message(self, text: str, *, error: bool = False) -> None: ...
    def show_problems(self, title: str, issues: list[ProjectIssue]) -> None: ...
    def row_of(self, name: str) -> int: ...
    def _append(self, cells: dict[str, str], base: TagConfig | None) -> int: ...
    def _cell(self, row: int, col: int) -> QTableWidgetItem: ...
    def _set_modified(self, modified: bool) -> None: ...
    def export_csv(self, path: Path) -> int: ...
    def import_csv(self, path: Path) -> int: ...
    def _file_dialog(self, title: str, save: bool) -> QFileDialog: ...


class TagCsvActions:
    """Mixin of ``TagEditor`` (a QDialog): CSV export and import of the table."""

    dialog: QDialog | None
    """The file dialog (or question) open now, kept so it is not collected while shown."""

    def export_csv(self: _Editor, path: Path) -> int:
        """Write the rows to ``path`` as CSV (every row must be valid); the number of tags."""
        tags = self.check_rows()
        if tags is None:
            self.show_message(
                "Nothing exported: fix the rows marked in the Problem column.", error=True
            )
            return 0
        try:
            write_csv(path, tags)
        except OSError as exc:
            self.show_message(f"Export failed: {exc}", error=True)
            return 0
        self.show_message(f"Exported {len(tags)} tags to {path}.")
        return len(tags)

    def import_csv(self: _Editor, path: Path) -> int:
        """Merge the rows of CSV file ``path`` into the table (checked like an import, unsaved);
        the number of rows taken, 0 when the file has problems (all listed)."""
        tags = self.check_rows()
        if tags is None:
            self.show_message(
                "Fix the rows marked in the Problem column before importing.", error=True
            )
            return 0
        try:
            text = path.read_text(encoding="utf-8-sig")
            model = self.project.model.model_copy(update={"tags": tags})
            plan = plan_import(text, model, path.name, check_address=self._check_address)
        except (OSError, UnicodeDecodeError) as exc:
            self.show_problems(
                f"Nothing imported from {path.name}",
                [ProjectIssue(path.name, 0, "", f"cannot be read: {exc}")],
            )
            return 0
        except CsvImportError as exc:
            self.show_problems(f"Nothing imported from {path.name}", exc.issues)
            return 0
        self._filling = True
        added = updated = 0
        for tag in plan.tags:
            row = self.row_of(tag.name)
            if row < 0:
                self._append(tag_cells(tag), tag)
                added += 1
                continue
            for name, text_value in tag_cells(tag).items():
                self._cell(row, COL[name]).setText(text_value)
            self._cell(row, COL["name"]).setData(ROLE_BASE, tag)
            updated += 1
        self._filling = False
        self._set_modified(True)
        self.check_rows()
        self.show_message(
            f"Imported {path.name}: {added} added, {updated} updated (not saved yet)."
        )
        return len(plan.tags)

    def _file_dialog(self: _Editor, title: str, save: bool) -> QFileDialog:
        dialog = csv_dialog(_widget(self), title, self.project.folder / "tags.csv", save=save)
        self.dialog = dialog
        return dialog

    def _export_clicked(self: _Editor) -> QFileDialog:
        dialog = self._file_dialog("Export tags", save=True)
        dialog.fileSelected.connect(lambda name: self.export_csv(Path(name)))
        dialog.open()
        return dialog

    def _import_clicked(self: _Editor) -> QFileDialog:
        dialog = self._file_dialog("Import tags", save=False)
        dialog.fileSelected.connect(lambda name: self.import_csv(Path(name)))
        dialog.open()
        return dialog


def _widget(editor: _Editor) -> QWidget:
    assert isinstance(editor, QWidget)
    return editor
