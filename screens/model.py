"""The screen file (``screens/<name>.yaml``) and its validation against the widget registry.

A screen is drawn at a design size (1280x800 by default) and scaled to the window. Each widget has
an id, a registered type, a geometry in design pixels, static ``props`` (checked by the widget's
own ``Props`` model), ``bind`` (bindable property -> tag name or expression) and an optional
``on_click`` (navigate to a screen or open a faceplate). Every error is located
``file:line: field.path: message``.

A screen that declares ``parameters`` is a *template* (a faceplate or a fragment): its ``title``,
string props, bind values and ``on_click.params`` may hold ``{name}`` placeholders, which
``screens.templates.instantiate`` fills in. A template's tags are checked when it is instanced;
references between screens (``on_click`` targets, ``instances``) are checked by
``screens.templates.check_screens``, which sees every screen of the project.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hmi_app.core.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    is_tag_reference,
)
from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument, validate
from widgets.base import HmiWidget, WidgetProps
from widgets.registry import WIDGET_TYPES

SCREEN_SCHEMA_VERSION = 1
MIN_SCREEN_SIZE = 200
MIN_TEMPLATE_SIZE = 20
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_PARAMETER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``{name}`` in a template's text; any other brace is left as written."""

RUNTIME_PLACEHOLDERS = frozenset({"value"})
"""Filled in when the screen runs, not by a template: ``{value}`` in a control's ``confirm``
question is the value about to be written."""

Loc = tuple[str | int, ...]


def placeholders(text: str) -> list[str]:
    """The parameter names ``text`` refers to, in order (``"{a}.x{b}"`` -> ``["a", "b"]``)."""
    return PLACEHOLDER.findall(text)


def substitute(text: str, params: Mapping[str, str]) -> str:
    """``text`` with every ``{name}`` of ``params`` replaced (values are not rescanned)."""
    return PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClickAction(_Strict):
    """What clicking a widget does: go to a screen, open a template screen as a popup, or open
    the trend window on a saved trend definition (``trends/<name>.yaml``)."""

    navigate: str | None = Field(default=None, description="go to this screen")
    faceplate: str | None = Field(default=None, description="open this template as a popup")
    trend: str | None = Field(
        default=None, description="open the trend window on this saved trend (trends/<name>.yaml)"
    )
    params: dict[str, str] = Field(
        default_factory=dict, description="template parameters, e.g. {equipment: line1.filler}"
    )
    confirm: str | None = Field(default=None, description="reserved")

    @model_validator(mode="after")
    def _one_target(self) -> ClickAction:
        if self.trend is not None:
            if self.navigate is not None or self.faceplate is not None:
                raise ValueError("a 'trend' action opens a saved trend: give no other target")
            if self.params:
                raise ValueError("'params' go with 'faceplate'; a trend takes none")
            return self
        if (self.navigate is None) == (self.faceplate is None):
            raise ValueError(
                "give exactly one of 'navigate' (a screen) or 'faceplate' (a template)"
            )
        if self.navigate is not None and self.params:
            raise ValueError("'params' go with 'faceplate'; a navigation takes none")
        return self

    @property
    def target(self) -> str:
        """The screen (or saved trend) named by the action."""
        for name in (self.navigate, self.faceplate, self.trend):
            if name is not None:
                return name
        return ""


class WidgetConfig(_Strict):
    """One widget on a screen, as written in the file."""

    id: str
    type: str
    geometry: tuple[int, int, int, int] = Field(description="x, y, width, height (design px)")
    props: dict[str, Any] = Field(default_factory=dict)
    bind: dict[str, str] = Field(default_factory=dict)
    on_click: ClickAction | None = None
    group: str | None = Field(default=None, description="designer group id")

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


class Parameter(_Strict):
    """One parameter of a template screen."""

    description: str = ""
    default: str | None = Field(default=None, description="used when an instance gives none")


class InstanceConfig(_Strict):
    """A template embedded in a screen as a fragment, at ``at`` with ``params``."""

    id: str
    template: str
    at: tuple[int, int] = Field(description="x, y of the fragment's top-left (design px)")
    params: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not an id: use letters, digits, _ and -")
        return value


