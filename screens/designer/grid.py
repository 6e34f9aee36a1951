"""What the design canvas draws under its overlay: workspace, screen, grid and the widgets.

The grid: lines (not dots) one design step apart, a shade darker than the screen background
so they read as texture, never as content; every fifth line a little stronger, to count by.
When the zoom would bring lines closer than ``MIN_SPACING_PX`` screen pixels, only every second
(fourth, ...) line is drawn. Widgets paint themselves (``HmiWidget.paint``); an entry that could
not be built is a hatched box with its id, and a widget with nothing bound gets a corner mark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QRegion

from screens.designer.handles import paint_unbound
from screens.designer.palette import is_unbound
from widgets import theme

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

MIN_SPACING_PX = 6.0
DEFAULT_STEP = 8
WORKSPACE = QColor("#c4c4c4")
DESIGN_EDGE = QColor("#9a9a9a")
BROKEN_EDGE = QColor("#7a7a7a")


def grid_colours(background: QColor) -> tuple[QColor, QColor]:
    """Minor and major line colours for a screen background."""
    return background.darker(106), background.darker(113)


def paint_grid(
    painter: QPainter, design: QRectF, step: int, zoom: float, exposed: QRect, background: QColor
) -> None:
    """Grid lines every ``step`` design pixels over ``design`` (the screen's area in widget
    pixels at ``zoom``), only where ``exposed``."""
    if step <= 0:
        return
    stride = step
    while stride * zoom < MIN_SPACING_PX:
        stride *= 2
    spacing = stride * zoom
    area = design.intersected(QRectF(exposed))
    if area.isEmpty():
        return
    minor_colour, major_colour = grid_colours(background)
    minor: list[QLineF] = []
    major: list[QLineF] = []
    first = math.ceil((area.left() - design.left()) / spacing)
    last = math.floor((area.right() - design.left()) / spacing)
    for k in range(max(first, 1), last + 1):
        x = round(design.left() + k * spacing) + 0.5
        (major if k % 5 == 0 else minor).append(QLineF(x, area.top(), x, area.bottom()))
    first = math.ceil((area.top() - design.top()) / spacing)
    last = math.floor((area.bottom() - design.top()) / spacing)
    for k in range(max(first, 1), last + 1):
        y = round(design.top() + k * spacing) + 0.5
        (major if k % 5 == 0 else minor).append(QLineF(area.left(), y, area.right(), y))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QPen(minor_colour, 1))
    painter.drawLines(minor)
    painter.setPen(QPen(major_colour, 1))
    painter.drawLines(major)
    painter.restore()


def paint_scene(
    canvas: DesignCanvas,
    painter: QPainter,
    exposed: QRect,
    skip: Sequence[str],
    region: QRegion | None = None,
) -> None:
    """Workspace, screen, grid and every widget not in ``skip`` that touches ``region`` (by
    default all of ``exposed``)."""
    painter.fillRect(exposed, WORKSPACE)
    design = canvas.design_area()
    background = canvas.background()
    painter.fillRect(design, background)
    if canvas.grid_visible:
        paint_grid(painter, design, canvas.grid_step, canvas.zoom, exposed, background)
    skipped = set(skip)
    shown = [i for i in canvas.order if i not in skipped]
    paint_items(
        canvas, painter, region if region is not None else QRegion(exposed), shown, QPoint()
    )
    painter.save()
    painter.setPen(QPen(DESIGN_EDGE, 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(design.adjusted(-0.5, -0.5, 0.5, 0.5))
    painter.restore()


def render_static(canvas: DesignCanvas, skip: Sequence[str]) -> QPixmap:
    """Everything but ``skip`` painted into a pixmap: what a drag repaints the rest from."""
    ratio = canvas.devicePixelRatioF()
    pixmap = QPixmap(max(1, round(canvas.width() * ratio)), max(1, round(canvas.height() * ratio)))
    pixmap.setDevicePixelRatio(ratio)
    painter = QPainter(pixmap)
    paint_scene(canvas, painter, canvas.rect(), skip)
    painter.end()
    return pixmap


class SceneCache:
    """The scene (workspace, screen, grid, widgets: no overlay) kept in a pixmap the size of
    the canvas, repainted only where it changed (``invalidate``) or where Qt asks.

    Painting goes through it (one extra blit), so when a drag starts the widgets that stay put
    are already drawn: the drag's pixmap is a copy with only the moving widgets' areas
    repainted without them, instead of a full repaint of every widget. A canvas larger than
    ``MAX_PIXELS`` (deep zoom) keeps no cache and paints directly.
    """

    MAX_PIXELS = 16_000_000

    def __init__(self) -> None:
        self.pixmap: QPixmap | None = None
        self.stale = QRegion()

    def invalidate(self, area: QRegion) -> None:
        self.stale = self.stale.united(area)

    def render(self, canvas: DesignCanvas, region: QRegion) -> QPixmap | None:
        """The cache with ``region`` and everything invalidated repainted (None: too large)."""
        ratio = canvas.devicePixelRatioF()
        size = QSize(max(1, round(canvas.width() * ratio)), max(1, round(canvas.height() * ratio)))
        if size.width() * size.height() > self.MAX_PIXELS:
            self.pixmap, self.stale = None, QRegion()
            return None
        pixmap = self.pixmap
        if pixmap is None or pixmap.size() != size or pixmap.devicePixelRatio() != ratio:
            pixmap = QPixmap(size)
            pixmap.setDevicePixelRatio(ratio)
            todo = QRegion(canvas.rect())
        else:
            todo = region.united(self.stale).intersected(canvas.rect())
        self.pixmap, self.stale = pixmap, QRegion()
        if not todo.isEmpty():
            _paint_region(canvas, pixmap, todo, ())
        return pixmap

    def without(self, canvas: DesignCanvas, skip: Sequence[str]) -> QPixmap:
        """The scene without the widgets ``skip`` (a drag's static pixmap)."""
        cached = self.render(canvas, QRegion())
        if cached is None:
            return render_static(canvas, skip)
        static = QPixmap(cached)  # shares the cache's pixels until painted on
        holes = QRegion()
        for ident in skip:
            holes = holes.united(canvas.rects[ident].adjusted(-1, -1, 1, 1))
        _paint_region(canvas, static, holes, skip)
        return static


def _paint_region(
    canvas: DesignCanvas, pixmap: QPixmap, region: QRegion, skip: Sequence[str]
) -> None:
    painter = QPainter(pixmap)
    painter.setClipRegion(region)
    paint_scene(canvas, painter, region.boundingRect(), skip, region)
    painter.end()


def paint_items(
    canvas: DesignCanvas, painter: QPainter, region: QRegion, ids: Sequence[str], offset: QPoint
) -> None:
    """The widgets ``ids`` (in that order) that touch ``region``, moved by ``offset``."""
    painted = 0
    touches = region.intersects
    for ident in ids:
        rect = canvas.rects[ident].translated(offset)
        if not touches(rect):
            continue
        item = canvas.items[ident]
        painter.save()
        if item is None:
            _paint_broken(painter, rect, ident, canvas.zoom)
            painter.restore()
            continue
        painter.translate(rect.topLeft())
        item.paint(painter)
        painted += 1
        painter.restore()
        entry = canvas.entries[ident]
        if is_unbound(entry.type, entry.props, entry.bind):
            paint_unbound(painter, rect)
    canvas.items_painted += painted


def _paint_broken(painter: QPainter, rect: QRect, ident: str, zoom: float) -> None:
    """An entry the widget rejects: a hatched box with its id (the tooltip says why), still
    selectable and movable so it can be fixed or deleted."""
    painter.setPen(QPen(BROKEN_EDGE, 1, Qt.PenStyle.DashLine))
    painter.setBrush(QBrush(theme.PANEL_EDGE, Qt.BrushStyle.BDiagPattern))
    painter.drawRect(rect.adjusted(0, 0, -1, -1))
    font = theme.font(theme.CAPTION_PX, zoom)
    fm = theme.metrics(font)
    text = ident if rect.height() < 2.2 * fm.height() else f"{ident}\n(cannot show)"
    painter.setPen(theme.TEXT_MUTED)
    painter.setFont(font)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
