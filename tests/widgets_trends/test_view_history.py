"""The trend view on a real historian (SQLite in tmp_path) filled with known data, offscreen.

Driven as an operator would: presets 10 min -> 7 d -> 10 min, a real mouse drag into the past,
a click that places the cursor, exports. What is drawn is checked against the stored samples
(exactly for raw ranges, the min/max envelope of every bucket for long ones), the cursor against
a brute-force lookup, the CSV row by row.
"""

from __future__ import annotations

import asyncio
import csv
import math
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import qasync
from PySide6.QtCore import QDateTime, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hmi_app.runtime.historian import Historian
from hmi_app.runtime.historian_query import bucket_edges
from screens.memory_source import MemoryTagSource
from tests.support.waiting import wait_until
from tests.widgets_trends.known import DAY, METAS, Stored, make_history
from widgets.trends.spec import PenSpec, TrendSpec
from widgets.trends.toolbar import local_text
from widgets.trends.view import TrendView

SPEC = TrendSpec(
    "Filler",
    (
        PenSpec("plant.flow", "Flow"),
        PenSpec("plant.level", "Tank level", y_min=0, y_max=100),
        PenSpec("plant.temp", "Product temperature"),
    ),
)

Scenario = Callable[[TrendView, list[Stored], Path], Coroutine[Any, Any, None]]


def _run(
    qtbot: QtBot,
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    scenario: Scenario,
    spec: TrendSpec = SPEC,
) -> None:
    end = math.floor(time.time())
    stored = make_history(end)

    async def main() -> None:
        historian = await Historian.open(tmp_path / "history.sqlite")
        try:
            await historian.insert(row for s in stored for row in s.rows())
            view = TrendView(spec, MemoryTagSource(METAS), historian, export_dir=tmp_path)
            qtbot.addWidget(view)
            view.resize(1280, 800)
            view.show()
            try:
                await scenario(view, stored, tmp_path)
            finally:
                view.close_view()
        finally:
            await historian.close()

    qloop.run_until_complete(asyncio.wait_for(main(), 40))


async def _settled(view: TrendView) -> None:
    await asyncio.sleep(0.05)
    await wait_until(lambda: view.up_to_date, 10, "history loaded and drawn")


def _assert_drawn_matches(view: TrendView, stored: list[Stored]) -> str:
    """Every pen draws what is stored; returns 'raw' or 'buckets' (the same for all pens)."""
    kinds = set()
    for i, (pen, known) in enumerate(zip(view.pens, stored, strict=True)):
        layer = pen.history
        assert layer is not None and not layer.error
        x, y = view.plot.drawn(i)
        if layer.raw is not None:
            kinds.add("raw")
            want = known.between(layer.start, layer.end)
            drawn = want.quality <= 1  # good and uncertain are drawn, stale and bad are gaps
            finite = np.isfinite(y)
            np.testing.assert_array_equal(x[finite], want.ts[drawn])
            np.testing.assert_array_equal(y[finite], want.value[drawn])
            if not drawn.all():
                assert np.isnan(y).any(), "bad samples must break the line"
        else:
            kinds.add("buckets")
            b = layer.buckets
            assert b is not None
            edges = bucket_edges(layer.start, layer.end, len(b))
            centre = (edges[:-1] + edges[1:]) / 2
            checked = 0
            for k in range(len(b)):
                inside = (known.ts >= edges[k]) & (known.ts < edges[k + 1])
                good = known.value[inside & (known.quality == 0)]
                lo, hi = np.searchsorted(x, [centre[k] - 1e-3, centre[k] + 1e-3])
                got = y[lo:hi].tolist() if hi > lo else None
                if good.size:
                    assert got is not None, f"{known.tag}: bucket {k} not drawn"
                    assert (min(got), max(got)) == (good.min(), good.max()), f"bucket {k}"
                    checked += 1
                elif inside.any():
                    assert got is not None and np.isnan(got).all(), f"bucket {k} is a gap"
            assert checked > len(b) / 3
    assert len(kinds) == 1
    return kinds.pop()


