"""Saved trend definitions: ``trends/<name>.yaml`` in the project folder.

A definition names a set of pens (tags with a label, a colour, an axis and an optional fixed
y range) and the span the trend opens with::

    schema_version: 1
    name: filler
    title: Filler - level and speed
    span: 10 min            # seconds (600) or a number with s, min, h or d
    pens:
      - {tag: line1.filler.level, label: Level, colour: "#1f77b4", y_min: 0, y_max: 100}
      - {tag: line1.filler.speed, axis: speed}

Files are read with their lines (``yamlio``), so an error reads ``trends/filler.yaml:7:
pens[1].colour: ...``. The tags are checked against the project by ``check_trend_tags``: an
unknown or non-numeric tag is an error; a tag that is not recorded (no ``history:``) is a
*warning*, because the trend still works live, it only has no past to show. Saving is atomic and
keeps the previous file in ``trends/.backups/`` (``atomic_file.write_atomic``,
``editing.backup_file``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from hmi_app.core.atomic_file import write_atomic
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.editing import BACKUPS_KEPT, backup_file
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.yamlio import (
    ProjectIssue,
    ProjectLoadError,
    YamlDocument,
    read_yaml,
    validate,
)

TRENDS_DIR = "trends"
TREND_SCHEMA_VERSION = 1
MAX_PENS = 8
MIN_SPAN_S = 10.0
MAX_SPAN_S = 366 * 86400.0
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)?\s*$")
_UNIT_S = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_span(value: Any) -> float:
    """Seconds from a number or text like ``10 min``, ``8 h``, ``7 d`` (ValueError otherwise)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a span")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _SPAN.match(value)
        if match:
            return float(match.group(1)) * _UNIT_S[match.group(2) or "s"]
    raise ValueError(f"{value!r} is not a span: give seconds or e.g. '10 min', '8 h', '7 d'")


