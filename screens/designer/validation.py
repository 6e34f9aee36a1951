"""The check before a screen is saved: every problem listed with the widget to jump to.

Errors stop a save (the operator would get a broken screen): an unknown widget type, a property
the widget does not have or with a wrong value, an unknown tag in a binding or inside a binding
expression, an expression that does not parse, a widget (partly) outside the screen, a click
that navigates to (or opens a faceplate of) a screen the project does not have. Warnings do not:
widgets that overlap (a panel may hold widgets, a pipe or flow line may run into the symbols it
joins), a control bound to a tag it cannot write.
The per-widget checks are ``screens.model.check_screen``'s, so the designer and the app agree.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from hmi_app.core.expressions import is_tag_reference
from hmi_app.core.project.yamlio import ProjectIssue, YamlDocument
from hmi_app.core.tagsource import TagMeta
from screens.designer.entries import DesignIssue, WidgetEntry
from screens.model import check_screen
from screens.templates import check_screens
from widgets.base import HmiWriter
from widgets.nav_button import NavButton
from widgets.registry import WIDGET_TYPES

if TYPE_CHECKING:
    from screens.designer.document import ScreenDocument

CLICK_KEYS = ("navigate", "faceplate")
"""The keys of ``on_click`` that name a screen."""

CONTAINER_TYPES = frozenset({"panel"})
"""Widget types that may hold other widgets inside their rectangle without a warning."""

CONNECTOR_TYPES = frozenset({"pipe", "flow"})
"""Widget types drawn to run into the symbols they join: they may overlap anything."""

_WIDGET_LOC = re.compile(r"^widgets\[(\d+)\]\.?")


def validate_document(
    document: ScreenDocument,
    tags: Mapping[str, TagMeta] | Collection[str] | None,
    screens: Collection[str] | None = None,
    others: Mapping[str, YamlDocument] | None = None,
) -> list[DesignIssue]:
    """Every problem of ``document`` as it would be saved; errors first, then warnings.

    ``tags`` (names, or names -> metadata) enables the tag checks; ``screens`` (the project's
    screen and template names) the click-target checks; ``others`` (the project's other screen
    files by key, as ``Project.screen_docs``) the checks across files the app makes when it
    loads: a faceplate that is a template and gets its parameters, instances.
    """
    return validate_text(
        document.text(),
        document.path.name,
        document.entries(),
        tags,
        screens,
        document.name,
        others=others,
        key=document.path.stem,
    )


def validate_text(
    text: str,
    file_name: str,
    entries: Sequence[WidgetEntry],
    tags: Mapping[str, TagMeta] | Collection[str] | None,
    screens: Collection[str] | None = None,
    own_name: str = "",
    *,
    others: Mapping[str, YamlDocument] | None = None,
    key: str = "",
) -> list[DesignIssue]:
    """``validate_document`` for a screen's text and its entries (in file order)."""
    try:
        node = YAML(typ="rt").load(text.removeprefix("\ufeff"))
    except YAMLError as exc:  # the document only writes YAML it parsed back: a real bug
        return [DesignIssue(None, "error", f"the screen text is not valid YAML: {exc}")]
    doc = YamlDocument(Path(file_name), file_name, node if node is not None else CommentedMap())
    names = set(tags) if tags is not None else None
    _definition, problems = check_screen(doc, names)
    issues = [_located(problem, entries) for problem in problems]
    nav_only = False
    if others is not None and not issues:
        docs = {k: v for k, v in others.items() if k != (key or Path(file_name).stem)}
        docs[key or Path(file_name).stem] = doc
        checked = check_screens(docs, names)
        issues += [_located(i, entries) for i in checked.issues() if i.file == file_name]
        nav_only = True  # the click targets were checked across the files just now
        screens = list(screens) if screens is not None else list(docs)
    issues += _click_issues(entries, screens, own_name, nav_only=nav_only)
    issues += _write_issues(entries, tags)
    issues += overlap_issues(entries)
    return sorted(issues, key=lambda i: i.severity != "error")


