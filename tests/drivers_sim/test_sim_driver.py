"""SimDriver against the Driver protocol: scanning, casting, link state, writes, no leaks."""

from __future__ import annotations

import asyncio
import math
import struct
import threading

import pydantic
import pytest

from drivers import registry
from drivers.base import AddressError, Driver, DriverWriteError, LinkState, PointSpec, Sample
from drivers.sim.driver import SimDriver, cast_value
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality


class Recorder:
    """Collects published batches and link changes, and lets a test wait for batches."""

    def __init__(self) -> None:
        self.batches: list[list[Sample]] = []
        self.links: list[tuple[LinkState, str]] = []
        self._event = asyncio.Event()

    def publish(self, batch: list[Sample]) -> None:
        self.batches.append(batch)
        self._event.set()

    def on_link(self, state: LinkState, detail: str) -> None:
        self.links.append((state, detail))

    def samples(self, key: str) -> list[Sample]:
        return [s for batch in self.batches for s in batch if s.key == key]

    async def wait_for(self, key: str, count: int = 1) -> list[Sample]:
        async with asyncio.timeout(3.0):
            while len(self.samples(key)) < count:
                self._event.clear()
                await self._event.wait()
        return self.samples(key)


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def pt(
    key: str, address: str, dt: DataType = DataType.FLOAT64, scan_ms: int = 20, length: int = 0
) -> PointSpec:
    return PointSpec(key=key, address=address, data_type=dt, scan_ms=scan_ms, length=length)


def test_registry_finds_sim_and_settings_forbid_extras() -> None:
    driver = registry.create("sim", "utilities", {})
    assert isinstance(driver, SimDriver)
    assert driver.name == "utilities"
    assert driver.link_state is LinkState.STOPPED
    with pytest.raises(pydantic.ValidationError, match="host"):
        registry.create("sim", "utilities", {"host": "10.0.0.1"})


def test_satisfies_driver_protocol() -> None:
    driver: Driver = SimDriver("x")
    assert driver.name == "x"


def test_validate_messages_and_types() -> None:
    d = SimDriver("x")
    d.validate(pt("a", "sine:period=60,min=5.8,max=6.4"))
    d.validate(pt("b", "step:values=AUTO|OFF", DataType.STRING, length=8))
    with pytest.raises(AddressError, match=r"^'sine:period=0': period must be > 0$"):
        d.validate(pt("a", "sine:period=0"))
    with pytest.raises(AddressError, match="unknown signal 'foo': use sine, ramp"):
        d.validate(pt("a", "foo:period=1"))
    with pytest.raises(AddressError, match="values must be numbers for a int16 point"):
        d.validate(pt("a", "step:values=AUTO|OFF", DataType.INT16))
    with pytest.raises(AddressError, match="scan period must be > 0 ms"):
        d.validate(pt("a", "sine", scan_ms=0))


@pytest.mark.parametrize(
    ("value", "dt", "expected"),
    [
        (70000.0, DataType.INT16, 32767),
        (-70000.0, DataType.INT16, -32768),
        (-3.0, DataType.UINT16, 0),
        (2.5e10, DataType.UINT32, 2**32 - 1),
        (12.6, DataType.INT32, 13),
        (0.0, DataType.BOOL, False),
        (0.3, DataType.BOOL, True),
        (1.5, DataType.FLOAT64, 1.5),
        (3.0, DataType.STRING, "3"),
        ("MANUAL", DataType.STRING, "MANUAL"),
    ],
)
def test_cast_value(value: float | str, dt: DataType, expected: object) -> None:
    result = cast_value(value, dt)
    assert result == expected
    assert type(result) is type(expected)


def test_cast_float32_rounds_to_single_precision_and_strings_to_length() -> None:
    single = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert cast_value(0.1, DataType.FLOAT32) == single != 0.1
    assert cast_value("LONG TEXT", DataType.STRING, length=4) == "LONG"
    with pytest.raises(ValueError, match="not a number"):
        cast_value("AUTO", DataType.INT16)


