"""Formatted text label: one line of text with tag values filled in, e.g. "Order {a} - {b} bottles".

The placeholders ``{a}`` .. ``{d}`` are replaced by the display text of the tags bound to ``a`` ..
``d`` (in the tag's format; ``{b:.0f}`` overrides it; with ``units: true`` the tag's units
follow the value). A BAD value shows ``####`` in its place, and the whole label takes the worst
quality of its values (frame, greyed text), the same way every widget shows quality. ``{{`` and
``}}`` are literal braces. A placeholder whose letter is not bound stays as written, so a
forgotten binding is visible on the screen rather than silently empty.
"""

from __future__ import annotations

import string
from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour

PLACEHOLDERS = ("a", "b", "c", "d")
_SIZES = {"title": theme.TITLE_PX, "heading": 17, "label": theme.LABEL_PX, "caption": 13}
_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "center": Qt.AlignmentFlag.AlignHCenter,
    "right": Qt.AlignmentFlag.AlignRight,
}

Part = tuple[str, str | None, str]
"""(literal text, placeholder letter or None, format spec)."""


def parse_template(text: str) -> list[Part]:
    """Split ``text`` into literal text and placeholders; ValueError naming the problem."""
    parts: list[Part] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise ValueError(f"{exc} (write {{{{ and }}}} for literal braces)") from None
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None, ""))
            continue
        if name not in PLACEHOLDERS:
            shown = "{" + name + "}" if name else "{}"
            raise ValueError(
                f"placeholder {shown} is not one of {{a}}, {{b}}, {{c}}, {{d}} (the bindable names)"
            )
        if conversion:
            raise ValueError(f"placeholder {{{name}!{conversion}}}: conversions are not supported")
        if spec and "{" in spec:
            raise ValueError(
                f"placeholder {{{name}:{spec}}}: nested placeholders are not supported"
            )
        if spec and not any(_formats(sample, spec) for sample in (1.5, 1, "text")):
            raise ValueError(f"placeholder {{{name}:{spec}}}: {spec!r} is not a format, e.g. '.1f'")
        parts.append((literal, name, spec or ""))
    return parts


def _formats(sample: object, spec: str) -> bool:
    try:
        format(sample, spec)
    except ValueError:
        return False
    return True


class TextFormatProps(WidgetProps):
    """Static properties of a formatted text label."""

    text: str = Field(
        description="text with {a}..{d} replaced by the bound values, e.g. 'Order {a} - {b} pcs'"
    )
    units: bool = Field(default=False, description="put each tag's units after its value")
    style: Literal["title", "heading", "label", "caption"] = "label"
    align: Literal["left", "center", "right"] = "left"
    bold: bool | None = Field(default=None, description="default: bold for title and heading")

    @field_validator("text")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        parse_template(text)
        return text


class TextFormat(HmiWidget):
    """One line of text with up to four tag values in it; shows the worst of their qualities."""

    TYPE_KEY: ClassVar[str] = "textf"
    Props: ClassVar[type[WidgetProps]] = TextFormatProps
    BINDABLE: ClassVar[tuple[str, ...]] = PLACEHOLDERS
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (340, 30),
        {"text": "Order {a} - {b} bottles"},
        {
            "a": (TagMeta("line.order", DataType.STRING), "WO-1001"),
            "b": (TagMeta("line.count", DataType.UINT32, display_format=",d"), 12480),
        },
    )

    props: TextFormatProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._parts = parse_template(self.props.text)
        self._used = tuple(dict.fromkeys(name for _, name, _ in self._parts if name))

    def used(self) -> tuple[str, ...]:
        """The placeholder letters the text uses, in order of first use."""
        return self._used

    def text_and_quality(self) -> tuple[str, Quality]:
        """The text with the values filled in, and the worst quality of those values."""
        pieces: list[str] = []
        worst = Quality.GOOD
        for literal, name, spec in self._parts:
            pieces.append(literal)
            if name is None:
                continue
            if not self.is_bound(name):
                pieces.append("{" + name + (f":{spec}" if spec else "") + "}")
                continue
            shown = self.shown(name, spec or None)
            worst = max(worst, shown.quality)
            pieces.append(shown.text)
            meta = self.meta(name)
            wants_units = self.props.units and meta is not None and meta.units
            if wants_units and meta is not None and shown.text != BAD_PLACEHOLDER:
                pieces.append(f" {meta.units}")
        return "".join(pieces), worst

    def display_state(self) -> Hashable:
        reasons = tuple(self.shown(name).reason for name in self._used if self.is_bound(name))
        return self.text_and_quality(), reasons

    def paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        text, quality = self.text_and_quality()
        style = self.props.style
        bold = self.props.bold if self.props.bold is not None else style in ("title", "heading")
        font = theme.font(_SIZES[style], self.scale, bold=bold)
        painter.setFont(font)
        normal = theme.TEXT_MUTED if style == "caption" else theme.TEXT
        painter.setPen(text_colour(quality, normal))
        rect = QRectF(self.rect())
        pad = (4 if quality is Quality.GOOD else 8) * self.scale  # clear of the quality frame
        inner = rect.adjusted(pad, 0, -pad, 0)
        if quality is Quality.UNCERTAIN:
            inner.setRight(inner.right() - 18 * self.scale)
        elided = theme.metrics(font).elidedText(text, Qt.TextElideMode.ElideRight, inner.width())
        align = _ALIGN[self.props.align] | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(inner, int(align), elided)
        paint_quality(painter, rect, quality, self.scale)
