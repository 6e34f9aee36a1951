"""Saving tag changes into ``project.yaml`` without disturbing anything the user wrote.

The file is edited as text, one tag item at a time: ruamel.yaml's composer gives the exact span of
every item of ``tags:``; a changed item is replaced by a fresh rendering, a removed one is cut, new
ones are appended after the last tag. Comments, key order, quoting, line breaks inside flow
mappings and every untouched tag stay byte for byte as they were. (Dumping the whole round-trip
document instead reflows every flow mapping, and ruamel 0.18 even folds a quoted
``"0 stopped, 1 running"`` into ``'0stopped, 1 running'``: the text splice avoids both.)

Saving is atomic (temporary file in the same folder, fsync, ``os.replace``) and keeps the previous
file in ``.backups/``. After writing, a validator (``hmi_app.check.check_project`` in the app; the
core's own schema and reference check by default) re-loads the project; if it reports a problem
the previous file is put back and ``EditRefused`` lists the problems.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hmi_app.core.atomic_file import write_atomic
from hmi_app.core.project.loader import PROJECT_FILE, read_project
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.yamlio import ProjectIssue

BACKUP_DIR = ".backups"
BACKUPS_KEPT = 20
LINE_WIDTH = 100
ITEM_INDENT = 2

Validator = Callable[[Path], list[ProjectIssue]]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BOM = "\ufeff"


class EditRefused(Exception):
    """A change that was not saved; ``issues`` says why (the file on disk is unchanged)."""

    def __init__(self, issues: Sequence[ProjectIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(frozen=True)
class TagEdit:
    """What a change does to the tag list, by tag name."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged"
        )


@dataclass(frozen=True)
class SaveResult:
    """A finished save: the file, its backup (None when nothing had to be written) and the edit."""

    path: Path
    backup: Path | None
    edit: TagEdit
    connections: TagEdit = field(default_factory=TagEdit)
    """What the save did to ``connections:`` (``connection_editing.save_project``)."""


def default_validator(folder: Path) -> list[ProjectIssue]:
    """Schema and cross-references of the project in ``folder`` (no driver address checks)."""
    return read_project(folder)[1]


def save_tags(
    folder: Path,
    upsert: Iterable[TagConfig] = (),
    remove: Iterable[str] = (),
    *,
    replace: bool = False,
    validator: Validator | None = None,
    backups_kept: int = BACKUPS_KEPT,
) -> SaveResult:
    """Add or update ``upsert`` (by name) and delete ``remove`` in ``folder/project.yaml``.

    With ``replace`` every tag not in ``upsert`` is removed. Nothing is written when nothing
    changes. Raise ``EditRefused`` (file left as it was) if the result does not validate.
    """
    path = Path(folder) / PROJECT_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"cannot be read: {exc}")]) from None
    new_raw, edit = plan_tag_edit(raw, upsert, remove, replace=replace)
    if not edit.changed:
        return SaveResult(path, None, edit)
    backup = write_checked(path, raw, new_raw, validator=validator, backups_kept=backups_kept)
    return SaveResult(path, backup, edit)


def write_checked(
    path: Path,
    raw: bytes,
    new_raw: bytes,
    *,
    validator: Validator | None = None,
    backups_kept: int = BACKUPS_KEPT,
) -> Path:
    """Back ``raw`` up, write ``new_raw`` atomically and re-check the project; put ``raw`` back
    and raise ``EditRefused`` if the check finds problems. The backup's path."""
    backup = backup_file(path, raw, keep=backups_kept)
    write_atomic(path, new_raw)
    try:
        issues = (validator or default_validator)(path.parent)
    except BaseException:
        write_atomic(path, raw)  # a validator that fails must not leave an unchecked file
        raise
    if issues:
        write_atomic(path, raw)
        raise EditRefused(issues)
    return backup


