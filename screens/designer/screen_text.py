"""A screen file cut into the pieces the designer edits: head, one chunk per widget, tail.

``ScreenText`` is immutable: the text before the ``widgets:`` items (``head``), each widget's
chunk (the comment and blank lines above it, then its own ``- ...`` lines) and the text after the
last widget (``tail``). Joining the pieces gives the file back byte for byte. An edit builds a new
``ScreenText`` that shares every untouched chunk with the old one, so the undo stack keeps whole
states cheaply and undoing restores the exact bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hmi_app.core.project.yamlio import ProjectIssue, yaml_syntax_problem
from screens.designer.entries import DesignIssue, WidgetEntry
from screens.designer.splice import (
    compose,
    content_end,
    dash_index,
    detect_newline,
    find_key,
    flow_text,
)

DEFAULT_SIZE = (1280, 800)
DEFAULT_BACKGROUND = "#d9d9d9"
_BOM = "\ufeff"


class DocumentError(Exception):
    """A screen file the designer cannot edit; ``issues`` locate each problem (file:line)."""

    def __init__(self, issues: list[ProjectIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class SaveRefused(DocumentError):
    """A save stopped by validation errors; ``design_issues`` lists every problem found."""

    def __init__(self, file_name: str, issues: Sequence[DesignIssue]) -> None:
        self.design_issues = list(issues)
        super().__init__(
            [
                ProjectIssue(file_name, 0, issue.widget_id or "", issue.message)
                for issue in self.design_issues
                if issue.severity == "error"
            ]
        )


@dataclass(frozen=True)
class ScreenMeta:
    """The screen-level keys the designer shows: name, title, design size, background."""

    name: str
    title: str = ""
    size: tuple[int, int] = DEFAULT_SIZE
    background: str = DEFAULT_BACKGROUND


@dataclass(frozen=True)
class Item:
    """One widget's chunk: ``lead`` (lines above it), ``body`` (its item lines), its entry.

    ``geometry`` is the span of the flow ``[x, y, w, h]`` inside ``body`` (None when written
    otherwise), so a move is a splice without parsing; ``flow`` says the item is a flow mapping.
    """

    lead: str
    body: str
    entry: WidgetEntry
    geometry: tuple[int, int] | None
    flow: bool
    dash: int = 2


@dataclass(frozen=True)
class ScreenText:
    """A whole screen file as pieces; ``text()`` joins them back."""

    head: str
    empty: str  # what follows "widgets:" while there are no widgets (" []" and the line's end)
    opened: str  # what follows "widgets:" when there are widgets (the line's end)
    items: tuple[Item, ...]
    tail: str
    meta: ScreenMeta
    newline: str = "\n"
    dash: int = 2
    bom: str = ""
    _ids: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def text(self) -> str:
        """The whole file text."""
        middle = self.opened if self.items else self.empty
        return "".join(
            [self.bom, self.head, middle, *(i.lead + i.body for i in self.items), self.tail]
        )

    def index(self, widget_id: str) -> int:
        """Position of the widget in the file (KeyError if there is none with that id)."""
        if len(self._ids) != len(self.items):
            object.__setattr__(self, "_ids", {i.entry.id: n for n, i in enumerate(self.items)})
        return self._ids[widget_id]

    def with_items(self, items: tuple[Item, ...], **changes: Any) -> ScreenText:
        """The same screen with other widget chunks (and other ``changes`` of its fields)."""
        return replace(self, items=items, _ids={}, **changes)

    @property
    def flow_preferred(self) -> bool:
        """Whether most widgets of the file are written as one-line flow mappings."""
        flows = sum(1 for item in self.items if item.flow)
        return flows * 2 > len(self.items)


def _issue(name: str, line: int, path: str, message: str) -> ProjectIssue:
    return ProjectIssue(name, line, path, message)


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _item_end(text: str, node: Node) -> int:
    end: int = content_end(node).index
    if end > 0 and text[end - 1] == "\n":
        return end
    return _line_end(text, end)


def parse_screen(raw: str, name: str, default_name: str = "") -> ScreenText:
    """Cut ``raw`` (a screen file's text) into pieces; DocumentError (file:line) if it cannot be
    edited: YAML syntax, not a mapping, ``widgets`` not a block list, or a widget without a
    usable id, type or geometry."""
    bom = _BOM if raw.startswith(_BOM) else ""
    text = raw[len(bom) :]
    newline = detect_newline(text)
    try:
        root = compose(text)
    except YAMLError as exc:
        line, problem = yaml_syntax_problem(exc)
        raise DocumentError([_issue(name, line, "", f"YAML syntax: {problem}")]) from None
    if root is None:
        root = MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(root, MappingNode):
        raise DocumentError(
            [_issue(name, 1, "", "a screen file is a mapping (schema_version, name, widgets, ...)")]
        )
    meta = _meta(root, default_name)
    found = find_key(root, "widgets")
    if found is None:
        opened = ("" if not text or text.endswith("\n") else newline) + "widgets:" + newline
        return ScreenText(text, "", opened, (), "", meta, newline, 2, bom)
    _, key, value = found
    colon = text.index(":", key.end_mark.index)
    head = text[: colon + 1]
    if isinstance(value, SequenceNode) and not value.flow_style and value.value:
        line_end = _line_end(text, colon)
        items = _items(text, value, name, line_end)
        opened = text[colon + 1 : line_end]
        end = _item_end(text, value.value[-1])
        return ScreenText(
            head,
            " []" + opened,
            opened,
            items,
            text[end:],
            meta,
            newline,
            items[0].dash,
            bom,
        )
    empty_scalar = isinstance(value, ScalarNode) and value.value in ("", "~", "null")
    empty_seq = isinstance(value, SequenceNode) and not value.value
    if not (empty_scalar or empty_seq):
        raise DocumentError(
            [
                _issue(
                    name,
                    value.start_mark.line + 1,
                    "widgets",
                    "the designer edits a block list (one '- ' item per widget); "
                    "write 'widgets:' that way",
                )
            ]
        )
    line_end = _line_end(text, max(value.end_mark.index, colon + 1))
    opened = text[value.end_mark.index : line_end] if empty_seq else text[colon + 1 : line_end]
    if not opened.endswith("\n"):
        opened += newline
    empty = text[colon + 1 : line_end]
    return ScreenText(head, empty, opened, (), text[line_end:], meta, newline, 2, bom)


def _meta(root: MappingNode, default_name: str) -> ScreenMeta:
    values: dict[str, Any] = {}
    for key in ("name", "title", "size", "background"):
        found = find_key(root, key)
        if found is not None:
            values[key] = plain(found[2])
    name = values.get("name")
    title = values.get("title")
    size = values.get("size")
    background = values.get("background")
    valid_size = (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    )
    return ScreenMeta(
        str(name) if isinstance(name, str) and name else default_name,
        title if isinstance(title, str) else "",
        (size[0], size[1]) if valid_size and isinstance(size, list) else DEFAULT_SIZE,
        background if isinstance(background, str) else DEFAULT_BACKGROUND,
    )


def plain(node: Node) -> Any:
    """The Python value of a composed node (YAML 1.2 core schema scalars; aliases resolved)."""
    if isinstance(node, MappingNode):
        return {str(plain(k)): plain(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [plain(v) for v in node.value]
    return _scalar(node)


def _scalar(node: Node) -> Any:
    value = node.value
    tag = str(node.tag)
    if tag.endswith(":str") or getattr(node, "style", None):
        return value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() == "true"
    if tag.endswith(":int"):
        digits = value.replace("_", "")
        for base in (10, 0):
            try:
                return int(digits, base)
            except ValueError:
                continue
        return value
    if tag.endswith(":float"):
        lowered = value.lower()
        if lowered in (".inf", "+.inf"):
            return float("inf")
        if lowered == "-.inf":
            return float("-inf")
        if lowered == ".nan":
            return float("nan")
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _items(text: str, seq: SequenceNode, name: str, previous: int) -> tuple[Item, ...]:
    items: list[Item] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(seq.value):
        dash = dash_index(text, node)
        start = _line_start(text, dash)
        if dash < 0 or text[start:dash].strip():
            raise DocumentError(
                [
                    _issue(
                        name,
                        node.start_mark.line + 1,
                        f"widgets[{index}]",
                        "write each widget as its own '- ' item on a new line",
                    )
                ]
            )
        end = _item_end(text, node)
        entry = entry_from_node(node, index, name)
        if entry.id in seen:
            raise DocumentError(
                [
                    _issue(
                        name,
                        node.start_mark.line + 1,
                        f"widgets[{index}].id",
                        f"id {entry.id!r} is already used by widgets[{seen[entry.id]}]",
                    )
                ]
            )
        seen[entry.id] = index
        lead, body = text[previous:start], text[start:end]
        items.append(
            Item(lead, body, entry, geometry_span(node, start), is_flow(node), dash - start)
        )
        previous = end
    return tuple(items)


def is_flow(node: Node) -> bool:
    """Whether a widget item is written as a flow mapping ``{...}``."""
    return isinstance(node, MappingNode) and bool(node.flow_style)


def geometry_span(node: Node, offset: int) -> tuple[int, int] | None:
    """Where the item's flow ``[x, y, w, h]`` is, relative to ``offset`` (None if not flow)."""
    if not isinstance(node, MappingNode):
        return None
    found = find_key(node, "geometry")
    if found is None or not isinstance(found[2], SequenceNode) or not found[2].flow_style:
        return None
    value = found[2]
    return value.start_mark.index - offset, value.end_mark.index - offset


def entry_from_node(node: Node, index: int, name: str) -> WidgetEntry:
    """The entry of one composed widget item; DocumentError naming the line if unusable."""
    where = f"widgets[{index}]"
    line = node.start_mark.line + 1

    def fail(path: str, message: str, at: Node | None = None) -> DocumentError:
        return DocumentError([_issue(name, at.start_mark.line + 1 if at else line, path, message)])

    if not isinstance(node, MappingNode):
        raise fail(where, "a widget is a mapping with id, type and geometry")
    data: dict[str, Any] = {}
    nodes: dict[str, Node] = {}
    for k, v in node.value:
        data[str(plain(k))] = plain(v)
        nodes[str(plain(k))] = v
    for key in ("id", "type"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise fail(f"{where}.{key}", "is required (text)", nodes.get(key))
    geometry = data.get("geometry")
    if not (
        isinstance(geometry, list)
        and len(geometry) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) for v in geometry)
    ):
        raise fail(
            f"{where}.geometry",
            "must be [x, y, width, height] in whole pixels",
            nodes.get("geometry"),
        )
    props = data.get("props") or {}
    bind = data.get("bind") or {}
    on_click = data.get("on_click")
    group = data.get("group")
    if not isinstance(props, dict):
        raise fail(f"{where}.props", "must be a mapping of property: value", nodes.get("props"))
    if not isinstance(bind, dict) or not all(isinstance(v, str) for v in bind.values()):
        raise fail(
            f"{where}.bind",
            "must map each property to a tag name or expression (text)",
            nodes.get("bind"),
        )
    if on_click is not None and not isinstance(on_click, dict):
        raise fail(
            f"{where}.on_click",
            "must be a mapping (navigate: or faceplate:)",
            nodes.get("on_click"),
        )
    if group is not None and not isinstance(group, str):
        raise fail(f"{where}.group", "must be a group id (text)", nodes.get("group"))
    x, y, w, h = geometry
    return WidgetEntry(data["id"], data["type"], (x, y, w, h), props, bind, on_click, group)


def changed_on_disk(path: Path, expected: bytes | None) -> str | None:
    """Why ``path`` is no longer the file a document read (None when it still is)."""
    if expected is None:
        return f"{path.name} was created by someone else meanwhile" if path.exists() else None
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        return f"{path.name} was renamed or deleted since it was opened"
    if current != expected:
        return (
            f"{path.name} was changed on disk since it was opened (by another designer, or "
            "a screen rename updating its links)"
        )
    return None


def new_screen_text(
    name: str,
    size: tuple[int, int] = (1280, 720),
    title: str = "",
    parameters: Mapping[str, Mapping[str, str]] | None = None,
    background: str = "#d9d9d9",
) -> str:
    """The text of a new empty screen (or template, with ``parameters``)."""
    lines = ["schema_version: 1", f"name: {flow_text(name)}"]
    if title:
        lines.append(f"title: {flow_text(title)}")
    lines += [f"size: {flow_text(list(size))}", f"background: {_quoted(background)}"]
    if parameters:
        lines.append("parameters:")
        lines += [f"  {flow_text(k)}: {flow_text(dict(v))}" for k, v in parameters.items()]
    lines.append("widgets: []")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A colour like ``"#d9d9d9"`` in double quotes, as the demo screens write it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
