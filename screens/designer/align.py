"""Arranging the selected widgets: align, distribute, nudge, z-order, group and ungroup.

The geometry is pure (``align``, ``distribute``: new geometries from old); the commands after it
apply it to a canvas's selection as ONE document edit each, and the last part holds the table of
every canvas command with its shortcut, for the context menu and the keys.

Widgets move in *units*: a unit is one widget, or a designer group moved as a whole (its members
keep their places relative to each other). Aligning lines the units up on the selection's
outermost edge (left, right, top, bottom) or on its centre line; distributing keeps the first
and last unit in place and spaces the ones between with equal gaps.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QKeyCombination, QPoint, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QMenu

from screens.designer import selection as gestures
from screens.designer.entries import Geometry
from screens.designer.snapping import bounds

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

AlignHow = Literal["left", "right", "top", "bottom", "hcenter", "vcenter"]
DistributeAxis = Literal["h", "v"]
Where = Literal["front", "back", "forward", "backward"]
ALIGN_TEXT: dict[AlignHow, str] = {
    "left": "Align left edges",
    "right": "Align right edges",
    "top": "Align top edges",
    "bottom": "Align bottom edges",
    "hcenter": "Align horizontal centres",
    "vcenter": "Align vertical centres",
}


def _round(value: float) -> int:
    """Half up, not to even: units of different sizes centred on one line round alike."""
    return math.floor(value + 0.5)


def _units(
    geometries: Mapping[str, Geometry], units: Sequence[Sequence[str]] | None
) -> list[list[str]]:
    """Every id in exactly one unit: the given units (restricted to ``geometries``), then the
    ids no unit names, each on its own."""
    seen: set[str] = set()
    result: list[list[str]] = []
    for unit in units or ():
        members = [i for i in unit if i in geometries and i not in seen]
        if members:
            seen.update(members)
            result.append(members)
    result.extend([i] for i in geometries if i not in seen)
    return result


def _shifted(
    geometries: Mapping[str, Geometry], unit: Sequence[str], dx: int, dy: int
) -> dict[str, Geometry]:
    moved: dict[str, Geometry] = {}
    if dx or dy:
        for key in unit:
            x, y, w, h = geometries[key]
            moved[key] = (x + dx, y + dy, w, h)
    return moved


def align(
    geometries: Mapping[str, Geometry],
    how: AlignHow,
    units: Sequence[Sequence[str]] | None = None,
) -> dict[str, Geometry]:
    """The geometries that change when the units of ``geometries`` are aligned ``how``.

    ``hcenter`` lines up the horizontal centres (one vertical axis), ``vcenter`` the vertical
    ones (one horizontal axis). Fewer than two units: nothing changes.
    """
    groups = _units(geometries, units)
    if len(groups) < 2:
        return {}
    boxes = [bounds([geometries[i] for i in unit]) for unit in groups]
    left, top, width, height = bounds(boxes)
    right, bottom = left + width, top + height
    changed: dict[str, Geometry] = {}
    for unit, (x, y, w, h) in zip(groups, boxes, strict=True):
        dx = dy = 0
        if how == "left":
            dx = left - x
        elif how == "right":
            dx = right - (x + w)
        elif how == "top":
            dy = top - y
        elif how == "bottom":
            dy = bottom - (y + h)
        elif how == "hcenter":
            dx = _round(left + width / 2 - w / 2) - x
        elif how == "vcenter":
            dy = _round(top + height / 2 - h / 2) - y
        else:
            raise ValueError(f"unknown alignment {how!r}")
        changed.update(_shifted(geometries, unit, dx, dy))
    return changed


def distribute(
    geometries: Mapping[str, Geometry],
    axis: DistributeAxis,
    units: Sequence[Sequence[str]] | None = None,
) -> dict[str, Geometry]:
    """The geometries that change when the units are spaced with equal gaps along ``axis``
    ("h": left to right, "v": top to bottom); the outermost two stay. Fewer than three units:
    nothing changes. Overlapping units get a negative gap, as the equal spacing asks."""
    if axis not in ("h", "v"):
        raise ValueError(f"unknown axis {axis!r}")
    groups = _units(geometries, units)
    if len(groups) < 3:
        return {}
    along = 0 if axis == "h" else 1
    boxes = [bounds([geometries[i] for i in unit]) for unit in groups]
    order = sorted(range(len(groups)), key=lambda k: (boxes[k][along], boxes[k][along + 2]))
    first, last = boxes[order[0]], boxes[order[-1]]
    start = first[along]
    span = last[along] + last[along + 2] - start
    gap = (span - sum(b[along + 2] for b in boxes)) / (len(groups) - 1)
    changed: dict[str, Geometry] = {}
    position = float(start)
    for k in order:
        box = boxes[k]
        shift = _round(position) - box[along]
        dx, dy = (shift, 0) if axis == "h" else (0, shift)
        changed.update(_shifted(geometries, groups[k], dx, dy))
        position += box[along + 2] + gap
    return changed


# ---- commands on a canvas's selection ----------------------------------------------------------
def _selected_geometries(canvas: DesignCanvas) -> dict[str, Geometry]:
    return {i: canvas.entries[i].geometry for i in canvas.selected()}


def align_selected(canvas: DesignCanvas, how: AlignHow) -> None:
    """Align the selection (groups whole) on its outermost edge or centre line."""
    changed = align(_selected_geometries(canvas), how, canvas.selection.units())
    if changed:
        canvas.document.set_geometries(changed, ALIGN_TEXT[how])
        canvas.document.break_merge()


def distribute_selected(canvas: DesignCanvas, axis: DistributeAxis) -> None:
    """Space the selection (groups whole) with equal gaps."""
    changed = distribute(_selected_geometries(canvas), axis, canvas.selection.units())
    if changed:
        direction = "horizontally" if axis == "h" else "vertically"
        canvas.document.set_geometries(changed, f"Distribute {direction}")
        canvas.document.break_merge()


def nudge(canvas: DesignCanvas, dx: int, dy: int) -> None:
    """Move the selection (and what lies on a selected panel) by ``dx``, ``dy`` design pixels
    (a quick run of nudges of the same widgets merges into one undo step: the document's merge
    window)."""
    moved: dict[str, Geometry] = {}
    for ident in gestures.carried(canvas, canvas.selected()):  # a panel takes what lies on it
        x, y, w, h = canvas.entries[ident].geometry
        moved[ident] = (x + dx, y + dy, w, h)
    if moved and (dx or dy):
        canvas.document.set_geometries(moved, "Nudge")


def restack_selected(canvas: DesignCanvas, where: Where) -> None:
    """Bring the selection to the front, send it to the back, or one step either way."""
    if canvas.selected():
        canvas.document.restack(canvas.selected(), where)


def group_selected(canvas: DesignCanvas) -> str | None:
    """Make the selection one group (its old groups dissolve into it); the group id."""
    ids = canvas.selected()
    if len(ids) < 2:
        return None
    group = canvas.document.group(ids)
    canvas.select(ids)
    return group


def ungroup_selected(canvas: DesignCanvas) -> None:
    """Dissolve every group in the selection (one undo step), keeping the widgets selected."""
    groups = canvas.selection.groups()
    if not groups:
        return
    ids = canvas.selected()
    stack = canvas.document.undo_stack
    stack.beginMacro("Ungroup" if len(groups) == 1 else f"Ungroup {len(groups)} groups")
    try:
        for group in groups:
            canvas.document.ungroup(group)
    finally:
        stack.endMacro()
    canvas.select(ids)


# ---- every canvas command: its shortcut, the context menu, the keys ----------------------------
Command = tuple[str, tuple[QKeySequence, ...], Callable[[], object], bool]
"""Menu text, shortcuts (the first is shown), what it does, whether it applies now."""
_SHIFTED = {
    Qt.Key.Key_BraceRight: Qt.Key.Key_BracketRight,
    Qt.Key.Key_BraceLeft: Qt.Key.Key_BracketLeft,
}
"""Ctrl+Shift+] arrives as Ctrl+Shift+} on most layouts."""
_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


def canvas_commands(canvas: DesignCanvas) -> list[Command]:
    """Every command of the canvas with its shortcut (one table for the menu and the keys)."""
    n = len(canvas.selection)
    std = QKeySequence.StandardKey
    stack = canvas.document.undo_stack
    front = functools.partial
    table: list[tuple[str, QKeySequence.StandardKey | str, Callable[[], object], bool]] = [
        ("Cut", std.Cut, canvas.cut, n > 0),
        ("Copy", std.Copy, canvas.copy, n > 0),
        ("Paste", std.Paste, canvas.paste, not canvas.clipboard.is_empty()),
        ("Duplicate", "Ctrl+D", canvas.duplicate, n > 0),
        ("Delete", "Del", canvas.delete_selected, n > 0),
        ("Select all", std.SelectAll, canvas.select_all, bool(canvas.order)),
        ("Group", "Ctrl+G", canvas.group_selected, n > 1),
        ("Ungroup", "Ctrl+Shift+G", canvas.ungroup_selected, bool(canvas.selection.groups())),
        ("Bring to front", "Ctrl+Shift+]", front(canvas.restack, "front"), n > 0),
        ("Bring forward", "Ctrl+]", front(canvas.restack, "forward"), n > 0),
        ("Send backward", "Ctrl+[", front(canvas.restack, "backward"), n > 0),
        ("Send to back", "Ctrl+Shift+[", front(canvas.restack, "back"), n > 0),
        ("Zoom in", std.ZoomIn, lambda: canvas.set_zoom(canvas.zoom * 1.25), True),
        ("Zoom out", std.ZoomOut, lambda: canvas.set_zoom(canvas.zoom / 1.25), True),
        ("Zoom to fit", "Ctrl+0", canvas.fit, True),
        ("Show grid", "Ctrl+'", canvas.toggle_grid, True),
        ("Snap to grid and guides", "Ctrl+Shift+'", canvas.toggle_snap, True),
        ("Undo", std.Undo, stack.undo, stack.canUndo()),
        ("Redo", std.Redo, stack.redo, stack.canRedo()),
    ]
    return [(text, _bindings(key), run, on) for text, key, run, on in table]


def _bindings(key: QKeySequence.StandardKey | str) -> tuple[QKeySequence, ...]:
    """Every key sequence of ``key`` (a standard key has one or more per platform)."""
    if isinstance(key, str):
        return (QKeySequence(key),)
    return tuple(QKeySequence.keyBindings(key)) or (QKeySequence(key),)


def key_press(canvas: DesignCanvas, event: QKeyEvent) -> bool:
    """Arrows nudge (Shift: a grid step), Escape cancels a drag or clears the selection, and
    the shortcuts of ``canvas_commands``; True when the key was used."""
    key = Qt.Key(event.key())
    if key in _ARROWS and canvas.selection and canvas.gesture is None:
        step = canvas.grid_step if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        dx, dy = _ARROWS[key]
        canvas.nudge(dx * step, dy * step)
        return True
    if key == Qt.Key.Key_Escape:
        if not gestures.cancel(canvas):
            canvas.select([])
        return True
    pressed = QKeySequence(QKeyCombination(event.modifiers(), _SHIFTED.get(key, key)))
    exact = QKeySequence.SequenceMatch.ExactMatch
    for _text, sequences, run, _on in canvas_commands(canvas):
        if any(pressed.matches(sequence) == exact for sequence in sequences):
            run()
            return True
    return False


def context_menu(canvas: DesignCanvas, pos: QPoint) -> QMenu:
    """The commands as a menu (shortcuts shown); a right-click on an unselected widget selects
    it first. The caller pops it up; it deletes itself when closed."""
    hit = gestures.item_at(canvas, pos)
    if hit is not None and hit not in canvas.selection:
        canvas.select([hit])
    menu = QMenu(canvas)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    commands = {text: (seq, run, on) for text, seq, run, on in canvas_commands(canvas)}
    count = len(canvas.selection)
    stack = canvas.document.undo_stack
    _add_action(menu, f"Undo {stack.undoText()}".strip(), *commands["Undo"])
    _add_action(menu, f"Redo {stack.redoText()}".strip(), *commands["Redo"])
    menu.addSeparator()
    for text in ("Cut", "Copy", "Paste", "Duplicate", "Delete"):
        _add_action(menu, text, *commands[text])
    menu.addSeparator()
    aligning = menu.addMenu("Align")
    for how, text in ALIGN_TEXT.items():
        _add_action(aligning, text, None, functools.partial(canvas.align, how), count > 1)
    aligning.addSeparator()
    spread: dict[DistributeAxis, str] = {"h": "horizontally", "v": "vertically"}
    for axis, text in spread.items():
        run = functools.partial(canvas.distribute, axis)
        _add_action(aligning, f"Distribute {text}", None, run, count > 2)
    order = menu.addMenu("Order")
    for text in ("Bring to front", "Bring forward", "Send backward", "Send to back"):
        _add_action(order, text, *commands[text])
    menu.addSeparator()
    for text in ("Group", "Ungroup"):
        _add_action(menu, text, *commands[text])
    menu.addSeparator()
    _add_action(menu, "Select all", *commands["Select all"])
    view = menu.addMenu("View")
    grid = _add_action(view, "Show grid", *commands["Show grid"])
    grid.setCheckable(True)
    grid.setChecked(canvas.grid_visible)
    snap = _add_action(view, "Snap to grid and guides", *commands["Snap to grid and guides"])
    snap.setCheckable(True)
    snap.setChecked(canvas.snap)
    for text in ("Zoom in", "Zoom out", "Zoom to fit"):
        _add_action(view, text, *commands[text])
    return menu


def _add_action(
    menu: QMenu,
    text: str,
    sequences: tuple[QKeySequence, ...] | None,
    run: Callable[[], object],
    on: bool,
) -> QAction:
    action = menu.addAction(text)
    if sequences:
        action.setShortcut(sequences[0])  # shown in the menu; the canvas handles the keys
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.setEnabled(on)
    action.triggered.connect(lambda _checked=False: run())
    return action
