"""Bar chart: bars follow the array's values, labels name the hours, the target line sits at its
value, a shift's 8 of 24 hours are shown (a 9th with counts still is), qualities look distinct,
and only a change of what is shown repaints."""

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
from widgets.bar_chart import BAR, BAR_STALE, TARGET, BarChart, BarChartProps, nice_ceiling
from widgets.canvas import ItemCanvas, host_item
from widgets.quality_look import BAD_PLACEHOLDER

META = TagMeta("line1.production.hourly_good", DataType.UINT32, display_format="d", array_length=24)
W, H = 480, 220
SHIFT = (17450, 17980, 16210, 9020, 17760, 4310) + (0,) * 18


def _chart(qtbot: QtBot, **props: object) -> tuple[BarChart, ItemCanvas]:
    chart = BarChart(BarChartProps.model_validate(props))
    canvas = host_item(chart, W, H)
    qtbot.addWidget(canvas)
    chart.bind_meta("value", META)
    return chart, canvas


def _apply(chart: BarChart, values: tuple[int, ...], quality: Quality = Quality.GOOD) -> None:
    now = time.time()
    reason = "" if quality is Quality.GOOD else "comm failure: timeout"
    chart.apply("value", TagValue(values, quality, now - 30, now, reason))


def _pixels(canvas: ItemCanvas) -> np.ndarray:
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(np.int16).copy()


def _mask(pixels: np.ndarray, colour: QColor, tolerance: int = 6) -> np.ndarray:
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return np.asarray(np.all(np.abs(pixels - target) <= tolerance, axis=-1), dtype=bool)


def _bar_heights(canvas: ItemCanvas, chart: BarChart, colour: QColor = BAR) -> list[int]:
    """Pixel height of each bar: the run of bar colour up from the baseline, in the middle
    column of its slot."""
    plot, _strip, _caption = chart._areas()
    count = len(chart.chart().heights)
    slot = plot.width() / count
    mask = _mask(_pixels(canvas), colour)
    heights = []
    for i in range(count):
        column = mask[: int(plot.bottom()), round(plot.left() + (i + 0.5) * slot)]
        run = 0
        while run < len(column) and column[len(column) - 1 - run]:
            run += 1
        heights.append(run)
    return heights


def test_bars_follow_the_values(qtbot: QtBot) -> None:
    chart, canvas = _chart(qtbot, label="Good per hour", bars=8)
    _apply(chart, SHIFT)
    heights = _bar_heights(canvas, chart)
    assert len(heights) == 8
    assert heights[6] == heights[7] == 0  # hours not reached yet: no bar, but a "0" over it
    assert chart.chart().texts[:8] == ("17450", "17980", "16210", "9020", "17760", "4310", "0", "0")
    for i in range(6):  # proportional to the count, to a pixel or two
        assert heights[i] == pytest.approx(heights[1] * SHIFT[i] / SHIFT[1], abs=2)
    assert heights[1] > 100  # the tallest bar uses most of the plot
    # the third hour's count grows: only its bar grows
    _apply(chart, (17450, 17980, 17900, 9020, 17760, 4310) + (0,) * 18)
    again = _bar_heights(canvas, chart)
    assert again[2] > heights[2] + 10
    assert again[:2] == heights[:2] and again[3:] == heights[3:]


def test_the_scale_top_is_a_round_number_above_values_and_target(qtbot: QtBot) -> None:
    assert [nice_ceiling(v) for v in (0, 0.7, 3, 17980, 18000, 21000, 250)] == [
        1.0,
        1.0,
        5.0,
        20000.0,
        20000.0,
        25000.0,
        250.0,
    ]
    chart, _ = _chart(qtbot, target=18000)
    _apply(chart, (100, 200) + (0,) * 22)
    assert chart.chart().top == 20000  # the target sets the scale before counts reach it
    _apply(chart, (100, 26000) + (0,) * 22)
    assert chart.chart().top == 50000


def test_the_target_line_is_drawn_at_its_value(qtbot: QtBot) -> None:
    chart, canvas = _chart(qtbot, bars=8, target=15000, max=20000)
    _apply(chart, (20000, 10000) + (0,) * 22)
    plot, _strip, _caption = chart._areas()
    mask = _mask(_pixels(canvas), TARGET, 10)
    # dashes across the plot: the row with most target-coloured pixels inside the plot area
    inside = mask[:, round(plot.left()) : round(plot.right())]
    rows = inside.sum(axis=1)
    line_y = int(np.argmax(rows))
    assert rows[line_y] > plot.width() * 0.3
    half = _bar_heights(canvas, chart)[1]  # 10000, half the scale
    assert plot.bottom() - line_y == pytest.approx(half * 1.5, abs=3)
    assert "target 15000" in chart.tooltip_text()


