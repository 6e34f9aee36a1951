"""The Logix driver against a cpppo Logix simulator on loopback."""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import pydantic
import pytest

from drivers import registry
from drivers.base import DriverWriteError, LinkState, PointSpec
from drivers.logix.driver import LogixDriver
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality

if TYPE_CHECKING:  # fixtures' types, from tests/drivers_logix/conftest.py
    from conftest import MakeDriver

    from tests.support.cpppo_sim import CpppoServer
    from tests.support.recording import Recorder

D = DataType
ATOMIC: list[tuple[str, DataType, Any]] = [
    ("B", D.BOOL, True),
    ("S", D.INT8, -128),
    ("I", D.INT16, -32768),
    ("D", D.INT32, -2_000_000_001),
    ("L", D.INT64, -(2**62) - 7),
    ("R", D.FLOAT32, -1.25),
    ("LR", D.FLOAT64, math.e),
    ("US", D.UINT8, 255),
    ("UI", D.UINT16, 65535),
    ("UD", D.UINT32, 4_000_000_000),
    ("UL", D.UINT64, 2**64 - 3),
    ("Str", D.STRING, "Filler 7"),
]


def point(key: str, address: str, kind: DataType, **kw: Any) -> PointSpec:
    kw.setdefault("scan_ms", 50)
    if kind is D.STRING:
        kw.setdefault("length", 82)
    return PointSpec(key, address, kind, **kw)


def logix_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("logix-")]


