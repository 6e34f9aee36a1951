"""Selecting and manipulating widgets with the mouse: the selection and the canvas gestures.

The selection holds ids in the order they were picked, always whole groups: clicking (or
shift-clicking, or rubber-banding) one member of a designer group selects, or deselects, all of
its members. It knows groups through callables the canvas gives it (the entries' ``group``
field), so it holds no copy of the document.

A gesture is what a left-button press turns into: a click (select), a move of the selection, a
resize by one of the eight handles of the selection's frame (around one widget, or around
several, which then scale with it), or a rubber band. A press on an unselected widget that
contains others (a panel) starts a rubber band when dragged, so supervisors can band-select
inside panels; a click still selects the panel, and moving a panel moves what lies on it
(``carried``). Moves and resizes snap (grid, then the edges of
neighbours within ``SNAP_PX`` screen pixels; Alt held: no snapping) and commit ONE document
edit on release; until then only the moving widgets are repainted over a pixmap of the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QMouseEvent, QRegion

from screens.designer.entries import Geometry
from screens.designer.handles import CURSORS, EDGES, Handle, guide_line, handle_at, overlay_margin
from screens.designer.snapping import (
    DEFAULT_THRESHOLD_PX,
    MIN_SIZE,
    Guide,
    SnapTargets,
    bounds,
    snap_move,
    snap_resize,
)

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

GroupOf = Callable[[str], "str | None"]
Members = Callable[[str], Sequence[str]]


class Selection:
    """Selected ids (whole groups), in the order they were picked."""

    def __init__(self, group_of: GroupOf, members: Members) -> None:
        self._group_of = group_of
        self._members = members
        self._ids: list[str] = []

    def ids(self) -> list[str]:
        return list(self._ids)

    def __contains__(self, ident: object) -> bool:
        return ident in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def unit(self, ident: str) -> list[str]:
        """``ident`` with the other members of its group (just ``ident`` when ungrouped)."""
        group = self._group_of(ident)
        if group is None:
            return [ident]
        members = list(self._members(group))
        return members if ident in members else [ident, *members]

    def expand(self, ids: Iterable[str]) -> list[str]:
        """``ids`` with their groups completed, each id once, in the given order."""
        result: dict[str, None] = {}
        for ident in ids:
            for member in self.unit(ident):
                result.setdefault(member)
        return list(result)

    def set(self, ids: Iterable[str]) -> bool:
        """Select exactly ``ids`` (groups completed); True when the selection changed."""
        new = self.expand(ids)
        if new == self._ids:
            return False
        self._ids = new
        return True

    def toggle(self, ident: str) -> bool:
        """Shift-click: add ``ident``'s unit, or remove it when it is selected. Returns whether
        ``ident`` is selected afterwards."""
        unit = self.unit(ident)
        if ident in self._ids:
            self._ids = [i for i in self._ids if i not in unit]
            return False
        self._ids.extend(i for i in unit if i not in self._ids)
        return True

    def prune(self, existing: Collection[str]) -> bool:
        """Drop ids no longer in the document (and complete groups again); True if changed."""
        return self.set([i for i in self._ids if i in existing])

    def units(self) -> list[list[str]]:
        """The selection split into what moves as one: groups, then single widgets."""
        seen: set[str] = set()
        units: list[list[str]] = []
        for ident in self._ids:
            if ident in seen:
                continue
            unit = [i for i in self.unit(ident) if i in self._ids]
            seen.update(unit)
            units.append(unit)
        return units

    def groups(self) -> list[str]:
        """The groups with members selected."""
        found: dict[str, None] = {}
        for ident in self._ids:
            group = self._group_of(ident)
            if group is not None:
                found.setdefault(group)
        return list(found)


def inside_band(
    band: tuple[float, float, float, float], rects: Mapping[str, Geometry]
) -> list[str]:
    """The ids whose rectangles lie wholly inside the rubber band ``band``."""
    bx, by, bw, bh = band
    right, bottom = bx + bw, by + bh
    return [
        ident
        for ident, (x, y, w, h) in rects.items()
        if x >= bx and y >= by and x + w <= right and y + h <= bottom
    ]


MIN_GRAB_PX = 8
"""A widget is at least this wide and high to the mouse (screen pixels)."""


def item_at(canvas: DesignCanvas, pos: QPointF | QPoint) -> str | None:
    """The topmost widget of ``canvas`` at ``pos`` (widget pixels); a widget thinner than
    ``MIN_GRAB_PX`` (a flow line) is grabbed a little outside its edges too."""
    point = pos.toPoint() if isinstance(pos, QPointF) else pos
    for ident in reversed(canvas.order):
        rect = canvas.rects[ident]
        if rect.width() < MIN_GRAB_PX or rect.height() < MIN_GRAB_PX:
            grow_x = max(0, MIN_GRAB_PX - rect.width()) // 2
            grow_y = max(0, MIN_GRAB_PX - rect.height()) // 2
            rect = rect.adjusted(-grow_x, -grow_y, grow_x, grow_y)
        if rect.contains(point):
            return ident
    return None


CONTAINER_TYPES = frozenset({"panel"})
"""Widget types that carry what lies on them when they are moved (a group box)."""


def carried(canvas: DesignCanvas, ids: Sequence[str]) -> list[str]:
    """``ids`` and, for each container among them (nested ones too), the widgets above it in
    z-order that lie wholly inside it: moving a panel moves what sits on it."""
    moving = list(ids)
    index = 0
    while index < len(moving):
        ident = moving[index]
        index += 1
        if canvas.entries[ident].type not in CONTAINER_TYPES:
            continue
        above = canvas.order[canvas.order.index(ident) + 1 :]
        rects = {i: canvas.entries[i].geometry for i in above if i not in moving}
        moving.extend(inside_band(canvas.entries[ident].geometry, rects))
    return moving


def contains_others(canvas: DesignCanvas, ident: str) -> bool:
    """Whether a widget above ``ident`` lies wholly inside it (``ident`` is a panel)."""
    outer = canvas.entries[ident].geometry
    above = canvas.order[canvas.order.index(ident) + 1 :]
    return bool(inside_band(outer, {i: canvas.entries[i].geometry for i in above}))


def selection_frame(canvas: DesignCanvas) -> QRect:
    """Where the handles of the selection are (widget pixels): around the one selected widget,
    or around everything selected."""
    frame = QRect()
    for ident in canvas.selection.ids():
        frame = frame.united(canvas.rects[ident])
    return frame


def show_live_geometry(canvas: DesignCanvas, ident: str, geometry: Geometry) -> None:
    """Draw ``ident`` at ``geometry`` until the document says otherwise (a live resize)."""
    old = canvas.rects[ident]
    rect = canvas.to_widget(geometry)
    canvas.rects[ident] = rect
    item = canvas.items[ident]
    if item is not None:
        item.set_geometry(rect)
    margin = overlay_margin() + 4
    canvas.invalidate(old.united(rect).adjusted(-margin, -margin, margin, margin))


# ---- gestures ------------------------------------------------------------------------------
SNAP_PX = DEFAULT_THRESHOLD_PX
"""How close (screen pixels) an edge must come to a neighbour's to snap to it."""
DRAG_START_PX = 3


