"""Scanning of the Modbus driver core: subscribed points, scan groups, passes and block reads.

``Scanner`` keeps the subscribed points grouped by scan period, runs one task per group, plans
its blocks around refused addresses (``scan.build_plan``), reads them over the link's transports
(round-robin over connections, ``max_in_flight`` at once on each), publishes GOOD blocks, BAD
points (timeouts, exception replies, outages) and STALE points (a pass too slow for its period),
and tells the link of timeouts and losses. See ``driver.py`` for the behaviour as a whole.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from drivers.base import AddressError, GoodBlock, PointSpec, PublishFn, Sample
from drivers.emitter import Emitter
from drivers.modbus import address as addr
from drivers.modbus.errors import ExceptionReply, LinkError, ProtocolError
from drivers.modbus.link import ModbusLink, ModbusTransport, timeout_reason
from drivers.modbus.scan import (
    ADDRESS_EXCEPTIONS,
    FUNCTION_EXCEPTIONS,
    ReadBlock,
    RefusedAddresses,
    ScanPlan,
    ScanPoint,
    build_plan,
    exception_text,
)
from drivers.modbus.settings import ModbusSettings
from drivers.pacing import Pacer
from drivers.scangroups import ScanGroup, ScanGroups
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

_OK, _REFUSED, _FAILED = "ok", "refused", "failed"
STALE_PERIODS = 3  # a value not refreshed for this many scan periods is stale


@dataclass(slots=True)
class _Group(ScanGroup):
    """Points polled at one period, their plan and their task."""

    plan: ScanPlan | None = None
    plan_version: int = -1
    refused_told: bool = False
    overruns: int = 0


class Scanner:
    """The points of one Modbus device and the tasks that poll them over ``link``."""

    def __init__(
        self,
        name: str,
        settings: ModbusSettings,
        link: ModbusLink,
        *,
        reprobe_s: float,
        max_in_flight: int,
        garbled_loses_link: bool,
    ) -> None:
        self.name = name
        self.settings = settings
        self._link = link
        self._max_in_flight = max_in_flight
        self._garbled_loses_link = garbled_loses_link
        self._limits = settings.limits
        self._refused = RefusedAddresses(reprobe_s)
        self._points: dict[str, ScanPoint] = {}
        self._invalid: dict[str, str] = {}
        self._invalid_untold: set[str] = set()
        self._scan_of: dict[str, int] = {}
        # keyed by the points' scan_ms as given; the group's own period is at least 1 ms
        self.groups = ScanGroups(
            f"modbus:{name}", lambda scan_ms: _Group(max(1, scan_ms)), self._scan_loop
        )
        self._down_told: set[str] = set()
        self._out = Emitter(name)
        self.requests = 0  # read requests sent, for tests and benchmarks

    # ---- tasks ----------------------------------------------------------------------------
    def start(self, publish: PublishFn) -> None:
        """Start one scan task per group (new groups start as they are made)."""
        self._out.publish = publish
        self.groups.start()

    def take_tasks(self) -> list[asyncio.Task[None]]:
        """Stop scanning: the scan tasks (and those retiring), for the driver to cancel."""
        return self.groups.take_tasks()

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """See ``ModbusDriver.subscribe``."""
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
            self.groups.join(point.scan_ms, point.key).plan = None
            self._scan_of[point.key] = point.scan_ms

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """See ``ModbusDriver.unsubscribe``."""
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
        group = self.groups.leave(scan_ms, key)
        if group is not None:
            group.plan = None

    # ---- publishing -----------------------------------------------------------------------
    def link_down(self, reason: str) -> None:
        """Every point not yet told during this outage goes BAD (once per outage, not per retry)."""
        keys = [k for k in self._points if k not in self._down_told]
        self._down_told.update(keys)
        self._out.bad(keys, reason)

    def link_up(self) -> None:
        """A new link: the next outage is told again, and every group reads at once."""
        self._down_told.clear()
        self.groups.wake_all()

    # ---- passes ---------------------------------------------------------------------------
    async def _scan_loop(self, group: _Group) -> None:
        link = self._link
        pacer = Pacer(group.scan_ms / 1000)
        while True:
            try:
                self._tell_invalid(group)
                if link.connected:
                    await self._watched_pass(group)
                elif link.down_reason:  # points subscribed during an outage
                    untold = [
                        k for k in group.keys if k in self._points and k not in self._down_told
                    ]
                    self._down_told.update(untold)
                    self._out.bad(untold, link.down_reason)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the scan of the whole device
                log.exception("%s: scan pass of %d ms failed", self.name, group.scan_ms)
            group.passes += 1
            group.overruns += pacer.advance()  # an overrun skips the polls due meanwhile
            if group.wake.is_set():
                group.wake.clear()
                if link.connected:
                    continue  # new points or a new link: read now
            await pacer.wait(group.wake)

    def _tell_invalid(self, group: _Group) -> None:
        if not self._invalid_untold:
            return
        untold = [k for k in self._invalid_untold if k in group.keys]
        if untold:
            now = time.time()
            self._invalid_untold.difference_update(untold)
            self._out.emit([Sample(k, None, Quality.BAD, now, self._invalid[k]) for k in untold])

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
        self._out.emit(samples)

    async def _scan_pass(self, group: _Group) -> None:
        plan = self._plan(group)
        generation = self._link.generation
        clients = self._link.clients
        if not group.refused_told:
            group.refused_told = True
            now = time.time()
            self._out.emit([Sample(p.key, None, Quality.BAD, now, why) for p, why in plan.refused])
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

    # ---- block reads ----------------------------------------------------------------------
    async def _read_lane(
        self, blocks: list[ReadBlock], client: ModbusTransport, generation: int
    ) -> None:
        in_flight = min(self._max_in_flight, len(blocks))
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
        current = self._link.current
        for block in blocks:
            if not current(generation):
                return
            await self._read_block(block, client, generation)

    async def _read_block(self, block: ReadBlock, client: ModbusTransport, generation: int) -> str:
        """Read one block and publish its points; returns _OK, _REFUSED or _FAILED."""
        self.requests += 1
        link = self._link
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
            link.lose(generation, f"{Reason.COMM_FAILURE}: {exc}")
            return _FAILED
        except ExceptionReply as exc:
            if not link.current(generation):
                return _FAILED
            link.timeouts_in_row = 0
            return await self._refused_block(block, exc.code, client, generation, time.time())
        except ProtocolError as exc:
            if not link.current(generation):
                return _FAILED
            self._reject(block, str(exc))
            if self._garbled_loses_link:
                link.count_timeout(generation)
            return _FAILED
        except TimeoutError:
            if link.current(generation):
                block.last_raw = None
                self._out.bad(
                    [p.key for p in block.points], timeout_reason(self.settings.timeout_ms)
                )
                link.count_timeout(generation)
            return _FAILED
        now = time.time()
        if not link.current(generation):
            return _FAILED
        link.timeouts_in_row = 0
        block.last_read, block.stale = asyncio.get_running_loop().time(), False
        if raw == block.last_raw and block.last_gen == generation:
            return _OK
        try:
            values = block.decode(raw)
        except Exception as exc:  # the codec accepts every bit pattern; this is defensive
            block.last_raw = None
            self._out.bad([p.key for p in block.points], f"{Reason.DECODE_ERROR}: {exc}", now)
            return _FAILED
        self._out.emit(GoodBlock(block.keys, values, now))
        block.last_raw, block.last_gen = raw, generation
        return _OK

    def _reject(self, block: ReadBlock, problem: str) -> str:
        block.last_raw = None
        self._out.bad([p.key for p in block.points], f"{Reason.COMM_FAILURE}: {problem}")
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
        self._out.bad([p.key for p in block.points], reason, now)
        return _REFUSED

    # ---- diagnostics ----------------------------------------------------------------------
    def stats(self) -> dict[int, tuple[int, int, int]]:
        """Per scan period: (passes, skipped polls, blocks in the plan)."""
        return {
            ms: (g.passes, g.overruns, len(g.plan.blocks) if g.plan else 0)
            for ms, g in self.groups.items()
        }
