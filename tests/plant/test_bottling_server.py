"""The bottling line over real Modbus TCP: a pymodbus client on loopback against the plant."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymodbus.client import AsyncModbusTcpClient as Client
from pymodbus.exceptions import ModbusException

from hmi_app.plant.bottling import FaultCode, LineState
from hmi_app.plant.bottling_plant import BottlingLinePlant
from hmi_app.plant.registry import UnknownPlant, create_plant, plant_names
from hmi_app.plant.server import ModbusPlantServer, PlantServerError, RegisterImage, Table

DT = Client.DATATYPE


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Poll ``check`` (every 50 ms) until it is true; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        # polling a server over the wire: there is no event to wait on
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def connect(address: tuple[str, int]) -> Client:
    client = Client(address[0], port=address[1], timeout=1, retries=0, reconnect_delay=0)
    assert await client.connect()
    return client


class Line:
    """Reads of the demo project's tags, decoded as the project declares them."""

    def __init__(self, client: Client) -> None:
        self.c = client

    async def hr(self, address: int, count: int = 1) -> list[int]:
        rr = await self.c.read_holding_registers(address, count=count, device_id=1)
        assert not rr.isError(), rr
        return list(rr.registers)

    async def ir(self, address: int, count: int = 1) -> list[int]:
        rr = await self.c.read_input_registers(address, count=count, device_id=1)
        assert not rr.isError(), rr
        return list(rr.registers)

    async def di(self) -> list[bool]:
        rr = await self.c.read_discrete_inputs(0, count=6, device_id=1)
        assert not rr.isError(), rr
        return list(rr.bits[:6])

    async def coils(self) -> list[bool]:
        rr = await self.c.read_coils(0, count=3, device_id=1)
        assert not rr.isError(), rr
        return list(rr.bits[:3])

    async def state(self) -> tuple[int, int]:
        state, fault = await self.hr(10, 2)
        return state, fault

    async def setpoint(self) -> float:
        return float(Client.convert_from_registers(await self.hr(0, 2), DT.FLOAT32))

    async def filler_speed(self) -> float:
        return float(Client.convert_from_registers(await self.ir(10, 2), DT.FLOAT32))

    async def counts(self) -> tuple[int, int]:
        regs = await self.ir(30, 4)
        good = Client.convert_from_registers(regs[:2], DT.UINT32)
        reject = Client.convert_from_registers(regs[2:], DT.UINT32)
        assert isinstance(good, int) and isinstance(reject, int)
        return good, reject

    async def command(self, coil: int) -> None:
        wr = await self.c.write_coil(coil, True, device_id=1)
        assert not wr.isError(), wr

    async def write_setpoint(self, bpm: float) -> None:
        regs = Client.convert_to_registers(bpm, DT.FLOAT32)
        wr = await self.c.write_registers(0, regs, device_id=1)
        assert not wr.isError(), wr


@pytest.fixture
async def plant() -> AsyncIterator[BottlingLinePlant]:
    tasks_before = other_tasks()
    threads_before = threading.active_count()
    p = BottlingLinePlant(seed=1)
    await p.start()
    yield p
    await p.stop()
    for _ in range(3):
        await asyncio.sleep(0)
    assert other_tasks() - tasks_before == set(), "plant left tasks behind"
    assert threading.active_count() == threads_before


@pytest.fixture
async def line(plant: BottlingLinePlant) -> AsyncIterator[Line]:
    client = await connect(plant.address)
    yield Line(client)
    client.close()


