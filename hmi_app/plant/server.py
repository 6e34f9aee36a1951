"""A simulated device behind a real pymodbus Modbus TCP server, ticked by a named asyncio task.

``RegisterImage`` holds the four Modbus tables, addressed exactly as on the wire (0-based protocol
addresses): it goes through pymodbus's device context, which shifts every address by one before
the sequential blocks, so the blocks here start at 1. ``ModbusPlantServer`` serves an image on a
loopback port and calls a tick function about ten times a second; the server can be stopped and
restarted on the same port while the simulation keeps running, to show a link loss.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import ModbusTcpServer

from hmi_app.core.deadlines import cancel_and_wait

log = logging.getLogger(__name__)

#: Longest time step handed to a model: a stalled loop must not make the plant jump ahead.
MAX_STEP_S = 1.0


class Table(enum.Enum):
    """A Modbus table, by the function code that reads it."""

    COILS = 1
    DISCRETE_INPUTS = 2
    HOLDING = 3
    INPUT = 4


class PlantServerError(RuntimeError):
    """The simulated plant's server could not start (port in use, bad host)."""


def _block(values: list[int] | list[bool]) -> ModbusSequentialDataBlock:
    """A block for protocol addresses from 0 (the device context adds 1 before the block)."""
    make = ModbusSequentialDataBlock  # pymodbus leaves its constructor untyped
    block: ModbusSequentialDataBlock = make(1, values)  # type: ignore[no-untyped-call]
    return block


class RegisterImage:
    """Coils, discrete inputs, holding and input registers of one simulated device."""

    def __init__(
        self, coils: int = 64, discrete_inputs: int = 64, holding: int = 128, inputs: int = 128
    ) -> None:
        # ModbusDeviceContext adds 1 to every protocol address; blocks starting at 1 undo it.
        self.device = ModbusDeviceContext(
            co=_block([False] * coils),
            di=_block([False] * discrete_inputs),
            hr=_block([0] * holding),
            ir=_block([0] * inputs),
        )
        make = ModbusServerContext  # pymodbus leaves its constructor untyped
        ctx: ModbusServerContext = make(devices=self.device, single=True)  # type: ignore[no-untyped-call]
        self.context = ctx

    def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Values at protocol ``address`` (bits as 0/1); IndexError outside the table."""
        values = self.device.getValues(table.value, address, count)
        if not isinstance(values, list):
            raise IndexError(f"{table.name} {address}..{address + count - 1} is outside the image")
        return [int(v) for v in values]

    def read_bits(self, table: Table, address: int, count: int = 1) -> list[bool]:
        return [bool(v) for v in self.read(table, address, count)]

    def write(self, table: Table, address: int, values: Sequence[int]) -> None:
        """Set values at protocol ``address`` (bits given as bools or 0/1)."""
        if table in (Table.COILS, Table.DISCRETE_INPUTS):
            data: list[int] | list[bool] = [bool(v) for v in values]
        else:
            data = [int(v) for v in values]
        if self.device.setValues(table.value, address, data) is not None:
            raise IndexError(
                f"{table.name} {address}..{address + len(data) - 1} is outside the image"
            )


class ModbusPlantServer:
    """Serves a register image over Modbus TCP and ticks a simulation about every ``period_s``.

    ``tick(dt)`` runs on the event loop between client requests, so it may read the commands
    clients wrote and publish new values without locks.
    """

    def __init__(
        self, name: str, image: RegisterImage, tick: Callable[[float], None], period_s: float = 0.1
    ) -> None:
        self.name = name
        self.image = image
        self._tick = tick
        self._period = period_s
        self._server: ModbusTcpServer | None = None
        self._sim_task: asyncio.Task[None] | None = None
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Host and port being served; RuntimeError before the first start."""
        if self._address is None:
            raise RuntimeError(f"simulated plant {self.name!r} has not been started")
        return self._address

    @property
    def serving(self) -> bool:
        return self._server is not None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start the simulation and the server (port 0 picks a free one); the bound address."""
        if self._sim_task is not None:
            return self.address
        await self._serve(host, port)
        self._sim_task = asyncio.get_running_loop().create_task(
            self._simulate(), name=f"plant:{self.name}:simulation"
        )
        return self.address

    async def stop(self) -> None:
        """Stop the server and the simulation; safe to call more than once."""
        await self.stop_server()
        task, self._sim_task = self._sim_task, None
        if task is not None:
            await cancel_and_wait(task)

    async def stop_server(self) -> None:
        """Close the listener and every client connection; the simulation keeps running."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]
            await asyncio.sleep(0)  # let the transports finish closing

    async def restart_server(self) -> None:
        """Serve again on the same host and port (no-op while serving)."""
        if self._server is not None:
            return
        host, port = self.address
        await self._serve(host, port)

    async def _serve(self, host: str, port: int) -> None:
        server = ModbusTcpServer(self.image.context, address=(host, port))
        # background=True listens and returns; pymodbus keeps no task for a background server.
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            raise PlantServerError(
                f"simulated plant {self.name!r} cannot listen on {host}:{port} "
                "(port in use or host not local?)"
            ) from exc
        sockets = getattr(server.transport, "sockets", None) or ()
        if not sockets:
            await server.shutdown()  # type: ignore[no-untyped-call]
            raise PlantServerError(f"simulated plant {self.name!r}: server has no socket")
        bound = sockets[0].getsockname()
        self._server = server
        self._address = (str(bound[0]), int(bound[1]))

    async def _simulate(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        next_at = last
        failures = 0
        while True:
            next_at += self._period
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            now = loop.time()
            if next_at < now - self._period:  # the loop stalled: resynchronise, don't burst
                next_at = now
            dt, last = min(MAX_STEP_S, now - last), now
            try:
                self._tick(dt)
            except Exception:  # a model bug must not silently freeze the demo plant
                failures += 1
                if failures % 600 == 1:  # the first, then one a minute: don't flood the log
                    log.exception("simulated plant %s: tick failed (%d times)", self.name, failures)