async def _drag(qtbot: QtBot, view: TrendView, dx: int, start: QPoint | None = None) -> None:
    """Press at ``start`` (the middle of the plot), move ``dx`` pixels in steps, release."""
    viewport = view.plot.viewport()
    if start is None:
        start = view.plot.pos_of(sum(view.visible_range()) / 2).toPoint()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        await asyncio.sleep(0.01)
        qtbot.mouseMove(viewport, start + QPoint(dx * step // 10, 0))
    await asyncio.sleep(0.01)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(dx, 0))


def test_presets_pan_cursor_and_exports_on_a_real_historian(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(view: TrendView, stored: list[Stored], tmp: Path) -> None:
        assert view.is_live
        await _settled(view)
        start, end = view.visible_range()
        assert end == pytest.approx(time.time(), abs=1.0) and end - start == pytest.approx(600)
        assert _assert_drawn_matches(view, stored) == "raw"

        qtbot.mouseClick(view.toolbar.presets["7 d"], Qt.MouseButton.LeftButton)
        assert view.loading and view.toolbar.loading.isVisibleTo(view)  # the UI did not wait
        await _settled(view)
        start, end = view.visible_range()
        assert view.is_live and end - start == pytest.approx(7 * DAY)
        assert _assert_drawn_matches(view, stored) == "buckets"
        flow = view.plot.drawn(0)[1]
        assert np.nanmax(flow) == 140.0, "the one-sample spike survives a week of buckets"

        qtbot.mouseClick(view.toolbar.presets["10 min"], Qt.MouseButton.LeftButton)
        await _settled(view)
        assert view.visible_range()[1] - view.visible_range()[0] == pytest.approx(600)
        assert _assert_drawn_matches(view, stored) == "raw"

        # an hour, then a real mouse drag to the right: into the past, out of live mode
        qtbot.mouseClick(view.toolbar.presets["1 h"], Qt.MouseButton.LeftButton)
        await _settled(view)
        before = view.visible_range()
        px_per_s = view.plot.main_view.width() / (before[1] - before[0])
        ranges: list[tuple[float, float]] = []
        view.range_changed.connect(lambda a, b: ranges.append((a, b)))
        await _drag(qtbot, view, 400)
        assert not view.is_live and not view.toolbar.live.isChecked()
        after = view.visible_range()
        assert after[0] == pytest.approx(before[0] - 400 / px_per_s, abs=30)
        await _settled(view)
        assert ranges and ranges[-1] == pytest.approx(view.visible_range())
        assert _assert_drawn_matches(view, stored) == "raw"
        assert view.visible_range() == pytest.approx(after)  # history mode does not scroll

        # the cursor: a click in the plot places it; it reads every pen at that time
        t_click = after[0] + (after[1] - after[0]) * 0.3
        qtbot.mouseClick(
            view.plot.viewport(), Qt.MouseButton.LeftButton, pos=view.plot.pos_of(t_click).toPoint()
        )
        t = view.plot.cursor_time()
        assert t is not None and t == pytest.approx(t_click, abs=30)
        values = view.cursor_values(t)
        for known in stored:
            assert values[known.tag] == known.at(t, 150.0)
        await _settled(view)
        row = view.legend.rows[0]
        assert view.legend.header.text().startswith("At ")
        flow_at = values["plant.flow"]
        assert flow_at is not None and row.value.text() == f"{flow_at[0]:.1f}"
        # dragging the line moves the cursor, not the time axis
        shown = view.visible_range()
        grab = view.plot.pos_of(t).toPoint()
        await _drag(qtbot, view, 150, grab)
        moved = view.plot.cursor_time()
        assert moved is not None and moved == pytest.approx(t + 150 / px_per_s, abs=30)
        assert view.visible_range() == pytest.approx(shown)
        await _settled(view)
        assert view.legend.header.text().endswith(local_text(moved))
        qtbot.mouseClick(view.toolbar.hide_cursor, Qt.MouseButton.LeftButton)
        assert view.plot.cursor_time() is None

        # the cursor on a week of buckets reads the exact sample (asked of the historian)
        view.set_preset("7 d")
        await _settled(view)
        t_week = view.visible_range()[0] + 2.345 * DAY
        view.plot.show_cursor(t_week)
        await wait_until(lambda: not view.pens[0].needs_probe(t_week), 5, "exact cursor read")
        for known, got in zip(stored, view.cursor_values(t_week).values(), strict=True):
            assert got == known.at(t_week, 150.0)

        # CSV of the visible range, row by row
        view.set_range(end - 900, end - 60)
        await _settled(view)
        path = tmp / "out.csv"
        rows = await view.export_csv(path)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
        with path.open(encoding="utf-8-sig", newline="") as f:
            got_rows = list(csv.reader(f))
        assert got_rows[0] == ["tag", "time", "value", "quality"]
        want = []
        for known in stored:
            part = known.between(end - 900, end - 60)
            for ts, v, q in zip(part.ts, part.value, part.quality, strict=True):
                label = ["good", "uncertain", "stale", "bad"][q]
                want.append((ts, known.tag, v, label))
        want.sort(key=lambda r: (r[0], [s.tag for s in stored].index(r[1])))
        assert rows == len(want) == len(got_rows) - 1
        for (ts, tag, v, label), line in zip(want, got_rows[1:], strict=True):
            stamp = datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") + ".000"
            assert line == [tag, stamp, repr(float(v)), label]
        assert any(line[3] == "bad" for line in got_rows[1:])

        png = tmp / "out.png"
        await view.export_png(png)
        image = QImage(str(png))
        assert image.width() == view.body.width() and image.height() == view.body.height()
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 7)
            for y in range(0, image.height(), 7)
        }
        assert len(colours) > 20, "the picture shows curves and text, not a blank widget"

    _run(qtbot, qloop, tmp_path, scenario)


