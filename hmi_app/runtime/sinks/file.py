"""File drop: one CSV and one JSON Lines file per shift in a folder, each batch written whole.

The embedded default target: an ERP/MES import job (or a person with Excel) picks the files up
from the folder. Each batch is appended in one write and fsynced before it is confirmed, so the
cost of a batch is the batch's, not the file's (copying a shift's growing file for every batch, as
the first version did, writes tens of MB per record late in a busy shift). A line is complete when
it ends with a newline: an importer reading a file while it grows takes whole lines only (the
files of finished shifts are never touched again). A power cut in the middle of a write can leave
a half line at the end; that batch was not confirmed, so it comes again, and the sink cuts the
half line off before writing to the file again. A new column in the CSV header is the exception:
that file is rewritten once, to a temporary file that is fsynced and ``os.replace``-d over it.

A crash after the write but before the outbox heard of it makes the outbox send the same batch
again. The sink keeps the keys each file already holds (read back from the file when it is first
used or was changed behind the sink's back) and skips them, so no key is ever in a file twice.

The shift of a record comes from its payload: ``shift`` (name, e.g. ``A`` or ``early``) and
``shift_start`` (ISO 8601 or POSIX seconds) give the file name ``<target>_<date of shift start>_
<shift>``; with no ``shift_start`` the UTC date of the record is used, with no ``shift`` the file
is per UTC day. CSV columns: ``key, kind, created`` (ISO 8601 UTC) then the payload's fields,
nested ones flattened with dots, in the order they first appeared; a field seen for the first time
adds a column at the end (the file is rewritten with the wider header, atomically).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hmi_app.runtime.outbox import OutboxRecord, iso_utc
from hmi_app.runtime.sinks.base import TransientSinkError

__all__ = ["FileSink", "FileSinkConfig", "json_line"]

FIXED_COLUMNS = ("key", "kind", "created")
_OPEN_FILES = 8  # shift files whose keys are kept in memory (the current shift and a few back)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_TMP_SUFFIX = ".tmp"


FileFormat = Literal["csv", "jsonl"]
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "jsonl")


log = logging.getLogger(__name__)


class FileSinkConfig(BaseModel):
    """``sync_targets: {name: {kind: file, ...}}`` settings of a file drop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["file"] = "file"
    folder: str = Field(
        default="",
        description="absolute, or relative to the runtime's data folder (default sync/<name>)",
    )
    formats: list[FileFormat] = Field(default_factory=lambda: list(FILE_FORMATS))
    timeout_s: float = Field(default=10.0, gt=0, le=600, description="not used by file drops")

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value):
            raise ValueError("name csv, jsonl or both, once each")
        return value


@dataclass
class _FileState:
    """What the sink knows of one file it writes: its keys and columns, and how it last looked."""

    keys: set[str] = field(default_factory=set)
    columns: list[str] = field(default_factory=list)  # CSV only: header as written
    stamp: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) after our last write


