"""The canvas that paints a screen's widgets: laid out at a design size, scaled to fit.

Widgets (``HmiWidget``) are items, not QWidgets: the canvas keeps them in paint order, repaints
the rectangles of those whose display changed (Qt merges them into one paint per event-loop
turn), sends clicks and keys to the item under the mouse or with the focus, and shows an item's
tooltip when the mouse rests on it. Real QWidgets can be placed too; they are laid out the same
way. The area outside the scaled design is filled with the screen background.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
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
        self.items_painted = 0
        """Items painted so far (the benchmark and tests read it)."""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ---- children --------------------------------------------------------------------------
    def place(self, child: Child, design_rect: QRect) -> None:
        """Add ``child`` at ``design_rect`` (design pixels), above what is already placed."""
        self._children.append((child, QRect(design_rect)))
        if isinstance(child, HmiWidget):
            child.host = self
            self._items.append(child)
        else:
            child.setParent(self)
        self._layout_child(child, design_rect)

    def move_child(self, child: Child, design_rect: QRect) -> None:
        """Change where a placed child sits (design pixels)."""
        for index, (placed, _) in enumerate(self._children):
            if placed is child:
                if isinstance(child, HmiWidget):
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
        geometry = self.to_widget(rect)
        if isinstance(child, HmiWidget):
            child.set_geometry(geometry)
            child.set_scale(self.scale)
            self.update(geometry)
        else:
            child.setGeometry(geometry)

    # ---- painting --------------------------------------------------------------------------
    def update_item(self, item: HmiWidget) -> None:
        if self.isVisible():
            self.update(item._geometry)

    def paintEvent(self, event: QPaintEvent) -> None:
        region = event.region()
        painter = QPainter(self)
        painter.fillRect(region.boundingRect(), self.background)
        painted = 0
        intersects = region.intersects
        for item in self._items:
            geometry = item._geometry
            if not item.visible or not intersects(geometry):
                continue
            painter.save()
            painter.translate(geometry.topLeft())
            item.paint(painter)
            painter.restore()
            painted += 1
        painter.end()
        self.items_painted += painted

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
