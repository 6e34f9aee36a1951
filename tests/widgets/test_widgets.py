"""The first widgets in detail: placeholders, formats, state colours, command actions, fitting
text, and bad static properties refused with a clear error (the contract every widget keeps is
in test_widget_contract.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError
from PySide6.QtGui import QColor, QFontMetricsF, QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget
from widgets.canvas import ItemCanvas, host_item
from widgets.command_button import CommandButton, CommandProps
from widgets.level_bar import LevelProps
from widgets.numeric import TOO_WIDE, NumericDisplay, NumericProps, fit_text, format_duration
from widgets.registry import WIDGET_TYPES, widget_class
from widgets.state_indicator import StateIndicator, StateProps

# type key -> (props, bound property, tag meta, a good value, size)
SAMPLES: dict[str, tuple[dict[str, Any], str, TagMeta, Any, tuple[int, int]]] = {
    "numeric": (
        {"label": "Speed"},
        "value",
        TagMeta("line.speed", DataType.FLOAT32, "bpm", ".1f"),
        412.34,
        (260, 40),
    ),
    "state": (
        {"label": "Filler", "symbol": "machine"},
        "value",
        TagMeta("line.running", DataType.BOOL),
        True,
        (160, 72),
    ),
    "text": ({}, "text", TagMeta("line.order", DataType.STRING), "WO-1001", (220, 30)),
    "level": (
        {"label": "Tank", "hi": 80, "lo": 20},
        "value",
        TagMeta("line.level", DataType.FLOAT32, "%", ".1f"),
        63.2,
        (120, 220),
    ),
    "command": (
        {"text": "START"},
        "value",
        TagMeta("line.start", DataType.BOOL, writable=True),
        False,
        (120, 48),
    ),
    "flow": ({}, "active", TagMeta("line.moving", DataType.BOOL), True, (120, 30)),
    "panel": ({"title": "Process"}, "", TagMeta("unused", DataType.BOOL), None, (300, 200)),
}
REASON = "comm failure: timeout after 1000 ms"


def test_unknown_widget_types_are_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown widget type 'spinner'"):
        widget_class("spinner")


def _make(qtbot: QtBot, key: str) -> tuple[HmiWidget, str, TagMeta, Any]:
    props, prop, meta, value, (w, h) = SAMPLES[key]
    cls = WIDGET_TYPES[key]
    widget = cls(cls.Props.model_validate(props))
    qtbot.addWidget(host_item(widget, w, h))
    if prop:
        widget.bind_meta(prop, meta)
    return widget, prop, meta, value


def _grab(widget: HmiWidget) -> QImage:
    """What the widget looks like on its canvas."""
    parent = widget.popup_parent()
    assert parent is not None
    return parent.grab().toImage()


def _value(value: Any, quality: Quality) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now - 30, now, "" if quality is Quality.GOOD else REASON)


def test_bad_and_missing_values_show_the_placeholder(qtbot: QtBot) -> None:
    widget, prop, *_ = _make(qtbot, "numeric")
    assert isinstance(widget, NumericDisplay)
    assert widget.value_shown() is not None
    assert widget.value_shown().text == "####"  # type: ignore[union-attr]
    assert "no value yet" in widget.tooltip_text()
    widget.apply(prop, _value(12.0, Quality.BAD))
    assert widget.value_shown().text == "####"  # type: ignore[union-attr]
    widget.apply(prop, _value(12.25, Quality.GOOD))
    assert widget.value_shown().text == "12.2"  # type: ignore[union-attr]


def test_numeric_uses_tag_format_and_units_unless_overridden(qtbot: QtBot) -> None:
    meta = TagMeta("tank.temp", DataType.FLOAT64, "°C", ".1f")
    plain = NumericDisplay(NumericDisplay.Props.model_validate({}))
    custom = NumericDisplay(NumericDisplay.Props.model_validate({"format": ".3f", "units": "K"}))
    for widget in (plain, custom):
        widget.bind_meta("value", meta)
        widget.apply("value", _value(21.6789, Quality.GOOD))
    assert (plain.value_shown().text, plain.units()) == ("21.7", "°C")  # type: ignore[union-attr]
    assert (custom.value_shown().text, custom.units()) == ("21.679", "K")  # type: ignore[union-attr]


def _has_colour(image: QImage, colour: QColor) -> bool:
    target = colour.rgb()
    return any(
        image.pixel(x, y) == target
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


def test_state_colours_are_kept_for_abnormal_states(qtbot: QtBot) -> None:
    props = StateProps.model_validate(
        {
            "states": [
                {"value": 0, "text": "STOPPED", "style": "stopped"},
                {"value": 1, "text": "RUNNING", "style": "running"},
                {"value": 2, "text": "FAULTED", "style": "alarm"},
                {"value": 3, "text": "STARVED", "style": "warning"},
            ]
        }
    )
    widget = StateIndicator(props)
    qtbot.addWidget(host_item(widget, 200, 48))
    widget.bind_meta("value", TagMeta("line.state", DataType.UINT16))
    seen: dict[int, QImage] = {}
    for state in (0, 1, 2, 3, 7):
        widget.apply("value", _value(state, Quality.GOOD))
        seen[state] = _grab(widget)
    assert widget.state()[:2] == ("? 7", "unknown")
    for normal in (0, 1, 7):
        assert not _has_colour(seen[normal], theme.ALARM_FILL)
        assert not _has_colour(seen[normal], theme.WARNING_FILL)
    assert _has_colour(seen[1], theme.RUNNING_FILL)
    assert _has_colour(seen[2], theme.ALARM_FILL)
    assert _has_colour(seen[3], theme.WARNING_FILL)
    widget.apply("value", _value(1, Quality.BAD))
    assert widget.state()[:2] == ("####", "bad")


def test_command_button_writes_its_action_value(qtbot: QtBot) -> None:
    written: list[Any] = []
    for props, expected in (
        ({"text": "START"}, True),
        ({"text": "ON", "action": "set"}, True),
        ({"text": "OFF", "action": "reset"}, False),
        ({"text": "300", "action": "value", "value": 300}, 300),
    ):
        button = CommandButton(CommandProps.model_validate(props))
        qtbot.addWidget(host_item(button, 120, 48))
        button.click()  # no handler yet: nothing happens
        button.set_write_handler(written.append)
        button.set_busy(True)
        button.click()  # busy: ignored
        button.set_busy(False)
        button.click()
        assert written[-1] == expected
    assert len(written) == 4


def test_momentary_button_shows_the_pending_bit(qtbot: QtBot) -> None:
    button = CommandButton(CommandProps(text="START"))
    qtbot.addWidget(host_item(button, 120, 48))
    button.set_write_handler(lambda _value: None)
    button.bind_meta("value", TagMeta("line.start", DataType.BOOL, writable=True))
    button.apply("value", _value(False, Quality.GOOD))
    idle = _grab(button)
    button.apply("value", _value(True, Quality.GOOD))
    assert button.pending()
    assert _grab(button) != idle


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (LevelProps, {"min": 100, "max": 0}, "min 100.0 must be below max 0.0"),
        (LevelProps, {"lo": 80, "hi": 20}, "limits must be ordered"),
        (CommandProps, {"text": "GO", "action": "value"}, "needs a value"),
        (CommandProps, {"text": "GO", "value": 3}, "drop 'value'"),
        (StateProps, {"states": [{"value": 1, "text": "A"}, {"value": 1, "text": "B"}]}, "twice"),
        (StateProps, {"symbol": "pump"}, "Input should be"),
        (NumericDisplay.Props, {"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_props_are_refused_with_a_clear_message(
    model: type[Any], data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(data)


def test_panel_and_flow_never_take_clicks(qtbot: QtBot) -> None:
    for key in ("panel", "flow"):
        widget, *_ = _make(qtbot, key)
        canvas = widget.popup_parent()
        assert isinstance(canvas, ItemCanvas)
        assert not widget.takes_mouse()
        assert canvas.item_at(widget.geometry().center()) is None
        assert not _grab(widget).isNull()


def test_scale_changes_the_rendering(qtbot: QtBot) -> None:
    widget, prop, _meta, value = _make(qtbot, "numeric")
    widget.apply(prop, _value(value, Quality.GOOD))
    normal = _grab(widget)
    canvas = widget.popup_parent()
    assert canvas is not None
    canvas.resize(canvas.width() * 3 // 2, canvas.height() * 3 // 2)
    assert _grab(widget) != normal
    assert widget.scale == pytest.approx(1.5)


def test_duration_display(qtbot: QtBot) -> None:
    assert format_duration(0) == "0:00:00"
    assert format_duration(3725.9) == "1:02:05"
    assert format_duration(90061) == "25:01:01"
    widget = NumericDisplay(NumericDisplay.Props.model_validate({"display": "duration"}))
    widget.bind_meta("value", TagMeta("line.runtime_s", DataType.UINT32, "s", "d"))
    widget.apply("value", _value(7261, Quality.GOOD))
    assert (widget.value_shown().text, widget.units()) == ("2:01:01", "")  # type: ignore[union-attr]
    widget.apply("value", _value(7261, Quality.BAD))
    assert widget.value_shown().text == "####"  # type: ignore[union-attr]


def test_a_value_wider_than_its_field_is_shrunk_never_cut(qtbot: QtBot) -> None:
    fits = fit_text("WO-1001", 500, theme.VALUE_PX, 1.0, numeric=False)
    assert fits[1] == "WO-1001" and fits[0].pixelSize() == theme.VALUE_PX
    full = QFontMetricsF(theme.font(theme.VALUE_PX, 1.0, bold=True)).horizontalAdvance("WO-1001")
    smaller, text = fit_text("WO-1001", full * 0.8, theme.VALUE_PX, 1.0, numeric=False)
    assert text == "WO-1001" and smaller.pixelSize() < theme.VALUE_PX
    assert QFontMetricsF(smaller).horizontalAdvance(text) <= full * 0.8
    _font, number = fit_text("123456789.5", full * 0.3, theme.VALUE_PX, 1.0, numeric=True)
    assert number == TOO_WIDE  # a clipped number would read as another number
    _font, words = fit_text("a long operator note", full * 0.5, theme.VALUE_PX, 1.0, numeric=False)
    assert words.endswith("…") and words.startswith("a")
    assert fit_text("", 1, theme.VALUE_PX, 1.0, numeric=True)[1] == ""
    # in the widget: the demo's work order field at 1024x768 scale
    widget = NumericDisplay(NumericProps.model_validate({"label": "Work order", "label_width": 96}))
    canvas = host_item(widget, 200, 40)
    qtbot.addWidget(canvas)
    canvas.resize(160, 32)  # 0.8 of the design size
    widget.bind_meta("value", TagMeta("line1.work_order", DataType.STRING))
    widget.apply("value", _value("WO-1001", Quality.GOOD))
    _grab(widget)  # paints without raising; the text fits the field
    assert widget.scale == pytest.approx(0.8)
    field = widget.field_rect()
    drawn, text = fit_text(
        "WO-1001", field.width() - 12 * 0.8, widget.props.value_size, 0.8, numeric=False
    )
    assert text == "WO-1001"
    assert QFontMetricsF(drawn).horizontalAdvance(text) <= field.width() - 12 * 0.8
