"""Tag lists as CSV, for bulk edits in a spreadsheet: export every tag, import with validation.

One column per ``TagConfig`` field; ``scaling`` and ``limits`` are spread over the columns
``scaling.raw_min`` ... ``scaling.eu_max`` and ``limits.min``/``limits.max``. UTF-8, comma, one
header row (a byte-order mark and ``;`` as separator, as some spreadsheets save, are accepted).

Import rules: a row is validated with the same model as ``project.yaml``; an error reads
``tags.csv:7: address: ...`` with the line of the row in the file. An empty cell means the field's
default (no scaling, no limits...). A column left out of the file keeps the existing tag's value
(a file with only ``name`` and ``address`` changes addresses only) and the default for new tags.
``initial`` is written as in YAML (``""`` for an empty string, ``true``, ``[1, 2]``); every other
cell is plain text. Nothing is applied if any row has an error.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from hmi_app.core.project.model import MEMORY, ProjectModel, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue, ProjectLoadError, format_loc

SCALING = ("raw_min", "raw_max", "eu_min", "eu_max")
LIMITS = ("min", "max")
COLUMNS: tuple[str, ...] = (
    "name",
    "connection",
    "address",
    "type",
    "byte_order",
    "word_order",
    "length",
    "array_length",
    *(f"scaling.{part}" for part in SCALING),
    "units",
    "format",
    "deadband",
    "access",
    *(f"limits.{part}" for part in LIMITS),
    "scan",
    "initial",
    "description",
    "history",
)

AddressCheck = Callable[[TagConfig], str | None]


class CsvImportError(ProjectLoadError):
    """A CSV file that cannot be imported; ``issues`` lists every problem with its line."""


@dataclass(frozen=True)
class CsvRow:
    """One imported row: the line it starts on and the tag it gives."""

    line: int
    tag: TagConfig


# ---- export -----------------------------------------------------------------------------------


def export_tags(tags: Iterable[TagConfig]) -> str:
    """All ``tags`` as CSV text (header row first, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for tag in tags:
        writer.writerow(tag_row(tag))
    return out.getvalue()


def write_csv(path: Path, tags: Iterable[TagConfig]) -> None:
    """Write ``tags`` to ``path`` (UTF-8)."""
    Path(path).write_text(export_tags(tags), encoding="utf-8", newline="")


def tag_row(tag: TagConfig) -> list[str]:
    """The cells of one tag, in ``COLUMNS`` order."""
    data = tag.model_dump(mode="json")
    scaling = data["scaling"] or {}
    limits = data["limits"] or {}
    cells: dict[str, str] = {}
    for column in COLUMNS:
        if column.startswith("scaling."):
            cells[column] = _number(scaling.get(column.split(".", 1)[1]))
        elif column.startswith("limits."):
            cells[column] = _number(limits.get(column.split(".", 1)[1]))
        elif column == "connection":
            cells[column] = "" if tag.connection == MEMORY else tag.connection
        elif column in ("initial", "history"):
            cells[column] = _yaml_cell(data[column])
        elif column == "deadband":
            cells[column] = _number(tag.deadband)
        else:
            cells[column] = str(data[column])
    return [cells[column] for column in COLUMNS]


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _yaml_cell(value: Any) -> str:
    """A value as YAML would read it back: plain when unambiguous, else JSON (valid YAML)."""
    if value is None:
        return ""
    if isinstance(value, str):
        if value and value == value.strip() and _parse_yaml(value) == value:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _parse_yaml(text: str) -> Any:
    try:
        return YAML(typ="safe").load(text)
    except YAMLError:
        return _Unparsable


class _Unparsable:
    """Marker for a cell that is not valid YAML."""


# ---- import -----------------------------------------------------------------------------------


def read_csv(path: Path, display_name: str | None = None) -> list[CsvRow]:
    """Parse and validate every row of ``path``; raise CsvImportError listing every problem."""
    name = display_name or Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvImportError([ProjectIssue(name, 0, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvImportError([ProjectIssue(name, 0, "", f"cannot be read: {exc}")]) from None
    return parse_csv(text, name)


def parse_csv(
    text: str, name: str = "tags.csv", existing: Mapping[str, TagConfig] | None = None
) -> list[CsvRow]:
    """Rows of ``text`` as tags; a column missing from the file takes the value of the tag of the
    same name in ``existing`` (or the default). Raise CsvImportError listing every problem."""
    rows, issues = _parse_rows(text, name, existing)
    if issues:
        raise CsvImportError(issues)
    return rows


def _parse_rows(
    text: str, name: str, existing: Mapping[str, TagConfig] | None
) -> tuple[list[CsvRow], list[ProjectIssue]]:
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    issues: list[ProjectIssue] = []
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError(
            [ProjectIssue(name, 1, "", "is empty (expected a header row)")]
        ) from None
    except csv.Error as exc:
        raise CsvImportError([ProjectIssue(name, 1, "", f"CSV syntax: {exc}")]) from None
    columns = [cell.strip() for cell in header]
    for column in columns:
        if column and column not in COLUMNS:
            close = difflib.get_close_matches(column, COLUMNS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            issues.append(ProjectIssue(name, 1, "", f"unknown column {column!r}{hint}"))
    doubled = [c for i, c in enumerate(columns) if c and c in columns[:i]]
    issues.extend(ProjectIssue(name, 1, "", f"column {c!r} appears twice") for c in doubled)
    if "name" not in columns:
        issues.append(ProjectIssue(name, 1, "", "a 'name' column is required"))
    if issues:
        raise CsvImportError(issues)
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            issues.append(ProjectIssue(name, line, "", f"CSV syntax: {exc}"))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed
        if len(cells) > len(columns):
            issues.append(
                ProjectIssue(name, start, "", f"{len(cells)} cells for {len(columns)} columns")
            )
            continue
        record = dict(zip(columns, cells, strict=False))
        tag_name = record.get("name", "").strip()
        base = (existing or {}).get(tag_name)
        tag, row_issues = _row_tag(record, base, name, start)
        issues.extend(row_issues)
        if tag is None:
            continue
        if tag.name in seen:
            issues.append(
                ProjectIssue(
                    name, start, "name", f"tag {tag.name!r} is already on line {seen[tag.name]}"
                )
            )
            continue
        seen[tag.name] = start
        rows.append(CsvRow(start, tag))
    return rows, issues


def _row_tag(
    record: Mapping[str, str], base: TagConfig | None, name: str, line: int
) -> tuple[TagConfig | None, list[ProjectIssue]]:
    data: dict[str, Any] = base.model_dump() if base is not None else {}
    issues: list[ProjectIssue] = []
    groups: dict[str, dict[str, str]] = {}
    for column, raw in record.items():
        cell = raw.strip() if column not in ("description", "units", "format") else raw
        if "." in column:
            group, part = column.split(".", 1)
            groups.setdefault(group, {})[part] = cell.strip()
            continue
        if column in ("initial", "history"):
            if not cell:
                data[column] = None if column == "initial" else False
            else:
                value = _parse_yaml(cell)
                if value is _Unparsable:
                    issues.append(ProjectIssue(name, line, column, f"{cell!r} is not valid YAML"))
                    continue
                data[column] = value
        elif column == "connection":
            data[column] = cell or MEMORY
        elif not cell:
            data.pop(column, None)  # the default
        else:
            data[column] = cell
    for group, parts in groups.items():
        if not any(parts.values()):
            data[group] = None
            continue
        if group == "scaling":
            missing = [p for p in SCALING if not parts.get(p)]
            if missing:
                if base is not None and base.scaling is not None:
                    old = base.scaling.model_dump()
                    parts = {p: parts.get(p) or str(old[p]) for p in SCALING}
                else:
                    issues.append(
                        ProjectIssue(
                            name,
                            line,
                            "scaling",
                            "needs raw_min, raw_max, eu_min and eu_max "
                            f"(missing: {', '.join(missing)})",
                        )
                    )
                    continue
        data[group] = {part: value for part, value in parts.items() if value}
    if issues:
        return None, issues
    if "name" not in data or not data["name"]:
        return None, [ProjectIssue(name, line, "name", "is required")]
    try:
        return TagConfig.model_validate(data), []
    except ValidationError as exc:
        return None, [_located(name, line, err) for err in exc.errors()]


def _located(name: str, line: int, err: Any) -> ProjectIssue:
    loc = [part for part in err["loc"] if not (isinstance(part, str) and "[" in part)]
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a known field"
    elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
        message = f"{message} (got {err['input']!r})"
    return ProjectIssue(name, line, format_loc(loc), message)


@dataclass(frozen=True)
class ImportPlan:
    """The tags to save after an import, and the rows they came from."""

    tags: list[TagConfig]
    rows: list[CsvRow]
    replace: bool


def plan_import(
    text: str,
    model: ProjectModel,
    name: str = "tags.csv",
    *,
    replace: bool = False,
    check_address: AddressCheck | None = None,
) -> ImportPlan:
    """Validate ``text`` against the project: types and fields per row, then connection, scan
    class and (with ``check_address``) the driver's address check, each located by row line."""
    existing = {} if replace else {tag.name: tag for tag in model.tags}
    rows, issues = _parse_rows(text, name, existing)
    for row in rows:
        tag = row.tag
        if tag.connection != MEMORY and tag.connection not in model.connections:
            known = ", ".join(sorted(model.connections)) or "none defined"
            issues.append(
                ProjectIssue(
                    name,
                    row.line,
                    "connection",
                    f"unknown connection {tag.connection!r} (known: {known}, or empty for memory)",
                )
            )
            continue
        if tag.scan not in model.scan_classes:
            known = ", ".join(sorted(model.scan_classes))
            issues.append(
                ProjectIssue(
                    name, row.line, "scan", f"unknown scan class {tag.scan!r} (known: {known})"
                )
            )
        if tag.limits is not None and not tag.type.is_numeric:
            issues.append(ProjectIssue(name, row.line, "limits", "limits apply to numbers only"))
        if check_address is not None and not tag.is_memory:
            problem = check_address(tag)
            if problem:
                issues.append(ProjectIssue(name, row.line, "address", problem))
    if issues:
        raise CsvImportError(sorted(issues, key=lambda issue: issue.line))
    return ImportPlan([row.tag for row in rows], rows, replace)
