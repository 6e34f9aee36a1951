"""The canvas that paints a screen's widgets: laid out at a design size, scaled to fit.

Widgets (``HmiWidget``) are items, not QWidgets: the canvas keeps them in paint order, repaints
the rectangles of those whose display changed (Qt merges them into one paint per event-loop
turn), sends clicks and keys to the item under the mouse or with the focus, and shows an item's
tooltip when the mouse rests on it. Real QWidgets can be placed too; they are laid out the same
way. The area outside the scaled design is filled with the screen background.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from widgets.base import HmiWidget

Child = HmiWidget | QWidget


class ItemCanvas(QWidget):
    """Hosts widgets at design geometry x scale factor, centred; paints and routes input."""

    def __init__(self, design: QSize, background: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.design = design
        self.background = background
        self.scale = 1.0
        self._offset = (0.0, 0.0)
        self._children: list[tuple[Child, QRect]] = []
        self._items: list[HmiWidget] = []
        self._pressed: HmiWidget | None = None
        self._focus: HmiWidget | None = None
        self._dirty: list[HmiWidget] = []  # asked for a repaint since the last request
        self._paint_scheduled = False
        self._to_paint: list[HmiWidget] = []  # requested from Qt, not yet painted
        self._requested = QRect()
        self._full_pending = True
        self._order: dict[int, int] = {}  # id(item) -> paint order
        self._overlaps: dict[int, tuple[int, ...]] = {}  # paint order -> items overlapping it
        self.items_painted = 0
        """Items painted so far (the benchmark and tests read it)."""
        self.context_menu_handler: Callable[[HmiWidget, QPoint], None] | None = None
        """Called on a right-click (or the menu key) over an item that shows tag values, with
        that item and the global position (the screen offers trends of its tags there)."""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ---- children --------------------------------------------------------------------------
    def place(self, child: Child, design_rect: QRect) -> None:
        """Add ``child`` at ``design_rect`` (design pixels), above what is already placed."""
        self._children.append((child, QRect(design_rect)))
        if isinstance(child, HmiWidget):
            child.host = self
            self._order[id(child)] = len(self._items)
            self._items.append(child)
        else:
            child.setParent(self)
        self._layout_child(child, design_rect)

    def move_child(self, child: Child, design_rect: QRect) -> None:
        """Change where a placed child sits (design pixels)."""
        for index, (placed, _) in enumerate(self._children):
            if placed is child:
                if isinstance(child, HmiWidget):
                    self._full_pending = True
                    self.update(child.geometry())
                self._children[index] = (child, QRect(design_rect))
                self._layout_child(child, design_rect)
                return
        raise KeyError("widget is not on this canvas")

    def design_rect_of(self, child: Child) -> QRect:
        for placed, rect in self._children:
            if placed is child:
                return QRect(rect)
        raise KeyError("widget is not on this canvas")

    def items(self) -> list[HmiWidget]:
        """The hosted widgets in paint order (bottom first)."""
        return list(self._items)

    # ---- geometry --------------------------------------------------------------------------
    def to_widget(self, rect: QRect) -> QRect:
        """Design rectangle -> widget pixels."""
        ox, oy = self._offset
        s = self.scale
        left = round(ox + rect.x() * s)
        top = round(oy + rect.y() * s)
        right = round(ox + (rect.x() + rect.width()) * s)
        bottom = round(oy + (rect.y() + rect.height()) * s)
        return QRect(left, top, max(1, right - left), max(1, bottom - top))

    def design_area(self) -> QRectF:
        """Where the scaled design sits inside the widget."""
        ox, oy = self._offset
        return QRectF(ox, oy, self.design.width() * self.scale, self.design.height() * self.scale)

    def item_centre(self, item: HmiWidget) -> QPoint:
        """Widget pixel at the middle of ``item`` (for tests that click it)."""
        return item.geometry().center()

    def sizeHint(self) -> QSize:
        return QSize(self.design)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        w, h = self.width(), self.height()
        self.scale = min(w / self.design.width(), h / self.design.height())
        self._offset = (
            (w - self.design.width() * self.scale) / 2,
            (h - self.design.height() * self.scale) / 2,
        )
        for child, rect in self._children:
            self._layout_child(child, rect)
        self.update()

    def _layout_child(self, child: Child, rect: QRect) -> None:
        self._overlaps.clear()
        self._full_pending = True
        geometry = self.to_widget(rect)
        if isinstance(child, HmiWidget):
            child.set_geometry(geometry)
            child.set_scale(self.scale)
            self.update(geometry)
        else:
            child.setGeometry(geometry)

    # ---- painting --------------------------------------------------------------------------
    def update_item(self, item: HmiWidget) -> None:
        # One update() per batch of changes (a flush changes hundreds of items): calling Qt per
        # item costs more than the painting, and merges hundreds of rectangles into a region.
        self._dirty.append(item)
        if not self._paint_scheduled:
            self._paint_scheduled = True
            QTimer.singleShot(0, self, self._request_paint)

    def _request_paint(self) -> None:
        self._paint_scheduled = False
        dirty, self._dirty = self._dirty, []
        if not dirty or not self.isVisible():
            return  # a hidden canvas repaints everything when shown again
        area = QRect()
        for item in dirty:
            area = area.united(item._geometry)
        self._to_paint.extend(dirty)
        self._requested = self._requested.united(area)
        self.update(area)

    def showEvent(self, event: QShowEvent) -> None:
        self._full_pending = True
        super().showEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Repaint what changed: the changed items and those overlapping them, in paint order.

        The canvas asks Qt for one rectangle around all items that changed since the last paint;
        only those items are redrawn (with what lies under or over them), the rest of the
        rectangle keeps what the backing store holds (the canvas paints opaquely), so a paint
        costs what changed, not the size of the screen. Anything else (first show, resize, a
        region the canvas did not ask for) repaints every item the region touches.
        """
        region = event.region()
        bounds = region.boundingRect()
        painter = QPainter(self)
        dirty = self._to_paint
        items = self._changed_and_overlapping(dirty, bounds)
        if items is None:
            self._full_pending = False
            if bounds.contains(self._requested):  # what was asked for is painted now too
                self._to_paint, self._requested = [], QRect()
            painter.fillRect(bounds, self.background)
            intersects = region.intersects
            items = [i for i in self._items if i.visible and intersects(i._geometry)]
        else:
            self._to_paint, self._requested = [], QRect()
            background = self.background
            for item in dirty:
                painter.fillRect(item._geometry, background)
        for item in items:
            painter.save()
            painter.translate(item._geometry.topLeft())
            item.paint(painter)
            painter.restore()
        painter.end()
        self.items_painted += len(items)

    def _changed_and_overlapping(
        self, dirty: list[HmiWidget], bounds: QRect
    ) -> list[HmiWidget] | None:
        """The visible items to repaint for ``dirty``, or None when the region needs more."""
        if self._full_pending or not dirty or not self._requested.contains(bounds):
            return None
        wanted: set[int] = set()
        order = self._order
        for item in dirty:
            wanted.update(self._overlapping(order[id(item)]))
        items = self._items
        return [items[i] for i in sorted(wanted) if items[i].visible]

    def _overlapping(self, index: int) -> tuple[int, ...]:
        """Paint orders of the items whose rectangles meet item ``index``'s (itself included)."""
        found = self._overlaps.get(index)
        if found is None:
            if not self._overlaps:
                self._build_overlaps()
            found = self._overlaps[index]
        return found

    def _build_overlaps(self) -> None:
        """Find every item's overlapping items through a coarse grid (not all pairs)."""
        cell = 128
        grid: dict[tuple[int, int], list[int]] = {}
        spans: list[tuple[int, int, int, int]] = []
        for index, item in enumerate(self._items):
            g = item._geometry
            span = (g.left() // cell, g.right() // cell, g.top() // cell, g.bottom() // cell)
            spans.append(span)
            for cx in range(span[0], span[1] + 1):
                for cy in range(span[2], span[3] + 1):
                    grid.setdefault((cx, cy), []).append(index)
        for index, item in enumerate(self._items):
            g = item._geometry
            near: set[int] = set()
            left, right, top, bottom = spans[index]
            for cx in range(left, right + 1):
                for cy in range(top, bottom + 1):
                    near.update(grid[(cx, cy)])
            items = self._items
            self._overlaps[index] = tuple(
                sorted(j for j in near if items[j]._geometry.intersects(g))
            )

    # ---- input -----------------------------------------------------------------------------
    def item_at(self, pos: QPointF | QPoint, *, clickable: bool = True) -> HmiWidget | None:
        """The topmost visible item at ``pos``: one taking the mouse, or (not ``clickable``)
        one with a tooltip."""
        point = pos.toPoint() if isinstance(pos, QPointF) else pos
        for item in reversed(self._items):
            if not item.visible or not item._geometry.contains(point):
                continue
            if clickable and item.takes_mouse():
                return item
            if not clickable and item.tooltip_text():
                return item
        return None

    def focus_item(self) -> HmiWidget | None:
        return self._focus

    def popup_parent(self) -> QWidget:
        return self

    def set_focus_item(self, item: HmiWidget | None) -> None:
        old, self._focus = self._focus, item
        if old is not item:
            for changed in (old, item):
                if changed is not None:
                    changed.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        item = self.item_at(event.position())
        self._pressed = item
        if item is None:
            event.ignore()
            return
        self.set_focus_item(item)
        item.mouse_press(event.position() - QPointF(item.geometry().topLeft()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        item, self._pressed = self._pressed, None
        if event.button() != Qt.MouseButton.LeftButton or item is None:
            super().mouseReleaseEvent(event)
            return
        inside = item.visible and item.geometry().contains(event.position().toPoint())
        item.mouse_release(event.position() - QPointF(item.geometry().topLeft()), inside)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        item = self.item_at(event.position())
        shape = item.cursor() if item is not None else Qt.CursorShape.ArrowCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self._focus
        if item is not None and item.visible and item.key_press(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab move the focus between the items that take the mouse."""
        targets = [item for item in self._items if item.visible and item.takes_mouse()]
        if not targets:
            return super().focusNextPrevChild(next)
        if self._focus in targets:
            index = targets.index(self._focus) + (1 if next else -1)
        else:
            index = 0 if next else len(targets) - 1
        if not 0 <= index < len(targets):  # past the last one: on to the next QWidget
            self.set_focus_item(None)
            return super().focusNextPrevChild(next)
        self.set_focus_item(targets[index])
        return True

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self._focus is not None:
            self._focus.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        handler = self.context_menu_handler
        item = self.item_at(event.pos(), clickable=False) if handler is not None else None
        where = event.globalPos()
        focus = self._focus
        if event.reason() == QContextMenuEvent.Reason.Keyboard and focus is not None:
            item = focus if focus.visible and focus.tooltip_text() else None  # the menu key
            where = self.mapToGlobal(focus.geometry().center())
        if handler is None or item is None:
            event.ignore()
            return
        handler(item, where)
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            item = self.item_at(event.pos(), clickable=False)
            if item is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), item.tooltip_text(), self, item.geometry())
            return True
        return super().event(event)


def host_item(item: HmiWidget, width: int, height: int) -> ItemCanvas:
    """A canvas of exactly ``width`` x ``height`` showing only ``item`` (previews and tests)."""
    canvas = ItemCanvas(QSize(width, height), QColor("#d9d9d9"))
    canvas.place(item, QRect(0, 0, width, height))
    canvas.resize(width, height)
    return canvas
