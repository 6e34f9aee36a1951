"""A lean Modbus TCP server for benchmarks, run in its own process.

It answers function codes 3 and 4 (read holding / input registers) for any address, with values
that change on every request (``address + request number``), so change detection downstream has
real work; with ``--change-every N`` only every N-th address changes (a plant where a tenth of the
values move between two scans is ``--change-every 10``). It is deliberately minimal and fast so a
benchmark measures the client, not the server (the pymodbus server tops out near the client's own
speed on loopback). Requests are counted; a line ``count`` on standard input prints the count.

    python -m benchmarks.loopback_server [--port 0]      prints "port N" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys

import numpy as np

_HEADER = struct.Struct(">HHHBB")  # transaction, protocol, length, unit, function
_BASE = np.arange(65536, dtype=np.uint32)


class _Counter:
    requests = 0
    moving = np.ones(65536, dtype=np.uint32)  # 1 where the value changes with each request


class _ModbusProtocol(asyncio.Protocol):
    """Frames requests out of the byte stream and answers each one."""

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        replies = []
        while len(buffer) >= 8:
            tid, _proto, length, unit, function = _HEADER.unpack_from(buffer)
            end = 6 + length
            if len(buffer) < end:
                break
            body = buffer[8:end]
            buffer = buffer[end:]
            replies.append(self._answer(tid, unit, function, body))
        self._buffer = buffer
        if replies and self._transport is not None:
            self._transport.write(b"".join(replies))

    @staticmethod
    def _answer(tid: int, unit: int, function: int, body: bytes) -> bytes:
        if function not in (3, 4) or len(body) != 4:
            return _HEADER.pack(tid, 0, 3, unit, function | 0x80) + b"\x01"
        address, count = struct.unpack(">HH", body)
        if not 1 <= count <= 125 or address + count > 65536:
            return _HEADER.pack(tid, 0, 3, unit, function | 0x80) + b"\x02"
        _Counter.requests += 1
        moving = _Counter.moving[address : address + count]
        values = (_BASE[address : address + count] + moving * _Counter.requests) & 0xFFFF
        payload = values.astype(">u2").tobytes()
        return (
            _HEADER.pack(tid, 0, 3 + len(payload), unit, function) + bytes([len(payload)]) + payload
        )


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_ModbusProtocol, "127.0.0.1", port)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with server:
        while line := await reader.readline():
            if line.strip() == b"count":
                print(f"count {_Counter.requests}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--change-every", type=int, default=1, metavar="N")
    args = parser.parse_args()
    _Counter.moving = (np.arange(65536) % args.change_every == 0).astype(np.uint32)
    asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
