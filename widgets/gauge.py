"""Analog gauge: a 270 degree dial with ticks, limit bands and a needle, the value below it.

The dial (arc, ticks, numbers, limit bands) does not change with the value, so it is drawn once
per size and scale into a pixmap; a new value only draws that pixmap, the needle and the text.
The needle angle is rounded to half a degree, so measurement noise below that does not repaint.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import ClassVar

from pydantic import Field
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import WidgetExample, WidgetProps
from widgets.limits import RangeProps, RangeWidget, scale_ticks
from widgets.numeric import fit_text
from widgets.quality_look import paint_quality, text_colour

SWEEP = 270.0
START = 225.0  # Qt degrees (0 = 3 o'clock, counter-clockwise): min sits at 7:30
ANGLE_STEP = 0.5

NEEDLE = QColor("#333333")
ARC = QColor("#6b6b6b")
BAND_INNER = QColor("#a6a6a6")  # H..HH and LL..L: a light grey band
BAND_OUTER = QColor("#6b6b6b")  # beyond HH / LL: darker grey


class GaugeProps(RangeProps):
    """Static properties of an analog gauge (limits show as grey bands on the dial)."""

    ticks: int = Field(
        default=6, ge=2, le=12, description="about how many numbered divisions the dial has"
    )


class Gauge(RangeWidget):
    """A round 270 degree dial with a needle at the value and the value with units beneath."""

    TYPE_KEY: ClassVar[str] = "gauge"
    Props: ClassVar[type[WidgetProps]] = GaugeProps
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (200, 200),
        {"label": "Pressure", "min": 0, "max": 10, "hi": 8, "hihi": 9, "lo": 2},
        {"value": (TagMeta("line.pressure", DataType.FLOAT32, "bar", ".2f"), 6.4)},
    )

    props: GaugeProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._dial: QPixmap | None = None
        self._dial_key: Hashable = None
        self.dials_drawn = 0
        """How often the dial pixmap was (re)drawn (tests prove a value does not redraw it)."""

    # ---- what is shown -------------------------------------------------------------------
    def needle_angle(self) -> float | None:
        """Needle direction in Qt degrees, rounded to ``ANGLE_STEP``; None without a value."""
        frac = self.fraction()
        if frac is None:
            return None
        return round((START - SWEEP * frac) / ANGLE_STEP) * ANGLE_STEP

    def display_state(self) -> Hashable:
        shown = self.value_shown()
        text = (shown.text, shown.quality) if shown is not None else None
        return text, self.units(), self.needle_angle(), self.active_marks()

    def scale_changed(self) -> None:
        self._dial = None

    # ---- layout --------------------------------------------------------------------------
    def _layout(self) -> tuple[QRectF, QRectF]:
        """(label rect, dial square) in widget coordinates."""
        s = self.scale
        r = QRectF(self.rect())
        label_h = 20 * s if self.props.label else 0.0
        pad = 2 * s
        size = max(10.0, min(r.width() - 2 * pad, r.height() - label_h - 2 * pad))
        dial = QRectF(r.center().x() - size / 2, label_h + pad, size, size)
        return QRectF(0, 0, r.width(), label_h), dial

    def _readout(self, dial: QRectF) -> tuple[QRectF, QRectF]:
        """Where the value and the units sit: in the open bottom of the arc, clear of the needle
        at either end of its sweep."""
        centre = dial.center()
        radius = dial.width() / 2
        value = QRectF(
            centre.x() - radius * 0.46, centre.y() + radius * 0.5, radius * 0.92, radius * 0.28
        )
        units = QRectF(centre.x() - radius * 0.5, value.bottom(), radius, radius * 0.18)
        return value, units

    # ---- painting ------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        s = self.scale
        _, dial = self._layout()
        painter.drawPixmap(QPointF(0, 0), self._dial_pixmap(painter))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        centre = dial.center()
        radius = dial.width() / 2
        for mark in self.marks():
            if mark.active:  # the band the value is in, in its alarm colour, over the grey one
                self._paint_band(painter, centre, radius, mark.key, mark.colour())
        quality = self.quality()
        shown = self.value_shown()
        if shown is not None:
            value_rect, units_rect = self._readout(dial)
            numeric = quality is not Quality.BAD and self.number() is not None
            size = min(float(theme.VALUE_PX), value_rect.height() / s / 1.15)
            font, text = fit_text(shown.text, value_rect.width(), size, s, numeric=numeric)
            painter.setFont(font)
            painter.setPen(text_colour(quality))
            painter.drawText(value_rect, int(Qt.AlignmentFlag.AlignCenter), text)
            units = self.units()
            if units and quality is not Quality.BAD:
                painter.setFont(theme.font(min(theme.CAPTION_PX, size * 0.7), s))
                painter.setPen(text_colour(quality, theme.TEXT_MUTED))
                painter.drawText(units_rect, int(Qt.AlignmentFlag.AlignCenter), units)
        angle = self.needle_angle()
        colour = theme.TEXT_STALE if quality is Quality.STALE else NEEDLE
        if angle is not None:
            self._paint_needle(painter, centre, radius, angle, colour)
        hub = max(3.0, radius * 0.07)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour if angle is not None else theme.PANEL_EDGE)
        painter.drawEllipse(centre, hub, hub)
        if self.is_bound("value"):
            paint_quality(painter, QRectF(self.rect()), quality, s)

    def _paint_needle(
        self, painter: QPainter, centre: QPointF, radius: float, angle: float, colour: QColor
    ) -> None:
        s = self.scale
        rad = math.radians(angle)
        dx, dy = math.cos(rad), -math.sin(rad)
        length = radius * 0.78
        tail = radius * 0.12
        half = max(1.5, 3.0 * s)
        tip = QPointF(centre.x() + dx * length, centre.y() + dy * length)
        back = QPointF(centre.x() - dx * tail, centre.y() - dy * tail)
        nx, ny = -dy, dx  # normal to the needle
        path = QPainterPath(tip)
        path.lineTo(centre.x() + nx * half, centre.y() + ny * half)
        path.lineTo(back.x() + nx * half * 0.6, back.y() + ny * half * 0.6)
        path.lineTo(back.x() - nx * half * 0.6, back.y() - ny * half * 0.6)
        path.lineTo(centre.x() - nx * half, centre.y() - ny * half)
        path.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(path)

    def _band_range(self, key: str) -> tuple[float, float] | None:
        """The span of values the band of limit ``key`` covers (from it outwards)."""
        p = self.props
        low, high = self.span()
        limit = getattr(p, key)
        if limit is None:
            return None
        outer = {"hi": p.hihi, "lo": p.lolo}.get(key)
        if key in ("hi", "hihi"):
            end = outer if outer is not None else high
            return max(low, limit), min(high, end)
        end = outer if outer is not None else low
        return max(low, end), min(high, limit)

    def _paint_band(
        self, painter: QPainter, centre: QPointF, radius: float, key: str, colour: QColor
    ) -> None:
        band = self._band_range(key)
        if band is None or band[1] <= band[0]:
            return
        low, high = self.span()
        start = START - SWEEP * (band[0] - low) / (high - low)
        end = START - SWEEP * (band[1] - low) / (high - low)
        width = max(2.0, 5 * self.scale)
        r = radius * 0.86 - width / 2
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)
        painter.drawArc(box, round(end * 16), round((start - end) * 16))

    def _dial_pixmap(self, painter: QPainter) -> QPixmap:
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        key = (self.width(), self.height(), self.scale, dpr, self.span())
        if self._dial is not None and self._dial_key == key:
            return self._dial
        pixmap = QPixmap(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        dial_painter = QPainter(pixmap)
        try:
            self._draw_dial(dial_painter)
        finally:
            dial_painter.end()
        self._dial, self._dial_key = pixmap, key
        self.dials_drawn += 1
        return pixmap

    def _draw_dial(self, painter: QPainter) -> None:
        s = self.scale
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        label_rect, dial = self._layout()
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(label_rect, int(Qt.AlignmentFlag.AlignCenter), self.props.label)
        centre = dial.center()
        radius = dial.width() / 2
        # face: a light disc, so the gauge reads as one object on the grey screen
        painter.setPen(QPen(theme.PANEL_EDGE, max(1.0, 1.0 * s)))
        painter.setBrush(theme.FIELD_BG)
        painter.drawEllipse(centre, radius - 1, radius - 1)
        # limit bands (grey, inside the scale arc)
        p = self.props
        for key in ("hi", "lo"):
            if getattr(p, key) is not None:
                self._paint_band(painter, centre, radius, key, BAND_INNER)
        for key in ("hihi", "lolo"):
            if getattr(p, key) is not None:
                self._paint_band(painter, centre, radius, key, BAND_OUTER)
        # the scale arc
        arc_r = radius * 0.86
        pen = QPen(ARC, max(1.0, 1.25 * s))
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = QRectF(centre.x() - arc_r, centre.y() - arc_r, 2 * arc_r, 2 * arc_r)
        painter.drawArc(box, round((START - SWEEP) * 16), round(SWEEP * 16))
        # ticks: outward from the arc; numbers inside
        low, high = self.span()
        ticks = scale_ticks(low, high, p.ticks)

        def angle_of(value: float) -> float:
            return math.radians(START - SWEEP * (value - low) / (high - low))

        major_pen = QPen(theme.TEXT, max(1.0, 1.5 * s))
        major_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        minor_pen = QPen(ARC, max(1.0, 1.0 * s))
        minor_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        major_len = radius * 0.11
        minor_len = radius * 0.055
        for values, tick_pen, length in (
            (ticks.minors, minor_pen, minor_len),
            (ticks.majors, major_pen, major_len),
        ):
            painter.setPen(tick_pen)
            for value in values:
                a = angle_of(value)
                c, si = math.cos(a), -math.sin(a)
                painter.drawLine(
                    QPointF(centre.x() + c * arc_r, centre.y() + si * arc_r),
                    QPointF(centre.x() + c * (arc_r - length), centre.y() + si * (arc_r - length)),
                )
        number_px = max(9.0, min(14.0, radius / s * 0.15))
        font = theme.font(number_px, s)
        fm = theme.metrics(font)
        painter.setFont(font)
        painter.setPen(theme.TEXT_MUTED)
        h = fm.height()
        widths = [fm.horizontalAdvance(label) for label in ticks.labels]
        gap = 3 * s
        inner = arc_r - major_len - gap  # where the tick ends; labels sit inside of it
        # every other number when neighbours would touch along the arc
        step = math.radians(SWEEP) / max(1, len(ticks.majors) - 1)
        spacing = (inner - h) * step
        every = 2 if max(widths, default=0.0) + 4 * s > spacing else 1
        last = len(ticks.majors) - 1
        for index, (value, label) in enumerate(zip(ticks.majors, ticks.labels, strict=True)):
            if index % every and index != last:
                continue
            if every == 2 and index == last and last % 2:
                continue  # an odd last one would crowd the one before it
            a = angle_of(value)
            c, si = math.cos(a), math.sin(a)
            w = widths[index] + 2
            # the label box's centre is pulled in by its half extent in that direction, so
            # wide numbers at 3 and 9 o'clock keep clear of their tick
            distance = inner - abs(c) * w / 2 - abs(si) * h / 2
            x = centre.x() + c * distance
            y = centre.y() - si * distance
            painter.drawText(
                QRectF(x - w / 2, y - h / 2, w, h), int(Qt.AlignmentFlag.AlignCenter), label
            )
