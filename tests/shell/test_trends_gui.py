"""Trends in the operator window, on the real runtime with the demo's embedded plant and its
historian: a right-click on a value offers its tags and opens the trend window live on the one
picked, the trends screen (reached from the navigation) fills its embedded trends from history and
keeps them live, a trend button opens a saved trend, and 'Save as' writes a definition that the
picker offers and that reads back identical. A copy of the demo is used: saving must never touch
the shipped project."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import qasync
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.trends_model import read_trends
from hmi_app.core.quality import Quality
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.trend_window import TrendWindow
from hmi_app.shell.window import MainWindow
from screens.renderer import ScreenView, TrendRequest
from tests.support.items import click_item
from tests.support.operator_window import operator_window
from tests.support.waiting import wait_until
from widgets.trend_item import TrendItem

Scenario = Callable[[Runtime, MainWindow], Coroutine[Any, Any, None]]


@pytest.fixture(autouse=True)
def _own_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data folder (and so a history file) of this test's own: the demo runs of earlier tests
    record into the shared one, and their samples would fall into the periods checked here."""
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(tmp_path / "data"))


def _run(qtbot: QtBot, qloop: qasync.QEventLoop, folder: Path, scenario: Scenario) -> None:
    """Run ``scenario`` on the window of the project in ``folder`` and its started runtime."""
    project = load_project(folder)
    runtime = Runtime(project)

    async def main() -> None:
        async with operator_window(qtbot, project, runtime) as window:
            await scenario(runtime, window)

    qloop.run_until_complete(asyncio.wait_for(main(), 60))


def _demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def _right_click(view: ScreenView, pos: QPoint) -> None:
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos))
    QApplication.sendEvent(view, event)


def _view(window: MainWindow, name: str) -> ScreenView:
    view = window.page(name)
    assert isinstance(view, ScreenView)
    return view


def _trends(window: MainWindow) -> TrendWindow:
    trends = window.trend_window
    assert trends is not None and trends.isVisible()
    return trends


