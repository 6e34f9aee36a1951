"""Bar: a horizontal or vertical bar filled to the value, with limit marks, scale ends and value.

The fill is grey whatever the value (ISA-101: the bar's length tells the story); limits are dark
triangles with a thin line across the bar. Only with ``alarm_colours: true`` does the mark the
value is at or beyond turn yellow (H/L) or red (HH/LL).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import WidgetExample, WidgetProps
from widgets.limits import Mark, RangeProps, RangeWidget, compact, paint_triangle, spread
from widgets.numeric import fit_text
from widgets.quality_look import paint_quality, text_colour

MARK_PX = 11  # mark names and scale ends, design px
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTRE = Qt.AlignmentFlag.AlignCenter


class BarProps(RangeProps):
    """Static properties of a bar display."""

    orientation: Literal["horizontal", "vertical"] = Field(
        default="horizontal", description="horizontal fills left to right, vertical bottom up"
    )
    show_range: bool = Field(default=True, description="write min and max at the bar's ends")


class Bar(RangeWidget):
    """A bar filled to the value's share of [min, max], with HH/H/L/LL marks and the value."""

    TYPE_KEY: ClassVar[str] = "bar"
    Props: ClassVar[type[WidgetProps]] = BarProps
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (260, 72),
        {"label": "Flow", "min": 0, "max": 120, "hi": 100, "lo": 20},
        {"value": (TagMeta("line.flow", DataType.FLOAT32, "m³/h", ".1f"), 64.5)},
    )

    props: BarProps

    def display_state(self) -> Hashable:
        shown = self.value_shown()
        text = (shown.text, shown.quality) if shown is not None else None
        frac = self.fraction()
        # a 0.2 % step is below one pixel on any bar we draw; do not repaint for it
        fill = None if frac is None else round(frac * 500)
        return text, self.units(), fill, self.active_marks()

    def paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        if self.props.orientation == "horizontal":
            self._paint_horizontal(painter)
        else:
            self._paint_vertical(painter)
        if self.is_bound("value"):
            paint_quality(painter, QRectF(self.rect()), self.quality(), self.scale)

    # ---- shared pieces ---------------------------------------------------------------------
    def _paint_track(self, painter: QPainter, track: QRectF, vertical: bool) -> None:
        s = self.scale
        painter.setPen(QPen(theme.STOPPED_EDGE, max(1.0, 1.0 * s)))
        painter.setBrush(theme.STOPPED_FILL)
        painter.drawRect(track)
        frac = self.fraction()
        if frac is None or frac <= 0:
            return
        inner = track.adjusted(1, 1, -1, -1)
        if vertical:
            h = inner.height() * frac
            fill = QRectF(inner.left(), inner.bottom() - h, inner.width(), h)
        else:
            fill = QRectF(inner.left(), inner.top(), inner.width() * frac, inner.height())
        painter.setPen(Qt.PenStyle.NoPen)
        stale = self.quality() is Quality.STALE
        painter.setBrush(theme.TEXT_STALE if stale else theme.LEVEL_FILL)
        painter.drawRect(fill)

    def _mark_line(self, painter: QPainter, mark: Mark, a: QPointF, b: QPointF) -> None:
        colour = mark.colour() if mark.active else theme.TEXT
        painter.setPen(QPen(colour, max(1.0, (2.0 if mark.active else 1.25) * self.scale)))
        painter.drawLine(a, b)

    def _value_text(self, painter: QPainter, rect: QRectF, align: Qt.AlignmentFlag) -> None:
        shown = self.value_shown()
        if shown is None:
            return
        s = self.scale
        quality = shown.quality
        numeric = self.number() is not None
        value_font, text = fit_text(shown.text, rect.width(), theme.VALUE_PX, s, numeric=numeric)
        units = self.units() if quality is not Quality.BAD else ""
        units_font = theme.font(theme.LABEL_PX, s)
        units_w = theme.metrics(units_font).horizontalAdvance(" " + units) if units else 0.0
        if units and units_w + theme.metrics(value_font).horizontalAdvance(text) > rect.width():
            value_font, text = fit_text(
                shown.text, rect.width() - units_w, theme.VALUE_PX, s, numeric=numeric
            )
        text_w = theme.metrics(value_font).horizontalAdvance(text)
        total = text_w + units_w
        if align & Qt.AlignmentFlag.AlignRight:
            left = rect.right() - total
        elif align & Qt.AlignmentFlag.AlignHCenter:
            left = rect.center().x() - total / 2
        else:
            left = rect.left()
        painter.setFont(value_font)
        painter.setPen(text_colour(quality))
        painter.drawText(QRectF(left, rect.top(), text_w + 1, rect.height()), int(_LEFT), text)
        if units:
            painter.setFont(units_font)
            painter.setPen(text_colour(quality, theme.TEXT_MUTED))
            painter.drawText(
                QRectF(left + text_w, rect.top(), units_w + 1, rect.height()),
                int(_LEFT),
                " " + units,
            )

    # ---- horizontal ------------------------------------------------------------------------
    def _paint_horizontal(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        pad = 6 * s
        head_h = 28 * s
        range_h = (MARK_PX + 5) * s if self.props.show_range else 2 * s
        marks = self.marks()
        mark_h = 10 * s if marks else 0.0
        head = QRectF(pad, 0, r.width() - 2 * pad, head_h)
        if self.quality() is Quality.UNCERTAIN:  # keep the value clear of the "?" badge
            head.setRight(head.right() - 14 * s)
        value_rect = QRectF(head)
        if self.props.label:
            label_font = theme.font(theme.LABEL_PX, s)
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(label_font)
            painter.drawText(head, int(_LEFT), self.props.label)
            label_w = theme.metrics(label_font).horizontalAdvance(self.props.label) + 8 * s
            value_rect.setLeft(min(head.right() - 20 * s, head.left() + label_w))
        self._value_text(painter, value_rect, _RIGHT)
        mark_font = theme.font(MARK_PX, s, bold=True)
        name_w = theme.metrics(mark_font).horizontalAdvance("HH") + 4 * s if marks else 0.0
        track_h = max(6 * s, min(22 * s, r.height() - head_h - mark_h - range_h - 2 * s))
        track = QRectF(pad, head_h + mark_h, r.width() - 2 * pad - name_w * 0.5, track_h)
        self._paint_track(painter, track, vertical=False)
        painter.setFont(mark_font)
        tri = 7 * s
        xs = [track.left() + track.width() * mark.fraction for mark in marks]
        placed: list[QRectF] = []
        for index, (mark, x) in enumerate(sorted(zip(marks, xs, strict=True), key=lambda m: m[1])):
            self._mark_line(
                painter, mark, QPointF(x, track.top() - 1 * s), QPointF(x, track.bottom())
            )
            paint_triangle(painter, QPointF(x, track.top() - 1 * s), "down", tri, mark.colour(), s)
            # the name goes right of its triangle, else left, else (marks too close) nowhere
            text_w = theme.metrics(mark_font).horizontalAdvance(mark.name) + 2 * s
            top = track.top() - mark_h - 1 * s
            later = sorted(xs)[index + 1 :]
            limit = later[0] - tri * 0.7 if later else r.width()
            right = QRectF(x + tri * 0.7, top, text_w, mark_h)
            left = QRectF(x - tri * 0.7 - text_w, top, text_w, mark_h)
            for rect in (right, left):
                fits = rect.right() <= limit and rect.left() >= 0
                if fits and not any(rect.intersects(other) for other in placed):
                    placed.append(rect)
                    painter.setPen(theme.TEXT)
                    painter.drawText(rect, int(_CENTRE), mark.name)
                    break
        if self.props.show_range:
            low, high = self.span()
            painter.setFont(theme.font(MARK_PX, s))
            painter.setPen(theme.TEXT_MUTED)
            row = QRectF(track.left(), track.bottom() + 1 * s, track.width(), range_h)
            painter.drawText(row, int(_LEFT), compact(low))
            painter.drawText(row, int(_RIGHT), compact(high))

    # ---- vertical --------------------------------------------------------------------------
    def _paint_vertical(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        label_h = 22 * s if self.props.label else 4 * s
        value_h = 30 * s
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(QRectF(0, 0, r.width(), label_h), int(_CENTRE), self.props.label)
        range_font = theme.font(MARK_PX, s)
        low, high = self.span()
        range_w = 0.0
        if self.props.show_range:
            fm = theme.metrics(range_font)
            range_w = max(fm.horizontalAdvance(compact(low)), fm.horizontalAdvance(compact(high)))
            range_w += 4 * s
        mark_font = theme.font(MARK_PX, s, bold=True)
        marks = self.marks()
        tri = 7 * s
        marks_w = tri + 3 * s + theme.metrics(mark_font).horizontalAdvance("HH") if marks else 0.0
        bar_w = max(10 * s, min(40 * s, r.width() - range_w - marks_w - 12 * s))
        left = (r.width() - (range_w + bar_w + marks_w)) / 2 + range_w
        top = label_h + 6 * s
        track = QRectF(left, top, bar_w, max(10 * s, r.height() - top - value_h - 4 * s))
        self._paint_track(painter, track, vertical=True)
        painter.setFont(mark_font)
        marks = sorted(marks, key=lambda m: -m.fraction)  # top first
        ys = [track.bottom() - track.height() * mark.fraction for mark in marks]
        name_h = theme.metrics(mark_font).height()
        for mark, y, top in zip(marks, ys, spread(ys, name_h), strict=True):
            self._mark_line(painter, mark, QPointF(track.left(), y), QPointF(track.right() + 1, y))
            tip = QPointF(track.right() + 1 * s, y)
            paint_triangle(painter, tip, "left", tri, mark.colour(), s)
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(tip.x() + tri + 2 * s, top, marks_w, name_h), int(_LEFT), mark.name
            )
        if self.props.show_range:
            painter.setFont(range_font)
            painter.setPen(theme.TEXT_MUTED)
            h = theme.metrics(range_font).height()
            for value, y in ((high, track.top()), (low, track.bottom())):
                painter.drawText(
                    QRectF(left - range_w - 2 * s, y - h / 2, range_w, h),
                    int(_RIGHT),
                    compact(value),
                )
        value_rect = QRectF(2 * s, r.height() - value_h, r.width() - 4 * s, value_h)
        self._value_text(painter, value_rect, _CENTRE)
