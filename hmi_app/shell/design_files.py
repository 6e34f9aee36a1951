"""What follows a screen-list file command in the designer (new, rename, duplicate, delete,
start screen): the project read again, the screen list and inspector refreshed, the operator
window's pages rebuilt, the new screen opened.

Reading the project and loading its screen set (about a quarter of a second on the demo) runs
in a worker thread; the operator window shares the GUI thread and must not wait for it. Commands
given in quick succession are applied in order, each on the project as it is on disk after it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6

from hmi_app.core.project.loader import Project, read_project
from hmi_app.core.project.yamlio import ProjectIssue
from hmi_app.shell.screenset import load_screen_set
from screens.templates import ScreenCheck

if TYPE_CHECKING:
    from hmi_app.shell.design_window import DesignerWindow

log = logging.getLogger(__name__)


def read_with_screens(
    folder: Path, with_screens: bool
) -> tuple[Project | None, list[ProjectIssue], ScreenCheck | None]:
    """The project in ``folder`` as it is on disk, and its screen set when ``with_screens``
    (thread-safe: no Qt)."""
    project, issues = read_project(folder)
    if project is None or not with_screens:
        return project, issues, None
    return project, issues, load_screen_set(project)


class FileCommandFlow:
    """Applies the designer's screen-file commands, one after another, off the GUI thread."""

    def __init__(self, window: DesignerWindow) -> None:
        self.window = window
        self._task: asyncio.Task[None] | None = None

    def changed(self, names: list[str], open_: str = "") -> None:
        """Screens ``names`` were created, renamed, duplicated or deleted; then open ``open_``."""
        window = self.window
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (scripts): the same work, here
            read = read_with_screens(window.folder, window.on_saved is not None)
            self._apply(names, open_, *read)
            return
        window.say("Reading the project's screens…")
        self._task = loop.create_task(
            self._after(self._task, names, open_), name=f"designer files {','.join(names)}"
        )

    async def wait(self) -> None:
        """Wait until every command given so far has been applied (tests, closing)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)

    async def _after(
        self, previous: asyncio.Task[None] | None, names: list[str], open_: str
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        window = self.window
        try:
            read = await asyncio.to_thread(
                read_with_screens, window.folder, window.on_saved is not None
            )
        except Exception as exc:  # a bug must say so, not leave the list stale in silence
            log.exception("designer: screens not read again after %s", names)
            if shiboken6.isValid(window):
                window.say(f"The screens were not read again: {exc}")
            return
        if shiboken6.isValid(window):
            self._apply(names, open_, *read)

    def _apply(
        self,
        names: list[str],
        open_: str,
        project: Project | None,
        issues: list[ProjectIssue],
        check: ScreenCheck | None,
    ) -> None:
        window = self.window
        if project is None:
            window.say(f"The project does not load: {issues[0] if issues else 'unknown error'}")
            return
        window.project = project
        window.screens.reload(project)
        window.inspector.set_screens(list(window.screen_paths()))
        if window.on_saved is not None:
            window.on_saved(names, check)
        window.say("Done")
        document = window.document
        if document is not None and not document.path.exists():
            window.close_document()
            first = next(iter(window.screen_paths()), "")
            if first and not open_:
                window.open_screen(first)
        elif document is not None and document.changed_on_disk() is not None:
            # a rename rewrote the links in this file: take them, keep the edits
            if document.merge_disk_changes():
                window.say(f"{document.path.name}: its links follow the rename")
            else:
                window.say(
                    f"{document.path.name} changed on disk where you edited it: "
                    "Save asks whether to overwrite it"
                )
        if open_:
            window.open_screen(open_)
