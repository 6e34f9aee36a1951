"""Command line: the operator window, headless runs, project checks, and reads/writes for scripts.

    hmi-app                                  open the demo project in the operator window
    hmi-app run [PROJECT] [--headless] [--for SECONDS]
    hmi-app check PROJECT
    hmi-app read PROJECT TAG... [--json] [--timeout SECONDS]
    hmi-app write PROJECT TAG VALUE [--user NAME]

PROJECT is a project folder, or ``demo`` for the built-in demo plant.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from drivers.base import LinkState
from hmi_app.check import check_project, open_project
from hmi_app.core.project.loader import Project, demo_project_dir
from hmi_app.core.project.yamlio import ProjectLoadError
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.logging_setup import setup_logging
from hmi_app.runtime.runtime import Runtime

EXIT_OK, EXIT_FAILED, EXIT_BAD_PROJECT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hmi-app`` command."""
    args = _parser().parse_args(argv)
    setup_logging()
    command = args.command or "run"
    try:
        if command == "check":
            return _check(args.project)
        project = open_project(_project_dir(getattr(args, "project", None)))
    except ProjectLoadError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_BAD_PROJECT
    if command == "read":
        return asyncio.run(_read(project, args.tags, args.json, args.timeout))
    if command == "write":
        return asyncio.run(_write(project, args.tag, args.value, args.user, args.timeout))
    if getattr(args, "headless", False):
        return asyncio.run(_run_headless(project, args.for_seconds))
    from hmi_app.shell.app import run_gui

    return run_gui(project.folder, for_seconds=getattr(args, "for_seconds", None))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hmi-app", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a project (operator window, or --headless)")
    run.add_argument("project", nargs="?", default="demo")
    run.add_argument("--headless", action="store_true", help="no window: runtime only")
    run.add_argument("--for", dest="for_seconds", type=float, help="stop after SECONDS")
    check = sub.add_parser("check", help="validate a project without connecting")
    check.add_argument("project")
    read = sub.add_parser("read", help="print value, quality and time of tags")
    read.add_argument("project")
    read.add_argument("tags", nargs="+", metavar="TAG")
    read.add_argument("--json", action="store_true", help="one JSON object per line")
    read.add_argument("--timeout", type=float, default=5.0, help="wait for values (s)")
    write = sub.add_parser("write", help="write a tag through the same checks as the GUI")
    write.add_argument("project")
    write.add_argument("tag")
    write.add_argument("value")
    write.add_argument("--user", default=f"cli:{_os_user()}")
    write.add_argument("--timeout", type=float, default=5.0, help="wait for the device (s)")
    return parser


def _project_dir(text: str | None) -> Path:
    if text in (None, "demo"):
        return demo_project_dir()
    return Path(text)


def _check(project_arg: str) -> int:
    project, issues = check_project(_project_dir(project_arg))
    for issue in issues:
        print(issue, file=sys.stderr)
    if project is None:
        print(f"{len(issues)} problem(s) found", file=sys.stderr)
        return EXIT_BAD_PROJECT
    model = project.model
    print(
        f"{project.folder}: ok ({len(model.connections)} connections, {len(model.tags)} tags, "
        f"{len(project.screen_docs)} screens)"
    )
    return EXIT_OK


async def _run_headless(project: Project, for_seconds: float | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises instead
            loop.add_signal_handler(sig, stop.set)
    runtime = Runtime(project)
    await runtime.start()
    runtime.subscribe_all()
    print(f"running {project.model.project.name} headless; Ctrl+C stops", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), for_seconds)
    except TimeoutError:
        pass
    finally:
        await runtime.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    print("stopped", flush=True)
    return EXIT_OK


async def _read(project: Project, tags: list[str], as_json: bool, wait_s: float) -> int:
    known = {tag.name for tag in project.model.tags}
    unknown = [t for t in tags if t not in known]
    if unknown:
        print(f"unknown tag(s): {', '.join(unknown)}", file=sys.stderr)
        return EXIT_FAILED
    runtime = Runtime(project)
    await runtime.start()
    try:
        arrived = asyncio.Event()

        def on_value(_value: TagValue) -> None:
            if not any(_waiting(runtime.engine.current(t)) for t in tags):
                arrived.set()

        for tag in tags:
            runtime.engine.subscribe(tag, on_value)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), wait_s)
        values = {tag: runtime.engine.current(tag) for tag in tags}
        for tag, value in values.items():
            units = runtime.engine.meta(tag).units
            print(_format_json(tag, value, units) if as_json else _format_line(tag, value, units))
    finally:
        await runtime.stop()
    good = all(v is not None and v.quality is Quality.GOOD for v in values.values())
    return EXIT_OK if good else EXIT_FAILED


async def _write(project: Project, tag: str, value: str, user: str, wait_s: float) -> int:
    runtime = Runtime(project)
    await runtime.start()
    try:
        try:
            config = runtime.engine.config(tag)
        except KeyError:
            print(f"unknown tag {tag!r}", file=sys.stderr)
            return EXIT_FAILED
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
    connected = asyncio.Event()

    def on_link(name: str, state: LinkState, _detail: str) -> None:
        if name == connection and state is LinkState.CONNECTED:
            connected.set()

    runtime.engine.add_link_listener(on_link)
    if runtime.engine.link_states()[connection][0] is LinkState.CONNECTED:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(connected.wait(), wait_s)


def _waiting(value: TagValue | None) -> bool:
    return value is None or (value.quality is Quality.BAD and value.reason == Reason.WAITING)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _format_line(tag: str, value: TagValue | None, units: str) -> str:
    if value is None:
        return f"{tag}\t-\tbad\t-\tno value"
    shown = "" if value.value is None else f"{value.value}{' ' + units if units else ''}"
    line = f"{tag}\t{shown}\t{value.quality.label}\t{_iso(value.source_ts)}"
    return f"{line}\t{value.reason}" if value.reason else line


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
