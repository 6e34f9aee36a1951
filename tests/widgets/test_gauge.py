"""Gauge: the needle follows the value, limits show as grey bands (coloured only on request and
only when the value is beyond them), qualities look different, noise costs no repaint and the dial
is drawn once per size and scale."""

from __future__ import annotations

import math
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
from widgets.canvas import ItemCanvas, host_item
from widgets.gauge import BAND_OUTER, NEEDLE, START, SWEEP, Gauge, GaugeProps

META = TagMeta("line.pressure", DataType.FLOAT32, "bar", ".2f")
SIZE = 200


def _gauge(qtbot: QtBot, **props: object) -> tuple[Gauge, ItemCanvas]:
    gauge = Gauge(GaugeProps.model_validate({"min": 0, "max": 10, **props}))
    canvas = host_item(gauge, SIZE, SIZE)
    qtbot.addWidget(canvas)
    gauge.bind_meta("value", META)
    return gauge, canvas


def _value(value: float, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _rgb(canvas: ItemCanvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(np.int16).copy()


def _near(pixel: np.ndarray, colour: QColor, tolerance: int = 40) -> bool:
    return bool(np.all(np.abs(pixel - [colour.red(), colour.green(), colour.blue()]) <= tolerance))


def _polar(gauge: Gauge, fraction: float, radius_share: float) -> tuple[int, int]:
    """Pixel (x, y) at ``fraction`` of the sweep and ``radius_share`` of the dial radius."""
    _, dial = gauge._layout()
    angle = math.radians(START - SWEEP * fraction)
    r = dial.width() / 2 * radius_share
    return round(dial.center().x() + math.cos(angle) * r), round(
        dial.center().y() - math.sin(angle) * r
    )


def test_the_needle_points_at_the_value(qtbot: QtBot) -> None:
    gauge, canvas = _gauge(qtbot)
    for value, other in ((2.0, 8.0), (8.0, 2.0)):
        gauge.apply("value", _value(value))
        pixels = _rgb(canvas)
        x, y = _polar(gauge, value / 10, 0.5)
        ox, oy = _polar(gauge, other / 10, 0.5)
        assert _near(pixels[y, x], NEEDLE), f"no needle at {value}"
        assert not _near(pixels[oy, ox], NEEDLE), f"needle still at {other}"
    assert gauge.value_text() == "8.00 bar"


def test_values_beyond_the_scale_pin_the_needle_at_its_end(qtbot: QtBot) -> None:
    gauge, _ = _gauge(qtbot)
    gauge.apply("value", _value(25.0))
    assert gauge.needle_angle() == START - SWEEP
    gauge.apply("value", _value(-3.0))
    assert gauge.needle_angle() == START
    assert gauge.value_text() == "-3.00 bar"  # the number itself is never clamped


def test_limits_are_grey_bands_and_coloured_only_on_request(qtbot: QtBot) -> None:
    plain, plain_canvas = _gauge(qtbot)
    banded, banded_canvas = _gauge(qtbot, hi=8, hihi=9, alarm_colours=False)
    for gauge in (plain, banded):
        gauge.apply("value", _value(9.5))
    x, y = _polar(banded, 0.95, 0.86 - 0.015)  # inside the arc, in the HH band
    assert _near(_rgb(banded_canvas)[y, x], BAND_OUTER, 12)
    assert not _near(_rgb(plain_canvas)[y, x], BAND_OUTER, 12)
    # grey even with the value in the band: colour needs alarm_colours
    assert not _near(_rgb(banded_canvas)[y, x], theme.ALARM_FILL)

    coloured, canvas = _gauge(qtbot, hi=8, hihi=9, alarm_colours=True)
    coloured.apply("value", _value(9.5))
    assert _near(_rgb(canvas)[y, x], theme.ALARM_FILL, 12)
    coloured.apply("value", _value(8.5))  # in the H band: the HH band turns grey again
    pixels = _rgb(canvas)
    assert _near(pixels[y, x], BAND_OUTER, 12)
    hx, hy = _polar(coloured, 0.85, 0.86 - 0.015)
    assert _near(pixels[hy, hx], theme.WARNING_FILL, 12)
    coloured.apply("value", _value(9.5, Quality.STALE))  # stale data never colours a band
    assert _near(_rgb(canvas)[y, x], BAND_OUTER, 12)


def test_each_quality_looks_different(qtbot: QtBot) -> None:
    gauge, canvas = _gauge(qtbot, hi=8)
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        gauge.apply("value", _value(6.4, quality))
        images[quality] = canvas.grab().toImage()
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    assert gauge.value_text() == "####"
    assert gauge.needle_angle() is None  # no needle for a value nobody can trust
    assert "comm failure" in gauge.tooltip_text()


def test_noise_below_half_a_degree_does_not_repaint(qtbot: QtBot) -> None:
    gauge, canvas = _gauge(qtbot)
    gauge.apply("value", _value(5.0))
    canvas.grab()
    before = gauge.repaint_requests
    for i in range(50):
        gauge.apply("value", _value(5.0 + 0.001 * math.sin(i)))
    assert gauge.repaint_requests == before
    gauge.apply("value", _value(5.5))
    assert gauge.repaint_requests == before + 1


def test_the_dial_is_drawn_once_per_size_and_scale(qtbot: QtBot) -> None:
    gauge, canvas = _gauge(qtbot, hi=8)
    for value in (1.0, 4.0, 7.0):
        gauge.apply("value", _value(value))
        canvas.grab()
    assert gauge.dials_drawn == 1
    canvas.show()  # a hidden widget gets its resize event only when shown
    canvas.resize(round(SIZE * 1.5), round(SIZE * 1.5))
    assert gauge.scale == pytest.approx(1.5)
    image = canvas.grab().toImage()
    assert gauge.dials_drawn == 2
    assert image.width() == round(SIZE * 1.5)


def test_the_scale_falls_back_to_the_tag_limits(qtbot: QtBot) -> None:
    gauge = Gauge(GaugeProps())
    qtbot.addWidget(host_item(gauge, SIZE, SIZE))
    gauge.bind_meta(
        "value", TagMeta("t", DataType.FLOAT32, "°C", ".1f", min_value=-50, max_value=150)
    )
    assert gauge.span() == (-50, 150)
    gauge.apply("value", _value(50.0))
    assert gauge.needle_angle() == START - SWEEP / 2


def test_bad_props_are_refused(qtbot: QtBot) -> None:
    with pytest.raises(ValidationError, match=r"min 10\.0 must be below max 5\.0"):
        GaugeProps(min=10, max=5)
    with pytest.raises(ValidationError, match="lolo <= lo <= hi <= hihi"):
        GaugeProps(hi=90, hihi=80)
    with pytest.raises(ValidationError, match="extra"):
        GaugeProps.model_validate({"colour": "red"})
