"""Loads a project folder: ``project.yaml`` validated, screen files read, cross-references checked.

Driver addresses and screen contents are checked by their own packages (see ``hmi_app.check``);
this module stays free of them so the core imports nothing of ours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hmi_app.core.project.model import MEMORY, ProjectModel, TagConfig
from hmi_app.core.project.yamlio import (
    ProjectIssue,
    ProjectLoadError,
    YamlDocument,
    read_yaml,
    validate,
)

PROJECT_FILE = "project.yaml"


@dataclass
class Project:
    """A loaded project: its folder, validated model, and the raw screen documents by name."""

    folder: Path
    model: ProjectModel
    document: YamlDocument
    screen_docs: dict[str, YamlDocument] = field(default_factory=dict)

    def tag(self, name: str) -> TagConfig:
        for tag in self.model.tags:
            if tag.name == name:
                return tag
        raise KeyError(name)


def demo_project_dir() -> Path:
    """The demo project shipped in ``resources/demo``."""
    return Path(str(resources.files("resources") / "demo"))


def load_project(folder: Path) -> Project:
    """Load and validate ``folder``; raise ProjectLoadError listing every problem found."""
    project, issues = read_project(folder)
    if project is None or issues:
        raise ProjectLoadError(issues)
    return project


def read_project(folder: Path) -> tuple[Project | None, list[ProjectIssue]]:
    """Load ``folder`` and list its problems; the project is None only if the schema failed."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [ProjectIssue(str(folder), 0, "", "is not a project folder")]
    try:
        doc = read_yaml(folder / PROJECT_FILE, PROJECT_FILE)
    except ProjectLoadError as exc:
        return None, exc.issues
    model, issues = validate(doc, ProjectModel)
    if model is None:
        return None, issues
    issues = cross_check(model, doc)
    screen_docs: dict[str, YamlDocument] = {}
    for index, relative in enumerate(model.screens):
        path = folder / relative
        try:
            screen_doc = read_yaml(path, relative)
        except ProjectLoadError as exc:
            if not path.exists():
                issues.append(doc.issue(("screens", index), f"screen file {relative!r} not found"))
            else:
                issues.extend(exc.issues)
            continue
        screen_docs[Path(relative).stem] = screen_doc
    return Project(folder, model, doc, screen_docs), issues


def cross_check(model: ProjectModel, doc: YamlDocument) -> list[ProjectIssue]:
    """References between parts of the project: unique names, known connections and scan classes."""
    issues: list[ProjectIssue] = []
    counts = Counter(tag.name for tag in model.tags)
    seen: set[str] = set()
    for index, tag in enumerate(model.tags):
        loc: tuple[str | int, ...] = ("tags", index)
        if counts[tag.name] > 1 and tag.name in seen:
            issues.append(doc.issue((*loc, "name"), f"tag {tag.name!r} is defined more than once"))
        seen.add(tag.name)
        if tag.connection != MEMORY and tag.connection not in model.connections:
            known = ", ".join(sorted(model.connections)) or "none defined"
            issues.append(
                doc.issue(
                    (*loc, "connection"),
                    f"unknown connection {tag.connection!r} (known: {known}, or 'memory')",
                )
            )
        if tag.scan not in model.scan_classes:
            known = ", ".join(sorted(model.scan_classes))
            issues.append(
                doc.issue((*loc, "scan"), f"unknown scan class {tag.scan!r} (known: {known})")
            )
        limits = tag.limits
        if limits is not None and not tag.type.is_numeric:
            issues.append(doc.issue((*loc, "limits"), "limits apply to numbers only"))
    start = model.project.start_screen
    stems = [Path(s).stem for s in model.screens]
    if start and start not in stems:
        issues.append(
            doc.issue(
                ("project", "start_screen"),
                f"start screen {start!r} is not among the screens ({', '.join(stems) or 'none'})",
            )
        )
    return issues
