"""A small non-modal dialog asking one name (new screen, rename, duplicate) that stays open with
the reason when the name is refused."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget


class NameDialog(QDialog):
    """Asks a name; ``done(name)`` returns an error message (dialog stays) or None (it closes)."""

    def __init__(
        self,
        title: str,
        label: str,
        initial: str,
        done: Callable[[str], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("nameDialog")
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._done = done
        layout = QVBoxLayout(self)
        text = QLabel(label)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.edit = QLineEdit(initial)
        self.edit.setObjectName("nameEdit")
        self.edit.selectAll()
        layout.addWidget(self.edit)
        self.error = QLabel("")
        self.error.setObjectName("nameError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #a01d14;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, 150)

    def submit(self) -> None:
        """Try the name typed; close when it was taken, else say why not."""
        name = self.edit.text().strip()
        if not name:
            self.error.setText("Type a name.")
            return
        problem = self._done(name)
        if problem:
            self.error.setText(problem)
            return
        self.accept()