class FileSink:
    """Writes batches of outbox records to per-shift CSV and JSON Lines files (see module doc)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        formats: Sequence[str] = ("csv", "jsonl"),
        *,
        fsync: bool = True,
    ) -> None:
        self.name = name
        self.folder = folder
        self.csv = "csv" in formats
        self.jsonl = "jsonl" in formats
        self.fsync = fsync  # off only where losing the files on power loss does not matter
        self.prefix = _SAFE.sub("_", name)
        self.shift_field = "shift"
        self.shift_start_field = "shift_start"
        self._files: OrderedDict[Path, _FileState] = OrderedDict()
        # one writer thread: file work never runs on the event loop, and batches never overlap
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"file-sink-{name}")
        self._closed = False

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any], project_folder: Path) -> FileSink:
        """A file sink from its settings; a relative ``folder`` is inside ``project_folder``."""
        cfg = FileSinkConfig.model_validate(config)
        folder = Path(cfg.folder).expanduser() if cfg.folder else Path("sync") / name
        return cls(name, project_folder / folder, cfg.formats)

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        """Append the batch to its shift files; every record is confirmed or the call raises."""
        if self._closed:
            raise TransientSinkError(f"file sink {self.name!r} is closed")
        if not records:
            return {}
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write_batch, list(records))

    async def close(self) -> None:
        """Finish the batch being written and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        # wait for the batch in flight on the writer thread itself, then let it end: joining it
        # from the loop's default executor (a QThread pool under qasync) leaves a thread behind
        await asyncio.get_running_loop().run_in_executor(self._executor, _nothing)
        self._executor.shutdown(wait=False)

    # --- the writer thread ---------------------------------------------------------------------

    def _write_batch(self, records: list[OutboxRecord]) -> dict[str, str]:
        rejected: dict[str, str] = {}
        by_shift: dict[str, list[OutboxRecord]] = {}
        for record in records:
            try:
                stem = self._stem(record)
                json.dumps(
                    record.payload, allow_nan=False
                )  # not JSON-serialisable: no retry will change that
            except (TypeError, ValueError) as exc:
                rejected[record.key] = f"cannot be written to a file: {exc}"
                continue
            by_shift.setdefault(stem, []).append(record)
        target = self.folder
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for stem, batch in by_shift.items():
                if self.csv:
                    target = self.folder / f"{stem}.csv"
                    self._append_csv(target, batch)
                if self.jsonl:
                    target = self.folder / f"{stem}.jsonl"
                    self._append_jsonl(target, batch)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise TransientSinkError(f"cannot write {target}: {reason}") from exc
        return rejected

    def _stem(self, record: OutboxRecord) -> str:
        payload = record.payload
        shift = payload.get(self.shift_field)
        start = payload.get(self.shift_start_field)
        day = _date_of(start) if start is not None else None
        if day is None:
            day = datetime.fromtimestamp(record.created, UTC).date().isoformat()
        if shift is None or shift == "":
            return f"{self.prefix}_{day}"
        return f"{self.prefix}_{day}_{_SAFE.sub('_', str(shift))}"

    def _state(self, path: Path, load: Callable[[Path, _FileState], None]) -> _FileState:
        """The state of ``path``, read back from disk unless it is still as we left it."""
        stamp = _stamp(path)
        state = self._files.get(path)
        if state is None or state.stamp != stamp or stamp is None:
            if state is None:
                self._remove_stale_temps(path)
            if stamp is not None and _cut_torn_tail(path):
                stamp = _stamp(path)
            state = _FileState(stamp=stamp)
            if stamp is not None:
                load(path, state)
            self._files[path] = state
        self._files.move_to_end(path)
        while len(self._files) > _OPEN_FILES:
            self._files.popitem(last=False)
        return state

    def _append_jsonl(self, path: Path, batch: list[OutboxRecord]) -> None:
        state = self._state(path, _load_jsonl)
        fresh = list(_new(batch, state.keys))
        if not fresh:
            return
        text = "".join(json_line(record) + "\n" for record in fresh)
        self._append(path, state, text.encode("utf-8"))
        state.keys.update(record.key for record in fresh)

    def _append_csv(self, path: Path, batch: list[OutboxRecord]) -> None:
        state = self._state(path, _load_csv)
        fresh = list(_new(batch, state.keys))
        if not fresh:
            return
        rows = [_flat_row(record) for record in fresh]
        columns = list(state.columns) or list(FIXED_COLUMNS)
        known = set(columns)
        for row in rows:
            for column in row:
                if column not in known:
                    known.add(column)
                    columns.append(column)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        rewrite: bytes | None = None
        if columns != state.columns:
            # a new column (or a new file): the header changes, so the whole file is rewritten
            writer.writerow(columns)
            if state.columns:
                for old in _read_csv_rows(path):
                    writer.writerow(_row_in(dict(zip(state.columns, old, strict=False)), columns))
            rewrite = b""
        for row in rows:
            writer.writerow(_row_in(row, columns))
        if rewrite is None:
            self._append(path, state, buffer.getvalue().encode("utf-8"))
        else:
            self._replace(path, state, buffer.getvalue().encode("utf-8"), rewrite=rewrite)
        state.columns = columns
        state.keys.update(record.key for record in fresh)

    def _append(self, path: Path, state: _FileState, data: bytes) -> None:
        """Add ``data`` (whole lines) to the end of ``path`` in one write, then fsync.

        The cost is the batch's, not the file's (a shift's file grows to tens of MB when every
        count is a record). A power cut during the write can leave a part of the batch without
        its final newline; the batch was not confirmed, so it comes again, and ``_state`` cuts
        the torn line off before anything else is written to the file.
        """
        new = state.stamp is None
        with path.open("ab") as out:
            out.write(data)
            out.flush()
            if self.fsync:
                os.fsync(out.fileno())
        if new:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o644)
            if self.fsync:
                _fsync_dir(path.parent)
        state.stamp = _stamp(path)

    def _replace(self, path: Path, state: _FileState, tail: bytes, rewrite: bytes | None) -> None:
        """``path`` becomes its old bytes (or ``rewrite``) + ``tail``, all at once."""
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                if rewrite is None and state.stamp is not None:
                    with path.open("rb") as old:
                        shutil.copyfileobj(old, out, 1 << 20)
                elif rewrite:
                    out.write(rewrite)
                out.write(tail)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            if state.stamp is not None:
                # keep the permissions someone gave the file (mkstemp creates it 0600)
                with contextlib.suppress(OSError):
                    shutil.copymode(path, tmp)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        if self.fsync:
            _fsync_dir(path.parent)
        state.stamp = _stamp(path)

    def _remove_stale_temps(self, path: Path) -> None:
        """Temporary files a crash left behind for ``path`` (they never became the file)."""
        for stale in path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()


