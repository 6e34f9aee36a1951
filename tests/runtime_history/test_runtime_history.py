"""The runtime records history: the demo from the moment it starts, a damaged file refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hmi_app.check import open_project
from hmi_app.cli import main
from hmi_app.core.project.loader import demo_project_dir
from hmi_app.core.quality import Quality
from hmi_app.runtime.historian import Historian, HistorianSettings, StoreError
from hmi_app.runtime.historian_recorder import record_specs
from hmi_app.runtime.runtime import Runtime

DEMO_FILE = Path("demo-bottling-plant") / "history.sqlite"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(tmp_path))
    return tmp_path


async def test_demo_records_every_marked_tag_from_the_start(data_dir: Path) -> None:
    project = open_project(demo_project_dir())
    model = project.model
    recorded = sorted(
        spec.tag for spec in record_specs(model, HistorianSettings.from_config(model.historian))
    )
    assert 15 <= len(recorded) <= 30
    assert {"line1.filler.speed", "line1.state", "utilities.air_pressure"} <= set(recorded)
    runtime = Runtime(project)
    began = time.time()
    await runtime.start()
    try:
        historian = runtime.historian
        assert historian is not None and historian.path == data_dir / DEMO_FILE
        good: set[str] = set()

        async def poll() -> None:
            await historian.flush()
            for tag in recorded:
                series = await historian.raw(tag, began - 1, time.time() + 1)
                if (series.quality == 0).any():
                    good.add(tag)

        deadline = time.monotonic() + 15
        while good != set(recorded) and time.monotonic() < deadline:
            await poll()
        assert good == set(recorded)
        assert historian.history_tags() == recorded
        speed = await historian.raw("line1.filler.speed", began - 1, time.time() + 1)
        assert len(speed) >= 2  # the filler speed ramps: more than its first value
    finally:
        await runtime.stop()
    assert runtime.historian is None and runtime.recorder is None
    again = await Historian.open(data_dir / DEMO_FILE, readonly=True)
    try:
        last = await again.raw("line1.filler.speed", began - 1, time.time() + 1)
        assert last.quality[-1] == Quality.BAD  # the stop is in the history: a gap follows
        pressure = await again.raw("utilities.air_pressure", began - 1, time.time() + 1)
        assert pressure.quality[-1] == Quality.BAD and (pressure.quality[:-1] == 0).any()
    finally:
        await again.close()


async def test_one_shot_runtime_records_nothing(data_dir: Path) -> None:
    runtime = Runtime(open_project(demo_project_dir()), production=False, history=False)
    await runtime.start()
    try:
        assert runtime.historian is None
    finally:
        await runtime.stop()
    assert not (data_dir / DEMO_FILE).exists()


async def test_damaged_history_file_is_refused_by_name_and_kept(data_dir: Path) -> None:
    path = data_dir / DEMO_FILE
    path.parent.mkdir(parents=True)
    garbage = b"this is not an SQLite file\n" * 400
    path.write_bytes(garbage)
    runtime = Runtime(open_project(demo_project_dir()), production=False)
    with pytest.raises(StoreError, match=f"history file {path} is damaged or not a history file"):
        await runtime.start()
    assert runtime.historian is None and path.read_bytes() == garbage


def test_headless_run_with_a_damaged_file_says_so(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = data_dir / DEMO_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * 8192)
    assert main(["run", "demo", "--headless", "--for", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("the runtime did not start: history file") and str(path) in err[-1]


async def test_another_sqlite_file_is_not_taken_for_history(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE counts (x)")
    conn.close()
    with pytest.raises(StoreError, match="no history tables: another application's file"):
        await Historian.open(path)
    with pytest.raises(StoreError, match="no history file"):
        await Historian.open(tmp_path / "missing.sqlite", readonly=True)