async def test_register_map_decodes_to_plausible_values(
    plant: BottlingLinePlant, line: Line
) -> None:
    host, port = plant.address
    assert host == "127.0.0.1" and port > 0
    plant.model.runtime_s = 70_000.4  # above 65535: proves the low-word-first layout
    plant.model.energy_kwh = 12_345.5

    async def at_speed() -> bool:
        return await line.filler_speed() > 100.0

    await eventually(at_speed)
    assert await line.setpoint() == 300.0
    assert await line.state() == (LineState.RUNNING, FaultCode.NONE)
    name = Client.convert_from_registers(await line.hr(20, 8), DT.STRING)
    assert name == "LINE 1 BOTTLING"
    di = await line.di()  # infeed, filler, valve, capper, labeller, reject (as project.yaml)
    assert [di[0], di[1], di[3], di[4]] == [True] * 4
    assert di[2] is plant.model.valve_open is False  # 60 % at start-up: between 30 and 85
    ir = await line.ir(0, 54)
    assert 100 <= ir[0] <= 1000  # infeed 10..100 %
    level = Client.convert_from_registers(ir[12:14], DT.FLOAT32)
    temp = Client.convert_from_registers(ir[14:16], DT.FLOAT32)
    assert isinstance(level, float) and isinstance(temp, float)
    assert 0.0 <= level <= 100.0
    assert 4.0 <= temp <= 6.0
    torque = Client.convert_from_registers(ir[20:21], DT.INT16)
    assert isinstance(torque, int) and 40 <= torque <= 80  # 4..8 N·m
    assert 0 <= ir[21] <= 100
    runtime = Client.convert_from_registers(ir[40:42], DT.UINT32, word_order="little")
    assert isinstance(runtime, int) and 70_000 <= runtime < 70_100
    energy = Client.convert_from_registers(ir[50:54], DT.FLOAT64)
    assert isinstance(energy, float) and 12_345.5 < energy < 12_346.0


async def test_protocol_addresses_match_the_image_without_offset(
    plant: BottlingLinePlant, line: Line
) -> None:
    plant.image.write(Table.INPUT, 99, [4321])
    plant.image.write(Table.HOLDING, 100, [77])
    assert await line.ir(99) == [4321]
    assert await line.hr(100) == [77]
    wr = await line.c.write_register(101, 55, device_id=1)
    assert not wr.isError()
    assert plant.image.read(Table.HOLDING, 101) == [55]
    # the first and last registers of each table are reachable, one beyond is an exception
    assert len(await line.ir(120, 8)) == 8
    coils = await line.c.read_coils(60, count=4, device_id=1)
    assert not coils.isError()
    rr = await line.c.read_input_registers(127, count=2, device_id=1)
    assert rr.isError()


async def test_counts_grow_while_running_and_stop_when_stopped(
    plant: BottlingLinePlant, line: Line
) -> None:
    first = await line.counts()
    await asyncio.sleep(1.5)
    second = await line.counts()
    assert sum(second) > sum(first)

    await line.command(1)  # CO1 stop

    async def stopped() -> bool:
        return await line.state() == (0, 0) and await line.filler_speed() == 0.0

    await eventually(stopped)
    assert await line.coils() == [False, False, False]  # momentary: cleared by the plant
    di = await line.di()
    assert [di[0], di[1], di[3], di[4]] == [False] * 4
    assert (await line.ir(0))[0] == 0
    held = await line.counts()
    await asyncio.sleep(0.5)
    assert await line.counts() == held

    await line.command(0)  # CO0 start

    async def counting() -> bool:
        return sum(await line.counts()) > sum(held)

    await eventually(counting)
    assert (await line.state())[0] == LineState.RUNNING


async def test_fault_reset_start_cycle(plant: BottlingLinePlant, line: Line) -> None:
    plant.model.force_fault(FaultCode.CAPPER_OVERTORQUE)

    async def faulted() -> bool:
        return await line.state() == (2, 102)

    await eventually(faulted)
    assert await line.filler_speed() == 0.0
    di = await line.di()
    assert [di[0], di[1], di[3], di[4]] == [False] * 4

    await line.command(0)  # start refused while faulted

    async def coils_cleared() -> bool:
        return await line.coils() == [False, False, False]

    await eventually(coils_cleared)
    assert await line.state() == (2, 102)

    await line.command(2)  # CO2 fault reset

    async def reset() -> bool:
        return await line.state() == (0, 0)

    await eventually(reset)
    await line.command(0)

    async def running() -> bool:
        return await line.state() == (1, 0) and await line.filler_speed() > 0.0

    await eventually(running)


async def test_setpoint_write_is_taken_clamped_and_bad_values_refused(
    plant: BottlingLinePlant, line: Line
) -> None:
    plant.model.filler_speed = 300.0  # skip the start-up ramp
    await line.write_setpoint(450.0)

    async def taken() -> bool:
        return plant.model.setpoint == 450.0

    await eventually(taken)
    assert await line.setpoint() == 450.0

    await line.write_setpoint(900.0)

    async def clamped() -> bool:
        return await line.setpoint() == 600.0

    await eventually(clamped)
    assert plant.model.setpoint == 600.0

    await line.write_setpoint(math.nan)

    async def refused() -> bool:
        return await line.setpoint() == 600.0

    await eventually(refused)
    assert plant.model.setpoint == 600.0

    async def speeding_up() -> bool:
        return await line.filler_speed() > 320.0

    await eventually(speeding_up)


