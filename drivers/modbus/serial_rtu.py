"""Modbus RTU over a serial line (RS-485/RS-232), with pyserial on the asyncio loop.

A serial bus is half duplex and has no transaction ids, so:

* **One port, one bus, one request at a time.** Every connection on the same port (several unit
  ids on one RS-485 line) shares one ``SerialBus``: the port is opened once, a lock lets one
  request on the line at a time, and the port closes when its last connection does. All
  connections on one port must use the same line settings (a clash is a clear link error).
* **Framing.** A request is ``unit, function, data, CRC-16`` (CRC low byte first). A reply's length
  follows from its function (and byte count, for reads); its CRC is checked before anything else,
  and a frame with a bad CRC is never decoded. It must come from the unit asked, be of the
  function asked (or its exception) and carry exactly the data asked. The CRC, frame lengths,
  these checks and the line's timing are in ``rtu_frame.py``; this module runs the port.
* **Silence.** Before each request the line must have been quiet for 3.5 character times (1.75 ms
  above 19200 baud, as the spec says). After an exchange that went wrong (timeout, bad or
  unexpected frame, cancelled request) the line must be quiet for ``min(timeout, 0.5 s)`` first,
  so a late reply is dropped instead of being taken for the answer to the next request. Bytes that
  arrive with no request pending are dropped. A frame whose length cannot be told (garbage, an
  unexpected function) ends when the line has been silent for ``FRAME_END_S`` (longer than the
  3.5 characters, because USB adapters deliver bytes in bursts).
* **Line glitches.** A 0x00 or 0xFF before a reply (a transceiver turning round) is skipped: no
  reply starts with them, as unit ids are 1..247.
* **Local echo.** Some 2-wire adapters hand back every byte sent; with ``local_echo`` the echo of
  each request is checked and taken off before the reply is read.
* **Timeouts.** Per request: ``timeout_s`` plus the time the request and the expected reply take
  on the wire at the configured baud rate (255 bytes take 266 ms at 9600 baud).
* **Port faults.** A port that cannot be opened is a ``LinkError`` such as ``cannot open
  /dev/ttyUSB0: [Errno 2] No such file or directory``. A read error or end of file on the port
  (adapter unplugged, virtual pair gone) closes the bus, fails the pending request and tells
  every connection on it that the link is lost.

On Linux and macOS the port's file descriptor is watched by the loop (``loop.add_reader``); on
Windows, where serial handles cannot be watched, a task polls the port every 2 ms instead
(``SerialBus.poll``; the tests run this mode on Linux as well).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.modbus.errors import ExceptionReply, LinkError, ProtocolError
from drivers.modbus.requests import ModbusRequests
from drivers.modbus.rtu_frame import (
    LineSettings,
    check,
    crc16,
    crc_ok,
    frame_length,
    unframed_error,
    with_crc,
)

__all__ = ["LineSettings", "RtuClient", "SerialBus", "bus_of", "crc16", "crc_ok", "with_crc"]

FRAME_END_S = 0.05  # silence that ends a frame of unknown length
RECOVER_MAX_S = 0.5  # longest quiet wait after an exchange that went wrong
POLL_S = 0.002  # polling period where the port cannot be watched (Windows)


def _open_error(port: str, exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code:
        text = f"cannot open {port}: [Errno {code}] {os.strerror(code)}"
        if code in (errno.EAGAIN, errno.EBUSY):
            text += " (the port is in use by another program)"
        elif code == errno.EACCES:
            text += " (no permission: on Linux, add the user to the 'dialout' group)"
        return text
    return f"cannot open {port}: {exc}"


@dataclass(slots=True)
class _Pending:
    owner: RtuClient
    future: asyncio.Future[bytes]
    unit: int
    function: int
    expected_data: int  # bytes of data after the byte count for reads; -1: not a read


class SerialBus:
    """One open serial port, shared by every ``RtuClient`` on it; one request at a time."""

    poll: bool = sys.platform == "win32"

    def __init__(self, line: LineSettings) -> None:
        self.line = line
        self.loop = asyncio.get_running_loop()
        self.users: set[RtuClient] = set()
        self.dropped_bytes = 0  # bytes that arrived with no request waiting for them
        self.requests = 0
        self._serial: serial.Serial | None = None
        self._fd = -1
        self._lock = asyncio.Lock()
        self._buffer = bytearray()
        self._pending: _Pending | None = None
        self._last_activity = float("-inf")  # loop time the line was last busy
        self._dirty = False
        self._recover_s = 0.0
        self._end_timer: asyncio.TimerHandle | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._out = bytearray()
        self._echo = b""  # the part of our own request the adapter has yet to echo
        self.closed_reason = ""

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    # ---- port ------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port (non-blocking) and start watching it; LinkError if it cannot be."""
        line = self.line
        try:
            port = serial.Serial(
                port=line.port,
                baudrate=line.baudrate,
                bytesize=line.bytesize,
                parity=line.parity,
                stopbits=line.stopbits,
                timeout=0,
                write_timeout=0,
                **({} if sys.platform == "win32" else {"exclusive": True}),
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(_open_error(line.port, exc)) from None
        self._serial = port
        if self.poll:
            self._poll_task = self.loop.create_task(
                self._poll_loop(), name=f"modbus-rtu:{line.port}:poll"
            )
        else:
            self._fd = port.fileno()
            self.loop.add_reader(self._fd, self._read_ready)

    def close(self, reason: str = "connection closed") -> None:
        """Close the port; a pending request fails with LinkError(reason)."""
        port, self._serial = self._serial, None
        if port is None:
            return
        self.closed_reason = reason
        if self._fd >= 0:
            self.loop.remove_reader(self._fd)
            self.loop.remove_writer(self._fd)
            self._fd = -1
        if self._poll_task is not None:
            self._poll_task.cancel()  # wait_closed() waits for it
        self._out.clear()
        with contextlib.suppress(Exception):
            port.close()
        self._cancel_end_timer()
        _forget(self)
        pending = self._pending
        if pending is not None:
            self._settle(pending, LinkError(reason))

    async def wait_closed(self) -> None:
        """Wait for the polling task (if any) once the port is closed."""
        task = self._poll_task
        if task is not None and self._serial is None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._poll_task = None

    def _lose(self, reason: str) -> None:
        """The port failed by itself: close it and tell every connection on it."""
        if self._serial is None:
            return
        self.close(reason)
        for user in list(self.users):
            user._bus_lost(self, reason)

    def release(self, client: RtuClient) -> None:
        """``client`` is done with the bus; the last one closes the port."""
        self.users.discard(client)
        pending = self._pending
        if pending is not None and pending.owner is client:
            self._settle(pending, LinkError("connection closed"))
        if not self.users:
            self.close()

    # ---- reading and writing -----------------------------------------------------------------
    def _read_ready(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(f"serial port {self.line.port} lost: [Errno {exc.errno}] {exc.strerror}")
            return
        if not data:
            self._lose(f"serial port {self.line.port} closed (adapter unplugged?)")
            return
        self._received(data)

    async def _poll_loop(self) -> None:
        while (port := self._serial) is not None:
            try:
                if self._out:
                    written = port.write(bytes(self._out)) or 0
                    del self._out[:written]
                waiting = port.in_waiting
                data = port.read(waiting) if waiting else b""
            except (serial.SerialException, OSError) as exc:
                self._lose(f"serial port {self.line.port} lost: {exc}")
                return
            if data:
                self._received(data)
            await asyncio.sleep(POLL_S)

    def _write(self, frame: bytes) -> None:
        if self.poll or self._out:
            self._out += frame
            return
        try:
            written = os.write(self._fd, frame)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError as exc:
            self._lose(f"serial port {self.line.port} lost: [Errno {exc.errno}] {exc.strerror}")
            return
        if written < len(frame):
            self._out += frame[written:]
            self.loop.add_writer(self._fd, self._write_ready)

    def _write_ready(self) -> None:
        try:
            written = os.write(self._fd, self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(f"serial port {self.line.port} lost: [Errno {exc.errno}] {exc.strerror}")
            return
        del self._out[:written]
        if not self._out:
            self.loop.remove_writer(self._fd)

    # ---- requests ----------------------------------------------------------------------------
    async def request(
        self,
        client: RtuClient,
        unit: int,
        function: int,
        payload: bytes,
        expected_data: int,
        timeout_s: float,
    ) -> bytes:
        """Send one request when the line is free and quiet; the reply's data (after the
        function code) once it has passed every check."""
        async with self._lock:
            if self._serial is None or client._bus is not self:
                raise LinkError(self.closed_reason or "not connected")
            await self._wait_quiet()
            if self._serial is None or client._bus is not self:
                raise LinkError(self.closed_reason or "not connected")
            loop = self.loop
            future: asyncio.Future[bytes] = loop.create_future()
            pending = _Pending(client, future, unit, function, expected_data)
            self._buffer.clear()
            self._pending = pending
            frame = with_crc(bytes((unit, function)) + payload)
            self._echo = frame if self.line.local_echo else b""
            self._write(frame)
            self.requests += 1
            char_s = self.line.char_s
            on_wire = len(frame) * char_s
            self._last_activity = loop.time() + on_wire
            reply = 5 + expected_data if expected_data >= 0 else 8
            timer = loop.call_later(
                timeout_s + on_wire + reply * char_s, self._expire, pending, timeout_s
            )
            ok = False
            try:
                data = await future
                ok = True
                return data
            except ExceptionReply:
                ok = True
                raise
            finally:
                timer.cancel()
                self._cancel_end_timer()
                self._pending = None
                self._echo = b""
                if not ok:
                    self._dirty = True  # quiet from now on, so a late reply is not taken
                    self._last_activity = max(self._last_activity, loop.time())
                    self._recover_s = max(self.line.gap_s, min(timeout_s, RECOVER_MAX_S))

    async def _wait_quiet(self) -> None:
        loop = self.loop
        while True:
            quiet = self._recover_s if self._dirty else self.line.gap_s
            wait = self._last_activity + quiet - loop.time()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._dirty = False

    def _expire(self, pending: _Pending, timeout_s: float) -> None:
        got = f" (an incomplete reply of {len(self._buffer)} bytes)" if self._buffer else ""
        self._settle(
            pending,
            TimeoutError(f"no reply within {timeout_s:g} s (function {pending.function}){got}"),
        )

    def _settle(self, pending: _Pending, outcome: bytes | BaseException) -> None:
        if pending.future.done():
            return
        if isinstance(outcome, BaseException):
            pending.future.set_exception(outcome)
            with contextlib.suppress(BaseException):
                pending.future.exception()  # retrieved: the waiter may have been cancelled
        else:
            pending.future.set_result(outcome)

    # ---- replies -----------------------------------------------------------------------------
    def _received(self, data: bytes) -> None:
        self._last_activity = max(self._last_activity, self.loop.time())
        pending = self._pending
        if pending is None or pending.future.done():
            self.dropped_bytes += len(data)
            self._dirty = True  # a late reply or noise: let the line calm down first
            self._recover_s = max(self._recover_s, self.line.gap_s)
            return
        if self._echo:
            data = self._strip_echo(data, pending)
            if not data:
                return
        buffer = self._buffer
        if not buffer:
            # An RS-485 transceiver turning round may leave a 0x00 or 0xFF on the line before the
            # reply; no reply starts with them (unit ids are 1..247).
            start = len(data) - len(data.lstrip(b"\x00\xff"))
            if start:
                self.dropped_bytes += start
                data = data[start:]
                if not data:
                    return
        buffer += data
        need = frame_length(buffer, pending.function)
        if need is None or len(buffer) < need:
            self._arm_end_timer()
            return
        frame = bytes(buffer[:need])
        if len(buffer) > need:
            self.dropped_bytes += len(buffer) - need
            self._dirty = True
        buffer.clear()
        self._cancel_end_timer()
        self._settle(pending, check(frame, pending.unit, pending.function, pending.expected_data))

    def _strip_echo(self, data: bytes, pending: _Pending) -> bytes:
        """What is left of ``data`` once the adapter's echo of our request is taken off."""
        size = min(len(self._echo), len(data))
        if data[:size] != self._echo[:size]:
            self._echo = b""
            self._settle(
                pending, ProtocolError("the echo of the request came back garbled (collision?)")
            )
            return b""
        self._echo = self._echo[size:]
        return data[size:]

    def _arm_end_timer(self) -> None:
        self._cancel_end_timer()
        self._end_timer = self.loop.call_later(max(FRAME_END_S, self.line.gap_s), self._frame_ended)

    def _cancel_end_timer(self) -> None:
        if self._end_timer is not None:
            self._end_timer.cancel()
            self._end_timer = None

    def _frame_ended(self) -> None:
        """The line went quiet before a frame of the expected length was complete."""
        self._end_timer = None
        pending = self._pending
        if pending is None or pending.future.done():
            return
        frame = bytes(self._buffer)
        self._buffer.clear()
        self._settle(pending, unframed_error(frame, pending.unit, pending.function))


_BUSES: dict[str, SerialBus] = {}


def _key(port: str) -> str:
    """One key per device: ``/dev/serial/by-id/...`` and the ``/dev/ttyUSB0`` it links to share
    a bus (opening it twice would fail on the port's lock)."""
    return os.path.realpath(port) if port.startswith("/") else port.upper()


def bus_of(port: str) -> SerialBus | None:
    """The open bus of ``port`` (under any of its names), if a connection has it open."""
    return _BUSES.get(_key(port))


def _forget(bus: SerialBus) -> None:
    key = _key(bus.line.port)
    if _BUSES.get(key) is bus:
        del _BUSES[key]


def _attach(line: LineSettings, client: RtuClient) -> SerialBus:
    key = _key(line.port)
    bus = _BUSES.get(key)
    if bus is not None and (not bus.is_open or bus.loop is not asyncio.get_running_loop()):
        _forget(bus)
        bus = None
    if bus is None:
        bus = SerialBus(line)
        bus.open()
        _BUSES[key] = bus
    elif dataclasses.replace(line, port=bus.line.port) != bus.line:
        raise LinkError(
            f"cannot open {line.port} at {line.describe()}: another connection uses it at"
            f" {bus.line.describe()}; connections on one port need the same line settings"
        )
    bus.users.add(client)
    return bus


class RtuClient(ModbusRequests):
    """One connection's handle on a shared serial bus: a ``ModbusTransport`` for the driver."""

    def __init__(
        self,
        line: LineSettings,
        *,
        timeout_s: float = 1.0,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.line = line
        self.timeout_s = timeout_s
        self._on_lost = on_lost
        self._bus: SerialBus | None = None
        self._left: SerialBus | None = None  # the bus close() left, for wait_closed()

    @property
    def bus(self) -> SerialBus | None:
        return self._bus

    async def connect(self) -> None:
        """Join (or open) the bus of this port; LinkError if the port cannot be opened."""
        if self._bus is None:
            self._bus = _attach(self.line, self)

    def close(self) -> None:
        """Leave the bus (the last connection closes the port); a pending request fails."""
        bus, self._bus = self._bus, None
        if bus is not None:
            self._left = bus
            bus.release(self)

    async def wait_closed(self) -> None:
        """If leaving closed the port, wait until its polling task (Windows) has ended."""
        bus, self._left = self._left, None
        if bus is not None:
            await bus.wait_closed()

    def _bus_lost(self, bus: SerialBus, reason: str) -> None:
        if self._bus is bus:
            self._bus = None
            if self._on_lost is not None:
                self._on_lost(reason)

    async def request(
        self, unit: int, function: int, payload: bytes, expected_data: int = -1
    ) -> bytes:
        """Send one request and return the reply's data (after the function code)."""
        bus = self._bus
        if bus is None:
            raise LinkError("not connected")
        return await bus.request(self, unit, function, payload, expected_data, self.timeout_s)
