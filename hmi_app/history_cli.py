"""``hmi-app history PROJECT TAG``: a tag's stored history as a table or CSV, for scripts.

Reads the project's history file read-only, so it works while the app records (WAL). Times
are ISO 8601 (local time unless they carry a zone: ``2026-11-20T08:00``, ``...Z``,
``...+01:00``), ``now``, or relative to now (``-30m``, ``-1h``, ``-7d``; s, m, h, d, w). Without
``--buckets`` it prints every stored sample; with ``--buckets N`` the range is cut into N equal
buckets reduced by the historian (count, min, max, avg, first, last, worst quality).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import math
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hmi_app.core.history import BucketSeries, RawSeries
    from hmi_app.core.project.loader import Project

EXIT_OK, EXIT_ERROR = 0, 2
_RELATIVE = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class UsageError(Exception):
    """The command cannot run as asked; the message is the one line to print."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], project_help: str) -> None:
    """The ``history`` command's arguments."""
    history = sub.add_parser(
        "history",
        help="print a tag's stored history (samples, or buckets) as a table or CSV",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    history.add_argument("project", metavar="PROJECT", help=project_help)
    history.add_argument("tag", metavar="TAG", help="a tag marked history: in the project")
    history.add_argument(
        "--from", dest="start", default="-1h", metavar="T", help="start (default -1h)"
    )
    history.add_argument("--to", dest="end", default="now", metavar="T", help="end (default now)")
    history.add_argument(
        "--buckets", type=_positive, metavar="N", help="cut the range into N buckets"
    )
    history.add_argument("--limit", type=_positive, metavar="N", help="at most N samples")
    history.add_argument("--csv", action="store_true", help="CSV instead of a table")


def join_time_options(argv: Sequence[str]) -> list[str]:
    """``--from -1h`` as ``--from=-1h``: argparse takes ``-1h`` for an option of its own."""
    joined: list[str] = []
    items = iter(argv)
    for item in items:
        if item in ("--from", "--to"):
            value = next(items, None)
            joined.append(item if value is None else f"{item}={value}")
        else:
            joined.append(item)
    return joined


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not a positive number")
    return number


def parse_time(text: str, now: float, what: str = "time") -> float:
    """POSIX seconds of ``text``: ISO 8601 (local time without a zone), ``now`` or ``-30m``."""
    text = text.strip()
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text.lower())
    if relative:
        return now - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{what} {text!r} is not a time: use ISO 8601 (2026-11-20T08:00, local time unless "
            "it ends in Z or +01:00), now, or -30m, -1h, -7d"
        ) from None
    return moment.astimezone().timestamp()  # a naive time is taken as local time


def local_iso(ts: float) -> str:
    """``ts`` as local ISO 8601 with its UTC offset, to the millisecond."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def run(args: argparse.Namespace, project: Project) -> int:
    """The ``history`` command; errors as one line on stderr and exit code 2."""
    try:
        text = asyncio.run(_query(args, project, time.time()))
    except UsageError as exc:
        print(f"hmi-app history: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(text)
    return EXIT_OK


async def _query(args: argparse.Namespace, project: Project, now: float) -> str:
    from hmi_app.core.history import HistoryError
    from hmi_app.core.project.production_model import project_data_dir
    from hmi_app.runtime.historian import Historian, StoreError

    start = parse_time(args.start, now, "--from")
    end = parse_time(args.end, now, "--to")
    if end <= start:
        raise UsageError(f"--from {local_iso(start)} is not before --to {local_iso(end)}")
    model = project.model
    path = model.historian.file_path(project_data_dir(model.project.name))
    marked = [tag.name for tag in model.tags if tag.history is not False]
    if not path.exists():
        hint = (
            "the runtime records the tags marked history: while it runs"
            if marked
            else "no tag of the project is marked history: (e.g. history: true)"
        )
        raise UsageError(f"no history file yet: {path} does not exist ({hint})")
    try:
        historian = await Historian.open(path, readonly=True)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    try:
        recorded = await historian.refresh_tags()
        if args.tag not in recorded:
            raise UsageError(_unknown_tag(args.tag, recorded, marked, path))
        config = next((tag for tag in model.runtime_tags if tag.name == args.tag), None)
        fmt = (config.format, config.units) if config is not None else ("", "")
        if args.buckets:
            series = await historian.buckets(args.tag, start, end, args.buckets)
            return _buckets_csv(series) if args.csv else _buckets_table(series, fmt)
        raw = await historian.raw(args.tag, start, end, args.limit)
        return _raw_csv(raw) if args.csv else _raw_table(raw, start, end, fmt)
    except HistoryError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        await historian.close()


def _unknown_tag(tag: str, recorded: Sequence[str], marked: Sequence[str], path: Path) -> str:
    why = "is marked history: but has no sample yet" if tag in marked else "is not recorded"
    known = ", ".join(recorded) if recorded else "none"
    return f"tag {tag!r} {why} in {path}; recorded tags: {known}"


def _number(value: float, empty: str, fmt: str = "") -> str:
    """``value`` for a CSV cell (full precision), or in the tag's display format for a table."""
    if math.isnan(value):
        return empty
    if fmt:
        try:
            return format(int(value) if value.is_integer() else value, fmt)
        except ValueError:  # an integer format for a fraction: shown in full below
            pass
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _quality(code: int) -> str:
    from hmi_app.core.quality import Quality

    return Quality(int(code)).label


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def _raw_rows(series: RawSeries, empty: str, fmt: str = "") -> list[list[str]]:
    return [
        [local_iso(ts), _number(value, empty, fmt), _quality(q)]
        for ts, value, q in zip(
            series.ts.tolist(), series.value.tolist(), series.quality.tolist(), strict=True
        )
    ]


def _raw_csv(series: RawSeries) -> str:
    return _csv(["time", "value", "quality"], _raw_rows(series, ""))


def _value_header(name: str, units: str) -> str:
    return f"{name} ({units})" if units else name


def _raw_table(series: RawSeries, start: float, end: float, fmt: tuple[str, str]) -> str:
    if not len(series):
        return f"no samples of {series.tag} from {local_iso(start)} to {local_iso(end)}\n"
    header = ["time", _value_header("value", fmt[1]), "quality"]
    return _table(header, _raw_rows(series, "-", fmt[0]))


_BUCKET_HEADER = ["start", "count", "min", "max", "avg", "first", "last", "worst"]


def _bucket_rows(series: BucketSeries, empty: str, fmt: str = "") -> list[list[str]]:
    rows = []
    for i, start in enumerate(series.bucket_starts().tolist()):
        count = int(series.count[i])
        rows.append(
            [
                local_iso(start),
                str(count),
                *(
                    _number(float(column[i]), empty, fmt)
                    for column in (series.min, series.max, series.avg, series.first, series.last)
                ),
                _quality(int(series.worst[i])) if count else empty,
            ]
        )
    return rows


def _buckets_csv(series: BucketSeries) -> str:
    return _csv(_BUCKET_HEADER, _bucket_rows(series, ""))


def _buckets_table(series: BucketSeries, fmt: tuple[str, str]) -> str:
    header = [
        *_BUCKET_HEADER[:2],
        *(_value_header(h, fmt[1]) for h in _BUCKET_HEADER[2:7]),
        "worst",
    ]
    return _table(header, _bucket_rows(series, "-", fmt[0]))
