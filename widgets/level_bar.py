"""Level bar: a vertical tank level with limit marks and the value below it."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QPolygonF

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import WidgetExample, WidgetProps
from widgets.limits import RangeWidget, ScaleProps
from widgets.quality_look import paint_quality, text_colour


class LevelProps(ScaleProps):
    """Static properties of a level bar (limits are only marks; alarms come from the runtime)."""


class LevelBar(RangeWidget):
    """A vertical bar filled to the value's share of [min, max], with HH/H/L/LL marks."""

    TYPE_KEY: ClassVar[str] = "level"
    Props: ClassVar[type[WidgetProps]] = LevelProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (120, 220),
        {"label": "Tank", "hi": 80, "lo": 20},
        {"value": (TagMeta("line.level", DataType.FLOAT32, "%", ".1f"), 63.2)},
    )

    props: LevelProps

    def fraction(self) -> float | None:
        """Share of the bar to fill (0..1), None when there is no usable value."""
        if not self.is_bound("value"):
            return None
        shown = self.shown("value")
        if shown.quality is Quality.BAD or not isinstance(shown.value, int | float):
            return None
        low, high = self.span()
        return min(1.0, max(0.0, (float(shown.value) - low) / (high - low)))

    def display_state(self) -> Hashable:
        shown = self.shown("value", self.props.format) if self.is_bound("value") else None
        frac = self.fraction()
        # a 0.2 % step is below one pixel on any bar we draw; do not repaint for it
        return shown, None if frac is None else round(frac * 500)

    def paint(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect())
        label_h = 20 * s if self.props.label else 0.0
        value_h = 30 * s
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(
                QRectF(0, 0, r.width(), label_h),
                int(Qt.AlignmentFlag.AlignCenter),
                self.props.label,
            )
        bar_w = min(r.width() * 0.45, 48 * s)
        bar = QRectF(
            r.center().x() - bar_w / 2 - 8 * s,
            label_h + 4 * s,
            bar_w,
            r.height() - label_h - value_h - 8 * s,
        )
        painter.setPen(theme.STOPPED_EDGE)
        painter.setBrush(theme.STOPPED_FILL)
        painter.drawRect(bar)
        frac = self.fraction()
        shown = self.shown("value", self.props.format) if self.is_bound("value") else None
        quality = shown.quality if shown else Quality.GOOD
        if frac is not None:
            fill_h = bar.height() * frac
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.TEXT_STALE if quality is Quality.STALE else theme.LEVEL_FILL)
            painter.drawRect(QRectF(bar.left() + 1, bar.bottom() - fill_h, bar.width() - 1, fill_h))
        self._paint_marks(painter, bar)
        if shown is not None:
            units = self.units()
            text = (
                f"{shown.text} {units}".strip() if shown.quality is not Quality.BAD else shown.text
            )
            painter.setPen(text_colour(quality))
            painter.setFont(theme.font(theme.VALUE_PX, s, bold=True))
            value_rect = QRectF(0, r.height() - value_h, r.width(), value_h)
            painter.drawText(value_rect, int(Qt.AlignmentFlag.AlignCenter), text)
            paint_quality(painter, bar, quality, s)

    def _paint_marks(self, painter: QPainter, bar: QRectF) -> None:
        s = self.scale
        low, high = self.span()
        painter.setFont(theme.font(11, s, bold=True))
        for name, mark in (
            ("HH", self.props.hihi),
            ("H", self.props.hi),
            ("L", self.props.lo),
            ("LL", self.props.lolo),
        ):
            if mark is None or not low <= mark <= high:
                continue
            y = bar.bottom() - bar.height() * (mark - low) / (high - low)
            painter.setPen(QPen(theme.TEXT, max(1.0, 1.5 * s)))
            painter.drawLine(QPointF(bar.left() - 3 * s, y), QPointF(bar.right() + 3 * s, y))
            tri = 6 * s
            painter.setBrush(theme.TEXT)
            painter.setPen(Qt.PenStyle.NoPen)
            x = bar.right() + 4 * s
            painter.drawPolygon(
                QPolygonF(
                    [
                        QPointF(x, y),
                        QPointF(x + tri, y - tri / 1.5),
                        QPointF(x + tri, y + tri / 1.5),
                    ]
                )
            )
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(x + tri + 2 * s, y - 8 * s, 24 * s, 16 * s),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                name,
            )
