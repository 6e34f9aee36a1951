"""The designer's screen list: the project's screens, then its templates (screens with
parameters, listed apart with their parameters), and the buttons that manage screen files.

A click opens a screen on the canvas. New, new template, rename, duplicate, delete and "start
screen" go through ``screens.designer.screen_files`` (which keeps ``project.yaml``'s
``screens:`` list and ``start_screen`` in step, atomically and with backups); afterwards
``files_changed`` tells the designer which screens changed (it reads the project again, off the
GUI thread, then the operator window reloads them and the new screen opens).
Names are asked in small non-modal dialogs; deleting asks first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.project.loader import Project
from hmi_app.shell.design_names import NameDialog
from screens.designer import screen_files
from screens.designer.file_changes import ScreenFileError

_ROLE_KEY = Qt.ItemDataRole.UserRole
_ROLE_TEMPLATE = Qt.ItemDataRole.UserRole + 1


class ScreenList(QWidget):
    """The project's screens and templates, and the file commands."""

    open_requested = Signal(str)
    """A screen (file key) to edit."""
    files_changed = Signal(list, str)
    """Screens created, renamed, duplicated, deleted, or the start screen changed; then the
    screen to open ("" none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenList")
        self.folder: Path | None = None
        self.start = ""
        self.question: QWidget | None = None  # the open name dialog or delete question
        self.guard: Callable[[str], str | None] = lambda _key: None
        """Why screen ``key``'s file may not be rewritten now (set by the designer)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(_heading("Screens"))
        self.list = QListWidget()
        self.list.setObjectName("screensList")
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        layout.addWidget(self.list, 1)
        buttons = QGridLayout()
        buttons.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for index, (name, text, tip, slot) in enumerate(
            (
                ("new", "New…", "A new empty screen", self.ask_new),
                (
                    "template",
                    "New template…",
                    "A screen with parameters, for faceplates",
                    self.ask_new_template,
                ),
                ("rename", "Rename…", "Rename the selected screen (links follow)", self.ask_rename),
                ("duplicate", "Duplicate…", "Copy the selected screen", self.ask_duplicate),
                ("start", "Set start", "Open the selected screen first", self.set_start),
                ("delete", "Delete…", "Delete the selected screen", self.ask_delete),
            )
        ):
            button = QPushButton(text)
            button.setObjectName(f"screens_{name}")
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button, index // 2, index % 2)
            self.buttons[name] = button
        layout.addLayout(buttons)
        self.templates_label = _heading("Templates")
        self.templates_label.setToolTip("Screens with parameters: faceplates and fragments")
        self._screen_keys: list[str] = []
        self._template_keys: list[str] = []

    # ---- the list --------------------------------------------------------------------------
    def reload(self, project: Project) -> None:
        """Show ``project``'s screens: navigation screens, then templates (apart)."""
        self.folder = project.folder
        self.start = project.model.project.start_screen
        current = self.current()
        self.list.clear()
        screens, templates = [], []
        for key, doc in project.screen_docs.items():
            data = doc.data if isinstance(doc.data, dict) else {}
            parameters = data.get("parameters")
            if isinstance(parameters, dict) and parameters:
                templates.append((key, ", ".join(str(p) for p in parameters)))
            else:
                screens.append((key, str(data.get("title") or "")))
        self._screen_keys = [key for key, _ in screens]
        self._template_keys = [key for key, _ in templates]
        for key, title in screens:
            text = key + (f"  ({title})" if title and title.lower() != key else "")
            item = QListWidgetItem(text + ("   ▸ start" if key == self.start else ""))
            item.setData(_ROLE_KEY, key)
            item.setData(_ROLE_TEMPLATE, False)
            if key == self.start:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
        if templates:
            header = QListWidgetItem("Templates")
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = QFont(header.font())
            font.setBold(True)
            header.setFont(font)
            self.list.addItem(header)
            for key, params in templates:
                item = QListWidgetItem(key)  # its parameters in the tooltip: the list is narrow
                item.setData(_ROLE_KEY, key)
                item.setData(_ROLE_TEMPLATE, True)
                item.setToolTip(f"Template with parameters: {params}")
                self.list.addItem(item)
        if current:
            self.set_current(current)

    def screen_keys(self) -> list[str]:
        """Screens, then templates, as listed."""
        return [*self._screen_keys, *self._template_keys]

    def templates(self) -> list[str]:
        return list(self._template_keys)

    def set_current(self, key: str) -> None:
        """Mark ``key`` as the screen being edited (emits nothing)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ROLE_KEY) == key:
                self.list.blockSignals(True)
                self.list.setCurrentItem(item)
                self.list.blockSignals(False)
                return

    def current(self) -> str:
        item = self.list.currentItem()
        return str(item.data(_ROLE_KEY)) if item is not None and item.data(_ROLE_KEY) else ""

    def item_of(self, key: str) -> QListWidgetItem:
        """The row of ``key`` (tests click it)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(_ROLE_KEY) == key:
                return item
        raise KeyError(key)

    def _clicked(self, item: QListWidgetItem) -> None:
        key = item.data(_ROLE_KEY)
        if key:
            self.open_requested.emit(str(key))

    # ---- file commands ---------------------------------------------------------------------
    def _ask(self, title: str, label: str, initial: str, done: Callable[[str], str | None]) -> None:
        dialog = NameDialog(title, label, initial, done, self)
        self.question = dialog
        dialog.show()  # not open(): window-modal would freeze the designer behind it
        dialog.raise_()
        dialog.edit.setFocus()

    def ask_new(self) -> None:
        self._ask("New screen", "Name of the new screen:", "", self._new)

    def ask_new_template(self) -> None:
        self._ask(
            "New template",
            "Name of the template, then its parameters (e.g. 'valve_faceplate: equipment'):",
            "",
            self._new_template,
        )

    def ask_rename(self) -> None:
        key = self.current()
        if key:
            self._ask(
                "Rename screen", f"New name for '{key}':", key, lambda n: self._rename(key, n)
            )

    def ask_duplicate(self) -> None:
        key = self.current()
        if key:
            self._ask(
                "Duplicate screen",
                f"Name of the copy of '{key}':",
                f"{key}_copy",
                lambda n: self._duplicate(key, n),
            )

    def ask_delete(self) -> None:
        key = self.current()
        if not key:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete screen",
            f"Delete the screen '{key}'? Its file goes to .backups/.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("deleteScreen")
        box.finished.connect(
            lambda result: self._delete(key) if result == QMessageBox.StandardButton.Yes else None
        )
        self.question = box
        box.open()

    def set_start(self) -> None:
        key = self.current()
        if key:
            self._tell(self._run(lambda: screen_files.set_start_screen(self._folder(), key), []))

    def _new(self, name: str) -> str | None:
        return self._run(lambda: screen_files.new_screen(self._folder(), name), [name], open_=name)

    def _new_template(self, text: str) -> str | None:
        name, _, params = text.partition(":")
        names = [p.strip() for p in params.replace(",", " ").split() if p.strip()]
        if not names:
            return "a template needs at least one parameter: 'name: param1, param2'"
        return self._run(
            lambda: screen_files.new_screen(self._folder(), name.strip(), parameters=names),
            [name.strip()],
            open_=name.strip(),
        )

    def _rename(self, key: str, name: str) -> str | None:
        return self._run(
            lambda: screen_files.rename_screen(self._folder(), key, name),
            [key, name],
            open_=name,
            touches=key,
        )

    def _duplicate(self, key: str, name: str) -> str | None:
        return self._run(
            lambda: screen_files.duplicate_screen(self._folder(), key, name),
            [name],
            open_=name,
            touches=key,  # the copy is of the file: unsaved edits would not be in it
        )

    def _delete(self, key: str) -> None:
        self._tell(
            self._run(lambda: screen_files.delete_screen(self._folder(), key), [key], touches=key)
        )

    def _tell(self, problem: str | None) -> None:
        """Show why a command was not done (a non-modal box)."""
        if problem:
            box = QMessageBox(QMessageBox.Icon.Warning, "Not done", problem, parent=self)
            box.setObjectName("screenCommandRefused")
            self.question = box
            box.open()

    def _folder(self) -> Path:
        assert self.folder is not None, "reload() first"
        return self.folder

    def _run(
        self,
        action: Callable[[], object],
        names: list[str],
        open_: str = "",
        touches: str = "",
    ) -> str | None:
        """Do a file command; its error message (None when done). ``touches``: the screen whose
        file it rewrites or removes (refused while that screen has unsaved changes)."""
        problem = self.guard(touches) if touches else None
        if problem:
            return problem
        try:
            action()
        except ScreenFileError as exc:
            return str(exc)
        self.files_changed.emit(names, open_)  # opened once the project is read again
        return None


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold; color: #262626; padding: 2px 0;")
    return label
