"""The demo project end to end: embedded plant -> real Modbus TCP -> driver -> engine -> listeners.

Also the CLI as scripts use it (read, write, headless run), in subprocesses like a user would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable

import pytest

from drivers.base import LinkState
from hmi_app.check import open_project
from hmi_app.core.project.loader import demo_project_dir
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.runtime import Runtime

WATCHED = (
    "line1.filler.speed",
    "line1.counts.good",
    "line1.name",
    "line1.runtime_s",
    "line1.energy_kwh",
    "line1.capper.torque",
    "line1.filler.running",
)


async def wait_until(predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    rt = Runtime(open_project(demo_project_dir()))
    await rt.start()
    yield rt
    await rt.stop()


def good(rt: Runtime, tag: str) -> bool:
    value = rt.engine.current(tag)
    return value is not None and value.quality is Quality.GOOD


async def test_demo_values_arrive_decoded_and_scaled(runtime: Runtime) -> None:
    for tag in WATCHED:
        runtime.engine.subscribe(tag, lambda _v: None)
    await wait_until(lambda: all(good(runtime, t) for t in WATCHED))
    value = lambda t: runtime.engine.current(t).value  # noqa: E731
    assert value("line1.name") == "LINE 1 BOTTLING"
    assert 0 <= value("line1.capper.torque") <= 10  # int16 raw 0..100 scaled to 0..10
    assert isinstance(value("line1.counts.good"), int)
    first = value("line1.counts.good")
    await wait_until(lambda: value("line1.counts.good") > first)  # the line produces
    assert runtime.engine.link_states()["line1_plc"][0] is LinkState.CONNECTED


async def test_write_setpoint_and_refusals(runtime: Runtime) -> None:
    runtime.engine.subscribe("line1.filler.speed_sp", lambda _v: None)
    await wait_until(lambda: good(runtime, "line1.filler.speed_sp"))
    await runtime.engine.write("line1.filler.speed_sp", 240, user="test")
    await wait_until(lambda: runtime.engine.current("line1.filler.speed_sp").value == 240.0)
    with pytest.raises(WriteRefused, match=r"outside the limits 0\.\.600"):
        await runtime.engine.write("line1.filler.speed_sp", 900)
    with pytest.raises(WriteRefused, match="read-only"):
        await runtime.engine.write("line1.counts.good", 0)
    assert runtime.engine.current("line1.filler.speed_sp").value == 240.0


async def test_server_loss_turns_tags_bad_within_one_scan_and_recovers(runtime: Runtime) -> None:
    seen: list[TagValue] = []
    runtime.engine.subscribe("line1.filler.level", seen.append)
    await wait_until(lambda: good(runtime, "line1.filler.level"))
    plant = runtime.plants["bottling_line"]
    lost_at = time.monotonic()
    await plant.stop_server()
    await wait_until(lambda: runtime.engine.current("line1.filler.level").quality is Quality.BAD)
    scan_s = runtime.project.model.scan_classes["fast"] / 1000
    assert time.monotonic() - lost_at < scan_s + 0.5  # one scan period, plus test latency
    bad = runtime.engine.current("line1.filler.level")
    assert bad.reason.startswith("comm failure") and bad.value is not None  # last value kept
    await plant.restart_server()
    await wait_until(lambda: good(runtime, "line1.filler.level"), 15)
    qualities = [v.quality for v in seen]
    assert qualities[-1] is Quality.GOOD and Quality.BAD in qualities


def hmi(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hmi_app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_cli_read_prints_good_values() -> None:
    result = hmi("read", "demo", "line1.filler.temperature", "line1.work_order", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["tag"] for r in records] == ["line1.filler.temperature", "line1.work_order"]
    assert all(r["quality"] == "good" for r in records)
    assert records[0]["units"] == "°C" and isinstance(records[0]["value"], float)
    assert records[1]["value"] == "WO-1001"
    plain = hmi("read", "demo", "line1.state")
    assert plain.returncode == 0 and plain.stdout.startswith("line1.state\t")
    assert "\tgood\t" in plain.stdout


def test_cli_write_checks_limits_and_unknown_tags() -> None:
    refused = hmi("write", "demo", "line1.filler.speed_sp", "900")
    assert refused.returncode == 1
    assert "outside the limits 0..600" in refused.stderr and "Traceback" not in refused.stderr
    done = hmi("write", "demo", "line1.filler.speed_sp", "450")
    assert done.returncode == 0, done.stderr
    unknown = hmi("read", "demo", "no.such.tag")
    assert unknown.returncode == 1 and "unknown tag" in unknown.stderr


def test_headless_run_stops_cleanly_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hmi_app", "run", "demo", "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert "headless" in proc.stdout.readline()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    timed = hmi("run", "demo", "--headless", "--for", "1")
    assert timed.returncode == 0 and "stopped" in timed.stdout
