"""The Modbus driver core, shared by Modbus TCP (``tcp.py``) and Modbus RTU (``rtu.py``).

Everything but the wire lives here: link supervision, scan groups, block planning around refused
addresses, stale marking, publishing and writes. A subclass says how to make its transports (the
``ModbusTransport`` protocol below: a pipelined TCP connection, or a handle on a shared serial
bus) and how many requests each may have in flight; its ``Settings`` extend ``ModbusSettings``.

How it works:

* **Link.** One supervisor task (``modbus:<name>:link``) owns the transports: it connects
  those the subclass makes (``connections`` TCP connections, or one handle on a serial bus),
  reports ``on_link`` on every state change, waits until any of them is lost, publishes every
  subscribed point BAD (``comm failure: ...``) at once, and reconnects with exponential backoff
  and jitter (0.5 s doubling to 30 s, ±20 %). A request is never retried: a timeout is reported
  at once, and ``LINK_TIMEOUTS`` timeouts in a row (a peer that went silent without closing its
  end) count as a lost link; so do replies that fail their checks where ``GARBLED_LOSES_LINK``
  (RTU: a wrong baud rate or parity garbles every reply, and the link must not look fine).
  Each connection gets a new *generation* number; a reply or error from an older generation is
  never published.
* **Scan classes.** Points are grouped by ``scan_ms``; each group is polled by its own task
  (``modbus:<name>:scan<ms>``). A pass that overruns its period makes the next polls be skipped,
  not queued. Blocks are planned per (table, scan period) by ``planner.plan_blocks``; subscribe and
  unsubscribe mark the group for re-planning at its next pass.
* **Several requests in flight** (TCP only). ``max_in_flight`` requests are pipelined on each
  connection (Modbus TCP matches replies by transaction id; 1, the default, suits devices that
  handle one request at a time), and with ``connections > 1`` a pass spreads its blocks
  round-robin over the connections, so a group with many blocks takes about
  ``blocks / (connections * max_in_flight)`` round trips instead of ``blocks``.
* **Replies.** The transport matches the reply to its request (transaction id on TCP, one
  request at a time and a CRC on RTU) and unit; a reply must also be of the function asked and
  carry exactly the registers (bytes of bits) asked, or nothing is decoded.
  Each block read publishes one batch, with ``source_ts`` the time the reply arrived.
* **Stale values.** A pass that takes longer than ``STALE_PERIODS`` scan periods (a slow or
  overloaded device) marks the points of every block it has not yet read STALE, keeping their
  last value; the next good read makes them GOOD again.
* **First values.** A scan group reads at once when the link comes up and when new points join
  it, so a slow scan class does not leave new points waiting a whole period.
* **Exception replies** 2 and 3 (illegal address or value) split the block in halves and read
  each, down to the single point (or gap) the device refuses; that range is remembered, later
  plans read around it, and it is forgotten after ``reprobe_s`` (60 s) so a corrected PLC program
  is picked up. Other exceptions (busy, device failure...) mark the block's points for this pass.
* **Unchanged blocks.** A block whose raw data equal those of its last GOOD publication on the same
  connection is not published again: the engine already holds those values with GOOD quality, and
  change detection would drop them anyway. Any BAD publication or a reconnect clears this memory.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from drivers.base import (
    AddressError,
    BrowseNode,
    DriverWriteError,
    GoodBlock,
    LinkState,
    LinkStateFn,
    PointSpec,
    PublishFn,
    Sample,
)
from drivers.modbus import address as addr
from drivers.modbus.codec import CodecError, encode
from drivers.modbus.errors import ExceptionReply, LinkError, ProtocolError
from drivers.modbus.scan import (
    ADDRESS_EXCEPTIONS,
    FUNCTION_EXCEPTIONS,
    Limits,
    ReadBlock,
    RefusedAddresses,
    ScanPlan,
    ScanPoint,
    build_plan,
    exception_text,
)
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

_OK, _REFUSED, _FAILED = "ok", "refused", "failed"
LINK_TIMEOUTS = 3  # timeouts in a row on one connection that count as a lost link
STALE_PERIODS = 3  # a value not refreshed for this many scan periods is stale


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``first_s`` doubling up to ``max_s``, each randomised by ±``jitter``."""

    first_s: float = 0.5
    max_s: float = 30.0
    jitter: float = 0.2
    stable_s: float = 10.0  # a link that stayed up this long starts the next outage at first_s

    def delay(self, attempt: int) -> float:
        base: float = min(self.max_s, self.first_s * 2.0 ** min(attempt, 30))
        return base * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)