def plan_tag_edit(
    raw: bytes,
    upsert: Iterable[TagConfig] = (),
    remove: Iterable[str] = (),
    *,
    replace: bool = False,
) -> tuple[bytes, TagEdit]:
    """The new bytes of a ``project.yaml`` whose current bytes are ``raw``, and what changed."""
    text, bom = _decode(raw)
    wanted = list(upsert)
    doubles = _duplicates(tag.name for tag in wanted)
    if doubles:
        raise EditRefused(
            [ProjectIssue(PROJECT_FILE, 0, "tags", f"tag {n!r} given twice") for n in doubles]
        )
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"YAML syntax: {exc}")]) from None
    if not isinstance(root, MappingNode):
        raise EditRefused([ProjectIssue(PROJECT_FILE, 1, "", "is not a mapping")])
    key_node, seq = _tags_node(root)
    items = list(seq.value) if isinstance(seq, SequenceNode) else []
    try:
        existing = [_item_tag(data) for data in _tag_items(text, len(items))]
    except YAMLError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"YAML syntax: {exc}")]) from None
    names = [name for name, _tag, _keys in existing]
    by_name = {tag.name: tag for tag in wanted}
    removing = set(remove) | ({n for n in names if n not in by_name} if replace else set())
    edit = TagEdit()
    replacements: dict[int, TagConfig | None] = {}
    for index, (name, old, _keys) in enumerate(existing):
        if name in removing:
            replacements[index] = None
            edit.removed.append(name)
        elif name in by_name:
            new = by_name[name]
            if old == new:
                edit.unchanged.append(name)
            else:
                replacements[index] = new
                edit.updated.append(name)
        else:
            edit.unchanged.append(name)
    known = set(names)
    appended = [tag for tag in wanted if tag.name not in known]
    edit.added.extend(tag.name for tag in appended)
    if not edit.changed:
        return raw, edit
    newline = _newline(text)
    if isinstance(seq, SequenceNode) and not seq.flow_style and items:
        new_text = _splice(text, items, existing, replacements, appended, newline)
    else:
        keep = [
            tag
            for index, (_n, tag, _k) in enumerate(existing)
            if index not in replacements and tag is not None
        ]
        final = keep + [t for t in replacements.values() if t is not None] + appended
        new_text = _rewrite_seq(text, key_node, seq, final, newline)
    expected = _expected(existing, replacements, appended)
    if not expected:
        new_text = _empty_list(new_text)
    _verify(new_text, expected)
    return (bom + new_text).encode("utf-8"), edit


def backup_file(path: Path, raw: bytes, *, keep: int = BACKUPS_KEPT) -> Path:
    """Copy ``raw`` (the current content of ``path``) to ``.backups/`` next to it; prune old."""
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S_%fZ")
    target = folder / f"{path.stem}-{stamp}{path.suffix}"
    write_atomic(target, raw)
    olds = sorted(folder.glob(f"{path.stem}-*{path.suffix}"))
    for old in olds[: max(0, len(olds) - keep)]:
        old.unlink(missing_ok=True)
    return target


# ---- reading the current items -------------------------------------------------------------


def _decode(raw: bytes) -> tuple[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "", f"is not UTF-8: {exc}")]) from None
    if text.startswith(_BOM):
        return text[1:], _BOM
    return text, ""


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    doubles: list[str] = []
    for name in names:
        if name in seen and name not in doubles:
            doubles.append(name)
        seen.add(name)
    return doubles


def _tags_node(root: MappingNode) -> tuple[Node | None, Node | None]:
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "tags":
            return key, value
    return None, None


def _item_tag(data: Any) -> tuple[str, TagConfig | None, list[str]]:
    """Name, parsed config (None if the item is not a valid tag) and key order of one item."""
    if not isinstance(data, dict):
        return "", None, []
    name = str(data.get("name", ""))
    try:
        return name, TagConfig.model_validate(data), [str(k) for k in data]
    except ValidationError:
        return name, None, [str(k) for k in data]


def _tag_items(text: str, count: int) -> list[Any]:
    """The plain data of each item of ``tags:`` (aliases and merge keys resolved)."""
    data = YAML(typ="safe").load(text)
    tags = data.get("tags") if isinstance(data, dict) else None
    items = list(tags) if isinstance(tags, list) else []
    return items if len(items) == count else [None] * count


