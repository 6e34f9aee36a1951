"""Small monochrome icons for the designer's toolbar, painted (no icon files to keep in step):
align and distribute, z-order. Dark grey on the toolbar's grey, as calm as the screens."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

SIZE = 20
_INK = QColor("#333333")
_SHAPE = QColor("#8c8c8c")
_DISABLED = QColor("#b3b3b3")

# each icon: guide lines (x1, y1, x2, y2) and boxes (x, y, w, h) on a 20 x 20 grid
_SHAPES: dict[str, tuple[list[tuple[float, ...]], list[tuple[float, ...]]]] = {
    "left": ([(3, 2, 3, 18)], [(4, 4, 12, 4), (4, 12, 7, 4)]),
    "hcenter": ([(10, 2, 10, 18)], [(4, 4, 12, 4), (6.5, 12, 7, 4)]),
    "right": ([(17, 2, 17, 18)], [(4, 4, 12, 4), (9, 12, 7, 4)]),
    "top": ([(2, 3, 18, 3)], [(4, 4, 4, 12), (12, 4, 4, 7)]),
    "vcenter": ([(2, 10, 18, 10)], [(4, 4, 4, 12), (12, 6.5, 4, 7)]),
    "bottom": ([(2, 17, 18, 17)], [(4, 4, 4, 12), (12, 9, 4, 7)]),
    "h": ([(2, 2, 2, 18), (18, 2, 18, 18)], [(4, 6, 3, 8), (8.5, 6, 3, 8), (13, 6, 3, 8)]),
    "v": ([(2, 2, 18, 2), (2, 18, 18, 18)], [(6, 4, 8, 3), (6, 8.5, 8, 3), (6, 13, 8, 3)]),
}


def _paint(name: str, ink: QColor, shape: QColor) -> QPixmap:
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if name in ("front", "back"):
        under, over = (QRectF(3, 3, 10, 10), QRectF(7, 7, 10, 10))
        first, second = (under, over) if name == "front" else (over, under)
        painter.setPen(QPen(ink, 1.2))
        painter.setBrush(shape if name == "back" else QColor("#e6e6e6"))
        painter.drawRect(first)
        painter.setBrush(ink if name == "front" else QColor("#e6e6e6"))
        painter.drawRect(second)
    else:
        lines, boxes = _SHAPES[name]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(shape)
        for x, y, w, h in boxes:
            painter.drawRect(QRectF(x, y, w, h))
        painter.setPen(QPen(ink, 1.6))
        for x1, y1, x2, y2 in lines:
            painter.drawLine(QRectF(x1, y1, 0, 0).topLeft(), QRectF(x2, y2, 0, 0).topLeft())
    painter.end()
    return pixmap


def tool_icon(name: str) -> QIcon:
    """The icon ``name``: an align edge (left, hcenter, right, top, vcenter, bottom), a
    distribute axis (h, v), or a z-order move (front, back)."""
    icon = QIcon()
    icon.addPixmap(_paint(name, _INK, _SHAPE), QIcon.Mode.Normal)
    icon.addPixmap(_paint(name, _DISABLED, _DISABLED), QIcon.Mode.Disabled)
    return icon
