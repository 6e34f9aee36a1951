"""The project's screens, validated against the widget registry and the project's tags."""

from __future__ import annotations

import logging

from hmi_app.core.project.loader import Project
from hmi_app.shell.window import ScreenEntry
from screens.model import check_screen

log = logging.getLogger(__name__)


def load_screens(project: Project) -> dict[str, ScreenEntry]:
    """Screen name -> definition, or the list of its issues; in the project's menu order.

    A screen with errors keeps its place (the window shows the errors), so a typo in one screen
    never takes the others down.
    """
    tag_names = {tag.name for tag in project.model.tags}
    entries: dict[str, ScreenEntry] = {}
    for key, doc in project.screen_docs.items():
        definition, issues = check_screen(doc, tag_names)
        if definition is None:
            for issue in issues:
                log.error("%s", issue)
            entries[key] = issues
        else:
            entries[definition.name] = definition
    return entries
