"""The trend view in live mode on a MemoryTagSource (the screens' in-memory TagSource): it
scrolls with the clock, draws what arrives, breaks the line where quality is bad, shows values
and quality in the legend, and releases its subscriptions when closed. Also the spec's limits."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import numpy as np
import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from hmi_app.core.quality import Quality
from screens.memory_source import MemoryTagSource
from tests.support.waiting import wait_until
from tests.widgets_trends.known import METAS
from widgets.trends.spec import MAX_PENS, PALETTE, PenSpec, TrendSpec
from widgets.trends.view import TrendView


def test_more_than_eight_pens_are_refused_naming_the_limit() -> None:
    pens = tuple(PenSpec(f"t{i}") for i in range(MAX_PENS + 1))
    with pytest.raises(ValueError, match="9 pens: at most 8"):
        TrendSpec("too many", pens)
    spec = TrendSpec("eight", pens[:MAX_PENS])
    colours = [spec.colour_of(i) for i in range(MAX_PENS)]
    assert colours == list(PALETTE) and len(set(colours)) == MAX_PENS
    with pytest.raises(ValueError, match="no pens"):
        TrendSpec("none", ())
    with pytest.raises(ValueError, match="y_min 5 must be below y_max 1"):
        PenSpec("x", y_min=5, y_max=1)


def test_pens_share_an_axis_by_key_or_units_and_own_colours_stay() -> None:
    spec = TrendSpec(
        "axes",
        (
            PenSpec("a", units="bar"),
            PenSpec("b", units="°C", colour=PALETTE[0]),
            PenSpec("c", units="bar"),
            PenSpec("d", axis="speed", units="rpm"),
            PenSpec("e", axis="speed", units="m/min"),
        ),
    )
    assert spec.axis_groups() == [[0, 2], [1], [3, 4]]
    assert spec.colour_of(1) == PALETTE[0]
    assert PALETTE[0] not in [spec.colour_of(i) for i in (0, 2, 3, 4)]


def test_live_mode_scrolls_draws_values_and_gaps_for_bad_quality(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    source = MemoryTagSource(METAS)
    spec = TrendSpec(
        "Live", (PenSpec("plant.flow", "Flow"), PenSpec("plant.level", "Level")), span=60
    )

    async def scenario() -> None:
        source.set("plant.level", 42.0)
        source.flush()
        view = TrendView(spec, source, None)
        qtbot.addWidget(view)
        view.resize(1280, 800)
        view.show()
        try:
            assert view.is_live and source.listener_count() == 2
            assert view.spec.pens[0].units == "m³/h"  # units from the tag's metadata
            first_end = view.visible_range()[1]
            sent: list[tuple[float, float]] = []
            for i in range(12):
                if i == 6:
                    source.set("plant.flow", None, Quality.BAD, "comm failure")
                else:
                    source.set("plant.flow", 10.0 + i)
                    sent.append((source.current("plant.flow").source_ts, 10.0 + i))  # type: ignore[union-attr]
                source.flush()
                await asyncio.sleep(0.06)
            await asyncio.sleep(0.15)
            start, end = view.visible_range()
            assert end > first_end + 0.5 and end == pytest.approx(time.time(), abs=0.3)
            assert end - start == pytest.approx(60)
            x, y = view.plot.drawn(0)
            pairs = set(zip(x.tolist(), y.tolist(), strict=True))
            for point in sent:
                assert point in pairs
            bad_at = np.flatnonzero(np.isnan(y))
            assert bad_at.shape[0] == 1 and sent[5][0] < x[bad_at[0]] < sent[6][0]
            assert x[-1] == pytest.approx(time.time(), abs=0.3)  # the value holds up to now
            # the level never changed: one sample, drawn across the window to "now"
            lx, ly = view.plot.drawn(1)
            assert ly.tolist() == [42.0, 42.0] and lx[-1] > lx[0]
            rows = view.legend.rows
            assert rows[0].value.text() == "21.0" and rows[0].units.text() == "m³/h"
            assert rows[1].value.text() == "42.0" and rows[0].quality.text() == ""
            source.set("plant.flow", None, Quality.BAD, "comm failure")
            source.flush()
            await wait_until(lambda: rows[0].quality.text() == "bad", 2, "bad in the legend")
            assert rows[0].value.text() == "####"
            values = view.cursor_values(sent[2][0] + 0.01)
            assert values["plant.flow"] == (12.0, 0) and values["plant.level"] == (42.0, 0)
            path = tmp_path / "live.csv"
            rows_written = await view.export_csv(path)
            assert rows_written == len(sent) + 3  # 11 good, 2 bad flow samples, 1 level
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            assert lines[1].startswith("plant.level,") and lines[-1].endswith(",,bad")

            # the buttons: a non-modal save dialog proposing a dated file, the outcome shown
            view.export_dir = tmp_path
            for button, name in (
                (view.toolbar.export_csv, "b.csv"),
                (view.toolbar.export_png, "b.png"),
            ):
                qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
                dialog = view.export_dialog
                assert isinstance(dialog, QFileDialog) and dialog.isVisible()
                assert not dialog.isModal()
                assert dialog.selectedFiles()[0].startswith(str(tmp_path / "Live-"))
                dialog.selectFile(str(tmp_path / name))
                dialog.accept()
                done = f"to {tmp_path / name}"
                await wait_until(lambda d=done: view.toolbar.status.text().endswith(d), 5, name)
                assert (tmp_path / name).stat().st_size > 1000 or name.endswith(".csv")
            assert view.toolbar.status.text().startswith("Picture saved to")
            assert (tmp_path / "b.csv").read_text(encoding="utf-8-sig") == path.read_text(
                encoding="utf-8-sig"
            )
        finally:
            view.close_view()
        assert source.listener_count() == 0

    qloop.run_until_complete(asyncio.wait_for(scenario(), 20))


def test_history_mode_without_a_historian_draws_the_live_buffer(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    source = MemoryTagSource(METAS)
    spec = TrendSpec("Live", (PenSpec("plant.temp"),), span=600)

    async def scenario() -> None:
        view = TrendView(spec, source, None)
        qtbot.addWidget(view)
        view.resize(1280, 800)
        view.show()
        try:
            for i in range(5):
                source.set("plant.temp", 20.0 + i)
                source.flush()
                await asyncio.sleep(0.02)
            now = time.time()
            view.set_range(now - 30, now + 30)
            assert not view.is_live and not view.loading
            await wait_until(lambda: view.up_to_date, 2, "redrawn")
            x, y = view.plot.drawn(0)
            assert [v for v in y.tolist() if not math.isnan(v)][:5] == [
                20.0,
                21.0,
                22.0,
                23.0,
                24.0,
            ]
            assert x[-1] < now + 0.01  # no "now" tail outside live mode
            await asyncio.sleep(0.3)
            assert view.visible_range() == pytest.approx((now - 30, now + 30))
            view.go_live()
            assert view.is_live and view.toolbar.live.isChecked()
            assert view.visible_range()[1] - view.visible_range()[0] == pytest.approx(600)
            with pytest.raises(ValueError, match="unknown preset"):
                view.set_preset("2 h")
        finally:
            view.close_view()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 20))
