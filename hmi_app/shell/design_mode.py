"""Design mode in the running app: the PIN gate, and the designer opened on the current screen.

Only a project with a design PIN (``designer: pin_hash:``) gets the "Design…" button; operators
without the PIN never see the designer. The PIN is asked in a non-modal dialog; it is checked on
a short-lived worker thread (the scrypt hash takes about 0.3 s, too long for the GUI thread), and
three wrong PINs lock the gate for 30 s (``hmi_app.core.pin.PinGate``, one per running app, its
count and lockout kept in the project's data folder so a restart does not reset them). A
designer save makes the operator window reload that screen from disk (``MainWindow.
reload_screens``), so operators see it without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.pin import PinError, PinGate, Verdict
from hmi_app.core.project.designer_model import read_pin_hash
from hmi_app.core.project.loader import PROJECT_FILE, Project, read_project
from hmi_app.core.project.production_model import project_data_dir
from hmi_app.core.project.yamlio import ProjectLoadError
from hmi_app.core.tagsource import TagSource
from hmi_app.shell.live_tags import ApplySaved
from hmi_app.shell.screenset import load_screen_set
from hmi_app.shell.window import MainWindow
from screens.templates import ScreenCheck

if TYPE_CHECKING:
    from hmi_app.shell.design_window import DesignerWindow

log = logging.getLogger(__name__)

DESIGNER_SIZE = (1600, 960)
PIN_STATE_FILE = "design_pin_lockout.json"
"""In the project's data folder: wrong PINs and the lockout, kept across restarts."""


def screen_loader(folder: Path) -> Callable[[], ScreenCheck]:
    """Reads the screen files of the project in ``folder`` again (for ``reload_screens``)."""

    def load() -> ScreenCheck:
        project, issues = read_project(folder)
        if project is None:
            raise ProjectLoadError(issues)
        return load_screen_set(project)

    return load


class _Relay(QObject):
    """Carries the worker thread's verdict to the GUI thread (a queued signal)."""

    done = Signal(object)


