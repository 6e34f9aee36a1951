"""Embedded trend item: values held between samples, one column per pixel keeping every spike,
gaps (and their magenta mark) where quality was bad or history has a hole, the ring buffer wrapping
at its capacity, history put before live values, a hidden screen's time as a gap, and at most two
repaints a second however fast values come."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.history import RawSeries
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.trend_item import (
    REPAINT_PERIOD,
    SAMPLES_PER_S,
    TrendItem,
    TrendItemProps,
)

T0 = 1_700_000_000.0
LEVEL = TagMeta("tank.level", DataType.FLOAT32, "%", ".1f")
SPEED = TagMeta("filler.speed", DataType.FLOAT32, "bpm", ".0f")
W, H = 520, 200


def _item(qtbot: QtBot, **props: object) -> tuple[TrendItem, ItemCanvas]:
    item = TrendItem(TrendItemProps.model_validate({"span": 60, **props}))
    canvas = host_item(item, W, H)
    qtbot.addWidget(canvas)
    item.bind_meta("pen1", LEVEL)
    return item, canvas


def _at(t: float, value: float, quality: Quality = Quality.GOOD) -> TagValue:
    return TagValue(value, quality, T0 + t, T0 + t, "" if quality is Quality.GOOD else "comm")


def _series(ts: np.ndarray, values: np.ndarray) -> RawSeries:
    return RawSeries("tank.level", T0 + ts, values, np.zeros(ts.shape[0], dtype=np.uint8))


def _magenta_columns(canvas: ItemCanvas) -> int:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    pixels = rows.reshape(image.height(), image.width(), 3).astype(np.int16)
    edge = theme.BAD_EDGE
    target = np.array([edge.red(), edge.green(), edge.blue()], dtype=np.int16)
    mask = np.all(np.abs(pixels - target) <= 40, axis=-1)
    return int(mask.any(axis=0).sum())


def test_the_value_is_held_between_samples_up_to_now(qtbot: QtBot) -> None:
    item, _ = _item(qtbot)
    item.apply("pen1", _at(0, 40.0))
    item.apply("pen1", _at(30, 70.0))
    item.tick(T0 + 60)  # no new value for 30 s: 70 still stands
    _centres, low, high, gaps = item.columns("pen1", 60)
    assert np.all(np.isnan(low[:1]) | (low[:1] == 40.0))
    assert np.all(low[1:29] == 40.0) and np.all(high[1:29] == 40.0)
    assert low[30] == 40.0 and high[30] == 70.0  # the step, both ends in its column
    assert np.all(low[31:] == 70.0)
    assert not gaps.any()


def test_a_one_sample_spike_survives_many_samples_per_column(qtbot: QtBot) -> None:
    item, _ = _item(qtbot, span=600)
    values = np.full(6000, 50.0)
    values[3333] = 99.0
    ts = np.arange(6000) / 10
    for t, v in zip(ts, values, strict=True):
        item.apply("pen1", _at(float(t), float(v)))
    _c, low, high, _g = item.columns("pen1", 100)  # 60 samples per column
    assert np.nanmax(high) == 99.0
    assert np.nanmin(low) == 50.0


def test_bad_quality_is_a_gap_with_a_magenta_mark(qtbot: QtBot) -> None:
    item, canvas = _item(qtbot)
    for i in range(600):
        quality = Quality.BAD if 200 <= i < 300 else Quality.GOOD
        item.apply("pen1", _at(i / 10, 50 + math.sin(i / 30), quality))
    _c, low, _high, gaps = item.columns("pen1", 60)
    # seconds 20..30 were bad: their columns draw nothing and are marked
    assert np.all(np.isnan(low[21:29])) and gaps[21:29].all()
    assert not np.isnan(low[35:]).any() and not gaps[35:].any()
    marked = _magenta_columns(canvas)
    item.apply("pen1", _at(60.0, 50.0))
    clean, clean_canvas = _item(qtbot)
    for i in range(600):
        clean.apply("pen1", _at(i / 10, 50 + math.sin(i / 30)))
    assert marked > 20 and _magenta_columns(clean_canvas) == 0


def test_the_ring_buffer_wraps_and_keeps_the_newest_in_order(qtbot: QtBot) -> None:
    item, _ = _item(qtbot, span=10)
    capacity = 10 * SAMPLES_PER_S + 64
    for i in range(1000):
        item.apply("pen1", _at(i / 10, float(i)))
    ts, value, _quality = item.samples("pen1")
    assert len(ts) == capacity
    assert value[-1] == 999.0 and value[0] == 1000 - capacity
    assert np.all(np.diff(ts) > 0)
    _c, low, high, _g = item.columns("pen1", 10)
    assert high[-1] == 999.0 and low[0] == pytest.approx(899.0, abs=2)  # held into the window


def test_history_goes_before_live_values_and_its_holes_are_gaps(qtbot: QtBot) -> None:
    item, _ = _item(qtbot, span=600)
    item.resume(T0 + 500, ("pen1",))
    for i in range(10):
        item.apply("pen1", _at(500 + i, 80.0))
    ts = np.concatenate([np.arange(0, 200, 5.0), np.arange(400, 520, 5.0)])  # no data 200..400
    item.backfill("pen1", _series(ts, np.full(ts.shape[0], 30.0)), max_gap=60)
    times, values, _q = item.samples("pen1")
    assert np.all(np.diff(times) >= 0)
    assert values[-1] == 80.0
    assert not np.any(times[~np.isnan(values) & (values == 30.0)] >= T0 + 500)  # live wins
    item.tick(T0 + 510)
    centres, low, _high, gaps = item.columns("pen1", 600)  # 1 s columns from T0-90
    hole = (centres > T0 + 260) & (centres < T0 + 398)
    assert np.all(np.isnan(low[hole])) and gaps[hole].all()
    filled = (centres > T0 + 410) & (centres < T0 + 495)
    assert np.all(low[filled] == 30.0)


def test_a_hidden_screen_is_a_gap_not_a_flat_line(qtbot: QtBot) -> None:
    item, _ = _item(qtbot)
    item.apply("pen1", _at(0, 40.0))
    item.pause(T0 + 10)
    item.resume(T0 + 40)
    item.apply("pen1", _at(5, 40.0))  # the bus's current value, received before the hiding
    item.tick(T0 + 60)
    centres, low, _high, _gaps = item.columns("pen1", 60)
    assert np.all(np.isnan(low[(centres > T0 + 11) & (centres < T0 + 39)]))
    assert np.all(low[centres > T0 + 41] == 40.0)


def test_fed_at_10_hz_it_repaints_at_most_twice_a_second(qtbot: QtBot) -> None:
    item, canvas = _item(qtbot)
    item.bind_meta("pen2", SPEED)
    canvas.show()
    before = item.repaint_requests
    for i in range(100):  # ten seconds of values changing at 10 Hz, with the screen's clock
        t = i / 10
        item.apply("pen1", _at(t, 50 + i % 7))
        item.apply("pen2", _at(t, 200.0 + i))
        if i % 5 == 0:
            item.tick(T0 + t)
    assert item.repaint_requests - before <= 10 / REPAINT_PERIOD + 2
    item.apply("pen1", _at(10.01, 50.0, Quality.BAD))  # but a change of quality shows at once
    assert item.repaint_requests - before <= 10 / REPAINT_PERIOD + 3
    assert item.worst_quality() is Quality.BAD


def test_legend_shows_each_pen_with_its_units_and_colour(qtbot: QtBot) -> None:
    item, canvas = _item(qtbot, labels=["Level"], colours=["#1f5fa8", "#2e7d4f"], title="Tank")
    item.bind_meta("pen2", SPEED)
    item.apply("pen1", _at(0, 62.5))
    item.apply("pen2", _at(0, 240.0))
    assert item.pen_label("pen1") == "Level" and item.pen_label("pen2") == "filler.speed"
    assert item.pen_colour("pen2").name() == "#2e7d4f"
    assert item.shown("pen1").text == "62.5"
    assert not canvas.grab().toImage().isNull()


def test_props_are_checked() -> None:
    with pytest.raises(ValueError, match="y_min 5 must be below y_max 1"):
        TrendItemProps(y_min=5, y_max=1)
    with pytest.raises(ValueError, match="is not a colour"):
        TrendItemProps(colours=["red"])
    with pytest.raises(ValueError, match="at most 4 colours"):
        TrendItemProps(colours=["#000000"] * 5)


def test_the_canvas_hands_a_right_click_to_its_handler_with_the_item(qtbot: QtBot) -> None:
    item, canvas = _item(qtbot)
    item.click_handler = lambda: None  # takes the focus like a clickable trend on a screen
    offered: list[tuple[object, QPoint]] = []
    canvas.context_menu_handler = lambda hit, where: offered.append((hit, where))
    centre = item.geometry().center()
    for reason, pos in (
        (QContextMenuEvent.Reason.Mouse, centre),
        (QContextMenuEvent.Reason.Keyboard, QPoint(0, 0)),  # the menu key: the focused item
    ):
        if reason is QContextMenuEvent.Reason.Keyboard:
            canvas.set_focus_item(item)
        QApplication.sendEvent(canvas, QContextMenuEvent(reason, pos, canvas.mapToGlobal(pos)))
    assert [hit for hit, _where in offered] == [item, item]
    assert offered[0][1] == canvas.mapToGlobal(centre)
    unbound = TrendItem(TrendItemProps())
    empty = host_item(unbound, W, H)
    qtbot.addWidget(empty)
    empty.context_menu_handler = lambda hit, where: offered.append((hit, where))
    QApplication.sendEvent(
        empty, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, empty.mapToGlobal(centre))
    )
    assert len(offered) == 2  # nothing bound there: no menu
