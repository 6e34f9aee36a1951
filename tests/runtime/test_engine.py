"""The tag engine: scaling, deadband, changes only, quality on link loss, counted subscriptions,
and writes checked for writability, type and limits before anything reaches a device.

The engine is driven by ``ScriptedDriver``, a small but complete implementation of the Driver
protocol that publishes what a test tells it to, so each rule can be shown on exact values.
The same engine against a real Modbus server is covered in test_runtime_demo.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pytest

from drivers.base import (
    BrowseNode,
    DriverWriteError,
    GoodBlock,
    LinkState,
    LinkStateFn,
    PointSpec,
    PublishFn,
    Sample,
)
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.bus import TagBus
from hmi_app.runtime.engine import TagEngine


class ScriptedDriver:
    """Driver whose device is the test: it records subscriptions and writes, publishes on demand."""

    name = "plc"

    def __init__(self) -> None:
        self.points: dict[str, PointSpec] = {}
        self.writes: list[tuple[str, Any]] = []
        self.refuse_writes = False
        self._publish: PublishFn | None = None
        self._on_link: LinkStateFn | None = None
        self._state = LinkState.STOPPED

    @property
    def link_state(self) -> LinkState:
        return self._state

    def validate(self, point: PointSpec) -> None:
        return None

    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        self._publish, self._on_link = publish, on_link
        self.link(LinkState.CONNECTED, "")

    async def stop(self) -> None:
        self.link(LinkState.STOPPED, "")

    def subscribe(self, points: Iterable[PointSpec]) -> None:
        self.points.update({p.key: p for p in points})

    def unsubscribe(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.points.pop(key, None)

    async def write(self, point: PointSpec, value: Any) -> None:
        if self.refuse_writes:
            raise DriverWriteError("exception 2: illegal data address")
        self.writes.append((point.key, value))

    async def browse(self, path: str = "") -> list[BrowseNode]:
        return []

    def send(self, key: str, value: Any, quality: Quality = Quality.GOOD, reason: str = "") -> None:
        assert self._publish is not None
        self._publish([Sample(key, value, quality, 1000.0, reason)])

    def publish_block(self, block: GoodBlock) -> None:
        assert self._publish is not None
        self._publish(block)

    def link(self, state: LinkState, detail: str) -> None:
        self._state = state
        if self._on_link is not None:
            self._on_link(state, detail)


MODEL = ProjectModel.model_validate(
    {
        "schema_version": 1,
        "project": {"name": "t"},
        "connections": {"plc": {"driver": "scripted"}},
        "tags": [
            {
                "name": "speed",
                "connection": "plc",
                "address": "HR0",
                "type": "int16",
                "scaling": {"raw_min": 0, "raw_max": 1000, "eu_min": 0, "eu_max": 100},
                "deadband": 0.5,
                "access": "read_write",
                "limits": {"min": 0, "max": 90},
                "units": "%",
            },
            {"name": "count", "connection": "plc", "address": "IR0", "type": "uint32"},
            {
                "name": "flag",
                "connection": "plc",
                "address": "CO0",
                "type": "bool",
                "access": "read_write",
            },
            {
                "name": "note",
                "type": "string",
                "length": 5,
                "access": "read_write",
                "initial": "hi",
            },
        ],
    }
)


@pytest.fixture
async def engine() -> Any:
    engine = TagEngine(MODEL)
    driver = ScriptedDriver()
    await engine.start({"plc": driver})
    yield engine, driver
    await engine.stop()


async def test_scaling_deadband_and_changes_only(engine: Any) -> None:
    eng, driver = engine
    seen: list[TagValue] = []
    eng.subscribe("speed", seen.append)
    assert seen[0].quality is Quality.BAD and seen[0].reason == Reason.WAITING
    assert "speed" in driver.points  # first listener made the driver read the tag
    driver.send("speed", 500)
    driver.send("speed", 500)  # no change: no call
    driver.send("speed", 504)  # 50.4 %: inside the 0.5 deadband of 50.0
    driver.send("speed", 506)  # 50.6 %: outside
    assert [(v.value, v.quality) for v in seen[1:]] == [(50.0, Quality.GOOD), (50.6, Quality.GOOD)]
    assert seen[-1].source_ts == 1000.0 and seen[-1].recv_ts > 1000.0


async def test_quality_changes_are_delivered_even_when_the_value_is_the_same(engine: Any) -> None:
    eng, driver = engine
    seen: list[TagValue] = []
    eng.subscribe("count", seen.append)
    driver.send("count", 7)
    driver.send("count", None, Quality.BAD, "device exception: 2 illegal data address")
    driver.send("count", None, Quality.BAD, "device exception: 2 illegal data address")
    driver.send("count", 7)
    assert [(v.value, v.quality) for v in seen[1:]] == [
        (7, Quality.GOOD),
        (7, Quality.BAD),
        (7, Quality.GOOD),
    ]
    assert seen[2].reason.startswith(Reason.DEVICE_EXCEPTION)  # last value kept, marked bad


async def test_link_loss_marks_every_subscribed_tag_bad_and_recovers(engine: Any) -> None:
    eng, driver = engine
    links: list[tuple[str, LinkState]] = []
    eng.add_link_listener(lambda name, state, _d: links.append((name, state)))
    eng.subscribe("count", lambda _v: None)
    eng.subscribe("flag", lambda _v: None)
    driver.send("count", 1)
    driver.send("flag", True)
    driver.link(LinkState.DISCONNECTED, "connection refused")
    for tag in ("count", "flag"):
        value = eng.current(tag)
        assert value.quality is Quality.BAD
        assert value.reason == "comm failure: connection refused"
    assert eng.current("speed") is None  # nobody asked for it: nothing to mark
    assert links[-1] == ("plc", LinkState.DISCONNECTED)
    assert eng.link_states()["plc"] == (LinkState.DISCONNECTED, "connection refused")
    driver.link(LinkState.CONNECTED, "")
    driver.send("count", 2)
    assert eng.current("count").quality is Quality.GOOD


async def test_last_listener_leaving_stops_the_driver_reading(engine: Any) -> None:
    eng, driver = engine
    first = eng.subscribe("count", lambda _v: None)
    second = eng.subscribe("count", lambda _v: None)
    first.cancel()
    assert "count" in driver.points
    second.cancel()
    assert "count" not in driver.points


async def test_writes_are_checked_unscaled_and_audited(
    engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    eng, driver = engine
    caplog.set_level(logging.INFO, logger="hmi.audit")
    await eng.write("speed", "45.5", user="anna")
    assert driver.writes == [("speed", 455)]  # 45.5 % -> raw 455, an int for an int16 tag
    with pytest.raises(WriteRefused, match=r"95 % is outside the limits 0..90"):
        await eng.write("speed", 95)
    with pytest.raises(WriteRefused, match="is not a number"):
        await eng.write("speed", "fast")
    with pytest.raises(WriteRefused, match="count is read-only"):
        await eng.write("count", 1)
    with pytest.raises(WriteRefused, match="not a boolean"):
        await eng.write("flag", "maybe")
    driver.refuse_writes = True
    with pytest.raises(WriteRefused, match="device refused the write: exception 2"):
        await eng.write("flag", "on")
    assert driver.writes == [("speed", 455)]  # nothing refused reached the device
    records = [r.getMessage() for r in caplog.records if r.name == "hmi.audit"]
    assert records[0].startswith("write done user=anna tag=speed")
    assert sum("write refused" in r for r in records) == 5


async def test_memory_tags_hold_operator_entries(engine: Any) -> None:
    eng, _driver = engine
    assert eng.current("note").value == "hi"
    await eng.write("note", "lot 7")
    assert eng.current("note").value == "lot 7" and eng.current("note").is_good
    with pytest.raises(WriteRefused, match="at most 5 fit"):
        await eng.write("note", "far too long")


async def test_bus_keeps_only_the_latest_value_until_flush(engine: Any) -> None:
    eng, driver = engine
    bus = TagBus(eng)
    seen: list[Any] = []
    sub = bus.subscribe("count", lambda v: seen.append(v.value))
    bus.subscribe("count", lambda v: seen.append(("second", v.value)))
    bus.flush()
    seen.clear()
    for n in range(100):
        driver.send("count", n)
    assert seen == []  # nothing until the flush
    assert bus.flush() == 2
    assert seen == [99, ("second", 99)]
    assert bus.flush() == 0
    sub.cancel()
    assert "count" in driver.points  # the second listener still wants it
    assert bus.subscribed_tags() == ["count"]


async def test_good_blocks_take_the_same_rules_as_samples(engine: Any) -> None:
    eng, driver = engine
    seen: list[TagValue] = []
    eng.subscribe("speed", seen.append)
    counts: list[TagValue] = []
    eng.subscribe("count", counts.append)
    keys = ("speed", "count", "not.mine")
    for raw_speed, count in ((500, 1), (500, 1), (504, 2), (506, 2)):
        driver.publish_block(GoodBlock(keys, [raw_speed, count, 0], 2000.0))
    assert [v.value for v in seen[1:]] == [50.0, 50.6]  # scaled, deadband 0.5, changes only
    assert [v.value for v in counts[1:]] == [1, 2]
    assert all(v.quality is Quality.GOOD and v.source_ts == 2000.0 for v in seen[1:])
    driver.send("count", None, Quality.BAD, "timeout: no reply")
    driver.publish_block(GoodBlock(keys, [506, 2, 0], 2001.0))
    assert [(v.value, v.quality) for v in counts[-2:]] == [(2, Quality.BAD), (2, Quality.GOOD)]
    assert list(GoodBlock(("a",), [1], 5.0)) == [Sample("a", 1, Quality.GOOD, 5.0)]


async def test_stale_keeps_the_last_value_and_good_clears_it(engine: Any) -> None:
    eng, driver = engine
    eng.subscribe("count", lambda _v: None)
    driver.send("count", 41)
    driver.send("count", None, Quality.STALE, "no update: not read for 0.4 s")
    stale = eng.current("count")
    assert (stale.value, stale.quality) == (41, Quality.STALE)
    assert stale.reason.startswith(Reason.NO_UPDATE)
    driver.send("count", 41)
    assert eng.current("count").quality is Quality.GOOD and eng.current("count").reason == ""
