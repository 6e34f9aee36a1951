"""The screen file (``screens/<name>.yaml``) and its validation against the widget registry.

A screen is drawn at a design size (1280x800 by default) and scaled to the window. Each widget has
an id, a registered type, a geometry in design pixels, static ``props`` (checked by the widget's
own ``Props`` model) and ``bind`` (bindable property -> tag name). Every error is located
``file:line: field.path: message``.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument, validate
from widgets.base import HmiWidget, WidgetProps
from widgets.registry import WIDGET_TYPES

SCREEN_SCHEMA_VERSION = 1
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WidgetConfig(_Strict):
    """One widget on a screen, as written in the file."""

    id: str
    type: str
    geometry: tuple[int, int, int, int] = Field(description="x, y, width, height (design px)")
    props: dict[str, Any] = Field(default_factory=dict)
    bind: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not an id: use letters, digits, _ and -")
        return value

    @field_validator("geometry")
    @classmethod
    def _size(cls, value: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        if value[2] <= 0 or value[3] <= 0:
            raise ValueError(f"width and height must be positive (got {value[2]}x{value[3]})")
        return value


class ScreenModel(_Strict):
    """All of one screen file."""

    schema_version: int = Field(ge=1, le=SCREEN_SCHEMA_VERSION)
    name: str
    title: str = ""
    size: tuple[int, int] = (1280, 800)
    background: str = "#d9d9d9"
    widgets: list[WidgetConfig] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not a screen name: use letters, digits, _ and -")
        return value

    @field_validator("size")
    @classmethod
    def _design_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not (200 <= value[0] <= 8000 and 200 <= value[1] <= 8000):
            raise ValueError(f"size {value[0]}x{value[1]} is outside 200..8000 px")
        return value

    @field_validator("background")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError(f"{value!r} is not a colour like '#d9d9d9'")
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class PlacedWidget:
    """A validated widget: its file entry, its class and its parsed static properties."""

    config: WidgetConfig
    cls: type[HmiWidget]
    props: WidgetProps


@dataclass(frozen=True)
class ScreenDefinition:
    """A screen that passed validation, ready for the renderer."""

    model: ScreenModel
    widgets: list[PlacedWidget]
    source: str

    @property
    def name(self) -> str:
        return self.model.name

    def tags(self) -> set[str]:
        """Every tag the screen binds."""
        return {tag for placed in self.widgets for tag in placed.config.bind.values()}


def check_screen(
    doc: YamlDocument, tag_names: Collection[str] | None = None
) -> tuple[ScreenDefinition | None, list[ProjectIssue]]:
    """Validate a screen file: schema, widget types, props, bindable names and (if given) tags.

    Every problem is reported, not just the first: when the file's schema has errors, widgets
    that are well-formed on their own are still checked against the registry.
    """
    model, issues = validate(doc, ScreenModel)
    if model is not None:
        configs = list(enumerate(model.widgets))
        size = model.size
    else:
        configs, size = _salvage(doc)
    placed = _check_widgets(doc, configs, size, tag_names, issues)
    if model is None or issues:
        return None, issues
    return ScreenDefinition(model, placed, doc.display_name), []


def _salvage(doc: YamlDocument) -> tuple[list[tuple[int, WidgetConfig]], tuple[int, int]]:
    """The widgets (and size) that are valid on their own in a file whose schema is not."""
    data = doc.data if isinstance(doc.data, dict) else {}
    size = ScreenModel.model_fields["size"].default
    with contextlib.suppress(KeyError, ValidationError):
        size = ScreenModel.model_validate(
            {"schema_version": 1, "name": "x", "size": data["size"]}
        ).size
    configs: list[tuple[int, WidgetConfig]] = []
    raw = data.get("widgets")
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            configs.append((index, WidgetConfig.model_validate(item)))
        except ValidationError:
            continue  # already reported by the schema check
    return configs, size


def _check_widgets(
    doc: YamlDocument,
    configs: list[tuple[int, WidgetConfig]],
    size: tuple[int, int],
    tag_names: Collection[str] | None,
    issues: list[ProjectIssue],
) -> list[PlacedWidget]:
    placed: list[PlacedWidget] = []
    seen: dict[str, int] = {}
    width, height = size
    for index, config in configs:
        loc: tuple[str | int, ...] = ("widgets", index)
        if config.id in seen:
            issues.append(
                doc.issue(
                    (*loc, "id"), f"id {config.id!r} is already used by widgets[{seen[config.id]}]"
                )
            )
        seen.setdefault(config.id, index)
        x, y, w, h = config.geometry
        if x < 0 or y < 0 or x + w > width or y + h > height:
            issues.append(
                doc.issue(
                    (*loc, "geometry"), f"{config.geometry} is outside the {width}x{height} screen"
                )
            )
        cls = WIDGET_TYPES.get(config.type)
        if cls is None:
            known = ", ".join(sorted(WIDGET_TYPES))
            issues.append(
                doc.issue((*loc, "type"), f"unknown widget type {config.type!r} (known: {known})")
            )
            continue
        props = _check_props(doc, loc, cls, config.props, issues)
        for prop, tag in config.bind.items():
            if prop not in cls.BINDABLE:
                bindable = ", ".join(cls.BINDABLE) or "nothing"
                issues.append(
                    doc.issue(
                        (*loc, "bind", prop),
                        f"{config.type} has no bindable property {prop!r} (bindable: {bindable})",
                    )
                )
            elif tag_names is not None and tag not in tag_names:
                issues.append(doc.issue((*loc, "bind", prop), _unknown_tag(tag, tag_names)))
        if props is not None:
            placed.append(PlacedWidget(config, cls, props))
    return placed


def _check_props(
    doc: YamlDocument,
    loc: tuple[str | int, ...],
    cls: type[HmiWidget],
    props: dict[str, Any],
    issues: list[ProjectIssue],
) -> WidgetProps | None:
    try:
        return cls.Props.model_validate(props)
    except ValidationError as exc:
        for err in exc.errors():
            where = (*loc, "props", *(p for p in err["loc"] if not _is_union_tag(p)))
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"{cls.TYPE_KEY} has no property {err['loc'][-1]!r}"
            elif err["type"] == "missing":
                message = "is required"
            issues.append(doc.issue(where, message))
        return None


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _unknown_tag(tag: str, tag_names: Collection[str]) -> str:
    """The message for a binding to a tag that does not exist, naming the closest tags."""
    close = difflib.get_close_matches(tag, list(tag_names), n=3, cutoff=0.75)
    return f"unknown tag {tag!r}" + (f" (did you mean {' or '.join(close)}?)" if close else "")
