"""File dialogs of the shell's editors, always window-modal and opened with ``open()``, never
``exec()`` or the static ``QFileDialog.get…`` helpers: those spin a nested Qt event loop, and
asyncio (which runs on the Qt loop through qasync) must never be re-entered from inside it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

CSV_FILTER = "CSV files (*.csv);;All files (*)"


def csv_dialog(parent: QWidget, title: str, proposed: Path, *, save: bool) -> QFileDialog:
    """A CSV file dialog on ``parent`` starting at ``proposed``: to save (an existing file is
    confirmed before it is replaced) or to open an existing file. The caller connects
    ``fileSelected`` and calls ``open()``."""
    dialog = QFileDialog(parent, title, str(proposed))
    dialog.setNameFilter(CSV_FILTER)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    return dialog
