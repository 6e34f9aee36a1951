"""The renderer binds widgets through a TagSource while shown, unsubscribes when hidden, writes
without blocking (showing failures next to the control) and scales the screen to any window."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QRect, Qt
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.yamlio import read_yaml
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta, WriteRefused
from screens.memory_source import MemoryTagSource
from screens.model import ClickAction, ScreenDefinition, check_screen
from screens.renderer import ScreenView, render_screen
from tests.support.items import click_item
from widgets.base import HmiWidget
from widgets.command_button import CommandButton
from widgets.confirm import ConfirmDialog
from widgets.numeric import NumericDisplay
from widgets.state_indicator import StateIndicator

SCREEN = """\
schema_version: 1
name: test
size: [1280, 800]
widgets:
  - {id: speed, type: numeric, geometry: [20, 20, 300, 40], props: {label: Speed},
     bind: {value: line.speed}}
  - {id: speed_twice, type: numeric, geometry: [20, 70, 300, 40], bind: {value: line.speed}}
  - {id: state, type: state, geometry: [20, 120, 200, 60], bind: {value: line.running}}
  - {id: start, type: command, geometry: [400, 20, 120, 48], props: {text: START},
     bind: {value: line.start}}
  - {id: fixed, type: command, geometry: [400, 120, 120, 48],
     props: {text: "SET 300", action: value, value: 300}, bind: {value: line.speed}}
  - {id: corner, type: text, geometry: [1180, 760, 100, 40], props: {text: corner}}
