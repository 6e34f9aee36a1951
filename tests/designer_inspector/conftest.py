"""Fixtures for the property inspector tests: the demo project's tags, and a signal recorder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.tagsource import TagMeta
from screens.designer.inspector import PropertyInspector

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass
class Emitted:
    """Every signal the inspector emitted, in order: (signal name, *arguments)."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def of(self, signal: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == signal]


@pytest.fixture(scope="session")
def demo_tags() -> tuple[dict[str, TagMeta], dict[str, str], list[str]]:
    """The demo project's tags (name -> meta), their connections and the screen names."""
    project = load_project(demo_project_dir())
    tags = {tag.name: tag.meta() for tag in project.model.tags}
    connections = {tag.name: tag.connection for tag in project.model.tags}
    return tags, connections, sorted(project.screen_docs)


@pytest.fixture
def inspector(
    qapp: QApplication, demo_tags: tuple[dict[str, TagMeta], dict[str, str], list[str]]
) -> Iterator[tuple[PropertyInspector, Emitted]]:
    """An inspector on the demo tags, shown at a usual size, with its signals recorded."""
    qapp.setQuitOnLastWindowClosed(False)
    tags, connections, screens = demo_tags
    widget = PropertyInspector()
    widget.set_tags(tags, connections)
    widget.set_screens(screens)
    widget.resize(380, 860)
    emitted = Emitted()
    for name in ("prop_edited", "binding_edited", "geometry_edited", "on_click_edited"):
        getattr(widget, name).connect(lambda *args, name=name: emitted.calls.append((name, *args)))
    widget.show()
    yield widget, emitted
    if widget.picker is not None:
        widget.picker.close()
    widget.close()
    widget.deleteLater()