class Gesture:
    """What a press turned into; the canvas asks it what to draw."""

    def live_ids(self) -> Sequence[str]:
        """The widgets drawn live (not from the static pixmap)."""
        return ()

    def offset_px(self) -> QPoint:
        """How far the live widgets are drawn from where the document has them."""
        return QPoint()

    def guides(self) -> Sequence[Guide]:
        return ()

    def band(self) -> QRect | None:
        return None

    def shows_handles(self) -> bool:
        return True

    def area(self, canvas: DesignCanvas) -> QRegion:
        """What the gesture draws now (repainted when it ends)."""
        return QRegion()


class Pending(Gesture):
    """A press that has not moved yet: released, it is a click; dragged, a move or a band."""

    def __init__(
        self, pos: QPointF, hit: str | None, *, band: bool, reselect: bool, shift: bool = False
    ) -> None:
        self.pos = pos
        self.hit = hit
        self.shift = shift
        self.starts_band = band
        self.reselect = reselect


class MoveDrag(Gesture):
    """The selection being dragged; ``delta`` is its snapped offset in design pixels."""

    def __init__(self, canvas: DesignCanvas, pos: QPointF) -> None:
        self.pos = pos
        self.ids = carried(canvas, canvas.selection.ids())
        self.start = {i: canvas.entries[i].geometry for i in self.ids}
        self.box = bounds(list(self.start.values()))
        rest = [canvas.entries[i].geometry for i in canvas.order if i not in self.start]
        self.targets = SnapTargets(rest, canvas.document.size)
        self.span = QRect()
        for ident in self.ids:
            self.span = self.span.united(canvas.rects[ident])
        self.delta = (0, 0)
        self._offset = QPoint()
        self._guides: tuple[Guide, ...] = ()

    def live_ids(self) -> Sequence[str]:
        return self.ids

    def offset_px(self) -> QPoint:
        return self._offset

    def guides(self) -> Sequence[Guide]:
        return self._guides

    def shows_handles(self) -> bool:
        return self.delta == (0, 0)

    def follow(self, canvas: DesignCanvas, pos: QPointF, snap: bool) -> QRect:
        """Move to the mouse at ``pos``; returns the area to repaint."""
        before = self._dirty(canvas)
        raw = (pos - self.pos) / canvas.zoom
        x, y, w, h = self.box
        proposed = (x + raw.x(), y + raw.y(), w, h)
        if snap:
            snapped = snap_move(proposed, self.targets, canvas.grid_step, SNAP_PX / canvas.zoom)
        else:
            snapped = snap_move(proposed, None, 1)
        self.delta = (snapped.geometry[0] - x, snapped.geometry[1] - y)
        self._guides = snapped.guides
        self._offset = QPoint(
            round(self.delta[0] * canvas.zoom), round(self.delta[1] * canvas.zoom)
        )
        return before.united(self._dirty(canvas))

    def area(self, canvas: DesignCanvas) -> QRegion:
        margin = overlay_margin() + 4
        region = QRegion()
        for ident in self.ids:
            rect = canvas.rects[ident].translated(self._offset)
            region = region.united(rect.adjusted(-margin, -margin, margin, margin))
        for guide in self._guides:
            start, end = guide_line(canvas, guide)
            region = region.united(QRectF(start, end).toAlignedRect().adjusted(-2, -2, 2, 2))
        return region

    def _dirty(self, canvas: DesignCanvas) -> QRect:
        margin = overlay_margin() + 4
        area = self.span.translated(self._offset).adjusted(-margin, -margin, margin, margin)
        for guide in self._guides:
            start, end = guide_line(canvas, guide)
            area = area.united(QRectF(start, end).toAlignedRect().adjusted(-2, -2, 2, 2))
        return area

    def geometries(self) -> dict[str, Geometry]:
        dx, dy = self.delta
        return {i: (x + dx, y + dy, w, h) for i, (x, y, w, h) in self.start.items()}


