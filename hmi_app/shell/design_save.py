"""Checking and saving in the designer, and what leaving with unsaved changes asks.

The check is the document's own (unknown tags, wrong types, off-screen and overlapping widgets,
click targets) plus, when that finds no error, what the operator window's loader would say of
the text as it would be saved (templates, instances, cross-screen references): a file the
designer saves always loads. Errors block the save and the first is jumped to; warnings ask
(non-modal box). Then the document writes atomically with a backup, and ``on_saved`` has the
operator window reload the screen.

A save never blocks the GUI thread (the operator window shares it): Save takes a snapshot of
the document (its text and undo index), then a named asyncio task checks it, writes it and
loads the project's screen set in worker threads; only showing the issues, the questions and
marking the document saved run on the GUI thread. The check runs once per save: what is written
is the snapshot that was checked. Editing goes on during a save: an edit made meanwhile is not
in the file, and the document stays modified (marked saved only when its undo index and text
are still the snapshot's). After the warnings question, a document edited meanwhile is checked
again. ``wait()`` awaits the save in flight (tests, shutdown).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtWidgets import QMessageBox

from hmi_app.core.project.loader import Project, read_project
from hmi_app.core.project.yamlio import ProjectLoadError, YamlDocument, read_yaml
from hmi_app.core.tagsource import TagMeta
from hmi_app.shell.design_preview import parse_screen_text, preview_definition
from hmi_app.shell.screenset import load_screen_set
from screens.designer.document import DocumentError, SaveSnapshot, ScreenDocument
from screens.designer.entries import DesignIssue
from screens.templates import ScreenCheck

if TYPE_CHECKING:
    from hmi_app.shell.design_window import DesignerWindow

log = logging.getLogger(__name__)

Answer = QMessageBox.StandardButton
SHOWN_WARNINGS = 5


def display_name(folder: Path, path: Path) -> str:
    """``screens/overview.yaml``: a screen file as the loader names it in messages."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


@dataclass(frozen=True)
class CheckInputs:
    """What the check needs of the designer, taken on the GUI thread for a worker thread."""

    tags: dict[str, TagMeta]
    names: list[str]
    others: dict[str, YamlDocument]
    shown: str
    """The file as the loader names it in messages."""


def run_check(snapshot: SaveSnapshot, inputs: CheckInputs) -> list[DesignIssue]:
    """The save check of ``snapshot`` (thread-safe): the document's issues, then (when none is
    an error) what the operator window's loader would say of the text."""
    issues = snapshot.validate(inputs.tags, inputs.names)
    if any(issue.severity == "error" for issue in issues):
        return issues
    try:
        doc = parse_screen_text(snapshot.text, snapshot.path, inputs.shown)
    except ValueError as exc:
        return [*issues, DesignIssue(None, "error", str(exc))]
    definition, errors, _library = preview_definition(
        doc, snapshot.path.stem, inputs.others, set(inputs.tags)
    )
    if definition is None:
        issues.extend(DesignIssue(None, "error", e) for e in errors)
    return issues


def reread(
    project: Project, key: str | None, path: Path, shown: str, load_set: bool
) -> tuple[Project, ScreenCheck | None]:
    """After a write (in a worker thread): the project with the saved file read again (the
    whole project when that file does not read), and its screen set when ``load_set``."""
    if key is not None:
        try:
            doc = read_yaml(path, shown)
            project = dataclasses.replace(project, screen_docs={**project.screen_docs, key: doc})
        except ProjectLoadError:
            fresh, _issues = read_project(project.folder)
            project = fresh if fresh is not None else project
    return project, load_screen_set(project) if load_set else None


