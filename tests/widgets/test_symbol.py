"""The process symbol shows its equipment's state in ISA-101 colours, lets a fault override the
state, shows each quality its own way, repaints only on change and opens a faceplate on click."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from tests.support.items import click_item
from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.registry import widget_class
from widgets.svg_symbols import STATE_COLOURS, symbol_names
from widgets.symbol import SymbolProps, SymbolWidget

RUNNING = TagMeta("line1.feed_pump.running", DataType.BOOL, description="feed pump running")
MODE = TagMeta("line1.feed_pump.mode", DataType.UINT16)
FAULT = TagMeta("line1.feed_pump.fault", DataType.BOOL)
REASON = "comm failure: timeout after 1000 ms"
SIZE = (120, 110)


def _value(value: Any, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now - 30, now, "" if quality is Quality.GOOD else REASON)


def _symbol(qtbot: QtBot, size: tuple[int, int] = SIZE, **props: Any) -> SymbolWidget:
    widget = SymbolWidget(SymbolProps.model_validate(props))
    qtbot.addWidget(host_item(widget, *size))
    return widget


def _grab(widget: SymbolWidget) -> QImage:
    canvas = widget.popup_parent()
    assert canvas is not None
    return canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def _count(image: QImage, colour: QColor | str) -> int:
    """Pixels of exactly ``colour`` in ``image`` (RGB32)."""
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return int(np.count_nonzero(pixels == np.uint32(QColor(colour).rgb())))


# ---- every symbol in every state -----------------------------------------------------------
@pytest.mark.parametrize("name", symbol_names())
def test_every_symbol_shows_running_stopped_and_alarm_in_their_colours(
    qtbot: QtBot, name: str
) -> None:
    widget = _symbol(qtbot, symbol=name, label=f"{name} 1")
    widget.bind_meta("value", RUNNING)
    widget.bind_meta("fault", FAULT)
    images: dict[str, QImage] = {}
    for style, running, fault in (
        ("running", True, False),
        ("stopped", False, False),
        ("alarm", True, True),
    ):
        widget.apply("value", _value(running))
        widget.apply("fault", _value(fault))
        assert widget.display_state()[0] == style
        images[style] = _grab(widget)
        assert _count(images[style], STATE_COLOURS[style].fill) >= 20, f"{name} {style}"
    assert images["running"] != images["stopped"] != images["alarm"] != images["running"]
    assert _count(images["running"], theme.ALARM_FILL) == 0
    assert _count(images["stopped"], theme.ALARM_FILL) == 0


def test_state_text_follows_the_states_list(qtbot: QtBot) -> None:
    widget = _symbol(
        qtbot,
        symbol="motor",
        states=[
            {"value": 0, "text": "STOPPED", "style": "stopped"},
            {"value": 1, "text": "RUNNING", "style": "running"},
            {"value": 2, "text": "STARVED", "style": "warning"},
            {"value": 3, "text": "TRIPPED", "style": "alarm"},
        ],
    )
    widget.bind_meta("value", MODE)
    for value, style, text in (
        (0, "stopped", "STOPPED"),
        (1, "running", "RUNNING"),
        (2, "warning", "STARVED"),
        (3, "alarm", "TRIPPED"),
    ):
        widget.apply("value", _value(value))
        assert widget.display_state() == (style, text, Quality.GOOD, "")
        image = _grab(widget)
        assert _count(image, STATE_COLOURS[style].fill) > 0
    warning = _grab_state(widget, 2)
    assert _count(warning, theme.WARNING_FILL) > _count(warning, theme.ALARM_FILL)


def _grab_state(widget: SymbolWidget, value: Any) -> QImage:
    widget.apply("value", _value(value))
    return _grab(widget)


def test_an_unknown_value_shows_question_mark_and_value_in_the_unknown_look(
    qtbot: QtBot,
) -> None:
    widget = _symbol(qtbot, symbol="pump")
    widget.bind_meta("value", MODE)
    widget.apply("value", _value(7))
    assert widget.display_state() == ("unknown", "? 7", Quality.GOOD, "")
    image = _grab(widget)
    assert _count(image, STATE_COLOURS["unknown"].line) > 20
    assert "? 7" in widget.tooltip_text()


def test_a_fault_overrides_the_value(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="pump", label="P-101 Feed pump", fault_text="TRIPPED")
    widget.bind_meta("value", RUNNING)
    widget.bind_meta("fault", FAULT)
    for running in (True, False):
        widget.apply("value", _value(running))
        widget.apply("fault", _value(True))
        assert widget.display_state() == ("alarm", "TRIPPED", Quality.GOOD, "")
        assert _count(_grab(widget), theme.ALARM_FILL) > 20
    widget.apply("value", _value(True, Quality.STALE))  # the fault is fresh: it still shows
    assert widget.display_state()[:3] == ("alarm", "TRIPPED", Quality.STALE)
    widget.apply("value", _value(True))
    widget.apply("fault", _value(False))
    assert widget.display_state()[:2] == ("running", "RUNNING")
    # a lost fault tag does not hide the known running state, but the frame says BAD
    widget.apply("fault", _value(False, Quality.BAD))
    assert widget.display_state() == ("running", "RUNNING", Quality.BAD, REASON)
    image = _grab(widget)
    assert _count(image, theme.RUNNING_FILL) > 20
    assert _count(image, theme.BAD_EDGE) > 20
    assert "quality BAD" in widget.tooltip_text()


def test_each_quality_looks_different_and_says_why(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="motor", label="M-1")
    widget.bind_meta("value", RUNNING)
    images: dict[Quality, QImage] = {}
    for quality in Quality:
        widget.apply("value", _value(True, quality))
        images[quality] = _grab(widget)
        tooltip = widget.tooltip_text()
        assert RUNNING.name in tooltip
        assert (REASON in tooltip) is (quality is not Quality.GOOD)
    qualities = list(Quality)
    for i, a in enumerate(qualities):
        for b in qualities[i + 1 :]:
            assert images[a] != images[b], f"{a.name} and {b.name} look the same"
    widget.apply("value", _value(True, Quality.BAD))
    assert widget.display_state()[:3] == ("bad", "####", Quality.BAD)
    assert _count(images[Quality.BAD], theme.BAD_EDGE) > 50
    running_body = _count(images[Quality.GOOD], theme.RUNNING_FILL)
    assert running_body > 200
    assert _count(images[Quality.BAD], theme.RUNNING_FILL) < 10  # text edges at most
    widget.apply("value", _value(True, Quality.STALE))
    assert widget.display_state()[:3] == ("stale", "RUNNING", Quality.STALE)
    assert _count(images[Quality.STALE], STATE_COLOURS["stale"].fill) > 20
    assert _count(images[Quality.STALE], theme.RUNNING_FILL) < 10
    widget.apply("value", _value(True, Quality.UNCERTAIN))
    assert widget.display_state()[:3] == ("running", "RUNNING", Quality.UNCERTAIN)
    assert _count(images[Quality.UNCERTAIN], theme.RUNNING_FILL) > 20
    assert _count(images[Quality.UNCERTAIN], theme.UNCERTAIN_EDGE) > 20  # frame and "?" badge


def test_no_value_yet_shows_bad(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="valve")
    widget.bind_meta("value", RUNNING)
    assert widget.display_state() == ("bad", "####", Quality.BAD, "no value yet")


def test_repaints_only_when_what_it_shows_changes(qtbot: QtBot) -> None:
    widget = _symbol(
        qtbot,
        symbol="fan",
        states=[
            {"value": 1, "text": "RUNNING", "style": "running"},
            {"value": 2, "text": "RUNNING", "style": "running"},  # e.g. fast and slow
            {"value": 0, "text": "STOPPED", "style": "stopped"},
        ],
    )
    widget.bind_meta("value", MODE)
    widget.bind_meta("fault", FAULT)
    widget.apply("value", _value(1))
    widget.apply("fault", _value(False))
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    qtbot.wait(20)
    requests, painted = widget.repaint_requests, canvas.items_painted
    for _ in range(20):
        widget.apply("value", _value(1))  # new timestamps, same display
        widget.apply("value", _value(2))  # another value, same text and look
        widget.apply("fault", _value(False))
    qtbot.wait(20)
    assert (widget.repaint_requests, canvas.items_painted) == (requests, painted)
    widget.apply("value", _value(0))
    assert widget.repaint_requests == requests + 1
    qtbot.waitUntil(lambda: canvas.items_painted > painted)


def test_rotation_turns_the_symbol(qtbot: QtBot) -> None:
    images = []
    for rotation in (0, 90):
        widget = _symbol(qtbot, (60, 60), symbol="pump", rotation=rotation, label_position="none")
        images.append(_grab(widget))
    assert images[0] != images[1]
    assert _count(images[0], STATE_COLOURS["running"].fill) == pytest.approx(
        _count(images[1], STATE_COLOURS["running"].fill), rel=0.15
    )


def test_label_and_state_text_are_drawn_where_asked(qtbot: QtBot) -> None:
    def dark_rows_and_columns(**props: Any) -> tuple[set[int], set[int]]:
        widget = _symbol(qtbot, (200, 110), symbol="motor", **props)
        image = _grab(widget)
        pixels = np.frombuffer(
            image.constBits(), dtype=np.uint32, count=image.width() * image.height()
        ).reshape(image.height(), image.width())
        dark = (pixels & 0xFF) < 0x80  # blue channel: text and symbol are dark on light grey
        ys, xs = np.nonzero(dark)
        return set(ys.tolist()), set(xs.tolist())

    bare_rows, bare_cols = dark_rows_and_columns(label_position="none")
    below_rows, _ = dark_rows_and_columns(label="P-101 Feed pump")
    _, right_cols = dark_rows_and_columns(label="P-101 Feed pump", label_position="right")
    assert max(below_rows) > max(bare_rows)  # text under the symbol
    assert max(right_cols) > max(bare_cols)  # text beside it


def test_a_long_label_is_elided_not_cut(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, (80, 100), symbol="tank", label="T-300 Buffer tank for line 3")
    widget.bind_meta("value", RUNNING)
    widget.apply("value", _value(True))
    _grab(widget)
    layout = widget._current_layout()
    assert layout.label_text.endswith("…")
    assert "T-300 Buffer tank for line 3" in widget.tooltip_text()


def test_scale_keeps_the_layout_in_proportion(qtbot: QtBot) -> None:
    widget = SymbolWidget(SymbolProps(symbol="motor", label="M-1"))
    canvas = host_item(widget, *SIZE)
    qtbot.addWidget(canvas)
    canvas.show()
    widget.bind_meta("value", RUNNING)
    widget.apply("value", _value(True))
    small = widget._current_layout().symbol
    canvas.resize(SIZE[0] * 3 // 2, SIZE[1] * 3 // 2)
    assert widget.scale == pytest.approx(1.5)
    large = widget._current_layout().symbol
    assert large.width() == pytest.approx(small.width() * 1.5, abs=3)
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert _count(image, theme.RUNNING_FILL) > 2 * 20


# ---- clicking ------------------------------------------------------------------------------
def test_a_click_opens_the_faceplate_when_the_screen_gave_an_action(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="pump", label="P-101")
    widget.bind_meta("value", RUNNING)
    widget.apply("value", _value(True))
    opened: list[str] = []
    widget.click_handler = lambda: opened.append("faceplate")
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    assert canvas.item_at(widget.geometry().center()) is widget
    click_item(qtbot, widget)
    assert opened == ["faceplate"]
    click_item(qtbot, widget)
    assert opened == ["faceplate", "faceplate"]
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # the click gave it the focus: Enter opens too
    assert opened == ["faceplate"] * 3


def test_press_darkens_the_symbol_until_release(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="valve", label_position="none")
    widget.bind_meta("value", RUNNING)
    widget.apply("value", _value(False))
    widget.click_handler = lambda: None
    idle = _grab(widget)
    widget.mouse_press(QPointF(10, 10))
    pressed = _grab(widget)
    widget.mouse_release(QPointF(10, 10), inside=False)
    released = _grab(widget)
    assert pressed != idle
    assert _count(pressed, theme.SCREEN_BG) < _count(idle, theme.SCREEN_BG)
    assert _count(released, theme.SCREEN_BG) == _count(idle, theme.SCREEN_BG)


def test_without_an_action_a_symbol_lets_clicks_through(qtbot: QtBot) -> None:
    widget = _symbol(qtbot, symbol="pump")
    widget.bind_meta("value", RUNNING)
    widget.apply("value", _value(True))
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    centre = widget.geometry().center()
    assert canvas.item_at(centre) is None
    assert canvas.item_at(QPoint(centre.x(), centre.y()), clickable=False) is widget  # tooltip
    before = _grab(widget)
    click_item(qtbot, widget)
    assert _grab(widget) == before


# ---- properties ----------------------------------------------------------------------------
def test_registered_under_symbol() -> None:
    assert widget_class("symbol") is SymbolWidget
    example = SymbolWidget.EXAMPLE
    assert example is not None
    SymbolProps.model_validate(example.props)
    assert set(example.values) == set(SymbolWidget.BINDABLE)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"symbol": "robot"}, "unknown symbol 'robot'; choose one of: conveyor, fan"),
        (
            {"states": [{"value": 1, "text": "A"}, {"value": 1, "text": "B"}]},
            "state value 1 is listed twice",
        ),
        ({"states": []}, "states must list at least one value"),
        ({"states": [{"value": 1, "text": "A", "style": "red"}]}, "'running'"),
        ({"rotation": 45}, "Input should be 0, 90, 180 or 270"),
        ({"label_position": "left"}, "Input should be 'below', 'right' or 'none'"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_props_are_refused_with_a_clear_message(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("?", r"\?")):
        SymbolProps.model_validate(props)


def test_true_and_one_are_different_states() -> None:
    props = SymbolProps.model_validate(
        {"states": [{"value": True, "text": "ON"}, {"value": "1", "text": "ONE"}]}
    )
    assert [entry.text for entry in props.states] == ["ON", "ONE"]
    assert SymbolProps().states[0].text == "RUNNING"  # the state indicator's defaults
