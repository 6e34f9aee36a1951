"""Tank: a P&ID style vessel (dished heads) filled to the level, limit marks at its side.

The vessel is drawn twice per size and scale into pixmaps, once empty and once full; a new value
only draws the empty one and the part of the full one below the level (two pixmap blits and a
surface line), so a screen of tanks costs no path filling per value.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import WidgetExample, WidgetProps
from widgets.limits import RangeProps, RangeWidget, paint_triangle, spread
from widgets.numeric import fit_text
from widgets.quality_look import paint_quality, text_colour

SHELL = QColor("#4d4d4d")
SURFACE = QColor("#56626e")  # a darker line where the liquid meets the gas space
MARK_PX = 11


class TankProps(RangeProps):
    """Static properties of a tank (level is the value's share of min..max)."""


class Tank(RangeWidget):
    """A vessel with dished heads, filled to the value's share of [min, max], value below."""

    TYPE_KEY: ClassVar[str] = "tank"
    Props: ClassVar[type[WidgetProps]] = TankProps
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (140, 220),
        {"label": "T-101", "hi": 85, "lo": 15},
        {"value": (TagMeta("tank1.level", DataType.FLOAT32, "%", ".1f"), 58.0)},
    )

    props: TankProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._pixmaps: dict[str, QPixmap] = {}
        self._pixmap_key: Hashable = None
        self.vessels_drawn = 0
        """How often the vessel pixmaps were (re)drawn (tests prove a value does not)."""

    def display_state(self) -> Hashable:
        shown = self.value_shown()
        text = (shown.text, shown.quality) if shown is not None else None
        frac = self.fraction()
        fill = None if frac is None else round(frac * 500)
        return text, self.units(), fill, self.active_marks()

    def scale_changed(self) -> None:
        self._pixmaps.clear()

    # ---- layout ----------------------------------------------------------------------------
    def vessel_rect(self) -> QRectF:
        """The vessel's outline box (heads included), in widget coordinates."""
        s = self.scale
        r = QRectF(self.rect())
        label_h = 22 * s if self.props.label else 6 * s
        value_h = 30 * s
        has_marks = any(
            getattr(self.props, key) is not None for key in ("hihi", "hi", "lo", "lolo")
        )
        marks_w = (7 + 3 + 18) * s if has_marks else 0.0
        height = max(20 * s, r.height() - label_h - value_h - 4 * s)
        width = max(16 * s, min(r.width() - marks_w - 12 * s, height * 0.7))
        left = (r.width() - width - marks_w) / 2
        return QRectF(left, label_h + 2 * s, width, height)

    def _head(self, vessel: QRectF) -> float:
        """Depth of one dished head (2:1 elliptical heads are a quarter of the diameter deep)."""
        return min(vessel.width() / 4, vessel.height() / 4)

    def _outline(self, vessel: QRectF) -> QPainterPath:
        head = self._head(vessel)
        path = QPainterPath()
        path.moveTo(vessel.left(), vessel.top() + head)
        path.arcTo(QRectF(vessel.left(), vessel.top(), vessel.width(), 2 * head), 180, -180)
        path.lineTo(vessel.right(), vessel.bottom() - head)
        path.arcTo(
            QRectF(vessel.left(), vessel.bottom() - 2 * head, vessel.width(), 2 * head), 0, -180
        )
        path.closeSubpath()
        return path

    def _half_width_at(self, vessel: QRectF, y: float) -> float:
        """Half the inner width of the vessel at height ``y`` (for the liquid surface line)."""
        head = self._head(vessel)
        half = vessel.width() / 2
        if y < vessel.top() + head:
            dy = (vessel.top() + head - y) / head
        elif y > vessel.bottom() - head:
            dy = (y - (vessel.bottom() - head)) / head
        else:
            return half
        return half * math.sqrt(max(0.0, 1.0 - dy * dy))

    # ---- painting --------------------------------------------------------------------------
    def _vessels(self, painter: QPainter, vessel: QRectF) -> dict[str, QPixmap]:
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        key = (self.width(), self.height(), self.scale, dpr)
        if self._pixmap_key == key and self._pixmaps:
            return self._pixmaps
        pen_w = max(1.0, 1.5 * self.scale)
        margin = math.ceil(pen_w) + 1
        path = self._outline(vessel.translated(-vessel.left() + margin, -vessel.top() + margin))
        size = (
            max(1, math.ceil((vessel.width() + 2 * margin) * dpr)),
            max(1, math.ceil((vessel.height() + 2 * margin) * dpr)),
        )
        result: dict[str, QPixmap] = {}
        for name, fill in (
            ("empty", theme.STOPPED_FILL),
            ("full", theme.LEVEL_FILL),
            ("stale", theme.TEXT_STALE),
        ):
            pixmap = QPixmap(*size)
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            p = QPainter(pixmap)
            try:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setPen(QPen(SHELL, pen_w))
                p.setBrush(fill)
                p.drawPath(path)
            finally:
                p.end()
            result[name] = pixmap
        self._pixmaps, self._pixmap_key = result, key
        self.vessels_drawn += 1
        return result

    def paint(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        vessel = self.vessel_rect()
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(
                QRectF(0, 0, r.width(), vessel.top() - 2 * s),
                int(Qt.AlignmentFlag.AlignCenter),
                self.props.label,
            )
        pixmaps = self._vessels(painter, vessel)
        margin = math.ceil(max(1.0, 1.5 * s)) + 1
        origin = QPointF(vessel.left() - margin, vessel.top() - margin)
        painter.drawPixmap(origin, pixmaps["empty"])
        quality = self.quality()
        frac = self.fraction()
        if frac is not None and frac > 0:
            level_y = vessel.bottom() - vessel.height() * frac
            full = pixmaps["stale" if quality is Quality.STALE else "full"]
            dpr = full.devicePixelRatioF()
            top = level_y - origin.y()  # logical pixels inside the pixmap
            source = QRectF(0, top * dpr, full.width(), full.height() - top * dpr)
            target = QRectF(origin.x(), level_y, full.width() / dpr, full.height() / dpr - top)
            painter.drawPixmap(target, full, source)
            half = self._half_width_at(vessel, level_y) - max(1.0, 1.5 * s)
            if half > 1 and frac < 1:
                cx = vessel.center().x()
                painter.setPen(QPen(SURFACE, max(1.0, 1.5 * s)))
                painter.drawLine(QPointF(cx - half, level_y), QPointF(cx + half, level_y))
        self._paint_marks(painter, vessel)
        shown = self.value_shown()
        if shown is not None:
            self._paint_value(painter, QRectF(0, r.height() - 30 * s, r.width(), 30 * s))
            paint_quality(painter, r, quality, s)

    def _paint_marks(self, painter: QPainter, vessel: QRectF) -> None:
        s = self.scale
        tri = 7 * s
        font = theme.font(MARK_PX, s, bold=True)
        painter.setFont(font)
        marks = sorted(self.marks(), key=lambda m: -m.fraction)  # top first
        ys = [vessel.bottom() - vessel.height() * mark.fraction for mark in marks]
        name_h = theme.metrics(font).height()
        for mark, y, top in zip(marks, ys, spread(ys, name_h), strict=True):
            edge = vessel.center().x() + self._half_width_at(vessel, y)
            colour = mark.colour() if mark.active else theme.TEXT
            painter.setPen(QPen(colour, max(1.0, (2.0 if mark.active else 1.25) * s)))
            painter.drawLine(QPointF(edge - 6 * s, y), QPointF(vessel.right() + 3 * s, y))
            tip = QPointF(vessel.right() + 3 * s, y)
            paint_triangle(painter, tip, "left", tri, mark.colour(), s)
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(tip.x() + tri + 2 * s, top, 20 * s, name_h),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                mark.name,
            )

    def _paint_value(self, painter: QPainter, rect: QRectF) -> None:
        shown = self.value_shown()
        if shown is None:
            return
        text = self.value_text()
        numeric = self.number() is not None
        font, fitted = fit_text(
            text, rect.width() - 4 * self.scale, theme.VALUE_PX, self.scale, numeric=numeric
        )
        painter.setFont(font)
        painter.setPen(text_colour(shown.quality))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), fitted)