def _content_end(node: Node) -> Any:
    """Where the item's own text ends (a block mapping's end mark swallows following comments)."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return node.end_mark


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def closed_lines(text: str, newline: str) -> list[str]:
    """``text``'s lines, each with its line end (the last one given ``newline`` when it had
    none), so lines can be inserted after any of them."""
    lines = _lines(text)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    return lines


def _newline(text: str) -> str:
    match = re.search(r"\r\n|\r|\n", text)
    return match.group(0) if match else "\n"


# ---- writing ----------------------------------------------------------------------------------


def _splice(
    text: str,
    items: list[Node],
    existing: list[tuple[str, TagConfig | None, list[str]]],
    replacements: dict[int, TagConfig | None],
    appended: list[TagConfig],
    newline: str,
) -> str:
    lines = closed_lines(text, newline)
    first = items[0].start_mark
    dash_column = max(0, lines[first.line].rfind("-", 0, first.column))
    spans = [(item.start_mark.line, _end_line(item)) for item in items]
    last_end = spans[-1][1]
    new_lines = [line for tag in appended for line in _render(tag, dash_column, newline)]
    lines[last_end + 1 : last_end + 1] = new_lines
    # edit from the bottom up so earlier line numbers stay valid
    for index in sorted(replacements, reverse=True):
        first, end = spans[index]
        tag = replacements[index]
        if tag is None:
            del lines[first : end + 1]
            continue
        tail = _trailing_comment(lines[end], _content_end(items[index]))
        block = _render(tag, dash_column, newline, existing[index][2])
        if tail:
            block[-1] = block[-1][: -len(newline)] + tail + newline
        lines[first : end + 1] = block
    return "".join(lines)


def _end_line(item: Node) -> int:
    end = _content_end(item)
    line: int = end.line
    if end.column == 0 and line > item.start_mark.line:
        line -= 1
    return line


def _trailing_comment(line: str, end: Any) -> str:
    rest = line[end.column :].rstrip("\r\n")
    return rest if rest.strip().startswith("#") else ""


def _rewrite_seq(
    text: str, key: Node | None, seq: Node | None, tags: list[TagConfig], newline: str
) -> str:
    """Write the whole tag list as a block sequence (it was missing, empty, null or flow)."""
    body = "".join(line for tag in tags for line in _render(tag, ITEM_INDENT, newline))
    if key is None or seq is None:
        if text and not text.endswith(("\n", "\r")):
            text += newline
        return text + "tags:" + newline + body
    start = seq.start_mark.index
    end = seq.end_mark.index
    if isinstance(seq, ScalarNode) and not seq.value:  # "tags:" with nothing after it
        start = end = key.end_mark.index + 1
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end < 0 else line_end].rstrip("\r")
    after = len(text) if line_end < 0 else line_end + 1
    comment = f" {rest.strip()}" if rest.strip().startswith("#") else ""
    head = text[:start].rstrip(" ")
    return head + comment + newline + body + text[after:]


def _empty_list(text: str) -> str:
    """``tags:`` left with no items reads as null: make it ``tags: []``."""
    root = YAML(typ="rt").compose(text)
    key, value = _tags_node(root) if isinstance(root, MappingNode) else (None, None)
    if key is None or not isinstance(value, ScalarNode) or value.value:
        return text
    colon = text.index(":", key.end_mark.index)
    return text[: colon + 1] + " []" + text[colon + 1 :]


def _render(
    tag: TagConfig, dash_column: int, newline: str, old_keys: Sequence[str] = ()
) -> list[str]:
    """The lines of one ``- ...`` item: a flow mapping if it fits the line width, else block."""
    mapping = tag_mapping(tag, old_keys)
    prefix = " " * dash_column + "- "
    flow = _dump(mapping, flow=True).strip()
    if "\n" not in flow and len(prefix) + len(flow) <= LINE_WIDTH:
        return [prefix + flow + newline]
    block = _dump(mapping, flow=False).rstrip("\n").split("\n")
    pad = " " * (dash_column + 2)
    return [prefix + block[0] + newline] + [pad + line + newline for line in block[1:]]


_DEFAULTS: dict[str, Any] = TagConfig(name="x").model_dump(mode="json")


def tag_mapping(tag: TagConfig, old_keys: Sequence[str] = ()) -> dict[str, Any]:
    """The keys worth writing for ``tag``: those differing from the defaults, plus the ones the
    file had already spelled out (in the file's order first, then in field order)."""
    data = tag.model_dump(mode="json")
    keep: dict[str, Any] = {}
    for key in [*(k for k in old_keys if k in data), *data]:
        value = data[key]
        if key in keep:
            continue
        if key == "name" or value != _DEFAULTS[key] or (key in old_keys and value is not None):
            keep[key] = _tidy(value)
    return keep


def _tidy(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def _dump(mapping: dict[str, Any], *, flow: bool) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    node = _commented(mapping, flow_top=flow)
    out = io.StringIO()
    yaml.dump(node, out)
    return out.getvalue()


def _commented(value: Any, *, flow_top: bool) -> Any:
    if isinstance(value, dict):
        node = CommentedMap((k, _commented(v, flow_top=True)) for k, v in value.items())
        if flow_top:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
        return node
    return value


def _expected(
    existing: list[tuple[str, TagConfig | None, list[str]]],
    replacements: dict[int, TagConfig | None],
    appended: list[TagConfig],
) -> list[TagConfig | None]:
    result: list[TagConfig | None] = []
    for index, (_name, tag, _keys) in enumerate(existing):
        if index in replacements:
            if replacements[index] is not None:
                result.append(replacements[index])
        else:
            result.append(tag)
    return result + list(appended)


def _verify(new_text: str, expected: list[TagConfig | None]) -> None:
    """The edited text must parse to exactly the intended tags (guards the splice itself)."""
    try:
        data = YAML(typ="safe").load(new_text)
    except YAMLError as exc:  # pragma: no cover - a bug in the splice, not in user input
        raise EditRefused(
            [ProjectIssue(PROJECT_FILE, 0, "", f"edit broke the YAML: {exc}")]
        ) from None
    tags = data.get("tags") if isinstance(data, dict) else None
    got: list[TagConfig | None] = []
    for item in tags or []:
        try:
            got.append(TagConfig.model_validate(item))
        except ValidationError:
            got.append(None)
    if got != expected:  # pragma: no cover - a bug in the splice, not in user input
        raise EditRefused([ProjectIssue(PROJECT_FILE, 0, "tags", "edit did not round-trip")])


# ---- shared with the screen designer's text splice (screens/designer/splice.py) -------------

content_end = _content_end
item_end_line = _end_line
split_lines = _lines
detect_newline = _newline

# ---- shared with connection_editing.py ------------------------------------------------------

decode_text = _decode
trailing_comment = _trailing_comment
dump_mapping = _dump
tidy_value = _tidy
