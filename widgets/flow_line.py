"""Flow line: a conveyor or pipe between two machines, with an arrow showing the direction.

Bound to a bool tag (``active``) it is dark grey while product moves and light grey when idle;
with no trustworthy value it turns magenta (BAD) or pale grey with a dashed frame (STALE).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPolygonF

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import paint_quality

ACTIVE = QColor("#4d4d4d")
IDLE = QColor("#a6a6a6")


class FlowProps(WidgetProps):
    """Static properties of a flow line."""

    direction: Literal["right", "left", "down", "up"] = "right"
    thickness: int = Field(default=8, ge=1, le=60, description="design px")


class FlowLine(HmiWidget):
    """A straight line with an arrow head along the widget's long side."""

    TYPE_KEY: ClassVar[str] = "flow"
    Props: ClassVar[type[WidgetProps]] = FlowProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("active",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (120, 30), {}, {"active": (TagMeta("line.moving", DataType.BOOL), True)}
    )

    props: FlowProps

    def look(self) -> tuple[bool, Quality]:
        if not self.is_bound("active"):
            return True, Quality.GOOD
        shown = self.shown("active")
        return shown.quality is not Quality.BAD and bool(shown.value), shown.quality

    def display_state(self) -> Hashable:
        return self.look(), self.shown("active").reason if self.is_bound("active") else ""

    def paint(self, painter: QPainter) -> None:
        self.paint_cached(painter, self.display_state(), self._paint_now)

    def _paint_now(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        active, quality = self.look()
        colour = ACTIVE if active else IDLE
        if quality is Quality.STALE:
            colour = theme.TEXT_STALE
        elif quality is Quality.BAD:
            colour = theme.BAD_EDGE  # no frame: the machines around it already carry one
        s = self.scale
        r = QRectF(self.rect())
        t = self.props.thickness * s
        head = t * 2.2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        direction = self.props.direction
        if direction in ("right", "left"):
            cy = r.center().y()
            body = QRectF(r.left(), cy - t / 2, r.width() - head, t)
            tip, base = r.right(), r.right() - head
            if direction == "left":
                body.moveLeft(r.left() + head)
                tip, base = r.left(), r.left() + head
            arrow = QPolygonF(
                [QPointF(base, cy - head / 2), QPointF(tip, cy), QPointF(base, cy + head / 2)]
            )
        else:
            cx = r.center().x()
            body = QRectF(cx - t / 2, r.top(), t, r.height() - head)
            tip, base = r.bottom(), r.bottom() - head
            if direction == "up":
                body.moveTop(r.top() + head)
                tip, base = r.top(), r.top() + head
            arrow = QPolygonF(
                [QPointF(cx - head / 2, base), QPointF(cx, tip), QPointF(cx + head / 2, base)]
            )
        painter.drawRect(body)
        painter.drawPolygon(arrow)
        if quality is not Quality.BAD:
            paint_quality(painter, r, quality, s)
