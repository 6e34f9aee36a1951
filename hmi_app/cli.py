"""Command line: the operator window, headless runs, project checks, and reads/writes for scripts.

    hmi-app                                  open the demo project in the operator window
    hmi-app run [PROJECT] [--headless] [--for SECONDS]
    hmi-app check PROJECT
    hmi-app read PROJECT TAG... [--json] [--timeout SECONDS]   (aligned on a terminal, else TSV)
    hmi-app write PROJECT TAG VALUE [--user NAME]
    hmi-app tags export PROJECT [--out FILE]
    hmi-app tags import PROJECT FILE [--dry-run] [--replace]
    hmi-app history PROJECT TAG [--from T] [--to T] [--buckets N] [--csv]
    hmi-app set-pin PROJECT [--stdin]           the PIN that opens design mode

PROJECT is a project folder, or ``demo`` for the built-in demo plant (``run`` runs a working
copy of it in the data folder, which the designer can save into: ``working_demo``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import getpass
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hmi_app import pin_cli  # standard library only at import time, like this module
from hmi_app.core.deadlines import wait_set

# Only the standard library at import time: the project's modules (pydantic, pymodbus, Qt) load
# inside main(), where a Ctrl+C during start-up ends the command quietly instead of in a traceback.
if TYPE_CHECKING:
    from hmi_app.core.project.loader import Project
    from hmi_app.core.project.yamlio import ProjectIssue
    from hmi_app.core.quality import TagValue
    from hmi_app.core.tagsource import TagMeta
    from hmi_app.runtime.runtime import Runtime

EXIT_OK, EXIT_FAILED, EXIT_BAD_PROJECT, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hmi-app`` command."""
    from hmi_app.history_cli import join_time_options

    args = _parser().parse_args(join_time_options(sys.argv[1:] if argv is None else argv))
    try:
        project = _open(args)
        if isinstance(project, int):
            return project
        return _dispatch(args, project)
    except KeyboardInterrupt:  # Ctrl+C before the command's own handlers are in place
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _open(args: argparse.Namespace) -> Project | int:
    """Import the application and load the project; an exit code if that ends the command.

    A Ctrl+C meanwhile is only noted and ends the command afterwards: interrupting the import of
    an extension module (PySide6's shiboken) aborts the interpreter instead of raising.
    """
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupted.append(signum))
    try:
        from hmi_app.check import open_project
        from hmi_app.core.project.yamlio import ProjectLoadError
        from hmi_app.logging_setup import setup_logging

        setup_logging()
        command = args.command or "run"
        gui = command == "run" and not args.headless
        if gui:
            import hmi_app.shell.app  # noqa: F401  (Qt loads here, where Ctrl+C is deferred)
        folder = _project_dir(args.project, make_working_copy=command == "run")
        try:
            if command == "check":
                return _check(folder)
            project = open_project(folder)
        except ProjectLoadError as exc:
            _print_issues(folder, exc.issues)
            if gui and args.for_seconds is None:
                from hmi_app.shell.app import show_load_error

                show_load_error(folder, "\n".join(_located(folder, i) for i in exc.issues))
            return EXIT_BAD_PROJECT
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt
    return project


