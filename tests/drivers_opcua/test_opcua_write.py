"""Writes to a real asyncua server: coerced to the node's own type, and every refusal named."""

from __future__ import annotations

import datetime as dt

import pytest
from asyncua import ua

from drivers.base import DriverWriteError
from hmi_app.core.datatypes import DataType

from .conftest import MakeDriver, PlantServer, Recorder, point


async def _connected(make_driver: MakeDriver, recorder: Recorder, **settings: object):  # type: ignore[no-untyped-def]
    driver = await make_driver([point("speed", "ns=2;s=Line1.Speed")], **settings)
    await recorder.wait_for(lambda: recorder.good("speed"))
    return driver


async def test_write_is_coerced_to_the_nodes_type(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await _connected(make_driver, recorder)
    watched = point(
        "int16", "ns=2;s=Line1.Int16Set", DataType.INT32
    )  # the tag is wider than the node
    driver.subscribe([watched])
    await recorder.wait_for(lambda: recorder.good("int16"))
    await driver.write(watched, 300)
    await recorder.wait_for(lambda: recorder.value("int16") == 300)
    await driver.write(point("f", "ns=2;s=Line1.Int16Set", DataType.FLOAT64), 2.0)
    await recorder.wait_for(lambda: recorder.value("int16") == 2)
    assert ("Line1.Int16Set", 300) in plant.writes
    with pytest.raises(
        DriverWriteError, match=r"1000000 does not fit the node's type Int16 \(-32768\.\.32767\)"
    ):
        await driver.write(watched, 1_000_000)
    with pytest.raises(DriverWriteError, match=r"2\.5 is not a whole number"):
        await driver.write(point("f", "ns=2;s=Line1.Int16Set", DataType.FLOAT64), 2.5)
    assert recorder.value("int16") == 2  # nothing was written by the refused ones


WRITES: list[tuple[str, DataType, object]] = [
    ("Boolean", DataType.BOOL, False),
    ("SByte", DataType.INT8, -100),
    ("Byte", DataType.UINT8, 3),
    ("Int16", DataType.INT16, -7),
    ("UInt16", DataType.UINT16, 1),
    ("Int32", DataType.INT32, 123456),
    ("UInt32", DataType.UINT32, 2**32 - 1),
    ("Int64", DataType.INT64, -5),
    ("UInt64", DataType.UINT64, 2**64 - 1),
    ("Float", DataType.FLOAT32, 0.25),
    ("Double", DataType.FLOAT64, -1e300),
    ("String", DataType.STRING, "WO-1001"),
    ("DateTime", DataType.DATETIME, dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
]


async def test_write_every_type(make_driver: MakeDriver, recorder: Recorder) -> None:
    specs = {name: point(name, f"ns=2;s=Types.{name}", dtype) for name, dtype, _v in WRITES}
    driver = await make_driver(list(specs.values()))
    await recorder.wait_for(lambda: recorder.good(*specs))
    for name, _dtype, value in WRITES:
        await driver.write(specs[name], value)
    await recorder.wait_for(lambda: all(recorder.latest[n].value == v for n, _d, v in WRITES))


async def test_node_of_abstract_type_reads_anything_and_takes_the_tags_type(
    make_driver: MakeDriver, recorder: Recorder
) -> None:
    spec = point("any", "ns=2;s=Line1.Any")
    driver = await make_driver([spec])
    await recorder.wait_for(lambda: recorder.good("any"))
    assert recorder.value("any") == 2.25
    await driver.write(spec, 7.5)
    await recorder.wait_for(lambda: recorder.value("any") == 7.5)


async def test_write_whole_array_and_one_element(
    make_driver: MakeDriver, recorder: Recorder
) -> None:
    whole = point("arr", "ns=2;s=Line1.Arr", DataType.INT32, array_length=5)
    element = point("el", "ns=2;s=Line1.Arr[3]", DataType.INT32)
    driver = await make_driver([whole, element])
    await recorder.wait_for(lambda: recorder.good("arr", "el"))
    await driver.write(whole, (1, 2, 3, 4, 5))
    await recorder.wait_for(lambda: recorder.value("arr") == (1, 2, 3, 4, 5))
    await driver.write(element, 99)
    await recorder.wait_for(
        lambda: recorder.value("arr") == (1, 2, 3, 99, 5) and recorder.value("el") == 99
    )
    with pytest.raises(DriverWriteError, match="does not fit the node's type Int32"):
        await driver.write(whole, (1, 2, 3, 4, 2**40))


async def test_refusals_carry_the_status_name(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await _connected(make_driver, recorder)
    setpoint = point("sp", "ns=2;s=Line1.Setpoint")
    await driver.write(setpoint, 55.5)
    with pytest.raises(DriverWriteError, match="the server refused the write: BadOutOfRange"):
        await driver.write(setpoint, 150.0)
    with pytest.raises(DriverWriteError, match="BadNotWritable"):
        await driver.write(point("ro", "ns=2;s=Line1.ReadOnly", DataType.INT32), 1)
    with pytest.raises(DriverWriteError, match="BadUserAccessDenied"):
        await driver.write(point("adm", "ns=2;s=Line1.AdminOnly", DataType.INT32), 2)
    with pytest.raises(
        DriverWriteError,
        match=r"config error: node ns=2;s=Line1\.Nope is not usable: BadNodeIdUnknown",
    ):
        await driver.write(point("no", "ns=2;s=Line1.Nope"), 1.0)
    with pytest.raises(DriverWriteError, match="is not an OPC UA address"):
        await driver.write(point("bad", "Line1.Speed"), 1.0)
    # the node's type changed on the server after the driver read it: the server says so
    watched = point("i16", "ns=2;s=Line1.Int16Set", DataType.INT16)
    driver.subscribe([watched])
    await recorder.wait_for(lambda: recorder.good("i16"))
    assert plant.server is not None
    # (a PLC download retyped the tag: asyncua checks writes against the stored value's type)
    stored = plant.server.iserver.aspace._nodes[ua.NodeId("Line1.Int16Set", plant.ns)]
    stored.attributes[ua.AttributeIds.Value].value = ua.DataValue(ua.Variant("retyped"))
    with pytest.raises(DriverWriteError, match="BadTypeMismatch"):
        await driver.write(watched, 5)
    setpoint_value = plant.server.get_node(ua.NodeId("Line1.Setpoint", plant.ns))
    assert await setpoint_value.read_value() == 55.5


async def test_write_without_a_connection_is_refused_at_once(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await _connected(make_driver, recorder)
    await plant.stop()
    await recorder.wait_for(lambda: recorder.bad("speed"))
    with pytest.raises(DriverWriteError, match="not connected: comm failure"):
        await driver.write(point("sp", "ns=2;s=Line1.Setpoint"), 1.0)
