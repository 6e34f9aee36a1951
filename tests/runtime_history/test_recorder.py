"""The recorder on a real tag engine and a real history file: what is stored, and when.

Memory tags of a real ``TagEngine`` are written and published like services and operators do;
the recorder's own subscriptions decide what goes into the file (deadband, maximum interval,
quality changes, bool as 0/1) and hand it over in batches.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import Quality
from hmi_app.runtime.engine import TagEngine
from hmi_app.runtime.historian import Historian, HistorianSettings
from hmi_app.runtime.historian_recorder import Recorder, record_specs
from tests.support.waiting import wait_until

MODEL = ProjectModel.model_validate(
    {
        "schema_version": 1,
        "project": {"name": "recorder test"},
        "tags": [
            {
                "name": "a",
                "type": "float64",
                "access": "read_write",
                "initial": 10.0,
                "history": {"deadband": 1.0, "max_interval": 1.0},
            },
            {
                "name": "flag",
                "type": "bool",
                "access": "read_write",
                "initial": False,
                "history": True,
            },
            {"name": "n", "type": "int32", "access": "read_write", "initial": 0, "history": True},
            {"name": "text", "type": "string", "length": 8, "access": "read_write"},
            {"name": "idle", "type": "float64", "access": "read_write"},
        ],
    }
)
SETTINGS = HistorianSettings(default_deadband=0.0, default_max_interval=1000.0)


async def open_recorder(path: Path, **options: float) -> tuple[TagEngine, Historian, Recorder]:
    engine = TagEngine(MODEL)
    historian = await Historian.open(path, SETTINGS)
    recorder = Recorder(engine, historian, record_specs(MODEL, SETTINGS), **options)  # type: ignore[arg-type]
    recorder.start()
    return engine, historian, recorder


def test_specs_follow_the_project() -> None:
    specs = {spec.tag: spec for spec in record_specs(MODEL, SETTINGS)}
    assert sorted(specs) == ["a", "flag", "n"]
    assert (specs["a"].deadband, specs["a"].max_interval) == (1.0, 1.0)
    assert (specs["n"].deadband, specs["n"].max_interval) == (0.0, 1000.0)


async def test_deadband_max_interval_bool_and_quality(tmp_path: Path) -> None:
    engine, historian, recorder = await open_recorder(tmp_path / "h.sqlite", batch_interval=0.05)
    try:
        began = time.time()
        for value in (10.5, 11.2, 11.0, 10.4, 9.9):  # stored: 11.2 (+1.2), 9.9 (-1.3 from 11.2)
            await engine.write("a", value)
        await engine.write("flag", True)
        await engine.write("flag", False)
        await engine.write("n", 7)
        await recorder.flush()
        a = await historian.raw("a", began - 60, time.time() + 1)
        assert a.value.tolist() == [10.0, 11.2, 9.9]
        assert a.quality.tolist() == [0, 0, 0]
        assert np.all(np.diff(a.ts) > 0)
        flag = await historian.raw("flag", began - 60, time.time() + 1)
        assert flag.value.tolist() == [0.0, 1.0, 0.0]
        assert (await historian.raw("n", began - 60, time.time() + 1)).value.tolist() == [0.0, 7.0]

        # a quality change is stored even within the deadband, a bad value as no value
        engine.publish("a", 9.9, Quality.UNCERTAIN, "manual")
        engine.publish("a", 9.95, Quality.STALE, "no update")
        engine.publish("a", None, Quality.BAD, "sensor broken")
        engine.publish("a", 10.1, Quality.GOOD)
        await recorder.flush()
        a = await historian.raw("a", began - 60, time.time() + 1)
        assert a.quality.tolist() == [0, 0, 0, 1, 2, 3, 0]
        assert np.isnan(a.value[5]) and a.value[6] == 10.1

        # unchanged for max_interval (1 s): the latest value again, stamped with the time
        await engine.write("a", 10.6)  # within the deadband of 10.1: not stored, but latest
        quiet = time.time()
        await wait_until(lambda: recorder.rows_stored >= 14, 8, "max-interval samples")
        await recorder.flush()
        a = await historian.raw("a", quiet, time.time() + 1)
        assert len(a) >= 1 and set(a.value.tolist()) == {10.6}
        gaps = np.diff(np.concatenate([[quiet], a.ts]))
        assert gaps[0] >= 0.99 and np.all(gaps < 1.0 + 0.5)
        # flag and n never reach their 1000 s interval: nothing more for them
        assert len(await historian.raw("flag", began - 60, time.time() + 1)) == 3
    finally:
        await recorder.stop()
        await historian.close()


async def test_samples_are_batched_not_one_transaction_each(tmp_path: Path) -> None:
    engine, historian, recorder = await open_recorder(tmp_path / "h.sqlite", batch_interval=0.3)
    try:
        await recorder.flush()
        before = historian.db.transactions
        for i in range(2_000):
            await engine.write("n", i + 1)
        await recorder.flush()
        assert historian.db.transactions - before <= 2
        n = await historian.raw("n", 0, time.time() + 1)
        assert n.value.tolist() == [float(i) for i in range(2_001)]
    finally:
        await recorder.stop()
        await historian.close()


async def test_stop_stores_what_is_waiting_and_flush_covers_the_recorder(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    engine, historian, recorder = await open_recorder(path, batch_interval=60.0)
    await engine.write("n", 42)
    await historian.flush()  # the historian's flush hands over the recorder's rows first
    assert (await historian.raw("n", 0, time.time() + 1)).value.tolist() == [0.0, 42.0]
    await engine.write("n", 43)
    assert recorder.pending() == 1
    await recorder.stop()
    await historian.close()
    again = await Historian.open(path, readonly=True)
    try:
        assert (await again.raw("n", 0, time.time() + 1)).value.tolist() == [0.0, 42.0, 43.0]
        assert again.history_tags() == ["a", "flag", "n"]
    finally:
        await again.close()


@pytest.mark.parametrize("value", [float("nan"), "text"])
async def test_not_a_number_is_stored_as_no_value(tmp_path: Path, value: object) -> None:
    engine, historian, recorder = await open_recorder(tmp_path / "h.sqlite", batch_interval=60.0)
    try:
        engine.publish("a", value, Quality.GOOD)
        await historian.flush()
        a = await historian.raw("a", 0, time.time() + 1)
        assert a.value[0] == 10.0 and np.isnan(a.value[-1]) and len(a) == 2
    finally:
        await recorder.stop()
        await historian.close()
