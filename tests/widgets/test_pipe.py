"""A pipe segment is dark grey with direction chevrons while its flow tag says it flows, light
grey when idle, shows each quality its own way and repaints only when that changes."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from tests.support.items import click_item
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.pipe import LOOKS, Pipe, PipeProps, is_flowing
from widgets.registry import widget_class

FLOW = TagMeta("line1.feed.flow", DataType.FLOAT32, "m³/h", ".1f")
VALVE_OPEN = TagMeta("line1.feed.open", DataType.BOOL)
REASON = "comm failure: timeout after 1000 ms"


def _value(value: Any, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now - 30, now, "" if quality is Quality.GOOD else REASON)


def _pipe(qtbot: QtBot, size: tuple[int, int] = (200, 24), **props: Any) -> Pipe:
    widget = Pipe(PipeProps.model_validate(props))
    qtbot.addWidget(host_item(widget, *size))
    return widget


def _grab(widget: Pipe) -> QImage:
    canvas = widget.popup_parent()
    assert canvas is not None
    return canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _pixels(image: QImage) -> np.ndarray:
    count = image.width() * image.height()
    flat = np.frombuffer(image.constBits(), dtype=np.uint32, count=count)
    return flat.reshape(image.height(), image.width())


def _count(image: QImage, colour: QColor) -> int:
    return int(np.count_nonzero(_pixels(image) == np.uint32(colour.rgb())))


@pytest.mark.parametrize(
    ("value", "flowing"),
    [
        *((True, True), (False, False), (12.5, True), (1, True), (0, False), (0.0, False)),
        *((-3.0, False), ("OPEN", False), (None, False)),
    ],
)
def test_what_counts_as_flowing(value: Any, flowing: bool) -> None:
    assert is_flowing(value) is flowing


def test_flowing_is_dark_with_chevrons_and_idle_is_light(qtbot: QtBot) -> None:
    widget = _pipe(qtbot, ends="arrow")
    widget.bind_meta("flow", FLOW)
    widget.apply("flow", _value(12.5))
    assert widget.display_state() == ("flowing", Quality.GOOD, "")
    flowing = _grab(widget)
    widget.apply("flow", _value(0.0))
    assert widget.display_state() == ("idle", Quality.GOOD, "")
    idle = _grab(widget)
    fill, _, chevron = LOOKS["flowing"]
    idle_fill = LOOKS["idle"][0]
    assert _count(flowing, fill) > 1000
    assert _count(flowing, chevron) > 20  # the chevrons
    assert _count(flowing, idle_fill) < 5  # an antialiased edge pixel at most
    assert _count(idle, idle_fill) > 1000
    assert _count(idle, fill) == 0
    assert _count(idle, chevron) == 0


def test_a_bool_tag_drives_the_pipe_too(qtbot: QtBot) -> None:
    widget = _pipe(qtbot)
    widget.bind_meta("flow", VALVE_OPEN)
    widget.apply("flow", _value(True))
    assert widget.look()[0] == "flowing"
    widget.apply("flow", _value(False))
    assert widget.look()[0] == "idle"


def test_chevrons_point_the_way_of_the_flow(qtbot: QtBot) -> None:
    images = {}
    for direction in ("forward", "reverse"):
        widget = _pipe(qtbot, direction=direction, ends="arrow")
        widget.bind_meta("flow", FLOW)
        widget.apply("flow", _value(3.0))
        images[direction] = _grab(widget)
    forward, reverse = _pixels(images["forward"]), _pixels(images["reverse"])
    assert not np.array_equal(forward, reverse)
    mirrored = (forward[:, ::-1] & 0xFF).astype(int)  # grey: the blue channel says it all
    assert np.abs(mirrored - (reverse & 0xFF).astype(int)).max() < 40  # antialiasing differs
    # the arrow head is at the downstream end: the rightmost pipe colour is at the right
    dark = np.uint32(LOOKS["flowing"][0].rgb())
    columns = np.nonzero((forward == dark).any(axis=0))[0]
    assert columns.max() > forward.shape[1] - 12
    head_rows = np.count_nonzero(forward[:, columns.max() - 12] == dark)
    body_rows = np.count_nonzero(forward[:, forward.shape[1] // 2] == dark)
    assert head_rows > body_rows  # the head is wider than the pipe


def test_a_vertical_pipe_runs_down_the_widget(qtbot: QtBot) -> None:
    widget = _pipe(qtbot, (24, 160), orientation="vertical", thickness=10)
    widget.bind_meta("flow", FLOW)
    widget.apply("flow", _value(1.0))
    pixels = _pixels(_grab(widget))
    ys, xs = np.nonzero(pixels == np.uint32(LOOKS["flowing"][0].rgb()))
    assert ys.max() - ys.min() > 140
    assert xs.max() - xs.min() <= 10


@pytest.mark.parametrize("joins", ["left-top", "left-bottom", "right-top", "right-bottom"])
def test_an_elbow_joins_the_middles_of_its_two_sides(qtbot: QtBot, joins: str) -> None:
    widget = _pipe(qtbot, (80, 70), orientation="elbow", joins=joins, ends="arrow")
    widget.bind_meta("flow", FLOW)
    widget.apply("flow", _value(True))
    dark = _pixels(_grab(widget)) == np.uint32(LOOKS["flowing"][0].rgb())
    near = {"left": dark[30:40, 2:6], "right": dark[30:40, 74:78]}
    near |= {"top": dark[2:6, 35:45], "bottom": dark[64:68, 35:45]}
    first, second = joins.split("-")
    for side, pixels in near.items():
        assert bool(pixels.any()) is (side in (first, second)), f"{joins}: {side}"
    away_cols = slice(60, 78) if first == "left" else slice(2, 20)
    away_rows = slice(50, 68) if second == "top" else slice(2, 20)
    assert not dark[away_rows, away_cols].any()  # the corner the elbow turns away from


def test_each_quality_looks_different_and_says_why(qtbot: QtBot) -> None:
    widget = _pipe(qtbot)
    widget.bind_meta("flow", FLOW)
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        widget.apply("flow", _value(5.0, quality))
        images[quality] = _grab(widget)
        tooltip = widget.tooltip_text()
        assert FLOW.name in tooltip
        assert (REASON in tooltip) is (quality is not Quality.GOOD)
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    assert _count(images[Quality.BAD], theme.BAD_EDGE) > 100
    assert _count(images[Quality.BAD], LOOKS["flowing"][0]) == 0  # not shown as flowing
    assert _count(images[Quality.STALE], LOOKS["stale"][0]) > 500
    assert _count(images[Quality.UNCERTAIN], LOOKS["flowing"][0]) > 500  # look kept
    assert _count(images[Quality.UNCERTAIN], theme.UNCERTAIN_EDGE) > 50  # dotted edge and "?"


def test_unbound_is_an_idle_pipe_and_no_value_yet_is_bad(qtbot: QtBot) -> None:
    widget = _pipe(qtbot)
    assert widget.display_state() == ("idle", Quality.GOOD, "")
    widget.bind_meta("flow", FLOW)
    assert widget.display_state() == ("bad", Quality.BAD, "no value yet")


def test_repaints_only_when_the_look_changes(qtbot: QtBot) -> None:
    widget = _pipe(qtbot)
    widget.bind_meta("flow", FLOW)
    widget.apply("flow", _value(1.0))
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    qtbot.wait(20)
    requests, painted = widget.repaint_requests, canvas.items_painted
    for rate in (2.0, 7.5, 12.25, 0.1) * 5:  # the rate changes, the pipe still flows
        widget.apply("flow", _value(rate))
    qtbot.wait(20)
    assert (widget.repaint_requests, canvas.items_painted) == (requests, painted)
    widget.apply("flow", _value(0.0))
    assert widget.repaint_requests == requests + 1
    qtbot.waitUntil(lambda: canvas.items_painted > painted)


def test_the_pipe_follows_the_screen_scale(qtbot: QtBot) -> None:
    widget = Pipe(PipeProps(thickness=10))
    canvas = host_item(widget, 200, 24)
    qtbot.addWidget(canvas)
    canvas.show()
    widget.bind_meta("flow", FLOW)
    widget.apply("flow", _value(1.0))

    def thickness() -> int:
        pixels = _pixels(canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32))
        column = pixels[:, pixels.shape[1] // 2]
        return int(np.count_nonzero(column != np.uint32(theme.SCREEN_BG.rgb())))

    at_one = thickness()
    canvas.resize(300, 36)
    assert widget.scale == pytest.approx(1.5)
    assert thickness() == pytest.approx(at_one * 1.5, abs=2)


def test_a_pipe_does_not_take_clicks(qtbot: QtBot) -> None:
    widget = _pipe(qtbot)
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    assert canvas.item_at(widget.geometry().center()) is None
    before = _grab(widget)
    click_item(qtbot, widget)
    assert _grab(widget) == before


def test_registered_under_pipe() -> None:
    assert widget_class("pipe") is Pipe
    example = Pipe.EXAMPLE
    assert example is not None
    PipeProps.model_validate(example.props)
    assert set(example.values) == set(Pipe.BINDABLE)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"orientation": "diagonal"}, "Input should be 'horizontal', 'vertical' or 'elbow'"),
        ({"direction": "left"}, "Input should be 'forward' or 'reverse'"),
        ({"thickness": 2}, "greater than or equal to 4"),
        ({"thickness": 200}, "less than or equal to 80"),
        ({"ends": "flange"}, "Input should be 'none' or 'arrow'"),
        ({"orientation": "elbow"}, "an elbow needs 'joins': one of left-top, left-bottom"),
        ({"joins": "left-top"}, "'joins' is for orientation 'elbow'; a horizontal pipe"),
        ({"orientation": "elbow", "joins": "left-right"}, "Input should be 'left-top'"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_props_are_refused_with_a_clear_message(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PipeProps.model_validate(props)
