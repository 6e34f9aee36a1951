"""Text surgery on YAML screen files: change one value, add or drop one key, render one entry.

The designer never re-dumps a screen file: ruamel.yaml's composer gives the exact span of every
node, and an edit replaces only the span it changes (the geometry ``[x, y, w, h]`` of a moved
widget, the one key of ``props`` that was set), so comments, quoting, key order and the other
widgets stay byte for byte as they were. Values are written in flow style when they fit the line
width, in block style otherwise. Shared line helpers come from ``hmi_app.core.project.editing``,
which saves tags into ``project.yaml`` the same way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hmi_app.core.project.editing import LINE_WIDTH, content_end, detect_newline, split_lines

__all__ = [
    "ITEM_KEY_ORDER",
    "LINE_WIDTH",
    "append_item",
    "compose",
    "content_end",
    "dash_index",
    "detect_newline",
    "find_key",
    "flow_text",
    "remove_item",
    "remove_key",
    "render_item",
    "replace_node",
    "set_key",
    "split_lines",
]

ITEM_KEY_ORDER = ("id", "type", "geometry", "props", "bind", "on_click", "group")
"""The order the designer writes a widget's keys in (and inserts a missing key at)."""


def compose(text: str) -> Node | None:
    """The node tree of ``text`` with the position of every node (YAMLError if invalid)."""
    node: Node | None = YAML(typ="rt").compose(text)
    return node