def test_custom_range_wheel_zoom_and_back_to_live(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(view: TrendView, stored: list[Stored], tmp: Path) -> None:
        await _settled(view)
        end = float(stored[0].ts[-1])
        # From/To + Apply, as typed by an operator: two hours, 30 h back (the recorder's hole)
        bar = view.toolbar
        bar.start_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(end - 31 * 3600)))
        bar.end_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(end - 27 * 3600)))
        qtbot.mouseClick(bar.apply, Qt.MouseButton.LeftButton)
        assert not view.is_live and view.loading
        assert view.visible_range() == pytest.approx((end - 31 * 3600, end - 27 * 3600), abs=1)
        await _settled(view)
        assert _assert_drawn_matches(view, stored) == "raw"
        x, y = view.plot.drawn(0)
        hole = (x > end - 30 * 3600) & (x < end - 28 * 3600)
        assert hole.sum() == 1 and np.isnan(y[hole]).all(), "two hours without data: one gap"
        assert view.cursor_values(end - 29 * 3600) == {s.tag: None for s in stored}

        # the wheel zooms time around the pointer; y does not move with the mouse
        before = view.visible_range()
        y_before = view.plot.views[0].viewRange()[1]
        _wheel(view, 120 * 3)
        after = view.visible_range()
        assert after[1] - after[0] < (before[1] - before[0]) * 0.9
        assert before[0] < after[0] < after[1] < before[1]
        assert view.plot.views[0].viewRange()[1] == pytest.approx(y_before)
        await _settled(view)
        assert _assert_drawn_matches(view, stored) == "raw"

        # a preset in history mode keeps the right edge; Live scrolls again at the live span
        view.set_preset("8 h")
        assert view.visible_range()[1] == pytest.approx(after[1])
        assert view.visible_range()[1] - view.visible_range()[0] == pytest.approx(8 * 3600)
        await _settled(view)
        qtbot.mouseClick(bar.live, Qt.MouseButton.LeftButton)
        assert view.is_live and bar.live.isChecked()
        start, stop = view.visible_range()
        assert stop == pytest.approx(time.time(), abs=1) and stop - start == pytest.approx(600)
        await _settled(view)
        assert _assert_drawn_matches(view, stored) == "raw"

    _run(qtbot, qloop, tmp_path, scenario)


def _wheel(view: TrendView, delta: int) -> None:
    """Turn the mouse wheel over the middle of the plot."""
    viewport = view.plot.viewport()
    pos = QPointF(view.plot.pos_of(sum(view.visible_range()) / 2))
    event = QWheelEvent(
        pos,
        QPointF(viewport.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_a_trend_opened_on_history_fetches_buckets_for_its_laid_out_width(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(view: TrendView, stored: list[Stored], tmp: Path) -> None:
        assert not view.is_live and not view.toolbar.live.isChecked()
        assert view.toolbar.presets["7 d"].isChecked()
        await _settled(view)
        assert _assert_drawn_matches(view, stored) == "buckets"
        layer = view.pens[0].history
        assert layer is not None and layer.buckets is not None
        # two widths fetched (half a width of margin each side), one bucket per pixel (the
        # axes may take a few pixels once their labels are known: not worth a second query)
        assert len(layer.buckets) == pytest.approx(2 * view.plot.pixels(), rel=0.05)
        narrow = len(layer.buckets)
        # a window twice as wide asks again for the new width once the size settles
        view.resize(1920, 1080)
        await _settled(view)
        layer = view.pens[0].history
        assert layer is not None and layer.buckets is not None
        assert len(layer.buckets) == pytest.approx(2 * view.plot.pixels(), rel=0.05)
        assert len(layer.buckets) > narrow * 1.4

    spec = TrendSpec(SPEC.title, SPEC.pens, span=7 * DAY, live=False)
    _run(qtbot, qloop, tmp_path, scenario, spec)


def test_a_newer_range_cancels_the_older_request_and_unknown_tags_are_told(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    async def scenario(view: TrendView, stored: list[Stored], tmp: Path) -> None:
        await _settled(view)
        end = float(stored[0].ts[-1])
        view.set_range(end - 7 * DAY, end)  # a week: buckets
        view.set_range(end - 3600, end - 1800)  # at once a half hour: the week is dropped
        await _settled(view)
        for pen in view.pens:
            if pen.spec.tag == "plant.nothing":
                continue
            layer = pen.history
            assert layer is not None and layer.raw is not None
            assert layer.start == pytest.approx(end - 3600 - 900)
        bad = view.pens[-1]
        assert bad.history is not None and "plant.nothing" in bad.history.error
        assert "plant.nothing" in view.toolbar.status.text()
        assert "no history" in view.toolbar.status.text()
        assert view.cursor_values(end - 2000)["plant.nothing"] is None
        assert view.legend.rows[-1].value.text() == "no data"

    spec = TrendSpec(SPEC.title, (*SPEC.pens, PenSpec("plant.nothing", "Not recorded")))
    _run(qtbot, qloop, tmp_path, scenario, spec)