"""


def _source(write_delay: float = 0.0) -> MemoryTagSource:
    return MemoryTagSource(
        [
            TagMeta("line.speed", DataType.FLOAT32, "bpm", ".1f", writable=True),
            TagMeta("line.running", DataType.BOOL),
            TagMeta("line.start", DataType.BOOL, writable=True),
        ],
        write_delay=write_delay,
    )


def _definition(tmp_path: Path, text: str = SCREEN) -> ScreenDefinition:
    path = tmp_path / "test.yaml"
    path.write_text(text, encoding="utf-8")
    definition, issues = check_screen(read_yaml(path))
    assert issues == []
    assert definition is not None
    return definition


@pytest.fixture
def view(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[ScreenView, MemoryTagSource]]:
    source = _source()
    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    yield screen, source
    screen.unsubscribe()


def _numeric(screen: ScreenView, widget_id: str) -> NumericDisplay:
    widget = screen.widgets[widget_id]
    assert isinstance(widget, NumericDisplay)
    return widget


def test_binds_on_show_and_updates_on_flush(view: tuple[ScreenView, MemoryTagSource]) -> None:
    screen, source = view
    source.set("line.speed", 10.0)
    assert source.listener_count() == 0  # not shown yet: nothing subscribed
    screen.resize(1280, 800)
    screen.show()
    assert source.listener_count() == 5  # every binding; a shared tag counts per widget
    speed = _numeric(screen, "speed")
    assert speed.value_shown().text == "10.0"  # type: ignore[union-attr]
    source.set("line.speed", 11.0)
    source.set("line.speed", 12.25)  # latest value wins
    source.set("line.running", True)
    assert speed.value_shown().text == "10.0"  # type: ignore[union-attr]
    calls = source.flush()
    assert calls == 4  # newest speed to its 3 widgets, running to 1
    assert speed.value_shown().text == "12.2"  # type: ignore[union-attr]
    assert _numeric(screen, "speed_twice").value_shown().text == "12.2"  # type: ignore[union-attr]
    state = screen.widgets["state"]
    assert isinstance(state, StateIndicator)
    assert state.state()[:2] == ("RUNNING", "running")
    source.set("line.speed", 12.0, Quality.STALE, "no update")
    source.flush()
    assert speed.value_shown().quality is Quality.STALE  # type: ignore[union-attr]
    assert "no update" in speed.tooltip_text()


def test_hidden_screen_unsubscribes_and_catches_up_when_shown(
    view: tuple[ScreenView, MemoryTagSource],
) -> None:
    screen, source = view
    screen.show()
    assert screen.subscribed
    screen.hide()
    assert not screen.subscribed
    assert source.listener_count() == 0
    source.set("line.speed", 99.0)
    source.flush()  # nobody listens
    assert _numeric(screen, "speed").value_shown().text == "####"  # type: ignore[union-attr]
    screen.show()
    assert source.listener_count() == 5
    assert _numeric(screen, "speed").value_shown().text == "99.0"  # type: ignore[union-attr]


def test_tag_missing_from_the_source_shows_bad_with_reason(qtbot: QtBot, tmp_path: Path) -> None:
    source = MemoryTagSource([TagMeta("line.speed", DataType.FLOAT32)])
    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    screen.show()
    state = screen.widgets["state"]
    assert state.worst_quality() is Quality.BAD
    assert "config error: unknown tag" in state.tooltip_text()
    screen.hide()


def _run(loop: qasync.QEventLoop, coro: Any) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, 10))


def _click(qtbot: QtBot, widget: HmiWidget) -> None:
    click_item(qtbot, widget)


def test_mouse_click_writes_through_the_source(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = _source(write_delay=0.05)
    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    start = screen.widgets["start"]
    assert isinstance(start, CommandButton)

    async def scenario() -> None:
        _click(qtbot, start)
        assert screen.pending_writes() == 1
        assert start.display_state()[2] is True  # busy while the write is in flight
        _click(qtbot, start)  # ignored while busy: never two writes of one command at once
        await screen.wait_writes()

    _run(qloop, scenario())
    assert source.writes == [("line.start", True)]
    assert not screen.feedback["start"].is_error
    assert screen.feedback["start"].message == "✓ True written"
    source.flush()
    assert start.pending()  # the bit is set until the PLC clears it
    screen.hide()


def test_refused_and_unanswered_writes_show_next_to_the_control(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = _source()

    def refuse(tag: str, value: Any) -> None:
        raise WriteRefused(f"{value} is above the limit 200")

    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    fixed = screen.widgets["fixed"]

    async def refused() -> None:
        source.write_check = refuse
        _click(qtbot, fixed)
        await screen.wait_writes()

    _run(qloop, refused())
    feedback = screen.feedback["fixed"]
    assert feedback.visible
    assert feedback.message == "300 is above the limit 200"
    assert "line.speed" in feedback.tooltip_text()
    assert feedback.geometry().top() >= fixed.geometry().bottom()  # right under the button
    assert source.writes == []

    async def unanswered() -> None:
        source.write_check = None
        source.write_delay = 1.0
        screen.write_timeout = 0.1
        _click(qtbot, screen.widgets["start"])
        await screen.wait_writes()

    _run(qloop, unanswered())
    assert screen.feedback["start"].message == "no answer within 0.1 s"
    screen.hide()


def test_write_of_a_read_only_tag_is_refused_by_the_source(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = MemoryTagSource(
        [
            TagMeta("line.speed", DataType.FLOAT32),
            TagMeta("line.running", DataType.BOOL),
            TagMeta("line.start", DataType.BOOL),
        ]
    )
    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    screen.show()

    async def scenario() -> None:
        _click(qtbot, screen.widgets["start"])
        await screen.wait_writes()

    _run(qloop, scenario())
    assert screen.feedback["start"].message == "line.start is read-only"
    screen.hide()


@pytest.mark.parametrize("size", [(1920, 1080), (1024, 768), (1280, 800), (700, 1000)])
def test_scales_to_fit_keeping_the_aspect(
    view: tuple[ScreenView, MemoryTagSource], size: tuple[int, int]
) -> None:
    screen = view[0]
    screen.resize(*size)
    screen.show()
    expected = min(size[0] / 1280, size[1] / 800)
    assert screen.scale == pytest.approx(expected)
    inside = QRect(0, 0, *size)
    for widget_id, widget in screen.widgets.items():
        geometry = widget.geometry()
        assert inside.contains(geometry), f"{widget_id} {geometry} outside {inside}"
        design = screen.design_rect_of(widget)
        assert geometry.width() == pytest.approx(design.width() * expected, abs=1.5)
        assert geometry.height() == pytest.approx(design.height() * expected, abs=1.5)
        assert widget.scale == pytest.approx(expected)
    # the bottom-right widget touches the scaled design's corner
    area = screen.design_area()
    corner = screen.widgets["corner"].geometry()
    assert abs(corner.right() + 1 - area.right()) <= 1.5
    assert abs(corner.bottom() + 1 - area.bottom()) <= 1.5


def test_scaled_widgets_still_take_clicks(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = _source()
    screen = render_screen(_definition(tmp_path), source)
    qtbot.addWidget(screen)
    screen.resize(1024, 768)
    screen.show()
    start = screen.widgets["start"]
    # click the screen where the button is drawn: the event must reach the button
    assert screen.item_at(start.geometry().center()) is start
    assert start.geometry() == screen.to_widget(screen.design_rect_of(start))

    async def scenario() -> None:
        qtbot.mouseClick(screen, Qt.MouseButton.LeftButton, pos=start.geometry().center())
        await screen.wait_writes()

    _run(qloop, scenario())
    assert source.writes == [("line.start", True)]
    screen.hide()


def test_demo_overview_renders_at_1920x1080_inside_the_window(qtbot: QtBot) -> None:
    project = load_project(demo_project_dir())
    definition, issues = check_screen(project.screen_docs["overview"], None)
    assert definition is not None, issues
    source = MemoryTagSource.for_project(project.model)
    screen = render_screen(definition, source)
    qtbot.addWidget(screen)
    screen.resize(1920, 1080)
    screen.show()
    assert source.listener_count() == len(
        [1 for placed in definition.widgets for _ in placed.config.bind]
    )
    for widget in screen.widgets.values():
        assert QRect(0, 0, 1920, 1080).contains(widget.geometry())
    screen.hide()
    assert source.listener_count() == 0


CLICKS = """\
schema_version: 1
name: clicks
widgets:
  - {id: to_filler, type: nav, geometry: [10, 10, 200, 48], props: {text: Filler, screen: filler}}
  - id: pump
    type: symbol
    geometry: [10, 80, 80, 80]
    props: {symbol: pump}
    bind: {value: line.running}
    on_click: {faceplate: machine, params: {equipment: line}}
  - {id: speed, type: numeric, geometry: [100, 80, 200, 40], bind: {value: line.speed}}