class ResizeDrag(Gesture):
    """The selection being resized by a handle of its frame (one widget: its own rectangle;
    several: the box around them all, each scaled with it); the rectangles follow live."""

    def __init__(
        self, canvas: DesignCanvas, idents: Sequence[str], handle: Handle, pos: QPointF
    ) -> None:
        self.idents = list(idents)
        self.handle = handle
        self.pos = pos
        self.start = {i: canvas.entries[i].geometry for i in self.idents}
        self.box = bounds(list(self.start.values()))
        rest = [canvas.entries[i].geometry for i in canvas.order if i not in self.start]
        self.targets = SnapTargets(rest, canvas.document.size)
        self.geometry = self.box
        """The frame as dragged (snapped)."""
        self._guides: tuple[Guide, ...] = ()

    def live_ids(self) -> Sequence[str]:
        return self.idents

    def guides(self) -> Sequence[Guide]:
        return self._guides

    def geometries(self) -> dict[str, Geometry]:
        """Every widget scaled from the frame it started in to the frame as dragged."""
        return {i: scaled(g, self.box, self.geometry) for i, g in self.start.items()}

    def follow(self, canvas: DesignCanvas, pos: QPointF, snap: bool) -> QRect:
        before = self._dirty(canvas)
        raw = (pos - self.pos) / canvas.zoom
        x, y, w, h = self.box
        left, top, right, bottom = float(x), float(y), float(x + w), float(y + h)
        edges = EDGES[self.handle]
        left += raw.x() if "left" in edges else 0
        right += raw.x() if "right" in edges else 0
        top += raw.y() if "top" in edges else 0
        bottom += raw.y() if "bottom" in edges else 0
        proposed = (left, top, right - left, bottom - top)
        threshold = SNAP_PX / canvas.zoom
        grid = canvas.grid_step if snap else 1
        snapped = snap_resize(proposed, edges, self.targets if snap else None, grid, threshold)
        self.geometry = snapped.geometry
        self._guides = snapped.guides
        for ident, geometry in self.geometries().items():
            show_live_geometry(canvas, ident, geometry)
        return before.united(self._dirty(canvas))

    def area(self, canvas: DesignCanvas) -> QRegion:
        return QRegion(self._dirty(canvas))

    def _dirty(self, canvas: DesignCanvas) -> QRect:
        margin = overlay_margin() + 4
        area = canvas.to_widget(self.geometry)
        for geometry in self.geometries().values():
            area = area.united(canvas.to_widget(geometry))
        area = area.adjusted(-margin, -margin, margin, margin)
        for guide in self._guides:
            start, end = guide_line(canvas, guide)
            area = area.united(QRectF(start, end).toAlignedRect().adjusted(-2, -2, 2, 2))
        return area

    def restore(self, canvas: DesignCanvas) -> None:
        """Draw every widget where the document has it again (cancelled or unchanged)."""
        for ident in self.idents:
            if ident in canvas.entries:
                show_live_geometry(canvas, ident, canvas.entries[ident].geometry)