@dataclass(slots=True)
class _Group:
    """Points polled at one period, their plan and their task."""

    scan_ms: int
    keys: set[str] = field(default_factory=set)
    plan: ScanPlan | None = None
    plan_version: int = -1
    refused_told: bool = False
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    passes: int = 0
    overruns: int = 0


class ModbusTransport(Protocol):
    """One way to a Modbus device, as the driver core uses it.

    Requests raise ``LinkError`` (link down or lost while waiting), ``ExceptionReply``,
    ``ProtocolError`` (a reply that does not fit the request) or ``TimeoutError``. A transport
    calls the ``on_lost`` callback it was made with when the link drops by itself.
    """

    async def connect(self) -> None:
        """Open the link; raise LinkError with a reason for the user."""
        ...

    def close(self) -> None:
        """Close the link; pending requests fail with LinkError."""
        ...

    async def wait_closed(self) -> None:
        """Wait until whatever ``close`` set in motion (a polling task, say) has ended."""
        ...

    async def read_registers(self, unit: int, function: int, address: int, count: int) -> bytes:
        """Function 3 or 4: the ``count`` registers as ``2 * count`` big-endian bytes."""
        ...

    async def read_bits(self, unit: int, function: int, address: int, count: int) -> list[bool]:
        """Function 1 or 2: ``count`` coils or discrete inputs."""
        ...

    async def write_register(self, unit: int, address: int, value: int) -> None:
        """Function 6."""
        ...

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """Function 16."""
        ...

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """Function 5."""
        ...


