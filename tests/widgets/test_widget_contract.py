"""The contract every registered widget keeps, checked on each one the registry finds.

Each widget declares its type key, props model and bindable properties, and an EXAMPLE; from
that alone this test builds it, round-trips its props through YAML (what the designer saves),
feeds it each quality and checks that bad, stale and uncertain look different from good and from
each other, that the tooltip says why, and that unchanged values cost no repaint.
"""

from __future__ import annotations

import io
import time

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from ruamel.yaml import YAML

from hmi_app.core.quality import Quality, TagValue
from widgets.base import HmiWidget, HmiWriter, WidgetExample
from widgets.canvas import ItemCanvas, host_item
from widgets.registry import WIDGET_TYPES

REASON = "comm failure: timeout after 1000 ms"
KEYS = sorted(WIDGET_TYPES)


def _example(key: str) -> WidgetExample:
    example = WIDGET_TYPES[key].EXAMPLE
    assert example is not None, f"{key} declares no EXAMPLE"
    return example


def _build(qtbot: QtBot, key: str, scale: float = 1.0) -> tuple[HmiWidget, ItemCanvas]:
    cls = WIDGET_TYPES[key]
    example = _example(key)
    widget = cls(cls.Props.model_validate(example.props))
    width, height = example.size
    canvas = host_item(widget, width, height)
    canvas.resize(round(width * scale), round(height * scale))
    qtbot.addWidget(canvas)
    if isinstance(widget, HmiWriter):
        widget.set_write_handler(lambda _value: None)
    for prop, (meta, _value) in example.values.items():
        widget.bind_meta(prop, meta)
    return widget, canvas


def _feed(widget: HmiWidget, key: str, quality: Quality, age: float = 30.0) -> None:
    now = time.time()
    reason = "" if quality is Quality.GOOD else REASON
    for prop, (_meta, value) in _example(key).values.items():
        widget.apply(prop, TagValue(value, quality, now - age, now, reason))


def test_every_widget_declares_its_contract() -> None:
    assert len(WIDGET_TYPES) >= 18, sorted(WIDGET_TYPES)
    for key, cls in WIDGET_TYPES.items():
        assert key == cls.TYPE_KEY
        assert cls.__doc__ and cls.Props.__doc__, key
        assert all(isinstance(prop, str) for prop in cls.BINDABLE), key
        example = _example(key)
        assert set(example.values) <= set(cls.BINDABLE), key
        assert all(size > 0 for size in example.size), key


@pytest.mark.parametrize("key", KEYS)
def test_props_survive_a_round_trip_through_yaml(key: str) -> None:
    cls = WIDGET_TYPES[key]
    props = cls.Props.model_validate(_example(key).props)
    yaml = YAML()
    text = io.StringIO()
    yaml.dump(props.model_dump(mode="json"), text)
    again = cls.Props.model_validate(yaml.load(text.getvalue()))
    assert again == props, text.getvalue()


@pytest.mark.parametrize("key", KEYS)
def test_each_quality_looks_different_and_explains_itself(qtbot: QtBot, key: str) -> None:
    widget, canvas = _build(qtbot, key)
    if not _example(key).values:
        assert not canvas.grab().toImage().isNull()  # nothing bound: no quality to show
        return
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        _feed(widget, key, quality)
        images[quality] = canvas.grab().toImage()
        tooltip = widget.tooltip_text()
        if quality is Quality.GOOD:
            assert REASON not in tooltip
        else:
            assert REASON in tooltip, f"{key} {quality.name}: {tooltip!r}"
            assert quality.label.upper() in tooltip
    qualities = list(Quality)
    for i, first in enumerate(qualities):
        for second in qualities[i + 1 :]:
            assert images[first] != images[second], f"{key}: {first.name} = {second.name}"


@pytest.mark.parametrize("key", KEYS)
def test_no_value_yet_is_shown_as_bad(qtbot: QtBot, key: str) -> None:
    widget, _canvas = _build(qtbot, key)
    if _example(key).values:
        assert widget.worst_quality() is Quality.BAD
        assert "no value yet" in widget.tooltip_text()


@pytest.mark.parametrize("key", KEYS)
def test_unchanged_values_cost_no_repaint(qtbot: QtBot, key: str) -> None:
    widget, canvas = _build(qtbot, key)
    _feed(widget, key, Quality.GOOD)
    canvas.show()
    before = widget.repaint_requests
    for age in range(20):
        _feed(widget, key, Quality.GOOD, age=age / 10)  # new timestamps, same values
    assert widget.repaint_requests == before, key


@pytest.mark.parametrize("key", KEYS)
def test_renders_at_other_scales(qtbot: QtBot, key: str) -> None:
    for scale in (0.6, 1.5):
        widget, canvas = _build(qtbot, key, scale)
        _feed(widget, key, Quality.GOOD)
        image = canvas.grab().toImage()
        assert widget.scale == canvas.scale == pytest.approx(scale, abs=0.05)
        assert not image.isNull()