async def test_stop_server_breaks_the_link_and_restart_serves_the_same_port(
    plant: BottlingLinePlant, line: Line
) -> None:
    address = plant.address
    await line.ir(30, 2)
    before = plant.model.good_count
    await plant.stop_server()
    with pytest.raises(ModbusException):
        rr = await line.c.read_input_registers(30, count=2, device_id=1)
        assert rr.isError()  # not reached: a closed link raises
    fresh = Client(address[0], port=address[1], timeout=0.5, retries=0, reconnect_delay=0)
    assert not await fresh.connect()
    fresh.close()

    await asyncio.sleep(0.5)
    assert plant.model.good_count > before  # the simulation kept running

    await plant.restart_server()
    await plant.restart_server()  # already serving: nothing happens
    assert plant.address == address
    again = await connect(address)
    try:
        rr = await again.read_input_registers(30, count=2, device_id=1)
        assert not rr.isError()
        good = Client.convert_from_registers(rr.registers, DT.UINT32)
        assert isinstance(good, int) and good >= plant.model.good_count - 10
    finally:
        again.close()


async def test_stop_leaves_nothing_and_is_idempotent() -> None:
    tasks_before = other_tasks()
    threads_before = threading.active_count()
    p = create_plant("bottling_line", seed=2)
    address = await p.start()
    assert await p.start() == address  # already running
    client = await connect(address)
    rr = await client.read_holding_registers(10, count=1, device_id=1)
    assert not rr.isError()
    await p.stop()
    await p.stop()
    client.close()
    for _ in range(3):
        await asyncio.sleep(0)
    assert other_tasks() - tasks_before == set()
    assert threading.active_count() == threads_before
    refused = Client(address[0], port=address[1], timeout=0.5, retries=0, reconnect_delay=0)
    assert not await refused.connect()
    refused.close()


async def test_a_busy_port_gives_a_clear_error(plant: BottlingLinePlant) -> None:
    other = BottlingLinePlant()
    with pytest.raises(PlantServerError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        await other.start(*plant.address)
    await other.stop()


async def test_address_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="has not been started"):
        _ = BottlingLinePlant().address
    with pytest.raises(RuntimeError, match="has not been started"):
        await BottlingLinePlant().restart_server()


def test_registry_names_and_unknown_plant() -> None:
    assert plant_names() == ["bottling_line"]
    assert isinstance(create_plant("bottling_line"), BottlingLinePlant)
    with pytest.raises(UnknownPlant) as info:
        create_plant("brewery")
    assert str(info.value) == "unknown simulated plant 'brewery'; known: bottling_line"
    assert isinstance(info.value, KeyError)


def test_register_image_bounds() -> None:
    image = RegisterImage(coils=4, discrete_inputs=4, holding=4, inputs=4)
    image.write(Table.COILS, 3, [1])
    assert image.read_bits(Table.COILS, 0, 4) == [False, False, False, True]
    with pytest.raises(IndexError, match=r"HOLDING 3\.\.4 is outside the image"):
        image.write(Table.HOLDING, 3, [1, 2])
    with pytest.raises(IndexError, match=r"INPUT 4\.\.4 is outside the image"):
        image.read(Table.INPUT, 4)


async def test_a_failing_tick_is_logged_once_and_the_simulation_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[float] = []
    fifth = asyncio.Event()

    def tick(dt: float) -> None:
        calls.append(dt)
        if len(calls) == 5:
            fifth.set()
        raise ZeroDivisionError("model bug")

    server = ModbusPlantServer("broken", RegisterImage(), tick, period_s=0.01)
    await server.start()
    try:
        async with asyncio.timeout(3):
            await fifth.wait()
    finally:
        await server.stop()
    assert all(0.0 <= dt <= 1.0 for dt in calls)
    failures = [r for r in caplog.records if "tick failed" in r.getMessage()]
    assert len(failures) == 1
    assert "simulated plant broken: tick failed (1 times)" in failures[0].getMessage()
