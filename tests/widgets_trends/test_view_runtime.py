"""The trend view on the real runtime: the demo project's embedded Modbus plant, its tag bus as
the live TagSource and its historian as the HistorySource. Live values scroll in; once the
historian has committed them, a history range shows the same samples from the store."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import qasync
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.app import FLUSH_MS
from tests.support.waiting import wait_until
from widgets.trends.spec import PenSpec, TrendSpec
from widgets.trends.view import TrendView

SPEC = TrendSpec(
    "Filler",
    (
        PenSpec("line1.filler.level", "Filler bowl level"),
        PenSpec("line1.filler.speed", "Filler speed"),
        PenSpec("line1.filler.temperature", "Product temperature"),
    ),
    span=600,
)


def test_live_trend_of_the_demo_plant_and_its_recorded_history(
    qtbot: QtBot, qloop: qasync.QEventLoop
) -> None:
    project = load_project(demo_project_dir())
    runtime = Runtime(project)

    async def scenario() -> None:
        await runtime.start()
        timer = QTimer()
        timer.setInterval(FLUSH_MS)
        timer.timeout.connect(runtime.bus.flush)
        timer.start()
        view = TrendView(SPEC, runtime.bus, runtime.historian)
        qtbot.addWidget(view)
        view.resize(1280, 800)
        view.show()
        try:
            assert runtime.historian is not None
            assert view.spec.pens[0].units == "%" and view.spec.pens[1].units == "bpm"
            level = view.pens[0]

            def good_samples() -> int:
                _, value, quality = level.ring.arrays()
                return int((np.isfinite(value) & (quality <= 1)).sum())

            await wait_until(lambda: good_samples() >= 4, 20, "live level samples")
            first_end = view.visible_range()[1]
            await asyncio.sleep(0.5)
            assert view.is_live and view.visible_range()[1] > first_end + 0.3
            timer.stop()  # no new values while comparing the buffer with the drawing
            await asyncio.sleep(0.05)
            await wait_until(lambda: view.up_to_date, 5, "redrawn")
            ts, value, quality = level.ring.arrays()
            x, y = view.plot.drawn(0)
            # the bus may start with "waiting for first value" (bad), and a scan pass slowed by
            # a busy machine marks values stale: those are gaps, every other sample is drawn
            good = np.isfinite(value) & (quality <= 1)
            assert good.sum() >= 4
            for t, v, ok in zip(ts.tolist(), value.tolist(), good.tolist(), strict=True):
                at = y[x == t]
                assert (v in at) if ok else np.isnan(at).any()
            assert view.legend.rows[0].value.text() not in ("", "no data")
            timer.start()

            # history mode over what was recorded since the start: the stored samples
            await runtime.historian.flush()
            now = time.time()
            view.set_range(now - 60, now)
            await asyncio.sleep(0.05)
            await wait_until(lambda: view.up_to_date, 10, "history drawn")
            layer = level.history
            assert layer is not None and layer.raw is not None and not layer.error
            stored = await runtime.historian.raw("line1.filler.level", now - 120, now + 60)
            assert len(stored) >= 2
            in_layer = layer.raw.ts
            # the runtime keeps recording: compare up to the newest sample the layer holds
            assert len(in_layer) >= 2
            same = (stored.ts >= layer.start) & (stored.ts <= in_layer[-1])
            np.testing.assert_array_equal(in_layer, stored.ts[same])
            got = view.cursor_values(float(stored.ts[-1]))["line1.filler.level"]
            assert got is not None and got[1] == 0
            assert got[0] == pytest.approx(float(stored.value[-1]), abs=0.5)
        finally:
            view.close_view()
            timer.stop()
            await runtime.stop()
        assert runtime.bus.subscribed_tags() == []

    qloop.run_until_complete(asyncio.wait_for(scenario(), 40))
