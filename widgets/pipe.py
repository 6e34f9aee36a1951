"""Pipe segment: a horizontal or vertical run whose look says whether product flows in it.

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

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, ClassVar, Literal

from pydantic import Field
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QTransform

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


class PipeProps(WidgetProps):
    """Static properties of a pipe segment."""

    orientation: Literal["horizontal", "vertical"] = "horizontal"
    direction: Literal["forward", "reverse"] = Field(
        default="forward",
        description="way of the flow: forward is left to right or top to bottom",
    )
    thickness: int = Field(default=14, ge=4, le=80, description="pipe diameter in design px")
    ends: Literal["none", "arrow"] = Field(
        default="none", description="'arrow': an arrow head at the downstream end"
    )


def is_flowing(value: Any) -> bool:
    """A bool as it is; a number flows when above zero; anything else does not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return False


_Kind = tuple[str, str, int, str]
"""orientation, direction, thickness, ends: what the pipe's drawing depends on besides size."""


class _Geometry:
    """The pipe's paths for one widget size and scale, drawn left to right and then turned."""

    __slots__ = ("body", "chevrons", "key", "pen_width")

    def __init__(self, kind: _Kind, width: int, height: int, scale: float) -> None:
        orientation, direction, thickness, ends = kind
        self.key = (width, height, scale)
        vertical = orientation == "vertical"
        length, across = (height, width) if vertical else (width, height)
        t = min(thickness * scale, across - 2.0)
        t = max(t, 2.0)
        mid = across / 2
        body = QPainterPath()
        end = float(length)
        if ends == "arrow":
            head_w = min(across - 1.0, t * 2.0)
            head_l = min(length / 2, head_w * 0.9)
            end = length - head_l
            body.moveTo(0, mid - t / 2)
            body.lineTo(end, mid - t / 2)
            body.lineTo(end, mid - head_w / 2)
            body.lineTo(length - 0.5, mid)
            body.lineTo(end, mid + head_w / 2)
            body.lineTo(end, mid + t / 2)
            body.lineTo(0, mid + t / 2)
            body.closeSubpath()
        else:
            body.addRect(QRectF(0.5, mid - t / 2, length - 1.0, t))
        chevrons = QPainterPath()
        size = t * 0.28
        step = max(t * 1.6, 10 * scale)
        x = step / 2
        while x + size <= end - size:
            chevrons.moveTo(x - size, mid - size * 1.2)
            chevrons.lineTo(x + size * 0.4, mid)
            chevrons.lineTo(x - size, mid + size * 1.2)
            x += step
        self.pen_width = max(1.2, t * 0.14)
        turn = QTransform()
        if vertical:  # left-to-right becomes top-to-bottom
            turn = QTransform(0, 1, 1, 0, 0, 0)
        if direction == "reverse":
            flip = (
                QTransform(1, 0, 0, -1, 0, height)
                if vertical
                else QTransform(-1, 0, 0, 1, width, 0)
            )
            turn = turn * flip
        self.body = turn.map(body)
        self.chevrons = turn.map(chevrons)


class Pipe(HmiWidget):
    """A straight pipe run, dark grey with chevrons while it flows, light grey when idle."""

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
        self._kind: _Kind = (p.orientation, p.direction, p.thickness, p.ends)

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

    def display_state(self) -> Hashable:
        self._state = self.look()
        return self._state

    def paint(self, painter: QPainter) -> None:
        look, quality, _ = self._state or self.look()
        ratio = painter.device().devicePixelRatioF()
        key = (self._kind, self.width(), self.height(), self.scale, look, ratio)
        painter.drawPixmap(0, 0, _PIXMAPS.get(key))
        # the "?" of UNCERTAIN goes on the upstream side, clear of an arrow head
        props = self.props
        arrow_right = props.orientation == "horizontal" and props.direction == "forward"
        badge: Literal["left", "right"] = "left" if arrow_right else "right"
        paint_quality(painter, QRectF(self.rect()), quality, self.scale, badge=badge)


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
