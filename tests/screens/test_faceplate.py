"""Faceplates: a template instanced for one equipment in a non-modal popup that subscribes while
shown, unsubscribes when closed, and is raised (not duplicated) when opened again."""

from __future__ import annotations

from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.project.yamlio import read_yaml
from hmi_app.core.tagsource import TagMeta
from screens.faceplate import FaceplateDialog, Faceplates, open_faceplate
from screens.memory_source import MemoryTagSource
from screens.model import ClickAction, check_screen
from screens.templates import TemplateLibrary

FILLER = """\
schema_version: 1
name: filler
title: Filler
size: [400, 200]
parameters:
  equipment: {description: "tag prefix, e.g. line1.filler"}
widgets:
  - {id: speed, type: numeric, geometry: [10, 10, 380, 40], bind: {value: "{equipment}.speed"}}
  - id: run
    type: state
    geometry: [10, 60, 380, 40]
    props: {states: [{value: true, text: RUNNING, style: running}]}
    bind: {value: "{equipment}.running"}
"""
TAGS = [
    TagMeta(f"{line}.filler.{name}", data_type)
    for line in ("line1", "line2")
    for name, data_type in (("speed", DataType.FLOAT32), ("running", DataType.BOOL))
]


@pytest.fixture
def library(tmp_path: Path) -> TemplateLibrary:
    path = tmp_path / "filler.yaml"
    path.write_text(FILLER, encoding="utf-8")
    template, issues = check_screen(read_yaml(path))
    assert template is not None, issues
    return TemplateLibrary({"filler": template}, frozenset(meta.name for meta in TAGS))


@pytest.fixture
def source() -> MemoryTagSource:
    return MemoryTagSource(TAGS)


@pytest.fixture
def owner(qtbot: QtBot) -> QWidget:
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(800, 600)
    window.show()
    return window


def _action(equipment: str) -> ClickAction:
    return ClickAction(faceplate="filler", params={"equipment": equipment})


def test_faceplate_opens_titled_subscribes_and_unsubscribes_on_close(
    qtbot: QtBot, owner: QWidget, library: TemplateLibrary, source: MemoryTagSource
) -> None:
    dialog = open_faceplate(owner, library, _action("line1.filler"), source)
    qtbot.waitExposed(dialog)
    assert isinstance(dialog, FaceplateDialog)
    assert dialog.windowTitle() == "Filler - line1.filler"
    assert not dialog.isModal()
    assert dialog.view is not None and dialog.view.definition.tags() == {
        "line1.filler.speed",
        "line1.filler.running",
    }
    assert (dialog.width(), dialog.height()) == (400, 200)  # the template's design size
    assert dialog.subscribed
    assert source.listener_count("line1.filler.speed") == 1
    assert source.listener_count("line2.filler.speed") == 0
    source.set("line1.filler.speed", 12.5)
    source.flush()
    speed = dialog.view.widgets["speed"]
    assert speed.tag_value("value") is not None
    assert speed.tag_value("value").value == 12.5  # type: ignore[union-attr]
    dialog.close()
    qtbot.waitUntil(lambda: source.listener_count() == 0)
    again = open_faceplate(owner, library, _action("line1.filler"), source)
    assert again is not dialog
    assert source.listener_count() == 2
    again.close()


def test_a_second_open_raises_the_open_dialog(
    qtbot: QtBot, owner: QWidget, library: TemplateLibrary, source: MemoryTagSource
) -> None:
    manager = Faceplates(owner, library, source)
    first = manager.open(_action("line1.filler"))
    qtbot.waitExposed(first)
    second = manager.open(_action("line1.filler"))
    assert second is first
    assert source.listener_count() == 2  # not subscribed twice
    other = manager.open(_action("line2.filler"))
    assert other is not first and other.windowTitle() == "Filler - line2.filler"
    assert manager.dialogs() == [first, other]
    assert source.listener_count("line2.filler.running") == 1
    manager.close_all()
    assert manager.dialogs() == []
    assert source.listener_count() == 0


def test_escape_closes_the_faceplate(
    qtbot: QtBot, owner: QWidget, library: TemplateLibrary, source: MemoryTagSource
) -> None:
    dialog = open_faceplate(owner, library, _action("line2.filler"), source)
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert source.listener_count() == 0
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))  # deleted, not kept hidden


def test_a_faceplate_that_cannot_be_instanced_shows_why(
    qtbot: QtBot, owner: QWidget, library: TemplateLibrary, source: MemoryTagSource
) -> None:
    dialog = open_faceplate(owner, library, _action("line3.filler"), source)
    qtbot.waitExposed(dialog)
    assert dialog.view is None
    assert dialog.windowTitle() == "filler - equipment=line3.filler (errors)"
    assert dialog.errors[0].startswith(
        "filler.yaml:8: widgets[0].bind.value: unknown tag 'line3.filler.speed'"
    )
    missing = open_faceplate(owner, library, ClickAction(faceplate="pump"), source)
    assert missing.errors == ["no template named 'pump' (templates: filler)"]
    assert source.listener_count() == 0
    dialog.close()
    missing.close()


def test_clicks_inside_a_faceplate_open_faceplates_and_navigate(
    qtbot: QtBot, owner: QWidget, source: MemoryTagSource, tmp_path: Path
) -> None:
    holder = """\
schema_version: 1
name: holder
size: [300, 200]
parameters: {equipment: {}}
widgets:
  - id: open_filler
    type: text
    geometry: [0, 0, 300, 60]
    props: {text: "Filler {equipment}"}
    on_click: {faceplate: filler, params: {equipment: "{equipment}"}}
  - id: home
    type: text
    geometry: [0, 100, 300, 60]
    props: {text: Overview}
    on_click: {navigate: overview}
"""
    templates = {}
    for name, text in (("filler", FILLER), ("holder", holder)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        definition, issues = check_screen(read_yaml(path))
        assert definition is not None, issues
        templates[name] = definition
    library = TemplateLibrary(templates, frozenset(meta.name for meta in TAGS))
    visited: list[str] = []
    manager = Faceplates(owner, library, source, navigate=visited.append)
    dialog = manager.open(ClickAction(faceplate="holder", params={"equipment": "line2.filler"}))
    qtbot.waitExposed(dialog)
    view = dialog.view
    assert view is not None
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.item_centre(view.widgets["home"]))
    assert visited == ["overview"]
    target = view.item_centre(view.widgets["open_filler"])
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=target)
    titles = [d.windowTitle() for d in manager.dialogs()]
    assert titles == ["Holder - line2.filler", "Filler - line2.filler"]
    assert source.listener_count("line2.filler.speed") == 1
    manager.close_all()
    assert source.listener_count() == 0
