"""YAML reading that remembers where every value came from, and validation that reports it.

Errors read ``file:line: field.path: message`` (``project.yaml:42: tags[7].address: ...``) so a
supervisor can fix a file without a traceback. ruamel.yaml keeps the line of every key and item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

Loc = Sequence[str | int]
M = TypeVar("M", bound=BaseModel)


def format_loc(loc: Loc) -> str:
    """``('tags', 7, 'address')`` -> ``tags[7].address``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True, slots=True)
class ProjectIssue:
    """One problem in a project file, located as precisely as the file allows."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ProjectLoadError(Exception):
    """A project that cannot be used; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[ProjectIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: plain Python data plus the line of every node."""

    path: Path
    display_name: str
    node: Any

    @property
    def data(self) -> Any:
        return _plain(self.node)

    def line(self, loc: Loc) -> int:
        """1-based line of the deepest node of ``loc`` present in the file (0 if unknown)."""
        node = self.node
        line = 1
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line

    def issue(self, loc: Loc, message: str) -> ProjectIssue:
        return ProjectIssue(self.display_name, self.line(loc), format_loc(loc), message)


def yaml_syntax_problem(exc: YAMLError) -> tuple[int, str]:
    """Where a YAML syntax error is (1-based line, 0 when unknown) and what it is, in words."""
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        return line, exc.problem or exc.context or "invalid YAML"
    return 0, str(exc)


def read_yaml(path: Path, display_name: str | None = None) -> YamlDocument:
    """Parse ``path``; a syntax error becomes a ProjectLoadError naming the line."""
    name = display_name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectLoadError([ProjectIssue(name, 0, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectLoadError([ProjectIssue(name, 0, "", f"cannot be read: {exc}")]) from None
    try:
        node = YAML(typ="rt").load(text)
    except YAMLError as exc:
        line, problem = yaml_syntax_problem(exc)
        raise ProjectLoadError([ProjectIssue(name, line, "", f"YAML syntax: {problem}")]) from None
    if node is None:
        node = CommentedMap()
    return YamlDocument(path, name, node)


def validate(
    doc: YamlDocument, model: type[M], prefix: Loc = ()
) -> tuple[M | None, list[ProjectIssue]]:
    """Validate ``doc`` (or the part at ``prefix``) against ``model``; issues carry lines."""
    data: Any = doc.data
    for part in prefix:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_issue_from_error(doc, prefix, err) for err in exc.errors()]


def _issue_from_error(doc: YamlDocument, prefix: Loc, err: Any) -> ProjectIssue:
    loc = [*prefix, *(part for part in err["loc"] if not _is_union_tag(part))]
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a known field"
    elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
        message = f"{message} (got {_short(err['input'])})"
    return doc.issue(loc, message)


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the member type's name to the loc of union errors ("function-after[...]")
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(item) for item in node]
    return node
