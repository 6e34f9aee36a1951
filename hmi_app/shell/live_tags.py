"""Tags and connections saved while the app runs (tag browser, tag editor) take effect at once.

``ApplySaved`` is the hook the app gives the editors: it hands what a save added or changed to
the running runtime (``Runtime.apply_saved``): the tags it added join the engine, those it
changed take their new settings, the connections it added or whose settings it changed restart
with them. What waits for a restart of the app (removed tags, tags moved to another connection,
renamed or deleted connections) is said by ``restart_note`` in the editors' message line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hmi_app.core.project.editing import SaveResult
from hmi_app.core.project.loader import Project
from hmi_app.runtime.runtime import AppliedEdits

if TYPE_CHECKING:
    from hmi_app.runtime.runtime import Runtime

ApplySaved = Callable[[Project, SaveResult], AppliedEdits]
"""(the project as saved, the save) -> what took effect at once."""

NOTHING = AppliedEdits([], [], [])


def engine_applier(
    runtime: Runtime, after: Callable[[AppliedEdits], None] | None = None
) -> ApplySaved:
    """The hook for ``runtime``: added tags join its engine, changed ones take their new
    settings; connections added or edited restart, unless the save also renamed or deleted one
    (that waits for a restart: the tags that moved still belong to the old connection in the
    running engine). ``after`` then sees what was applied (the window rebuilds its pages)."""

    def apply(project: Project, result: SaveResult) -> AppliedEdits:
        edited = result.connections
        connections = [] if edited.removed else [*edited.added, *edited.updated]
        edit = result.edit
        applied = runtime.apply_saved(project.model, edit.added, connections, edit.updated)
        if after is not None:
            after(applied)
        return applied

    return apply


def restart_note(result: SaveResult, applied: AppliedEdits = NOTHING) -> str:
    """What a save means for the running app, and where the previous file went."""
    backup = (
        f" Previous file: {result.backup.parent.name}/{result.backup.name}."
        if result.backup
        else ""
    )
    edit, connections = result.edit, result.connections
    changed_connections = {*connections.added, *connections.updated, *connections.removed}
    pending = bool(
        set(edit.updated) - set(applied.updated)
        or edit.removed
        or set(edit.added) - set(applied.tags)
        or changed_connections - set(applied.connections)
    )
    done: list[str] = []
    if applied.tags:
        done.append(f"{len(applied.tags)} new tag{'s' if len(applied.tags) != 1 else ''} live now")
    if applied.updated:
        count = len(applied.updated)
        done.append(f"{count} changed tag{'s' if count != 1 else ''} updated")
    if applied.connections:
        names = ", ".join(applied.connections)
        done.append(f"connection{'s' if len(applied.connections) != 1 else ''} {names} "
                    "restarting with the saved settings")
    if not done:
        return ("Restart the runtime to apply." if pending else "") + backup
    if pending:
        return f"{'; '.join(done)}; the other changes apply when the runtime is restarted.{backup}"
    return f"{'; '.join(done)}.{backup}"