"""


def test_nav_buttons_and_on_click_widgets_hand_their_action_to_the_screen(
    qtbot: QtBot, tmp_path: Path
) -> None:
    screen = render_screen(_definition(tmp_path, CLICKS), _source())
    qtbot.addWidget(screen)
    actions: list[ClickAction] = []
    screen.action_handler = actions.append
    screen.resize(1280, 800)
    screen.show()
    click_item(qtbot, screen.widgets["to_filler"])
    click_item(qtbot, screen.widgets["pump"])
    assert actions == [
        ClickAction(navigate="filler"),
        ClickAction(faceplate="machine", params={"equipment": "line"}),
    ]
    assert not screen.widgets["speed"].takes_mouse()  # a plain display lets clicks through
    screen.hide()


def test_a_confirm_question_comes_before_the_write_and_cancel_writes_nothing(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = _source()
    text = SCREEN.replace(
        "props: {text: START},",
        'props: {text: START, confirm: "Start the line ({value})?"},',
    )
    assert text != SCREEN
    screen = render_screen(_definition(tmp_path, text), source)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()

    async def scenario() -> None:
        click_item(qtbot, screen.widgets["start"])
        dialog = screen.findChild(ConfirmDialog)
        assert dialog is not None and dialog.question_label.text() == "Start the line (True)?"
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        await asyncio.sleep(0.05)
        assert source.writes == []
        click_item(qtbot, screen.widgets["start"])
        dialog = next(d for d in screen.findChildren(ConfirmDialog) if d.isVisible())
        qtbot.mouseClick(dialog.yes_button, Qt.MouseButton.LeftButton)
        await screen.wait_writes()

    _run(qloop, scenario())
    assert source.writes == [("line.start", True)]
    screen.hide()
