"""The formatted label fills {a}..{d} with the display text of the bound tags (their format, units
on request), shows #### for a BAD value and frames the whole label in the worst quality; its text
may only name the bindable placeholders."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.canvas import host_item
from widgets.quality_look import BAD_PLACEHOLDER
from widgets.text_format import TextFormat, TextFormatProps

ORDER = TagMeta("line1.order", DataType.STRING, description="Work order")
COUNT = TagMeta("line1.count", DataType.UINT32, "bottles", ",d")
SPEED = TagMeta("line1.speed", DataType.FLOAT32, "bpm", ".1f")
METAS = {"a": ORDER, "b": COUNT, "c": SPEED}


def _value(value: Any, quality: Quality = Quality.GOOD) -> TagValue:
    now = time.time()
    return TagValue(value, quality, now, now, "" if quality is Quality.GOOD else "comm failure")


def _label(
    qtbot: QtBot, text: str, values: dict[str, TagValue], **props: Any
) -> tuple[TextFormat, QImage]:
    label = TextFormat(TextFormatProps(text=text, **props))
    canvas = host_item(label, 360, 30)
    qtbot.addWidget(canvas)
    for prop, value in values.items():
        label.bind_meta(prop, METAS[prop])
        label.apply(prop, value)
    return label, canvas.grab().toImage()


def _has(image: QImage, colour: Any) -> bool:
    return any(
        image.pixelColor(x, y) == colour
        for x in range(0, image.width(), 2)
        for y in range(image.height())
    )


def test_placeholders_show_the_tags_display_text(qtbot: QtBot) -> None:
    label, _ = _label(
        qtbot, "Order {a} - {b} bottles", {"a": _value("WO-1001"), "b": _value(12480)}
    )
    assert label.text_and_quality() == ("Order WO-1001 - 12,480 bottles", Quality.GOOD)
    assert label.used() == ("a", "b")


def test_units_follow_each_value_when_asked(qtbot: QtBot) -> None:
    values = {"a": _value("WO-7"), "b": _value(900), "c": _value(412.34)}
    label, _ = _label(qtbot, "{a}: {b} at {c}", values, units=True)
    assert label.text_and_quality()[0] == "WO-7: 900 bottles at 412.3 bpm"
    label, _ = _label(qtbot, "{c:.0f}", {"c": _value(412.34)})  # a spec overrides the format
    assert label.text_and_quality()[0] == "412"


def test_a_bad_value_shows_the_placeholder_and_the_label_takes_the_worst_quality(
    qtbot: QtBot,
) -> None:
    _, good_image = _label(qtbot, "Order {a} - {b}", {"a": _value("WO-1"), "b": _value(5)})
    values = {"a": _value("WO-1", Quality.UNCERTAIN), "b": _value(5, Quality.BAD)}
    bad, bad_image = _label(qtbot, "Order {a} - {b}", values, units=True)
    assert bad.text_and_quality() == (f"Order WO-1 - {BAD_PLACEHOLDER}", Quality.BAD)  # no units
    assert _has(bad_image, theme.BAD_EDGE) and not _has(good_image, theme.BAD_EDGE)
    assert "quality BAD: comm failure" in bad.tooltip_text()
    assert "b: line1.count" in bad.tooltip_text()


def test_stale_and_uncertain_look_different_from_good_and_each_other(qtbot: QtBot) -> None:
    images = [
        _label(qtbot, "Order {a}", {"a": _value("WO-1", quality)})[1]
        for quality in (Quality.GOOD, Quality.UNCERTAIN, Quality.STALE)
    ]
    assert images[0] != images[1] and images[0] != images[2] and images[1] != images[2]
    assert _has(images[1], theme.UNCERTAIN_EDGE)


def test_a_value_not_yet_received_is_bad(qtbot: QtBot) -> None:
    label = TextFormat(TextFormatProps(text="Order {a}"))
    qtbot.addWidget(host_item(label, 360, 30))
    label.bind_meta("a", ORDER)
    assert label.text_and_quality() == (f"Order {BAD_PLACEHOLDER}", Quality.BAD)


def test_an_unbound_placeholder_stays_visible_as_written(qtbot: QtBot) -> None:
    label, _ = _label(qtbot, "{a} at {c:.0f}", {"a": _value("WO-1")})
    assert label.text_and_quality() == ("WO-1 at {c:.0f}", Quality.GOOD)


def test_repaints_only_when_the_composed_text_changes(qtbot: QtBot) -> None:
    label, _ = _label(qtbot, "Speed {c}", {"c": _value(412.34)})
    before = label.repaint_requests
    label.apply("c", _value(412.31))  # ".1f": still 412.3
    assert label.repaint_requests == before
    label.apply("c", _value(412.5))
    assert label.repaint_requests == before + 1


def test_literal_braces(qtbot: QtBot) -> None:
    label, _ = _label(qtbot, "{{a}} = {a}", {"a": _value("x")})
    assert label.text_and_quality()[0] == "{a} = x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Order {e}", r"placeholder \{e\} is not one of \{a\}, \{b\}, \{c\}, \{d\}"),
        ("Order {0}", r"placeholder \{0\} is not one of"),
        ("Order {}", r"placeholder \{\} is not one of"),
        ("Order {order}", r"placeholder \{order\} is not one of"),
        ("Order {a", "literal braces"),
        ("Order {a!r}", "conversions are not supported"),
        ("Order {a:zz}", "is not a format"),
    ],
)
def test_text_may_only_name_bindable_placeholders(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TextFormatProps(text=text)