def _nothing() -> None:
    """A job for the writer thread that only marks the end of the queue."""


def json_line(record: OutboxRecord) -> str:
    """A record as one line of JSON: key, kind, created (ISO 8601 UTC) and the payload."""
    line = {
        "key": record.key,
        "kind": record.kind,
        "created": iso_utc(record.created),
        "payload": record.payload,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _new(batch: Iterable[OutboxRecord], present: set[str]) -> Iterable[OutboxRecord]:
    seen: set[str] = set()
    for record in batch:
        if record.key in present or record.key in seen:
            continue
        seen.add(record.key)
        yield record


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _cut_torn_tail(path: Path) -> bool:
    """Cut a last line without its newline (an append torn by a power cut); True if cut."""
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return False
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return False
        back = min(size, 1 << 20)
        f.seek(size - back)
        tail = f.read(back)
        end = tail.rfind(b"\n")
        keep = size - back + end + 1 if end >= 0 else 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    log.warning("%s: cut %d bytes of a line left half-written", path, size - keep)
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its replace is durable without this
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_jsonl(path: Path, state: _FileState) -> None:
    with path.open("r", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                key = json.loads(line)["key"]
            except (ValueError, KeyError, TypeError):
                continue  # a line someone edited by hand: keep it, it names no key of ours
            state.keys.add(str(key))


def _read_csv_rows(path: Path) -> list[list[str]]:
    with path.open("r", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[1:]


def _load_csv(path: Path, state: _FileState) -> None:
    with path.open("r", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        state.columns = header
        index = header.index("key") if "key" in header else 0
        for row in reader:
            if len(row) > index:
                state.keys.add(row[index])


def _row_in(row: dict[str, str], columns: list[str]) -> list[str]:
    return [row.get(column, "") for column in columns]


def _flat_row(record: OutboxRecord) -> dict[str, str]:
    row = {"key": record.key, "kind": record.kind, "created": iso_utc(record.created)}
    for name, value in _flatten(record.payload, ""):
        if name in FIXED_COLUMNS:
            name = f"payload.{name}"
        row[name] = value
    return row


def _flatten(value: dict[str, Any], prefix: str) -> Iterable[tuple[str, str]]:
    for name, item in value.items():
        column = f"{prefix}{name}"
        if isinstance(item, dict):
            yield from _flatten(item, column + ".")
        else:
            yield column, _cell(item)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _date_of(start: Any) -> str | None:
    """The calendar date of a shift start given as ISO 8601 text or POSIX seconds."""
    if isinstance(start, bool):
        return None
    if isinstance(start, int | float):
        return datetime.fromtimestamp(start, UTC).date().isoformat()
    if isinstance(start, str):
        try:
            return datetime.fromisoformat(start.replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            return None
    return None
