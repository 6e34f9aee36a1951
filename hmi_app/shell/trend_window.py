"""The trend window: one non-modal window showing a trend view of saved or ad hoc pens.

It hosts the ``TrendView`` (``widgets.trends.view``) on the runtime's tag bus (live values) and
historian (the past). Above it: a picker of the project's saved trends (``trends/*.yaml``), a tag
picker listing the recorded tags to add a pen, a pen picker to remove one; below it 'Save as'
writes the pens on screen as ``trends/<name>.yaml`` (atomically, in a worker thread, with a
backup of the file it replaces). There is one window per main window: asking for a trend again
raises it with the new pens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.history import HistorySource
from hmi_app.core.project.history_model import HistorianConfig
from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.trends_model import (
    PenConfig,
    SavedTrend,
    TrendDefinition,
    read_trend,
    read_trends,
    save_trend,
    trendable,
)
from hmi_app.core.project.yamlio import ProjectLoadError
from hmi_app.core.tagsource import TagMeta, TagSource
from hmi_app.shell.trend_specs import (
    DEFAULT_SPAN_S,
    gap_threshold,
    pens_definition,
    pens_spec,
    request_pens,
)
from screens.renderer import TrendRequest
from widgets.trends.spec import MAX_PENS
from widgets.trends.view import TrendView

if TYPE_CHECKING:
    from hmi_app.shell.window import MainWindow

log = logging.getLogger(__name__)

_ERROR_STYLE = "color: #a01d14;"
_OK_STYLE = "color: #262626;"


class TrendWindow(QWidget):
    """Saved-trend picker, pen editing, 'Save as' and the trend view of the current pens."""

    def __init__(
        self,
        *,
        source: TagSource,
        history: HistorySource | None,
        folder: Path,
        tags: Mapping[str, TagConfig],
        saved: Mapping[str, SavedTrend],
        historian: HistorianConfig | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("trendWindow")
        self.setWindowTitle("Trends")
        self.source = source
        self.history = history
        self.folder = Path(folder)
        self.tags = dict(tags)
        self.saved: dict[str, SavedTrend] = dict(saved)
        self.historian = historian or HistorianConfig()
        """Recording intervals: how long a pause in a pen's history is before it is a gap."""
        self.title = ""
        self.span = DEFAULT_SPAN_S
        self.pens: list[PenConfig] = []
        self.definition_name: str | None = None
        self.view: TrendView | None = None
        self._saving: set[asyncio.Task[None]] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(QLabel("Saved trend:"))
        self.picker = QComboBox()
        self.picker.setObjectName("trendPicker")
        self.picker.setMinimumWidth(260)
        self.picker.activated.connect(self._picked)
        top.addWidget(self.picker)
        top.addSpacing(16)
        top.addWidget(QLabel("Add pen:"))
        self.tag_picker = QComboBox()
        self.tag_picker.setObjectName("tagPicker")
        self.tag_picker.setMinimumWidth(240)
        self.tag_picker.setToolTip("Recorded tags (history: in project.yaml)")
        top.addWidget(self.tag_picker)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add_picked)
        top.addWidget(self.add_button)
        top.addSpacing(16)
        self.pen_picker = QComboBox()
        self.pen_picker.setObjectName("penPicker")
        self.pen_picker.setMinimumWidth(200)
        top.addWidget(self.pen_picker)
        self.remove_button = QPushButton("Remove pen")
        self.remove_button.clicked.connect(self._remove_picked)
        top.addWidget(self.remove_button)
        top.addStretch(1)
        layout.addLayout(top)
        self.body = QVBoxLayout()
        self.empty = QLabel("Pick a saved trend, add a pen, or right-click a value on a screen.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("trendEmpty")
        self.body.addWidget(self.empty, 1)
        layout.addLayout(self.body, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel("Save as:"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("trendName")
        self.name_edit.setPlaceholderText("name (letters, digits, _ and -)")
        self.name_edit.setMaximumWidth(260)
        self.name_edit.returnPressed.connect(self.save_as)
        bottom.addWidget(self.name_edit)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save_as)
        bottom.addWidget(self.save_button)
        self.status = QLabel("")
        self.status.setObjectName("trendStatus")
        self.status.setWordWrap(True)
        bottom.addWidget(self.status, 1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)
        self._fill_pickers()

    # ---- what is shown ---------------------------------------------------------------------
    def recorded_tags(self) -> list[str]:
        """The tags the 'Add pen' picker offers: recorded and drawable, sorted."""
        return sorted(
            name for name, tag in self.tags.items() if tag.history and trendable(tag) is None
        )

    def _fill_pickers(self) -> None:
        self.picker.clear()
        self.picker.addItem("(choose)", None)
        for name, saved in sorted(self.saved.items()):
            self.picker.addItem(saved.definition.display_title, name)
        if self.definition_name in self.saved:
            self.picker.setCurrentIndex(self.picker.findData(self.definition_name))
        self.tag_picker.clear()
        for tag in self.recorded_tags():
            self.tag_picker.addItem(tag, tag)
        self._fill_pen_picker()

    def _fill_pen_picker(self) -> None:
        self.pen_picker.clear()
        for pen in self.pens:
            self.pen_picker.addItem(pen.display_label, pen.tag)
        self.remove_button.setEnabled(bool(self.pens))
        self.save_button.setEnabled(bool(self.pens))

    def _meta(self, tag: str) -> TagMeta | None:
        try:
            return self.source.meta(tag)
        except KeyError:
            return None

    def _show(self, *, keep_range: bool = False) -> None:
        """Rebuild the trend view for the current pens (the old one closes its subscriptions).
        ``keep_range``: the new view shows the period the old one showed (live over the same
        span, or the same stretch of history), so adding a pen does not lose the place."""
        kept: tuple[float, float] | None = None
        if keep_range and self.view is not None:
            start, end = self.view.visible_range()
            if self.view.is_live:
                self.span = end - start
            else:
                kept = (start, end)
        self._drop_view()
        self._fill_pen_picker()
        self.setWindowTitle(f"Trends - {self.title}" if self.title else "Trends")
        if not self.pens:
            self.empty.show()
            return
        self.empty.hide()
        spec = pens_spec(self.title or "Trend", self.pens, self.span, self._meta)
        max_gap = gap_threshold([pen.tag for pen in self.pens], self.tags.get, self.historian)
        self.view = TrendView(spec, self.source, self.history, self, max_gap=max_gap)
        self.body.addWidget(self.view, 1)
        if kept is not None:
            self.view.set_range(*kept)

    def _drop_view(self) -> None:
        view, self.view = self.view, None
        if view is not None:
            view.close_view()
            self.body.removeWidget(view)
            view.deleteLater()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(_ERROR_STYLE if error else _OK_STYLE)

    # ---- opening ---------------------------------------------------------------------------
    def open_request(self, request: TrendRequest) -> None:
        """Show what ``request`` asks for: a saved trend, ad hoc tags, or just the window."""
        if request.definition is not None:
            self.open_definition(request.definition)
        elif request.tags:
            self.definition_name = None
            self.title = request.title or ", ".join(request.tags)
            self.span = request.span or DEFAULT_SPAN_S
            self.pens = request_pens(request)[:MAX_PENS]
            self.picker.setCurrentIndex(0)
            self._say("")
            self._show()
        elif not self.pens and self.saved:
            # the Trends… button on an empty window: show the first saved trend, not a blank
            self.open_definition(sorted(self.saved)[0])

    def open_definition(self, name: str) -> None:
        """Show the saved trend ``name`` (a message if there is none)."""
        saved = self.saved.get(name)
        if saved is None:
            known = ", ".join(sorted(self.saved)) or "none"
            self._say(f"No saved trend named {name!r} (saved: {known})", error=True)
            return
        definition = saved.definition
        self.definition_name = name
        self.title = definition.display_title
        self.span = definition.span
        self.pens = list(definition.pens)
        self.picker.setCurrentIndex(self.picker.findData(name))
        self.name_edit.setText(name)
        self._say("")
        self._show()

    def _picked(self, index: int) -> None:
        name = self.picker.itemData(index)
        if isinstance(name, str):
            self.open_definition(name)

    # ---- editing the pens ------------------------------------------------------------------
    def add_pen(self, tag: str) -> bool:
        """Add a pen for ``tag``; False (and a message) when it cannot be added."""
        if any(pen.tag == tag for pen in self.pens):
            self._say(f"{tag} is drawn already", error=True)
            return False
        if len(self.pens) >= MAX_PENS:
            self._say(f"At most {MAX_PENS} pens: remove one first", error=True)
            return False
        self.pens.append(PenConfig(tag=tag))
        if not self.title:
            self.title = tag
        self._say(f"Added {tag}")
        self._show(keep_range=True)
        return True

    def remove_pen(self, tag: str) -> None:
        """Stop drawing ``tag``; the period shown stays."""
        self.pens = [pen for pen in self.pens if pen.tag != tag]
        self._say(f"Removed {tag}")
        self._show(keep_range=True)

    def _add_picked(self) -> None:
        tag = self.tag_picker.currentData()
        if isinstance(tag, str):
            self.add_pen(tag)

    def _remove_picked(self) -> None:
        tag = self.pen_picker.currentData()
        if isinstance(tag, str):
            self.remove_pen(tag)

    # ---- saving ----------------------------------------------------------------------------
    def save_as(self) -> None:
        """Save the pens on screen as ``trends/<name>.yaml`` (in a worker thread)."""
        name = self.name_edit.text().strip()
        if not self.pens:
            self._say("Nothing to save: add a pen first", error=True)
            return
        try:
            definition = pens_definition(name, self.title, self.span, self.pens)
        except ValidationError as exc:
            first = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            self._say(f"Not saved: {first}", error=True)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._say("Not saved: the application loop is not running", error=True)
            return
        self.save_button.setEnabled(False)
        self._say(f"Saving {name}…")
        task = loop.create_task(self._save(definition.name, definition), name=f"save trend {name}")
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _save(self, name: str, definition: TrendDefinition) -> None:
        try:
            path = await asyncio.to_thread(save_trend, self.folder, definition)
            saved, issues = await asyncio.to_thread(read_trend, path)
        except (OSError, ProjectLoadError) as exc:
            if shiboken6.isValid(self):
                self._say(f"Not saved: {exc}", error=True)
                self.save_button.setEnabled(True)
            return
        if not shiboken6.isValid(self):
            return
        self.save_button.setEnabled(True)
        if saved is None:
            self._say("Not saved: " + "; ".join(map(str, issues)), error=True)
            return
        self.saved[name] = saved
        self.definition_name = name
        self._fill_pickers()
        self._say(f"Saved as trends/{path.name}")

    # ---- the saved trends on disk ----------------------------------------------------------
    def refresh_saved(self, then: Callable[[], None] | None = None) -> None:
        """Read ``trends/*.yaml`` again in a worker thread (files may have been added, changed
        or removed since the window opened), list them in the picker, then run ``then``."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if then is not None:
                then()
            return
        task = loop.create_task(self._refresh(then), name="read saved trends")
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _refresh(self, then: Callable[[], None] | None) -> None:
        try:
            saved, issues = await asyncio.to_thread(read_trends, self.folder)
        except OSError as exc:  # the folder went away: keep what is listed
            log.error("saved trends not read again: %s", exc)
            saved, issues = self.saved, []
        for issue in issues:
            log.error("%s", issue)
        if not shiboken6.isValid(self):
            return
        if {k: v.definition for k, v in saved.items()} != {
            k: v.definition for k, v in self.saved.items()
        }:
            self.saved = dict(saved)
            self._fill_pickers()
        if then is not None:
            then()

    async def wait_saves(self) -> None:
        """Wait for saves and reads of the saved trends in flight (tests, shutdown)."""
        while self._saving:
            await asyncio.gather(*list(self._saving), return_exceptions=True)

    async def aclose(self) -> None:
        """Close the window and wait for a save in flight (the application is stopping)."""
        self.close()
        await self.wait_saves()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._drop_view()
        self.pens = []
        self.definition_name = None
        self._fill_pen_picker()
        self.empty.show()
        super().closeEvent(event)


def show_trend_window(
    window: MainWindow,
    project: Project,
    history: HistorySource | None,
    request: TrendRequest | None = None,
) -> TrendWindow:
    """Open (or raise) ``window``'s trend window, showing what ``request`` asks for.

    The project's saved trends are read when the window is first opened (a few small files),
    and again, in a worker thread, each time it is asked for: a trend file added by hand (or by
    another station) is offered without a restart, and a trend button naming it opens it.
    """
    trends = window.trend_window
    if trends is None:
        saved, issues = read_trends(project.folder)
        for issue in issues:
            log.error("%s", issue)
        trends = TrendWindow(
            source=window.source,
            history=history,
            folder=project.folder,
            tags={tag.name: tag for tag in project.model.runtime_tags},
            saved=saved,
            historian=project.model.historian,
            parent=window,
        )
        trends.resize(1180, 720)
        window.trend_window = trends
    elif request is not None and request.definition and request.definition not in trends.saved:
        unknown = request  # opened once the files are read again
        trends.refresh_saved(lambda: trends.open_request(unknown))
        request = None
    else:
        trends.refresh_saved()
    if request is not None:
        trends.open_request(request)
    trends.show()
    trends.raise_()
    trends.activateWindow()
    return trends
