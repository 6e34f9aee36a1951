"""Sparkline: a bounded window of the last N seconds fed at 10 Hz, redrawn at most about twice a
second, a gap where the value was BAD, spikes kept by the downsampling, qualities distinct."""

from __future__ import annotations

import math

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
from widgets.sparkline import LINE, MAX_BUCKETS, REPAINT_PERIOD, Sparkline, SparklineProps

META = TagMeta("line.flow", DataType.FLOAT32, "m³/h", ".1f")
T0 = 1_700_000_000.0
W, H = 280, 56


def _spark(qtbot: QtBot, **props: object) -> tuple[Sparkline, ItemCanvas]:
    spark = Sparkline(SparklineProps.model_validate(props))
    canvas = host_item(spark, W, H)
    qtbot.addWidget(canvas)
    spark.bind_meta("value", META)
    return spark, canvas


def _at(t: float, value: float, quality: Quality = Quality.GOOD) -> TagValue:
    reason = "" if quality is Quality.GOOD else "comm failure"
    return TagValue(value, quality, T0 + t, T0 + t, reason)


def _feed(spark: Sparkline, seconds: float, start: float = 0.0, **kw: Quality) -> None:
    """10 Hz of a slow sine from ``start`` for ``seconds``."""
    for i in range(round(seconds * 10)):
        t = start + i / 10
        spark.apply("value", _at(t, 60 + 8 * math.sin(t / 6), kw.get("quality", Quality.GOOD)))


def _pixels(canvas: ItemCanvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(np.int16).copy()


def _mask(pixels: np.ndarray, colour: QColor, tolerance: int) -> np.ndarray:
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return np.asarray(np.all(np.abs(pixels - target) <= tolerance, axis=-1), dtype=bool)


def test_the_window_is_bounded_and_covers_the_last_n_seconds(qtbot: QtBot) -> None:
    spark, _ = _spark(qtbot, seconds=60)
    _feed(spark, 600)  # ten minutes at 10 Hz: 6,000 values
    window = spark.window()
    assert len(window) <= MAX_BUCKETS
    oldest = window[0].index * spark.bucket_seconds
    newest = window[-1].index * spark.bucket_seconds
    assert newest - oldest == pytest.approx(60, abs=2 * spark.bucket_seconds)
    assert newest == pytest.approx(T0 + 599.9, abs=spark.bucket_seconds)


def test_downsampling_keeps_a_spike(qtbot: QtBot) -> None:
    spark, _ = _spark(qtbot, seconds=600)  # 2.5 s buckets: 25 values each at 10 Hz
    for i in range(3000):
        value = 500.0 if i == 1234 else 60.0
        spark.apply("value", _at(i / 10, value))
    assert spark.window_range() == (60.0, 500.0)
    assert "max 500.0" in spark.tooltip_text()


def test_fed_at_10_hz_it_repaints_at_most_about_twice_a_second(qtbot: QtBot) -> None:
    spark, _ = _spark(qtbot)
    _feed(spark, 1)
    before = spark.repaint_requests
    _feed(spark, 10, start=1)  # 100 changing values
    assert spark.repaint_requests - before <= 10 / REPAINT_PERIOD + 1
    assert spark.repaint_requests - before >= 10 / REPAINT_PERIOD - 1  # but it does move on
    # a change of quality shows at once, within the same half second
    before = spark.repaint_requests
    spark.apply("value", _at(11.01, 0.0, Quality.BAD))
    assert spark.repaint_requests == before + 1


def test_a_bad_stretch_is_a_gap_in_the_line(qtbot: QtBot) -> None:
    spark, canvas = _spark(qtbot, seconds=60)
    _feed(spark, 20)
    _feed(spark, 10, start=20, quality=Quality.BAD)
    _feed(spark, 30, start=30)
    pixels = _pixels(canvas)
    line_columns = np.asarray(_mask(pixels, LINE, 40).any(axis=0))
    gap_columns = np.asarray(_mask(pixels, theme.BAD_EDGE, 40).any(axis=0))
    gap = np.nonzero(gap_columns)[0]
    assert len(gap) > 20  # the magenta stroke marks ten seconds of a 60 s window
    inner = gap[3:-3]
    assert not line_columns[inner].any(), "the line is drawn across the BAD stretch"
    assert line_columns[: gap[0]].sum() > 40  # line before the gap ...
    assert line_columns[gap[-1] + 1 :].sum() > 80  # ... and after it
    bad = [b for b in spark.window() if b.lo is None]
    assert len(bad) == pytest.approx(10 / spark.bucket_seconds, abs=2)


def test_the_drawing_follows_the_values(qtbot: QtBot) -> None:
    rising, rising_canvas = _spark(qtbot)
    falling, falling_canvas = _spark(qtbot)
    for i in range(300):
        rising.apply("value", _at(i / 10, float(i)))
        falling.apply("value", _at(i / 10, float(300 - i)))
    plot = W - 110  # left of the value column
    a, b = _pixels(rising_canvas)[:, :plot], _pixels(falling_canvas)[:, :plot]
    ys_a = np.nonzero(_mask(a, LINE, 40))
    ys_b = np.nonzero(_mask(b, LINE, 40))
    # rising: the rightmost line pixels are high up; falling: low down
    right_a = ys_a[0][ys_a[1] > ys_a[1].max() - 5].mean()
    right_b = ys_b[0][ys_b[1] > ys_b[1].max() - 5].mean()
    assert right_a < right_b - 20
    assert rising.value_shown().text == "299.0"  # type: ignore[union-attr]


def test_each_quality_looks_different(qtbot: QtBot) -> None:
    spark, canvas = _spark(qtbot, label="Flow")
    _feed(spark, 30)
    images: dict[Quality, QImage] = {}
    for n, quality in enumerate(Quality):
        spark.apply("value", _at(30 + n, 61.0, quality))
        images[quality] = canvas.grab().toImage()
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    assert "BAD" in spark.tooltip_text()


def test_bad_props_are_refused() -> None:
    with pytest.raises(ValidationError, match="seconds"):
        SparklineProps(seconds=0)
    with pytest.raises(ValidationError, match="must be below max"):
        SparklineProps(min=10, max=10)