class ScreenModel(_Strict):
    """All of one screen file."""

    schema_version: int = Field(ge=1, le=SCREEN_SCHEMA_VERSION)
    name: str
    title: str = ""
    size: tuple[int, int] = (1280, 800)
    background: str = "#d9d9d9"
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    widgets: list[WidgetConfig] = Field(default_factory=list)
    instances: list[InstanceConfig] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not a screen name: use letters, digits, _ and -")
        return value

    @field_validator("size")
    @classmethod
    def _design_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        # templates may be small tiles; screens are held to MIN_SCREEN_SIZE in check_screen
        if not (MIN_TEMPLATE_SIZE <= value[0] <= 8000 and MIN_TEMPLATE_SIZE <= value[1] <= 8000):
            raise ValueError(f"size {value[0]}x{value[1]} is outside 20..8000 px")
        return value

    @field_validator("background")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError(f"{value!r} is not a colour like '#d9d9d9'")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Parameter]) -> dict[str, Parameter]:
        for name in value:
            if not _PARAMETER.match(name):
                raise ValueError(f"{name!r} is not a parameter name: use letters, digits and _")
            if name in RUNTIME_PLACEHOLDERS:
                raise ValueError(f"{{{name}}} is filled in when writing; name the parameter else")
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def is_template(self) -> bool:
        return bool(self.parameters)


@dataclass(frozen=True)
class PlacedWidget:
    """A validated widget: its file entry, its class and its parsed static properties.

    ``expressions`` holds the bindable properties bound to an expression (the others in
    ``config.bind`` are plain tag names).
    """

    config: WidgetConfig
    cls: type[HmiWidget]
    props: WidgetProps
    expressions: Mapping[str, Expression] = field(default_factory=dict)

    def bound_tags(self) -> list[str]:
        """Every tag the widget reads, plain bindings and expressions alike.

        A template's bindings with placeholders are not tags yet and are left out.
        """
        tags: list[str] = []
        for prop, text in self.config.bind.items():
            expression = self.expressions.get(prop)
            if expression is None and placeholders(text):
                continue  # a template's binding, a tag only once instanced
            for tag in expression.tags if expression is not None else (text,):
                if tag not in tags:
                    tags.append(tag)
        return tags


@dataclass(frozen=True)
class ScreenDefinition:
    """A screen that passed validation, ready for the renderer (templates only once instanced).

    ``params`` are the values an instanced template was filled with (empty otherwise); ``doc``
    is the file it came from (templates are instanced from it).
    """

    model: ScreenModel
    widgets: list[PlacedWidget]
    source: str
    doc: YamlDocument | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def is_template(self) -> bool:
        """A template not yet instanced: not shown on its own."""
        return self.model.is_template and not self.params

    @property
    def instance_label(self) -> str:
        """The parameter values of an instance, e.g. ``line1.filler`` (empty for a screen)."""
        return ", ".join(self.params.values())

    @property
    def display_title(self) -> str:
        """Title for a window: ``Filler - line1.filler`` for an instance (its first parameter,
        the equipment, unless the title already names it)."""
        title = self.model.display_title
        first = next(iter(self.params.values()), "")
        return f"{title} - {first}" if first and first not in title else title

    def tags(self) -> set[str]:
        """Every tag the screen reads (bindings and the tags inside binding expressions)."""
        return {tag for placed in self.widgets for tag in placed.bound_tags()}

    def click_actions(self) -> Iterator[tuple[PlacedWidget, ClickAction]]:
        for placed in self.widgets:
            if placed.config.on_click is not None:
                yield placed, placed.config.on_click


def check_screen(
    doc: YamlDocument,
    tag_names: Collection[str] | None = None,
    *,
    params: Mapping[str, str] | None = None,
) -> tuple[ScreenDefinition | None, list[ProjectIssue]]:
    """Validate a screen file: schema, widget types, props, bindings and (if given) tags.

    Every problem is reported, not just the first: when the file's schema has errors, widgets
    that are well-formed on their own are still checked against the registry. A template's tags
    are not checked (its bindings are incomplete) unless ``params`` says this document is an
    instance whose placeholders were already filled in (``screens.templates.instantiate``).
    """
    model, issues = validate(doc, ScreenModel)
    if model is not None:
        configs = list(enumerate(model.widgets))
        size = model.size
        declared = set(model.parameters)
    else:
        configs, size, declared = _salvage(doc)
    template = bool(declared) and params is None
    if model is not None and not declared and min(size) < MIN_SCREEN_SIZE:
        issues.append(
            doc.issue(
                ("size",),
                f"size {size[0]}x{size[1]} is outside {MIN_SCREEN_SIZE}..8000 px "
                f"(only a template, a screen with parameters, may be smaller)",
            )
        )
    if params is None:
        _check_placeholders(doc, declared, issues)
    placed = _check_widgets(doc, configs, size, None if template else tag_names, issues, template)
    if model is not None:
        _check_instance_ids(doc, model, issues)
    if model is None or issues:
        return None, issues
    return ScreenDefinition(model, placed, doc.display_name, doc, dict(params or {})), []


