"""Templates (parameterised screens) and the checks that need every screen of the project.

A template is a screen file with ``parameters:``. ``instantiate`` fills its ``{name}``
placeholders and validates the result like any screen, against the registry and the tags. A
screen embeds a template as a fragment with ``instances:`` (its widgets are copied in with ids
``<instance id>.<widget id>``, moved by ``at``); a widget opens one as a faceplate with
``on_click: {faceplate: <template>, params: {...}}``.

``check_screens`` validates all of a project's screen files together: each file on its own
(``screens.model.check_screen``), then what refers across files (names, instances, on_click
targets and parameters, and the tags of every instance actually used), located at the line of the
reference.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument
from screens.model import (
    ClickAction,
    Loc,
    PlacedWidget,
    ScreenDefinition,
    check_screen,
    placeholders,
    substitute,
    template_strings,
)

ScreenEntry = ScreenDefinition | list[ProjectIssue]


class TemplateError(Exception):
    """A template that cannot be instanced with the given parameters; ``issues`` says why.

    Each issue is located in the template's file and its message names the instance.
    """

    def __init__(self, issues: list[ProjectIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def describe_params(params: Mapping[str, str]) -> str:
    """``equipment=line1.filler, title=Filler 1`` (``no parameters`` when empty)."""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "no parameters"


def parameter_issues(template: ScreenDefinition, params: Mapping[str, str]) -> list[str]:
    """What is wrong with ``params`` for ``template``: unknown names, required ones missing."""
    declared = template.model.parameters
    problems: list[str] = []
    for name in params:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(f"{template.name} has no parameter {name!r} (parameters: {known})")
    missing = [n for n, p in declared.items() if p.default is None and n not in params]
    if missing:
        problems.append(f"{template.name} needs parameter(s) {', '.join(missing)}")
    return problems


def instantiate(
    template: ScreenDefinition, params: Mapping[str, str], tag_names: Collection[str] | None
) -> ScreenDefinition:
    """``template`` with its placeholders filled from ``params`` (defaults for the rest).

    The result is validated like a screen: widget props, bindings and (given ``tag_names``) the
    tags. Raises TemplateError listing every problem, located in the template's file.
    """
    if not template.model.is_template or template.doc is None:
        raise ValueError(f"screen {template.name!r} is not a template (it has no parameters)")
    label = f"instance {template.name}[{describe_params(params)}]"
    problems = parameter_issues(template, params)
    doc = template.doc
    if problems:
        raise TemplateError([doc.issue(("parameters",), f"{p} ({label})") for p in problems])
    values = {
        name: params.get(name, parameter.default or "")
        for name, parameter in template.model.parameters.items()
    }
    node = copy.deepcopy(doc.node)
    for loc, text in list(template_strings(doc.data)):
        if placeholders(text):
            _set(node, loc, substitute(text, values))
    filled = YamlDocument(doc.path, doc.display_name, node)
    definition, issues = check_screen(filled, tag_names, params=values)
    if definition is None:
        raise TemplateError(
            [replace(issue, message=f"{issue.message} ({label})") for issue in issues]
        )
    return definition


def _set(node: Any, loc: Loc, value: str) -> None:
    """Replace the string at ``loc`` (found by ``template_strings``, so the path exists)."""
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = value


@dataclass(frozen=True)
class TemplateLibrary:
    """The project's templates by name, and the tag names instances are checked against."""

    templates: Mapping[str, ScreenDefinition] = field(default_factory=dict)
    tag_names: frozenset[str] | None = None

    def instantiate(self, name: str, params: Mapping[str, str]) -> ScreenDefinition:
        """Template ``name`` filled with ``params``: KeyError (unknown) or TemplateError."""
        template = self.templates.get(name)
        if template is None:
            known = ", ".join(sorted(self.templates)) or "none"
            raise KeyError(f"no template named {name!r} (templates: {known})")
        return instantiate(template, params, self.tag_names)


@dataclass
class ScreenCheck:
    """All screen files checked together: navigation screens and templates.

    ``screens`` holds, in file order, every screen that is not a template (name -> definition)
    and every file with errors (file key -> its issues, so they are shown, not lost);
    ``library`` the valid templates.
    """

    screens: dict[str, ScreenEntry]
    library: TemplateLibrary

    def issues(self) -> list[ProjectIssue]:
        return [i for entry in self.screens.values() if isinstance(entry, list) for i in entry]


def check_screens(
    docs: Mapping[str, YamlDocument], tag_names: Collection[str] | None
) -> ScreenCheck:
    """Check every screen file, each on its own and then the references between them."""
    tags = frozenset(tag_names) if tag_names is not None else None
    checked: dict[str, ScreenEntry] = {}
    owner: dict[str, str] = {}  # screen name -> file key
    for key, doc in docs.items():
        definition, issues = check_screen(doc, tags)
        if definition is None:
            checked[key] = issues
        elif definition.name in owner:
            first = docs[owner[definition.name]].display_name
            checked[key] = [
                doc.issue(("name",), f"screen name {definition.name!r} is also used by {first}")
            ]
        else:
            owner[definition.name] = key
            checked[key] = definition
    definitions = [d for d in checked.values() if isinstance(d, ScreenDefinition)]
    library = TemplateLibrary({d.name: d for d in definitions if d.is_template}, tags)
    # broken files keep their file key as their name in the navigation
    navigable = {d.name for d in definitions if not d.is_template} | {
        key for key, entry in checked.items() if isinstance(entry, list)
    }
    linker = _Linker(library, navigable)
    screens: dict[str, ScreenEntry] = {}
    for key, entry in checked.items():
        if isinstance(entry, list):
            screens[key] = entry
            continue
        resolved, issues = linker.link(entry)
        if issues:
            screens[key if entry.is_template else entry.name] = issues
        elif not entry.is_template:
            screens[entry.name] = resolved
    return ScreenCheck(screens, library)


