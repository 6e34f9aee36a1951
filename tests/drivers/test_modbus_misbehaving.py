"""The driver against a Modbus TCP server that misbehaves on purpose (raw asyncio, no pymodbus).

Whatever the server does wrong, a value is never credited to the wrong point: points go BAD
(timeout or comm failure), and once the server behaves again they come back by themselves.
Every register holds a value derived from its own address, so a reply credited to the wrong
request would show up as a GOOD sample with the wrong value.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from drivers.base import LinkState
from drivers.modbus.tcp import ModbusTcpDriver
from tests.support.modbus_tables import (
    EXPECTED,
    POINTS,
    assert_nothing_misplaced,
    holding,
    inputs,
)

if TYPE_CHECKING:  # fixture types
    from tests.support.recording import Recorder

MakeDriver = Callable[..., Awaitable[ModbusTcpDriver]]
TIMEOUT_MS = 200


class RawServer:
    """A tiny Modbus TCP server for FC 3 and 4 whose ``mode`` picks how it misbehaves."""

    def __init__(self) -> None:
        self.mode = "good"
        self.port = 0
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _proto, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                function, address, count = struct.unpack(">BHH", pdu[:5])
                reply = self._reply(tid, unit, function, address, count)
                if reply is None:
                    continue
                if self.mode == "late" and address == 0:
                    # Answer HR0 only after the client gave up on it, while it waits for the
                    # next request (same function, same count, other address).
                    delayed = asyncio.create_task(self._later(writer, reply), name="raw:late")
                    self._tasks.add(delayed)
                    delayed.add_done_callback(self._tasks.discard)
                    continue
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            self._tasks.discard(task)

    async def _later(self, writer: asyncio.StreamWriter, reply: bytes) -> None:
        await asyncio.sleep(TIMEOUT_MS / 1000 * 1.3)
        if not writer.is_closing():
            writer.write(reply)

    def _reply(self, tid: int, unit: int, function: int, address: int, count: int) -> bytes | None:
        value = holding if function == 3 else inputs
        registers = [value(address + i) for i in range(count)]
        mode = self.mode
        if mode == "silent":
            return None
        if mode == "wrong_count":
            registers = [*registers, value(address + count)]
        if mode == "wrong_function":
            function = 4 if function == 3 else 3
        body = struct.pack(f">BB{len(registers)}H", function, 2 * len(registers), *registers)
        if mode == "wrong_tid":
            tid = (tid + 1) & 0xFFFF
        if mode == "tid_zero":
            tid = 0
        frame = struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body
        if mode == "short":
            return frame[: len(frame) - 3]
        if mode == "garbled":
            return struct.pack(">HHHB", tid, 0, 3, unit) + b"\x63\x01"  # unknown function 0x63
        return frame


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = RawServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


TIMEOUT = ("timeout: no reply within 200 ms",)
# After LINK_TIMEOUTS timeouts in a row the driver drops the connection: a link loss.
NO_REPLY = (*TIMEOUT, "comm failure: ")
# A short frame shifts the byte stream: the next header read is garbage and the connection is reset.
DESYNC = ("timeout: ", "comm failure: ")
WRONG = "comm failure: reply of the wrong "


@pytest.mark.parametrize(
    ("mode", "reasons"),
    [
        ("late", {"hr0": TIMEOUT}),
        ("wrong_tid", {"hr0": NO_REPLY, "hr100": NO_REPLY}),
        ("tid_zero", {"hr0": ("comm failure",), "hr100": ("comm failure",)}),
        ("short", {"hr0": DESYNC, "ir0": DESYNC}),
        ("silent", {"hr0": NO_REPLY, "hr100": NO_REPLY}),
        ("garbled", {"hr0": ("comm failure",), "hr100": ("comm failure",)}),
        ("wrong_count", {"hr0": (f"{WRONG}size (4 bytes, asked 2)",)}),
        ("wrong_function", {"ir0": (f"{WRONG}kind (function 3, asked 4)",)}),
    ],
)
async def test_misbehaving_server_never_credits_a_wrong_value(
    raw_server: RawServer,
    recorder: Recorder,
    make_driver: MakeDriver,
    mode: str,
    reasons: dict[str, tuple[str, ...]],
) -> None:
    driver = await make_driver(POINTS, port=raw_server.port, timeout_ms=TIMEOUT_MS)
    await recorder.wait_for(lambda: recorder.good(*EXPECTED))
    assert_nothing_misplaced(recorder)

    raw_server.mode = mode
    for key, reason in reasons.items():
        await recorder.wait_for(
            lambda k=key, r=reason: recorder.bad(k) and recorder.latest[k].reason.startswith(r),
            within=3.0,
        )
    await asyncio.sleep(0.5)  # let it misbehave for a while (and the driver reconnect)
    assert_nothing_misplaced(recorder)

    raw_server.mode = "good"
    await recorder.wait_for(lambda: recorder.good(*EXPECTED), within=5.0)
    await recorder.wait_for(lambda: driver.link_state is LinkState.CONNECTED)
    assert_nothing_misplaced(recorder)
    assert {k: recorder.value(k) for k in EXPECTED} == EXPECTED
