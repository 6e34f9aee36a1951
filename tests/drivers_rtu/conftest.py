"""Fixtures for the Modbus RTU tests: a virtual serial pair (socat, two ptys linked as ``a`` and
``b`` in a temporary folder), a real pymodbus RTU server on end ``a`` with two unit ids, and a
recorder for what a driver publishes. The driver under test opens end ``b``.

socat ignores the baud rate, so these tests check framing, CRC, matching and recovery, not
line timing; 115200 baud keeps the timeouts the driver adds for time on the wire small.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusSerialServer

from drivers.base import PointSpec, Sample
from drivers.modbus.rtu import ModbusRtuDriver
from drivers.modbus.tcp import Backoff
from tests.support.modbus_tables import DeviceTables
from tests.support.recording import Recorder, StartedDrivers
from tests.support.serial_rtu import BAUD, PARITY, SerialPair, have_socat, serve_rtu, shut_down

SIZE = 2048
FAST_BACKOFF = Backoff(first_s=0.05, max_s=0.2, stable_s=1.0)

if not have_socat():  # installer/linux/system-deps.sh installs it
    pytest.skip("socat is needed for the virtual serial pair", allow_module_level=True)


@pytest.fixture
async def serial_pair(tmp_path: Path) -> AsyncIterator[SerialPair]:
    pair = SerialPair(tmp_path)
    await pair.start_async()
    try:
        yield pair
    finally:
        pair.stop()


class RtuServer:
    """A pymodbus RTU server (units 1 and 2) on end ``a`` of the pair; records every request as
    (unit, function, address, count)."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.units = {1: DeviceTables(SIZE), 2: DeviceTables(SIZE)}
        self.requests: list[tuple[int, int, int, int]] = []
        self._server: ModbusSerialServer | None = None

    def _trace(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            code = pdu.function_code
            if code in (1, 2, 3, 4):
                count = pdu.count
            else:
                count = len(pdu.registers) if code in (6, 16) else len(pdu.bits)
            self.requests.append((pdu.dev_id, code, pdu.address, count))
        return pdu

    def reads(self, unit: int = 1) -> list[tuple[int, int, int]]:
        """Read requests to ``unit``: (function, address, count)."""
        return [(f, a, c) for u, f, a, c in self.requests if u == unit and f in (1, 2, 3, 4)]

    async def start(self) -> None:
        context = ModbusServerContext(
            devices={unit: tables.as_device() for unit, tables in self.units.items()}, single=False
        )
        self._server = await serve_rtu(
            context, self.port, ignore_missing_devices=True, trace_pdu=self._trace
        )

    async def stop(self) -> None:
        server, self._server = self._server, None
        await shut_down(server)


@pytest.fixture
async def rtu_server(serial_pair: SerialPair) -> AsyncIterator[RtuServer]:
    server = RtuServer(serial_pair.a)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


MakeDriver = Callable[..., Awaitable[ModbusRtuDriver]]


@pytest.fixture
async def make_driver(serial_pair: SerialPair, recorder: Recorder) -> AsyncIterator[MakeDriver]:
    """Starts RTU drivers on end ``b`` (fast backoff, short timeout); stops them after."""
    drivers = StartedDrivers(recorder)

    async def make(
        points: Sequence[PointSpec] = (),
        *,
        name: str = "rtu",
        reprobe_s: float = 60.0,
        publish: Callable[[Sequence[Sample]], None] | None = None,
        **settings: Any,
    ) -> ModbusRtuDriver:
        settings.setdefault("port", serial_pair.b)
        settings.setdefault("baudrate", BAUD)
        settings.setdefault("parity", PARITY)
        settings.setdefault("timeout_ms", 200)
        driver = ModbusRtuDriver(
            name,
            ModbusRtuDriver.Settings(**settings),
            backoff=FAST_BACKOFF,
            reprobe_s=reprobe_s,
        )
        return await drivers.start(driver, points, publish=publish)

    yield make
    await drivers.stop_all()


@pytest.fixture(autouse=True)
def _no_open_ports() -> Iterator[None]:
    """Every test ends with no serial bus left open."""
    from drivers.modbus import serial_rtu

    yield
    assert not serial_rtu._BUSES, f"serial ports left open: {list(serial_rtu._BUSES)}"