def _dispatch(args: argparse.Namespace, project: Project) -> int:
    if args.command == "set-pin":
        return pin_cli.set_pin_command(args, project)
    if args.command == "tags":
        return _tags(args, project)
    if args.command == "history":
        from hmi_app import history_cli

        return history_cli.run(args, project)
    if args.command == "read":
        return asyncio.run(_read(project, args.tags, args.json, args.timeout))
    if args.command == "write":
        return asyncio.run(_write(project, args.tag, args.value, args.user, args.timeout))
    if args.headless:
        return asyncio.run(_run_headless(project, args.for_seconds))
    from hmi_app.shell.app import run_gui

    return run_gui(project.folder, for_seconds=args.for_seconds)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hmi-app",
        description=__doc__.split("\n\n")[0],
        epilog="PROJECT is a project folder, or 'demo' for the built-in demo plant. "
        "Without a command, hmi-app opens the demo in the operator window. 'run demo' runs "
        "your working copy of the demo (made in the data folder on first run), so design mode "
        "can save; delete that folder to start afresh.",
    )
    parser.set_defaults(project="demo", headless=False, for_seconds=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    project_help = "project folder, or 'demo' (the built-in demo plant)"
    run = sub.add_parser("run", help="run a project (operator window, or --headless)")
    run.add_argument(
        "project",
        nargs="?",
        default="demo",
        metavar="PROJECT",
        help="project folder, or 'demo' (your working copy of the built-in demo plant)",
    )
    run.add_argument("--headless", action="store_true", help="no window: runtime only")
    run.add_argument(
        "--for", dest="for_seconds", type=float, metavar="SECONDS", help="stop after SECONDS"
    )
    check = sub.add_parser("check", help="validate a project without connecting")
    check.add_argument("project", metavar="PROJECT", help=project_help)
    read = sub.add_parser("read", help="print value, quality and time of tags")
    read.add_argument("project", metavar="PROJECT", help=project_help)
    read.add_argument("tags", nargs="+", metavar="TAG", help="tag name, e.g. line1.filler.speed")
    read.add_argument("--json", action="store_true", help="one JSON object per line")
    read.add_argument(
        "--timeout", type=float, default=5.0, metavar="SECONDS", help="wait for values (default 5)"
    )
    write = sub.add_parser("write", help="write a tag through the same checks as the GUI")
    write.add_argument("project", metavar="PROJECT", help=project_help)
    write.add_argument("tag", metavar="TAG")
    write.add_argument("value", metavar="VALUE")
    write.add_argument(
        "--user", default=f"cli:{_os_user()}", help="name in the audit log (default cli:OS_USER)"
    )
    write.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wait for the device (default 5)",
    )
    pin_cli.add_parser(sub, project_help)
    tags = sub.add_parser("tags", help="export or import the tag list as CSV (for spreadsheets)")
    tags_sub = tags.add_subparsers(dest="tags_command", metavar="ACTION", required=True)
    export = tags_sub.add_parser("export", help="write every tag of PROJECT as CSV")
    export.add_argument("project", metavar="PROJECT", help=project_help)
    export.add_argument("--out", metavar="FILE", help="CSV file to write (default: print it)")
    imp = tags_sub.add_parser(
        "import",
        help="add and update tags from a CSV file (by name); nothing is saved if a row is wrong",
    )
    imp.add_argument("project", metavar="PROJECT", help="project folder")
    imp.add_argument("file", metavar="FILE", help="CSV file (as written by 'tags export')")
    imp.add_argument(
        "--dry-run", action="store_true", help="check the file and say what would change"
    )
    imp.add_argument(
        "--replace", action="store_true", help="the file is the whole tag list: remove the others"
    )
    from hmi_app.history_cli import add_parser as add_history_parser

    add_history_parser(sub, project_help)
    return parser


def _tags(args: argparse.Namespace, project: Project) -> int:
    """``tags export`` / ``tags import``: the tag list as CSV."""
    from hmi_app.check import address_checker, check_project
    from hmi_app.core.project.editing import EditRefused, plan_tag_edit, save_tags
    from hmi_app.core.project.loader import PROJECT_FILE
    from hmi_app.core.project.tags_csv import CsvImportError, export_tags, plan_import

    if args.tags_command == "export":
        text = export_tags(project.model.tags)
        if args.out is None:
            sys.stdout.write(text)
            return EXIT_OK
        try:
            Path(args.out).write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            print(f"{args.out}: cannot be written: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{args.out}: {len(project.model.tags)} tags written")
        return EXIT_OK
    folder = Path(args.project)
    if _is_shipped_demo(project.folder):
        print(
            "the built-in demo project is read-only: copy its folder and import into the copy",
            file=sys.stderr,
        )
        return EXIT_BAD_PROJECT
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot be read: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        plan = plan_import(
            text,
            project.model,
            args.file,
            replace=args.replace,
            check_address=address_checker(project),
        )
        if args.dry_run:
            raw = (project.folder / PROJECT_FILE).read_bytes()
            edit = plan_tag_edit(raw, plan.tags, replace=args.replace)[1]
            print(f"{args.file}: would save {edit.summary()} (dry run: nothing written)")
            return EXIT_OK
        result = save_tags(
            project.folder,
            plan.tags,
            replace=args.replace,
            validator=lambda path: check_project(path)[1],
        )
    except (CsvImportError, EditRefused) as exc:
        for issue in exc.issues:
            shown = issue if issue.file == args.file else _located(folder, issue)
            print(shown, file=sys.stderr)
        count = len(exc.issues)
        print(f"{count} problem{'s' if count != 1 else ''} found; nothing written", file=sys.stderr)
        return EXIT_BAD_PROJECT
    if result.backup is None:
        print(f"{args.file}: no change ({result.edit.summary()})")
    else:
        print(f"{args.file}: saved {result.edit.summary()}; previous file in {result.backup}")
    return EXIT_OK


