"""A loopback TCP proxy in front of a real service, for outage tests that never stop the service.

``cut()`` closes every proxied connection (both sides) and stops listening, so new connections
are refused as if the service were down; ``hold()`` keeps the connections open but stops passing
bytes (a hung server or a black-holed route: only timeouts notice); ``restore()`` undoes either.
The machine's PostgreSQL and Mosquitto keep running the whole time.

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        dsn = f"host=127.0.0.1 port={proxy.port} ..."
        await proxy.cut()
        ...
        await proxy.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from types import TracebackType
from typing import Any

__all__ = ["TcpProxy"]

_CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host:target_port`` until cut or closed."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.accepted = 0  # connections accepted so far (tests can check a reconnect happened)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def __aenter__(self) -> TcpProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same port after a cut)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drop every connection and refuse new ones (the service looks down)."""
        self._flowing.set()
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _abort(writer)
        await self._drain_tasks()
        if server is not None:
            await server.wait_closed()

    def hold(self) -> None:
        """Stop passing bytes either way; connections stay open and new ones are accepted."""
        self._flowing.clear()

    async def restore(self) -> None:
        """Pass bytes again and accept connections again on the same port."""
        self._flowing.set()
        await self.start()

    async def close(self) -> None:
        """Cut and forget: every task this proxy started is finished when this returns."""
        await self.cut()

    async def _drain_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # cut between accept and this callback
            _abort(writer)
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.accepted += 1
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            try:
                up_reader, upstream_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.target_host, self.target_port), 5.0
                )
            except (OSError, TimeoutError):
                return
            self._writers.add(upstream_writer)
            await asyncio.gather(
                _pump(reader, upstream_writer, self._flowing),
                _pump(up_reader, writer, self._flowing),
            )
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._writers.discard(w)
                    _abort(w)
            self._tasks.discard(task)


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    try:
        while data := await reader.read(_CHUNK):
            await flowing.wait()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        # A half-close would leave the peer waiting: an ended side ends the whole connection.
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # RST, not FIN, so the client sees the link fail at once, as when a cable is pulled
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