class PinDialog(QDialog):
    """Asks the design PIN; emits ``unlocked`` on the right one. Never modal, never ``exec``."""

    unlocked = Signal()

    def __init__(self, gate: PinGate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.setObjectName("pinDialog")
        self.setWindowTitle("Design mode")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(10)
        intro = QLabel("Design mode changes the screens of the running line.\nDesign PIN:")
        layout.addWidget(intro)
        self.edit = QLineEdit()
        self.edit.setObjectName("pinEdit")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setMaxLength(64)
        layout.addWidget(self.edit)
        self.message = QLabel("")
        self.message.setObjectName("pinMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Open designer")
        ok.setObjectName("pinOk")
        for button in self.buttons.buttons():
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)  # Enter is ours (keyPressEvent), never Cancel's
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._relay = _Relay(self)
        self._relay.done.connect(self._verdict)
        self._worker: threading.Thread | None = None
        self._countdown = QTimer(self)
        self._countdown.setInterval(500)
        self._countdown.timeout.connect(self._tick)
        self.resize(380, 180)
        if gate.locked_for() > 0:
            self._lock()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            event.accept()
            return
        super().keyPressEvent(event)

    @property
    def busy(self) -> bool:
        """A PIN is being checked."""
        return self._worker is not None and self._worker.is_alive()

    def submit(self) -> None:
        """Check the PIN typed (on a worker thread; the answer comes back as a signal)."""
        if self.busy or self.gate.locked_for() > 0:
            return
        pin = self.edit.text()
        self.edit.clear()
        self._enable(False)
        self.message.setText("Checking…")
        relay, gate = self._relay, self.gate

        def check() -> None:
            try:
                verdict: object = gate.attempt(pin)
            except PinError as exc:
                verdict = exc
            if shiboken6.isValid(relay):
                relay.done.emit(verdict)

        self._worker = threading.Thread(target=check, name="design-pin-check", daemon=True)
        self._worker.start()

    def _verdict(self, verdict: object) -> None:
        if isinstance(verdict, PinError):
            self._show_error(f"The design PIN in project.yaml is broken: {verdict}")
            return
        if verdict is Verdict.ACCEPTED:
            self.message.setText("")
            self.unlocked.emit()
            self.accept()
        elif verdict is Verdict.LOCKED:
            self._lock()
        else:
            left = self.gate.attempts_left()
            self._show_error(f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left.")
            self._enable(True)

    def _show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #a01d14; font-weight: bold;")

    def _lock(self) -> None:
        self._enable(False)
        self._tick()
        self._countdown.start()

    def _tick(self) -> None:
        left = self.gate.locked_for()
        if left <= 0:
            self._countdown.stop()
            self.message.setText("")
            self.message.setStyleSheet("")
            self._enable(True)
            return
        self._show_error(f"Too many wrong PINs: try again in {left:.0f} s.")

    def _enable(self, on: bool) -> None:
        self.edit.setEnabled(on)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(on)
        if on:
            self.edit.setFocus()

    def wait_checked(self, timeout_s: float = 5.0) -> None:
        """Join the worker (tests, shutdown): a checking thread never outlives the dialog."""
        if self._worker is not None:
            self._worker.join(timeout_s)


class DesignMode(QObject):
    """Offers design mode on ``window`` when ``project`` has a PIN; opens the designer."""

    designer_opened = Signal(object)

    def __init__(
        self,
        window: MainWindow,
        project: Project,
        source: TagSource,
        apply_saved: ApplySaved | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.project = project
        self.source = source
        self.apply_saved = apply_saved
        self.gate = PinGate(
            project.model.designer.pin_hash,
            state_file=project_data_dir(project.model.project.name) / PIN_STATE_FILE,
            current_hash=lambda: read_pin_hash(project.folder / PROJECT_FILE),
        )
        self.pin_dialog: PinDialog | None = None
        self.designer: DesignerWindow | None = None
        window.enable_design()
        window.design_requested.connect(self.request)

    def request(self) -> None:
        """The Design button: raise the open designer, or ask the PIN."""
        designer = self.designer
        if designer is not None and shiboken6.isValid(designer) and designer.isVisible():
            # open (maybe behind the operator window): a closed one asks the PIN again
            designer.show()
            designer.raise_()
            designer.activateWindow()
            return
        if (
            self.pin_dialog is not None
            and shiboken6.isValid(self.pin_dialog)
            and self.pin_dialog.isVisible()
        ):
            self.pin_dialog.raise_()
            self.pin_dialog.activateWindow()
            return
        dialog = PinDialog(self.gate, self.window)
        dialog.unlocked.connect(self.open_designer)
        dialog.finished.connect(self._pin_closed)
        self.pin_dialog = dialog
        dialog.show()  # not open(): that would make it window-modal over the operator window
        dialog.raise_()
        dialog.activateWindow()

    def _pin_closed(self) -> None:
        self.pin_dialog = None

    def open_designer(self, screen: str | None = None) -> DesignerWindow:
        """The designer on ``screen`` (default: the screen the operator window shows)."""
        from hmi_app.shell.design_window import DesignerWindow

        designer = DesignerWindow(
            self.project,
            self.source,
            screen=screen or self.window.current_screen or "",
            on_saved=self._saved,
            apply_saved=self.apply_saved,
            parent=self.window,
        )
        designer.destroyed.connect(self._designer_closed)
        designer.resize(*DESIGNER_SIZE)
        designer.show()
        self.designer = designer
        self.designer_opened.emit(designer)
        return designer

    def _designer_closed(self) -> None:
        self.designer = None

    def _saved(self, names: list[str], check: ScreenCheck | None = None) -> None:
        """Files were written by the designer: the operator window shows them now. ``check``:
        the screen set as the designer's save loaded it in a worker thread (then only the
        changed pages are built here, on the GUI thread)."""
        if self.window.screen_loader is None:
            self.window.screen_loader = screen_loader(self.project.folder)
        designer = self.designer
        if check is None and designer is not None and shiboken6.isValid(designer):
            # the designer's project is current (it re-reads what it writes): no second full read
            check = load_screen_set(designer.project)
        try:
            issues = self.window.reload_screens(names, check=check)
        except ProjectLoadError as exc:
            log.error("screens not reloaded: %s", exc)
            return
        for issue in issues:
            log.error("%s", issue)

    async def aclose(self) -> None:
        """Close the PIN dialog and the designer (their preview writes ended)."""
        if self.pin_dialog is not None and shiboken6.isValid(self.pin_dialog):
            self.pin_dialog.wait_checked()
            self.pin_dialog.close()
        if self.designer is not None and shiboken6.isValid(self.designer):
            await self.designer.aclose()


def enable_design_mode(
    window: MainWindow,
    project: Project,
    source: TagSource,
    apply_saved: ApplySaved | None = None,
) -> DesignMode | None:
    """Design mode for ``window`` when the project has a PIN (None: not offered);
    ``apply_saved`` makes tags added in its tag editor live at once."""
    window.screen_loader = screen_loader(project.folder)
    if not project.model.designer.enabled:
        return None
    return DesignMode(window, project, source, apply_saved)