def _project_dir(text: str | None, *, make_working_copy: bool = False) -> Path:
    """The folder PROJECT names. ``demo`` is the shipped demo, except for ``run``
    (``make_working_copy``), which runs the working copy in the data folder (``working_demo``)
    so that design mode can save; the shipped one if that copy cannot be made."""
    if text not in (None, "demo"):
        return Path(str(text))
    from hmi_app.core.project.loader import demo_project_dir

    if make_working_copy:
        from hmi_app.core.project.working_demo import prepare_working_demo

        try:
            return prepare_working_demo()
        except OSError as exc:
            print(f"demo: running the shipped (read-only) demo: {exc}", file=sys.stderr)
    return demo_project_dir()


def _is_shipped_demo(folder: Path) -> bool:
    from hmi_app.core.project.loader import demo_project_dir

    return folder.resolve() == demo_project_dir().resolve()


def _located(folder: Path, issue: ProjectIssue) -> str:
    """The issue with its file named as the user named the folder (``project.yaml`` is vague)."""
    if not issue.file:
        return str(issue)
    file = Path(issue.file)
    shown = file if file.is_absolute() or file == folder else folder / file
    where = f"{shown}:{issue.line}" if issue.line else str(shown)
    return f"{where}: {issue.path}: {issue.message}" if issue.path else f"{where}: {issue.message}"


def _print_issues(folder: Path, issues: Sequence[ProjectIssue]) -> None:
    for issue in issues:
        print(_located(folder, issue), file=sys.stderr)
    count = len(issues)
    print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)


def _check(folder: Path) -> int:
    from hmi_app.check import check_project

    project, issues = check_project(folder)
    if project is None:
        _print_issues(folder, issues)
        return EXIT_BAD_PROJECT
    model = project.model
    name = "demo" if _is_shipped_demo(project.folder) else str(folder)
    from hmi_app.core.project.trends_model import trends_dir

    recorded = sum(1 for tag in model.tags if tag.history is not False)
    trends = len(list(trends_dir(project.folder).glob("*.yaml")))
    print(
        f"{name}: ok ({len(model.connections)} connections, "
        f"{len(model.tags)} tags ({recorded} recorded), {len(project.screen_docs)} screens, "
        f"{trends} saved trend{'s' if trends != 1 else ''})"
    )
    return EXIT_OK


async def _run_headless(project: Project, for_seconds: float | None) -> int:
    from hmi_app.runtime.runtime import Runtime

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises instead
            loop.add_signal_handler(sig, stop.set)
    from hmi_app.runtime.store import StoreError

    runtime = Runtime(project)
    try:
        try:
            await runtime.start()
        except StoreError as exc:  # a damaged database or history file: named in the message
            print(f"the runtime did not start: {exc}", file=sys.stderr)
            return EXIT_FAILED
        runtime.subscribe_all()
        if not stop.is_set():
            print(f"running {project.model.project.name} headless; Ctrl+C stops", flush=True)
            await wait_set(stop, for_seconds)
    finally:
        await runtime.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    print("stopped", flush=True)
    return EXIT_OK


def _unknown_tags(project: Project, tags: Sequence[str]) -> list[str]:
    """One message per name that is not a tag of ``project``, with the closest names if any."""
    known = [tag.name for tag in project.model.runtime_tags]
    messages = []
    for name in tags:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        messages.append(f"unknown tag {name!r}{hint}")
    return messages


