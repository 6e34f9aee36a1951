"""Screen management on a project folder: new, rename, duplicate, delete, start screen, templates.

Every command edits files as text, splicing only what changes (the ``screens:`` item of
``project.yaml``, its ``start_screen``, the ``name:`` of a screen, the ``navigate:``,
``faceplate:`` and ``template:`` references to a renamed screen in the other screen files), so
comments and layout stay as the user wrote them. All the files one command touches are written
together: each atomically with a backup of its previous content in ``.backups/`` next to it, and
if one write fails the ones already done are put back. Screen names follow the screen model's
rule (letters, digits, ``_`` and ``-``); the file of screen ``x`` is ``x.yaml`` beside the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hmi_app.core.project.loader import PROJECT_FILE
from screens.designer.file_changes import FileChanges, ScreenFileError
from screens.designer.screen_text import new_screen_text
from screens.designer.splice import (
    append_item,
    compose,
    find_key,
    remove_item,
    remove_key,
    replace_node,
    set_key,
)
from screens.designer.validation import CLICK_KEYS
from screens.model import ScreenModel, placeholders, template_strings
from widgets.nav_button import NavButton

SCREENS_DIR = "screens"
TOP_KEY_ORDER = ("schema_version", "name", "title", "size", "background", "parameters", "widgets")


@dataclass(frozen=True)
class Reference:
    """A place that names a screen: ``overview.yaml:137: on_click.faceplate of pump_1``."""

    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


# ---- reading ----------------------------------------------------------------------------------


def _read(path: Path) -> str:
    """The file's text, without a byte-order mark (``_Changes`` puts it back when writing)."""
    try:
        return path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except FileNotFoundError:
        raise ScreenFileError(f"{path.name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreenFileError(f"{path.name}: cannot be read: {exc}") from None


def _root(text: str, file_name: str) -> MappingNode:
    try:
        root = compose(text)
    except YAMLError as exc:
        raise ScreenFileError(f"{file_name}: YAML syntax: {exc}") from None
    if not isinstance(root, MappingNode):
        raise ScreenFileError(f"{file_name}: is not a mapping of keys")
    return root


def _screens_seq(text: str) -> SequenceNode | None:
    found = find_key(_root(text, PROJECT_FILE), "screens")
    return found[2] if found is not None and isinstance(found[2], SequenceNode) else None


def screen_files(folder: Path) -> dict[str, Path]:
    """The project's screen files by key (file stem), in ``project.yaml`` order."""
    seq = _screens_seq(_read(Path(folder) / PROJECT_FILE))
    items = seq.value if seq is not None else []
    return {
        Path(str(n.value)).stem: Path(folder) / str(n.value)
        for n in items
        if isinstance(n, ScalarNode)
    }


def _path_of(folder: Path, key: str) -> Path:
    files = screen_files(folder)
    if key not in files:
        known = ", ".join(files) or "none"
        raise ScreenFileError(f"no screen {key!r} in {PROJECT_FILE} (screens: {known})")
    return files[key]


def _screen_name(text: str, key: str) -> str:
    found = find_key(_root(text, key), "name")
    if found is not None and isinstance(found[2], ScalarNode) and found[2].value:
        return str(found[2].value)
    return key


def _check_name(folder: Path, name: str) -> None:
    try:
        ScreenModel.model_validate({"schema_version": 1, "name": name})
    except ValidationError as exc:
        raise ScreenFileError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    files = screen_files(folder)
    if name in files:
        raise ScreenFileError(f"there is already a screen {name!r}")
    directory = _screens_dir(folder, files)
    if (directory / f"{name}.yaml").exists():
        raise ScreenFileError(f"{directory.name}/{name}.yaml already exists (not in the project)")


def _screens_dir(folder: Path, files: Mapping[str, Path]) -> Path:
    first = next(iter(files.values()), None)
    return first.parent if first is not None else Path(folder) / SCREENS_DIR


def _relative(folder: Path, path: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _on_click_targets(text: str, file_name: str) -> list[tuple[Node, str]]:
    """Every node naming a screen in a screen file, with what it is (for messages): click
    targets, navigation buttons' ``screen`` and instances' ``template``."""
    root = _root(text, file_name)
    found: list[tuple[Node, str]] = []
    for part in ("widgets", "instances"):
        seq = find_key(root, part)
        if seq is None or not isinstance(seq[2], SequenceNode):
            continue
        for item in seq[2].value:
            if not isinstance(item, MappingNode):
                continue
            ident = find_key(item, "id")
            label = str(ident[2].value) if ident is not None else "?"
            places: list[tuple[str, str, str]] = [("", "template", "template")]
            if part == "widgets":
                places = [("on_click", key, f"on_click.{key}") for key in CLICK_KEYS]
                kind = find_key(item, "type")
                if kind is not None and kind[2].value == NavButton.TYPE_KEY:
                    places.append(("props", "screen", "props.screen"))
            for holder_key, key, what in places:
                holder = find_key(item, holder_key) if holder_key else (0, item, item)
                if holder is None or not isinstance(holder[2], MappingNode):
                    continue
                target = find_key(holder[2], key)
                if target is not None and isinstance(target[2], ScalarNode):
                    found.append((target[2], f"{what} of {label}"))
    return found


def references(folder: Path, name: str) -> list[Reference]:
    """Where the project names screen ``name``: start screen, clicks and instances."""
    folder = Path(folder)
    result: list[Reference] = []
    project_text = _read(folder / PROJECT_FILE)
    start = _start_node(project_text)
    if start is not None and start.value == name:
        result.append(Reference(PROJECT_FILE, start.start_mark.line + 1, "project.start_screen"))
    for path in screen_files(folder).values():
        if not path.exists():
            continue
        for node, what in _on_click_targets(_read(path), path.name):
            if node.value == name:
                result.append(Reference(path.name, node.start_mark.line + 1, what))
    return result


def _start_node(project_text: str) -> ScalarNode | None:
    project = find_key(_root(project_text, PROJECT_FILE), "project")
    if project is None or not isinstance(project[2], MappingNode):
        return None
    start = find_key(project[2], "start_screen")
    return start[2] if start is not None and isinstance(start[2], ScalarNode) else None


# ---- writing ----------------------------------------------------------------------------------


def _verified(text: str, file_name: str, check: Callable[[Any], bool]) -> str:
    """``text`` if it parses and ``check`` accepts its data (guards the splice itself)."""
    try:
        data = YAML(typ="safe").load(text.removeprefix("\ufeff"))
    except YAMLError as exc:  # pragma: no cover - a splice bug, not user input
        raise ScreenFileError(f"{file_name}: the edit broke the YAML: {exc}") from None
    if not check(data):  # pragma: no cover - a splice bug, not user input
        raise ScreenFileError(f"{file_name}: the edit did not read back as intended")
    return text


def _project_screens(data: Any) -> list[str]:
    screens = data.get("screens") if isinstance(data, dict) else None
    return [str(s) for s in screens] if isinstance(screens, list) else []


def _with_screen_entry(project_text: str, old: str | None, new: str | None) -> str:
    """``project.yaml`` with the ``screens:`` entry ``old`` replaced by ``new`` (either None:
    add or remove)."""
    text = project_text
    seq = _screens_seq(text)
    if seq is None:
        raise ScreenFileError(f"{PROJECT_FILE}: has no 'screens:' list")
    expected = [str(n.value) for n in seq.value]
    if old is None:
        assert new is not None
        text = append_item(text, seq, new)
        expected.append(new)
    else:
        index = expected.index(old)
        if new is None:
            text = remove_item(text, seq, index)
            del expected[index]
        else:
            text = replace_node(text, seq.value[index], new)
            expected[index] = new
    return _verified(text, PROJECT_FILE, lambda d: _project_screens(d) == expected)


def _with_start(project_text: str, name: str) -> str:
    project = find_key(_root(project_text, PROJECT_FILE), "project")
    if project is None or not isinstance(project[2], MappingNode):
        raise ScreenFileError(f"{PROJECT_FILE}: has no 'project:' section")
    text = set_key(project_text, project[2], "start_screen", name)
    return _verified(text, PROJECT_FILE, lambda d: d.get("project", {}).get("start_screen") == name)


def _with_top_key(text: str, file_name: str, key: str, value: Any) -> str:
    root = _root(text, file_name)
    new = set_key(text, root, key, value, order=TOP_KEY_ORDER)
    return _verified(new, file_name, lambda d: isinstance(d, dict) and d.get(key) == value)


def _renamed_targets(text: str, file_name: str, old: str, new: str) -> str:
    nodes = [n for n, _ in _on_click_targets(text, file_name) if n.value == old]
    for node in sorted(nodes, key=lambda n: n.start_mark.index, reverse=True):
        text = replace_node(text, node, new)
    return text


# ---- commands ---------------------------------------------------------------------------------


def new_screen(
    folder: Path,
    name: str,
    *,
    parameters: Sequence[str] | Mapping[str, Mapping[str, str]] | None = None,
    size: tuple[int, int] = (1280, 720),
    title: str = "",
) -> Path:
    """Create screen ``name`` (a template when it has ``parameters``) and list it in the project."""
    folder = Path(folder)
    _check_name(folder, name)
    params: dict[str, dict[str, str]] = {}
    for param in parameters or ():
        spec = parameters[param] if isinstance(parameters, Mapping) else {}
        params[str(param)] = {"description": str(spec.get("description", ""))}
        if spec.get("default") is not None:
            params[str(param)]["default"] = str(spec["default"])
    if params:
        try:
            ScreenModel.model_validate(
                {"schema_version": 1, "name": name, "parameters": params, "size": list(size)}
            )
        except ValidationError as exc:
            raise ScreenFileError(
                str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            ) from None
    path = _screens_dir(folder, screen_files(folder)) / f"{name}.yaml"
    changes = FileChanges()
    changes.write(path, new_screen_text(name, size, title, params))
    project = folder / PROJECT_FILE
    changes.write(project, _with_screen_entry(_read(project), None, _relative(folder, path)))
    changes.commit()
    return path


def rename_screen(folder: Path, key: str, new_name: str) -> Path:
    """Rename screen ``key``: its file, its ``name:``, the project's list and start screen, and
    every click and instance naming it in the other screens."""
    folder = Path(folder)
    path = _path_of(folder, key)
    text = _read(path)
    old_name = _screen_name(text, key)
    if new_name == key:
        return path
    _check_name(folder, new_name)
    changes = FileChanges()
    new_path = path.with_name(f"{new_name}.yaml")
    renamed = _with_top_key(text, path.name, "name", new_name)
    changes.write(new_path, _renamed_targets(renamed, path.name, old_name, new_name))
    for other_key, other in screen_files(folder).items():
        if other_key == key or not other.exists():
            continue
        other_text = _read(other)
        edited = _renamed_targets(other_text, other.name, old_name, new_name)
        if edited != other_text:
            changes.write(other, edited)
    project_path = folder / PROJECT_FILE
    project = _with_screen_entry(
        _read(project_path), _relative(folder, path), _relative(folder, new_path)
    )
    start = _start_node(project)
    if start is not None and start.value in (key, old_name):
        project = _with_start(project, new_name)
    changes.write(project_path, project)
    changes.delete(path)
    changes.commit()
    return new_path


def duplicate_screen(folder: Path, key: str, new_name: str) -> Path:
    """Copy screen ``key`` as ``new_name`` (comments and all) and list it in the project."""
    folder = Path(folder)
    path = _path_of(folder, key)
    _check_name(folder, new_name)
    text = _with_top_key(_read(path), path.name, "name", new_name)
    new_path = path.with_name(f"{new_name}.yaml")
    changes = FileChanges()
    changes.write(new_path, text)
    project = folder / PROJECT_FILE
    changes.write(project, _with_screen_entry(_read(project), None, _relative(folder, new_path)))
    changes.commit()
    return new_path


def delete_screen(folder: Path, key: str, *, force: bool = False) -> None:
    """Delete screen ``key`` (its file goes to ``.backups/``); refused while the project still
    names it (start screen, clicks, instances) unless ``force``, and for the last screen."""
    folder = Path(folder)
    path = _path_of(folder, key)
    name = _screen_name(_read(path), key) if path.exists() else key
    refs = [r for r in references(folder, name) if r.file != path.name]
    if key != name:
        refs += [r for r in references(folder, key) if r.what == "project.start_screen"]
    if any(r.what == "project.start_screen" for r in refs):
        raise ScreenFileError(f"{key!r} is the start screen: make another screen the start first")
    if refs and not force:
        where = "; ".join(str(r) for r in refs)
        raise ScreenFileError(f"{key!r} is still used: {where}")
    if len(screen_files(folder)) <= 1:
        raise ScreenFileError("a project needs at least one screen")
    changes = FileChanges()
    project = folder / PROJECT_FILE
    changes.write(project, _with_screen_entry(_read(project), _relative(folder, path), None))
    if path.exists():
        changes.delete(path)
    changes.commit()


def set_start_screen(folder: Path, key: str) -> None:
    """Open screen ``key`` first when the app starts (templates cannot be the start screen)."""
    folder = Path(folder)
    path = _path_of(folder, key)
    if find_key(_root(_read(path), path.name), "parameters") is not None:
        raise ScreenFileError(f"{key!r} is a template (it has parameters): it cannot be the start")
    changes = FileChanges()
    project = folder / PROJECT_FILE
    changes.write(project, _with_start(_read(project), key))
    changes.commit()


def add_parameter(
    folder: Path, key: str, name: str, *, description: str = "", default: str | None = None
) -> None:
    """Add (or change) parameter ``name`` of screen ``key``; a screen with one is a template."""
    path = _path_of(Path(folder), key)
    text = _read(path)
    spec: dict[str, str] = {"description": description}
    if default is not None:
        spec["default"] = default
    try:
        ScreenModel.model_validate({"schema_version": 1, "name": "x", "parameters": {name: spec}})
    except ValidationError as exc:
        raise ScreenFileError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    root = _root(text, path.name)
    found = find_key(root, "parameters")
    if found is None or not isinstance(found[2], MappingNode) or not found[2].value:
        text = set_key(text, root, "parameters", {name: spec}, order=TOP_KEY_ORDER, block=True)
    else:
        text = set_key(text, found[2], name, spec)
    text = _verified(text, path.name, lambda d: d.get("parameters", {}).get(name) == spec)
    changes = FileChanges()
    changes.write(path, text)
    changes.commit()


def remove_parameter(folder: Path, key: str, name: str) -> None:
    """Remove parameter ``name`` of screen ``key``; refused while a ``{name}`` still uses it."""
    path = _path_of(Path(folder), key)
    text = _read(path)
    data = YAML(typ="safe").load(text.removeprefix("\ufeff"))
    users = [
        ".".join(str(p) for p in loc)
        for loc, value in template_strings(data)
        if name in placeholders(value)
    ]
    if users:
        raise ScreenFileError(f"parameter {name!r} is still used by {', '.join(users)}")
    root = _root(text, path.name)
    found = find_key(root, "parameters")
    if found is None or not isinstance(found[2], MappingNode) or find_key(found[2], name) is None:
        raise ScreenFileError(f"{key!r} has no parameter {name!r}")
    if len(found[2].value) == 1:
        text = remove_key(text, root, "parameters")
    else:
        text = remove_key(text, found[2], name)
    text = _verified(text, path.name, lambda d: name not in (d.get("parameters") or {}))
    changes = FileChanges()
    changes.write(path, text)
    changes.commit()
