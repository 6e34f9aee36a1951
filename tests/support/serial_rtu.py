"""A virtual serial line for Modbus RTU: ``socat`` joining two ptys (stable link names ``a`` and
``b`` in a folder) and a pymodbus RTU server with one unit on end ``a``.

Killing socat is pulling the USB adapter: both ptys vanish, so the server on ``a`` has to be
started again once the pair is back (:meth:`RtuUnitServer.start` after :meth:`SerialPair.start`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from pymodbus import FramerType
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusSerialServer

BAUD = 115200
# A Linux pty keeps no parity bit (it stores the settings without PARENB) and then now and then
# refuses pyserial's next tcsetattr with EINVAL; without parity the settings stick. Parity is
# only handed to pyserial by the driver, so nothing of the driver's own is left untested.
PARITY = "N"
SIZE = 256


def have_socat() -> bool:
    return shutil.which("socat") is not None


class SerialPair:
    """``socat`` joining two ptys; ``a`` and ``b`` are their link names."""

    def __init__(self, folder: Path) -> None:
        self.a = str(folder / "a")
        self.b = str(folder / "b")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _spawn(self) -> subprocess.Popen[bytes]:
        for link in (self.a, self.b):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        return subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _ready(self) -> bool:
        return os.path.exists(self.a) and os.path.exists(self.b)

    def _check(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        if process.poll() is not None or time.monotonic() > deadline:
            self.kill()
            raise RuntimeError("socat did not create the virtual serial pair")

    def start(self, within_s: float = 5.0) -> None:
        """Start socat and wait (a few ms) until both ends exist."""
        process = self._process = self._spawn()
        deadline = time.monotonic() + within_s
        while not self._ready():
            self._check(process, deadline)
            time.sleep(0.01)

    async def start_async(self, within_s: float = 5.0) -> None:
        """:meth:`start` for a test on the event loop: waits without blocking the loop."""
        process = self._process = self._spawn()
        deadline = time.monotonic() + within_s
        while not self._ready():
            self._check(process, deadline)
            await asyncio.sleep(0.01)

    def device_b(self) -> str:
        """End ``b`` under its other name: the pty the link points to."""
        return os.path.realpath(self.b)

    def kill(self) -> None:
        """End socat at once (the adapter is pulled out)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
        if process is not None:
            process.wait()

    def stop(self) -> None:
        """End socat politely (SIGTERM; SIGKILL if it lingers): the ptys hang up all the same."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _block(values: list[int] | list[bool]) -> ModbusSequentialDataBlock:
    # ModbusDeviceContext adds 1 to every protocol address: start at 1 so index 0 is address 0
    return ModbusSequentialDataBlock(1, values)


class RtuUnitServer:
    """A pymodbus RTU server with one unit id on ``port``; its tables are ``hr``, ``ir``,
    ``co`` and ``di`` (index = protocol address)."""

    def __init__(self, port: str, unit_id: int = 1) -> None:
        self.port = port
        self.unit_id = unit_id
        self.hr = _block([0] * SIZE)
        self.ir = _block([0] * SIZE)
        self.co = _block([False] * SIZE)
        self.di = _block([False] * SIZE)
        self._server: ModbusSerialServer | None = None

    async def start(self) -> None:
        device = ModbusDeviceContext(hr=self.hr, ir=self.ir, co=self.co, di=self.di)
        context = ModbusServerContext(devices={self.unit_id: device}, single=False)
        self._server = await serve_rtu(context, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        await shut_down(server)


async def serve_rtu(context: ModbusServerContext, port: str, **options: Any) -> ModbusSerialServer:
    """A pymodbus RTU server for ``context`` on ``port`` (BAUD, PARITY, 8 data bits, 1 stop bit),
    serving when this returns; ``options`` go to ``ModbusSerialServer``."""
    server = ModbusSerialServer(
        context,
        framer=FramerType.RTU,
        port=port,
        baudrate=BAUD,
        parity=PARITY,
        stopbits=1,
        bytesize=8,
        **options,
    )
    await server.serve_forever(background=True)
    await asyncio.sleep(0.05)  # the transport opens the port on the next loop turns
    return server


async def shut_down(server: ModbusSerialServer | None) -> None:
    """Stop a server from :func:`serve_rtu` (None: not started) and let it close the port."""
    if server is not None:
        await server.shutdown()
        await asyncio.sleep(0.02)