def test_hour_labels_and_the_bars_of_a_shift(qtbot: QtBot) -> None:
    chart, _ = _chart(qtbot, start_hour=22, bars=8)
    _apply(chart, (5,) * 8 + (0,) * 16)
    assert len(chart.values()) == 8  # 8 of the 24 hours: the shift's
    assert chart.bar_labels(8) == ["22", "23", "00", "01", "02", "03", "04", "05"]
    _apply(chart, (5,) * 9 + (0,) * 15)  # a 9 h night (DST): its last hour is not hidden
    assert len(chart.values()) == 9
    every, _ = _chart(qtbot)
    _apply(every, SHIFT)
    assert len(every.values()) == 24 and every.bar_labels(3) == ["1", "2", "3"]
    named, _ = _chart(qtbot, labels=["early", "late", "night"])
    _apply(named, (1, 2, 3))
    assert named.bar_labels(3) == ["early", "late", "night"]
    two, _ = _chart(qtbot, start_hour=6, hour_step=2)
    assert two.bar_labels(3) == ["06", "08", "10"]


def test_narrow_bars_show_short_values_and_the_tooltip_the_exact_ones(qtbot: QtBot) -> None:
    chart, canvas = _chart(qtbot, format=",d")
    _apply(chart, tuple(range(500, 24 * 900, 900)))  # 24 bars in 480 px: 19.5 px each
    canvas.grab()  # lay out at the canvas' scale
    texts = chart.chart().texts
    assert texts[1] == "1,400" and texts[-1] == "21,200"
    fitted = [chart._fit(text, 18.5)[1] for text in texts]
    assert fitted[0] == "500" and fitted[1] in ("1.4k", "1k") and fitted[-1] == "21k"
    assert all(fitted), fitted  # every bar keeps a value, if a short one
    tip = chart.tooltip_text()
    assert "total 260,400" in tip and "highest 21,200" in tip


def test_each_quality_looks_different(qtbot: QtBot) -> None:
    chart, canvas = _chart(qtbot, label="Good per hour", bars=8, target=18000)
    looks: dict[Quality, QImage] = {}
    for quality in Quality:
        _apply(chart, SHIFT, quality)
        looks[quality] = canvas.grab().toImage()
        pixels = _pixels(canvas)
        bars, stale_bars = _mask(pixels, BAR).sum(), _mask(pixels, BAR_STALE).sum()
        if quality is Quality.BAD:
            assert bars < 300 and stale_bars < 300  # no bars from an unknown array ...
            assert chart.values() == []
            assert _mask(pixels, theme.BAD_EDGE, 30).sum() > 500  # ... a magenta hatched frame
        elif quality is Quality.STALE:
            assert stale_bars > 2000 and bars < 300  # last known counts, greyed (text edges aside)
        else:
            assert bars > 2000
        if quality is Quality.UNCERTAIN:
            assert _mask(pixels, theme.UNCERTAIN_EDGE, 10).sum() > 100
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert looks[a] != looks[b], f"{a.name} and {b.name} look the same"
    _apply(chart, SHIFT, Quality.BAD)
    assert BAD_PLACEHOLDER == "####"
    assert "comm failure: timeout" in chart.tooltip_text()


def test_only_a_change_of_what_is_shown_repaints(qtbot: QtBot) -> None:
    chart, canvas = _chart(qtbot, bars=8)
    canvas.show()
    _apply(chart, SHIFT)
    before = chart.repaint_requests
    for _ in range(20):
        _apply(chart, SHIFT)  # new timestamps, same counts
    assert chart.repaint_requests == before
    _apply(chart, (17451, *SHIFT[1:]))
    assert chart.repaint_requests == before + 1


def test_bad_props_are_refused() -> None:
    with pytest.raises(ValidationError, match="labels or start_hour"):
        BarChartProps.model_validate({"labels": ["a"], "start_hour": 6})
    with pytest.raises(ValidationError, match="does not fit a number"):
        BarChartProps.model_validate({"format": "%Y"})
    with pytest.raises(ValidationError, match="above max"):
        BarChartProps.model_validate({"target": 200, "max": 100})
    with pytest.raises(ValidationError):
        BarChartProps.model_validate({"start_hour": 24})
    with pytest.raises(ValidationError):
        BarChartProps.model_validate({"colour": "red"})  # unknown keys are errors
