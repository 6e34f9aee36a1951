"""Live preview in the designer: the screen being edited, running on live values.

The preview renders ``document.text()`` (the file as it would be saved) exactly as the operator
window would: checked with every other screen of the project (templates, instances, navigation
targets), then shown as a real ``ScreenView`` on the runtime's tag bus. Writes from its controls
go through ``PreviewSource``, which refuses them unless the user ticks "Allow writes to the PLC"
for this designer session: trying a screen must not move a real machine by accident.

Reading and checking the text (about 90 ms on the demo overview) runs in a worker thread
(``show_soon``): the operator window shares the GUI thread and must not wait for it. Only
building the ``ScreenView`` runs on the GUI thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument, yaml_syntax_problem
from hmi_app.core.quality import TagValue
from hmi_app.core.tagsource import Subscription, TagCallback, TagMeta, TagSource, WriteRefused
from hmi_app.shell.window import ScreenErrorPage
from screens.faceplate import Faceplates
from screens.model import ClickAction, ScreenDefinition
from screens.renderer import ScreenView
from screens.templates import TemplateError, TemplateLibrary, check_screens

log = logging.getLogger(__name__)

WRITES_OFF = "preview does not write to the PLC"
_BAR_CALM = "#preview_bar { background: #e6e6e6; border-bottom: 1px solid #a6a6a6; }"
# writes on in a preview are unusual: the bar says so in the warning colour
_BAR_WRITES = "#preview_bar { background: #f2c21b; border-bottom: 1px solid #b08a00; }"


class PreviewSource:
    """A ``TagSource`` that reads live values and refuses writes unless ``allow_writes``."""

    def __init__(self, source: TagSource, *, allow_writes: bool = False) -> None:
        self.source = source
        self.allow_writes = allow_writes
        self.refused: list[tuple[str, Any]] = []  # writes the preview kept from the PLC

    def subscribe(self, tag: str, callback: TagCallback) -> Subscription:
        return self.source.subscribe(tag, callback)

    def current(self, tag: str) -> TagValue | None:
        return self.source.current(tag)

    def meta(self, tag: str) -> TagMeta:
        return self.source.meta(tag)

    async def write(self, tag: str, value: Any) -> None:
        if not self.allow_writes:
            self.refused.append((tag, value))
            raise WriteRefused(WRITES_OFF)
        await self.source.write(tag, value)


def parse_screen_text(text: str, path: Path, display_name: str) -> YamlDocument:
    """A screen file's text as the loader would read it; ProjectIssue-located syntax errors are
    raised as ``ValueError`` with ``file:line: message``."""
    try:
        node = YAML(typ="rt").load(text)
    except YAMLError as exc:
        line, problem = yaml_syntax_problem(exc)
        where = f"{display_name}:{line}" if isinstance(exc, MarkedYAMLError) else display_name
        raise ValueError(f"{where}: YAML syntax: {problem}") from None
    return YamlDocument(path, display_name, node if node is not None else CommentedMap())


def preview_definition(
    doc: YamlDocument, key: str, others: Mapping[str, YamlDocument], tag_names: Collection[str]
) -> tuple[ScreenDefinition | None, list[str], TemplateLibrary]:
    """Check ``doc`` with the project's other screen files: its definition (or its problems)
    and the templates its faceplates open.

    A template is previewed as its first use in the project shows it (the parameters of the
    first faceplate click or instance naming it), else with its parameters' defaults.
    """
    docs = dict(others)
    docs[key] = doc
    check = check_screens(docs, tag_names)
    library = check.library
    data = doc.data if isinstance(doc.data, dict) else {}
    name = str(data.get("name", key))
    entry = check.screens.get(name, check.screens.get(key))
    if isinstance(entry, ScreenDefinition):
        return entry, [], library
    if isinstance(entry, list):
        return None, [str(issue) for issue in entry], library
    if name not in library.templates:
        return None, [f"{doc.display_name}: the screen cannot be shown"], library
    try:
        return library.instantiate(name, _first_use(check.screens.values(), name)), [], library
    except TemplateError as exc:
        return None, [str(issue) for issue in exc.issues], library


def _first_use(
    entries: Collection[ScreenDefinition | list[ProjectIssue]], name: str
) -> dict[str, str]:
    for entry in entries:
        if not isinstance(entry, ScreenDefinition):
            continue
        for _placed, action in entry.click_actions():
            if action.faceplate == name:
                return dict(action.params)
        for instance in entry.model.instances:
            if instance.template == name:
                return dict(instance.params)
    return {}


@dataclass(frozen=True)
class PreparedPreview:
    """A screen file's text read and checked for the preview: its definition, or the reasons
    it cannot run."""

    definition: ScreenDefinition | None
    errors: list[str]
    library: TemplateLibrary = field(default_factory=TemplateLibrary)


def prepare_preview(
    text: str,
    path: Path,
    display_name: str,
    others: Mapping[str, YamlDocument],
    tag_names: Collection[str],
) -> PreparedPreview:
    """Read and check ``text`` as the operator window would (thread-safe: no Qt)."""
    try:
        doc = parse_screen_text(text, path, display_name)
    except ValueError as exc:
        return PreparedPreview(None, [str(exc)])
    definition, errors, library = preview_definition(doc, path.stem, others, tag_names)
    return PreparedPreview(definition, errors, library)


class DesignPreview(QWidget):
    """The preview pane: a bar (what this is, the write switch, what a click would do) over the
    running screen (or the reasons it cannot run)."""

    writes_toggled = Signal(bool)

    def __init__(self, source: TagSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("designPreview")
        self.source = PreviewSource(source)
        self.view: ScreenView | None = None
        self.errors: list[str] = []
        self.faceplates: Faceplates | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bar = QFrame()
        self.bar.setObjectName("preview_bar")
        self.bar.setStyleSheet(_BAR_CALM)
        # the bar keeps its height at the top, whatever the body holds (or while it is empty)
        self.bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(12, 6, 12, 6)
        bar.setSpacing(16)
        self.title = QLabel("Preview")
        self.title.setObjectName("previewTitle")
        self.title.setStyleSheet("font-weight: bold;")
        bar.addWidget(self.title)
        self.note = QLabel("")
        self.note.setObjectName("previewNote")
        # the note gives way (clipped) rather than widen the designer's centre
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.note, 1)
        self.allow_writes = QCheckBox("Allow writes to the PLC")
        self.allow_writes.setObjectName("allowWrites")
        self.allow_writes.setToolTip(
            "Off: buttons and entries in the preview are refused, nothing reaches the PLC.\n"
            "On: they write to the live plant, as on the operator screen, for this designer "
            "session (until it closes)."
        )
        self.allow_writes.toggled.connect(self._set_writes)
        bar.addWidget(self.allow_writes)
        layout.addWidget(self.bar)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.body, 1)
        self._content: QWidget | None = None
        self._retired: list[ScreenView] = []
        self._pending: asyncio.Task[None] | None = None

    def _set_writes(self, on: bool) -> None:
        self.source.allow_writes = on
        self.bar.setStyleSheet(_BAR_WRITES if on else _BAR_CALM)
        self.note.setText(self._note())
        self.writes_toggled.emit(on)

    def show_text(
        self,
        text: str,
        path: Path,
        display_name: str,
        others: Mapping[str, YamlDocument],
        tag_names: Collection[str],
    ) -> bool:
        """Render ``text`` (a screen file's content) live, checked here; False when it shows
        errors instead."""
        self.clear()
        prepared = prepare_preview(text, path, display_name, others, tag_names)
        return self.show_prepared(prepared, path, display_name)

    def show_soon(
        self,
        text: str,
        path: Path,
        display_name: str,
        others: Mapping[str, YamlDocument],
        tag_names: Collection[str],
        shown: Callable[[bool], None],
    ) -> asyncio.Task[None]:
        """Render ``text`` live once a worker thread has read and checked it, saying "Preparing
        the preview…" meanwhile; then ``shown`` (False: errors are shown). ``clear()`` drops
        a preview still being prepared."""
        self.clear()
        self.note.setText("Preparing the preview…")
        waiting = QLabel("Reading the screen…")
        waiting.setObjectName("previewWaiting")
        waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        waiting.setStyleSheet("color: #595959;")
        self._set_content(waiting)  # holds the body's place: the bar stays at the top
        work = functools.partial(
            prepare_preview, text, path, display_name, dict(others), set(tag_names)
        )
        self._pending = asyncio.get_running_loop().create_task(
            self._prepare(work, path, display_name, shown), name=f"designer preview {path.stem}"
        )
        return self._pending

    async def _prepare(
        self,
        work: Callable[[], PreparedPreview],
        path: Path,
        display_name: str,
        shown: Callable[[bool], None],
    ) -> None:
        try:
            prepared = await asyncio.to_thread(work)
        except Exception as exc:  # a bug in the check shows as the reason, not a blank pane
            log.exception("designer preview failed")
            prepared = PreparedPreview(None, [f"the preview failed: {exc}"])
        self._pending = None
        self.clear()  # the placeholder
        shown(self.show_prepared(prepared, path, display_name))

    async def wait_shown(self) -> None:
        """Wait until a preview being prepared is shown (tests, closing)."""
        if self._pending is not None:
            await asyncio.gather(self._pending, return_exceptions=True)

    def show_prepared(self, prepared: PreparedPreview, path: Path, display_name: str) -> bool:
        """Show a prepared preview: the running screen (True) or its errors (False)."""
        definition, errors, library = prepared.definition, prepared.errors, prepared.library
        if definition is None:
            self.errors = errors
            issues = [ProjectIssue(display_name, 0, "", e) for e in errors]
            self._set_content(ScreenErrorPage(path.stem, issues))
            return False
        view = ScreenView(definition, self.source)
        self.faceplates = Faceplates(view, library, self.source, navigate=self._navigate)
        view.action_handler = self.faceplates.handle
        self.view = view
        self._set_content(view)
        self.note.setText(self._note())
        return True

    def _note(self) -> str:
        if self.source.allow_writes:
            return "live values · WRITES GO TO THE PLANT"
        return "live values · writes are refused"

    def _navigate(self, name: str) -> None:
        self.note.setText(f"a click here goes to the screen '{name}' (not in the preview)")

    def handle(self, action: ClickAction) -> None:
        """Carry out a click action of the previewed screen (faceplates open; no navigation)."""
        if self.faceplates is not None:
            self.faceplates.handle(action)

    def _set_content(self, widget: QWidget) -> None:
        self._content = widget
        self.body.addWidget(widget, 1)
        widget.show()

    def clear(self) -> None:
        """Stop the running screen (it unsubscribes) and its faceplates, or drop the one being
        prepared."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self.faceplates is not None:
            self.faceplates.close_all()
            self.faceplates = None
        view, self.view = self.view, None
        if view is not None:
            view.unsubscribe()
        if self._content is not None:
            self.body.removeWidget(self._content)
            self._content.hide()
            if view is not None and view.pending_writes():
                self._retired.append(view)  # deleted once its writes have ended
            else:
                self._content.deleteLater()
            self._content = None
        self.errors = []

    async def wait_writes(self) -> None:
        """Wait for writes of the preview still in flight (closing, tests)."""
        for view in [*self._retired, *([self.view] if self.view is not None else [])]:
            await view.wait_writes()
        for view in self._retired:
            view.deleteLater()
        self._retired.clear()
