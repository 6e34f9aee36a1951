"""The demo's operator screens tried as a new user would, on the real runtime with the embedded
Modbus plant: the window opens on the overview with moving values, a click on the filler opens its
live faceplate, a setpoint typed on the keypad (and confirmed) reaches the PLC register and comes
back on screen, an out-of-range value is refused in the keypad, navigation goes there and back, a
lost PLC link shows on every PLC value (with its reason) while the utilities stay live, and every
screen file and faceplate instance passes the project check with nothing overlapping."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.check import check_project
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality
from hmi_app.plant import words
from hmi_app.plant.bottling_plant import HR_SPEED_SP, BottlingLinePlant
from hmi_app.plant.server import Table
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.screenset import load_screen_set
from hmi_app.shell.window import MainWindow
from screens.faceplate import FaceplateDialog
from screens.renderer import ScreenView
from tests.support.items import click_item
from tests.support.operator_window import operator_window
from tests.support.waiting import wait_until
from widgets.base import HmiWidget
from widgets.confirm import ConfirmDialog
from widgets.keypad import NumericKeypad
from widgets.state_indicator import StateIndicator
from widgets.symbol import SymbolWidget

D = TypeVar("D", bound=QDialog)
MACHINES = ("infeed", "filler", "capper", "labeller")
SCREENS = ("overview", "filler", "utilities", "production", "trends")


def _good_text(widget: HmiWidget) -> str:
    """What ``widget`` shows for its value, "" until that value is GOOD."""
    shown = widget.shown("value")
    return shown.text if shown.quality is Quality.GOOD else ""


def _state(widget: HmiWidget) -> tuple[str, str]:
    """(text, style) a state indicator or a process symbol shows, ("", "") until GOOD."""
    if isinstance(widget, SymbolWidget):
        style, text, quality, _reason = widget.state()
    else:
        assert isinstance(widget, StateIndicator)
        text, style, shown = widget.state()
        quality = shown.quality if shown else Quality.GOOD
    return (text, style) if quality is Quality.GOOD else ("", "")


def _has_state(widget: HmiWidget) -> bool:
    return _state(widget)[0] != ""


def _open(parent: QWidget, kind: type[D]) -> list[D]:
    """The dialogs of ``kind`` open over ``parent`` (closed ones are deleted later)."""
    return [dialog for dialog in parent.findChildren(kind) if dialog.isVisible()]


def _page(window: MainWindow, name: str) -> ScreenView:
    view = window.page(name)
    assert isinstance(view, ScreenView)
    return view


@dataclass
class Demo:
    """The demo window on a started runtime, values handed on every flush period."""

    runtime: Runtime
    window: MainWindow

    @property
    def plant(self) -> BottlingLinePlant:
        plant = self.runtime.plants["bottling_line"]
        assert isinstance(plant, BottlingLinePlant)
        return plant

    def setpoint_register(self) -> float:
        """The speed setpoint as the PLC holds it (HR0, float32)."""
        return words.to_float32(self.plant.image.read(Table.HOLDING, HR_SPEED_SP, 2))


def _run(
    qtbot: QtBot, qloop: qasync.QEventLoop, scenario: Callable[[Demo], Coroutine[Any, Any, None]]
) -> None:
    """Run ``scenario`` on the demo window (1280x800) and the real runtime, then stop both."""
    project = load_project(demo_project_dir())
    runtime = Runtime(project)

    async def main() -> None:
        async with operator_window(qtbot, project, runtime) as window:
            await scenario(Demo(runtime, window))

    qloop.run_until_complete(asyncio.wait_for(main(), 30))


def test_demo_opens_on_the_overview_with_moving_values(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        window = demo.window
        assert window.current_screen == "overview"
        assert window.nav.buttons["overview"].isChecked()
        assert list(window.nav.buttons) == list(SCREENS)  # the faceplate template is not a screen
        view = _page(window, "overview")
        good = view.widgets["count_good"]
        await wait_until(lambda: _good_text(good) != "", 5, "a good bottle count")
        first = _good_text(good)
        await wait_until(lambda: _good_text(good) not in ("", first), 5, "the bottle count to move")
        # every machine shows its state in calm grey: colour is kept for the abnormal
        for machine in MACHINES:
            symbol = view.widgets[machine]
            await wait_until(functools.partial(_has_state, symbol), 5, machine)
            assert _state(symbol) == ("RUNNING", "running")
        assert _state(view.widgets["line_state"]) == ("RUNNING", "running")
        assert set(demo.runtime.bus.subscribed_tags()) == view.definition.tags()

    _run(qtbot, qloop, scenario)


def test_a_click_on_the_filler_opens_its_live_faceplate(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        window = demo.window
        view = _page(window, "overview")
        assert window.faceplates.dialogs() == []
        click_item(qtbot, view.widgets["filler"])
        (dialog,) = window.faceplates.dialogs()
        assert isinstance(dialog, FaceplateDialog) and dialog.view is not None
        assert dialog.windowTitle().startswith("Filler - line1.filler")
        face = dialog.view
        assert {"line1.filler.running", "line1.filler.fault", "line1.filler.speed"} <= (
            face.definition.tags()
        )
        speed = face.widgets["speed"]
        await wait_until(lambda: _good_text(speed) != "", 5, "the faceplate's speed")
        assert float(_good_text(speed)) == pytest.approx(demo.plant.model.filler_speed, abs=61)
        # the discrete inputs are a request apart from the registers: their first read may lag
        for name in ("running", "fault"):
            await wait_until(functools.partial(_has_state, face.widgets[name]), 5, name)
        assert _state(face.widgets["running"]) == ("RUNNING", "running")
        assert _state(face.widgets["fault"]) == ("none", "normal")
        # a filler jam shows on its faceplate and its symbol; only the filler is at fault
        demo.plant.model.force_fault()
        await wait_until(
            lambda: _state(face.widgets["fault"]) == ("FAULT", "alarm"), 5, "the filler's fault"
        )
        assert _state(view.widgets["filler"]) == ("JAM", "alarm")
        await wait_until(
            lambda: _state(view.widgets["capper"]) == ("STOPPED", "stopped"), 5, "capper stopped"
        )
        # the capper's faceplate: the same template, its own tags
        click_item(qtbot, view.widgets["capper"])
        assert len(window.faceplates.dialogs()) == 2
        capper = next(d.view for d in window.faceplates.dialogs() if d is not dialog)
        assert capper is not None and "line1.capper.speed" in capper.definition.tags()
        await wait_until(
            lambda: _state(capper.widgets["fault"]) == ("none", "normal"), 5, "capper faceplate"
        )
        assert _state(capper.widgets["running"]) == ("STOPPED", "stopped")
        window.faceplates.close_all()
        assert window.faceplates.dialogs() == []

    _run(qtbot, qloop, scenario)


async def _ready_entry(qtbot: QtBot, demo: Demo) -> tuple[ScreenView, HmiWidget]:
    """The filler screen, reached with its button on the overview, and its setpoint entry."""
    window = demo.window
    click_item(qtbot, _page(window, "overview").widgets["filler_detail"])
    assert window.current_screen == "filler"
    view = _page(window, "filler")
    entry = view.widgets["speed_sp"]
    await wait_until(lambda: _good_text(entry) == "300", 5, "the setpoint 300 on screen")
    return view, entry


def test_a_setpoint_typed_on_the_keypad_reaches_the_plc_and_comes_back(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        view, entry = await _ready_entry(qtbot, demo)
        assert demo.setpoint_register() == 300.0
        click_item(qtbot, entry)
        (keypad,) = _open(view, NumericKeypad)
        assert keypad.range_label.text() == "Range: 0 \u2026 600 bpm"
        qtbot.keyClicks(keypad, "450")
        qtbot.keyClick(keypad, Qt.Key.Key_Return)
        assert not keypad.isVisible()
        (confirm,) = _open(view, ConfirmDialog)
        assert confirm.question_label.text() == "Set the filler speed to 450 bpm?"
        assert "450 bpm" in confirm.detail_label.text()
        assert demo.setpoint_register() == 300.0  # nothing written before the Yes
        qtbot.mouseClick(confirm.yes_button, Qt.MouseButton.LeftButton)
        await view.wait_writes()
        feedback = view.feedback["speed_sp"]
        assert not feedback.is_error, feedback.message
        assert demo.setpoint_register() == 450.0
        await wait_until(lambda: demo.plant.model.setpoint == 450.0, 2, "the plant to take it")
        await wait_until(lambda: _good_text(entry) == "450", 5, "450 shown on the filler screen")

    _run(qtbot, qloop, scenario)


def test_an_out_of_range_setpoint_is_refused_in_the_keypad_and_never_written(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        view, entry = await _ready_entry(qtbot, demo)
        click_item(qtbot, entry)
        (keypad,) = _open(view, NumericKeypad)
        qtbot.keyClicks(keypad, "700")
        qtbot.keyClick(keypad, Qt.Key.Key_Return)
        assert keypad.isVisible()
        assert keypad.message() == "700 is above the maximum 600 bpm"
        assert _open(view, ConfirmDialog) == []
        assert view.pending_writes() == 0
        qtbot.keyClick(keypad, Qt.Key.Key_Escape)
        assert not keypad.isVisible()
        await asyncio.sleep(0.5)  # a few plant ticks and flushes
        assert demo.setpoint_register() == 300.0
        assert demo.plant.model.setpoint == 300.0
        assert _good_text(entry) == "300"

    _run(qtbot, qloop, scenario)


def test_navigation_to_the_filler_and_utilities_and_back(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        window = demo.window
        overview = _page(window, "overview")
        click_item(qtbot, overview.widgets["filler_detail"])
        assert window.current_screen == "filler"
        filler = _page(window, "filler")
        assert window.stack.currentWidget() is filler
        assert not overview.subscribed and filler.subscribed  # only what is seen is polled
        qtbot.mouseClick(window.nav.back_button, Qt.MouseButton.LeftButton)
        assert window.current_screen == "overview"
        assert window.stack.currentWidget() is overview and overview.subscribed
        # the screens' own buttons: overview -> utilities -> filler -> overview
        click_item(qtbot, overview.widgets["utilities_link"])
        assert window.current_screen == "utilities"
        click_item(qtbot, _page(window, "utilities").widgets["to_filler"])
        assert window.current_screen == "filler"
        click_item(qtbot, filler.widgets["back_to_overview"])
        assert window.current_screen == "overview"
        # the utilities come from the simulator: live on their own screen
        window.show_screen("utilities")
        air = _page(window, "utilities").widgets["air_gauge"]
        await wait_until(lambda: _good_text(air) != "", 5, "the air pressure")
        assert 5.8 <= float(_good_text(air)) <= 6.4

    _run(qtbot, qloop, scenario)


def test_a_lost_plc_link_shows_on_every_plc_value_with_its_reason_and_recovers(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    async def scenario(demo: Demo) -> None:
        window = demo.window
        view = _page(window, "overview")
        state, air = view.widgets["line_state"], view.widgets["air_pressure"]
        await wait_until(lambda: _state(state)[0] != "" and _good_text(air) != "", 5, "values")
        await demo.plant.stop_server()
        chip = window.header.chips["line1_plc"]
        await wait_until(lambda: chip.state is LinkState.DISCONNECTED, 5, "the link chip")
        assert chip.text() == "line1_plc: disconnected"
        banner = window.link_banner  # the reason in words on screen, no hovering needed
        assert banner.isVisible() and banner.connections_down() == ["line1_plc"]
        assert banner.text().startswith("⚠  line1_plc disconnected (")  # the driver's reason
        assert banner.text().endswith("): its values are not current")
        assert "retrying in" not in banner.text()  # no countdown churning the strip
        await wait_until(
            lambda: state.worst_quality() is Quality.BAD, 5, "the line state to go BAD"
        )
        for widget_id in ("line_state", "filler", "count_good", "filler_speed", "filler_tank"):
            widget = view.widgets[widget_id]
            assert widget.worst_quality() is Quality.BAD, widget_id
            assert "quality BAD: " in widget.tooltip_text(), widget_id  # the reason, on hover
        assert view.widgets["count_good"].shown("value").text == "####"
        assert _good_text(air) != ""  # the utilities come from elsewhere: still live
        await demo.plant.restart_server()
        await wait_until(lambda: _state(state)[0] != "", 15, "the values back after the link")
        assert chip.state is LinkState.CONNECTED
        assert not banner.isVisible()

    _run(qtbot, qloop, scenario)


def test_every_demo_screen_and_faceplate_instance_passes_the_check() -> None:
    project, issues = check_project(demo_project_dir())
    assert issues == [] and project is not None
    screen_set = load_screen_set(project)
    assert list(screen_set.screens) == list(SCREENS)
    assert set(screen_set.library.templates) == {"machine_faceplate"}
    assert project.model.project.start_screen == "overview"
    opened: set[str] = set()
    for entry in screen_set.screens.values():
        assert not isinstance(entry, list), entry
        for placed, action in entry.click_actions():
            if action.faceplate is None:
                assert action.navigate in SCREENS, placed.config.id
                continue
            instance = screen_set.library.instantiate(action.faceplate, action.params)
            opened.add(action.params["equipment"])
            assert f"{action.params['equipment']}.speed" in instance.tags()
    assert opened == {f"line1.{machine}" for machine in MACHINES}


@pytest.mark.parametrize("name", [*SCREENS, "machine_faceplate"])
def test_nothing_overlaps_and_everything_fits_in_its_panel(name: str) -> None:
    project = load_project(demo_project_dir())
    screen_set = load_screen_set(project)
    if name in screen_set.screens:
        definition = screen_set.screens[name]
        assert not isinstance(definition, list)
    else:
        params = {"equipment": "line1.filler", "title": "Filler"}
        definition = screen_set.library.instantiate(name, params)
    placed = [(p.config.id, p.config.type, p.config.geometry) for p in definition.widgets]
    panels = [(i, g) for i, t, g in placed if t == "panel"]
    # pipes and flow lines may run into the vessels and machines they join
    items = [(i, g) for i, t, g in placed if t not in ("panel", "pipe", "flow")]
    for index, (a, (ax, ay, aw, ah)) in enumerate(items):
        for b, (bx, by, bw, bh) in items[index + 1 :]:
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, f"{name}: {a} overlaps {b}"
        inside = [
            p for p, (px, py, pw, ph) in panels if px <= ax and py <= ay
            and ax + aw <= px + pw and ay + ah <= py + ph
        ]  # fmt: skip
        touching = [
            p for p, (px, py, pw, ph) in panels if ax < px + pw and px < ax + aw
            and ay < py + ph and py < ay + ah
        ]  # fmt: skip
        assert set(touching) <= set(inside), f"{name}: {a} is cut by a panel edge"
