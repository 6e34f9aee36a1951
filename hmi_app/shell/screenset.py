"""The project's screens, validated against the widget registry, the tags and each other.

Screens with ``parameters:`` are templates: they are not in the navigation, they are opened as
faceplates or embedded as fragments. ``load_screen_set`` gives both; ``load_screens`` the
navigation screens only.
"""

from __future__ import annotations

import logging

from hmi_app.core.project.loader import Project
from hmi_app.shell.window import ScreenEntry
from screens.templates import ScreenCheck, check_screens

log = logging.getLogger(__name__)


def load_screen_set(project: Project) -> ScreenCheck:
    """Every screen file checked: navigation screens (or their issues) and the templates.

    A screen with errors keeps its place (the window shows the errors), so a typo in one screen
    never takes the others down; a template with errors is listed the same way, so its errors
    are seen too.
    """
    check = check_screens(project.screen_docs, {tag.name for tag in project.model.runtime_tags})
    for issue in check.issues():
        log.error("%s", issue)
    return check


def load_screens(project: Project) -> dict[str, ScreenEntry]:
    """Screen name -> definition, or the list of its issues; in the project's menu order."""
    return load_screen_set(project).screens
