"""File drop: per-shift CSV and JSON Lines, every batch atomic, no key twice after a re-send."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
import time
from pathlib import Path

import pytest

from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks import TransientSinkError, create_sink
from hmi_app.runtime.sinks.file import FileSink

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


def count(i: int, shift: str = "A", start: str = "2026-09-21T06:00:00+02:00") -> OutboxRecord:
    return OutboxRecord(
        key=f"line1/good/{i}",
        kind="count",
        created=T0 + i,
        payload={
            "line": "line1",
            "shift": shift,
            "shift_start": start,
            "counter": "good",
            "delta": i % 7,
            "order": {"id": "WO-17", "product": "0.5 l PET"},
            "recovered": False,
        },
    )


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert all(len(row) == len(header) for row in rows), "a row with the wrong number of cells"
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the file ends in a half line"
    return [json.loads(line) for line in text.splitlines()]


async def test_batches_land_in_csv_and_jsonl_of_their_shift(tmp_path: Path) -> None:
    sink = create_sink("erp", {"kind": "file", "folder": "drop"}, tmp_path)
    try:
        assert await sink.send([count(i) for i in range(3)]) == {}
        assert await sink.send([count(i) for i in range(3, 5)]) == {}
        assert await sink.send([count(5, shift="B", start="2026-09-21T14:00:00+02:00")]) == {}
    finally:
        await sink.close()
    drop = tmp_path / "drop"
    assert sorted(p.name for p in drop.iterdir()) == [
        "erp_2026-09-21_A.csv",
        "erp_2026-09-21_A.jsonl",
        "erp_2026-09-21_B.csv",
        "erp_2026-09-21_B.jsonl",
    ]
    header, rows = read_csv(drop / "erp_2026-09-21_A.csv")
    assert header == [
        "key",
        "kind",
        "created",
        "line",
        "shift",
        "shift_start",
        "counter",
        "delta",
        "order.id",
        "order.product",
        "recovered",
    ]
    assert [r["key"] for r in rows] == [f"line1/good/{i}" for i in range(5)]
    assert rows[1]["created"] == "2026-09-21T14:13:21.000Z"
    assert rows[1]["delta"] == "1"
    assert rows[1]["order.product"] == "0.5 l PET"
    assert rows[1]["recovered"] == "false"
    lines = read_jsonl(drop / "erp_2026-09-21_A.jsonl")
    assert [line["key"] for line in lines] == [f"line1/good/{i}" for i in range(5)]
    assert lines[2] == {
        "key": "line1/good/2",
        "kind": "count",
        "created": "2026-09-21T14:13:22.000Z",
        "payload": count(2).payload,
    }
    assert [r["key"] for r in read_csv(drop / "erp_2026-09-21_B.csv")[1]] == ["line1/good/5"]


async def test_records_without_a_shift_go_to_a_file_per_utc_day(tmp_path: Path) -> None:
    sink = FileSink("plant", tmp_path, ["jsonl"])
    try:
        record = OutboxRecord("d/1", "downtime", T0, {"reason": "jam", "seconds": 42.5})
        assert await sink.send([record]) == {}
    finally:
        await sink.close()
    assert os.listdir(tmp_path) == ["plant_2026-09-21.jsonl"]


async def test_resending_a_batch_adds_no_key_twice_even_after_a_restart(tmp_path: Path) -> None:
    batch = [count(i) for i in range(10)]
    sink = FileSink("erp", tmp_path)
    try:
        await sink.send(batch)
        await sink.send(batch[5:])  # the confirmation was lost: the outbox sends again
        await sink.send([*batch[8:], count(10)])
    finally:
        await sink.close()
    # a crash after the files were replaced: a new process sends the same batch again
    again = FileSink("erp", tmp_path)
    try:
        await again.send([*batch, count(11)])
    finally:
        await again.close()
    keys = [f"line1/good/{i}" for i in range(12)]
    assert [r["key"] for r in read_csv(tmp_path / "erp_2026-09-21_A.csv")[1]] == keys
    assert [line["key"] for line in read_jsonl(tmp_path / "erp_2026-09-21_A.jsonl")] == keys


async def test_a_file_taken_away_by_the_importer_starts_again_with_a_header(tmp_path: Path) -> None:
    sink = FileSink("erp", tmp_path, ["csv"])
    try:
        await sink.send([count(0), count(1)])
        (tmp_path / "erp_2026-09-21_A.csv").rename(tmp_path / "imported.csv")
        await sink.send([count(2)])
    finally:
        await sink.close()
    header, rows = read_csv(tmp_path / "erp_2026-09-21_A.csv")
    assert header[:3] == ["key", "kind", "created"]
    assert [r["key"] for r in rows] == ["line1/good/2"]


async def test_a_new_payload_field_widens_the_csv_keeping_the_column_order(tmp_path: Path) -> None:
    sink = FileSink("erp", tmp_path, ["csv"])
    try:
        await sink.send([OutboxRecord("a", "count", T0, {"shift": "A", "delta": 3})])
        await sink.send([OutboxRecord("b", "downtime", T0, {"shift": "A", "reason": "jam"})])
        await sink.send([OutboxRecord("c", "count", T0, {"delta": 4, "shift": "A"})])
    finally:
        await sink.close()
    header, rows = read_csv(tmp_path / "erp_2026-09-21_A.csv")
    assert header == ["key", "kind", "created", "shift", "delta", "reason"]
    assert [(r["key"], r["delta"], r["reason"]) for r in rows] == [
        ("a", "3", ""),
        ("b", "", "jam"),
        ("c", "4", ""),
    ]


async def test_readers_taking_whole_lines_never_see_a_broken_record(tmp_path: Path) -> None:
    """A reader polling the files while 200 batches are written, taking the complete lines
    (ending in a newline) as an importer of a growing file does, always reads valid records,
    in order, each once."""
    sink = FileSink("erp", tmp_path)
    csv_path = tmp_path / "erp_2026-09-21_A.csv"
    jsonl_path = tmp_path / "erp_2026-09-21_A.jsonl"
    stop = threading.Event()
    seen: list[int] = []
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for path in (csv_path, jsonl_path):
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                whole = data[: data.rfind(b"\n") + 1]
                if path is jsonl_path:
                    keys = [json.loads(line)["key"] for line in whole.decode().splitlines()]
                    if keys != [f"line1/good/{n}" for n in range(len(keys))]:
                        problems.append(f"{len(keys)} lines, not the records in order")
                    seen.append(len(keys))
                else:
                    rows = list(csv.reader(io.StringIO(whole.decode())))
                    if rows and rows[0][:3] != ["key", "kind", "created"]:
                        problems.append(f"csv header {rows[0][:3]}")
            time.sleep(0.002)  # an importer polls; a tight loop would only starve the writer

    thread = threading.Thread(target=reader, name="file-sink-test-reader")
    thread.start()
    try:
        for b in range(200):
            await sink.send([count(b * 5 + i) for i in range(5)])
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 5)
        await sink.close()
    assert problems == []
    assert len(seen) > 10 and seen == sorted(seen)
    assert len(read_jsonl(jsonl_path)) == 1000
    assert len(read_csv(csv_path)[1]) == 1000
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


async def test_a_half_line_left_by_a_power_cut_is_cut_and_the_batch_lands_once(
    tmp_path: Path,
) -> None:
    sink = FileSink("erp", tmp_path, ["jsonl"])
    try:
        await sink.send([count(0)])
    finally:
        await sink.close()
    path = tmp_path / "erp_2026-09-21_A.jsonl"
    with path.open("ab") as torn:  # the unconfirmed batch [1, 2] cut off mid-line
        torn.write(b'{"key":"line1/good/1","kind":"count"}\n{"key":"line1/go')
    again = FileSink("erp", tmp_path, ["jsonl"])
    try:
        await again.send([count(1), count(2)])  # the outbox sends it again
    finally:
        await again.close()
    lines = read_jsonl(path)
    assert [line["key"] for line in lines] == ["line1/good/0", "line1/good/1", "line1/good/2"]


async def test_a_crash_mid_write_leaves_the_old_file_and_its_temp_is_cleared(
    tmp_path: Path,
) -> None:
    sink = FileSink("erp", tmp_path, ["jsonl"])
    try:
        await sink.send([count(0)])
    finally:
        await sink.close()
    # what a crash between writing the temporary file and the replace leaves behind
    torn = tmp_path / ".erp_2026-09-21_A.jsonl.abc123.tmp"
    torn.write_bytes(b'{"key":"line1/good/0"}\n{"key":"line1/go')
    again = FileSink("erp", tmp_path, ["jsonl"])
    try:
        await again.send([count(0), count(1)])
    finally:
        await again.close()
    assert not torn.exists()
    lines = read_jsonl(tmp_path / "erp_2026-09-21_A.jsonl")
    assert [line["key"] for line in lines] == ["line1/good/0", "line1/good/1"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions")
async def test_an_unwritable_folder_is_a_transient_error_naming_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    sink = FileSink("erp", folder)
    try:
        await sink.send([count(0)])
        folder.chmod(0o555)
        with pytest.raises(TransientSinkError) as caught:
            await sink.send([count(1)])
        assert str(folder / "erp_2026-09-21_A.csv") in str(caught.value)
        assert "Permission denied" in str(caught.value)
        folder.chmod(0o755)
        assert await sink.send([count(1)]) == {}  # the same batch again, now it goes
    finally:
        folder.chmod(0o755)
        await sink.close()
    assert [r["key"] for r in read_csv(folder / "erp_2026-09-21_A.csv")[1]] == [
        "line1/good/0",
        "line1/good/1",
    ]


async def test_a_write_that_fails_is_a_transient_error_and_the_batch_goes_later(
    tmp_path: Path,
) -> None:
    """Whatever the OS refuses (here: a folder squats on the file's name) names the file."""
    sink = FileSink("erp", tmp_path)
    blocker = tmp_path / "erp_2026-09-21_A.jsonl"
    try:
        await sink.send([count(0)])
        blocker.unlink()
        blocker.mkdir()
        with pytest.raises(TransientSinkError) as caught:
            await sink.send([count(1)])
        assert f"cannot write {blocker}: Is a directory" == str(caught.value)
        blocker.rmdir()
        assert await sink.send([count(1)]) == {}
    finally:
        await sink.close()
    assert [r["key"] for r in read_csv(tmp_path / "erp_2026-09-21_A.csv")[1]] == [
        "line1/good/0",
        "line1/good/1",
    ]
    assert [line["key"] for line in read_jsonl(blocker)] == ["line1/good/1"]


async def test_a_payload_that_is_not_json_is_rejected_and_the_rest_written(tmp_path: Path) -> None:
    sink = FileSink("erp", tmp_path, ["jsonl"])
    try:
        bad = OutboxRecord("bad", "count", T0, {"shift": "A", "delta": float("nan")})
        rejected = await sink.send([count(0), bad, count(1)])
    finally:
        await sink.close()
    assert list(rejected) == ["bad"]
    lines = read_jsonl(tmp_path / "erp_2026-09-21_A.jsonl")
    assert [line["key"] for line in lines] == ["line1/good/0", "line1/good/1"]