def flow_text(value: Any) -> str:
    """``value`` as one line of YAML in flow style (strings quoted only where YAML needs it)."""
    yaml = YAML(typ="rt")
    yaml.width = 1 << 20
    holder = CommentedMap(v=_commented(value))
    holder.fa.set_flow_style()
    out = io.StringIO()
    yaml.dump(holder, out)
    text = out.getvalue().strip()
    # "{v: <value>}" -> "<value>"
    return text[4:-1]


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        node = CommentedMap((str(k), _commented(v)) for k, v in value.items())
        node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_commented(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def block_lines(
    key: str, value: Any, indent: int, width: int = LINE_WIDTH, *, block: bool = False
) -> list[str]:
    """``key: value`` at column ``indent``: one flow line if it fits (and not ``block``), else
    a block whose children are flow where they fit (no newlines)."""
    pad = " " * indent
    line = f"{pad}{flow_text(key)}: {flow_text(value)}"
    fits = len(line) <= width and not block
    if fits or not isinstance(value, Mapping | list | tuple) or not value:
        return [line]
    return [f"{pad}{flow_text(key)}:", *value_block(value, indent + 2, width)]


def value_block(value: Any, indent: int, width: int = LINE_WIDTH) -> list[str]:
    """A mapping or list as block lines at column ``indent`` (children flow where they fit)."""
    if isinstance(value, Mapping):
        return [line for k, v in value.items() for line in block_lines(str(k), v, indent, width)]
    lines: list[str] = []
    pad = " " * indent
    for item in value:
        flow = f"{pad}- {flow_text(item)}"
        if len(flow) <= width or not isinstance(item, Mapping) or not item:
            lines.append(flow)
            continue
        inner = value_block(item, indent + 2, width)
        lines.append(f"{pad}- {inner[0].lstrip()}")
        lines.extend(inner[1:])
    return lines


def render_item(mapping: Mapping[str, Any], dash_column: int, newline: str, *, flow: bool) -> str:
    """One ``- ...`` item of a block list: one flow line if asked and it fits, else a block."""
    prefix = " " * dash_column + "- "
    if flow:
        line = prefix + flow_text(mapping)
        if len(line) <= LINE_WIDTH:
            return line + newline
    lines = value_block(mapping, dash_column + 2)
    lines[0] = prefix + lines[0].lstrip()
    return "".join(line + newline for line in lines)


def find_key(mapping: MappingNode, key: str) -> tuple[int, Node, Node] | None:
    """Index, key node and value node of ``key`` in ``mapping`` (None if absent)."""
    for index, (k, v) in enumerate(mapping.value):
        if isinstance(k, ScalarNode) and k.value == key:
            return index, k, v
    return None


def _is_inline(node: Node) -> bool:
    """A value whose whole text is its own span (a flow collection or a one-line scalar)."""
    if isinstance(node, ScalarNode):
        return node.style not in ("|", ">") and node.end_mark.index > node.start_mark.index
    return bool(getattr(node, "flow_style", False)) or not node.value


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just after the newline ending the line that holds ``index`` (or the text's end)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _column(text: str, index: int) -> int:
    return index - _line_start(text, index)


def set_key(
    text: str,
    mapping: MappingNode,
    key: str,
    value: Any,
    *,
    order: Sequence[str] = (),
    width: int = LINE_WIDTH,
    block: bool = False,
) -> str:
    """``text`` with ``key`` of ``mapping`` set to ``value`` (replaced in place or inserted).

    A new key goes before the first existing key that ``order`` puts after it (else at the
    end); a value is written in flow style if its line fits ``width`` (and ``block`` is not
    asked for a new key of a block mapping), else in block style.
    """
    newline = detect_newline(text)
    found = find_key(mapping, key)
    if found is not None:
        _, knode, vnode = found
        flow = flow_text(value)
        if _is_inline(vnode):
            start, end = vnode.start_mark.index, vnode.end_mark.index
            line_start = _line_start(text, start)
            candidate = text[line_start:start] + flow + text[end : _line_end(text, end)]
            if (
                len(candidate.rstrip("\r\n")) <= width
                or not isinstance(value, Mapping | list | tuple)
                or mapping.flow_style
            ):
                return text[:start] + flow + text[end:]
        # a block value, or a flow one grown too long: key end .. value end, re-rendered
        start, end = knode.end_mark.index, content_end(vnode).index
        indent = _column(text, knode.start_mark.index)
        lines = block_lines(key, value, indent, width)
        rendered = lines[0][indent + len(flow_text(key)) :]
        rest = "".join(newline + line for line in lines[1:])
        return text[:start] + rendered + rest + text[end:]
    return _insert_key(text, mapping, key, value, order, width, newline, block)


def _insert_key(
    text: str,
    mapping: MappingNode,
    key: str,
    value: Any,
    order: Sequence[str],
    width: int,
    newline: str,
    block_style: bool = False,
) -> str:
    later = set(order[order.index(key) + 1 :]) if key in order else set()
    before = next(
        (k for k, _ in mapping.value if isinstance(k, ScalarNode) and k.value in later), None
    )
    pair = f"{flow_text(key)}: {flow_text(value)}"
    if mapping.flow_style:
        if before is not None:
            at = before.start_mark.index
            return text[:at] + pair + ", " + text[at:]
        if not mapping.value:
            at = mapping.start_mark.index + 1
            return text[:at] + pair + text[at:]
        at = content_end(mapping.value[-1][1]).index
        return text[:at] + ", " + pair + text[at:]
    first_key = mapping.value[0][0]
    indent = _column(text, first_key.start_mark.index)
    lines = block_lines(key, value, indent, width, block=block_style)
    block = "".join(line + newline for line in lines)
    if before is not None:
        at = _line_start(text, before.start_mark.index)
        if at <= mapping.start_mark.index:  # the next key shares the item's "- " line
            return _insert_key(text, mapping, key, value, (), width, newline, block_style)
        return text[:at] + block + text[at:]
    at = _line_end(text, content_end(mapping.value[-1][1]).index)
    head = text[:at]
    if not head.endswith("\n"):
        head += newline
    return head + block + text[at:]


def remove_key(text: str, mapping: MappingNode, key: str) -> str:
    """``text`` without ``key`` of ``mapping`` (unchanged if absent)."""
    found = find_key(mapping, key)
    if found is None:
        return text
    index, knode, vnode = found
    end = content_end(vnode).index
    if mapping.flow_style:
        if index > 0:
            start = content_end(mapping.value[index - 1][1]).index
            return text[:start] + text[end:]
        if len(mapping.value) > 1:
            return text[: knode.start_mark.index] + text[mapping.value[1][0].start_mark.index :]
        return text[: knode.start_mark.index] + text[end:]
    start = _line_start(text, knode.start_mark.index)
    if text[start : knode.start_mark.index].strip():
        # the key shares its line with "- " (the item's first key): drop up to the next key
        if len(mapping.value) > index + 1:
            return (
                text[: knode.start_mark.index]
                + text[mapping.value[index + 1][0].start_mark.index :]
            )
        return text[: knode.start_mark.index] + text[end:]
    if end > start and text[end - 1] != "\n":
        end = _line_end(text, end)
    return text[:start] + text[end:]


def item_node(body: str) -> MappingNode | None:
    """The widget mapping of one list item's text (``  - id: ...``), None if it is not one."""
    root = compose(body)
    if not isinstance(root, SequenceNode) or len(root.value) != 1:
        return None
    item = root.value[0]
    return item if isinstance(item, MappingNode) else None


def dash_index(text: str, node: Node) -> int:
    """Index of the ``-`` of the block list item whose content is ``node`` (-1 if none)."""
    index: int = node.start_mark.index - 1
    while index >= 0 and text[index] in " \t\r\n":
        index -= 1
    return index if index >= 0 and text[index] == "-" else -1


def replace_node(text: str, node: Node, value: Any) -> str:
    """``text`` with the scalar or flow collection ``node`` replaced by ``value`` (flow)."""
    return text[: node.start_mark.index] + flow_text(value) + text[node.end_mark.index :]


def append_item(text: str, seq: SequenceNode, value: Any) -> str:
    """``text`` with ``value`` appended to the list ``seq`` (in its style: flow or block)."""
    flow = flow_text(value)
    if seq.flow_style or not seq.value:
        if not seq.value:
            at = seq.start_mark.index + 1
            return text[:at] + flow + text[at:]
        at = content_end(seq.value[-1]).index
        return text[:at] + ", " + flow + text[at:]
    last = seq.value[-1]
    dash = dash_index(text, last)
    column = _column(text, dash) if dash >= 0 else _column(text, last.start_mark.index)
    end = content_end(last).index
    at = end if end > 0 and text[end - 1] == "\n" else _line_end(text, end)
    head = text[:at] if text[:at].endswith("\n") else text[:at] + detect_newline(text)
    return head + " " * column + "- " + flow + detect_newline(text) + text[at:]


def remove_item(text: str, seq: SequenceNode, index: int) -> str:
    """``text`` without item ``index`` of the list ``seq`` (a block item takes its lines)."""
    node = seq.value[index]
    end = content_end(node).index
    if seq.flow_style:
        if index > 0:
            return text[: content_end(seq.value[index - 1]).index] + text[end:]
        if len(seq.value) > 1:
            return text[: node.start_mark.index] + text[seq.value[1].start_mark.index :]
        return text[: node.start_mark.index] + text[end:]
    dash = dash_index(text, node)
    start = _line_start(text, dash if dash >= 0 else node.start_mark.index)
    if not (end > 0 and text[end - 1] == "\n"):
        end = _line_end(text, end)
    return text[:start] + text[end:]