def test_right_click_on_a_value_trends_its_tag_live(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(runtime: Runtime, window: MainWindow) -> None:
        view = _view(window, "overview")
        speed = next(
            w for w in view.widgets.values() if view.trend_tags(w) == ["line1.filler.speed"]
        )
        # the right-click's context-menu event, as the window system delivers it (QTest's
        # mouse clicks go straight to the widget and never become one)
        _right_click(view, speed.geometry().center())
        menu = view.trend_menu
        assert isinstance(menu, QMenu) and menu.isVisible()
        texts = [a.text() for a in menu.actions()]
        assert texts == ["Trend line1.filler.speed"]
        menu.actions()[0].trigger()
        trends = _trends(window)
        assert [pen.tag for pen in trends.pens] == ["line1.filler.speed"]
        trend_view = trends.view
        assert trend_view is not None and trend_view.is_live
        await wait_until(lambda: len(trend_view.pens[0].ring) > 3, 10, "live speed samples")
        # a widget reading several tags (an expression) offers each, and all of them at once
        _right_click(view, QPoint(2, 2))  # nothing there: no menu
        assert not menu.isVisible() or view.trend_menu is menu
        several = next((w for w in view.widgets.values() if len(view.trend_tags(w)) > 1), None)
        if several is not None:
            _right_click(view, several.geometry().center())
            assert view.trend_menu is not None
            names = [a.text() for a in view.trend_menu.actions() if a.text()]
            assert names[-1] == f"Trend all {len(view.trend_tags(several))}"
            view.trend_menu.close()
        # inside a faceplate too: the capper's speed
        click_item(qtbot, view.widgets["capper"])
        (dialog,) = window.faceplates.dialogs()
        assert dialog.view is not None
        face_speed = dialog.view.widgets["speed"]
        _right_click(dialog.view, face_speed.geometry().center())
        assert dialog.view.trend_menu is not None
        assert [a.text() for a in dialog.view.trend_menu.actions()] == ["Trend line1.capper.speed"]
        dialog.view.trend_menu.actions()[0].trigger()
        assert window.trend_window is trends
        assert [pen.tag for pen in trends.pens] == ["line1.capper.speed"]
        window.faceplates.close_all()
        # asked again from another value: the same window, raised, with the new pen
        level = next(
            w for w in view.widgets.values() if view.trend_tags(w) == ["line1.filler.level"]
        )
        _right_click(view, level.geometry().center())
        assert view.trend_menu is not None
        view.trend_menu.actions()[0].trigger()
        assert window.trend_window is trends
        assert [pen.tag for pen in trends.pens] == ["line1.filler.level"]

    _run(qtbot, qloop, _demo_copy(tmp_path), scenario)


def test_the_trends_screen_is_filled_from_history_and_stays_live(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(runtime: Runtime, window: MainWindow) -> None:
        historian = runtime.historian
        assert historian is not None
        # the last fifteen minutes before the screen opens, as the recorder would have stored
        # them, with 170 s missing: power_kw is written at least every 60 s (the historian's
        # default), so a hole longer than 2.5 x 60 s is no data, drawn as a gap
        now = time.time()
        before_hole = now - 900 + np.arange(0, 300, 2.0)
        past = now - 300 + np.arange(0, 280, 2.0)
        hole_from = float(before_hole[-1])
        assert past[0] - hole_from > 150
        await historian.insert(
            ("utilities.power_kw", float(t), 40.0 + 5 * np.sin(t / 30), 0)
            for t in np.concatenate([before_hole, past])
        )
        qtbot.mouseClick(window.nav.buttons["trends"], Qt.MouseButton.LeftButton)
        assert window.current_screen == "trends"
        view = _view(window, "trends")
        power = view.widgets["power_trend"]
        assert isinstance(power, TrendItem)
        await view.wait_backfills()
        ts, values, quality = power.samples("pen1")
        assert ts.shape[0] >= len(past) + len(before_hole) and ts[0] <= before_hole[0] + 1
        assert np.nanmin(values) < 36 and np.nanmax(values) > 44  # the stored sine
        (marker,) = np.flatnonzero((ts > hole_from) & (ts < past[0]))
        assert ts[marker] == hole_from + 150 and np.isnan(values[marker])
        assert quality[marker] == Quality.BAD
        speeds = view.widgets["speeds_trend"]
        assert isinstance(speeds, TrendItem)
        before = len(speeds.samples("pen1")[0])
        await wait_until(
            lambda: len(speeds.samples("pen1")[0]) > before + 25, 15, "live filler speeds"
        )
        _c, low, _h, gaps = speeds.columns("pen1", 600)  # 1 s columns
        # drawn up to now (before the PLC link came up the recorder may have stored BAD: a gap)
        assert not np.isnan(low[-1]) and not gaps[-1]
        # a click on an embedded trend opens the full window on its pens
        click_item(qtbot, speeds)
        trends = _trends(window)
        assert [p.tag for p in trends.pens] == [
            "line1.filler.speed",
            "line1.capper.speed",
            "line1.labeller.speed",
        ]
        assert [p.label for p in trends.pens] == ["Filler", "Capper", "Labeller"]
        window.show_screen("overview")
        assert not view.subscribed

    _run(qtbot, qloop, _demo_copy(tmp_path), scenario)


def test_a_saved_trend_opens_from_its_button_and_save_as_reads_back(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = _demo_copy(tmp_path)

    async def scenario(runtime: Runtime, window: MainWindow) -> None:
        # the Trends… button opens the window on the first saved trend (not a blank page), its
        # picker listing the saved trends
        qtbot.mouseClick(window.trends_button, Qt.MouseButton.LeftButton)
        trends = _trends(window)
        names = [trends.picker.itemData(i) for i in range(trends.picker.count())]
        assert names == [None, "filler", "line_speeds", "utilities"]
        assert trends.definition_name == "filler" and trends.view is not None
        assert not trends.empty.isVisible()
        qtbot.keyClick(trends.picker, Qt.Key.Key_Down)  # the operator picks the next one
        assert trends.definition_name == "line_speeds"
        window.show_screen("trends")
        view = _view(window, "trends")
        click_item(qtbot, view.widgets["open_filler"])
        assert window.trend_window is trends
        saved = trends.saved["filler"].definition
        assert trends.definition_name == "filler"
        assert trends.pens == saved.pens and trends.span == saved.span
        assert trends.picker.currentData() == "filler"
        trend_view = trends.view
        assert trend_view is not None
        assert [p.tag for p in trend_view.spec.pens] == saved.tags()
        assert trend_view.spec.pens[1].units == "bpm"  # from the tag
        # change the pens and save them under a new name; the stretch of history on screen stays
        now = time.time()
        trend_view.set_range(now - 7200, now - 3600)
        trends.remove_pen("line1.filler.temperature")
        assert trends.view is not None and trends.view is not trend_view
        assert not trends.view.is_live
        kept = trends.view.visible_range()
        assert abs(kept[0] - (now - 7200)) < 1 and abs(kept[1] - (now - 3600)) < 1
        assert trends.tag_picker.findData("utilities.power_kw") >= 0  # recorded tags only
        assert trends.tag_picker.findData("line1.work_order") < 0
        trends.tag_picker.setCurrentIndex(trends.tag_picker.findData("utilities.power_kw"))
        qtbot.mouseClick(trends.add_button, Qt.MouseButton.LeftButton)
        assert [p.tag for p in trends.pens][-1] == "utilities.power_kw"
        assert not trends.view.is_live and trends.view.visible_range() == kept
        trends.name_edit.clear()
        qtbot.keyClicks(trends.name_edit, "bad name!")
        qtbot.mouseClick(trends.save_button, Qt.MouseButton.LeftButton)
        assert "is not a trend name" in trends.status.text()
        trends.name_edit.clear()
        qtbot.keyClicks(trends.name_edit, "filler_power")
        qtbot.mouseClick(trends.save_button, Qt.MouseButton.LeftButton)
        await trends.wait_saves()
        assert trends.status.text() == "Saved as trends/filler_power.yaml", trends.status.text()
        assert trends.picker.findData("filler_power") >= 0
        on_disk, issues = read_trends(folder)
        assert issues == []
        written = on_disk["filler_power"].definition
        assert written.pens == trends.pens and written.span == saved.span
        # the shipped demo is untouched
        assert not (demo_project_dir() / "trends" / "filler_power.yaml").exists()
        # the picker opens another saved trend
        trends.picker.setCurrentIndex(trends.picker.findData("utilities"))
        trends.picker.activated.emit(trends.picker.currentIndex())
        assert trends.definition_name == "utilities"
        assert trends.pens[0].tag == "utilities.air_pressure"
        await asyncio.sleep(0.05)  # the rebuilt view runs on this loop, never a nested one
        # a trend file added by hand while the app runs: Trends… lists it, a request opens it
        (folder / "trends" / "chiller.yaml").write_text(
            "schema_version: 1\nname: chiller\ntitle: Chiller\nspan: 30 min\npens:\n"
            "  - {tag: utilities.chiller.supply_temp}\n",
            encoding="utf-8",
        )
        qtbot.mouseClick(window.trends_button, Qt.MouseButton.LeftButton)
        await trends.wait_saves()  # read again in a worker thread
        assert trends.picker.findData("chiller") >= 0
        assert trends.definition_name == "utilities"  # what was shown stays shown
        (folder / "trends" / "boiler.yaml").write_text(
            "schema_version: 1\nname: boiler\nspan: 10 min\npens:\n"
            "  - {tag: utilities.power_kw}\n",
            encoding="utf-8",
        )
        window.trend_requested.emit(TrendRequest(definition="boiler"))
        await trends.wait_saves()
        assert trends.definition_name == "boiler" and trends.status.text() == ""
        assert [pen.tag for pen in trends.pens] == ["utilities.power_kw"]
        # live over 8 h, a pen added stays live over 8 h (a Save as would keep that span)
        assert trends.view is not None
        trends.view.set_preset("8 h")
        assert trends.add_pen("utilities.air_pressure")
        assert trends.view.is_live and trends.span == 8 * 3600
        start, end = trends.view.visible_range()
        assert abs(end - start - 8 * 3600) < 1

    _run(qtbot, qloop, folder, scenario)