async def test_start_publishes_typed_values_per_scan_group_and_stop_leaves_nothing() -> None:
    clock_value = [1000.0]
    d = SimDriver("utilities", clock=lambda: clock_value[0])
    rec = Recorder()
    before = other_tasks()
    threads_before = threading.active_count()
    d.subscribe(
        [
            pt("sine", "sine:period=60,min=5.8,max=6.4", DataType.FLOAT32),
            pt("square", "square:period=10,low=3,high=9,duty=0.5", DataType.BOOL),
            pt("squarenum", "square:period=10,low=3,high=9,duty=0.5", DataType.INT16),
            pt("step", "step:values=1|2|3,dwell=5", DataType.UINT16, scan_ms=30),
            pt("mode", "step:values=AUTO|OFF,dwell=5", DataType.STRING, scan_ms=30),
            pt("big", "ramp:period=10,min=0,max=100000", DataType.INT16, scan_ms=30),
        ]
    )
    await settle()
    assert rec.batches == []  # not started: nothing scanned
    await d.start(rec.publish, rec.on_link)
    assert d.link_state is LinkState.CONNECTED
    assert rec.links == [(LinkState.CONNECTED, "simulated")]
    names = {t.get_name() for t in other_tasks() - before}
    assert names == {"sim:utilities:scan:20ms", "sim:utilities:scan:30ms"}

    await rec.wait_for("sine")
    await rec.wait_for("step")
    batches_20 = [b for b in rec.batches if any(s.key == "sine" for s in b)]
    assert {s.key for s in batches_20[0]} == {"sine", "square", "squarenum"}
    values = {s.key: s for b in rec.batches for s in b}
    t = 1000.0  # 1000 % 60 = 40 s into the sine; 1000 % 10 = 0 -> square high
    exact = 6.1 + 0.3 * math.sin(2 * math.pi * t / 60)
    expected_sine = struct.unpack("<f", struct.pack("<f", exact))[0]
    assert values["sine"].value == expected_sine
    assert values["sine"].quality is Quality.GOOD
    assert values["sine"].source_ts == 1000.0
    assert values["square"].value is True
    assert values["squarenum"].value == 9
    assert values["step"].value == 3  # floor(1000 / 5) % 3 == 2: the third value
    assert values["mode"].value == "AUTO"
    assert values["big"].value == 0

    clock_value[0] = 1006.0  # 1006 % 10 = 6: square low, ramp at 60000 -> clipped to int16
    n = len(rec.samples("big"))
    await rec.wait_for("big", n + 1)
    await rec.wait_for("square", len(rec.samples("square")) + 1)
    assert rec.samples("square")[-1].value is False
    assert rec.samples("squarenum")[-1].value == 3
    assert rec.samples("big")[-1].value == 32767
    assert isinstance(rec.samples("step")[-1].value, int)

    await d.stop()
    assert d.link_state is LinkState.STOPPED
    assert rec.links[-1] == (LinkState.STOPPED, "")
    await settle()
    assert other_tasks() - before == set()
    assert threading.active_count() == threads_before
    count = len(rec.batches)
    await asyncio.sleep(0.08)
    assert len(rec.batches) == count


async def test_subscribe_unsubscribe_manage_tasks() -> None:
    d = SimDriver("u")
    rec = Recorder()
    before = other_tasks()
    await d.start(rec.publish, rec.on_link)
    assert other_tasks() - before == set()  # nothing subscribed: no task
    d.subscribe([pt("a", "sine", scan_ms=20), pt("b", "ramp", scan_ms=20)])
    d.subscribe([pt("a", "sine", scan_ms=20)])  # idempotent
    await rec.wait_for("a", 2)
    assert len({t.get_name() for t in other_tasks() - before}) == 1

    d.unsubscribe(["a"])
    n_b = len(rec.samples("b"))
    n_a = len(rec.samples("a"))
    await rec.wait_for("b", n_b + 2)
    assert len(rec.samples("a")) == n_a

    # re-subscribing a key with another scan period moves it to another task
    d.subscribe([pt("b", "ramp", scan_ms=25)])
    await settle()
    assert {t.get_name() for t in other_tasks() - before} == {"sim:u:scan:25ms"}
    d.unsubscribe(["b", "never-subscribed"])
    await settle()
    assert other_tasks() - before == set()
    await d.stop()
    assert other_tasks() - before == set()


