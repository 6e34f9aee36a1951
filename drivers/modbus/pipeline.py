"""A Modbus TCP client connection that keeps several requests in flight.

pymodbus serialises requests on one connection: each waits for the previous reply. Modbus TCP
itself matches replies to requests by transaction id, so a device that queues requests (most
gateways and many PLCs) can be sent the next request before the last reply arrives. This client
does that, up to ``max_in_flight`` requests (1 = strictly one at a time, the safe default for
devices that cannot queue).

Every reply is checked against the request it claims to answer: transaction id, unit, function
code, and the byte count a read must return. A reply that fails any check never reaches the
caller as data. A late reply (its request already timed out) is dropped. A frame whose header is
impossible (protocol id not 0, length out of range) means the byte stream can no longer be framed,
so the connection is closed and every pending request fails: the driver reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modbus.errors import ExceptionReply, LinkError, ModbusError, ProtocolError
from drivers.modbus.requests import ModbusRequests

__all__ = ["ExceptionReply", "LinkError", "ModbusError", "PipelinedClient", "ProtocolError"]

_MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length, unit id
_MAX_PDU = 253


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[bytes]
    unit: int
    function: int
    expected_data: int  # bytes of data after the byte-count byte for reads; -1: not checked


class _Protocol(asyncio.Protocol):
    def __init__(self, client: PipelinedClient) -> None:
        self._client = client
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._client._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset = 0
        size = len(buffer)
        while size - offset >= 8:
            tid, protocol, length, unit = _MBAP.unpack_from(buffer, offset)
            if protocol != 0 or not 2 <= length <= _MAX_PDU + 1:
                self._client._fail_stream(
                    f"garbled frame (protocol id {protocol}, length {length}): connection reset"
                )
                return
            end = offset + 6 + length
            if end > size:
                break
            self._client._reply(tid, unit, bytes(buffer[offset + 7 : end]))
            offset = end
        del buffer[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        self._client._lost(exc)


class PipelinedClient(ModbusRequests):
    """One TCP connection to a Modbus TCP server, with transaction-id matching and timeouts."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = 1.0,
        max_in_flight: int = 1,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self._on_lost = on_lost
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_in_flight)
        self._pending: dict[int, _Pending] = {}
        self._next_tid = 0
        self._transport: asyncio.Transport | None = None
        self.dropped_replies = 0
        self.requests = 0

    @property
    def connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    async def connect(self) -> None:
        """Open the connection; raise LinkError on failure or timeout."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                await loop.create_connection(lambda: _Protocol(self), self.host, self.port)
        except TimeoutError:
            raise LinkError(
                f"no connection to {self.host}:{self.port} within {self.timeout_s:g} s"
            ) from None
        except ConnectionRefusedError:
            raise LinkError(f"cannot connect to {self.host}:{self.port}: refused") from None
        except OSError as exc:
            raise LinkError(
                f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None

    def close(self) -> None:
        """Close the connection; pending requests fail with LinkError."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()
        self._fail_all(LinkError("connection closed"))

    async def wait_closed(self) -> None:
        """Nothing to wait for: ``close`` aborts the socket at once."""

    # ---- requests ----------------------------------------------------------------------
    async def request(
        self, unit: int, function: int, payload: bytes, expected_data: int = -1
    ) -> bytes:
        """Send one request and return the reply's data (after the function code)."""
        async with self._slots:
            transport = self._transport
            if transport is None or transport.is_closing():
                raise LinkError("not connected")
            tid = self._allocate_tid()
            loop = asyncio.get_running_loop()
            future: asyncio.Future[bytes] = loop.create_future()
            self._pending[tid] = _Pending(future, unit, function, expected_data)
            pdu = bytes((function,)) + payload
            transport.write(_MBAP.pack(tid, 0, len(pdu) + 1, unit) + pdu)
            self.requests += 1
            # a timer handle, not asyncio.wait_for: this is paid on every request
            timer = loop.call_later(self.timeout_s, self._expire, tid, function)
            try:
                return await future
            finally:
                timer.cancel()
                self._pending.pop(tid, None)

    def _expire(self, tid: int, function: int) -> None:
        pending = self._pending.pop(tid, None)
        if pending is not None and not pending.future.done():
            pending.future.set_exception(
                TimeoutError(f"no reply within {self.timeout_s:g} s (function {function})")
            )

    def _allocate_tid(self) -> int:
        for _ in range(65536):
            self._next_tid = (self._next_tid + 1) & 0xFFFF
            if self._next_tid not in self._pending:
                return self._next_tid
        raise ProtocolError("no free transaction id")  # only with 65536 requests in flight

    # ---- replies -----------------------------------------------------------------------
    def _reply(self, tid: int, unit: int, pdu: bytes) -> None:
        pending = self._pending.pop(tid, None)
        if pending is None or pending.future.done():
            self.dropped_replies += 1  # late (timed out) or never asked for
            return
        future = pending.future
        function = pdu[0]
        if unit != pending.unit:
            future.set_exception(
                ProtocolError(f"reply from unit {unit}, asked unit {pending.unit}")
            )
        elif function == pending.function | 0x80 and len(pdu) == 2:
            future.set_exception(ExceptionReply(pending.function, pdu[1]))
        elif function != pending.function:
            future.set_exception(
                ProtocolError(
                    f"reply of the wrong kind (function {function}, asked {pending.function})"
                )
            )
        elif pending.expected_data >= 0 and (
            len(pdu) != 2 + pending.expected_data or pdu[1] != pending.expected_data
        ):
            future.set_exception(
                ProtocolError(
                    f"reply of the wrong size ({len(pdu) - 2} bytes, asked {pending.expected_data})"
                )
            )
        else:
            future.set_result(pdu[1:])

    def _fail_stream(self, message: str) -> None:
        transport, self._transport = self._transport, None
        self._fail_all(LinkError(message))
        if transport is not None:
            transport.abort()
        self._tell_lost(message)

    def _lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return  # closed by us (close() or _fail_stream), already told
        self._transport = None
        reason = f"connection lost: {exc}" if exc else "connection closed by the device"
        self._fail_all(LinkError(reason))
        self._tell_lost(reason)

    def _tell_lost(self, reason: str) -> None:
        if self._on_lost is not None:
            self._on_lost(reason)

    def _fail_all(self, error: ModbusError) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(error)
                with contextlib.suppress(BaseException):
                    item.future.exception()  # mark retrieved: the waiter may have gone