def _salvage(
    doc: YamlDocument,
) -> tuple[list[tuple[int, WidgetConfig]], tuple[int, int], set[str]]:
    """The widgets, size and parameter names valid on their own in a file whose schema is not."""
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
    parameters = data.get("parameters")
    declared = {str(name) for name in parameters} if isinstance(parameters, dict) else set()
    return configs, size, declared


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every string inside ``value`` (dicts and lists walked) with its location."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def template_strings(data: Any) -> Iterator[tuple[Loc, str]]:
    """The strings of a screen file that may hold placeholders, with their locations.

    These are the title, every widget's props, bind values and on_click params, and every
    instance's params.
    """
    if not isinstance(data, dict):
        return
    yield from _strings(data.get("title"), ("title",))
    for group, parts in (("widgets", ("props", "bind")), ("instances", ("params",))):
        items = data.get(group)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            for part in parts:
                yield from _strings(item.get(part), (group, index, part))
            on_click = item.get("on_click")
            if group == "widgets" and isinstance(on_click, dict):
                yield from _strings(on_click.get("params"), (group, index, "on_click", "params"))


def _check_placeholders(doc: YamlDocument, declared: set[str], issues: list[ProjectIssue]) -> None:
    for loc, text in template_strings(doc.data):
        for name in placeholders(text):
            if name in declared or name in RUNTIME_PLACEHOLDERS:
                continue
            if declared:
                known = ", ".join(sorted(declared))
                message = f"unknown parameter {{{name}}} (parameters: {known})"
            else:
                message = (
                    f"{{{name}}} is a placeholder, but this screen declares no parameters "
                    "(a template lists them under 'parameters:')"
                )
            issues.append(doc.issue(loc, message))


def _check_instance_ids(doc: YamlDocument, model: ScreenModel, issues: list[ProjectIssue]) -> None:
    seen: dict[str, int] = {}
    for index, instance in enumerate(model.instances):
        if instance.id in seen:
            issues.append(
                doc.issue(
                    ("instances", index, "id"),
                    f"id {instance.id!r} is already used by instances[{seen[instance.id]}]",
                )
            )
        seen.setdefault(instance.id, index)


def _check_widgets(
    doc: YamlDocument,
    configs: list[tuple[int, WidgetConfig]],
    size: tuple[int, int],
    tag_names: Collection[str] | None,
    issues: list[ProjectIssue],
    template: bool = False,
) -> list[PlacedWidget]:
    placed: list[PlacedWidget] = []
    seen: dict[str, int] = {}
    width, height = size
    for index, config in configs:
        loc: Loc = ("widgets", index)
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
        props = _check_props(doc, loc, cls, config.props, issues, template)
        expressions: dict[str, Expression] = {}
        for prop, text in config.bind.items():
            if prop not in cls.BINDABLE:
                bindable = ", ".join(cls.BINDABLE) or "nothing"
                issues.append(
                    doc.issue(
                        (*loc, "bind", prop),
                        f"{config.type} has no bindable property {prop!r} (bindable: {bindable})",
                    )
                )
                continue
            if template and placeholders(text):
                continue  # checked once the template is instanced
            expression = _check_binding(doc, (*loc, "bind", prop), text, tag_names, issues)
            if expression is not None:
                expressions[prop] = expression
        if props is not None:
            placed.append(PlacedWidget(config, cls, props, expressions))
    return placed


def _check_binding(
    doc: YamlDocument,
    loc: Loc,
    text: str,
    tag_names: Collection[str] | None,
    issues: list[ProjectIssue],
) -> Expression | None:
    """Check one bind value; the compiled expression when it is one (None for a plain tag)."""
    if (tag_names is not None and text in tag_names) or is_tag_reference(text):
        if tag_names is not None and text not in tag_names:
            issues.append(doc.issue(loc, _unknown_tag(text, tag_names)))
        return None
    try:
        expression = compile_expression(text)
    except ExpressionError as exc:
        issues.append(doc.issue(loc, f"expression {text!r}: {exc}"))
        return None
    if tag_names is not None:
        for tag in expression.tags:
            if tag not in tag_names:
                issues.append(
                    doc.issue(loc, f"in expression {text!r}: {_unknown_tag(tag, tag_names)}")
                )
    return expression


def _check_props(
    doc: YamlDocument,
    loc: Loc,
    cls: type[HmiWidget],
    props: dict[str, Any],
    issues: list[ProjectIssue],
    template: bool = False,
) -> WidgetProps | None:
    try:
        return cls.Props.model_validate(props)
    except ValidationError as exc:
        for err in exc.errors():
            if template and isinstance(err.get("input"), str) and placeholders(err["input"]):
                continue  # a placeholder standing for a number: checked once instanced
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
