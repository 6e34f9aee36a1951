"""The Modbus TCP driver against a real pymodbus server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pydantic
import pytest
from pymodbus.constants import ExcCodes

from drivers import registry
from drivers.base import DriverWriteError, LinkState, PointSpec
from drivers.modbus.codec import SUPPORTED, encode
from drivers.modbus.tcp import ModbusTcpDriver
from hmi_app.core.datatypes import DataType, WordOrder
from hmi_app.core.quality import Quality
from tests.support.modbus_tables import WRITE_VALUES, round_trip_points

if TYPE_CHECKING:  # fixtures' types, from tests/drivers/conftest.py
    from conftest import ModbusServer

    from tests.support.recording import Recorder

MakeDriver = Callable[..., Awaitable[ModbusTcpDriver]]


def modbus_tasks() -> list[str]:
    return sorted(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("modbus:"))


async def test_every_type_and_order_round_trips_through_the_device(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = round_trip_points(sorted(SUPPORTED))
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    for point in points[:-3]:
        await driver.write(point, WRITE_VALUES[point.data_type])
    await driver.write(points[-3], True)
    await driver.write(points[-2], True)
    await driver.write(points[-1], True)

    def written() -> bool:
        return all(
            recorder.good(p.key)
            and recorder.latest[p.key].value is not False
            and recorder.latest[p.key].value != 0
            for p in points
        )

    await recorder.wait_for(written)
    for point in points[:-3]:
        expected = WRITE_VALUES[point.data_type]
        assert recorder.value(point.key) == expected, point
        raw = encode(expected, point.data_type, point.byte_order, point.word_order, point.length)
        offset = int(point.address[2:])
        assert modbus_server.hr.values[offset : offset + len(raw)] == raw, point
    assert modbus_server.hr.values[500] == (1 << 3) | (1 << 15)
    assert recorder.value("bit3") is True and recorder.value("bit15") is True
    assert modbus_server.co.values[7] is True and recorder.value("coil") is True
    # A bit write leaves the other bits alone.
    await driver.write(points[-3], False)
    assert modbus_server.hr.values[500] == 1 << 15


async def test_input_tables_are_decoded_as_device_values_unscaled(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.ir.values[10:12] = encode(41.5, DataType.FLOAT32)
    modbus_server.ir.values[40:42] = encode(86400, DataType.UINT32, word_order=WordOrder.LITTLE)
    modbus_server.ir.values[0] = 1000  # 100.0 % after the engine's scaling, 1000 here
    modbus_server.di.values[3] = True
    points = [
        PointSpec("speed", "IR10", DataType.FLOAT32, scan_ms=50),
        PointSpec("runtime", "IR40", DataType.UINT32, word_order=WordOrder.LITTLE, scan_ms=50),
        PointSpec("raw", "IR0", DataType.UINT16, scan_ms=50),
        PointSpec("running", "di3", DataType.BOOL, scan_ms=50),
        PointSpec("stopped", "DI4", DataType.BOOL, scan_ms=50),
    ]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    assert recorder.value("speed") == 41.5
    assert recorder.value("runtime") == 86400
    assert recorder.value("raw") == 1000
    assert recorder.value("running") is True and recorder.value("stopped") is False
    sample = recorder.latest["speed"]
    assert sample.source_ts > 0 and sample.reason == ""


async def test_near_contiguous_points_are_read_in_few_requests(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
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
    reads = set(modbus_server.reads())
    assert reads == {(3, 0, 12), (3, 21, 1), (1, 0, 34), (1, 100, 1), (4, 5, 1)}
    passes = driver.scan_stats()[40][0]
    assert len(modbus_server.reads()) <= 5 * (passes + 1)


async def test_scan_classes_poll_at_their_own_period_in_named_tasks(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        PointSpec("fast", "HR0", DataType.UINT16, scan_ms=30),
        PointSpec("slow", "HR1", DataType.UINT16, scan_ms=400),  # own period: own request
    ]
    driver = await make_driver(points)
    assert modbus_tasks() == ["modbus:plc:link", "modbus:plc:scan30ms", "modbus:plc:scan400ms"]
    await recorder.wait_for(lambda: recorder.good("fast", "slow"))
    await asyncio.sleep(0.8)
    fast = modbus_server.reads().count((3, 0, 1))
    slow = modbus_server.reads().count((3, 1, 1))
    assert fast >= 10 and 2 <= slow <= 4
    assert fast > 4 * slow

    # Subscribing re-plans: a neighbour joins the fast request.
    driver.subscribe([PointSpec("near", "HR2", DataType.UINT16, scan_ms=30)])
    await recorder.wait_for(lambda: (3, 0, 3) in modbus_server.reads())
    await recorder.wait_for(lambda: recorder.good("near"))
    # Unsubscribing the slow group ends its task; its point is no longer read.
    driver.unsubscribe(["slow"])
    await asyncio.sleep(0.05)
    assert modbus_tasks() == ["modbus:plc:link", "modbus:plc:scan30ms"]
    before = modbus_server.reads().count((3, 1, 1))
    await asyncio.sleep(0.5)
    assert modbus_server.reads().count((3, 1, 1)) == before
    modbus_server.device.delay_s = 0.05
    await asyncio.sleep(0.06)
    driver.unsubscribe(["fast", "near"])  # most likely mid-request
    await driver.stop()
    assert modbus_tasks() == []


async def test_an_exception_reply_marks_only_the_points_it_concerns(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.hr.refused = {3, 12}
    for address in range(20):
        modbus_server.hr.values[address] = 100 + address
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

    # Later passes plan around the refused address and the refused gap 11..13 (the split found
    # that HR10 and HR14 read fine alone): no request touches HR3 or HR12.
    await asyncio.sleep(0.1)
    seen = len(modbus_server.requests)
    await asyncio.sleep(0.3)
    later = set(modbus_server.reads()[seen:])
    assert later == {(3, 0, 3), (3, 4, 7), (3, 14, 1)}
    assert recorder.bad("hr3")

    # The PLC program is fixed: the re-probe finds it and the plan merges again.
    modbus_server.hr.refused = set()
    await recorder.wait_for(lambda: recorder.good("hr3"), within=3.0)
    assert recorder.value("hr3") == 103
    await recorder.wait_for(lambda: (3, 0, 15) in modbus_server.reads(), within=3.0)


async def test_an_unsupported_table_marks_its_points(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.di.refused = set(range(0, 10))
    points = [
        PointSpec("d0", "DI0", DataType.BOOL, scan_ms=40),
        PointSpec("d5", "DI5", DataType.BOOL, scan_ms=40),
        PointSpec("h", "HR0", DataType.UINT16, scan_ms=40),
    ]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.bad("d0", "d5") and recorder.good("h"))
    assert recorder.latest["d5"].reason.startswith("device exception: 2")


async def test_link_loss_marks_every_point_bad_and_recovers_by_itself(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.hr.values[0] = 7
    points = [
        PointSpec("a", "HR0", DataType.UINT16, scan_ms=100),
        PointSpec("b", "CO0", DataType.BOOL, scan_ms=1000),
    ]
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("a", "b"))
    assert driver.link_state is LinkState.CONNECTED

    await modbus_server.stop()
    took = await recorder.wait_for(lambda: recorder.bad("a", "b"), within=2.0)
    assert took < 0.6  # at once (the socket closed); bound: a scan period, slack for a busy CI
    assert recorder.latest["a"].reason.startswith("comm failure: ")
    await recorder.wait_for(lambda: driver.link_state is LinkState.DISCONNECTED)
    with pytest.raises(DriverWriteError, match="not connected"):
        await driver.write(points[0], 1)

    await asyncio.sleep(0.5)  # a few failed reconnects
    assert {s for s, _ in recorder.links} >= {LinkState.CONNECTING, LinkState.DISCONNECTED}
    modbus_server.hr.values[0] = 8
    await modbus_server.start()
    await recorder.wait_for(lambda: recorder.good("a", "b"), within=3.0)
    assert recorder.value("a") == 8
    assert driver.link_state is LinkState.CONNECTED
    assert modbus_tasks() == ["modbus:plc:link", "modbus:plc:scan1000ms", "modbus:plc:scan100ms"]
    await driver.stop()
    assert modbus_tasks() == []
    assert recorder.links[-1][0] is LinkState.STOPPED


async def test_a_device_that_is_not_there(recorder: Recorder, make_driver: MakeDriver) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = await make_driver([PointSpec("a", "HR0", DataType.UINT16, scan_ms=50)], port=port)
    await recorder.wait_for(lambda: recorder.bad("a"))
    reason = recorder.latest["a"].reason
    assert reason == f"comm failure: cannot connect to 127.0.0.1:{port}: refused"
    await recorder.wait_for(lambda: len(recorder.links) >= 6)
    assert driver.link_state in (LinkState.CONNECTING, LinkState.DISCONNECTED)
    delays = [float(d.rsplit(" ", 2)[-2]) for s, d in recorder.links if s is LinkState.DISCONNECTED]
    assert delays[0] < delays[-1] <= 0.2 * 1.2 + 0.01  # backing off, up to the maximum


async def test_unchanged_blocks_are_not_published_again(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    driver = await make_driver([PointSpec("a", "HR0", DataType.UINT16, scan_ms=20)])
    await recorder.wait_for(lambda: recorder.good("a"))
    batches = len(recorder.batches)
    await asyncio.sleep(0.2)
    assert len(recorder.batches) == batches
    assert driver.scan_stats()[20][0] >= 5  # still polled
    modbus_server.hr.values[0] = 5
    await recorder.wait_for(lambda: recorder.latest["a"].value == 5)
    assert len(recorder.batches) == batches + 1


async def test_several_connections_keep_requests_in_flight(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.device.delay_s = 0.03
    points = [PointSpec(f"p{a}", f"HR{a * 20}", DataType.UINT16, scan_ms=50) for a in range(6)]
    driver = await make_driver(points, connections=3)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    assert modbus_server.device.most_in_progress == 3
    assert driver.scan_stats()[50][2] == 6
    await driver.stop()
    assert modbus_tasks() == []


async def test_writes_use_the_right_function_and_refuse_what_cannot_be_written(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    driver = await make_driver()
    await recorder.wait_for(lambda: driver.link_state is LinkState.CONNECTED)
    await driver.write(PointSpec("a", "HR1", DataType.INT16), -2)
    await driver.write(PointSpec("b", "HR2", DataType.FLOAT32), 1.5)
    await driver.write(PointSpec("c", "CO3", DataType.BOOL), True)
    writes = [r for r in modbus_server.requests if r[0] in (5, 6, 15, 16)]
    assert writes == [(6, 1, 1), (16, 2, 2), (5, 3, 1)]
    assert modbus_server.hr.values[1] == 0xFFFE

    with pytest.raises(DriverWriteError, match=r"40000 is out of range for int16"):
        await driver.write(PointSpec("a", "HR1", DataType.INT16), 40000)
    with pytest.raises(DriverWriteError, match="out of range for float32"):
        await driver.write(PointSpec("b", "HR2", DataType.FLOAT32), 1e40)
    with pytest.raises(DriverWriteError, match="at most 4 characters"):
        await driver.write(PointSpec("s", "HR9", DataType.STRING, length=4), "too long")
    with pytest.raises(DriverWriteError, match="not a bool"):
        await driver.write(PointSpec("c", "CO3", DataType.BOOL), 2)
    with pytest.raises(
        DriverWriteError, match="IR4 is in the input registers, which are read-only"
    ):
        await driver.write(PointSpec("i", "IR4", DataType.UINT16), 1)
    with pytest.raises(DriverWriteError, match="DI4 is in the discrete inputs, which are read-"):
        await driver.write(PointSpec("d", "DI4", DataType.BOOL), True)
    with pytest.raises(DriverWriteError, match="is not a Modbus address"):
        await driver.write(PointSpec("x", "XY4", DataType.BOOL), True)

    modbus_server.hr.refused = {30}
    with pytest.raises(DriverWriteError, match="HR30: device exception: 2 illegal data address"):
        await driver.write(PointSpec("r", "HR30", DataType.UINT16), 1)
    with pytest.raises(DriverWriteError, match="HR29: device exception: 2 illegal data address"):
        await driver.write(PointSpec("r", "HR29", DataType.UINT32), 1)
    assert modbus_server.hr.values[29] == 0  # nothing half-written


async def test_an_unreadable_point_is_reported_and_the_rest_are_read(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        PointSpec("ok", "HR0", DataType.UINT16, scan_ms=40),
        PointSpec("typo", "HX0", DataType.UINT16, scan_ms=40),
        PointSpec("coil", "CO0", DataType.FLOAT32, scan_ms=40),
    ]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("ok") and recorder.bad("typo", "coil"))
    assert recorder.latest["typo"].reason.startswith("config error: 'HX0' is not a Modbus address")
    assert recorder.latest["coil"].reason == (
        "config error: 'CO0': coils and discrete inputs hold bool, not float32"
    )


async def test_settings_registry_and_browse() -> None:
    driver = registry.create("modbus-tcp", "plc", {"host": "10.0.0.5", "unit_id": 3})
    assert isinstance(driver, ModbusTcpDriver)
    assert driver.settings.port == 502 and driver.settings.unit_id == 3
    assert driver.settings.max_block_registers == 125 and driver.settings.connections == 1
    assert driver.link_state is LinkState.STOPPED
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ModbusTcpDriver.from_settings("plc", {"hots": "x"})
    with pytest.raises(pydantic.ValidationError):
        ModbusTcpDriver.from_settings("plc", {"port": 70000})
    with pytest.raises(pydantic.ValidationError):
        ModbusTcpDriver.from_settings("plc", {"max_block_registers": 126})
    # what the tag editor shows as the settings a connection may hold, from the same model
    keys = registry.settings_help("modbus-tcp")
    assert "port = 502 (1..65535)" in keys and "timeout_ms = 1000 (10..60000)" in keys
    assert "max_in_flight = 1 (1..16): requests pipelined per connection" in keys
    assert "url (required): endpoint, e.g. opc.tcp://192.168.0.20:4840" in registry.settings_help(
        "opcua"
    )
    assert registry.settings_help("sim") == []  # the simulator takes no settings
    nodes = await driver.browse()
    assert [n.address for n in nodes] == ["HR", "IR", "CO", "DI"]
    assert await driver.browse("HR") == []
    await driver.stop()  # stopping a driver never started is harmless


async def test_unit_id_is_sent(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    units: list[int] = []
    original = modbus_server._trace

    def trace(sending: bool, pdu):  # type: ignore[no-untyped-def]
        if not sending:
            units.append(pdu.dev_id)
        return original(sending, pdu)

    modbus_server._trace = trace  # type: ignore[method-assign]
    await modbus_server.stop()
    await modbus_server.start()
    await make_driver([PointSpec("a", "HR0", DataType.UINT16, scan_ms=40)], unit_id=17)
    await recorder.wait_for(lambda: recorder.good("a"))
    assert set(units) == {17}
    assert recorder.latest["a"].quality is Quality.GOOD


async def test_a_slow_device_makes_polls_skip_not_pile_up(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.device.delay_s = 0.1
    points = [
        PointSpec("a", "HR0", DataType.UINT16, scan_ms=30),
        PointSpec("b", "HR50", DataType.UINT16, scan_ms=30),
    ]
    driver = await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("a", "b"))
    await asyncio.sleep(0.6)
    passes, skipped, blocks = driver.scan_stats()[30]
    assert blocks == 2 and skipped > passes  # each pass takes ~0.2 s of a 0.03 s period
    assert modbus_server.device.most_in_progress == 1  # one request at a time, never queued up
    assert len(modbus_server.reads()) <= 2 * (passes + 1)
    # Stopping while a request is in flight is quick and leaves nothing behind.
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    await driver.stop()
    assert asyncio.get_running_loop().time() - started < 0.2
    assert modbus_tasks() == []


async def test_points_subscribed_during_an_outage_are_reported_bad(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    driver = await make_driver([PointSpec("a", "HR0", DataType.UINT16, scan_ms=50)])
    await recorder.wait_for(lambda: recorder.good("a"))
    await modbus_server.stop()
    await recorder.wait_for(lambda: recorder.bad("a"))
    await asyncio.sleep(0.4)  # several reconnect attempts: BAD is published once per outage
    assert [s.quality for s in recorder.samples if s.key == "a"].count(Quality.BAD) == 1
    driver.subscribe([PointSpec("late", "IR3", DataType.INT16, scan_ms=200)])
    await recorder.wait_for(lambda: recorder.bad("late"))
    assert recorder.latest["late"].reason.startswith("comm failure: ")
    await modbus_server.start()
    await recorder.wait_for(lambda: recorder.good("a", "late"), within=3.0)


async def test_a_busy_device_fails_the_pass_but_is_not_remembered(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    modbus_server.hr.refused = {0}
    modbus_server.hr.refusal = ExcCodes.DEVICE_BUSY
    points = [PointSpec(f"h{a}", f"HR{a}", DataType.UINT16, scan_ms=40) for a in range(3)]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.bad("h0", "h1", "h2"))
    assert recorder.latest["h2"].reason == "device exception: 6 server device busy"
    assert set(modbus_server.reads()) == {(3, 0, 3)}  # not split: busy says nothing of addresses
    modbus_server.hr.refused = set()
    await recorder.wait_for(lambda: recorder.good("h0", "h1", "h2"), within=1.0)


async def test_values_a_slow_pass_has_not_refreshed_turn_stale_then_good(
    modbus_server: ModbusServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        PointSpec("a", "HR0", DataType.UINT16, scan_ms=30),
        PointSpec("b", "HR50", DataType.UINT16, scan_ms=30),
    ]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("a", "b"))
    modbus_server.device.delay_s = 0.1  # a pass now takes ~0.2 s: over 3 periods of 30 ms
    await recorder.wait_for(
        lambda: any(s.key == "b" and s.quality is Quality.STALE for s in recorder.samples)
    )
    stale = next(s for s in recorder.samples if s.key == "b" and s.quality is Quality.STALE)
    assert stale.reason.startswith("no update: not read for ")
    assert "too slow for the 30 ms scan" in stale.reason
    modbus_server.device.delay_s = 0.0
    await recorder.wait_for(lambda: recorder.good("a", "b"))
