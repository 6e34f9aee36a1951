"""How a widget shows the quality of its data, the same way everywhere.

GOOD shows nothing extra. UNCERTAIN keeps the value and adds a "?" badge and a dotted amber edge.
STALE greys the value and draws a dashed grey edge. BAD replaces the value by ``####`` inside a
magenta, hatched frame. The reason goes into the tooltip (see ``HmiWidget``).
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from hmi_app.core.quality import Quality
from widgets import theme

BAD_PLACEHOLDER = "####"

_EDGES = {
    Quality.UNCERTAIN: (theme.UNCERTAIN_EDGE, Qt.PenStyle.DotLine),
    Quality.STALE: (theme.STALE_EDGE, Qt.PenStyle.DashLine),
    Quality.BAD: (theme.BAD_EDGE, Qt.PenStyle.SolidLine),
}


def text_colour(quality: Quality, normal: QColor = theme.TEXT) -> QColor:
    """Colour of value text at ``quality``: greyed when stale, otherwise ``normal``."""
    return theme.TEXT_STALE if quality is Quality.STALE else normal


def paint_quality(
    painter: QPainter,
    rect: QRectF,
    quality: Quality,
    scale: float,
    badge: Literal["left", "right"] = "right",
) -> None:
    """Frame ``rect`` for a non-good ``quality`` (call after painting the content).

    ``badge`` puts the UNCERTAIN "?" on the side where the content leaves room.
    """
    if quality is Quality.GOOD:
        return
    colour, style = _EDGES[quality]
    width = max(1.5, 2.5 * scale)
    painter.save()
    if quality is Quality.BAD:
        hatch = QColor(theme.BAD_EDGE)
        hatch.setAlpha(90)
        brush = QBrush(hatch, Qt.BrushStyle.BDiagPattern)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(brush)
        painter.drawRect(rect)
    pen = QPen(colour, width, style)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    half = width / 2
    painter.drawRect(rect.adjusted(half, half, -half, -half))
    if quality is Quality.UNCERTAIN:
        _paint_badge(painter, rect, scale, badge)
    painter.restore()


def _paint_badge(
    painter: QPainter, rect: QRectF, scale: float, side: Literal["left", "right"]
) -> None:
    size = max(10.0, 16 * scale)
    left = rect.left() + 1 if side == "left" else rect.right() - size - 1
    badge = QRectF(left, rect.top() + 1, size, size)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.UNCERTAIN_EDGE)
    painter.drawRect(badge)
    painter.setPen(QColor("#ffffff"))
    painter.setFont(theme.font(13, scale, bold=True))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "?")
