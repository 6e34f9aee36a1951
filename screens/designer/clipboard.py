"""Copy, paste and duplicate: new widget entries with fresh ids, offset so the copies show.

The clipboard holds immutable ``WidgetEntry`` records, so it outlives the widgets they came from
(copy on one screen, paste on another: the designer shares one ``Clipboard``). Copies get fresh
ids from the document (``new_id``) and copied groups become new groups, so a pasted group is
independent of the original. Each paste of the same copy lands one offset further, so repeated
pastes fan out instead of stacking on top of each other. The commands at the end do this for a
canvas's selection, each as one document edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from screens.designer.entries import Geometry, WidgetEntry

if TYPE_CHECKING:
    from screens.designer.canvas import DesignCanvas

PASTE_OFFSET = 16
"""Design pixels right and down a pasted copy lands from the original."""
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _bump(candidate: str, taken: Collection[str]) -> str:
    """``candidate`` with its trailing number raised (or ``_2`` added) until it is free."""
    match = _NUMBERED.match(candidate)
    stem, number = (match.group(1), int(match.group(2))) if match else (candidate + "_", 1)
    while True:
        number += 1
        name = f"{stem}{number}"
        if name not in taken:
            return name


def fresh_id(type_key: str, new_id: Callable[[str], str], taken: Collection[str]) -> str:
    """An id from the document's ``new_id`` that is also not in ``taken`` (the document's ids
    and those handed out in the same batch, not yet in the document)."""
    candidate = new_id(type_key)
    return candidate if candidate not in taken else _bump(candidate, taken)


def fresh_group(existing: Collection[str]) -> str:
    """A group id not in ``existing``: ``group_1``, ``group_2``, ..."""
    number = 1
    while f"group_{number}" in existing:
        number += 1
    return f"group_{number}"


def _offset(geometry: Geometry, dx: int, dy: int, screen: tuple[int, int] | None) -> Geometry:
    x, y, w, h = geometry
    x, y = x + dx, y + dy
    if screen is not None:  # keep the copy on the screen (a copy off-screen is lost)
        x = max(0, min(x, screen[0] - w))
        y = max(0, min(y, screen[1] - h))
    return (x, y, w, h)


def copies(
    entries: Sequence[WidgetEntry],
    *,
    new_id: Callable[[str], str],
    taken_ids: Collection[str] = (),
    taken_groups: Collection[str] = (),
    offset: tuple[int, int] = (PASTE_OFFSET, PASTE_OFFSET),
    screen: tuple[int, int] | None = None,
) -> list[WidgetEntry]:
    """New entries like ``entries`` (same order) with fresh ids, new groups in place of copied
    ones and geometries moved by ``offset`` (kept inside ``screen`` when given).

    A group only partly copied does not come along: its copies are ungrouped.
    """
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.group is not None:
            counts[entry.group] = counts.get(entry.group, 0) + 1
    groups: dict[str, str] = {}
    taken_group_ids = set(taken_groups)
    taken = set(taken_ids)
    result: list[WidgetEntry] = []
    for entry in entries:
        group: str | None = None
        if entry.group is not None and counts[entry.group] > 1:
            group = groups.get(entry.group)
            if group is None:
                group = fresh_group(taken_group_ids)
                taken_group_ids.add(group)
                groups[entry.group] = group
        ident = fresh_id(entry.type, new_id, taken)
        taken.add(ident)
        result.append(
            replace(entry, id=ident, group=group, geometry=_offset(entry.geometry, *offset, screen))
        )
    return result


class Clipboard:
    """What was last copied, and how often it was pasted since (each paste lands further)."""

    def __init__(self) -> None:
        self._entries: tuple[WidgetEntry, ...] = ()
        self._pastes = 0

    def copy(self, entries: Sequence[WidgetEntry]) -> None:
        """Remember ``entries`` (in z-order) for pasting."""
        self._entries = tuple(entries)
        self._pastes = 0

    def is_empty(self) -> bool:
        return not self._entries

    def entries(self) -> tuple[WidgetEntry, ...]:
        return self._entries

    def paste(
        self,
        *,
        new_id: Callable[[str], str],
        taken_ids: Collection[str] = (),
        taken_groups: Collection[str] = (),
        screen: tuple[int, int] | None = None,
    ) -> list[WidgetEntry]:
        """Copies of the clipboard's entries for adding to a document, each paste one
        ``PASTE_OFFSET`` further than the last (empty when nothing was copied)."""
        if not self._entries:
            return []
        self._pastes += 1
        step = PASTE_OFFSET * self._pastes
        return copies(
            self._entries,
            new_id=new_id,
            taken_ids=taken_ids,
            taken_groups=taken_groups,
            offset=(step, step),
            screen=screen,
        )


# ---- commands on a canvas's selection ----------------------------------------------------------
def _selected_entries(canvas: DesignCanvas) -> list[WidgetEntry]:
    """The selected entries in z-order (copies stack as the originals do)."""
    chosen = set(canvas.selected())
    return [canvas.entries[i] for i in canvas.order if i in chosen]


def _taken_groups(canvas: DesignCanvas) -> set[str]:
    return {e.group for e in canvas.entries.values() if e.group is not None}


def _add(canvas: DesignCanvas, entries: list[WidgetEntry]) -> None:
    if entries:
        canvas.document.add_widgets(entries)
        canvas.select([e.id for e in entries])


def copy_selected(canvas: DesignCanvas) -> None:
    """Put the selection on the canvas's clipboard."""
    entries = _selected_entries(canvas)
    if entries:
        canvas.clipboard.copy(entries)


def paste(canvas: DesignCanvas) -> None:
    """Add copies of the clipboard (offset, fresh ids) and select them."""
    made = canvas.clipboard.paste(
        new_id=canvas.document.new_id,
        taken_ids=canvas.entries.keys(),
        taken_groups=_taken_groups(canvas),
        screen=canvas.document.size,
    )
    _add(canvas, made)


def duplicate(canvas: DesignCanvas) -> None:
    """Add copies of the selection next to it and select them (the clipboard is kept)."""
    made = copies(
        _selected_entries(canvas),
        new_id=canvas.document.new_id,
        taken_ids=canvas.entries.keys(),
        taken_groups=_taken_groups(canvas),
        screen=canvas.document.size,
    )
    _add(canvas, made)


def delete_selected(canvas: DesignCanvas) -> None:
    """Remove the selected widgets."""
    ids = canvas.selected()
    if ids:
        canvas.document.remove_widgets(ids)
