"""The eight resize handles of a selected widget: where they are, which edges each moves, and
how the selection, handles, guides and rubber band are drawn.

Handles keep one size on screen whatever the zoom (they are tools, not part of the design).
The look is calm: a thin blue outline, small white squares, thin guide lines; no fills over the
widgets except the faint rubber band.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from screens.designer.snapping import Edges, Guide

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

Handle = Literal["nw", "n", "ne", "e", "se", "s", "sw", "w"]
HANDLES: tuple[Handle, ...] = ("nw", "n", "ne", "e", "se", "s", "sw", "w")
HANDLE_PX = 7
"""Side of a handle square in screen pixels."""
GRAB_PX = 5
"""How far outside a handle square a press still grabs it."""

SELECTION = QColor("#2f6db5")
GROUP_EDGE = QColor("#2f6db5")
GUIDE = QColor("#d0308a")
RUBBER_EDGE = QColor("#2f6db5")
RUBBER_FILL = QColor(47, 109, 181, 28)
UNBOUND = QColor("#7a7a7a")

EDGES: dict[Handle, Edges] = {
    "nw": frozenset({"left", "top"}),
    "n": frozenset({"top"}),
    "ne": frozenset({"right", "top"}),
    "e": frozenset({"right"}),
    "se": frozenset({"right", "bottom"}),
    "s": frozenset({"bottom"}),
    "sw": frozenset({"left", "bottom"}),
    "w": frozenset({"left"}),
}

CURSORS: dict[Handle, Qt.CursorShape] = {
    "nw": Qt.CursorShape.SizeFDiagCursor,
    "se": Qt.CursorShape.SizeFDiagCursor,
    "ne": Qt.CursorShape.SizeBDiagCursor,
    "sw": Qt.CursorShape.SizeBDiagCursor,
    "n": Qt.CursorShape.SizeVerCursor,
    "s": Qt.CursorShape.SizeVerCursor,
    "e": Qt.CursorShape.SizeHorCursor,
    "w": Qt.CursorShape.SizeHorCursor,
}


def handle_centre(rect: QRect, handle: Handle) -> QPoint:
    """The middle of ``handle`` on ``rect`` (widget pixels)."""
    left, right = rect.left(), rect.left() + rect.width()
    top, bottom = rect.top(), rect.top() + rect.height()
    x = left if "w" in handle else right if "e" in handle else (left + right) // 2
    y = top if "n" in handle else bottom if "s" in handle else (top + bottom) // 2
    return QPoint(x, y)


def handle_rect(rect: QRect, handle: Handle) -> QRect:
    """The square drawn for ``handle``."""
    centre = handle_centre(rect, handle)
    half = HANDLE_PX // 2
    return QRect(centre.x() - half, centre.y() - half, HANDLE_PX, HANDLE_PX)


def handle_at(rect: QRect, pos: QPointF | QPoint) -> Handle | None:
    """The handle of ``rect`` under ``pos`` (corners first), or None."""
    point = pos.toPoint() if isinstance(pos, QPointF) else pos
    for handle in ("nw", "ne", "se", "sw", "n", "e", "s", "w"):
        grab = handle_rect(rect, handle).adjusted(-GRAB_PX, -GRAB_PX, GRAB_PX, GRAB_PX)
        if grab.contains(point):
            return handle
    return None


def overlay_margin() -> int:
    """How far the overlay of a selected rectangle reaches outside it (for repaint areas)."""
    return HANDLE_PX + 2


def paint_selection(
    painter: QPainter, rects: Iterable[QRect], handles_on: QRect | None, groups: Iterable[QRect]
) -> None:
    """Outline every selected rectangle, dash the outline of selected groups, and draw the
    handles on ``handles_on`` (the selected widget, or the frame around the selection)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(SELECTION, 1))
    for rect in rects:
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
    pen = QPen(GROUP_EDGE, 1, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    for rect in groups:
        painter.drawRect(rect.adjusted(-3, -3, 2, 2))
    if handles_on is not None:
        painter.setPen(QPen(SELECTION, 1))
        painter.setBrush(QColor("#ffffff"))
        for handle in HANDLES:
            painter.drawRect(handle_rect(handles_on, handle))
    painter.restore()


def paint_guides(painter: QPainter, lines: Iterable[tuple[QPointF, QPointF]]) -> None:
    """Thin dashed guide lines (widget pixels)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    pen = QPen(GUIDE, 1, Qt.PenStyle.DashLine)
    pen.setDashPattern([4.0, 3.0])
    painter.setPen(pen)
    for start, end in lines:
        painter.drawLine(start, end)
    painter.restore()


def paint_rubber_band(painter: QPainter, rect: QRect) -> None:
    """The rubber band being dragged out (widget pixels)."""
    painter.save()
    painter.setPen(QPen(RUBBER_EDGE, 1))
    painter.setBrush(RUBBER_FILL)
    painter.drawRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5))
    painter.restore()


def paint_unbound(painter: QPainter, rect: QRect) -> None:
    """A widget with bindable properties but no binding: a small hollow corner tag, quiet
    enough to ignore, clear enough to find."""
    size = 9
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(UNBOUND, 1.2))
    painter.setBrush(QColor("#f4f4f4"))
    x, y = rect.right() - size - 2, rect.top() + 2
    painter.drawEllipse(QRectF(x, y, size, size))
    painter.drawLine(QPointF(x + 2.5, y + size / 2), QPointF(x + size - 2.5, y + size / 2))
    painter.restore()


def live_rect(canvas: DesignCanvas, ident: str) -> QRect:
    """Where ``ident`` shows now (moved along while it is being dragged)."""
    gesture = canvas.gesture
    if gesture is not None and ident in gesture.live_ids():
        return canvas.rects[ident].translated(gesture.offset_px())
    return canvas.rects[ident]


def group_rect(canvas: DesignCanvas, group: str) -> QRect:
    """The area the members of ``group`` cover now."""
    area = QRect()
    for ident in canvas.group_members(group):
        area = area.united(live_rect(canvas, ident))
    return area


def guide_line(canvas: DesignCanvas, guide: Guide) -> tuple[QPointF, QPointF]:
    """A snapping guide in widget pixels (on the pixel grid, so it stays one pixel wide)."""
    z, origin = canvas.zoom, canvas.design_area().topLeft()
    ox, oy = origin.x(), origin.y()
    if guide.axis == "x":
        x = round(ox + guide.pos * z) + 0.5
        return QPointF(x, oy + guide.start * z), QPointF(x, oy + guide.end * z)
    y = round(oy + guide.pos * z) + 0.5
    return QPointF(ox + guide.start * z, y), QPointF(ox + guide.end * z, y)


def paint_overlay(canvas: DesignCanvas, painter: QPainter) -> None:
    """Selection outlines, the handles of the selection's frame, group outlines, snapping guides,
    the drop preview and the rubber band, over everything else."""
    gesture = canvas.gesture
    rects = [live_rect(canvas, i) for i in canvas.selection.ids()]
    frame: QRect | None = None
    for rect in rects:
        frame = rect if frame is None else frame.united(rect)
    if gesture is not None and not gesture.shows_handles():
        frame = None
    groups = [group_rect(canvas, g) for g in canvas.selection.groups()]
    if frame is not None and len(rects) > 1:
        groups.append(frame)  # the frame the handles resize, dashed like a group
    paint_selection(painter, rects, frame, groups)
    guides = list(gesture.guides()) if gesture is not None else []
    if canvas.drop_preview is not None:
        geometry, drop_guides = canvas.drop_preview
        paint_selection(painter, [canvas.to_widget(geometry)], None, [])
        guides.extend(drop_guides)
    paint_guides(painter, [guide_line(canvas, g) for g in guides])
    band = gesture.band() if gesture is not None else None
    if band is not None:
        paint_rubber_band(painter, band)
