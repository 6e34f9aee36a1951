"""Full validation of a project without connecting: schema, references, driver settings, addresses.

Used by ``hmi-app check`` and before every command that opens a project, so a bad file is reported
with file, line and field before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from drivers import registry
from drivers.base import AddressError, Driver
from hmi_app.core.project.loader import Project, read_project
from hmi_app.core.project.model import TagConfig
from hmi_app.core.project.yamlio import ProjectIssue, ProjectLoadError, format_loc
from hmi_app.plant.registry import plant_names
from hmi_app.runtime.engine import point_spec
from hmi_app.runtime.runtime import driver_settings
from screens.templates import check_screens


def check_project(folder: Path) -> tuple[Project | None, list[ProjectIssue]]:
    """Load ``folder`` and check everything that can be checked offline."""
    project, issues = read_project(folder)
    if project is None:
        return None, issues
    issues.extend(_check_connections_and_addresses(project))
    issues.extend(_check_screens(project))
    return (project if not issues else None), issues


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
    return check_screens(project.screen_docs, {tag.name for tag in project.model.tags}).issues()


__all__ = ["address_checker", "check_project", "format_loc", "open_project"]