class _Linker:
    """Expands instances and checks on_click targets for one screen at a time."""

    def __init__(self, library: TemplateLibrary, navigable: Collection[str]) -> None:
        self.library = library
        self.navigable = navigable
        self._instanced: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}

    def link(self, screen: ScreenDefinition) -> tuple[ScreenDefinition, list[ProjectIssue]]:
        assert screen.doc is not None
        doc = screen.doc
        issues: list[ProjectIssue] = []
        widgets = list(screen.widgets)
        index_of = {config.id: index for index, config in enumerate(screen.model.widgets)}
        for placed in screen.widgets:
            index = index_of[placed.config.id]
            issues.extend(
                self._check_click(doc, ("widgets", index, "on_click"), placed, "", screen)
            )
        width, height = screen.model.size
        for index, instance in enumerate(screen.model.instances):
            loc: Loc = ("instances", index)
            if screen.is_template:
                issues.append(doc.issue(loc, "a template cannot embed instances (only screens)"))
                continue
            fragment = self._fragment(doc, loc, instance.template, instance.params, issues)
            if fragment is None:
                continue
            x, y = instance.at
            w, h = fragment.model.size
            if x < 0 or y < 0 or x + w > width or y + h > height:
                issues.append(
                    doc.issue(
                        (*loc, "at"),
                        f"{instance.template} ({w}x{h}) at {instance.at} is outside the "
                        f"{width}x{height} screen",
                    )
                )
                continue
            for placed in fragment.widgets:
                moved = _moved(placed, instance.id, x, y)
                origin = f"{instance.id}.{placed.config.id} from {fragment.source}"
                issues.extend(self._check_click(doc, loc, moved, origin, screen))
                widgets.append(moved)
        return replace(screen, widgets=widgets), issues

    def _fragment(
        self,
        doc: YamlDocument,
        loc: Loc,
        name: str,
        params: Mapping[str, str],
        issues: list[ProjectIssue],
    ) -> ScreenDefinition | None:
        try:
            return self.library.instantiate(name, params)
        except KeyError as exc:
            issues.append(doc.issue((*loc, "template"), str(exc.args[0])))
        except TemplateError as exc:
            issues.extend(_at_use(doc, loc, f"template {name!r}", exc.issues))
        return None

    def _check_click(
        self,
        doc: YamlDocument,
        loc: Loc,
        placed: PlacedWidget,
        origin: str,
        screen: ScreenDefinition,
    ) -> list[ProjectIssue]:
        action = placed.config.on_click
        if action is None:
            return []
        prefix = f"on_click of {origin}: " if origin else ""
        if action.trend is not None:
            return []  # saved trends are checked with the trend files (hmi_app.check)
        if action.navigate is not None:
            if action.navigate in self.navigable:
                return []
            if action.navigate in self.library.templates:
                hint = f"{action.navigate!r} is a template: open it with 'faceplate'"
            else:
                known = ", ".join(sorted(self.navigable)) or "none"
                hint = f"no screen named {action.navigate!r} (screens: {known})"
            return [doc.issue((*loc, "navigate") if not origin else loc, prefix + hint)]
        return self._check_faceplate(doc, loc, action, prefix, screen, bool(origin))

    def _check_faceplate(
        self,
        doc: YamlDocument,
        loc: Loc,
        action: ClickAction,
        prefix: str,
        screen: ScreenDefinition,
        from_fragment: bool,
    ) -> list[ProjectIssue]:
        name = str(action.faceplate)
        template = self.library.templates.get(name)
        where = loc if from_fragment else (*loc, "faceplate")
        if template is None:
            known = ", ".join(sorted(self.library.templates)) or "none"
            what = "a screen, not a template" if name in self.navigable else "unknown"
            return [doc.issue(where, f"{prefix}faceplate {name!r} is {what} (templates: {known})")]
        problems = parameter_issues(template, action.params)
        if problems:
            return [doc.issue(where, prefix + p) for p in problems]
        if screen.is_template and any(placeholders(v) for v in action.params.values()):
            return []  # filled in when this template is instanced
        key = (name, tuple(sorted(action.params.items())))
        if key not in self._instanced:
            try:
                self.library.instantiate(name, action.params)
                self._instanced[key] = []
            except TemplateError as exc:
                self._instanced[key] = [str(issue) for issue in exc.issues]
        what = f"{prefix}faceplate {name!r} for {describe_params(action.params)}"
        return [doc.issue(where, f"{what}: {text}") for text in self._instanced[key]]


def _at_use(
    doc: YamlDocument, loc: Loc, what: str, issues: list[ProjectIssue]
) -> list[ProjectIssue]:
    return [doc.issue(loc, f"{what}: {issue}") for issue in issues]


def _moved(placed: PlacedWidget, prefix: str, dx: int, dy: int) -> PlacedWidget:
    """A fragment's widget placed on the host screen: id prefixed, geometry moved."""
    x, y, w, h = placed.config.geometry
    config = placed.config.model_copy(
        update={"id": f"{prefix}.{placed.config.id}", "geometry": (x + dx, y + dy, w, h)}
    )
    return replace(placed, config=config)
