"""The pipelined client: several requests in flight on one connection, replies matched by
transaction id even when they come back out of order, and the in-flight limit respected."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from drivers.modbus.pipeline import ExceptionReply, LinkError, PipelinedClient

MBAP = struct.Struct(">HHHB")


class HoldingServer:
    """Answers reads of N registers with [address, address+1, ...], holding replies until
    ``batch`` requests arrived, then sending them in reverse order."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.most_in_flight = 0
        self._held: list[bytes] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _proto, length, unit = MBAP.unpack(header)
                pdu = await reader.readexactly(length - 1)
                function, address, count = struct.unpack(">BHH", pdu)
                if address == 999:
                    reply = bytes((function | 0x80, 2))
                else:
                    data = struct.pack(f">{count}H", *range(address, address + count))
                    reply = bytes((function, len(data))) + data
                self._held.append(MBAP.pack(tid, 0, len(reply) + 1, unit) + reply)
                self.most_in_flight = max(self.most_in_flight, len(self._held))
                if len(self._held) >= self.batch:
                    for frame in reversed(self._held):
                        writer.write(frame)
                    self._held.clear()
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def holding_server() -> AsyncIterator[HoldingServer]:
    server = HoldingServer(batch=4)
    await server.start()
    yield server
    await server.stop()


async def test_out_of_order_replies_reach_their_own_request(holding_server: HoldingServer) -> None:
    client = PipelinedClient("127.0.0.1", holding_server.port, timeout_s=2, max_in_flight=4)
    await client.connect()
    try:
        replies = await asyncio.gather(
            *(client.read_registers(1, 3, address, 3) for address in (0, 100, 200, 300))
        )
        for address, data in zip((0, 100, 200, 300), replies, strict=True):
            assert struct.unpack(">3H", data) == (address, address + 1, address + 2)
        assert holding_server.most_in_flight == 4
    finally:
        client.close()


async def test_in_flight_limit_is_respected(holding_server: HoldingServer) -> None:
    holding_server.batch = 2
    client = PipelinedClient("127.0.0.1", holding_server.port, timeout_s=2, max_in_flight=2)
    await client.connect()
    try:
        await asyncio.gather(*(client.read_registers(1, 4, a, 1) for a in range(8)))
        assert holding_server.most_in_flight == 2
    finally:
        client.close()


async def test_exception_reply_and_closed_link(holding_server: HoldingServer) -> None:
    holding_server.batch = 1
    client = PipelinedClient("127.0.0.1", holding_server.port, timeout_s=2)
    await client.connect()
    with pytest.raises(ExceptionReply, match="2 illegal data address"):
        await client.read_registers(1, 3, 999, 1)
    client.close()
    with pytest.raises(LinkError, match="not connected"):
        await client.read_registers(1, 3, 0, 1)
