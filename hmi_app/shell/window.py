"""The operator main window: header, navigation and the current screen.

Screens are rendered on first visit and kept in a stack; only the visible one is subscribed (a
``ScreenView`` unsubscribes when hidden). A screen file with errors shows its errors instead of
being dropped, so nothing the user wrote is silently lost.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from drivers.base import LinkState
from hmi_app.core.history import HistorySource
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.core.tagsource import TagSource
from hmi_app.shell.header import HeaderBar
from hmi_app.shell.link_banner import LinkBanner
from hmi_app.shell.navigation import History, NavBar
from hmi_app.shell.sync_status import SyncMonitor
from hmi_app.shell.sync_view import SyncView
from screens.faceplate import Faceplates
from screens.model import ScreenDefinition
from screens.renderer import ScreenView, TrendRequest
from screens.templates import ScreenCheck, TemplateLibrary

if TYPE_CHECKING:
    from hmi_app.runtime.runtime import AppliedEdits
    from hmi_app.runtime.sync import SyncService
    from hmi_app.shell.design_mode import DesignMode
    from hmi_app.shell.tag_browser import TagBrowser
    from hmi_app.shell.trend_window import TrendWindow


class ScreenErrorPage(QScrollArea):
    """Stands in for a screen whose file has errors, listing each with file and line."""

    def __init__(
        self, name: str, issues: list[ProjectIssue], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.issues = issues
        text = QLabel(
            f"<b>Screen '{name}' cannot be shown: its file has errors.</b><br><br>"
            + "<br>".join(_html(str(issue)) for issue in issues)
        )
        text.setObjectName("screenErrors")
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        text.setWordWrap(True)
        self.setWidget(text)
        self.setWidgetResizable(True)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _entry_title(name: str, entry: ScreenDefinition | list[ProjectIssue]) -> str:
    if isinstance(entry, ScreenDefinition):
        return entry.model.display_title
    return f"{name} (errors)"


def _content(entry: ScreenDefinition | list[ProjectIssue] | None) -> object:
    """What a page shows of ``entry``: equal for two loads of an unchanged file."""
    if isinstance(entry, ScreenDefinition):
        return entry.model, [placed.config for placed in entry.widgets]
    return entry


ScreenEntry = ScreenDefinition | list[ProjectIssue]


class MainWindow(QMainWindow):
    """Header, navigation bar and a stack with the rendered screens."""

    closed = Signal()
    tags_requested = Signal()  # the "Tags" button or Ctrl+T: open the tag browser
    design_requested = Signal()  # the "Design" button (only when the project has a design PIN)
    screens_reloaded = Signal(list)  # names of the screens rebuilt from their saved files
    trend_requested = Signal(object)  # a TrendRequest: the "Trends" button, a right-click trend

    def __init__(
        self,
        *,
        plant: str,
        line: str,
        title: str,
        source: TagSource,
        screens: Mapping[str, ScreenEntry],
        start_screen: str = "",
        link_states: Mapping[str, tuple[LinkState, str]] | None = None,
        connections: list[str] | None = None,
        templates: TemplateLibrary | None = None,
        sync: SyncService | None = None,
        sync_export_dir: Path | None = None,
        history: HistorySource | None = None,
        history_gap: Callable[[str], float] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.source = source
        self.history_source = history
        """The historian: embedded trends are filled from it when their screen is shown."""
        self.history_gap = history_gap
        """A recorded tag's longest pause that is not a gap (None: the trends' default)."""
        self.trend_window: TrendWindow | None = None
        self._entries = dict(screens)
        self.faceplates = Faceplates(
            self, templates or TemplateLibrary({}, None), source, navigate=self._navigate
        )
        self.faceplates.trend_handler = self.trend_requested.emit
        self._pages: dict[str, QWidget] = {}
        self.history = History()
        central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        link_states = dict(link_states or {})
        names = list(connections or []) + [c for c in link_states if c not in (connections or [])]
        self.header = HeaderBar(plant, line, names)
        self.link_banner = LinkBanner()
        for connection, (state, detail) in link_states.items():
            self.set_link(connection, state, detail)
        titles = [(name, self._title_of(name)) for name in self._entries]
        self.nav = NavBar(titles, self.show_screen, self.go_back)
        self.tags_button = QPushButton("Tags…")
        self.tags_button.setObjectName("tagsButton")
        self.tags_button.setToolTip("Tag browser: browse connections, add tags, CSV (Ctrl+T)")
        self.tags_button.clicked.connect(self.tags_requested)
        self.trends_button = QPushButton("Trends…")
        self.trends_button.setObjectName("trendsButton")
        self.trends_button.setToolTip("Trend window: saved trends, add pens, history")
        self.trends_button.clicked.connect(lambda: self.trend_requested.emit(TrendRequest()))
        nav_layout = self.nav.layout()
        if isinstance(nav_layout, QHBoxLayout):
            nav_layout.addSpacing(16)
            nav_layout.addWidget(self.trends_button)
            nav_layout.addWidget(self.tags_button)
        QShortcut(QKeySequence("Ctrl+T"), self, self.tags_requested.emit)
        self.tag_browser: TagBrowser | None = None
        self.design_button: QPushButton | None = None
        self.design_mode: DesignMode | None = None  # set by the app when the project has a PIN
        self.screen_loader: Callable[[], ScreenCheck] | None = None
        """Reads the project's screen files again (set by the app; used by ``reload_screens``)."""
        self._retired: list[ScreenView] = []  # replaced pages with writes still in flight
        # production sync: one status reader feeds the header chip and the sync window
        self.sync_monitor: SyncMonitor | None = None
        self.sync_view: SyncView | None = None
        self._sync_export_dir = sync_export_dir or Path.home()
        if sync is not None:
            self.sync_monitor = SyncMonitor(sync, self)
            chip = self.header.add_sync_chip()
            self.sync_monitor.updated.connect(chip.show_snapshot)
            chip.clicked.connect(self.show_sync_view)
            self.sync_monitor.start()
        self.stack = QStackedWidget()
        layout.addWidget(self.header)
        layout.addWidget(self.nav)
        layout.addWidget(self.link_banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        first = start_screen if start_screen in self._entries else next(iter(self._entries), "")
        if first:
            self.show_screen(first)

    def _title_of(self, name: str) -> str:
        return _entry_title(name, self._entries[name])

    @property
    def current_screen(self) -> str | None:
        return self.history.current

    def page(self, name: str) -> QWidget:
        """The page of screen ``name``, rendered on first use."""
        page = self._pages.get(name)
        if page is None:
            entry = self._entries[name]
            if isinstance(entry, ScreenDefinition):
                page = ScreenView(entry, self.source)
                page.action_handler = self.faceplates.handle
                page.trend_handler = self.trend_requested.emit
                page.history = self.history_source
                if self.history_gap is not None:
                    page.history_gap = self.history_gap
            else:
                page = ScreenErrorPage(name, entry)
            self._pages[name] = page
            self.stack.addWidget(page)
        return page

    def screen_views(self) -> list[ScreenView]:
        return [page for page in self._pages.values() if isinstance(page, ScreenView)]

    def show_screen(self, name: str, *, record: bool = True) -> None:
        """Make ``name`` the current screen (KeyError for an unknown screen)."""
        if name not in self._entries:
            raise KeyError(f"no screen named {name!r}")
        page = self.page(name)
        self.stack.setCurrentWidget(page)
        if record:
            self.history.visit(name)
        self.nav.show_current(name, self._title_of(name), self.history.can_go_back())

    def set_link(self, connection: str, state: LinkState, detail: str) -> None:
        """Link listener: the header chip and, while it is down, the banner under the nav."""
        self.header.set_link(connection, state, detail)
        self.link_banner.set_link(connection, state, detail)

    def _navigate(self, name: str) -> None:
        """A click asked for another screen: faceplates of this one close on the way."""
        self.faceplates.close_all()
        self.show_screen(name)

    def go_back(self) -> None:
        previous = self.history.back()
        if previous is not None:
            self.show_screen(previous, record=False)

    def tick(self) -> None:
        """Called by the application's one 100 ms timer after the bus flush."""
        self.header.tick()

    def release_screens(self) -> None:
        """Cancel every screen subscription and the sync status reads (before the runtime
        stops)."""
        self.faceplates.close_all()
        if self.sync_monitor is not None:
            self.sync_monitor.stop()
        for view in self.screen_views():
            view.unsubscribe()

    async def wait_writes(self) -> None:
        for view in [*self.screen_views(), *self._retired]:
            await view.wait_writes()
        self._retired.clear()

    # ---- design mode -----------------------------------------------------------------------
    def enable_design(self) -> QPushButton:
        """Show the "Design" button after "Tags…" (the project has a design-mode PIN)."""
        if self.design_button is None:
            self.design_button = QPushButton("Design…")
            self.design_button.setObjectName("designButton")
            self.design_button.setToolTip("Design mode: change screens (asks the design PIN)")
            self.design_button.clicked.connect(self.design_requested)
            nav_layout = self.nav.layout()
            if isinstance(nav_layout, QHBoxLayout):
                nav_layout.addWidget(self.design_button)
        return self.design_button

    def reload_screen(self, name: str) -> list[ProjectIssue]:
        """Show screen ``name`` as its file is now (after a save in the designer)."""
        return self.reload_screens([name])

    def reload_screens(
        self, changed: Collection[str] = (), *, check: ScreenCheck | None = None
    ) -> list[ProjectIssue]:
        """Read the screen files again and rebuild what changed, without a restart.

        Every screen whose content differs (and those in ``changed``) gets a fresh page; the
        others keep theirs. New, renamed and deleted screens show in the navigation; the current
        screen stays current (or, when it is gone, the first one is shown). Templates are
        replaced in the faceplate library, so a faceplate opened afterwards uses the new file.
        The issues of files that do not load are returned (their screens show them). ``check``:
        the screens as already loaded by the caller (else the ``screen_loader`` reads them).
        """
        if check is None:
            if self.screen_loader is None:
                raise RuntimeError("this window has no screen loader")
            check = self.screen_loader()
        old, self._entries = self._entries, dict(check.screens)
        self.faceplates.library = check.library
        rebuilt: list[str] = []
        for name in list(self._pages):
            entry = self._entries.get(name)
            if entry is None or name in changed or _content(entry) != _content(old.get(name)):
                self._drop_page(name)
                rebuilt.append(name)
        titles = [(name, self._title_of(name)) for name in self._entries]
        if titles != [(name, _entry_title(name, entry)) for name, entry in old.items()]:
            self._rebuild_nav(titles)
        current = self.current_screen
        if current in self._entries:
            self.show_screen(current, record=False)
        elif self._entries:
            self.history = History()
            self.show_screen(next(iter(self._entries)))
        self.screens_reloaded.emit(rebuilt)
        return check.issues()

    def after_tags_applied(self, applied: AppliedEdits) -> None:
        """Tags changed while running (units, format, limits): the pages are built again (the
        one shown at once, the others when next shown) so their widgets take the new settings."""
        if not applied.updated:
            return
        for name in list(self._pages):
            self._drop_page(name)
        if self.current_screen in self._entries:
            self.show_screen(self.current_screen, record=False)

    def _drop_page(self, name: str) -> None:
        page = self._pages.pop(name)
        self.stack.removeWidget(page)
        if isinstance(page, ScreenView):
            page.unsubscribe()
            if page.pending_writes():
                self._retired.append(page)  # deleted once its writes have ended
                page.hide()
                return
        page.deleteLater()

    def _rebuild_nav(self, titles: list[tuple[str, str]]) -> None:
        """A new navigation bar for the new list of screens; Trends, Tags and Design move over."""
        nav = NavBar(titles, self.show_screen, self.go_back)
        nav_layout = nav.layout()
        if isinstance(nav_layout, QHBoxLayout):
            nav_layout.addSpacing(16)
            nav_layout.addWidget(self.trends_button)
            nav_layout.addWidget(self.tags_button)
            if self.design_button is not None:
                nav_layout.addWidget(self.design_button)
        central = self.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None:
            layout.replaceWidget(self.nav, nav)
        self.nav.deleteLater()
        self.nav = nav

    def show_sync_view(self) -> SyncView:
        """Open (or raise) the sync status window; it is not modal."""
        if self.sync_monitor is None:
            raise RuntimeError("this project has no production sync")
        if self.sync_view is None:
            self.sync_view = SyncView(self.sync_monitor, self._sync_export_dir, self)
            self.sync_view.resize(1180, 420)
        self.sync_view.show()
        self.sync_view.raise_()
        self.sync_view.activateWindow()
        return self.sync_view

    async def close_tools(self) -> None:
        """Close the designer, the tag browser and the sync window (if open) and wait for their
        tasks."""
        if self.design_mode is not None:
            await self.design_mode.aclose()
        if self.tag_browser is not None:
            await self.tag_browser.aclose()
        if self.sync_view is not None:
            self.sync_view.close()
        if self.sync_monitor is not None:
            await self.sync_monitor.aclose()
        if self.trend_window is not None:
            await self.trend_window.aclose()

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()
