"""Edits of a ``ScreenText``'s pieces: one widget's chunk rewritten, chunks restacked or cut,
a screen-level key set.

A changed widget keeps its text except the keys that changed (``edited_item``): the new value
is spliced in (``screens.designer.splice``), and the result must read back as the intended
entry, else the one item is re-rendered (block style, or flow if the file's item was flow and it
still fits a line). Moving a widget replaces only its ``[x, y, w, h]`` (``moved_item``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from enum import Enum
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode

from screens.designer.entries import WidgetEntry
from screens.designer.screen_text import (
    DocumentError,
    Item,
    ScreenText,
    entry_from_node,
    geometry_span,
    is_flow,
)
from screens.designer.splice import (
    ITEM_KEY_ORDER,
    LINE_WIDTH,
    compose,
    detect_newline,
    find_key,
    flow_text,
    item_node,
    remove_key,
    render_item,
    set_key,
)


def entry_mapping(entry: WidgetEntry) -> dict[str, Any]:
    """The keys the designer writes for ``entry``, in ``ITEM_KEY_ORDER`` (empty parts left out)."""
    mapping: dict[str, Any] = {"id": entry.id, "type": entry.type, "geometry": list(entry.geometry)}
    if entry.props:
        mapping["props"] = dict(entry.props)
    if entry.bind:
        mapping["bind"] = dict(entry.bind)
    if entry.on_click is not None:
        mapping["on_click"] = dict(entry.on_click)
    if entry.group is not None:
        mapping["group"] = entry.group
    return mapping


def new_item(entry: WidgetEntry, dash: int, newline: str, *, flow: bool, lead: str = "") -> Item:
    """A freshly rendered chunk for ``entry`` (flow if asked and it fits in one line).

    ValueError if the text would not read back as ``entry`` (a value YAML cannot hold, such
    as NaN, which never equals itself): the edit is refused rather than saved wrong.
    """
    body = render_item(entry_mapping(entry), dash, newline, flow=flow)
    node = item_node(body)
    if node is None or entry_from_node(node, 0, "") != entry:
        raise ValueError(f"widget {entry.id!r} cannot be written as YAML that reads back the same")
    return Item(lead, body, entry, geometry_span(node, 0), is_flow(node), dash)


def moved_item(item: Item, geometry: tuple[int, int, int, int]) -> Item:
    """``item`` with another geometry: one splice of its ``[x, y, w, h]`` (re-edit otherwise)."""
    entry = item.entry.with_geometry(geometry)
    if item.geometry is None:
        return edited_item(item, entry, "")  # the item's own line ends
    start, end = item.geometry
    text = "[{}, {}, {}, {}]".format(*geometry)  # what flow_text writes, without a dump
    body = item.body[:start] + text + item.body[end:]
    return replace(item, body=body, entry=entry, geometry=(start, start + len(text)))


_PARTS = ("id", "type", "geometry", "props", "bind", "on_click", "group")


def edited_item(item: Item, entry: WidgetEntry, newline: str) -> Item:
    """``item`` rewritten to hold ``entry``: only the keys that changed are spliced; the whole
    item is re-rendered only if the splice would not parse back to ``entry``."""
    old, new = entry_mapping(item.entry), entry_mapping(entry)
    body = item.body
    try:
        for key in _PARTS:
            if old.get(key) == new.get(key):
                continue
            node = item_node(body)
            if node is None:
                raise ValueError("not an item")
            body = _edit_key(body, node, key, old.get(key), new.get(key))
        node = item_node(body)
        if node is None or entry_from_node((node.value and node) or node, 0, "") != entry:
            raise ValueError("did not round-trip")
        if node.flow_style and any(len(line) > LINE_WIDTH for line in body.splitlines()):
            raise ValueError("too wide for a flow item")
        return Item(item.lead, body, entry, geometry_span(node, 0), is_flow(node), item.dash)
    except (ValueError, YAMLError, DocumentError):
        return new_item(
            entry, item.dash, newline or detect_newline(item.body), flow=item.flow, lead=item.lead
        )


def _edit_key(body: str, node: MappingNode, key: str, old: Any, new: Any) -> str:
    if new is None:
        return remove_key(body, node, key)
    found = find_key(node, key)
    if (
        key in ("props", "bind")
        and isinstance(old, dict)
        and found is not None
        and isinstance(found[2], MappingNode)
    ):
        for sub in [*old, *(k for k in new if k not in old)]:
            if old.get(sub) == new.get(sub):
                continue
            item = item_node(body)
            assert item is not None
            found = find_key(item, key)
            assert found is not None and isinstance(found[2], MappingNode)
            if sub in new:
                body = set_key(body, found[2], sub, new[sub])
            else:
                body = remove_key(body, found[2], sub)
        return body
    return set_key(body, node, key, new, order=ITEM_KEY_ORDER)


def detached(lead: str) -> str:
    """The part of a widget's lead that stays when the widget goes: all but the comment lines
    directly above it."""
    lines = lead.splitlines(keepends=True)
    while lines and lines[-1].lstrip().startswith("#"):
        lines.pop()
    return "".join(lines)


def relead(
    old: list[Item], new_order: list[Item], chosen: set[str], tail: str
) -> tuple[list[Item], str]:
    """Items in ``new_order`` after moving the ``chosen`` ones: as for a delete, the blank lines
    and separate comments above a moved widget stay where they were (with the widget that now
    follows them); only the comment lines directly above it travel with it."""
    kept: dict[str, Item] = {}
    carry = ""
    for item in old:
        if item.entry.id in chosen:
            carry += detached(item.lead)
            kept[item.entry.id] = replace(item, lead=item.lead[len(detached(item.lead)) :])
        else:
            kept[item.entry.id] = replace(item, lead=carry + item.lead) if carry else item
            carry = ""
    return [kept[i.entry.id] for i in new_order], carry + tail


def set_top_key(state: ScreenText, head: str, tail: str, key: str, value: Any) -> tuple[str, str]:
    """Set a top-level key in the head (or the tail, wherever the file has it)."""
    value = list(value) if isinstance(value, tuple) else value
    for part in ("head", "tail"):
        text = head if part == "head" else tail
        root = compose(text) if text.strip() else None
        if root is None or not hasattr(root, "value") or not isinstance(root.value, list):
            continue
        if find_key(root, key) is not None:  # type: ignore[arg-type]
            new = set_key(text, root, key, value)  # type: ignore[arg-type]
            return (new, tail) if part == "head" else (head, new)
    # absent: a new line just before "widgets:" (the head ends with "widgets:")
    cut = (
        head.rfind("\n", 0, max(0, len(head) - 1)) + 1
        if head.rstrip().endswith("widgets:")
        else len(head)
    )
    line = f"{flow_text(key)}: {flow_text(value)}{state.newline}"
    if cut == len(head) and head and not head.endswith("\n"):
        line = state.newline + line
    return head[:cut] + line + head[cut:], tail


def plain_value(value: Any) -> Any:
    """``value`` as the plain data a screen file reads back as: tuples as lists, mappings as
    dicts, enum members as their values; ValueError for what YAML cannot hold."""
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, bool):
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    raise ValueError(f"{value!r} cannot be written to a screen file")


def plain_entry(entry: WidgetEntry) -> WidgetEntry:
    """``entry`` with plain values only (what its text will read back as)."""
    x, y, w, h = (int(v) for v in entry.geometry)
    bind = {str(k): v for k, v in entry.bind.items()}
    if not all(isinstance(v, str) for v in bind.values()):
        raise ValueError(f"{entry.id}: a binding is a tag name or an expression (text)")
    return replace(
        entry,
        id=str(entry.id),
        type=str(entry.type),
        geometry=(x, y, w, h),
        props=plain_value(dict(entry.props)),
        bind=bind,
        on_click=plain_value(dict(entry.on_click)) if entry.on_click is not None else None,
        group=str(entry.group) if entry.group is not None else None,
    )


RESTACK_TEXT = {
    "front": "Bring {} to front",
    "back": "Send {} to back",
    "forward": "Bring {} forward",
    "backward": "Send {} backward",
}
"""Undo texts of the z-order commands ({} is the widget id or "3 widgets")."""


def restacked(state: ScreenText, chosen: set[str], where: str) -> ScreenText | None:
    """``state`` with the ``chosen`` widgets moved to the front/back or one step
    forward/backward in the file (the z-order); None when nothing would move."""
    items = list(state.items)
    if where in ("front", "back"):
        moving = [i for i in items if i.entry.id in chosen]
        staying = [i for i in items if i.entry.id not in chosen]
        new_order = [*staying, *moving] if where == "front" else [*moving, *staying]
    else:
        new_order = list(items)
        step = range(len(items) - 2, -1, -1) if where == "forward" else range(1, len(items))
        for n in step:
            m = n + 1 if where == "forward" else n - 1
            if new_order[n].entry.id in chosen and new_order[m].entry.id not in chosen:
                new_order[n], new_order[m] = new_order[m], new_order[n]
    if [i.entry.id for i in new_order] == [i.entry.id for i in items]:
        return None
    rebuilt, tail = relead(items, new_order, chosen, state.tail)
    return state.with_items(tuple(rebuilt), tail=tail)


def merge3(base: str, ours: str, theirs: str) -> str | None:
    """Both sets of line changes made to ``base`` applied together; None when they touch the
    same lines (or insert at the same place), where no merge can be trusted."""
    lines = base.splitlines(keepends=True)
    changes: list[tuple[int, int, list[str]]] = []
    for other in (ours, theirs):
        other_lines = other.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(None, lines, other_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                changes.append((i1, i2, other_lines[j1:j2]))
    changes.sort(key=lambda c: (c[0], c[1]))
    merged: list[str] = []
    position = 0
    previous: tuple[int, int, list[str]] | None = None
    for change in changes:
        start, end, replacement = change
        if previous == change:
            continue  # both made the same change
        if previous is not None and (
            start < previous[1] or (start == previous[1] == previous[0] == end)
        ):
            return None
        merged.extend(lines[position:start])
        merged.extend(replacement)
        position = max(position, end)
        previous = change
    merged.extend(lines[position:])
    return "".join(merged)


def without(state: ScreenText, gone: set[str]) -> ScreenText:
    """``state`` without the widgets ``gone``: each takes its item lines and the comment lines
    directly above it; blank lines and comments set apart by a blank line stay."""
    items: list[Item] = []
    carry = ""
    for item in state.items:
        if item.entry.id in gone:
            carry += detached(item.lead)
            continue
        items.append(replace(item, lead=carry + item.lead) if carry else item)
        carry = ""
    return state.with_items(tuple(items), tail=carry + state.tail)


def with_screen_keys(state: ScreenText, changes: dict[str, Any]) -> ScreenText:
    """``state`` with top-level keys (title, size, background, name) set, each spliced where
    the file has it (or added above ``widgets:``)."""
    head, tail = state.head, state.tail
    for key, value in changes.items():
        head, tail = set_top_key(state, head, tail, key, value)
    return replace(state, head=head, tail=tail, meta=replace(state.meta, **changes))