def scaled(geometry: Geometry, before: Geometry, after: Geometry) -> Geometry:
    """``geometry`` (inside the frame ``before``) at the same place and proportion in the frame
    ``after``; whole pixels, never smaller than ``MIN_SIZE``."""
    x, y, w, h = geometry
    bx, by, bw, bh = before
    ax, ay, aw, ah = after
    sx, sy = aw / bw, ah / bh
    left, top = ax + (x - bx) * sx, ay + (y - by) * sy
    right, bottom = ax + (x + w - bx) * sx, ay + (y + h - by) * sy
    new_x, new_y = round(left), round(top)
    return (
        new_x,
        new_y,
        max(MIN_SIZE, round(right) - new_x),
        max(MIN_SIZE, round(bottom) - new_y),
    )


class RubberBand(Gesture):
    """A band dragged out from empty space; on release it selects what lies wholly inside."""

    def __init__(self, origin: QPointF, base: Sequence[str]) -> None:
        self.origin = origin
        self.current = origin
        self.base = list(base)

    def band(self) -> QRect:
        return QRectF(self.origin, self.current).normalized().toAlignedRect()

    def area(self, canvas: DesignCanvas) -> QRegion:
        return QRegion(self.band().adjusted(-2, -2, 2, 2))

    def follow(self, pos: QPointF) -> QRect:
        before = self.band()
        self.current = pos
        return before.united(self.band()).adjusted(-2, -2, 2, 2)


def press(canvas: DesignCanvas, event: QMouseEvent) -> None:
    """Left button down: a handle starts a resize; a widget is selected (shift: toggled)."""
    pos = event.position()
    shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
    selected = canvas.selection.ids()
    if selected and not shift:
        handle = handle_at(selection_frame(canvas), pos)
        if handle is not None:
            canvas.gesture = ResizeDrag(canvas, selected, handle, pos)
            return
    hit = item_at(canvas, pos)
    if hit is None:
        canvas.gesture = Pending(pos, None, band=True, reselect=False, shift=shift)
    elif shift:
        before = canvas.selection.ids()
        now_selected = canvas.selection.toggle(hit)
        canvas.selection_edited(before)
        canvas.gesture = Pending(pos, hit if now_selected else None, band=False, reselect=False)
    elif hit in canvas.selection:
        canvas.gesture = Pending(pos, hit, band=False, reselect=True)
    elif contains_others(canvas, hit):
        canvas.gesture = Pending(pos, hit, band=True, reselect=False)
    else:
        canvas.select([hit])
        canvas.gesture = Pending(pos, hit, band=False, reselect=False)


