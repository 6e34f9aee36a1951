"""Text label: static text (titles, headings, captions) or the value of a string tag."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import paint_quality, text_colour

_SIZES = {"title": theme.TITLE_PX, "heading": 17, "label": theme.LABEL_PX, "caption": 13}
_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "center": Qt.AlignmentFlag.AlignHCenter,
    "right": Qt.AlignmentFlag.AlignRight,
}


class TextProps(WidgetProps):
    """Static properties of a text label."""

    text: str = Field(default="", description="shown when nothing is bound to 'text'")
    style: Literal["title", "heading", "label", "caption"] = "label"
    align: Literal["left", "center", "right"] = "left"
    bold: bool | None = Field(default=None, description="default: bold for title and heading")
    prefix: str = Field(default="", description="static text before a bound value")


class TextLabel(HmiWidget):
    """One line of text; bound to a tag it shows the tag's value (with quality)."""

    TYPE_KEY: ClassVar[str] = "text"
    Props: ClassVar[type[WidgetProps]] = TextProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("text",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (220, 30), {}, {"text": (TagMeta("line.order", DataType.STRING), "WO-1001")}
    )

    props: TextProps

    def text_and_quality(self) -> tuple[str, Quality]:
        if not self.is_bound("text"):
            return self.props.text, Quality.GOOD
        shown = self.shown("text")
        return self.props.prefix + shown.text, shown.quality

    def display_state(self) -> Hashable:
        shown = self.shown("text") if self.is_bound("text") else None
        return self.text_and_quality(), shown.reason if shown else ""

    def paint(self, painter: QPainter) -> None:
        self.paint_cached(painter, self.display_state(), self._paint_now)

    def _paint_now(self, painter: QPainter) -> None:
        text, quality = self.text_and_quality()
        style = self.props.style
        bold = self.props.bold if self.props.bold is not None else style in ("title", "heading")
        painter.setFont(theme.font(_SIZES[style], self.scale, bold=bold))
        normal = theme.TEXT_MUTED if style == "caption" else theme.TEXT
        painter.setPen(text_colour(quality, normal))
        rect = QRectF(self.rect())
        inner = rect.adjusted(4 * self.scale, 0, -4 * self.scale, 0)
        if quality is Quality.UNCERTAIN:
            inner.setRight(inner.right() - 18 * self.scale)
        align = _ALIGN[self.props.align] | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(inner, int(align), text)
        paint_quality(painter, rect, quality, self.scale)