class ModbusSettings(BaseModel):
    """Settings every Modbus connection has, whatever its transport."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_ms: int = Field(default=1000, ge=10, le=60000)
    max_gap_registers: int = Field(default=8, ge=0, le=124)
    max_gap_bits: int = Field(default=32, ge=0, le=1999)
    max_block_registers: int = Field(default=125, ge=1, le=125)
    max_block_bits: int = Field(default=2000, ge=1, le=2000)


SettingsT = TypeVar("SettingsT", bound=ModbusSettings)


class ModbusDriver(abc.ABC, Generic[SettingsT]):
    """A ``drivers.base.Driver`` for one Modbus device (one unit id), whatever the transport.

    Subclasses define ``target`` (where the device is, for messages), ``_new_transports`` and,
    if they pipeline, ``max_in_flight``.
    """

    TABLE_NODES: ClassVar[tuple[addr.Table, ...]] = tuple(addr.Table)
    GARBLED_LOSES_LINK: ClassVar[bool] = False  # replies failing their checks count as timeouts

    def __init__(
        self,
        name: str,
        settings: SettingsT,
        *,
        backoff: Backoff | None = None,
        reprobe_s: float = 60.0,
    ) -> None:
        self.name = name
        self.settings = settings
        self._backoff = backoff or Backoff()
        s = self.settings
        self._limits = Limits(
            s.max_gap_registers, s.max_gap_bits, s.max_block_registers, s.max_block_bits
        )
        self._refused = RefusedAddresses(reprobe_s)
        self._points: dict[str, ScanPoint] = {}
        self._invalid: dict[str, str] = {}
        self._invalid_untold: set[str] = set()
        self._scan_of: dict[str, int] = {}
        self._groups: dict[int, _Group] = {}
        self._publish: PublishFn | None = None
        self._on_link: LinkStateFn | None = None
        self._state = LinkState.STOPPED
        self._clients: list[ModbusTransport] = []
        self._timeouts_in_row = 0
        self._gen = 0
        self._connected = False
        self._down_reason = ""
        self._down_told: set[str] = set()
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._supervisor: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._running = False
        self.requests = 0  # read requests sent, for tests and benchmarks

    @property
    def link_state(self) -> LinkState:
        return self._state

    @property
    @abc.abstractmethod
    def target(self) -> str:
        """Where the device is, for link details and error messages."""

    @property
    def max_in_flight(self) -> int:
        """Requests a transport may have in flight at once (1: strictly one at a time)."""
        return 1

    @abc.abstractmethod
    def _new_transports(self, on_lost: Callable[[str], None]) -> list[ModbusTransport]:
        """Unconnected transports for one link generation; ``on_lost`` is told of a drop."""

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (no connection needed)."""
        addr.validate(point, self.settings.max_block_registers)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and scanning in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._publish, self._on_link = publish, on_link
        self._running = True
        self._lost = asyncio.Event()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"modbus:{self.name}:link")
        for group in self._groups.values():
            self._start_group(group)

    async def stop(self) -> None:
        """Cancel every task, close the transports and report STOPPED."""
        if not self._running:
            return
        self._running = False
        groups = [g.task for g in self._groups.values()]
        tasks = [t for t in [self._supervisor, *groups, *self._retiring] if t]
        self._supervisor = None
        for group in self._groups.values():
            group.task = None
        for task in tasks:
            task.cancel()
        pending = {t for t in tasks if not t.done()}
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=2.0)
            for task in pending:  # a task still running swallowed a cancel
                task.cancel()
        clients = self._clients
        self._close_clients()
        for client in clients:
            await client.wait_closed()
        self._connected = False
        self._set_state(LinkState.STOPPED, "stopped")

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points to the scan (idempotent per key; a changed spec replaces the old one).

        A point this driver cannot read is published BAD with ``config error: ...`` instead of
        raising, so one bad address does not stop the others.
        """
        for point in points:
            if point.key in self._scan_of:
                old = self._points.get(point.key)
                if old is not None and old.spec == point:
                    continue
                self._drop(point.key)
            try:
                parsed = addr.validate(point, self.settings.max_block_registers)
            except AddressError as exc:
                self._invalid[point.key] = f"{Reason.CONFIG_ERROR}: {exc}"
                self._invalid_untold.add(point.key)
            else:
                self._points[point.key] = ScanPoint(point, parsed)
            group = self._groups.get(point.scan_ms)
            if group is None:
                group = self._groups[point.scan_ms] = _Group(max(1, point.scan_ms))
                if self._running:
                    self._start_group(group)
            group.keys.add(point.key)
            group.plan = None
            group.wake.set()  # read the new point now, not a whole period later
            self._scan_of[point.key] = point.scan_ms

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points; a scan group left empty stops its task."""
        for key in keys:
            self._drop(key)

    def _drop(self, key: str) -> None:
        scan_ms = self._scan_of.pop(key, None)
        self._points.pop(key, None)
        self._invalid.pop(key, None)
        self._invalid_untold.discard(key)
        self._down_told.discard(key)
        if scan_ms is None:
            return
        group = self._groups[scan_ms]
        group.keys.discard(key)
        group.plan = None
        if not group.keys:
            del self._groups[scan_ms]
            if group.task is not None:
                group.task.cancel()  # stop() still waits for it, should it be mid-request
                self._retiring.add(group.task)
                group.task.add_done_callback(self._retiring.discard)

    # ---- link supervision -----------------------------------------------------------------
    def _set_state(self, state: LinkState, detail: str) -> None:
        if state is self._state and state is not LinkState.DISCONNECTED:
            return
        self._state = state
        if self._on_link is not None:
            try:
                self._on_link(state, detail)
            except Exception:
                log.exception("%s: link listener failed", self.name)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            self._set_state(LinkState.CONNECTING, f"connecting to {self.target}")
            generation = self._gen + 1
            try:
                clients = await self._connect_all(generation)
            except ConnectionError as exc:
                reason = f"{Reason.COMM_FAILURE}: {exc}"
            else:
                self._clients, self._gen, self._connected = clients, generation, True
                self._down_reason = ""
                self._down_told.clear()
                self._lost.clear()
                up_since = loop.time()
                self._timeouts_in_row = 0
                self._set_state(LinkState.CONNECTED, self.target)
                for group in self._groups.values():
                    group.wake.set()
                await self._lost.wait()
                reason = self._lost_reason
                self._connected = False
                self._close_clients()
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            self._down_reason = reason
            self._publish_down(reason)
            self._set_state(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _connect_all(self, generation: int) -> list[ModbusTransport]:
        clients = self._new_transports(self._loss_callback(generation))
        try:
            for client in clients:
                await client.connect()
        except LinkError as exc:
            self._close(clients)
            raise ConnectionError(str(exc)) from None
        except BaseException:
            self._close(clients)
            raise
        return clients

    def _loss_callback(self, generation: int) -> Callable[[str], None]:
        def lost(reason: str) -> None:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {reason}")

        return lost

    def _link_lost(self, generation: int, reason: str) -> None:
        if generation == self._gen and self._connected:
            self._connected = False
            self._lost_reason = reason
            self._lost.set()

    def _close_clients(self) -> None:
        clients, self._clients = self._clients, []
        self._close(clients)

    @staticmethod
    def _close(clients: list[ModbusTransport]) -> None:
        for client in clients:
            client.close()

    def _current(self, generation: int) -> bool:
        return self._connected and generation == self._gen

    # ---- publishing -----------------------------------------------------------------------
    def _emit(self, samples: Sequence[Sample]) -> None:
        if samples and self._publish is not None:
            try:
                self._publish(samples)
            except Exception:
                log.exception("%s: publish callback failed", self.name)

    def _publish_bad(self, keys: Iterable[str], reason: str, ts: float | None = None) -> None:
        now = time.time() if ts is None else ts
        self._emit([Sample(key, None, Quality.BAD, now, reason) for key in keys])

    def _publish_down(self, reason: str) -> None:
        """Every point not yet told during this outage goes BAD (once per outage, not per retry)."""
        keys = [k for k in self._points if k not in self._down_told]
        self._down_told.update(keys)
        self._publish_bad(keys, reason)

    # ---- scanning -------------------------------------------------------------------------
    def _start_group(self, group: _Group) -> None:
        group.task = asyncio.create_task(
            self._scan_loop(group), name=f"modbus:{self.name}:scan{group.scan_ms}ms"
        )

    async def _scan_loop(self, group: _Group) -> None:
        loop = asyncio.get_running_loop()
        period = group.scan_ms / 1000
        deadline = loop.time()
        while True:
            try:
                self._tell_invalid(group)
                if self._connected:
                    await self._watched_pass(group)
                elif self._down_reason:  # points subscribed during an outage
                    untold = [
                        k for k in group.keys if k in self._points and k not in self._down_told
                    ]
                    self._down_told.update(untold)
                    self._publish_bad(untold, self._down_reason)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the scan of the whole device
                log.exception("%s: scan pass of %d ms failed", self.name, group.scan_ms)
            group.passes += 1
            deadline += period
            now = loop.time()
            if now >= deadline:  # the pass overran: skip the polls that were due meanwhile
                missed = int((now - deadline) // period) + 1
                group.overruns += missed
                deadline += missed * period
            if group.wake.is_set():
                group.wake.clear()
                if self._connected:
                    continue  # new points or a new link: read now
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel that races
                # the event being set, and stop() would have to cancel twice
                async with asyncio.timeout(deadline - now):
                    await group.wake.wait()
            if group.wake.is_set():
                deadline = loop.time()

    def _tell_invalid(self, group: _Group) -> None:
        if not self._invalid_untold:
            return
        untold = [k for k in self._invalid_untold if k in group.keys]
        if untold:
            now = time.time()
            self._invalid_untold.difference_update(untold)
            self._emit([Sample(k, None, Quality.BAD, now, self._invalid[k]) for k in untold])

    def _plan(self, group: _Group) -> ScanPlan:
        self._refused.expire(time.time())
        if group.plan is None or group.plan_version != self._refused.version:
            points = [self._points[k] for k in sorted(group.keys) if k in self._points]
            group.plan = build_plan(points, self._limits, self._refused)
            group.plan_version = self._refused.version
            group.refused_told = False
        return group.plan

    async def _watched_pass(self, group: _Group) -> None:
        """Run one pass; if it outlasts STALE_PERIODS periods, mark what it has not read yet."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        # a timer, not a watching task: it costs nothing when the pass is on time
        watch = loop.call_later(
            STALE_PERIODS * group.scan_ms / 1000, self._mark_stale, group, started
        )
        try:
            await self._scan_pass(group)
        finally:
            watch.cancel()

    def _mark_stale(self, group: _Group, started: float) -> None:
        if group.plan is None:
            return
        now, loop_now = time.time(), asyncio.get_running_loop().time()
        samples: list[Sample] = []
        for block in group.plan.blocks:
            if block.last_read < started and not block.stale and block.last_raw is not None:
                block.stale, block.last_raw = True, None  # the next good read republishes
                age = loop_now - block.last_read
                reason = (
                    f"{Reason.NO_UPDATE}: not read for {age:.1f} s"
                    f" (device too slow for the {group.scan_ms} ms scan)"
                )
                samples.extend(
                    Sample(p.key, None, Quality.STALE, now, reason) for p in block.points
                )
        self._emit(samples)

    async def _scan_pass(self, group: _Group) -> None:
        plan = self._plan(group)
        generation = self._gen
        clients = self._clients
        if not group.refused_told:
            group.refused_told = True
            now = time.time()
            self._emit([Sample(p.key, None, Quality.BAD, now, why) for p, why in plan.refused])
        blocks = plan.blocks
        if len(clients) == 1 or len(blocks) <= 1:
            await self._read_lane(blocks, clients[0], generation)
            return
        lanes = len(clients)
        async with asyncio.TaskGroup() as tasks:
            for index in range(min(lanes, len(blocks))):
                tasks.create_task(
                    self._read_lane(blocks[index::lanes], clients[index], generation),
                    name=f"modbus:{self.name}:scan{group.scan_ms}ms:conn{index}",
                )

    async def _read_lane(
        self, blocks: list[ReadBlock], client: ModbusTransport, generation: int
    ) -> None:
        in_flight = min(self.max_in_flight, len(blocks))
        if in_flight <= 1:
            await self._read_blocks(iter(blocks), client, generation)
            return
        queue = iter(blocks)  # shared: each worker takes the next block when its reply came
        async with asyncio.TaskGroup() as workers:
            for index in range(in_flight):
                workers.create_task(
                    self._read_blocks(queue, client, generation),
                    name=f"modbus:{self.name}:lane-worker{index}",
                )

    async def _read_blocks(
        self, blocks: Iterator[ReadBlock], client: ModbusTransport, generation: int
    ) -> None:
        for block in blocks:
            if not self._current(generation):
                return
            await self._read_block(block, client, generation)

    async def _read_block(self, block: ReadBlock, client: ModbusTransport, generation: int) -> str:
        """Read one block and publish its points; returns _OK, _REFUSED or _FAILED."""
        self.requests += 1
        table, unit = block.table, self.settings.unit_id
        raw: bytes | list[bool]
        try:
            if table.is_bits:
                raw = await client.read_bits(unit, table.read_function, block.start, block.count)
            else:
                raw = await client.read_registers(
                    unit, table.read_function, block.start, block.count
                )
        except LinkError as exc:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {exc}")
            return _FAILED
        except ExceptionReply as exc:
            if not self._current(generation):
                return _FAILED
            self._timeouts_in_row = 0
            return await self._refused_block(block, exc.code, client, generation, time.time())
        except ProtocolError as exc:
            if not self._current(generation):
                return _FAILED
            self._reject(block, str(exc))
            if self.GARBLED_LOSES_LINK:
                self._count_timeout(generation)
            return _FAILED
        except TimeoutError:
            if self._current(generation):
                block.last_raw = None
                self._publish_bad([p.key for p in block.points], self._timeout_reason())
                self._count_timeout(generation)
            return _FAILED
        now = time.time()
        if not self._current(generation):
            return _FAILED
        self._timeouts_in_row = 0
        block.last_read, block.stale = asyncio.get_running_loop().time(), False
        if raw == block.last_raw and block.last_gen == generation:
            return _OK
        try:
            values = block.decode(raw)
        except Exception as exc:  # the codec accepts every bit pattern; this is defensive
            block.last_raw = None
            self._publish_bad([p.key for p in block.points], f"{Reason.DECODE_ERROR}: {exc}", now)
            return _FAILED
        self._emit(GoodBlock(block.keys, values, now))
        block.last_raw, block.last_gen = raw, generation
        return _OK

    def _timeout_reason(self) -> str:
        return f"{Reason.TIMEOUT}: no reply within {self.settings.timeout_ms} ms"

    def _count_timeout(self, generation: int) -> None:
        self._timeouts_in_row += 1
        if self._timeouts_in_row >= LINK_TIMEOUTS:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {self.no_reply_text}")

    @property
    def no_reply_text(self) -> str:
        """Why a link counts as lost after ``LINK_TIMEOUTS`` failed requests in a row."""
        return f"{LINK_TIMEOUTS} requests in a row unanswered"

    def _reject(self, block: ReadBlock, problem: str) -> str:
        block.last_raw = None
        self._publish_bad([p.key for p in block.points], f"{Reason.COMM_FAILURE}: {problem}")
        return _FAILED

    async def _refused_block(
        self,
        block: ReadBlock,
        code: int,
        client: ModbusTransport,
        generation: int,
        now: float,
    ) -> str:
        block.last_raw = None
        reason = f"{Reason.DEVICE_EXCEPTION}: {exception_text(code)}"
        if code in ADDRESS_EXCEPTIONS and len(block.atoms) > 1:
            first, second = block.split()
            left = await self._read_block(first, client, generation)
            right = await self._read_block(second, client, generation)
            if left == _OK and right == _OK:
                # Both halves read fine alone: the gap (or boundary) between them is refused.
                self._refused.add(block.table, first.end, second.start, reason, now)
            return _REFUSED
        if code in ADDRESS_EXCEPTIONS or code in FUNCTION_EXCEPTIONS:
            for atom in block.atoms:
                start = min(p.span.start for p in atom)
                end = max(p.span.end for p in atom)
                self._refused.add(block.table, start, end, reason, now)
        self._publish_bad([p.key for p in block.points], reason, now)
        return _REFUSED

    # ---- writes ---------------------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write a device value; DriverWriteError says why it was not written."""
        try:
            where = addr.validate(point, self.settings.max_block_registers)
        except AddressError as exc:
            raise DriverWriteError(str(exc)) from None
        if not where.table.writable:
            raise DriverWriteError(
                f"{point.address} is in the {where.table.label}, which are read-only:"
                " only holding registers (HR) and coils (CO) can be written"
            )
        registers: list[int] = []
        if where.table is addr.Table.COIL or where.bit is not None:
            if not isinstance(value, bool | int) or value not in (0, 1):
                raise DriverWriteError(f"cannot write {value!r} to {point.address}: not a bool")
        else:
            try:
                registers = encode(
                    value, point.data_type, point.byte_order, point.word_order, point.length
                )
            except CodecError as exc:
                raise DriverWriteError(f"cannot write to {point.address}: {exc}") from None
        if not self._connected or not self._clients:
            raise DriverWriteError(
                f"{Reason.NOT_CONNECTED}: {self._down_reason or 'no connection to ' + self.target}"
            )
        client, generation = self._clients[0], self._gen
        unit, offset, text = self.settings.unit_id, where.offset, point.address
        try:
            if where.table is addr.Table.COIL:
                await client.write_coil(unit, offset, bool(value))
            elif where.bit is not None:
                await self._write_bit(client, where, bool(value))
            elif len(registers) == 1:
                await client.write_register(unit, offset, registers[0])
            else:
                await client.write_registers(unit, offset, registers)
        except ExceptionReply as exc:
            raise DriverWriteError(f"{text}: {Reason.DEVICE_EXCEPTION}: {exc}") from None
        except LinkError as exc:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {exc}")
            raise DriverWriteError(f"{text}: {Reason.COMM_FAILURE}: {exc}") from None
        except ProtocolError as exc:
            raise DriverWriteError(f"{text}: {Reason.COMM_FAILURE}: {exc}") from None
        except TimeoutError:
            raise DriverWriteError(f"{text}: {self._timeout_reason()}") from None

    async def _write_bit(
        self, client: ModbusTransport, where: addr.ModbusAddress, value: bool
    ) -> None:
        """Read-modify-write of one bit of a holding register (not atomic against the PLC)."""
        unit = self.settings.unit_id
        raw = await client.read_registers(unit, 3, where.offset, 1)
        assert where.bit is not None
        mask = 1 << where.bit
        word = int.from_bytes(raw, "big")
        word = (word | mask) if value else (word & ~mask)
        await client.write_register(unit, where.offset, word)

    # ---- browsing -------------------------------------------------------------------------
    async def browse(self, path: str = "") -> list[BrowseNode]:
        """The four Modbus tables (Modbus has no address space to discover)."""
        if path:
            return []
        return [
            BrowseNode(
                table.label.capitalize(),
                table.value,
                DataType.BOOL if table.is_bits else DataType.UINT16,
            )
            for table in self.TABLE_NODES
        ]

    # ---- diagnostics ----------------------------------------------------------------------
    def scan_stats(self) -> dict[int, tuple[int, int, int]]:
        """Per scan period: (passes, skipped polls, blocks in the plan)."""
        return {
            ms: (g.passes, g.overruns, len(g.plan.blocks) if g.plan else 0)
            for ms, g in self._groups.items()
        }
