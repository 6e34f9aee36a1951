"""Pipe segment: a horizontal or vertical run, or an elbow, whose look says whether it flows.

ISA-101 greys: a flowing pipe is dark grey with light chevrons pointing the way of the flow, an
idle pipe light grey without them. The bound ``flow`` is a bool, or a number where anything above
zero means flowing (a flow rate, a pump speed). Quality as everywhere: BAD turns the pipe into the
"bad" colours inside the magenta hatched frame, STALE pale grey with a dashed frame, UNCERTAIN
keeps the look and adds the dotted amber frame with its "?". Unbound, the pipe is drawn idle (a
plain piece of piping on the screen).

The pipe is rendered once per kind, size, scale and look into a shared pixmap cache: a paint is
one ``drawPixmap`` (plus the quality frame when not good).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPixmap,
    QPolygonF,
)

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import paint_quality

# look -> (fill, outline, chevrons)
LOOKS: dict[str, tuple[QColor, QColor, QColor]] = {
    "flowing": (theme.RUNNING_FILL, theme.TEXT, QColor("#e0e0e0")),
    "idle": (QColor("#c4c4c4"), QColor("#8a8a8a"), QColor("#c4c4c4")),
    "stale": (QColor("#e8e8e8"), theme.TEXT_STALE, theme.TEXT_STALE),
    "bad": (theme.FIELD_BG, theme.BAD_EDGE, theme.BAD_EDGE),
}


Side = Literal["left", "right", "top", "bottom"]
_ELBOWS = ("left-top", "left-bottom", "right-top", "right-bottom")


class PipeProps(WidgetProps):
    """Static properties of a pipe segment."""

    orientation: Literal["horizontal", "vertical", "elbow"] = Field(
        default="horizontal", description="a straight run, or an elbow joining two sides"
    )
    joins: Literal["left-top", "left-bottom", "right-top", "right-bottom"] | None = Field(
        default=None,
        description="elbow only: the sides it joins, e.g. 'left-bottom' (from the middle of "
        "the left side to the middle of the bottom)",
    )
    direction: Literal["forward", "reverse"] = Field(
        default="forward",
        description="way of the flow: forward is left to right, top to bottom, or from the "
        "first side an elbow joins to the second",
    )
    thickness: int = Field(default=14, ge=4, le=80, description="pipe diameter in design px")
    ends: Literal["none", "arrow"] = Field(
        default="none", description="'arrow': an arrow head at the downstream end"
    )

    @model_validator(mode="after")
    def _elbow_joins_two_sides(self) -> PipeProps:
        if self.orientation == "elbow" and self.joins is None:
            raise ValueError(f"an elbow needs 'joins': one of {', '.join(_ELBOWS)}")
        if self.orientation != "elbow" and self.joins is not None:
            raise ValueError(
                f"'joins' is for orientation 'elbow'; a {self.orientation} pipe joins its ends"
            )
        return self


def is_flowing(value: Any) -> bool:
    """A bool as it is; a number flows when above zero; anything else does not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return False


_Kind = tuple[str, str | None, str, int, str]
"""orientation, joins, direction, thickness, ends: what the drawing depends on besides size."""


def centre_line(kind: _Kind, width: int, height: int) -> list[QPointF]:
    """The pipe's centre line in the way of the flow (widget pixels, ends 0.5 px inside)."""
    orientation, joins, direction, _, _ = kind
    mid_x, mid_y = width / 2, height / 2
    sides = {
        "left": QPointF(0.5, mid_y),
        "right": QPointF(width - 0.5, mid_y),
        "top": QPointF(mid_x, 0.5),
        "bottom": QPointF(mid_x, height - 0.5),
    }
    if orientation == "horizontal":
        points = [sides["left"], sides["right"]]
    elif orientation == "vertical":
        points = [sides["top"], sides["bottom"]]
    else:
        first, second = (joins or "left-bottom").split("-")
        points = [sides[first], QPointF(mid_x, mid_y), sides[second]]
    return points[::-1] if direction == "reverse" else points


def _unit(a: QPointF, b: QPointF) -> tuple[QPointF, float]:
    d = b - a
    length = math.hypot(d.x(), d.y())
    return (d / length if length else QPointF(1, 0)), length