def span_text(seconds: float) -> str:
    """The shortest exact text for a span: ``600`` -> ``10 min``, ``90`` -> ``90 s``."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)} {unit}"
    return f"{seconds:g} s"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PenConfig(_Strict):
    """One pen of a saved trend."""

    tag: str = Field(description="the tag drawn")
    label: str = Field(default="", description="legend text; default: the tag name")
    colour: str | None = Field(default=None, description="'#rrggbb'; default: the pen palette")
    axis: str | None = Field(
        default=None,
        description="pens naming the same axis share it; default: pens with the same units do",
    )
    y_min: float | None = Field(default=None, description="fixed low end; default: auto")
    y_max: float | None = Field(default=None, description="fixed high end; default: auto")

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _COLOUR.match(value):
            raise ValueError(f"{value!r} is not a colour like '#1f77b4'")
        return value

    @model_validator(mode="after")
    def _range(self) -> PenConfig:
        if self.y_min is not None and self.y_max is not None and self.y_min >= self.y_max:
            raise ValueError(f"y_min {self.y_min:g} must be below y_max {self.y_max:g}")
        return self

    @property
    def display_label(self) -> str:
        return self.label or self.tag


class TrendDefinition(_Strict):
    """All of one ``trends/<name>.yaml`` file."""

    schema_version: int = Field(default=TREND_SCHEMA_VERSION, ge=1, le=TREND_SCHEMA_VERSION)
    name: str
    title: str = ""
    span: float = Field(default=600.0, description="seconds shown when opened (or '10 min')")
    pens: list[PenConfig] = Field(min_length=1, max_length=MAX_PENS)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a trend name: use letters, digits, _ and -")
        return value

    @field_validator("span", mode="before")
    @classmethod
    def _span(cls, value: Any) -> float:
        seconds = parse_span(value)
        if not MIN_SPAN_S <= seconds <= MAX_SPAN_S:
            raise ValueError(f"span {span_text(seconds)} is outside 10 s .. 366 d")
        return seconds

    @field_validator("pens")
    @classmethod
    def _unique_tags(cls, pens: list[PenConfig]) -> list[PenConfig]:
        seen: dict[str, int] = {}
        for index, pen in enumerate(pens):
            if pen.tag in seen:
                raise ValueError(f"tag {pen.tag!r} is drawn by pens[{seen[pen.tag]}] and [{index}]")
            seen[pen.tag] = index
        return pens

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    def tags(self) -> list[str]:
        return [pen.tag for pen in self.pens]


@dataclass(frozen=True)
class SavedTrend:
    """A valid definition and the file it came from (for locating later checks)."""

    definition: TrendDefinition
    doc: YamlDocument

    @property
    def name(self) -> str:
        return self.definition.name


def trends_dir(folder: Path) -> Path:
    return Path(folder) / TRENDS_DIR


def read_trend(
    path: Path, display_name: str | None = None
) -> tuple[SavedTrend | None, list[ProjectIssue]]:
    """Read and validate one definition file; the definition, or None and what is wrong."""
    name = display_name or f"{TRENDS_DIR}/{path.name}"
    try:
        doc = read_yaml(path, name)
    except ProjectLoadError as exc:
        return None, exc.issues
    if not isinstance(doc.data, dict):
        return None, [ProjectIssue(name, 1, "", "is not a mapping of trend fields")]
    definition, issues = validate(doc, TrendDefinition)
    if definition is None:
        return None, issues
    if definition.name != path.stem:
        return None, [
            doc.issue(
                ("name",),
                f"name {definition.name!r} differs from the file name {path.stem!r}: "
                "rename one of them",
            )
        ]
    return SavedTrend(definition, doc), []


def read_trends(folder: Path) -> tuple[dict[str, SavedTrend], list[ProjectIssue]]:
    """Every ``trends/*.yaml`` of the project in ``folder``, by name, and the files' problems.

    A broken file is left out of the result (and listed); the others are still read.
    """
    found: dict[str, SavedTrend] = {}
    issues: list[ProjectIssue] = []
    directory = trends_dir(folder)
    if not directory.is_dir():
        return found, issues
    for path in sorted(directory.glob("*.yaml")):
        saved, problems = read_trend(path)
        issues.extend(problems)
        if saved is not None:
            found[saved.name] = saved
    return found, issues


def trendable(tag: TagConfig) -> str | None:
    """Why ``tag`` cannot be drawn as a trend line (None when it can: a number or a bool)."""
    if tag.array_length:
        return f"tag {tag.name!r} is an array, not one value"
    if tag.type is DataType.STRING:
        return f"tag {tag.name!r} is a string: a trend draws numbers"
    return None


def check_trend_tags(
    saved: SavedTrend, tags: Mapping[str, TagConfig]
) -> tuple[list[ProjectIssue], list[ProjectIssue]]:
    """(errors, warnings) of one definition's pens against the project's tags.

    Unknown and non-numeric tags are errors. A tag without ``history:`` is a warning: the pen
    is drawn live, but has no past (history mode and the backfill stay empty for it).
    """
    errors: list[ProjectIssue] = []
    warnings: list[ProjectIssue] = []
    doc = saved.doc
    for index, pen in enumerate(saved.definition.pens):
        loc = ("pens", index, "tag")
        tag = tags.get(pen.tag)
        if tag is None:
            errors.append(doc.issue(loc, f"unknown tag {pen.tag!r}"))
            continue
        problem = trendable(tag)
        if problem:
            errors.append(doc.issue(loc, problem))
        elif not tag.history:
            warnings.append(
                doc.issue(
                    loc,
                    f"tag {pen.tag!r} is not recorded (no 'history:' in project.yaml): "
                    "the pen shows live values only",
                )
            )
    return errors, warnings


def definition_mapping(definition: TrendDefinition) -> CommentedMap:
    """The definition as YAML data: defaults left out, pens as one-line flow mappings."""
    top = CommentedMap()
    top["schema_version"] = definition.schema_version
    top["name"] = definition.name
    if definition.title:
        top["title"] = definition.title
    top["span"] = span_text(definition.span)
    pens = CommentedSeq()
    for pen in definition.pens:
        item = CommentedMap()
        for key, value in pen.model_dump(mode="json").items():
            if value is None or (key == "label" and not value):
                continue
            if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
                value = int(value)
            item[key] = value
        item.fa.set_flow_style()
        pens.append(item)
    top["pens"] = pens
    return top


def dump_definition(definition: TrendDefinition) -> str:
    """The text of ``trends/<name>.yaml`` for ``definition``."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(definition_mapping(definition), out)
    return out.getvalue()


def save_trend(
    folder: Path, definition: TrendDefinition, *, backups_kept: int = BACKUPS_KEPT
) -> Path:
    """Write ``trends/<name>.yaml`` atomically (the old file, if any, to ``trends/.backups/``).

    The written file is read back and must give ``definition`` again; if it does not, the old
    file is put back and ``ProjectLoadError`` says why (nothing is lost either way).
    """
    directory = trends_dir(folder)
    directory.mkdir(exist_ok=True)
    path = directory / f"{definition.name}.yaml"
    old = path.read_bytes() if path.exists() else None
    if old is not None:
        backup_file(path, old, keep=backups_kept)
    write_atomic(path, dump_definition(definition).encode("utf-8"))
    saved, issues = read_trend(path)
    if saved is None or saved.definition != definition:
        if old is not None:
            write_atomic(path, old)
        else:
            path.unlink(missing_ok=True)
        raise ProjectLoadError(
            issues or [ProjectIssue(f"{TRENDS_DIR}/{path.name}", 0, "", "did not read back")]
        )
    return path