def _located(problem: ProjectIssue, entries: Sequence[WidgetEntry]) -> DesignIssue:
    """A loader issue as a design issue on the widget its path names."""
    match = _WIDGET_LOC.match(problem.path)
    widget_id = None
    path = problem.path
    if match is not None:
        index = int(match.group(1))
        widget_id = entries[index].id if index < len(entries) else None
        path = problem.path[match.end() :]
    where = f"{path}: " if path else ""
    line = f" (line {problem.line})" if problem.line else ""
    return DesignIssue(widget_id, "error", f"{where}{problem.message}{line}")


def _click_issues(
    entries: Sequence[WidgetEntry],
    screens: Collection[str] | None,
    own_name: str,
    *,
    nav_only: bool = False,
) -> list[DesignIssue]:
    if screens is None:
        return []
    known = set(screens) | ({own_name} if own_name else set())
    issues: list[DesignIssue] = []
    for entry in entries:
        targets = (
            []
            if nav_only
            else [(f"on_click.{kind}", (entry.on_click or {}).get(kind)) for kind in CLICK_KEYS]
        )
        if entry.type == NavButton.TYPE_KEY:
            targets.append(("props.screen", entry.props.get("screen")))
        for where, target in targets:
            if isinstance(target, str) and target not in known and "{" not in target:
                names = ", ".join(sorted(known)) or "none"
                issues.append(
                    DesignIssue(
                        entry.id, "error", f"{where}: no screen named {target!r} (screens: {names})"
                    )
                )
    return issues


def _write_issues(
    entries: Sequence[WidgetEntry], tags: Mapping[str, TagMeta] | Collection[str] | None
) -> list[DesignIssue]:
    if not isinstance(tags, Mapping):
        return []
    issues: list[DesignIssue] = []
    for entry in entries:
        cls = WIDGET_TYPES.get(entry.type)
        if cls is None or not issubclass(cls, HmiWriter):
            continue
        source = entry.bind.get(cls.WRITE_PROP)
        if source is None or "{" in source:
            continue
        if not is_tag_reference(source):
            issues.append(
                DesignIssue(
                    entry.id,
                    "warning",
                    f"bind.{cls.WRITE_PROP}: {source!r} is an expression: the control can "
                    "show it but not write it",
                )
            )
            continue
        meta = tags.get(source)
        if meta is not None and not meta.writable:
            issues.append(
                DesignIssue(
                    entry.id,
                    "warning",
                    f"bind.{cls.WRITE_PROP}: tag {source!r} is read-only: the control cannot "
                    "write it",
                )
            )
    return issues


def _contains(outer: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


def overlap_issues(entries: Sequence[WidgetEntry]) -> list[DesignIssue]:
    """A warning on each widget that overlaps one drawn before it (panels may hold
    widgets; pipes and flow lines may run into what they join)."""
    issues: list[DesignIssue] = []
    order = sorted(range(len(entries)), key=lambda n: entries[n].geometry[0])
    active: list[int] = []
    pairs: list[tuple[int, int]] = []
    for n in order:  # sweep along x: only widgets whose x ranges meet are compared
        x = entries[n].geometry[0]
        active = [m for m in active if entries[m].geometry[0] + entries[m].geometry[2] > x]
        for m in active:
            a, b = entries[m].geometry, entries[n].geometry
            if a[1] < b[1] + b[3] and b[1] < a[1] + a[3]:
                pairs.append((min(m, n), max(m, n)))
        active.append(n)
    for m, n in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
        below, above = entries[m], entries[n]
        if below.type in CONNECTOR_TYPES or above.type in CONNECTOR_TYPES:
            continue
        if (below.type in CONTAINER_TYPES and _contains(below.geometry, above.geometry)) or (
            above.type in CONTAINER_TYPES and _contains(above.geometry, below.geometry)
        ):
            continue
        issues.append(DesignIssue(above.id, "warning", f"overlaps {below.id}"))
    return issues
