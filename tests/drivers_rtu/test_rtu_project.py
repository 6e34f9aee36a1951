"""A project with two Modbus RTU devices on one serial port, end to end: project.yaml ->
loader -> registry -> driver -> tag engine (scaling, limits, writes), and the serial link pulled
and plugged back in while the runtime runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drivers.base import LinkState
from drivers.modbus.codec import encode
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import load_project
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.runtime import Runtime

if TYPE_CHECKING:  # fixture types, from tests/drivers_rtu/conftest.py
    from conftest import RtuServer

    from tests.support.serial_rtu import SerialPair

PROJECT = """\
schema_version: 1
project: {{name: RTU plant, plant: Plant A, line: Line 1}}
scan_classes: {{fast: 100, normal: 1000, slow: 10000}}
connections:
  meter: {{driver: modbus-rtu, port: {port}, baudrate: 115200, parity: N, unit_id: 1}}
  drive: {{driver: modbus-rtu, port: {port}, baudrate: 115200, parity: N, unit_id: 2}}
tags:
  - {{name: meter.power, connection: meter, address: IR0, type: float32, units: kW, scan: fast}}
  - name: drive.speed_sp
    connection: drive
    address: HR10
    type: uint16
    scaling: {{raw_min: 0, raw_max: 10000, eu_min: 0, eu_max: 50}}
    units: Hz
    access: read_write
    limits: {{min: 0, max: 50}}
    scan: fast
  - {{name: drive.running, connection: drive, address: CO0, type: bool, scan: fast}}
screens: []
"""


async def wait_until(predicate: Callable[[], bool], limit_s: float = 5.0) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < limit_s, "condition not met in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_two_rtu_devices_in_a_project(
    tmp_path: Path, serial_pair: SerialPair, rtu_server: RtuServer
) -> None:
    rtu_server.units[1].ir.values[0:2] = encode(12.5, DataType.FLOAT32)
    rtu_server.units[2].hr.values[10] = 5000  # 25 Hz
    rtu_server.units[2].co.values[0] = True
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT.format(port=serial_pair.b), encoding="utf-8")
    runtime = Runtime(load_project(folder))
    await runtime.start()
    try:
        engine = runtime.engine
        tags = ("meter.power", "drive.speed_sp", "drive.running")
        for tag in tags:
            engine.subscribe(tag, lambda _v: None)

        def quality(tag: str) -> Quality | None:
            value = engine.current(tag)
            return None if value is None else value.quality

        await wait_until(lambda: all(quality(t) is Quality.GOOD for t in tags))
        assert engine.current("meter.power").value == 12.5  # type: ignore[union-attr]
        assert engine.current("drive.speed_sp").value == 25.0  # type: ignore[union-attr]
        assert engine.current("drive.running").value is True  # type: ignore[union-attr]

        await engine.write("drive.speed_sp", 40, user="test")
        assert rtu_server.units[2].hr.values[10] == 8000
        with pytest.raises(WriteRefused, match="outside the limits"):
            await engine.write("drive.speed_sp", 60, user="test")

        serial_pair.stop()  # the USB adapter is pulled out: both devices go bad
        took = await wait_until(lambda: all(quality(t) is Quality.BAD for t in tags))
        assert took < 0.6  # at once; slack for a busy CI machine
        await rtu_server.stop()
        await wait_until(
            lambda: all(s is LinkState.DISCONNECTED for s, _ in engine.link_states().values())
        )
        await serial_pair.start_async()  # ... and plugged back in
        await rtu_server.start()
        await wait_until(lambda: all(quality(t) is Quality.GOOD for t in tags), limit_s=5.0)
        assert engine.current("drive.speed_sp").value == 40.0  # type: ignore[union-attr]
        assert {s for s, _ in engine.link_states().values()} == {LinkState.CONNECTED}
    finally:
        await runtime.stop()