async def test_unsubscribe_then_stop_at_once_leaves_no_task() -> None:
    d = SimDriver("u")
    rec = Recorder()
    before = other_tasks()
    await d.start(rec.publish, rec.on_link)
    d.subscribe([pt("a", "sine", scan_ms=20)])
    d.unsubscribe(["a"])
    await d.stop()
    assert other_tasks() - before == set()


async def test_counter_per_scan_and_random_walk_through_driver() -> None:
    d = SimDriver("u")
    rec = Recorder()
    await d.start(rec.publish, rec.on_link)
    d.subscribe(
        [
            pt("n", "counter:step=5,per=scan,wrap=20", DataType.UINT16, scan_ms=10),
            pt("w", "random_walk:min=18,max=30,step=0.1,seed=3", DataType.FLOAT64, scan_ms=10),
        ]
    )
    samples = await rec.wait_for("n", 6)
    await d.stop()
    assert [s.value for s in samples[:6]] == [0, 5, 10, 15, 0, 5]
    walk = [s.value for s in rec.samples("w")]
    assert walk[0] == 24.0 and all(18.0 <= v <= 30.0 for v in walk)


async def test_bad_address_publishes_bad_quality_and_keeps_the_rest() -> None:
    d = SimDriver("u")
    rec = Recorder()
    await d.start(rec.publish, rec.on_link)
    d.subscribe([pt("bad", "sine:period=0"), pt("good", "sine")])
    bad = (await rec.wait_for("bad"))[0]
    good = (await rec.wait_for("good"))[0]
    await d.stop()
    assert bad.quality is Quality.BAD and bad.value is None
    assert bad.reason == "config error: 'sine:period=0': period must be > 0"
    assert good.quality is Quality.GOOD


async def test_a_failing_subscriber_does_not_end_the_scan(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = SimDriver("u")
    calls: list[int] = []
    third = asyncio.Event()

    def publish(batch: list[Sample]) -> None:
        calls.append(len(batch))
        if len(calls) == 3:
            third.set()
        raise RuntimeError("subscriber bug")

    await d.start(publish, lambda s, m: None)
    d.subscribe([pt("a", "sine", scan_ms=10)])
    async with asyncio.timeout(3):
        await third.wait()
    await d.stop()
    assert "sim driver u: publishing 1 samples failed" in caplog.text


async def test_writes_are_refused() -> None:
    d = SimDriver("u")
    with pytest.raises(DriverWriteError, match="simulated signals are read-only"):
        await d.write(pt("a", "sine"), 1.0)


async def test_browse_offers_a_valid_example_per_kind() -> None:
    d = SimDriver("u")
    nodes = await d.browse()
    assert [n.name for n in nodes] == ["sine", "ramp", "random_walk", "counter", "square", "step"]
    for node in nodes:
        assert node.data_type is not None
        d.validate(pt(node.name, node.address, node.data_type))
    assert await d.browse("sine") == []


async def test_stop_without_start_and_double_start_are_harmless() -> None:
    d = SimDriver("u")
    await d.stop()
    assert d.link_state is LinkState.STOPPED
    rec = Recorder()
    await d.start(rec.publish, rec.on_link)
    await d.start(rec.publish, rec.on_link)
    assert rec.links == [(LinkState.CONNECTED, "simulated")]
    await d.stop()
    await d.stop()
    assert rec.links == [(LinkState.CONNECTED, "simulated"), (LinkState.STOPPED, "")]