async def _read(project: Project, tags: list[str], as_json: bool, wait_s: float) -> int:
    from hmi_app.core.quality import Quality
    from hmi_app.runtime.runtime import Runtime

    unknown = _unknown_tags(project, tags)
    if unknown:
        print("\n".join(unknown), file=sys.stderr)
        return EXIT_FAILED
    runtime = Runtime(project, production=False, history=False)  # one look: no counting
    values: dict[str, TagValue | None] = dict.fromkeys(tags)
    try:
        await runtime.start()
        arrived = asyncio.Event()

        def on_value(_value: TagValue) -> None:
            if not any(_waiting(runtime.engine.current(t)) for t in tags):
                arrived.set()

        for tag in tags:
            runtime.engine.subscribe(tag, on_value)
        await wait_set(arrived, wait_s)
        values = {tag: runtime.engine.current(tag) for tag in tags}
        metas = {tag: runtime.engine.meta(tag) for tag in tags}
    finally:
        await runtime.stop()
    if as_json:
        for tag, value in values.items():
            print(_format_json(tag, value, metas[tag].units))
    else:
        rows = [_row(tag, value, metas[tag]) for tag, value in values.items()]
        print(_format_table(rows) if sys.stdout.isatty() else _format_tsv(rows))
    good = all(v is not None and v.quality is Quality.GOOD for v in values.values())
    return EXIT_OK if good else EXIT_FAILED


async def _write(project: Project, tag: str, value: str, user: str, wait_s: float) -> int:
    from hmi_app.core.tagsource import WriteRefused
    from hmi_app.runtime.runtime import Runtime

    unknown = _unknown_tags(project, [tag])
    if unknown:
        print(unknown[0], file=sys.stderr)
        return EXIT_FAILED
    runtime = Runtime(project, production=False, history=False)  # one write: no counting
    try:
        await runtime.start()
        config = runtime.engine.config(tag)
        if not config.is_memory:
            await _wait_connected(runtime, config.connection, wait_s)
        try:
            await runtime.engine.write(tag, value, user=user)
        except WriteRefused as exc:
            print(f"{tag}: write refused: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{tag}: wrote {value}")
        return EXIT_OK
    finally:
        await runtime.stop()


async def _wait_connected(runtime: Runtime, connection: str, wait_s: float) -> None:
    """Wait until ``connection`` is up, at most ``wait_s`` (a write then reports the failure)."""
    from drivers.base import LinkState

    connected = asyncio.Event()

    def on_link(name: str, state: LinkState, _detail: str) -> None:
        if name == connection and state is LinkState.CONNECTED:
            connected.set()

    runtime.engine.add_link_listener(on_link)
    try:
        if runtime.engine.link_states()[connection][0] is LinkState.CONNECTED:
            return
        await wait_set(connected, wait_s)
    finally:
        runtime.engine.remove_link_listener(on_link)


def _waiting(value: TagValue | None) -> bool:
    from hmi_app.core.quality import Quality, Reason

    return value is None or (value.quality is Quality.BAD and value.reason == Reason.WAITING)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _row(tag: str, value: TagValue | None, meta: TagMeta) -> tuple[str, str, str, str, str]:
    """Tag, value in its display format with units, quality, source time (UTC), reason."""
    if value is None:
        return tag, "-", "bad", "-", "no value"
    shown = meta.format_value(value.value)
    if shown and meta.units:
        shown = f"{shown} {meta.units}"
    return tag, shown or "-", value.quality.label, _iso(value.source_ts), value.reason


def _format_table(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows in aligned columns (two spaces apart); empty trailing columns leave no spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _format_tsv(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows as tab-separated lines (for ``cut -f``); an empty trailing reason is left out."""
    return "\n".join("\t".join(row).rstrip("\t") for row in rows)


def _format_json(tag: str, value: TagValue | None, units: str) -> str:
    if value is None:
        record: dict[str, object] = {
            "tag": tag,
            "value": None,
            "quality": "bad",
            "reason": "no value",
        }
    else:
        record = {
            "tag": tag,
            "value": value.value,
            "units": units,
            "quality": value.quality.label,
            "reason": value.reason,
            "source_ts": _iso(value.source_ts),
            "recv_ts": _iso(value.recv_ts),
        }
    return json.dumps(record, ensure_ascii=False)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