def move(canvas: DesignCanvas, event: QMouseEvent) -> None:
    """Mouse moved: hover cursors, or carry on the gesture under way."""
    pos = event.position()
    gesture = canvas.gesture
    snap = canvas.snap and not event.modifiers() & Qt.KeyboardModifier.AltModifier
    if gesture is None:
        _hover(canvas, pos)
        return
    if isinstance(gesture, Pending):
        if (pos - gesture.pos).manhattanLength() < DRAG_START_PX:
            return
        gesture = _start_drag(canvas, gesture)
        canvas.gesture = gesture
        if gesture is None:
            return
    if isinstance(gesture, MoveDrag | ResizeDrag):
        canvas.update(gesture.follow(canvas, pos, snap))
    elif isinstance(gesture, RubberBand):
        canvas.update(gesture.follow(pos))


def _start_drag(canvas: DesignCanvas, pending: Pending) -> Gesture | None:
    if pending.starts_band:
        return RubberBand(pending.pos, canvas.selection.ids() if pending.shift else [])
    if pending.hit is None or pending.hit not in canvas.selection:
        return None
    drag = MoveDrag(canvas, pending.pos)
    canvas.static = canvas.scene.without(canvas, drag.ids)
    return drag


def release(canvas: DesignCanvas, event: QMouseEvent) -> None:
    """Left button up: finish the gesture with one document edit (or a selection)."""
    gesture, canvas.gesture = canvas.gesture, None
    canvas.static = None
    area = gesture.area(canvas) if gesture is not None else QRegion()
    if isinstance(gesture, Pending):
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if gesture.hit is None and gesture.starts_band and not shift:
            canvas.select([])
        elif gesture.hit is not None and (gesture.starts_band or gesture.reselect):
            canvas.select([gesture.hit])
    elif isinstance(gesture, MoveDrag):
        if gesture.delta != (0, 0):
            _commit_move(canvas, gesture.geometries())
    elif isinstance(gesture, ResizeDrag):
        if gesture.geometry != gesture.box:
            canvas.document.set_geometries(gesture.geometries(), "Resize")
            canvas.document.break_merge()
        else:
            gesture.restore(canvas)
    elif isinstance(gesture, RubberBand):
        band = gesture.band()
        top_left = canvas.to_design(band.topLeft())
        size = QPointF(band.width(), band.height()) / canvas.zoom
        design_band = (top_left.x(), top_left.y(), size.x(), size.y())
        rects = {i: canvas.entries[i].geometry for i in canvas.order}
        canvas.select([*gesture.base, *inside_band(design_band, rects)])
    canvas.update(area)  # the document's change repaints where the widgets went


def _commit_move(canvas: DesignCanvas, moved: dict[str, Geometry]) -> None:
    """One undo step: the move, and widgets dropped into a panel drawn above them brought to
    the front (else the panel would hide them)."""
    order = canvas.order
    hidden = []
    for ident, geometry in moved.items():
        above = order[order.index(ident) + 1 :]
        for other in above:
            if other not in moved and inside_band(
                canvas.entries[other].geometry, {ident: geometry}
            ):
                hidden.append(ident)
                break
    document = canvas.document
    if not hidden:
        document.set_geometries(moved, "Move")
        document.break_merge()  # the next drag is an undo step of its own
        return
    what = next(iter(moved)) if len(moved) == 1 else f"{len(moved)} widgets"
    document.undo_stack.beginMacro(f"Move {what} into a panel")
    try:
        document.set_geometries(moved, "Move")
        document.break_merge()
        document.restack(hidden, "front")
    finally:
        document.undo_stack.endMacro()


def cancel(canvas: DesignCanvas) -> bool:
    """Escape during a gesture: put everything back, edit nothing. True if one was under way."""
    gesture, canvas.gesture = canvas.gesture, None
    canvas.static = None
    if gesture is None:
        return False
    canvas.update(gesture.area(canvas))
    if isinstance(gesture, ResizeDrag):
        gesture.restore(canvas)
    return True


def _hover(canvas: DesignCanvas, pos: QPointF) -> None:
    shape = Qt.CursorShape.ArrowCursor
    if canvas.selection.ids():
        handle = handle_at(selection_frame(canvas), pos)
        if handle is not None:
            shape = CURSORS[handle]
    if shape == Qt.CursorShape.ArrowCursor and item_at(canvas, pos) in canvas.selection:
        shape = Qt.CursorShape.SizeAllCursor
    if canvas.cursor().shape() != shape:
        canvas.setCursor(shape)
