"""Faceplates: a template screen instanced for one piece of equipment, shown as a popup.

Clicking a symbol with ``on_click: {faceplate: filler, params: {equipment: line1.filler}}`` opens
the ``filler`` template filled in for ``line1.filler`` in a non-modal dialog ("Filler -
line1.filler") that shows its values, state and controls. The dialog's screen subscribes while it
is shown and unsubscribes when it is closed; opening the same faceplate again raises the dialog
already open instead of a second one. A faceplate that cannot be instanced shows why, located in
its file, instead of failing the click.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout, QWidget

from hmi_app.core.tagsource import TagSource
from screens.model import ClickAction, ScreenDefinition
from screens.renderer import ScreenView, TrendRequest
from screens.templates import TemplateError, TemplateLibrary, describe_params

FaceplateKey = tuple[str, tuple[tuple[str, str], ...]]
MAX_SCREEN_SHARE = 0.9  # a faceplate never opens larger than this share of the screen


def faceplate_key(action: ClickAction) -> FaceplateKey:
    """One dialog per template and parameter values."""
    return str(action.faceplate), tuple(sorted(action.params.items()))


class FaceplateDialog(QDialog):
    """A non-modal popup hosting one instanced template (or the reasons it cannot be shown)."""

    def __init__(
        self,
        key: FaceplateKey,
        content: ScreenDefinition | Sequence[str],
        source: TagSource,
        parent: QWidget | None = None,
        *,
        title: str = "",
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.setModal(False)
        self.setObjectName("faceplate")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view: ScreenView | None = None
        self.errors: list[str] = []
        if isinstance(content, ScreenDefinition):
            self.view = ScreenView(content, source, self)
            layout.addWidget(self.view)
            self.setWindowTitle(content.display_title)
            self.resize(_fitted(QSize(*content.model.size)))
        else:
            self.errors = list(content)
            layout.addWidget(_error_page(self.errors))
            self.setWindowTitle(f"{title} (errors)")
            self.resize(640, 240)
        self.setSizeGripEnabled(True)
        self.finished.connect(self.deleteLater)  # Esc, close button and close() all end here

    @property
    def subscribed(self) -> bool:
        return self.view is not None and self.view.subscribed


def _fitted(design: QSize) -> QSize:
    """The design size, scaled down (aspect kept) when it does not fit on the screen."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return design
    room = screen.availableGeometry().size() * MAX_SCREEN_SHARE
    factor = min(1.0, room.width() / design.width(), room.height() / design.height())
    return QSize(round(design.width() * factor), round(design.height() * factor))


def _error_page(errors: Sequence[str]) -> QScrollArea:
    text = QLabel(
        "<b>This faceplate cannot be shown:</b><br><br>" + "<br>".join(map(_html, errors))
    )
    text.setObjectName("faceplateErrors")
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    text.setWordWrap(True)
    area = QScrollArea()
    area.setWidget(text)
    area.setWidgetResizable(True)
    return area


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Faceplates:
    """The faceplates opened from one window: at most one dialog per (template, params).

    ``handle`` carries out a click action: a faceplate opens here, a navigation goes to
    ``navigate`` (the window's ``show_screen``). Clicks on symbols inside a faceplate are
    handled the same way, so a faceplate may open another one.
    """

    def __init__(
        self,
        parent: QWidget,
        library: TemplateLibrary,
        source: TagSource,
        navigate: Callable[[str], None] | None = None,
    ) -> None:
        self.parent = parent
        self.library = library
        self.source = source
        self.navigate = navigate
        self.trend_handler: Callable[[TrendRequest], None] | None = None
        """Opens the trend window for a right-click trend inside a faceplate (set by the window)."""
        self._open: dict[FaceplateKey, FaceplateDialog] = {}

    def handle(self, action: ClickAction) -> None:
        """Do what a click with ``action`` asks for."""
        if action.faceplate is not None:
            self.open(action)
        elif action.navigate is not None and self.navigate is not None:
            self.navigate(action.navigate)

    def open(self, action: ClickAction) -> FaceplateDialog:
        """Show the faceplate of ``action`` (raise it when it is already open)."""
        if action.faceplate is None:
            raise ValueError("not a faceplate action")
        key = faceplate_key(action)
        dialog = self._open.get(key)
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return dialog
        content: ScreenDefinition | list[str]
        try:
            content = self.library.instantiate(action.faceplate, action.params)
        except KeyError as exc:
            content = [str(exc.args[0])]
        except TemplateError as exc:
            content = [str(issue) for issue in exc.issues]
        title = f"{action.faceplate} - {describe_params(action.params)}"
        dialog = FaceplateDialog(key, content, self.source, self.parent, title=title)
        dialog.finished.connect(lambda _result, key=key, dialog=dialog: self._forget(key, dialog))
        self._open[key] = dialog
        if dialog.view is not None:
            dialog.view.action_handler = self.handle
            dialog.view.trend_handler = self.trend_handler
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def dialogs(self) -> list[FaceplateDialog]:
        """The faceplates open now."""
        return [d for d in self._open.values() if shiboken6.isValid(d) and d.isVisible()]

    def close_all(self) -> None:
        """Close every faceplate (their screens unsubscribe)."""
        for dialog in self.dialogs():
            dialog.close()

    def _forget(self, key: FaceplateKey, dialog: FaceplateDialog) -> None:
        if self._open.get(key) is dialog:
            del self._open[key]


_MANAGERS: weakref.WeakKeyDictionary[QWidget, Faceplates] = weakref.WeakKeyDictionary()


def faceplates_of(parent: QWidget, library: TemplateLibrary, source: TagSource) -> Faceplates:
    """The faceplate manager of ``parent`` (made on first use, without navigation)."""
    manager = _MANAGERS.get(parent)
    if manager is None or manager.library is not library or manager.source is not source:
        manager = Faceplates(parent, library, source)
        _MANAGERS[parent] = manager
    return manager


def open_faceplate(
    parent: QWidget, library: TemplateLibrary, action: ClickAction, source: TagSource
) -> FaceplateDialog:
    """Open (or raise) the faceplate ``action`` names, owned by ``parent``."""
    return faceplates_of(parent, library, source).open(action)
