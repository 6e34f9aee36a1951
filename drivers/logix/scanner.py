"""Scanning of the Logix driver: subscribed points, their check against the tag list, scan
groups and passes, publishing, and the tag list re-upload after a program download.

``Scanner`` keeps the points grouped by scan period with one task per group; each pass reads all
the group's points in one call on the controller's thread (``LogixLink.call``) and publishes the
good values as one ``GoodBlock`` and the refused ones BAD. See ``driver.py`` for the whole.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.base import AddressError, GoodBlock, LinkState, PointSpec, PublishFn, Sample
from drivers.emitter import Emitter
from drivers.logix import address as addr
from drivers.logix.link import LogixLink
from drivers.logix.plc import CommFailure, ReadResult
from drivers.logix.values import from_device
from drivers.pacing import Pacer
from drivers.scangroups import ScanGroup, ScanGroups
from drivers.tasks import retire
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

REUPLOAD_MIN_S = 10.0  # at most one tag list re-upload per this many seconds
# CIP status texts (pycomm3's) that mean "this tag is not (any longer) in the program"
_GONE = ("Destination unknown", "IOI syntax error")


@dataclass(slots=True)
class _Point:
    """A subscribed point: its parsed address and what pycomm3 is asked for."""

    spec: PointSpec
    where: addr.LogixAddress | None
    request: str = ""
    problem: str = ""  # a config error: the point is not read

    @property
    def key(self) -> str:
        return self.spec.key


class Scanner:
    """The points of one controller and the tasks that read them over ``link``."""

    def __init__(
        self,
        name: str,
        link: LogixLink,
        *,
        timeout_ms: int,
        init_tags: bool,
        max_tags_per_read: int,
    ) -> None:
        self.name = name
        self._link = link
        self._controller = link.controller
        self._timeout_ms = timeout_ms
        self._init_tags = init_tags
        self._max_tags_per_read = max_tags_per_read
        self.points: dict[str, _Point] = {}
        self._groups = ScanGroups(f"logix:{name}", ScanGroup, self._scan_loop)
        self._out = Emitter(name)
        self._told: set[str] = set()  # points published BAD since the last change of state
        self._good: set[str] = set()  # points whose last read was good (download detection)
        self._declared_version = -1
        self._points_version = 0
        self._resolved_version = -1
        self._reupload_at = 0.0
        self._reupload_lock = asyncio.Lock()
        self.reuploads = 0  # tag list uploads after the first (program downloads seen)

    # ---- tasks ----------------------------------------------------------------------------
    def start(self, publish: PublishFn) -> None:
        """Start one scan task per group (new groups start as they are made)."""
        self._out.publish = publish
        self._groups.start()

    def take_tasks(self) -> list[asyncio.Task[None]]:
        """Stop scanning: the scan tasks (and those retiring), for the driver to cancel."""
        return self._groups.take_tasks()

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """See ``LogixDriver.subscribe``."""
        for spec in points:
            old = self.points.get(spec.key)
            if old is not None:
                if old.spec == spec:
                    continue
                self._drop(spec.key)
            try:
                point = _Point(spec, addr.validate(spec))
            except AddressError as exc:
                point = _Point(spec, None, problem=f"{Reason.CONFIG_ERROR}: {exc}")
            self.points[spec.key] = point
            self._points_version += 1
            self._groups.join(max(1, spec.scan_ms), spec.key)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """See ``LogixDriver.unsubscribe``."""
        for key in keys:
            self._drop(key)

    def _drop(self, key: str) -> None:
        point = self.points.pop(key, None)
        self._told.discard(key)
        self._good.discard(key)
        if point is None:
            return
        self._points_version += 1
        self._groups.leave(max(1, point.spec.scan_ms), key)

    def declarable(self) -> list[tuple[PointSpec, addr.LogixAddress]]:
        """The points with a valid address, for ``addr.declare``."""
        return [(p.spec, p.where) for p in self.points.values() if p.where is not None]

    # ---- the link's user ------------------------------------------------------------------
    async def declare(self) -> None:
        """Give the controller the project's declarations when the point set changed."""
        if self._declared_version == self._points_version:
            return
        version = self._points_version
        table, _errors = addr.declare(self.declarable())
        await self._link.call(self._controller.declare, table)
        self._declared_version = version

    def connected(self) -> None:
        """A new connection: tell every problem again and check the points."""
        self._told.clear()
        self._good.clear()
        self._resolve()

    def wake(self) -> None:
        """Read every group now."""
        self._groups.wake_all()

    def link_down(self, reason: str) -> None:
        """Every point not yet told during this outage goes BAD (once per outage)."""
        keys = [k for k in self.points if k not in self._told]
        self._told.update(keys)
        self._good.clear()
        self._out.bad(keys, reason)

    def _resolve(self) -> None:
        """Check every point against the tag list (or the declarations) and set its request."""
        table = self._controller.table
        errors: dict[str, str] = {}
        if table is None:
            _table, errors = addr.declare(self.declarable())
        for point in self.points.values():
            if point.where is None:
                continue  # a syntax error, found at subscribe
            point.problem = ""
            try:
                if table is not None:
                    addr.resolve(point.where, point.spec, table)
                elif point.key in errors:
                    raise AddressError(errors[point.key])
            except AddressError as exc:
                point.problem = f"{Reason.CONFIG_ERROR}: {exc}"
                self._told.discard(point.key)
                continue
            point.request = point.where.request(addr.elements(point.spec))
        self._resolved_version = self._points_version

    # ---- passes ---------------------------------------------------------------------------
    async def _scan_loop(self, group: ScanGroup) -> None:
        link = self._link
        pacer = Pacer(group.scan_ms / 1000)
        while self._groups.running and group.keys:
            try:
                if link.connected:
                    await self._scan_pass(group)
                elif link.down_reason:  # points subscribed during an outage
                    untold = [k for k in group.keys if k not in self._told]
                    self._told.update(untold)
                    self._out.bad(untold, link.down_reason)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the scan of the whole controller
                log.exception("%s: scan pass of %d ms failed", self.name, group.scan_ms)
            group.passes += 1
            pacer.advance()  # an overrun skips the polls that were due meanwhile
            if group.wake.is_set():
                group.wake.clear()
                if link.connected:
                    continue
            await pacer.wait(group.wake)

    async def _scan_pass(self, group: ScanGroup) -> None:
        link = self._link
        if self._resolved_version != self._points_version:
            await self.declare()
            self._resolve()
        generation = link.generation
        points = [self.points[k] for k in sorted(group.keys) if k in self.points]
        readable: list[_Point] = []
        refused: list[Sample] = []
        now = time.time()
        for point in points:
            if point.where is None or point.problem:
                if point.key not in self._told:
                    self._told.add(point.key)
                    refused.append(Sample(point.key, None, Quality.BAD, now, point.problem))
            else:
                readable.append(point)
        self._out.emit(refused)
        if not readable:
            return
        requests = [p.request for p in readable]
        # pycomm3's timeout is per reply; a big pass is several packets (~100-200 tags each)
        limit_s = link.timeout_s * (4 + len(requests) / 50) + 1.0
        try:
            results, ts = await link.call(self._read_all, requests, limit_s=limit_s)
        except CommFailure as exc:
            link.lose(generation, f"{Reason.COMM_FAILURE}: {exc}")
            return
        except TimeoutError:
            link.lose(generation, f"{Reason.COMM_FAILURE}: no reply within {self._timeout_ms} ms")
            return
        if generation != link.generation or not link.connected:
            return
        self._publish_results(readable, results, ts)

    def _read_all(self, requests: list[str]) -> tuple[list[ReadResult], float]:
        """On the worker thread: every request, in reads of at most ``max_tags_per_read``."""
        size = self._max_tags_per_read or len(requests)
        results: list[ReadResult] = []
        ts = time.time()
        for start in range(0, len(requests), size):
            part, ts = self._controller.read(requests[start : start + size])
            results.extend(part)
        return results, ts

    def _publish_results(
        self, points: Sequence[_Point], results: Sequence[ReadResult], ts: float
    ) -> None:
        keys: list[str] = []
        values: list[Any] = []
        bad: list[Sample] = []
        gone = False
        for point, result in zip(points, results, strict=True):
            key = point.key
            if result.error is None:
                try:
                    value = from_device(result.value, point.spec)
                except (TypeError, ValueError) as exc:
                    bad.append(Sample(key, None, Quality.BAD, ts, f"{Reason.DECODE_ERROR}: {exc}"))
                    continue
                keys.append(key)
                values.append(value)
                self._good.add(key)
                self._told.discard(key)
            else:
                if key in self._good and result.error.startswith(_GONE):
                    gone = True
                self._good.discard(key)
                bad.append(
                    Sample(key, None, Quality.BAD, ts, f"{Reason.DEVICE_EXCEPTION}: {result.error}")
                )
        if keys:
            self._out.emit(GoodBlock(tuple(keys), values, ts))
        self._out.emit(bad)
        if gone:
            self._schedule_reupload()

    # ---- program download -----------------------------------------------------------------
    def _schedule_reupload(self) -> None:
        if not self._init_tags or self._controller.table is None:
            return
        if self._reupload_lock.locked() or time.monotonic() < self._reupload_at:
            return
        retire(
            asyncio.create_task(self._reupload(), name=f"logix:{self.name}:reupload"),
            self._groups.retiring,
        )

    async def _reupload(self) -> None:
        """A tag that existed is gone: the program changed, so read the tag list again."""
        link = self._link
        async with self._reupload_lock:
            self._reupload_at = time.monotonic() + REUPLOAD_MIN_S
            generation = link.generation
            try:
                await link.call(self._controller.upload, limit_s=link.open_timeout())
            except CommFailure as exc:
                link.lose(generation, f"{Reason.COMM_FAILURE}: {exc}")
                return
            except TimeoutError:
                link.lose(generation, f"{Reason.COMM_FAILURE}: tag list upload timed out")
                return
            self.reuploads += 1
            log.warning("%s: program changed; tag list uploaded again", self.name)
            self._resolve()
            link.report.set(LinkState.CONNECTED, link.detail())
            self.wake()
