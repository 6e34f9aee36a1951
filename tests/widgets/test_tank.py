"""Tank: the vessel fills to the level, limit marks sit at its side (coloured only on request),
qualities look different, the vessel is drawn once per size and scale, noise costs no repaint."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.tank import Tank, TankProps

META = TagMeta("tank1.level", DataType.FLOAT32, "%", ".1f")
W, H = 140, 220


def _tank(qtbot: QtBot, **props: object) -> tuple[Tank, ItemCanvas]:
    tank = Tank(TankProps.model_validate({"label": "T-101", **props}))
    canvas = host_item(tank, W, H)
    qtbot.addWidget(canvas)
    tank.bind_meta("value", META)
    return tank, canvas


def _value(value: float, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _pixels(canvas: ItemCanvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(np.int16).copy()


def _mask(pixels: np.ndarray, colour: QColor, tolerance: int = 6) -> np.ndarray:
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return np.asarray(np.all(np.abs(pixels - target) <= tolerance, axis=-1), dtype=bool)


def test_the_vessel_fills_to_the_level(qtbot: QtBot) -> None:
    tank, canvas = _tank(qtbot)
    filled: dict[float, int] = {}
    tops: dict[float, int] = {}
    for value in (0.0, 20.0, 50.0, 80.0, 100.0):
        tank.apply("value", _value(value))
        mask = _mask(_pixels(canvas), theme.LEVEL_FILL)
        filled[value] = int(mask.sum())
        rows = np.nonzero(mask.any(axis=1))[0]
        tops[value] = int(rows.min()) if len(rows) else H
    assert filled[0.0] == 0
    assert filled[20.0] < filled[50.0] < filled[80.0] < filled[100.0]
    # the liquid's surface rises in step with the level (the straight shell is linear)
    vessel = tank.vessel_rect()
    for value in (50.0, 80.0):
        expected = vessel.bottom() - vessel.height() * value / 100
        assert tops[value] == pytest.approx(expected, abs=3)
    assert tank.value_text() == "100.0 %"


def test_limit_marks_sit_at_the_side_in_grey_unless_alarm_colours(qtbot: QtBot) -> None:
    plain, plain_canvas = _tank(qtbot)
    marked, marked_canvas = _tank(qtbot, lolo=5, lo=15, hi=85, hihi=95)
    for tank in (plain, marked):
        tank.apply("value", _value(97.0))
    side = int(marked.vessel_rect().right()) + 2
    dark_plain = _mask(_pixels(plain_canvas)[:, side:], theme.TEXT, 30).sum()
    dark_marked = _mask(_pixels(marked_canvas)[:, side:], theme.TEXT, 30).sum()
    assert dark_marked > dark_plain + 4 * 15  # four triangles with their names
    assert not _mask(_pixels(marked_canvas), theme.ALARM_FILL, 30).any()

    coloured, canvas = _tank(qtbot, lo=15, hi=85, hihi=95, alarm_colours=True)
    coloured.apply("value", _value(97.0))
    assert _mask(_pixels(canvas), theme.ALARM_FILL, 30).sum() > 10
    coloured.apply("value", _value(88.0))
    pixels = _pixels(canvas)
    assert _mask(pixels, theme.WARNING_FILL, 30).sum() > 10
    assert not _mask(pixels, theme.ALARM_FILL, 30).any()
    coloured.apply("value", _value(50.0))
    assert not _mask(_pixels(canvas), theme.WARNING_FILL, 30).any()


def test_each_quality_looks_different(qtbot: QtBot) -> None:
    tank, canvas = _tank(qtbot, hi=85)
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        tank.apply("value", _value(58.0, quality))
        images[quality] = canvas.grab().toImage()
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    assert tank.value_text() == "####"
    assert not _mask(_pixels(canvas), theme.LEVEL_FILL).any()  # BAD: no level shown
    tank.apply("value", _value(58.0, Quality.STALE))
    pixels = _pixels(canvas)
    assert not _mask(pixels, theme.LEVEL_FILL).any()
    assert _mask(pixels, theme.TEXT_STALE, 2).sum() > 1000  # the liquid turns grey


def test_the_vessel_is_drawn_once_per_size_and_scale(qtbot: QtBot) -> None:
    tank, canvas = _tank(qtbot, hi=85)
    for value in (10.0, 40.0, 70.0):
        tank.apply("value", _value(value))
        canvas.grab()
    assert tank.vessels_drawn == 1
    canvas.show()
    canvas.resize(round(W * 1.5), round(H * 1.5))
    assert tank.scale == pytest.approx(1.5)
    canvas.grab()
    assert tank.vessels_drawn == 2


def test_noise_does_not_repaint(qtbot: QtBot) -> None:
    tank, _ = _tank(qtbot)
    tank.apply("value", _value(40.0))
    before = tank.repaint_requests
    for i in range(30):
        tank.apply("value", _value(40.0 + (i % 4) * 0.01))
    assert tank.repaint_requests == before
    tank.apply("value", _value(45.0))
    assert tank.repaint_requests == before + 1


def test_the_span_comes_from_props_then_the_tag(qtbot: QtBot) -> None:
    tank, _ = _tank(qtbot, min=0, max=25)
    tank.apply("value", _value(12.5))
    assert tank.fraction() == pytest.approx(0.5)
    other = Tank(TankProps())
    qtbot.addWidget(host_item(other, W, H))
    other.bind_meta("value", TagMeta("t", DataType.FLOAT32, "hl", max_value=400))
    other.apply("value", _value(100.0))
    assert other.fraction() == pytest.approx(0.25)
