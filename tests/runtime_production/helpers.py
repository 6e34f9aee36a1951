"""Shared pieces of the production tests: the demo runtime, its file drop, a shifted clock."""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from hmi_app.check import open_project
from hmi_app.core.project.loader import demo_project_dir
from hmi_app.core.project.production_model import project_data_dir
from hmi_app.plant.bottling_plant import BottlingLinePlant
from hmi_app.runtime.runtime import Runtime
from hmi_app.runtime.shifts import local_zone
from tests.support.waiting import wait_until

DEMO_NAME = "Demo bottling plant"
EMBEDDED = "simulated_plant: bottling_line     # host and port come from the embedded server"


def drop_folder() -> Path:
    """Where the demo's file drop writes (its data folder under HMI_APP_DATA_DIR)."""
    return project_data_dir(DEMO_NAME) / "drop"


def dropped() -> list[dict[str, Any]]:
    """Every record in the demo's file drop (JSON Lines files), in file order."""
    records: list[dict[str, Any]] = []
    folder = drop_folder()
    if not folder.exists():
        return records
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def counts(counter: str = "good") -> list[dict[str, Any]]:
    """The dropped count records of ``counter``, by booking number."""
    rows = [
        r["payload"]
        for r in dropped()
        if r["kind"] == "count" and r["payload"]["counter"] == counter
    ]
    return sorted(rows, key=lambda p: p["booking"])


def clock_at(hour: int, minute: int, second: int = 0) -> Callable[[], float]:
    """A clock running at real speed that reads ``hh:mm:ss`` local time (tomorrow) right now."""
    tz = local_zone()
    target = (datetime.now(tz) + timedelta(days=1)).replace(
        hour=hour, minute=minute, second=second, microsecond=0
    )
    offset = target.timestamp() - time.time()
    return lambda: time.time() + offset


def demo_plant(runtime: Runtime) -> BottlingLinePlant:
    return cast(BottlingLinePlant, runtime.plants["bottling_line"])


def demo_with_external_plant(folder: Path, port: int) -> Path:
    """A copy of the demo project whose PLC is a plant the test runs (it outlives runtimes)."""
    shutil.copytree(demo_project_dir(), folder)
    project_file = folder / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    assert EMBEDDED in text
    project_file.write_text(
        text.replace(EMBEDDED, f"host: 127.0.0.1\n    port: {port}"), encoding="utf-8"
    )
    return folder


async def stop_line_and_settle(runtime: Runtime, plant: BottlingLinePlant) -> int:
    """Stop the line, wait until its good counter stands still and every good count is booked
    and dropped; the PLC's final good count."""
    plant.model.stop()
    await wait_until(lambda: plant.model.filler_speed == 0.0, 15, "the filler to stand still")
    final = plant.model.good_count
    await wait_until(
        lambda: bool(counts()) and counts()[-1]["to_value"] == final,
        20,
        f"the good count {final} booked into the file drop",
    )
    assert runtime.production is not None
    await runtime.production.flush()
    return final


def chain_checked(rows: list[dict[str, Any]]) -> int:
    """Assert the bookings follow each other (each starts where the last ended, amounts are
    the differences); the sum of the amounts."""
    for before, after in itertools.pairwise(rows):
        assert after["booking"] == before["booking"] + 1, (before, after)
        assert after["from_value"] == before["to_value"], (before, after)
    for row in rows:
        assert not row["wrap"] and not row["reset"], row
        assert row["amount"] == row["to_value"] - row["from_value"], row
    return sum(row["amount"] for row in rows)


def open_demo(folder: Path | None = None, production: bool = True, **kwargs: Any) -> Runtime:
    """The demo (or ``folder``) on a runtime that counts (unless ``production`` is False)."""
    return Runtime(open_project(folder or demo_project_dir()), production=production, **kwargs)


def demo_without_production(folder: Path) -> Path:
    """A copy of the demo project without its production and sync_targets sections."""
    shutil.copytree(demo_project_dir(), folder)
    project_file = folder / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    cut = text.index("\nproduction:")
    project_file.write_text(text[:cut] + "\n", encoding="utf-8")
    assert "sync_targets" not in project_file.read_text(encoding="utf-8")
    return folder


def databases_in(folder: Path) -> list[Path]:
    """The SQLite files under ``folder`` (none if it does not exist)."""
    return list(folder.rglob("*.sqlite")) if folder.exists() else []
