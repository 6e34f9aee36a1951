"""The design canvas: the screen as operators see it, with grid, selection, handles and guides.

Widgets are the real ``HmiWidget`` items, built like the renderer builds them and fed their
EXAMPLE values under the bound tag's name (``palette.preview_widget``), so the screen under design
looks like the running one; a widget with something to bind and nothing bound carries a small
corner mark, and an entry the widget rejects (bad props, unknown type) shows as a hatched box.

Every edit goes to the ``ScreenDocument`` as one undo step per gesture (a whole drag is one
'Move'); the canvas redraws from the document's ``entries_changed``, rebuilding only the changed
widgets. The scene (everything but the overlay) is kept in a pixmap repainted only where it
changed; when a drag starts, a copy of it with the moving widgets' areas repainted without them
becomes the drag's background, and each mouse move paints that and the moving widgets at their
live offset, so a 500-widget screen stays smooth.

The mouse gestures live in ``selection``; the arranging commands (align, distribute, nudge,
z-order, groups), the command table, keys and context menu in ``align``; copy/paste in
``clipboard``; the scene and its cache in ``grid``; the overlay in ``handles``; drops from the
palette in ``palette``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError
from PySide6.QtCore import (
    QEvent,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from hmi_app.core.quality import TagValue
from hmi_app.core.tagsource import TagMeta
from screens.designer import align as arrange
from screens.designer import clipboard as clip
from screens.designer import palette
from screens.designer import selection as gestures
from screens.designer.autoscroll import EdgeScroller
from screens.designer.clipboard import Clipboard
from screens.designer.entries import Geometry, WidgetEntry
from screens.designer.grid import DEFAULT_STEP, SceneCache, paint_items, paint_scene
from screens.designer.handles import overlay_margin, paint_overlay
from screens.designer.selection import Selection
from screens.designer.snapping import Guide
from widgets.base import HmiWidget

if TYPE_CHECKING:
    from screens.designer.document import ScreenDocument

MARGIN = 24
"""Screen pixels of workspace around the design."""
MIN_ZOOM, MAX_ZOOM = 0.1, 8.0
SHARED_CLIPBOARD = Clipboard()
"""One clipboard for every canvas, so a copy on one screen pastes on another."""


class DesignCanvas(QWidget):
    """The screen as operators see it (items painted by their own ``paint``), with grid,
    selection, handles, rubber band, snapping guides and zoom; every edit goes to the document.
    """

    selection_changed = Signal(list)
    """The selected ids, after every change of the selection."""
    zoom_changed = Signal(float)

    def __init__(
        self,
        document: ScreenDocument,
        parent: QWidget | None = None,
        *,
        clipboard: Clipboard | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.clipboard = clipboard if clipboard is not None else SHARED_CLIPBOARD
        self.zoom = 1.0
        self.edge_scroller = EdgeScroller(self, self._dragging)
        """Scrolls the enclosing view while a drag is held at its edge."""
        self.grid_step = DEFAULT_STEP
        self.grid_visible = True
        self.snap = True
        self.fitting = True
        """Follow the widget's size (zoom to fit) until the user zooms."""
        self.entries: dict[str, WidgetEntry] = {}
        self.order: list[str] = []
        self.items: dict[str, HmiWidget | None] = {}
        """The widget of each entry (None: the entry could not be built, drawn hatched)."""
        self.problems: dict[str, str] = {}
        """Why an entry could not be built (shown in its tooltip)."""
        self.rects: dict[str, QRect] = {}
        """Widget-pixel rectangle of each entry at the current zoom."""
        self.tags: Mapping[str, TagMeta] = {}
        self.current: Callable[[str], TagValue | None] | None = None
        self.selection = Selection(self._group_of, self.group_members)
        self.gesture: gestures.Gesture | None = None
        self.static: QPixmap | None = None
        """The widgets that stay put during a drag, painted once when it starts."""
        self.scene = SceneCache()
        self.drop_preview: tuple[Geometry, tuple[Guide, ...]] | None = None
        self._origin = QPointF(MARGIN, MARGIN)
        self.items_painted = 0
        """Widgets painted so far (the benchmark reads it)."""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        document.entries_changed.connect(self._entries_changed)
        document.changed.connect(self._document_changed)
        self._design_size = document.size
        self._background = QColor(document.background)
        self.reload()

    # ---- the document ----------------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild every widget from the document (on open; edits update only what changed)."""
        self.entries, self.order, self.items, self.rects, self.problems = {}, [], {}, {}, {}
        for entry in self.document.entries():
            self.entries[entry.id] = entry
            self.order.append(entry.id)
            self._build(entry)
        if self.selection.prune(self.entries):
            self._emit_selection()
        self.invalidate()

    def set_tags(
        self,
        tags: Mapping[str, TagMeta],
        current: Callable[[str], TagValue | None] | None = None,
    ) -> None:
        """The project's tags: bound widgets show their tag's units and format, and with
        ``current`` (the live source's last value, a memory read: the designer never polls the
        plant) the tag's last good value instead of the EXAMPLE's."""
        self.tags = dict(tags)
        self.current = current
        self.reload()

    def _build(self, entry: WidgetEntry) -> None:
        try:
            item: HmiWidget | None = palette.preview_widget(
                entry.type,
                entry.props,
                entry.bind,
                self.document.path.parent,
                self.tags,
                self.current,
            )
        except ValidationError as exc:
            item = None
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            self.problems[entry.id] = f"{where}: {error['msg']}" if where else str(error["msg"])
        except (KeyError, ValueError, TypeError) as exc:
            item = None
            self.problems[entry.id] = str(exc.args[0] if exc.args else exc)
        else:
            self.problems.pop(entry.id, None)
        self.items[entry.id] = item
        self._layout(entry.id)

    def _layout(self, ident: str) -> None:
        rect = self.to_widget(self.entries[ident].geometry)
        self.rects[ident] = rect
        item = self.items[ident]
        if item is not None:
            item.set_geometry(rect)
            item.set_scale(self.zoom)

    def _entries_changed(self, _ids: list[str]) -> None:
        """Compare with the document and update only the entries that differ (the document's
        list of ids is a hint; comparing 500 immutable entries costs less than trusting it).
        A drag under way when the document changes underneath (an undo) is dropped."""
        if self.gesture is not None:
            gestures.cancel(self)
        fresh = {entry.id: entry for entry in self.document.entries()}
        dirty: list[QRect] = []
        for ident in [i for i in self.entries if i not in fresh]:
            dirty.append(self.rects.pop(ident))
            del self.entries[ident], self.items[ident]
            self.problems.pop(ident, None)
        for ident, entry in fresh.items():
            old = self.entries.get(ident)
            if old is entry or old == entry:
                continue
            if old is not None:
                dirty.append(self.rects[ident])
            self.entries[ident] = entry
            if old is not None and (old.type, old.props, old.bind) == (
                entry.type,
                entry.props,
                entry.bind,
            ):
                self._layout(ident)  # moved, resized or regrouped: the same widget
            else:
                self._build(entry)
            dirty.append(self.rects[ident])
        order = list(fresh)
        if order != self.order:
            dirty.extend(self.rects[i] for i, j in zip(order, self.order, strict=False) if i != j)
            self.order = order
        if self.selection.prune(self.entries):
            self._emit_selection()
        margin = overlay_margin() + 4
        for rect in dirty:  # a region of small rectangles, not their bounding box
            self.invalidate(rect.adjusted(-margin, -margin, margin, margin))

    def _document_changed(self) -> None:
        size, background = self.document.size, QColor(self.document.background)
        if size != self._design_size or background != self._background:
            self._design_size, self._background = size, background
            self._relayout()

    def _group_of(self, ident: str) -> str | None:
        entry = self.entries.get(ident)
        return entry.group if entry is not None else None

    def group_members(self, group: str) -> list[str]:
        """The ids in ``group``, in z-order."""
        return [i for i in self.order if self.entries[i].group == group]

    # ---- selection -------------------------------------------------------------------------
    def selected(self) -> list[str]:
        """The selected ids, in the order they were picked."""
        return self.selection.ids()

    def select(self, ids: Sequence[str]) -> None:
        """Select exactly ``ids`` (completed to whole groups; unknown ids are ignored)."""
        before = self.selection.ids()
        if self.selection.set([i for i in ids if i in self.entries]):
            self.selection_edited(before)

    def select_all(self) -> None:
        self.select(self.order)

    def selection_edited(self, before: Sequence[str]) -> None:
        """The selection changed from ``before``: repaint the outlines that come and go (not
        the whole screen) and tell the listeners."""
        margin = overlay_margin() + 4
        for ident in dict.fromkeys([*before, *self.selection.ids()]):
            rect = self.rects.get(ident)
            if rect is not None:
                self.update(rect.adjusted(-margin, -margin, margin, margin))
        self._emit_selection()

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selection.ids())

    # ---- coordinates and zoom --------------------------------------------------------------
    def design_size(self) -> QSize:
        return QSize(*self._design_size)

    def to_widget(self, geometry: Geometry) -> QRect:
        """Design rectangle -> widget pixels at the current zoom."""
        x, y, w, h = geometry
        z, ox, oy = self.zoom, self._origin.x(), self._origin.y()
        left, top = round(ox + x * z), round(oy + y * z)
        right, bottom = round(ox + (x + w) * z), round(oy + (y + h) * z)
        return QRect(left, top, max(1, right - left), max(1, bottom - top))

    def to_design(self, pos: QPointF | QPoint) -> QPointF:
        """Widget pixels -> design pixels."""
        point = QPointF(pos)
        return (point - self._origin) / self.zoom

    def design_area(self) -> QRectF:
        """Where the screen sits in the widget."""
        w, h = self._design_size
        return QRectF(self._origin.x(), self._origin.y(), w * self.zoom, h * self.zoom)

    def item_rect(self, ident: str) -> QRect:
        """Where widget ``ident`` is drawn (widget pixels; tests click and drag it)."""
        return QRect(self.rects[ident])

    def set_zoom(self, factor: float) -> None:
        """Zoom to ``factor`` (1.0: one design pixel per screen pixel); stops fitting."""
        self.fitting = False
        self._apply_zoom(factor)

    def fit(self) -> None:
        """Zoom so the whole screen shows, and keep it so as the canvas is resized."""
        self.fitting = True
        self._apply_zoom(self._fit_zoom())

    def _fit_zoom(self) -> float:
        w, h = self._design_size
        return min((self.width() - 2 * MARGIN) / w, (self.height() - 2 * MARGIN) / h)

    def _apply_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        if factor != self.zoom:
            self.zoom = factor
            self.updateGeometry()
            self.zoom_changed.emit(factor)
        self._relayout()

    def minimumSizeHint(self) -> QSize:
        if self.fitting:
            return QSize(200, 150)
        return self.sizeHint()

    def sizeHint(self) -> QSize:
        w, h = self._design_size
        return QSize(round(w * self.zoom) + 2 * MARGIN, round(h * self.zoom) + 2 * MARGIN)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitting:
            self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, self._fit_zoom()))
        self._relayout()

    def _relayout(self) -> None:
        w, h = self._design_size
        self._origin = QPointF(
            max(MARGIN, (self.width() - w * self.zoom) / 2),
            max(MARGIN, (self.height() - h * self.zoom) / 2),
        )
        for ident in self.order:
            self._layout(ident)
        self.invalidate()

    def set_grid(self, step: int, visible: bool = True, snap: bool = True) -> None:
        """Grid spacing in design pixels, whether it is drawn, and whether moves snap to it."""
        self.grid_step = max(1, int(step))
        self.grid_visible = visible
        self.snap = snap
        self.invalidate()

    def toggle_grid(self) -> None:
        """Show or hide the grid (snapping is separate)."""
        self.set_grid(self.grid_step, not self.grid_visible, self.snap)

    def toggle_snap(self) -> None:
        """Turn snapping to the grid and to neighbours' edges on or off."""
        self.set_grid(self.grid_step, self.grid_visible, not self.snap)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_zoom(self.zoom * 1.15**steps)
            event.accept()
            return
        super().wheelEvent(event)

    # ---- ItemHost (what the widgets ask of their canvas) -----------------------------------
    def update_item(self, item: HmiWidget) -> None:
        self.invalidate(item.geometry())

    def focus_item(self) -> HmiWidget | None:
        return None  # design mode: widgets never take keys

    def popup_parent(self) -> QWidget:
        return self

    # ---- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        exposed, region = event.rect(), event.region()
        painter = QPainter(self)
        gesture = self.gesture
        if self.static is not None and gesture is not None:
            painter.drawPixmap(QRectF(exposed), self.static, _device(exposed, self.static))
            paint_items(self, painter, region, gesture.live_ids(), gesture.offset_px())
        else:
            scene = self.scene.render(self, region)
            if scene is None:
                paint_scene(self, painter, exposed, (), region)
            else:
                painter.drawPixmap(QRectF(exposed), scene, _device(exposed, scene))
        paint_overlay(self, painter)
        painter.end()

    def background(self) -> QColor:
        return self._background

    def invalidate(self, area: QRect | None = None) -> None:
        """The scene changed in ``area`` (default: everywhere): repaint it."""
        rect = self.rect() if area is None else area
        self.scene.invalidate(QRegion(rect))
        self.update(rect)

    def event(self, event: QEvent) -> bool:
        """Tooltips: what the widget under the mouse is and what it is bound to."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            ident = gestures.item_at(self, event.pos())
            if ident is None:
                QToolTip.hideText()
            else:
                text = palette.describe(self.entries[ident], self.problems.get(ident))
                QToolTip.showText(event.globalPos(), text, self, self.rects[ident])
            return True
        return super().event(event)

    # ---- input (the gestures live in ``selection``) -----------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.LeftButton:
            gestures.press(self, event)
            event.accept()
            return
        super().mousePressEvent(event)

    def _dragging(self) -> bool:
        """A move, resize or rubber band is under way (what the edge scroller carries on)."""
        return isinstance(
            self.gesture, gestures.MoveDrag | gestures.ResizeDrag | gestures.RubberBand
        )

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        gestures.move(self, event)
        self.edge_scroller.moved(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.edge_scroller.stop()
            gestures.release(self, event)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        palette.drag_over(self, event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        palette.drag_over(self, event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_preview = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        palette.drop(self, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrows nudge (Shift: a grid step), Escape cancels a drag (or clears the selection),
        and the shortcuts of ``align.canvas_commands``."""
        if not arrange.key_press(self, event):
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Every command as a menu; a right-click on an unselected widget selects it first."""
        self.menu = arrange.context_menu(self, event.pos())
        self.menu.popup(event.globalPos())

    # ---- commands --------------------------------------------------------------------------
    def align(self, how: arrange.AlignHow) -> None:
        """Align the selected widgets (groups move whole) on the selection's edge or centre."""
        arrange.align_selected(self, how)

    def distribute(self, axis: arrange.DistributeAxis) -> None:
        """Space the selected widgets with equal gaps ("h" or "v")."""
        arrange.distribute_selected(self, axis)

    def restack(self, where: arrange.Where) -> None:
        """Bring the selection to the front, send it to the back, or one step either way."""
        arrange.restack_selected(self, where)

    def nudge(self, dx: int, dy: int) -> None:
        """Move the selection by ``dx``, ``dy`` design pixels (one undo step)."""
        arrange.nudge(self, dx, dy)

    def group_selected(self) -> str | None:
        """Group the selected widgets; the new group id (None when fewer than two)."""
        return arrange.group_selected(self)

    def ungroup_selected(self) -> None:
        arrange.ungroup_selected(self)

    def copy(self) -> None:
        clip.copy_selected(self)

    def cut(self) -> None:
        clip.copy_selected(self)
        clip.delete_selected(self)

    def paste(self) -> None:
        clip.paste(self)

    def duplicate(self) -> None:
        clip.duplicate(self)

    def delete_selected(self) -> None:
        clip.delete_selected(self)

    def add_widget(self, type_key: str, at: QPointF | None = None) -> str:
        """Place a new ``type_key`` widget (EXAMPLE size and props) centred on ``at`` (design
        pixels; default: the middle of the screen), snapped; select it and return its id."""
        if at is None:
            at = QPointF(self._design_size[0] / 2, self._design_size[1] / 2)
        geometry = palette.placement(self, type_key, at, self.snap).geometry
        entry = WidgetEntry(
            self.document.new_id(type_key), type_key, geometry, palette.example_props(type_key)
        )
        self.document.add_widgets([entry])
        self.select([entry.id])
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        return entry.id


def _device(rect: QRect, pixmap: QPixmap) -> QRectF:
    """``rect`` (widget pixels) in ``pixmap``'s device pixels."""
    ratio = pixmap.devicePixelRatio()
    return QRectF(rect.x() * ratio, rect.y() * ratio, rect.width() * ratio, rect.height() * ratio)
