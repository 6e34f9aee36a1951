"""What the trend view looks like with eight pens at 1280x800 and 1920x1080: everything fits
(toolbar, legend rows, eight y axes) and the picture holds curves. Set TREND_LOOK_DIR to keep the
pictures for a human look."""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

import pytest
import qasync
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.tagsource import TagMeta
from hmi_app.runtime.historian import Historian
from screens.memory_source import MemoryTagSource
from tests.support.waiting import wait_until
from tests.widgets_trends.known import METAS, make_history
from widgets.trends.spec import PenSpec, TrendSpec
from widgets.trends.view import TrendView

EXTRA = [
    TagMeta(f"plant.speed{i}", DataType.FLOAT32, units, ".0f")
    for i, units in enumerate(["bpm", "bpm", "rpm", "bar", "kW"])
]
SPEC = TrendSpec(
    "Bottling line overview",
    (
        PenSpec("plant.flow", "Filler flow"),
        PenSpec("plant.level", "Tank level", y_min=0, y_max=100),
        PenSpec("plant.temp", "Product temperature"),
        PenSpec("plant.speed0", "Filler speed"),
        PenSpec("plant.speed1", "Capper speed"),
        PenSpec("plant.speed2", "Conveyor drive"),
        PenSpec("plant.speed3", "Air pressure"),
        PenSpec("plant.speed4", "Power"),
    ),
)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_eight_pens_fit_and_draw_at_both_screen_sizes(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path, size: tuple[int, int]
) -> None:
    end = math.floor(time.time())
    stored = make_history(end)

    async def scenario() -> None:
        historian = await Historian.open(tmp_path / "h.sqlite")
        try:
            rows = [r for s in stored for r in s.rows()]
            for i, meta in enumerate(EXTRA):
                base = stored[0]
                rows += [
                    (meta.name, t, 100 * (i + 1) + 10 * math.sin(t / (900 * (i + 1))), 0)
                    for t in base.ts[-4000:].tolist()
                ]
            await historian.insert(rows)
            source = MemoryTagSource(METAS + EXTRA)
            view = TrendView(SPEC, source, historian)
            qtbot.addWidget(view)
            view.resize(*size)
            view.show()
            try:
                view.set_preset("24 h")
                await asyncio.sleep(0.05)
                await wait_until(lambda: view.up_to_date, 10, "drawn")
                start, stop = view.visible_range()
                view.plot.show_cursor(start + (stop - start) * 0.6)
                await asyncio.sleep(0.3)
                image = view.grab().toImage()
                keep = os.environ.get("TREND_LOOK_DIR")
                if keep:
                    image.save(str(Path(keep) / f"trend_{size[0]}x{size[1]}.png"))
                assert (image.width(), image.height()) == size
                legend = view.legend
                assert legend.sizeHint().height() <= legend.height(), "legend rows cut off"
                assert view.toolbar.minimumSizeHint().width() <= view.width()
                for row in legend.rows:
                    assert row.value.text() not in ("", "no data")
                assert len(view.plot.axes) == 7  # the two bpm pens share one axis
                assert view.plot.main_view.width() > size[0] * 0.4, "the plot keeps its room"
                assert _colours(image) > 20
            finally:
                view.close_view()
        finally:
            await historian.close()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 30))


def _colours(image: QImage) -> int:
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
    )
