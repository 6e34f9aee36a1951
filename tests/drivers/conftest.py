"""Fixtures for driver tests: a real pymodbus Modbus TCP server on a free loopback port, whose
datastore can refuse chosen addresses and which records every request it receives, and a recorder
for what a driver publishes and reports about its link."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusDeviceContext, ModbusServerContext
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer

from drivers.base import PointSpec
from drivers.modbus.tcp import Backoff, ModbusTcpDriver
from tests.support.modbus_tables import DeviceTables
from tests.support.recording import Recorder, StartedDrivers

SIZE = 65536


class SlowDevice(ModbusDeviceContext):
    """A device context that can take ``delay_s`` per read and counts reads in progress."""

    delay_s = 0.0
    in_progress = 0
    most_in_progress = 0

    async def async_getValues(
        self, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        self.in_progress += 1
        self.most_in_progress = max(self.most_in_progress, self.in_progress)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return self.getValues(func_code, address, count)
        finally:
            self.in_progress -= 1


class ModbusServer(DeviceTables):
    """A pymodbus TCP server with full-size tables, started and stopped by the test."""

    def __init__(self) -> None:
        super().__init__(SIZE)
        self.port = 0
        self.requests: list[tuple[int, int, int]] = []
        self._server: ModbusTcpServer | None = None
        self.device = SlowDevice(hr=self.hr, ir=self.ir, co=self.co, di=self.di)
        self.context = ModbusServerContext(devices=self.device, single=True)

    def _trace(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            count = pdu.count if pdu.function_code in (1, 2, 3, 4) else None
            if count is None:
                count = len(pdu.registers) if pdu.function_code in (6, 16) else len(pdu.bits)
            self.requests.append((pdu.function_code, pdu.address, count))
        return pdu

    def reads(self, function: int | None = None) -> list[tuple[int, int, int]]:
        """Read requests received: (function, address, count)."""
        return [r for r in self.requests if function is None or r[0] == function]

    async def start(self) -> None:
        server = ModbusTcpServer(
            self.context, address=("127.0.0.1", self.port), trace_pdu=self._trace
        )
        await server.serve_forever(background=True)
        self.port = int(server.transport.sockets[0].getsockname()[1])
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
            await asyncio.sleep(0.01)


@pytest.fixture
async def modbus_server() -> AsyncIterator[ModbusServer]:
    server = ModbusServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def make_driver(
    modbus_server: ModbusServer, recorder: Recorder
) -> AsyncIterator[Callable[..., Awaitable[ModbusTcpDriver]]]:
    """Starts drivers (fast backoff, short timeout) against ``modbus_server``; stops them after."""
    drivers = StartedDrivers(recorder)

    async def make(
        points: Sequence[PointSpec] = (), *, reprobe_s: float = 60.0, **settings: Any
    ) -> ModbusTcpDriver:
        settings.setdefault("port", modbus_server.port)
        settings.setdefault("timeout_ms", 300)
        driver = ModbusTcpDriver(
            "plc",
            ModbusTcpDriver.Settings(**settings),
            backoff=FAST_BACKOFF,
            reprobe_s=reprobe_s,
        )
        return await drivers.start(driver, points)

    yield make
    await drivers.stop_all()


FAST_BACKOFF = Backoff(first_s=0.05, max_s=0.2, stable_s=1.0)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
