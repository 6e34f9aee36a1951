"""Saving connection changes (and the tags with them) into ``project.yaml`` as a text splice.

Like ``editing`` does for ``tags:``, the file is edited as text: ruamel.yaml's composer gives the
span of every entry of the ``connections:`` mapping and of every key inside it. In a changed
entry only the changed keys' lines are rewritten (a removed key is cut, a new key is added after
the entry's last key, a renamed entry gets its new key text), so comments and untouched keys stay
byte for byte; a flow-style entry (``utilities: {driver: sim}``) that changes is re-rendered as a
block. A removed entry is cut, a new one is appended after the last entry, in the file's indent.

``save_project`` writes connections and tags in one go (a new connection and the tag that uses
it, a renamed connection and the tags moved to it) through ``editing.write_checked``: atomic,
with a backup in ``.backups/``, the project re-checked and the previous file put back if the
check refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from hmi_app.core.project.editing import (
    BACKUPS_KEPT,
    EditRefused,
    SaveResult,
    TagEdit,
    Validator,
    closed_lines,
    content_end,
    decode_text,
    detect_newline,
    dump_mapping,
    item_end_line,
    plan_tag_edit,
    tidy_value,
    trailing_comment,
    write_checked,
)
from hmi_app.core.project.loader import PROJECT_FILE
from hmi_app.core.project.model import ConnectionConfig, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue

KEY = "connections"
INDENT = 2

# (first line, last line, new lines, order): lines[first : last + 1] = new lines; an insertion
# has last = first - 1. Applied bottom-up; at one line, higher order first.
_Op = tuple[int, int, list[str], int]


def save_project(
    folder: Path,
    tags: Iterable[TagConfig],
    connections: Mapping[str, ConnectionConfig],
    *,
    renames: Mapping[str, str] | None = None,
    validator: Validator | None = None,
    backups_kept: int = BACKUPS_KEPT,
) -> SaveResult:
    """Make ``folder/project.yaml`` hold exactly ``connections`` (by name; ``renames`` maps a
    file's old connection name to its new one, which keeps its place) and ``tags``.

    Nothing is written when nothing changes. Raise ``EditRefused`` (the file left as it was)
    if the edit cannot be made or the saved project does not pass ``validator``.
    """
    path = Path(folder) / PROJECT_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"cannot be read: {exc}")]) from None
    with_connections, connection_edit = plan_connection_edit(raw, connections, renames=renames)
    new_raw, tag_edit = plan_tag_edit(with_connections, tags, replace=True)
    if not (connection_edit.changed or tag_edit.changed):
        return SaveResult(path, None, tag_edit, connection_edit)
    backup = write_checked(path, raw, new_raw, validator=validator, backups_kept=backups_kept)
    return SaveResult(path, backup, tag_edit, connection_edit)


def connection_mapping(connection: ConnectionConfig) -> dict[str, Any]:
    """The keys of a connection as written in ``project.yaml`` (driver, plant, then settings)."""
    data: dict[str, Any] = {"driver": connection.driver}
    if connection.simulated_plant is not None:
        data["simulated_plant"] = connection.simulated_plant
    data.update(connection.driver_settings())
    return {key: tidy_value(value) for key, value in data.items()}


def plan_connection_edit(
    raw: bytes,
    connections: Mapping[str, ConnectionConfig],
    *,
    renames: Mapping[str, str] | None = None,
) -> tuple[bytes, TagEdit]:
    """The new bytes of a ``project.yaml`` (current bytes ``raw``) whose ``connections:`` are
    exactly ``connections``, and what changed by name (a rename counts as updated)."""
    renames = dict(renames or {})
    text, bom = decode_text(raw)
    try:
        root = YAML(typ="rt").compose(text)
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"YAML syntax: {exc}")]) from None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise EditRefused([ProjectIssue(PROJECT_FILE, 1, "", "is not a mapping")])
    key_node, value = _key_node(root, KEY)
    section = data.get(KEY)
    old_data: dict[str, Any] = (
        {str(k): v for k, v in section.items()} if isinstance(section, dict) else {}
    )
    entries = _entries(value)
    wanted = {name: connection_mapping(c) for name, c in connections.items()}
    edit = TagEdit()
    changes: dict[str, str | None] = {}  # old name -> new name (None: removed)
    for old_name in old_data:
        new_name = renames.get(old_name, old_name)
        if new_name not in wanted:
            edit.removed.append(old_name)
            changes[old_name] = None
        elif new_name != old_name or _plain(old_data[old_name]) != wanted[new_name]:
            edit.updated.append(new_name)
            changes[old_name] = new_name
        else:
            edit.unchanged.append(old_name)
    kept = {renames.get(n, n) for n in old_data if changes.get(n, n) is not None}
    appended = [name for name in wanted if name not in kept]
    edit.added.extend(appended)
    if not edit.changed:
        return raw, edit
    newline = detect_newline(text)
    if entries and len(entries) == len(old_data) and not _is_flow(value):
        new_text = _splice(text, entries, old_data, changes, wanted, appended, newline)
    else:
        order = [changes.get(n, n) for n in old_data if changes.get(n, n) is not None]
        final = {name: wanted[name] for name in [*order, *appended] if name is not None}
        new_text = _rewrite(text, root, key_node, value, final, newline)
    expected = [renames.get(n, n) for n in old_data if changes.get(n, n) is not None] + appended
    if not expected:
        new_text = _empty_mapping(new_text)
    _verify(new_text, [(name, wanted[name]) for name in expected])
    return (bom + new_text).encode("utf-8"), edit


# ---- reading ----------------------------------------------------------------------------------


def _key_node(root: MappingNode, name: str) -> tuple[Node | None, Node | None]:
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, value
    return None, None


def _entries(value: Node | None) -> list[tuple[ScalarNode, Node]]:
    if not isinstance(value, MappingNode):
        return []
    return [(k, v) for k, v in value.value if isinstance(k, ScalarNode)]


def _is_flow(node: Node | None) -> bool:
    return bool(getattr(node, "flow_style", False))


def _plain(data: Any) -> dict[str, Any] | None:
    """An entry of the file as ``connection_mapping`` would write it (None if it is invalid)."""
    try:
        return connection_mapping(ConnectionConfig.model_validate(data))
    except ValidationError:
        return None


# ---- writing ----------------------------------------------------------------------------------


def _key_lines(mapping: Mapping[str, Any], indent: int, newline: str) -> list[str]:
    """``key: value`` lines at ``indent`` (nested mappings in flow style)."""
    if not mapping:
        return []
    body = dump_mapping(dict(mapping), flow=False).rstrip("\n").split("\n")
    return [" " * indent + line + newline for line in body]


def _entry_lines(
    name: str, mapping: Mapping[str, Any], indent: int, step: int, nl: str
) -> list[str]:
    head = dump_mapping({name: None}, flow=False).rstrip("\n").rstrip()
    return [" " * indent + head + nl, *_key_lines(mapping, indent + step, nl)]


def _splice(
    text: str,
    entries: list[tuple[ScalarNode, Node]],
    old_data: Mapping[str, Any],
    changes: Mapping[str, str | None],
    wanted: Mapping[str, dict[str, Any]],
    appended: Sequence[str],
    newline: str,
) -> str:
    lines = closed_lines(text, newline)
    indent = entries[0][0].start_mark.column
    step = _step(entries, indent)
    ops: list[_Op] = []
    for key, value in entries:
        old_name = str(key.value)
        if old_name not in changes:
            continue
        first, last = key.start_mark.line, item_end_line(value)
        new_name = changes[old_name]
        if new_name is None:
            ops.append((first, last, [], 0))
        elif isinstance(value, MappingNode) and value.value and not value.flow_style:
            ops.extend(_key_ops(lines, value, old_data[old_name], wanted[new_name], newline))
            if new_name != old_name:
                head = dump_mapping({new_name: None}, flow=False).rstrip("\n").rstrip()
                line = lines[first]
                start, end = key.start_mark.column, key.end_mark.column
                ops.append((first, first, [line[:start] + head[:-1] + line[end:]], 0))
        else:
            block = _entry_lines(new_name, wanted[new_name], indent, step, newline)
            tail = trailing_comment(lines[last], content_end(value))
            if tail and len(block) > 1:
                block[0] = block[0][: -len(newline)] + tail + newline
            ops.append((first, last, block, 0))
    end = item_end_line(entries[-1][1])
    new_lines = [
        line
        for name in appended
        for line in _entry_lines(name, wanted[name], indent, step, newline)
    ]
    if new_lines:
        ops.append((end + 1, end, new_lines, 2))
    for first, last, block, _order in sorted(ops, key=lambda op: (op[0], op[3]), reverse=True):
        lines[first : last + 1] = block
    return "".join(lines)


def _step(entries: list[tuple[ScalarNode, Node]], indent: int) -> int:
    """How far the file indents an entry's keys under its name."""
    for _key, value in entries:
        if isinstance(value, MappingNode) and value.value and not value.flow_style:
            column: int = value.value[0][0].start_mark.column
            return max(1, column - indent)
    return INDENT


def _key_ops(
    lines: list[str],
    value: MappingNode,
    old: Any,
    new: Mapping[str, Any],
    newline: str,
) -> list[_Op]:
    """Rewrite only the keys of a block entry whose values changed."""
    old = old if isinstance(old, dict) else {}
    pairs = [(k, v) for k, v in value.value if isinstance(k, ScalarNode)]
    column = pairs[0][0].start_mark.column
    ops: list[_Op] = []
    for sub_key, sub_value in pairs:
        name = str(sub_key.value)
        first, last = sub_key.start_mark.line, item_end_line(sub_value)
        if name not in new:
            ops.append((first, last, [], 0))
        elif name not in old or tidy_value(old[name]) != new[name]:
            block = _key_lines({name: new[name]}, column, newline)
            tail = trailing_comment(lines[last], content_end(sub_value))
            if tail:
                block[-1] = block[-1][: -len(newline)] + tail + newline
            ops.append((first, last, block, 0))
    present = {str(k.value) for k, _v in pairs}
    added = {k: v for k, v in new.items() if k not in present}
    if added:
        end = item_end_line(pairs[-1][1])
        ops.append((end + 1, end, _key_lines(added, column, newline), 1))
    return ops


def _rewrite(
    text: str,
    root: MappingNode,
    key: Node | None,
    value: Node | None,
    final: Mapping[str, Any],
    newline: str,
) -> str:
    """Write the whole ``connections:`` mapping in block style (it was missing, empty or flow)."""
    body = "".join(
        line for name, data in final.items() for line in _entry_lines(name, data, 2, 2, newline)
    )
    section = f"{KEY}:" + (newline + body if body else " {}" + newline)
    if key is None or value is None:
        tags, _value = _key_node(root, "tags")
        if tags is not None and tags.start_mark.column == 0:  # before tags:, where it belongs
            start = tags.start_mark.index
            return text[:start] + section + text[start:]
        if text and not text.endswith(("\n", "\r")):
            text += newline
        return text + section
    start, end = value.start_mark.index, value.end_mark.index
    if isinstance(value, ScalarNode) and not value.value:  # "connections:" with nothing after
        start = end = key.end_mark.index + 1
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end < 0 else line_end].rstrip("\r")
    after = len(text) if line_end < 0 else line_end + 1
    comment = f" {rest.strip()}" if rest.strip().startswith("#") else ""
    head = text[:start].rstrip(" ")
    if not body:
        return head + " {}" + comment + newline + text[after:]
    return head + comment + newline + body + text[after:]


def _empty_mapping(text: str) -> str:
    """``connections:`` left with no entries reads as null: make it ``connections: {}``."""
    root = YAML(typ="rt").compose(text)
    key, value = _key_node(root, KEY) if isinstance(root, MappingNode) else (None, None)
    if key is None or not isinstance(value, ScalarNode) or value.value:
        return text
    colon = text.index(":", key.end_mark.index)
    return text[: colon + 1] + " {}" + text[colon + 1 :]


def _verify(new_text: str, expected: list[tuple[str, dict[str, Any]]]) -> None:
    """The edited text must parse to exactly the intended connections (guards the splice)."""
    try:
        data = YAML(typ="safe").load(new_text)
    except YAMLError as exc:  # pragma: no cover - a bug in the splice, not in user input
        raise EditRefused(
            [ProjectIssue(PROJECT_FILE, 0, "", f"edit broke the YAML: {exc}")]
        ) from None
    got = data.get(KEY) if isinstance(data, dict) else None
    pairs = [(str(k), _plain(v)) for k, v in (got or {}).items()]
    if pairs != expected:  # pragma: no cover - a bug in the splice, not in user input
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, KEY, "edit did not round-trip")])
