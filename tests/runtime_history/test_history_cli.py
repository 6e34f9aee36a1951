"""``hmi-app history`` as a script uses it: table and CSV of samples and buckets, and errors.

The history file is a real one in the project's data folder, written by the historian; the
command runs in-process through ``hmi_app.cli.main`` and reads it read-only.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from hmi_app.cli import main
from hmi_app.history_cli import local_iso, parse_time
from hmi_app.runtime.historian import Historian

PROJECT = """\
schema_version: 1
project: {name: History CLI plant}
tags:
  - {name: tank.level, type: float64, units: "%", format: ".1f", history: true}
  - {name: pump.running, type: bool, history: {max_interval: 10}}
  - {name: tank.note, type: string, length: 10}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    return folder


def history_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history-cli-plant" / "history.sqlite"


def fill(path: Path, rows: list[tuple[str, float, float | None, int]]) -> None:
    async def run() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        historian = await Historian.open(path)
        try:
            await historian.insert(rows)
        finally:
            await historian.close()

    asyncio.run(run())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["history", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_samples_as_csv_and_table(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    rows = [("tank.level", now - 600 + i * 60, 40.0 + i / 4, 0) for i in range(10)]
    rows[3] = ("tank.level", rows[3][1], None, 3)
    rows[4] = ("tank.level", rows[4][1], 41.0, 1)
    fill(history_file(tmp_path), rows)

    code, out, err = run(capsys, str(project), "tank.level", "--from", "-15m", "--csv")
    assert code == 0 and err == ""
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["time", "value", "quality"]
    values = ["40", "40.25", "40.5", "", "41", "41.25", "41.5", "41.75", "42", "42.25"]
    assert [r[1] for r in table[1:]] == values
    assert [r[2] for r in table[1:4]] == ["good", "good", "good"]
    assert table[4][2] == "bad" and table[5][2] == "uncertain"
    assert [datetime.fromisoformat(r[0]).timestamp() for r in table[1:]] == pytest.approx(
        [r[1] for r in rows], abs=1e-3
    )

    code, out, _ = run(capsys, str(project), "tank.level", "--from", "-15m", "--limit", "2")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["time", "value", "(%)", "quality"] and len(lines) == 3
    assert lines[1].split() == [local_iso(rows[0][1]), "40.0", "good"]  # the tag's format
    assert lines[2].split()[1] == "40.2"  # 40.25 in the CSV: full precision there

    code, out, _ = run(capsys, str(project), "tank.level", "--from", "-2h", "--to", "-1h")
    assert code == 0 and out.startswith("no samples of tank.level from ")


def test_buckets_as_csv(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime(2026, 3, 1, 8, 0).astimezone().timestamp()
    values = np.arange(120, dtype=float)
    fill(
        history_file(tmp_path),
        [
            ("tank.level", start + i * 30, float(v), 2 if i == 5 else 0)
            for i, v in enumerate(values)
        ],
    )
    code, out, err = run(
        capsys, str(project), "tank.level",
        "--from", "2026-03-01T08:00", "--to", "2026-03-01T09:30", "--buckets", "3", "--csv",
    )  # fmt: skip
    assert code == 0 and err == ""
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["start", "count", "min", "max", "avg", "first", "last", "worst"]
    assert table[1][:4] == [local_iso(start), "60", "0", "59"]
    assert float(table[1][4]) == pytest.approx((sum(range(60)) - 5) / 59)  # the stale 5 left out
    assert table[1][5:] == ["0", "59", "stale"]
    assert table[2][1:] == ["60", "60", "119", "89.5", "60", "119", "good"]
    assert table[3][1:] == ["0", "", "", "", "", "", ""]  # 09:00-09:30: no data, a gap


def test_errors_are_one_line_with_exit_code_2(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(project), "tank.level")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"hmi-app history: no history file yet: {history_file(tmp_path)} does not exist "
        "(the runtime records the tags marked history: while it runs)"
    )
    fill(history_file(tmp_path), [("tank.level", time.time() - 5, 1.0, 0)])
    code, _, err = run(capsys, str(project), "tank.note")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "tag 'tank.note' is not recorded" in err and err.strip().endswith(
        "recorded tags: tank.level"
    )
    code, _, err = run(capsys, str(project), "pump.running")
    assert code == 2 and "is marked history: but has no sample yet" in err
    code, _, err = run(capsys, str(project), "tank.level", "--from", "yesterday")
    assert code == 2 and "--from 'yesterday' is not a time" in err
    code, _, err = run(capsys, str(project), "tank.level", "--from", "-1h", "--to", "-2h")
    assert code == 2 and "is not before --to" in err
    history_file(tmp_path).unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{history_file(tmp_path)}{suffix}").unlink(missing_ok=True)
    history_file(tmp_path).write_bytes(b"garbage" * 1000)
    code, _, err = run(capsys, str(project), "tank.level")
    assert code == 2 and "is damaged or not a history file" in err
    assert str(history_file(tmp_path)) in err and len(err.strip().splitlines()) == 1


def test_check_refuses_history_on_a_string_tag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROJECT.replace("length: 10}", "length: 10, history: true}")
    (project / "project.yaml").write_text(text, encoding="utf-8")
    assert main(["check", str(project)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{project / 'project.yaml'}:6: tags[2].history: tank.note is string: history keeps "
        "numbers and bools: remove history"
    ) in err


def test_time_forms() -> None:
    now = 1_800_000_000.0
    assert parse_time("now", now) == now
    assert parse_time("-30m", now) == now - 1800
    assert parse_time("-1.5h", now) == now - 5400
    assert parse_time("-7d", now) == now - 7 * 86400
    assert parse_time("2026-01-02T03:04:05Z", now) == 1767323045.0
    assert parse_time("2026-01-02T04:04:05+01:00", now) == 1767323045.0
    local = datetime(2026, 1, 2, 3, 4, 5).astimezone().timestamp()
    assert parse_time("2026-01-02T03:04:05", now) == local