class _Geometry:
    """The pipe's outline (with its arrow head) and chevrons for one size and scale."""

    __slots__ = ("body", "chevrons", "pen_width")

    def __init__(self, kind: _Kind, width: int, height: int, scale: float) -> None:
        orientation, _, _, thickness, ends = kind
        points = centre_line(kind, width, height)
        across = min(width, height) if orientation == "elbow" else None
        last_dir, last_len = _unit(points[-2], points[-1])
        if across is None:
            across = height if abs(last_dir.x()) > 0.5 else width
        t = max(2.0, min(thickness * scale, across - 2.0))
        head = QPainterPath()
        if ends == "arrow":
            head_w = min(across - 1.0, t * 2.0)
            head_l = min(last_len / 2, head_w * 0.9)
            tip = points[-1]
            base = tip - last_dir * head_l
            normal = QPointF(-last_dir.y(), last_dir.x())
            head.addPolygon(
                QPolygonF([base + normal * head_w / 2, tip, base - normal * head_w / 2])
            )
            head.closeSubpath()
            points = [*points[:-1], base]
        line = QPainterPath(points[0])
        for point in points[1:]:
            line.lineTo(point)
        stroker = QPainterPathStroker()
        stroker.setWidth(t)
        stroker.setCapStyle(Qt.PenCapStyle.FlatCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        body = stroker.createStroke(line)
        self.body = body.united(head).simplified() if ends == "arrow" else body.simplified()
        self.chevrons = _chevrons(points, t, scale)
        self.pen_width = max(1.2, t * 0.14)


def _chevrons(points: list[QPointF], t: float, scale: float) -> QPainterPath:
    """Chevrons every ``step`` along the centre line, pointing downstream, none at a bend."""
    path = QPainterPath()
    size = t * 0.28
    step = max(t * 1.6, 10 * scale)
    offset = step / 2  # distance along the current segment of the next chevron
    for index in range(len(points) - 1):
        start = points[index]
        direction, length = _unit(start, points[index + 1])
        normal = QPointF(-direction.y(), direction.x())
        near_start = t * 0.8 if index > 0 else 0.0  # keep clear of the bend
        near_end = t * 0.8 if index < len(points) - 2 else size
        while offset <= length - near_end - size:
            if offset >= near_start + size:
                centre = start + direction * offset
                path.moveTo(centre - direction * size + normal * size * 1.2)
                path.lineTo(centre + direction * size * 0.4)
                path.lineTo(centre - direction * size - normal * size * 1.2)
            offset += step
        offset = max(offset - length, 0.0)
    return path


class Pipe(HmiWidget):
    """A pipe run or elbow, dark grey with chevrons while it flows, light grey when idle."""

    TYPE_KEY: ClassVar[str] = "pipe"
    Props: ClassVar[type[WidgetProps]] = PipeProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("flow",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (200, 24),
        {"ends": "arrow"},
        {"flow": (TagMeta("line1.feed.flow", DataType.FLOAT32, "m³/h", ".1f"), 12.5)},
    )

    props: PipeProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._state: tuple[str, Quality, str] | None = None
        p = self.props
        self._kind: _Kind = (p.orientation, p.joins, p.direction, p.thickness, p.ends)
        end = centre_line(self._kind, 100, 100)[-1]
        # the "?" of UNCERTAIN goes on the side away from the downstream end (the arrow head)
        self._badge: Literal["left", "right"] = "left" if end.x() > 50 else "right"

    def look(self) -> tuple[str, Quality, str]:
        """(look, quality, reason): "flowing", "idle", "stale" or "bad"."""
        if not self.is_bound("flow"):
            return "idle", Quality.GOOD, ""
        shown = self.shown("flow")
        if shown.quality is Quality.BAD:
            return "bad", shown.quality, shown.reason
        if shown.quality is Quality.STALE:
            return "stale", shown.quality, shown.reason
        look = "flowing" if is_flowing(shown.value) else "idle"
        return look, shown.quality, shown.reason

    def display_state(self) -> tuple[str, Quality, str]:
        self._state = self.look()
        return self._state

    def paint(self, painter: QPainter) -> None:
        look, quality, _ = self._state or self.look()
        ratio = painter.device().devicePixelRatioF()
        key = (self._kind, self.width(), self.height(), self.scale, look, ratio)
        painter.drawPixmap(0, 0, _PIXMAPS.get(key))
        paint_quality(painter, QRectF(self.rect()), quality, self.scale, badge=self._badge)


_Key = tuple[_Kind, int, int, float, str, float]


def _render(key: _Key) -> QPixmap:
    kind, width, height, scale, look, ratio = key
    paths = _Geometry(kind, width, height, scale)
    fill, outline, chevron = LOOKS[look]
    image = QImage(
        max(1, round(width * ratio)),
        max(1, round(height * ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(outline, max(1.0, scale)))
        painter.setBrush(fill)
        painter.drawPath(paths.body)
        if look == "flowing":
            pen = QPen(chevron, paths.pen_width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(paths.chevrons)
    finally:
        painter.end()
    return QPixmap.fromImage(image)


class _PixmapCache:
    """Rendered pipes by (kind, size, scale, look, pixel ratio), least recently used dropped
    first: chevrons along a long pipe cost ~40 us to stroke, a cached pixmap ~1 us to draw, and
    pipes of one size and kind share their pixmaps."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._pixmaps: OrderedDict[_Key, QPixmap] = OrderedDict()

    def get(self, key: _Key) -> QPixmap:
        found = self._pixmaps.get(key)
        if found is not None:
            self._pixmaps.move_to_end(key)
            return found
        pixmap = self._pixmaps[key] = _render(key)
        self._bytes += _size(pixmap)
        while len(self._pixmaps) > 1 and self._bytes > self._max_bytes:
            _, dropped = self._pixmaps.popitem(last=False)
            self._bytes -= _size(dropped)
        return pixmap


def _size(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


_PIXMAPS = _PixmapCache(32 * 1024 * 1024)
