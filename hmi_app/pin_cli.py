"""``hmi-app set-pin PROJECT``: set the design-mode PIN of a project.

The PIN is asked twice without echo (or read from one line of stdin with ``--stdin``, for
scripts), hashed (``hmi_app.core.pin``) and written into ``project.yaml`` as
``designer: {pin_hash: ...}``. The file is edited as text: only the hash's own span changes (or
a ``designer:`` section is appended), so comments and layout stay as the user wrote them. The
write is atomic, the previous file goes to ``.backups/``, and a project that no longer loads
afterwards is put back.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmi_app.core.project.loader import Project

EXIT_OK, EXIT_FAILED, EXIT_BAD_PROJECT = 0, 1, 2


class PinSaveError(Exception):
    """The hash could not be written; the message says why (the file is unchanged)."""


def add_parser(sub: Any, project_help: str) -> None:
    """Register ``set-pin`` on the ``hmi-app`` subcommands."""
    parser = sub.add_parser(
        "set-pin", help="set the PIN that opens design mode (stored hashed in project.yaml)"
    )
    parser.add_argument("project", metavar="PROJECT", help=project_help)
    parser.add_argument(
        "--stdin", action="store_true", help="read the PIN from one line of stdin (for scripts)"
    )


def set_pin_command(args: argparse.Namespace, project: Project) -> int:
    """Run ``set-pin``: ask the PIN, hash it, save it; the exit code."""
    from hmi_app.core.pin import PinError, check_pin_text, hash_pin
    from hmi_app.core.project.loader import demo_project_dir

    if project.folder.resolve() == demo_project_dir().resolve():
        print(
            "the built-in demo project is read-only (its PIN is 1234): copy its folder and set "
            "the PIN of the copy",
            file=sys.stderr,
        )
        return EXIT_BAD_PROJECT
    try:
        pin = _read_pin(args.stdin)
        check_pin_text(pin)
        stored = hash_pin(pin)
    except PinError as exc:
        print(f"PIN not set: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (EOFError, KeyboardInterrupt):
        print("PIN not set", file=sys.stderr)
        return EXIT_FAILED
    try:
        backup = save_pin_hash(project.folder, stored)
    except PinSaveError as exc:
        print(f"PIN not set: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"design-mode PIN set in {project.folder / 'project.yaml'}; previous file in {backup}")
    return EXIT_OK


def _read_pin(from_stdin: bool) -> str:
    from hmi_app.core.pin import PinError

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise PinError("no PIN on stdin")
        return line.rstrip("\r\n")
    first = getpass.getpass("New design-mode PIN: ")
    second = getpass.getpass("The same PIN again: ")
    if first != second:
        raise PinError("the two PINs differ")
    return first


def save_pin_hash(folder: Path, stored: str) -> Path:
    """Write ``stored`` as ``designer.pin_hash`` of ``folder/project.yaml``; the backup's path."""
    from hmi_app.core.atomic_file import write_atomic
    from hmi_app.core.project.editing import backup_file, default_validator
    from hmi_app.core.project.loader import PROJECT_FILE

    path = Path(folder) / PROJECT_FILE
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PinSaveError(f"{path}: cannot be read: {exc}") from None
    new_text = splice_pin_hash(text, stored)
    backup = backup_file(path, raw)
    write_atomic(path, new_text.encode("utf-8"))
    issues = default_validator(Path(folder))
    if issues:
        write_atomic(path, raw)
        raise PinSaveError("\n".join(str(issue) for issue in issues))
    return backup


def splice_pin_hash(text: str, stored: str) -> str:
    """``text`` (a project.yaml) with ``designer.pin_hash`` set to ``stored``, all else kept.

    Replaces the value of an existing ``pin_hash``, adds the key to a block ``designer:``
    mapping, replaces an empty or flow ``designer:`` value, or appends a section.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    quoted = f'"{stored}"'
    try:
        root = YAML(typ="rt").compose(body)
    except YAMLError as exc:
        raise PinSaveError(f"project.yaml: YAML syntax: {exc}") from None
    if not isinstance(root, MappingNode):
        raise PinSaveError("project.yaml: is not a mapping")
    key, section = next(
        ((k, v) for k, v in root.value if isinstance(k, ScalarNode) and k.value == "designer"),
        (None, None),
    )
    if key is None:
        newline = "\r\n" if "\r\n" in body else "\n"
        sep = "" if not body or body.endswith(("\n", "\r")) else newline
        result = f"{body}{sep}{newline}designer:{newline}  pin_hash: {quoted}{newline}"
    else:
        result = _splice_section(body, key, section, quoted)
    _verify(body, result, stored)
    return bom + result


def _splice_section(body: str, key: Any, section: Any, quoted: str) -> str:
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    if isinstance(section, MappingNode) and not section.flow_style and section.value:
        for key, value in section.value:
            if isinstance(key, ScalarNode) and key.value == "pin_hash":
                start, end = value.start_mark.index, value.end_mark.index
                return body[:start] + quoted + body[end:]
        first = section.value[0][0]
        indent = " " * first.start_mark.column
        line_start = first.start_mark.index - first.start_mark.column
        newline = "\r\n" if "\r\n" in body else "\n"
        return body[:line_start] + f"{indent}pin_hash: {quoted}{newline}" + body[line_start:]
    # `designer:` with nothing, null or a flow mapping: the value becomes a flow mapping
    start, end = section.start_mark.index, section.end_mark.index
    value = f"{{pin_hash: {quoted}}}"
    if start == end:  # an empty value has no span of its own: put it after the colon
        colon = body.index(":", key.end_mark.index) + 1
        return body[:colon] + " " + value + body[colon:]
    return body[:start] + value + body[end:]


def _verify(before: str, after: str, stored: str) -> None:
    """The splice changed the hash and nothing else (else it is refused, nothing written)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        old, new = YAML(typ="safe").load(before), YAML(typ="safe").load(after)
    except YAMLError as exc:
        raise PinSaveError(f"project.yaml: the edit would break the file: {exc}") from None
    if not isinstance(new, dict) or not isinstance(old, dict):
        raise PinSaveError("project.yaml: is not a mapping")
    designer = new.pop("designer", None)
    old.pop("designer", None)
    if designer != {"pin_hash": stored} or old != new:
        raise PinSaveError(
            "project.yaml: the designer: section holds more than pin_hash; edit it by hand"
        )
