"""Bar: the grey fill follows the value in either orientation, limit marks are drawn (in colour
only with alarm_colours and a value beyond them), qualities look different, noise costs no
repaint."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pydantic import ValidationError
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.bar import Bar, BarProps
from widgets.canvas import ItemCanvas, host_item

META = TagMeta("line.flow", DataType.FLOAT32, "m³/h", ".1f")
SIZES = {"horizontal": (260, 72), "vertical": (110, 220)}


def _bar(qtbot: QtBot, **props: object) -> tuple[Bar, ItemCanvas]:
    bar = Bar(BarProps.model_validate({"label": "Flow", "min": 0, "max": 100, **props}))
    canvas = host_item(bar, *SIZES[bar.props.orientation])
    qtbot.addWidget(canvas)
    bar.bind_meta("value", META)
    return bar, canvas


def _value(value: float, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _count(canvas: ItemCanvas, colour: QColor, tolerance: int = 6) -> int:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    pixels = rows.reshape(image.height(), image.width(), 3).astype(np.int16)
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return int(np.all(np.abs(pixels - target) <= tolerance, axis=-1).sum())


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_the_fill_follows_the_value(qtbot: QtBot, orientation: str) -> None:
    bar, canvas = _bar(qtbot, orientation=orientation)
    filled = {}
    for value in (0.0, 25.0, 75.0, 100.0, 140.0):
        bar.apply("value", _value(value))
        filled[value] = _count(canvas, theme.LEVEL_FILL)
    assert filled[0.0] == 0
    assert filled[75.0] == pytest.approx(3 * filled[25.0], rel=0.1)
    assert filled[100.0] == pytest.approx(4 * filled[25.0], rel=0.1)
    assert filled[140.0] == filled[100.0]  # clamped to the bar; the text says 140.0
    assert bar.value_text() == "140.0 m³/h"


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_limit_marks_are_drawn_in_grey_unless_alarm_colours(qtbot: QtBot, orientation: str) -> None:
    plain, plain_canvas = _bar(qtbot, orientation=orientation)
    marked, marked_canvas = _bar(qtbot, orientation=orientation, lolo=5, lo=20, hi=80, hihi=95)
    for bar in (plain, marked):
        bar.apply("value", _value(50.0))
    assert [m.name for m in marked.marks()] == ["HH", "H", "L", "LL"]
    # four triangles and lines in the dark text colour
    assert _count(marked_canvas, theme.TEXT, 30) > _count(plain_canvas, theme.TEXT, 30) + 4 * 20
    marked.apply("value", _value(99.0))  # beyond HH, but alarm_colours is off: still grey
    assert _count(marked_canvas, theme.ALARM_FILL, 30) == 0
    assert _count(marked_canvas, theme.WARNING_FILL, 30) == 0


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_alarm_colours_mark_the_limit_the_value_is_beyond(qtbot: QtBot, orientation: str) -> None:
    bar, canvas = _bar(qtbot, orientation=orientation, lo=20, hi=80, hihi=95, alarm_colours=True)
    bar.apply("value", _value(50.0))
    assert _count(canvas, theme.WARNING_FILL, 30) == 0
    assert _count(canvas, theme.ALARM_FILL, 30) == 0
    bar.apply("value", _value(85.0))
    assert bar.active_marks() == ("hi",)
    assert _count(canvas, theme.WARNING_FILL, 30) > 10
    assert _count(canvas, theme.ALARM_FILL, 30) == 0
    bar.apply("value", _value(96.0))
    assert bar.active_marks() == ("hihi",)
    assert _count(canvas, theme.ALARM_FILL, 30) > 10
    assert _count(canvas, theme.WARNING_FILL, 30) == 0
    bar.apply("value", _value(10.0))
    assert bar.active_marks() == ("lo",)
    bar.apply("value", _value(96.0, Quality.STALE))  # stale data colours nothing
    assert bar.active_marks() == ()
    assert _count(canvas, theme.ALARM_FILL, 30) == 0


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_each_quality_looks_different(qtbot: QtBot, orientation: str) -> None:
    bar, canvas = _bar(qtbot, orientation=orientation, hi=80)
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        bar.apply("value", _value(64.5, quality))
        images[quality] = canvas.grab().toImage()
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    assert bar.value_text() == "####"
    assert _count(canvas, theme.LEVEL_FILL) == 0  # no fill for a value nobody can trust
    bar.apply("value", _value(64.5, Quality.STALE))
    assert _count(canvas, theme.LEVEL_FILL) == 0  # stale: the fill turns grey
    assert _count(canvas, theme.TEXT_STALE, 2) > 100


def test_noise_does_not_repaint(qtbot: QtBot) -> None:
    bar, _ = _bar(qtbot, hi=80)
    bar.apply("value", _value(50.0))
    before = bar.repaint_requests
    for i in range(40):
        bar.apply("value", _value(50.0 + (i % 3) * 0.01))  # below the shown digits and 0.2 %
    assert bar.repaint_requests == before
    bar.apply("value", _value(51.0))
    assert bar.repaint_requests == before + 1


def test_scale_1_5_draws_bigger_with_the_same_marks(qtbot: QtBot) -> None:
    bar, canvas = _bar(qtbot, hi=80)
    bar.apply("value", _value(50.0))
    small = _count(canvas, theme.LEVEL_FILL)
    canvas.show()
    canvas.resize(round(260 * 1.5), round(72 * 1.5))
    assert bar.scale == pytest.approx(1.5)
    assert _count(canvas, theme.LEVEL_FILL) > 1.8 * small


def test_bad_props_are_refused() -> None:
    with pytest.raises(ValidationError, match="orientation"):
        BarProps.model_validate({"orientation": "diagonal"})
    with pytest.raises(ValidationError, match="lolo <= lo <= hi <= hihi"):
        BarProps(lo=50, lolo=60)