class SaveFlow:
    """Check, save, and Save / Discard / Cancel, for one designer window."""

    def __init__(self, window: DesignerWindow) -> None:
        self.window = window
        self._task: asyncio.Task[None] | None = None
        self._check_task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        """A save is being checked or written."""
        return self._task is not None and not self._task.done()

    async def wait(self) -> None:
        """Wait for the check or save in flight, and the one it may start (tests, shutdown)."""
        while any(t is not None and not t.done() for t in (self._task, self._check_task)):
            await asyncio.gather(
                *(t for t in (self._task, self._check_task) if t is not None),
                return_exceptions=True,
            )

    def check(self) -> list[DesignIssue]:
        """Run the save check on the open screen here and list what it finds (scripts, tests;
        the Check button uses ``check_soon``)."""
        document = self.window.document
        if document is None:
            return []
        issues = run_check(document.snapshot(), self._inputs(document))
        self.window.issues.show_issues(issues)
        return issues

    def check_soon(self) -> asyncio.Task[None] | None:
        """The Check button: the open screen's save check in a worker thread, its issues listed
        when it ends (a newer check replaces one still running). The GUI thread only takes the
        snapshot, so the operator window sharing it never waits for the check."""
        document = self.window.document
        if document is None:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.check()
            return None
        if self._check_task is not None:
            self._check_task.cancel()
        self.window.issues.summary.setText(f"Checking {document.path.name}…")
        work = self._check_in_thread(document, document.snapshot(), self._inputs(document))
        task = loop.create_task(work, name=f"designer check {document.path.stem}")
        self._check_task = task
        return task

    async def _check_in_thread(
        self, document: ScreenDocument, snapshot: SaveSnapshot, inputs: CheckInputs
    ) -> None:
        try:
            issues = await asyncio.to_thread(run_check, snapshot, inputs)
        except Exception as exc:  # a bug in the check must say so, not leave "Checking…"
            log.exception("designer check failed")
            issues = [DesignIssue(None, "error", f"the check failed: {exc}")]
        if self._current(document):
            self.window.issues.show_issues(issues)

    def _names(self) -> list[str]:
        """The project's screen and template names (file keys and declared names)."""
        project = self.window.project
        names = list(self.window.screen_paths())
        for doc in project.screen_docs.values():
            data = doc.data if isinstance(doc.data, dict) else {}
            if isinstance(data.get("name"), str) and data["name"] not in names:
                names.append(data["name"])
        return names

    def _inputs(self, document: ScreenDocument) -> CheckInputs:
        window = self.window
        path = document.path
        return CheckInputs(
            dict(window.tags),
            self._names(),
            window.other_docs(path.stem),
            display_name(window.folder, path),
        )

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            work.close()
            self.window.say("Not saved: the application loop is not running")
            return None
        task = loop.create_task(self._guarded(work), name=name)
        self._task = task
        return task

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # a bug must not leave the designer silently unsaved
            log.exception("designer save failed")
            if shiboken6.isValid(self.window):
                self.window.say(f"Not saved: {exc}")

    def _current(self, document: ScreenDocument) -> bool:
        """The window is still open on ``document`` (a save's result still applies)."""
        return (
            shiboken6.isValid(self.window)
            and shiboken6.isValid(document)
            and self.window.document is document
        )

    def save(self, then: Callable[[], None] | None = None) -> asyncio.Task[None] | None:
        """Check, then write (errors block, warnings ask); ``then`` runs after a good save.

        Returns at once: the check and the write run in worker threads (``wait()``)."""
        window = self.window
        document = window.document
        if document is None:
            return None
        if window.read_only:
            window.say(
                "The built-in demo is read-only: copy its folder "
                f"({window.folder}) and run the copy (hmi-app run FOLDER) to save screens"
            )
            return None
        if self.busy:
            window.say("Saving… (the save in progress ends first)")
            return None
        snapshot = document.snapshot()
        window.say(f"Checking {document.path.name}…")
        return self._start(
            self._check_and_write(document, snapshot, self._inputs(document), then),
            f"designer save {document.path.stem}",
        )

    async def _check_and_write(
        self,
        document: ScreenDocument,
        snapshot: SaveSnapshot,
        inputs: CheckInputs,
        then: Callable[[], None] | None,
        force: bool = False,
    ) -> None:
        issues = await asyncio.to_thread(run_check, snapshot, inputs)
        if not self._current(document):
            return
        window = self.window
        window.issues.show_issues(issues)
        errors = window.issues.errors()
        if errors:
            self._show_errors(errors)
            return
        warnings = [issue for issue in issues if issue.severity == "warning"]
        if not warnings:
            await self._write(document, snapshot, then, force)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Save with warnings?",
            f"The check found {len(warnings)} warning(s), listed under Check:\n\n"
            + "\n".join(str(w) for w in warnings[:SHOWN_WARNINGS])
            + ("\n…" if len(warnings) > SHOWN_WARNINGS else ""),
            Answer.Save | Answer.Cancel,
            window,
        )
        box.setObjectName("saveWarnings")
        box.finished.connect(
            lambda result: (
                self._write_checked(document, snapshot, then, force)
                if result == Answer.Save
                else window.say("Not saved")
            )
        )
        window.question = box
        window.say("Not saved yet: the check found warnings")
        box.open()

    def _write_checked(
        self,
        document: ScreenDocument,
        snapshot: SaveSnapshot,
        then: Callable[[], None] | None,
        force: bool,
    ) -> None:
        """Write what was checked; a document edited since is checked again first."""
        if not self._current(document):
            return
        if self.busy:
            self.window.say("Saving… (the save in progress ends first)")
            return
        name = f"designer save {document.path.stem}"
        if document.snapshot().state is snapshot.state:
            self._start(self._write(document, snapshot, then, force), name)
            return
        fresh = document.snapshot()
        self._start(
            self._check_and_write(document, fresh, self._inputs(document), then, force), name
        )

    def _show_errors(self, errors: list[DesignIssue]) -> None:
        window = self.window
        window.issues_dock.show()
        window.issues_dock.raise_()
        window.say(f"Not saved: {len(errors)} error(s) to fix first (see Check)")
        if errors[0].widget_id:
            window.jump_to(errors[0].widget_id)

    async def _write(
        self,
        document: ScreenDocument,
        snapshot: SaveSnapshot,
        then: Callable[[], None] | None,
        force: bool = False,
    ) -> None:
        window = self.window
        name = snapshot.path.stem
        # what the rest needs of the window, taken now: it may be closed during the write
        on_saved, project = window.on_saved, window.project
        key = name if name in window.screen_paths() else None
        shown = display_name(window.folder, snapshot.path)
        window.say(f"Saving {snapshot.path.name}…")
        try:
            data = await asyncio.to_thread(snapshot.write, force=force)
        except DocumentError as exc:  # changed on disk since it was read: nothing written
            if self._current(document):
                self._ask_overwrite(document, snapshot, str(exc), then)
            return
        except OSError as exc:
            if self._current(document):
                self._not_saved(name, str(exc))
            return
        clean = False
        if self._current(document):  # marked saved at once: the file on disk is the snapshot
            clean = document.mark_saved(snapshot, data)
            window.update_title()
        project, check = await asyncio.to_thread(
            reread, project, key, snapshot.path, shown, on_saved is not None
        )
        if shiboken6.isValid(window):
            window.project = project
        if on_saved is not None:
            on_saved([name], check)  # the operator window shows it (even if we closed)
        if not self._current(document):
            return
        if not clean:
            window.say(f"Saved {snapshot.path.name} as it was; the edits made since are not saved")
            return
        window.say(f"Saved {snapshot.path.name}: the operator screens show it now")
        if then is not None:
            then()

    def _not_saved(self, name: str, why: str) -> None:
        window = self.window
        box = QMessageBox(
            QMessageBox.Icon.Critical, "Not saved", f"{name} was not saved:\n{why}", parent=window
        )
        window.question = box
        box.open()

    def _ask_overwrite(
        self,
        document: ScreenDocument,
        snapshot: SaveSnapshot,
        why: str,
        then: Callable[[], None] | None,
    ) -> None:
        """The file changed on disk since it was opened: overwrite it, or reload it (dropping
        the edits), or neither."""
        window = self.window
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Changed on disk",
            why,
            Answer.Save | Answer.Reset | Answer.Cancel,
            window,
        )
        box.setObjectName("changedOnDisk")
        box.button(Answer.Save).setText("Overwrite")
        box.button(Answer.Reset).setText("Reload from disk")

        def answered(result: int) -> None:
            if not self._current(document):
                return
            if result == Answer.Save:
                self._write_checked(document, snapshot, then, force=True)
            elif result == Answer.Reset:
                try:
                    document.reload()
                except DocumentError as exc:
                    window.say(f"{document.path.name} cannot be reloaded: {exc}")
                    return
                window.update_title()
                window.say(f"{document.path.name} reloaded from disk")
            else:
                window.say("Not saved")

        box.finished.connect(answered)
        window.question = box
        window.say("Not saved yet: the file changed on disk")
        box.open()

    def ask_unsaved(self, proceed: Callable[[], None]) -> None:
        """Save / Discard / Cancel for the open screen's changes; ``proceed`` after Save or
        Discard (Cancel: nothing happens)."""
        window = self.window
        assert window.document is not None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"The screen '{window.document.name}' has unsaved changes.",
            Answer.Save | Answer.Discard | Answer.Cancel,
            window,
        )
        box.setObjectName("unsavedChanges")
        box.setInformativeText("Save them before leaving?")
        box.setDefaultButton(Answer.Save)

        def answered(result: int) -> None:
            if result == Answer.Save:
                self.save(then=proceed)
            elif result == Answer.Discard:
                if window.document is not None:
                    window.document.undo_stack.setClean()  # dropped on purpose
                proceed()

        box.finished.connect(answered)
        window.question = box
        box.open()
