"""The Modbus RTU driver against a real pymodbus RTU server through a virtual serial pair."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pydantic
import pytest
from pymodbus.constants import ExcCodes

from drivers import registry
from drivers.base import DriverWriteError, LinkState, PointSpec
from drivers.modbus import serial_rtu
from drivers.modbus.codec import SUPPORTED, encode
from drivers.modbus.rtu import ModbusRtuDriver
from hmi_app.core.datatypes import DataType, WordOrder
from hmi_app.core.quality import Quality
from tests.support.modbus_tables import WRITE_VALUES, round_trip_points

if TYPE_CHECKING:  # fixtures' types, from tests/drivers_rtu/conftest.py
    from conftest import MakeDriver, RtuServer

    from tests.support.recording import Recorder
    from tests.support.serial_rtu import SerialPair


def modbus_tasks() -> list[str]:
    return sorted(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("modbus"))


async def test_every_type_and_order_round_trips_through_the_device(
    rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = round_trip_points(sorted(SUPPORTED))
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    for point in points[:-3]:
        await driver.write(point, WRITE_VALUES[point.data_type])
    for point in points[-3:]:
        await driver.write(point, True)

    def written() -> bool:
        return all(
            recorder.good(p.key)
            and recorder.latest[p.key].value is not False
            and recorder.latest[p.key].value != 0
            for p in points
        )

    await recorder.wait_for(written)
    unit = rtu_server.units[1]
    for point in points[:-3]:
        expected = WRITE_VALUES[point.data_type]
        assert recorder.value(point.key) == expected, point
        raw = encode(expected, point.data_type, point.byte_order, point.word_order, point.length)
        offset = int(point.address[2:])
        assert unit.hr.values[offset : offset + len(raw)] == raw, point
    assert unit.hr.values[500] == (1 << 3) | (1 << 15)
    assert unit.co.values[7] is True and recorder.value("coil") is True
    await driver.write(points[-3], False)  # a bit write leaves the other bits alone
    assert unit.hr.values[500] == 1 << 15
    assert rtu_server.units[2].hr.values[:600] == [0] * 600  # unit 2 untouched


async def test_input_tables_and_writes_use_the_right_functions(
    rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    unit = rtu_server.units[1]
    unit.ir.values[10:12] = encode(41.5, DataType.FLOAT32)
    unit.ir.values[40:42] = encode(86400, DataType.UINT32, word_order=WordOrder.LITTLE)
    unit.di.values[3] = True
    points = [
        PointSpec("speed", "IR10", DataType.FLOAT32, scan_ms=50),
        PointSpec("runtime", "IR40", DataType.UINT32, word_order=WordOrder.LITTLE, scan_ms=50),
        PointSpec("running", "DI3", DataType.BOOL, scan_ms=50),
        PointSpec("stopped", "DI4", DataType.BOOL, scan_ms=50),
    ]
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    assert recorder.value("speed") == 41.5 and recorder.value("runtime") == 86400
    assert recorder.value("running") is True and recorder.value("stopped") is False

    rtu_server.requests.clear()
    await driver.write(PointSpec("a", "HR1", DataType.INT16), -2)
    await driver.write(PointSpec("b", "HR2", DataType.FLOAT32), 1.5)
    await driver.write(PointSpec("c", "CO3", DataType.BOOL), True)
    writes = [r for r in rtu_server.requests if r[1] in (5, 6, 15, 16)]
    assert writes == [(1, 6, 1, 1), (1, 16, 2, 2), (1, 5, 3, 1)]
    assert unit.hr.values[1] == 0xFFFE
    with pytest.raises(DriverWriteError, match="IR4 is in the input registers, which are read-"):
        await driver.write(PointSpec("i", "IR4", DataType.UINT16), 1)
    with pytest.raises(DriverWriteError, match=r"40000 is out of range for int16"):
        await driver.write(PointSpec("a", "HR1", DataType.INT16), 40000)
    unit.hr.refused = {30}
    with pytest.raises(DriverWriteError, match="HR30: device exception: 2 illegal data address"):
        await driver.write(PointSpec("r", "HR30", DataType.UINT16), 1)


async def test_near_contiguous_points_are_read_in_the_fewest_requests(
    rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        PointSpec("a", "HR0", DataType.UINT16, scan_ms=40),
        PointSpec("b", "HR1", DataType.FLOAT32, scan_ms=40),
        PointSpec("c", "HR11", DataType.UINT16, scan_ms=40),  # 8 unneeded between: merged
        PointSpec("d", "HR21", DataType.UINT16, scan_ms=40),  # 9 between: a new request
        PointSpec("e", "CO0", DataType.BOOL, scan_ms=40),
        PointSpec("f", "CO33", DataType.BOOL, scan_ms=40),  # 32 between: merged
        PointSpec("g", "CO100", DataType.BOOL, scan_ms=40),
        PointSpec("h", "IR5", DataType.INT16, scan_ms=40),
        PointSpec("i", "IR5.2", DataType.BOOL, scan_ms=40),  # same register: same request
    ]
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    await asyncio.sleep(0.2)
    assert set(rtu_server.reads()) == {(3, 0, 12), (3, 21, 1), (1, 0, 34), (1, 100, 1), (4, 5, 1)}
    passes = driver.scan_stats()[40][0]
    assert len(rtu_server.reads()) <= 5 * (passes + 1)


async def test_an_exception_reply_marks_only_the_points_it_concerns(
    rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    unit = rtu_server.units[1]
    unit.hr.refused = {3, 12}
    for address in range(20):
        unit.hr.values[address] = 100 + address
    points = [PointSpec(f"hr{a}", f"HR{a}", DataType.UINT16, scan_ms=40) for a in range(7)]
    points += [
        PointSpec("hr10", "HR10", DataType.UINT16, scan_ms=40),
        PointSpec("hr14", "HR14", DataType.UINT16, scan_ms=40),
    ]  # refused HR12 in the gap
    await make_driver(points, reprobe_s=0.6)
    good = [p.key for p in points if p.key != "hr3"]
    await recorder.wait_for(lambda: recorder.good(*good) and recorder.bad("hr3"))
    assert recorder.latest["hr3"].reason == "device exception: 2 illegal data address"
    assert all(recorder.value(f"hr{a}") == 100 + a for a in (0, 1, 2, 4, 5, 6, 10, 14))
    await asyncio.sleep(0.1)
    seen = len(rtu_server.requests)
    await asyncio.sleep(0.3)
    assert set(rtu_server.reads()[seen:]) == {(3, 0, 3), (3, 4, 7), (3, 14, 1)}

    unit.hr.refused = set()  # the PLC program is fixed: the re-probe finds it
    await recorder.wait_for(lambda: recorder.good("hr3"), within=3.0)
    assert recorder.value("hr3") == 103
    await recorder.wait_for(lambda: (3, 0, 15) in rtu_server.reads(), within=3.0)


async def test_a_busy_device_fails_the_pass_and_recovers(
    rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    unit = rtu_server.units[1]
    unit.hr.refused, unit.hr.refusal = {0}, ExcCodes.DEVICE_BUSY
    points = [PointSpec(f"h{a}", f"HR{a}", DataType.UINT16, scan_ms=40) for a in range(3)]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.bad("h0", "h1", "h2"))
    assert recorder.latest["h2"].reason == "device exception: 6 server device busy"
    unit.hr.refused = set()
    await recorder.wait_for(lambda: recorder.good("h0", "h1", "h2"), within=1.0)


async def test_two_unit_ids_share_one_port(
    serial_pair: SerialPair, rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    for unit_id, tables in rtu_server.units.items():
        tables.hr.values[0:10] = [unit_id * 1000 + a for a in range(10)]
    first = await make_driver(
        [PointSpec(f"u1.hr{a}", f"HR{a}", DataType.UINT16, scan_ms=30) for a in range(0, 10, 3)],
        name="unit1",
        unit_id=1,
    )
    second = await make_driver(
        [PointSpec(f"u2.hr{a}", f"HR{a}", DataType.UINT16, scan_ms=30) for a in range(0, 10, 3)],
        name="unit2",
        unit_id=2,
        port=serial_pair.device_b(),  # the same device under another name
    )
    keys = [f"u{u}.hr{a}" for u in (1, 2) for a in range(0, 10, 3)]
    await recorder.wait_for(lambda: recorder.good(*keys))
    await asyncio.sleep(0.3)  # both scan at once, on one port
    for sample in recorder.samples:
        unit_id, address = int(sample.key[1]), int(sample.key[5:])
        assert sample.quality is Quality.GOOD and sample.value == unit_id * 1000 + address
    assert {u for u, *_ in rtu_server.requests} == {1, 2}
    bus = serial_rtu.bus_of(first.settings.port)
    assert bus is not None and bus is serial_rtu.bus_of(second.settings.port)
    assert len(bus.users) == 2 and bus.dropped_bytes == 0
    assert first.link_state is second.link_state is LinkState.CONNECTED

    # A connection on the same port with other line settings is refused, clearly.
    third = await make_driver([PointSpec("x", "HR0", DataType.UINT16)], name="odd", baudrate=9600)
    await recorder.wait_for(lambda: recorder.bad("x"))
    assert recorder.latest["x"].reason == (
        f"comm failure: cannot open {first.settings.port} at 9600 8N1: another connection uses"
        f" it at 115200 8N1; connections on one port need the same line settings"
    )
    await third.stop()

    # Stopping one unit's driver leaves the port open for the other.
    await first.stop()
    assert serial_rtu.bus_of(second.settings.port) is bus and len(bus.users) == 1
    rtu_server.units[2].hr.values[0] = 4242
    await recorder.wait_for(lambda: recorder.latest["u2.hr0"].value == 4242)
    await second.stop()
    assert not serial_rtu._BUSES and modbus_tasks() == []


async def test_a_port_that_is_not_there(recorder: Recorder, make_driver: MakeDriver) -> None:
    driver = await make_driver(
        [PointSpec("a", "HR0", DataType.UINT16, scan_ms=50)], port="/dev/ttyNOPE0"
    )
    await recorder.wait_for(lambda: recorder.bad("a"))
    assert recorder.latest["a"].reason == (
        "comm failure: cannot open /dev/ttyNOPE0: [Errno 2] No such file or directory"
    )
    await recorder.wait_for(lambda: len(recorder.links) >= 6)
    assert driver.link_state in (LinkState.CONNECTING, LinkState.DISCONNECTED)
    state, detail = recorder.links[1]
    assert state is LinkState.DISCONNECTED and "retrying in" in detail


async def test_the_serial_peer_going_away_and_coming_back(
    serial_pair: SerialPair, rtu_server: RtuServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    rtu_server.units[1].hr.values[0] = 7
    points = [
        PointSpec("a", "HR0", DataType.UINT16, scan_ms=100),
        PointSpec("b", "CO0", DataType.BOOL, scan_ms=1000),
    ]
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("a", "b"))

    serial_pair.stop()  # the adapter is unplugged: the pty hangs up
    took = await recorder.wait_for(lambda: recorder.bad("a", "b"), within=2.0)
    assert took < 0.6  # at once; bound: a scan period, slack for a busy CI machine
    assert recorder.latest["a"].reason.startswith("comm failure: serial port ")
    await rtu_server.stop()
    await recorder.wait_for(lambda: driver.link_state is LinkState.DISCONNECTED)
    with pytest.raises(DriverWriteError, match="not connected"):
        await driver.write(points[0], 1)
    await asyncio.sleep(0.4)  # a few failed re-opens
    assert "No such file or directory" in recorder.links[-1][1]

    await serial_pair.start_async()
    rtu_server.units[1].hr.values[0] = 8
    await rtu_server.start()
    await recorder.wait_for(lambda: recorder.good("a", "b"), within=3.0)
    assert recorder.value("a") == 8 and driver.link_state is LinkState.CONNECTED
    await driver.stop()
    assert modbus_tasks() == [] and not serial_rtu._BUSES
    assert recorder.links[-1][0] is LinkState.STOPPED


async def test_polling_mode_as_on_windows(
    rtu_server: RtuServer,
    recorder: Recorder,
    make_driver: MakeDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serial_rtu.SerialBus, "poll", True)
    rtu_server.units[1].hr.values[5] = 55
    driver = await make_driver([PointSpec("a", "HR5", DataType.UINT16, scan_ms=50)])
    await recorder.wait_for(lambda: recorder.good("a"))
    assert recorder.value("a") == 55
    await driver.write(PointSpec("a", "HR5", DataType.UINT16), 56)
    await recorder.wait_for(lambda: recorder.latest["a"].value == 56)
    assert any(name.startswith("modbus-rtu:") for name in modbus_tasks())
    await driver.stop()
    assert modbus_tasks() == []


async def test_settings_registry_and_browse() -> None:
    driver = registry.create("modbus-rtu", "meter", {"port": "/dev/ttyUSB0", "unit_id": 3})
    assert isinstance(driver, ModbusRtuDriver)
    s = driver.settings
    assert (s.baudrate, s.bytesize, s.parity, s.stopbits, s.timeout_ms) == (19200, 8, "E", 1, 1000)
    assert (s.max_gap_registers, s.max_block_registers, s.max_block_bits) == (8, 125, 2000)
    assert driver.target == "unit 3 on /dev/ttyUSB0 (19200 8E1)"
    assert ModbusRtuDriver.from_settings(
        "m", {"port": "COM3", "parity": "none"}
    ).settings.parity == ("N")
    for bad in (
        {},  # no port
        {"port": "COM3", "unit_id": 0},  # broadcast: no replies
        {"port": "COM3", "unit_id": 248},
        {"port": "COM3", "parity": "M"},
        {"port": "COM3", "bytesize": 7},  # that is Modbus ASCII
        {"port": "COM3", "stopbits": 3},
        {"port": "COM3", "max_in_flight": 2},  # one request at a time on a serial line
        {"port": "COM3", "host": "10.0.0.1"},
    ):
        with pytest.raises(pydantic.ValidationError):
            ModbusRtuDriver.from_settings("m", bad)
    nodes = await driver.browse()
    assert [n.address for n in nodes] == ["HR", "IR", "CO", "DI"]
    await driver.stop()  # stopping a driver never started is harmless
