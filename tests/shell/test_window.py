"""The operator window: header (names, clock, placeholders, link chips), navigation with history,
screens that unsubscribe when hidden, and screen files with errors shown, not dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.yamlio import ProjectIssue, read_yaml
from hmi_app.core.tagsource import TagMeta
from hmi_app.shell.header import CHIP_STYLES
from hmi_app.shell.navigation import History
from hmi_app.shell.window import MainWindow, ScreenEntry, ScreenErrorPage
from screens.memory_source import MemoryTagSource
from screens.model import ScreenDefinition, check_screen
from screens.renderer import ScreenView


def _screen(tmp_path: Path, name: str, tag: str) -> ScreenDefinition:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"schema_version: 1\nname: {name}\ntitle: {name.title()} screen\nwidgets:\n"
        f"  - {{id: v, type: numeric, geometry: [10, 10, 300, 40], bind: {{value: {tag}}}}}\n",
        encoding="utf-8",
    )
    definition, issues = check_screen(read_yaml(path))
    assert definition is not None, issues
    return definition


@pytest.fixture
def source() -> MemoryTagSource:
    return MemoryTagSource([TagMeta("a.x", DataType.FLOAT32), TagMeta("b.y", DataType.FLOAT32)])


def _window(
    qtbot: QtBot, source: MemoryTagSource, screens: dict[str, ScreenEntry], start: str = ""
) -> MainWindow:
    window = MainWindow(
        plant="Demo Plant",
        line="Line 1",
        title="test",
        source=source,
        screens=screens,
        start_screen=start,
        link_states={"plc": (LinkState.CONNECTING, "127.0.0.1:502")},
        connections=["plc", "sim"],
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def test_history_goes_back_through_visited_screens() -> None:
    history = History(limit=3)
    assert history.back() is None
    for name in ("a", "b", "b", "c", "d"):
        history.visit(name)
    assert history.current == "d"
    assert history.back() == "c"
    assert history.back() == "b"
    assert not history.can_go_back()  # the oldest visit fell off the limit
    assert history.back() is None


def test_header_shows_names_placeholders_and_link_chips(
    qtbot: QtBot, source: MemoryTagSource, tmp_path: Path
) -> None:
    window = _window(qtbot, source, {"main": _screen(tmp_path, "main", "a.x")})
    header = window.header
    assert header.plant.text() == "Demo Plant"
    assert header.line.text() == "Line 1"
    assert header.alarms.text() == "Alarms: 0"
    assert "Placeholder" in header.alarms.toolTip()
    assert header.user.text() == "operator"
    header.tick(0.0)
    first = header.clock.text()
    header.tick(3600.0)
    assert header.clock.text() != first
    plc = header.chips["plc"]
    assert plc.text() == "plc: connecting"
    assert "127.0.0.1:502" in plc.toolTip()
    assert header.chips["sim"].text() == "sim: stopped"
    header.set_link("plc", LinkState.DISCONNECTED, "connection refused")
    assert plc.text() == "plc: disconnected"
    assert "connection refused" in plc.toolTip()
    assert CHIP_STYLES[LinkState.DISCONNECTED] in plc.styleSheet()
    header.set_link("plc", LinkState.CONNECTED, "")
    assert CHIP_STYLES[LinkState.CONNECTED] in plc.styleSheet()
    assert CHIP_STYLES[LinkState.CONNECTED] != CHIP_STYLES[LinkState.DISCONNECTED]
    header.set_link("late", LinkState.CONNECTED, "")  # a connection the window did not know
    assert header.chips["late"].text() == "late: connected"


def test_navigation_switches_screens_and_hidden_screens_unsubscribe(
    qtbot: QtBot, source: MemoryTagSource, tmp_path: Path
) -> None:
    screens: dict[str, ScreenEntry] = {
        "first": _screen(tmp_path, "first", "a.x"),
        "second": _screen(tmp_path, "second", "b.y"),
    }
    window = _window(qtbot, source, screens, start="second")
    assert window.current_screen == "second"
    assert source.listener_count("b.y") == 1
    assert source.listener_count("a.x") == 0
    assert not window.nav.back_button.isEnabled()
    assert window.nav.title.text() == "Second screen"
    qtbot.mouseClick(window.nav.buttons["first"], Qt.MouseButton.LeftButton)
    assert window.current_screen == "first"
    assert source.listener_count("a.x") == 1
    assert source.listener_count("b.y") == 0  # the hidden screen let go of its tag
    assert window.nav.back_button.isEnabled()
    qtbot.mouseClick(window.nav.back_button, Qt.MouseButton.LeftButton)
    assert window.current_screen == "second"
    assert window.nav.buttons["second"].isChecked()
    assert source.listener_count() == 1
    with pytest.raises(KeyError, match="no screen named 'third'"):
        window.show_screen("third")
    window.release_screens()
    assert source.listener_count() == 0
    assert all(isinstance(view, ScreenView) for view in window.screen_views())


def test_screen_with_errors_is_shown_with_its_issues(
    qtbot: QtBot, source: MemoryTagSource, tmp_path: Path
) -> None:
    issues = [ProjectIssue("screens/broken.yaml", 7, "widgets[2].type", "unknown widget type")]
    window = _window(qtbot, source, {"broken": issues, "main": _screen(tmp_path, "main", "a.x")})
    assert window.current_screen == "broken"
    page = window.page("broken")
    assert isinstance(page, ScreenErrorPage)
    assert "screens/broken.yaml:7: widgets[2].type: unknown widget type" in page.widget().text()
    assert window.nav.buttons["broken"].text() == "broken (errors)"