async def test_every_atomic_type_and_string_reads_and_round_trips(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [point(tag, tag, kind) for tag, kind, _ in ATOMIC]
    driver = await make_driver(cpppo_server, points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    for p in points:  # fresh simulator values: zero of the right Python type
        assert type(recorder.value(p.key)) is type(dict((t, v) for t, _, v in ATOMIC)[p.key])
    for p, (_tag, _kind, value) in zip(points, ATOMIC, strict=True):
        await driver.write(p, value)
    expected = {tag: value for tag, _, value in ATOMIC}
    expected["R"] = -1.25  # exact in float32

    def written() -> bool:
        return all(recorder.good(k) and recorder.latest[k].value == v for k, v in expected.items())

    await recorder.wait_for(written)
    sample = recorder.latest["D"]  # source time is the time of the reply
    assert sample.quality is Quality.GOOD and 0 <= time.time() - sample.source_ts < 2
    assert any(state is LinkState.CONNECTED for state, _ in recorder.links)
    assert "tag types from the project" in recorder.links[-1][1]


async def test_arrays_whole_slices_elements_udt_members_and_program_tags(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    whole = point("whole", "DArr", D.INT32, array_length=20)
    part = point("slice", "DArr[5]", D.INT32, array_length=4)
    braces = point("braces", "DArr[10]{3}", D.INT32, array_length=3)
    element = point("element", "DArr[19]", D.INT32)
    member = point("member", "Udt.Member", D.INT32)
    speed = point("speed", "Udt.Speed", D.FLOAT32)
    program = point("program", "Program:Main.Count", D.INT32)
    reals = point("reals", "Arr", D.FLOAT32, array_length=10)
    bit0 = point("bit0", "Udt.Member.0", D.BOOL)
    bit1 = point("bit1", "Udt.Member.1", D.BOOL)
    points = [whole, part, braces, element, member, speed, program, reals, bit0, bit1]
    driver = await make_driver(cpppo_server, points)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    assert recorder.value("whole") == (0,) * 20
    await driver.write(whole, list(range(100, 120)))
    await driver.write(member, 77)
    await driver.write(speed, 2.5)
    await driver.write(program, -5)
    await driver.write(reals, [i / 4 for i in range(10)])

    def updated() -> bool:
        return recorder.good("whole") and recorder.latest["whole"].value[0] == 100

    await recorder.wait_for(updated)
    await recorder.wait_for(lambda: recorder.latest["program"].value == -5)
    await recorder.wait_for(lambda: recorder.latest["reals"].value[1] == 0.25)
    assert recorder.value("whole") == tuple(range(100, 120))
    assert recorder.value("slice") == (105, 106, 107, 108)
    assert recorder.value("braces") == (110, 111, 112)
    assert recorder.value("element") == 119
    assert recorder.value("member") == 77
    assert recorder.value("bit0") is True and recorder.value("bit1") is False  # 77 = 0b1001101
    assert recorder.value("speed") == 2.5
    assert recorder.value("reals") == tuple(i / 4 for i in range(10))
    # a slice written alone changes only its elements
    await driver.write(part, [1, 2, 3, 4])
    await recorder.wait_for(lambda: recorder.latest["slice"].value == (1, 2, 3, 4))
    await recorder.wait_for(lambda: recorder.latest["whole"].value[5:9] == (1, 2, 3, 4))
    assert recorder.value("whole")[4] == 104 and recorder.value("whole")[9] == 109


async def test_many_tags_are_packed_into_few_packets_one_call_per_pass(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    many = sum(1 for tag in cpppo_server.tags if tag.startswith("M"))
    points = [point(f"m{i}", f"M{i}", D.INT32, scan_ms=100) for i in range(many)]
    # cpppo takes about 0.25 s per packet of 150 tags: a timeout that a loaded machine keeps
    driver = await make_driver(cpppo_server, points, timeout_ms=5000)
    keys = [p.key for p in points]
    await recorder.wait_for(lambda: recorder.good(*keys))
    marks: list[int] = []  # packets sent, taken as each pass publishes (the worker is idle)
    recorder.on_batch = lambda: marks.append(driver.controller.packets)
    await recorder.wait_for(lambda: len(marks) >= 4, within=20)  # cpppo: ~0.5 s per pass
    steps = {b - a for a, b in itertools.pairwise(marks)}
    assert len(steps) == 1, steps  # every pass the same
    per_pass = steps.pop()
    # 300 DINT reads of ~13 bytes each fit a 4000-byte connection in two multi-service packets
    assert per_pass <= 3, per_pass
    assert many / per_pass >= 100  # tags per packet


async def test_max_tags_per_read_splits_the_pass(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [point(f"m{i}", f"M{i}", D.INT32, scan_ms=100) for i in range(40)]
    driver = await make_driver(cpppo_server, points, max_tags_per_read=10, timeout_ms=5000)
    await recorder.wait_for(lambda: recorder.good(*(p.key for p in points)))
    marks: list[int] = []
    recorder.on_batch = lambda: marks.append(driver.controller.packets)
    await recorder.wait_for(lambda: len(marks) >= 4, within=20)
    assert {b - a for a, b in itertools.pairwise(marks)} == {4}


async def test_writes_refused_with_clear_reasons(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    dint = point("d", "D", D.INT32)
    missing = point("missing", "NotThere", D.INT32)
    arr = point("arr", "DArr", D.INT32, array_length=20)
    text = point("text", "Str", D.STRING, length=8)
    driver = await make_driver(cpppo_server, [dint, missing, arr, text])
    await recorder.wait_for(lambda: recorder.good("d", "arr", "text"))
    with pytest.raises(DriverWriteError, match="not a number"):
        await driver.write(dint, "abc")
    with pytest.raises(DriverWriteError, match="outside int32"):
        await driver.write(dint, 2**31)
    with pytest.raises(DriverWriteError, match="not a whole number"):
        await driver.write(dint, 1.5)
    with pytest.raises(DriverWriteError, match="list of 20 values"):
        await driver.write(arr, [1, 2, 3])
    with pytest.raises(DriverWriteError, match="at most 8 fit"):
        await driver.write(text, "much too long")
    with pytest.raises(DriverWriteError, match=r"device exception: Destination unknown"):
        await driver.write(missing, 5)
    with pytest.raises(DriverWriteError, match=r"is not a tag or member name"):
        await driver.write(point("x", "Bad Name", D.INT32), 1)
    with pytest.raises(DriverWriteError, match="no datetime type"):
        await driver.write(point("x", "D", D.DATETIME), 1)
    # nothing was lost: the link is up and the other tags still read
    await driver.write(dint, 12345)
    await recorder.wait_for(lambda: recorder.latest["d"].value == 12345)
    assert driver.link_state is LinkState.CONNECTED


async def test_unknown_tags_and_bad_addresses_are_bad_alone(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        point("ok", "M1", D.INT32),
        point("gone", "NoSuchTag", D.INT32),
        point("beyond", "DArr[25]", D.INT32),
        point("syntax", "3abc", D.INT32),
        point("clash", "M1", D.FLOAT32, array_length=0),
        point("count", "DArr{3}", D.INT32, array_length=4),
    ]
    await make_driver(cpppo_server, points)
    await recorder.wait_for(lambda: recorder.good("ok"))
    await recorder.wait_for(lambda: recorder.bad("gone", "beyond", "syntax", "count", "clash"))
    assert recorder.latest["gone"].reason.startswith("device exception: Destination unknown")
    assert recorder.latest["beyond"].reason.startswith("device exception:")
    assert recorder.latest["syntax"].reason.startswith("config error:")
    assert "does not match array_length" in recorder.latest["count"].reason
    assert "declared as DINT by another tag" in recorder.latest["clash"].reason


async def test_upload_unavailable_falls_back_to_the_project_types(
    cpppo_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    driver = await make_driver(cpppo_server, [point("d", "D", D.INT32)], init_tags=True)
    await recorder.wait_for(lambda: recorder.good("d"))
    connected = [detail for state, detail in recorder.links if state is LinkState.CONNECTED]
    assert "tag list upload unavailable" in connected[-1]
    assert await driver.browse() == []  # nothing uploaded to browse
    assert driver.tag_table() is None


async def test_simulator_killed_and_restarted_recovers_alone(
    own_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    points = [
        point("d", "D", D.INT32, scan_ms=100),
        point("arr", "Arr", D.FLOAT32, array_length=10),
    ]
    driver = await make_driver(own_server, points)
    await recorder.wait_for(lambda: recorder.good("d", "arr"))
    assert len(logix_threads()) == 1
    opened = driver.controller.opened
    own_server.kill()
    took = await recorder.wait_for(lambda: recorder.bad("d", "arr"), within=5)
    assert took < 2.0  # a scan period plus the timeout
    assert recorder.latest["d"].reason.startswith("comm failure:")
    assert driver.link_state is LinkState.DISCONNECTED
    with pytest.raises(DriverWriteError, match="not connected"):
        await driver.write(points[0], 1)
    await asyncio.sleep(0.5)  # a few reconnect attempts fail meanwhile
    own_server.start()
    await recorder.wait_for(lambda: recorder.good("d", "arr"), within=10)
    assert driver.link_state is LinkState.CONNECTED
    assert driver.controller.opened > opened  # a new pycomm3 driver object, not a re-open
    states = [state for state, _ in recorder.links]
    assert states[-1] is LinkState.CONNECTED and LinkState.DISCONNECTED in states
    await driver.write(points[0], 4321)
    await recorder.wait_for(lambda: recorder.latest["d"].value == 4321)
    await driver.stop()
    assert driver.link_state is LinkState.STOPPED
    for _ in range(100):  # the worker thread ends once its executor is shut down
        if not logix_threads():
            break
        await asyncio.sleep(0.02)
    assert logix_threads() == []
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("logix:")]


async def test_stop_during_an_outage_leaves_nothing_behind(
    own_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    driver = await make_driver(own_server, [point("d", "D", D.INT32)])
    await recorder.wait_for(lambda: recorder.good("d"))
    own_server.kill()
    await recorder.wait_for(lambda: recorder.bad("d"))
    driver.unsubscribe(["d"])
    driver.subscribe([point("d2", "D", D.INT32, scan_ms=20)])
    await recorder.wait_for(lambda: recorder.bad("d2"))
    await driver.stop()
    assert driver.link_state is LinkState.STOPPED


async def test_no_controller_at_all_reports_comm_failure(
    own_server: CpppoServer, recorder: Recorder, make_driver: MakeDriver
) -> None:
    own_server.kill()
    own_server.port = _free_port()
    nobody = own_server
    await make_driver(nobody, [point("d", "D", D.INT32)])
    await recorder.wait_for(lambda: recorder.bad("d"))
    assert recorder.latest["d"].reason.startswith("comm failure:")
    assert recorder.links[-1][0] is LinkState.DISCONNECTED


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_settings_are_checked_and_the_registry_builds_the_driver() -> None:
    driver = registry.create("logix", "plc1", {"host": "10.0.0.5", "slot": 2})
    assert isinstance(driver, LogixDriver)
    assert driver.settings.path == "10.0.0.5:44818/2"
    routed = LogixDriver.from_settings(
        "x", {"host": "10.0.0.5", "route": "bp/1/enet/10.1.1.1/bp/0"}
    )
    assert routed.settings.path == "10.0.0.5:44818/bp/1/enet/10.1.1.1/bp/0"
    with pytest.raises(pydantic.ValidationError):
        LogixDriver.from_settings("x", {"host": "h", "unit_id": 1})
    with pytest.raises(pydantic.ValidationError):
        LogixDriver.from_settings("x", {"host": "h", "slot": 99})
    with pytest.raises(pydantic.ValidationError):
        LogixDriver.from_settings("x", {})
