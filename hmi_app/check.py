"""Full validation of a project without connecting: schema, references, driver settings, addresses.

Used by ``hmi-app check`` and before every command that opens a project, so a bad file is reported
with file, line and field before anything starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from drivers import registry
from drivers.base import AddressError, Driver
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import Project, read_project
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.production_model import CounterConfig, LineConfig
from hmi_app.core.project.trends_model import check_trend_tags, read_trends, trends_dir
from hmi_app.core.project.yamlio import ProjectIssue, ProjectLoadError, YamlDocument, format_loc
from hmi_app.plant.registry import plant_names
from hmi_app.runtime.engine import point_spec
from hmi_app.runtime.historian_recorder import recordable
from hmi_app.runtime.runtime import driver_settings
from screens.templates import check_screens

_log = logging.getLogger(__name__)
Loc = tuple[str | int, ...]


def check_project(folder: Path) -> tuple[Project | None, list[ProjectIssue]]:
    """Load ``folder`` and check everything that can be checked offline."""
    project, issues = read_project(folder)
    if project is None:
        return None, issues
    issues.extend(_check_connections_and_addresses(project))
    issues.extend(_check_screens(project))
    issues.extend(_check_production(project))
    issues.extend(_check_trends(project))
    issues.extend(_check_history(project))
    if not issues:
        for warning in project_warnings(project):
            _log.warning("%s", warning)
    return (project if not issues else None), issues


def project_warnings(project: Project) -> list[ProjectIssue]:
    """What is allowed but probably not meant (the project still opens): located like issues."""
    doc, model = project.document, project.model
    warnings: list[ProjectIssue] = []
    if model.production is not None:
        if not model.sync_targets:
            warnings.append(
                doc.issue(
                    ("production",),
                    "no sync_targets: counts are kept in the outbox but sent nowhere "
                    "(add e.g. `sync_targets: {file_drop: {kind: file, folder: drop}}`)",
                )
            )
        elif not any(target.enabled for target in model.sync_targets.values()):
            warnings.append(
                doc.issue(
                    ("sync_targets",),
                    "every sync target is disabled: counts are kept in the outbox but sent nowhere",
                )
            )
    return warnings


def open_project(folder: Path) -> Project:
    """Load and fully check ``folder``; raise ProjectLoadError listing every problem."""
    project, issues = check_project(folder)
    if project is None:
        raise ProjectLoadError(issues)
    return project


def address_checker(project: Project) -> Callable[[TagConfig], str | None]:
    """Tells why a tag's address does not suit its connection's driver (None when it does).

    Used to check tags before they are saved (tag browser, CSV import); connections whose
    settings are broken are left to ``check_project``.
    """
    model = project.model
    drivers: dict[str, Driver] = {}
    for name, connection in model.connections.items():
        try:
            settings = driver_settings(connection, project.folder)
            drivers[name] = registry.create(connection.driver, name, settings)
        except (registry.UnknownDriver, ValidationError):
            continue

    def check(tag: TagConfig) -> str | None:
        driver = drivers.get(tag.connection)
        point = point_spec(tag, model.scan_classes.get(tag.scan, 1000))
        if driver is None or point is None:
            return None
        try:
            driver.validate(point)
        except AddressError as exc:
            return str(exc)
        return None

    return check


def _check_connections_and_addresses(project: Project) -> list[ProjectIssue]:
    doc, model = project.document, project.model
    issues: list[ProjectIssue] = []
    drivers: dict[str, Driver] = {}
    for name, connection in model.connections.items():
        loc: tuple[str | int, ...] = ("connections", name)
        if connection.simulated_plant and connection.simulated_plant not in plant_names():
            issues.append(
                doc.issue(
                    (*loc, "simulated_plant"),
                    f"unknown simulated plant {connection.simulated_plant!r} "
                    f"(known: {', '.join(plant_names())})",
                )
            )
        try:
            settings = driver_settings(connection, project.folder)
            drivers[name] = registry.create(connection.driver, name, settings)
        except registry.UnknownDriver as exc:
            issues.append(doc.issue((*loc, "driver"), str(exc.args[0])))
        except ValidationError as exc:
            for err in exc.errors():
                sub = (*loc, *err["loc"])
                issues.append(doc.issue(sub, str(err["msg"]).removeprefix("Value error, ")))
    for index, tag in enumerate(model.tags):
        driver = drivers.get(tag.connection)
        point = point_spec(tag, model.scan_classes.get(tag.scan, 1000))
        if driver is None or point is None:
            continue
        try:
            driver.validate(point)
        except AddressError as exc:
            issues.append(doc.issue(("tags", index, "address"), str(exc)))
    return issues


def _check_screens(project: Project) -> list[ProjectIssue]:
    """Every screen on its own, then what screens refer to in each other (templates in use)."""
    known = {tag.name for tag in project.model.runtime_tags}
    return check_screens(project.screen_docs, known).issues()


def _check_trends(project: Project) -> list[ProjectIssue]:
    """Saved trend definitions (``trends/*.yaml``): each file, its pens' tags (an unrecorded tag
    is only a warning, logged), and the screens' ``on_click: {trend: ...}`` and trend buttons
    naming them."""
    saved, issues = read_trends(project.folder)
    tags = {tag.name: tag for tag in project.model.runtime_tags}
    present = set(saved) | {path.stem for path in trends_dir(project.folder).glob("*.yaml")}
    for trend in saved.values():
        errors, warnings = check_trend_tags(trend, tags)
        issues.extend(errors)
        for warning in warnings:
            _log.warning("%s", warning)
    for doc in project.screen_docs.values():
        widgets = doc.data.get("widgets") if isinstance(doc.data, dict) else None
        for index, item in enumerate(widgets if isinstance(widgets, list) else []):
            if not isinstance(item, dict):
                continue
            click, props = item.get("on_click"), item.get("props")
            for loc, name in (
                (("on_click", "trend"), click.get("trend") if isinstance(click, dict) else None),
                (("props", "trend"), props.get("trend") if item.get("type") == "trend_button"
                 and isinstance(props, dict) else None),
            ):  # fmt: skip
                if isinstance(name, str) and name not in present:
                    known = ", ".join(sorted(saved)) or "none"
                    issues.append(
                        doc.issue(
                            ("widgets", index, *loc),
                            f"no saved trend named {name!r} (trends/*.yaml: {known})",
                        )
                    )
    return issues


def _check_history(project: Project) -> list[ProjectIssue]:
    """Tags marked ``history`` must hold a number or a bool (the historian stores numbers)."""
    doc = project.document
    issues: list[ProjectIssue] = []
    for index, tag in enumerate(project.model.tags):
        if tag.history is False:
            continue
        why = recordable(tag)
        if why is not None:
            issues.append(doc.issue(("tags", index, "history"), f"{why}: remove history"))
    return issues


def _check_production(project: Project) -> list[ProjectIssue]:
    """The production section against the tags: counters, run state, order and product tags."""
    doc, model = project.document, project.model
    production = model.production
    if production is None:
        return []
    tags = {tag.name: tag for tag in model.tags}
    issues = [
        doc.issue(("production", "shifts", *loc), message)
        for loc, message in production.shifts.problems()
    ]
    counted: dict[str, str] = {}
    for name, line in production.lines.items():
        loc: Loc = ("production", "lines", name)
        issues.extend(_check_line(doc, loc, line, tags))
        for index, counter in enumerate(line.counters):
            where = f"{name}.{counter.name}"
            first = counted.setdefault(counter.tag, where)
            if first != where:
                issues.append(
                    doc.issue(
                        (*loc, "counters", index, "tag"),
                        f"tag {counter.tag!r} is counted already by {first}: it would count twice",
                    )
                )
    return issues


def _check_line(
    doc: YamlDocument, loc: Loc, line: LineConfig, tags: dict[str, TagConfig]
) -> list[ProjectIssue]:
    issues: list[ProjectIssue] = []

    def tag_of(field: Loc, name: str) -> TagConfig | None:
        tag = tags.get(name)
        if tag is None:
            issues.append(doc.issue((*loc, *field), f"unknown tag {name!r}"))
        elif tag.array_length:
            issues.append(doc.issue((*loc, *field), f"tag {name!r} is an array, not one value"))
            return None
        return tag

    run = tag_of(("run_tag",), line.run_tag)
    if run is not None:
        issues.extend(_check_run_tag(doc, loc, line, run))
    for field in ("order_tag", "product_tag"):
        name = getattr(line, field)
        tag = None if name is None else tag_of((field,), name)
        if tag is None:
            continue
        if tag.type is not DataType.STRING and not tag.type.is_integer:
            issues.append(
                doc.issue(
                    (*loc, field), f"tag {name!r} is {tag.type.value}: use a string or integer"
                )
            )
        elif tag.is_memory and not tag.writable:
            issues.append(
                doc.issue(
                    (*loc, field),
                    f"memory tag {name!r} is read-only, so no one can enter it: "
                    "give it access: read_write",
                )
            )
    for index, counter in enumerate(line.counters):
        tag = tag_of(("counters", index, "tag"), counter.tag)
        if tag is not None:
            message = _counter_misfit(counter, tag)
            if message:
                issues.append(doc.issue((*loc, "counters", index, "tag"), message))
    return issues


def _check_run_tag(
    doc: YamlDocument, loc: Loc, line: LineConfig, tag: TagConfig
) -> list[ProjectIssue]:
    kind = tag.type
    if kind is not DataType.BOOL and kind is not DataType.STRING and not kind.is_integer:
        return [
            doc.issue(
                (*loc, "run_tag"),
                f"tag {tag.name!r} is {kind.value}: a run tag is a bool, an integer state or a "
                "string",
            )
        ]
    if not line.running_values:
        if kind is DataType.BOOL:
            return []
        return [
            doc.issue(
                (*loc, "running_values"),
                f"run tag {tag.name!r} is {kind.value}: name the values that mean running "
                "(e.g. running_values: [1])",
            )
        ]
    issues = []
    for index, value in enumerate(line.running_values):
        if kind is DataType.BOOL:
            fits = isinstance(value, bool)
        elif kind is DataType.STRING:
            fits = isinstance(value, str) and len(value) <= tag.length
        else:
            low, high = kind.integer_range()
            fits = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        if not fits:
            issues.append(
                doc.issue(
                    (*loc, "running_values", index),
                    f"{value!r} is not a value of run tag {tag.name!r} ({kind.value})",
                )
            )
    return issues


def _counter_misfit(counter: CounterConfig, tag: TagConfig) -> str | None:
    """Why ``tag`` cannot carry ``counter`` (None when it can)."""
    kind = tag.type
    if not kind.is_integer:
        return f"tag {tag.name!r} is {kind.value}: a counter needs an integer tag"
    if tag.scaling is not None:
        return f"tag {tag.name!r} is scaled: a counter needs the raw count"
    low, high = counter.value_range()
    tag_low, tag_high = kind.integer_range()
    if tag_low <= low and high <= tag_high:
        return None
    sign = "signed" if counter.signed else "unsigned"
    return (
        f"a {counter.width}-bit {sign} counter ({low}..{high}) does not fit tag {tag.name!r} "
        f"({kind.value}, {tag_low}..{tag_high}): set width/signed to the PLC counter's, "
        "or give the tag a type that holds it"
    )


__all__ = ["address_checker", "check_project", "format_loc", "open_project", "project_warnings"]
