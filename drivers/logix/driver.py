"""Allen-Bradley Logix driver: pycomm3 on one worker thread per controller.

How it works:

* **One thread per controller.** pycomm3 blocks, so every call to the controller (open, read,
  write, tag list upload, close) runs on this driver's own single-worker executor
  (``logix-<name>``): calls never overlap and never block the event loop, which awaits each with
  a timeout. ``plc.py`` is the only module that imports pycomm3.
* **Link.** One supervisor task (``logix:<name>:link``) opens a *new* pycomm3 driver object for
  every connection (re-opening a closed one is known not to recover from every failure), reports
  ``on_link``, waits until a call fails with a communication error or times out, publishes every
  subscribed point BAD (``comm failure: ...``) at once and reconnects with exponential backoff and
  jitter (0.5 s doubling to 30 s, ±20 %).
* **Tag definitions.** With ``init_tags`` (the default) the controller's tag list (controller and
  program scope, with UDT templates) is uploaded on connect and every point is checked against it:
  an unknown tag, member or a type that differs from the project's is BAD ``config error: ...``.
  When the upload is off or the controller cannot do it (simulators), definitions are made from
  the project's points (the leaf of each address gets the point's type).
* **Scan classes.** One task per scan period (``logix:<name>:scan<ms>ms``) reads all its points
  with one executor call per pass; pycomm3 packs the tags into multi-service packets by size
  (``max_tags_per_read`` splits a pass into several reads for controllers that need smaller
  packets). Good values are published as one ``GoodBlock``; a tag the controller refuses is BAD
  ``device exception: <CIP status>``. ``source_ts`` is the time of the reply.
* **Program download.** A tag that read fine and now gets "destination unknown" (CIP 0x05) or
  "IOI syntax error" (0x04) means the program changed: the tag list is uploaded again (once, then
  at most every ``REUPLOAD_MIN_S``) and the points re-checked.
* **Writes** are coerced to the point's type (and range) here; a refusal by the controller
  raises ``DriverWriteError`` with the CIP status text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
from drivers.logix import address as addr
from drivers.logix.browse import browse as browse_table
from drivers.logix.plc import CommFailure, Controller, ReadResult
from drivers.logix.tags import STRING_CHARS, TagTable
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

T = TypeVar("T")

REUPLOAD_MIN_S = 10.0  # at most one tag list re-upload per this many seconds
# CIP status texts (pycomm3's) that mean "this tag is not (any longer) in the program"
_GONE = ("Destination unknown", "IOI syntax error")


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
class _Point:
    """A subscribed point: its parsed address and what pycomm3 is asked for."""

    spec: PointSpec
    where: addr.LogixAddress | None
    request: str = ""
    problem: str = ""  # a config error: the point is not read

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass(slots=True)
class _Group:
    """Points read at one scan period, and the task that reads them."""

    scan_ms: int
    keys: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    passes: int = 0


class LogixDriver:
    """A ``drivers.base.Driver`` for one ControlLogix/CompactLogix controller."""

    class Settings(BaseModel):
        """Connection settings of a ``logix`` connection in ``project.yaml``."""

        model_config = ConfigDict(extra="forbid", frozen=True)

        host: str
        port: int = Field(default=44818, ge=1, le=65535)
        slot: int = Field(default=0, ge=0, le=31, description="backplane slot of the CPU")
        route: str | None = Field(
            default=None,
            description="CIP route after the host instead of the slot: bp/2/enet/10.0.0.9/bp/0",
        )
        timeout_ms: int = Field(default=2000, ge=50, le=60000)
        init_tags: bool = Field(
            default=True, description="upload the tag list; false: types come from the project"
        )
        max_tags_per_read: int = Field(
            default=0, ge=0, le=10000, description="0: as many as pycomm3 packs"
        )

        @property
        def path(self) -> str:
            """pycomm3's CIP path."""
            route = self.route.strip("/") if self.route else str(self.slot)
            return f"{self.host}:{self.port}/{route}"

    def __init__(
        self,
        name: str,
        settings: LogixDriver.Settings,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._backoff = backoff or Backoff()
        self._timeout_s = settings.timeout_ms / 1000
        self._controller = Controller(
            settings.path, timeout_s=self._timeout_s, init_tags=settings.init_tags
        )
        self._points: dict[str, _Point] = {}
        self._groups: dict[int, _Group] = {}
        self._publish: PublishFn | None = None
        self._on_link: LinkStateFn | None = None
        self._state = LinkState.STOPPED
        self._executor: ThreadPoolExecutor | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._running = False
        self._connected = False
        self._gen = 0
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._down_reason = ""
        self._told: set[str] = set()  # points published BAD since the last change of state
        self._good: set[str] = set()  # points whose last read was good (download detection)
        self._declared_version = -1
        self._points_version = 0
        self._resolved_version = -1
        self._reupload_at = 0.0
        self._reupload_lock = asyncio.Lock()
        self.reuploads = 0  # tag list uploads after the first (program downloads seen)

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> LogixDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, cls.Settings.model_validate(dict(settings)))

    @property
    def link_state(self) -> LinkState:
        return self._state

    @property
    def controller(self) -> Controller:
        """The blocking controller connection (diagnostics: packets sent, connections opened)."""
        return self._controller

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (syntax and type, no connection)."""
        addr.validate(point)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and scanning in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._publish, self._on_link = publish, on_link
        self._running = True
        self._lost = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"logix-{self.name}")
        self._supervisor = asyncio.create_task(self._supervise(), name=f"logix:{self.name}:link")
        for group in self._groups.values():
            self._start_group(group)

    async def stop(self) -> None:
        """Cancel every task, close the connection, end the worker thread, report STOPPED."""
        if not self._running:
            return
        self._running = False
        tasks = [t for t in [self._supervisor, *self._tasks(), *self._retiring] if t]
        self._supervisor = None
        for group in self._groups.values():
            group.task = None
        for task in tasks:
            task.cancel()
        pending = {t for t in tasks if not t.done()}
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=2.0)
            for task in pending:  # a task that swallowed its cancel: cancel it again
                task.cancel()
        self._connected = False
        executor, self._executor = self._executor, None
        if executor is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout_s + 1):
                    await loop.run_in_executor(executor, self._controller.close)
            executor.shutdown(wait=False, cancel_futures=True)
        self._set_state(LinkState.STOPPED, "stopped")

    def _tasks(self) -> list[asyncio.Task[None]]:
        return [g.task for g in self._groups.values() if g.task is not None]

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points to the scan (idempotent per key; a changed spec replaces the old one).

        A point that cannot be read is published BAD ``config error: ...`` instead of raising.
        """
        for spec in points:
            old = self._points.get(spec.key)
            if old is not None:
                if old.spec == spec:
                    continue
                self._drop(spec.key)
            try:
                point = _Point(spec, addr.validate(spec))
            except AddressError as exc:
                point = _Point(spec, None, problem=f"{Reason.CONFIG_ERROR}: {exc}")
            self._points[spec.key] = point
            self._points_version += 1
            scan_ms = max(1, spec.scan_ms)
            group = self._groups.get(scan_ms)
            if group is None:
                group = self._groups[scan_ms] = _Group(scan_ms)
                if self._running:
                    self._start_group(group)
            group.keys.add(spec.key)
            group.wake.set()  # read the new point now, not a period later

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points; a scan group left empty stops its task."""
        for key in keys:
            self._drop(key)

    def _drop(self, key: str) -> None:
        point = self._points.pop(key, None)
        self._told.discard(key)
        self._good.discard(key)
        if point is None:
            return
        self._points_version += 1
        scan_ms = max(1, point.spec.scan_ms)
        group = self._groups.get(scan_ms)
        if group is None:
            return
        group.keys.discard(key)
        if not group.keys:
            del self._groups[scan_ms]
            if group.task is not None:
                group.task.cancel()
                self._retiring.add(group.task)
                group.task.add_done_callback(self._retiring.discard)

    # ---- the worker thread ----------------------------------------------------------------
    async def _call(self, fn: Callable[..., T], *args: Any, limit_s: float | None = None) -> T:
        """Run ``fn(*args)`` on the controller's thread; TimeoutError after ``limit_s``."""
        executor = self._executor
        if executor is None:
            raise CommFailure("driver stopped")
        loop = asyncio.get_running_loop()
        limit = limit_s if limit_s is not None else 4 * self._timeout_s + 1.0
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives
        # as the call completes, and stop() would wait for a task that goes on scanning.
        async with asyncio.timeout(limit):
            return await loop.run_in_executor(executor, fn, *args)

    def _open_timeout(self) -> float:
        # a tag list upload of a big program takes many requests
        return (60.0 if self.settings.init_tags else 0.0) + 4 * self._timeout_s + 1.0

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
        target = self.settings.path
        while self._running:
            self._set_state(LinkState.CONNECTING, f"connecting to {target}")
            try:
                await self._declare()
                await self._call(self._controller.open, limit_s=self._open_timeout())
            except CommFailure as exc:
                reason = f"{Reason.COMM_FAILURE}: {exc}"
            except TimeoutError:
                reason = f"{Reason.COMM_FAILURE}: no answer from {target} while connecting"
            else:
                self._gen += 1
                self._connected = True
                self._down_reason = ""
                self._told.clear()
                self._good.clear()
                self._lost.clear()
                self._resolve()
                up_since = loop.time()
                self._set_state(LinkState.CONNECTED, self._link_detail())
                for group in self._groups.values():
                    group.wake.set()
                await self._lost.wait()
                reason = self._lost_reason
                self._connected = False
                with contextlib.suppress(Exception):
                    await self._call(self._controller.close, limit_s=self._timeout_s + 1)
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            self._down_reason = reason
            self._publish_down(reason)
            self._set_state(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    def _link_detail(self) -> str:
        info = self._controller.info
        product = info.get("product_name") or "controller"
        table = self._controller.table
        if table is not None:
            tags = f"tag list: {len(table)} tags"
        elif self._controller.upload_error:
            tags = f"tag list upload unavailable ({self._controller.upload_error}); project types"
        else:
            tags = "tag types from the project"
        return f"{self.settings.path}: {product}; {tags}"

    def _link_lost(self, generation: int, reason: str) -> None:
        if generation == self._gen and self._connected:
            self._connected = False
            self._lost_reason = reason
            self._lost.set()

    async def _declare(self) -> None:
        """Give the controller the project's declarations when the point set changed."""
        if self._declared_version == self._points_version:
            return
        version = self._points_version
        parsed = [(p.spec, p.where) for p in self._points.values() if p.where is not None]
        table, _errors = addr.declare(parsed)
        await self._call(self._controller.declare, table)
        self._declared_version = version

    def _resolve(self) -> None:
        """Check every point against the tag list (or the declarations) and set its request."""
        table = self._controller.table
        errors: dict[str, str] = {}
        if table is None:
            parsed = [(p.spec, p.where) for p in self._points.values() if p.where is not None]
            _table, errors = addr.declare(parsed)
        for point in self._points.values():
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
        """Every point not yet told during this outage goes BAD (once per outage)."""
        keys = [k for k in self._points if k not in self._told]
        self._told.update(keys)
        self._good.clear()
        self._publish_bad(keys, reason)

    # ---- scanning -------------------------------------------------------------------------
    def _start_group(self, group: _Group) -> None:
        group.task = asyncio.create_task(
            self._scan_loop(group), name=f"logix:{self.name}:scan{group.scan_ms}ms"
        )

    async def _scan_loop(self, group: _Group) -> None:
        loop = asyncio.get_running_loop()
        period = group.scan_ms / 1000
        deadline = loop.time()
        while self._running and group.keys:
            try:
                if self._connected:
                    await self._scan_pass(group)
                elif self._down_reason:  # points subscribed during an outage
                    untold = [k for k in group.keys if k not in self._told]
                    self._told.update(untold)
                    self._publish_bad(untold, self._down_reason)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the scan of the whole controller
                log.exception("%s: scan pass of %d ms failed", self.name, group.scan_ms)
            group.passes += 1
            deadline += period
            now = loop.time()
            if now >= deadline:  # overran: skip the polls that were due meanwhile
                deadline += (int((now - deadline) // period) + 1) * period
            if group.wake.is_set():
                group.wake.clear()
                if self._connected:
                    continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - now):
                    await group.wake.wait()
            if group.wake.is_set():
                deadline = loop.time()

    async def _scan_pass(self, group: _Group) -> None:
        if self._resolved_version != self._points_version:
            await self._declare()
            self._resolve()
        generation = self._gen
        points = [self._points[k] for k in sorted(group.keys) if k in self._points]
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
        self._emit(refused)
        if not readable:
            return
        requests = [p.request for p in readable]
        # pycomm3's timeout is per reply; a big pass is several packets (~100-200 tags each)
        limit_s = self._timeout_s * (4 + len(requests) / 50) + 1.0
        try:
            results, ts = await self._call(self._read_all, requests, limit_s=limit_s)
        except CommFailure as exc:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {exc}")
            return
        except TimeoutError:
            self._link_lost(
                generation, f"{Reason.COMM_FAILURE}: no reply within {self.settings.timeout_ms} ms"
            )
            return
        if generation != self._gen or not self._connected:
            return
        self._publish_results(readable, results, ts)

    def _read_all(self, requests: list[str]) -> tuple[list[ReadResult], float]:
        """On the worker thread: every request, in reads of at most ``max_tags_per_read``."""
        size = self.settings.max_tags_per_read or len(requests)
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
                    value = _from_device(result.value, point.spec)
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
            self._emit(GoodBlock(tuple(keys), values, ts))
        self._emit(bad)
        if gone:
            self._schedule_reupload()

    def _schedule_reupload(self) -> None:
        if not self.settings.init_tags or self._controller.table is None:
            return
        if self._reupload_lock.locked() or time.monotonic() < self._reupload_at:
            return
        task = asyncio.create_task(self._reupload(), name=f"logix:{self.name}:reupload")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _reupload(self) -> None:
        """A tag that existed is gone: the program changed, so read the tag list again."""
        async with self._reupload_lock:
            self._reupload_at = time.monotonic() + REUPLOAD_MIN_S
            generation = self._gen
            try:
                await self._call(self._controller.upload, limit_s=self._open_timeout())
            except CommFailure as exc:
                self._link_lost(generation, f"{Reason.COMM_FAILURE}: {exc}")
                return
            except TimeoutError:
                self._link_lost(generation, f"{Reason.COMM_FAILURE}: tag list upload timed out")
                return
            self.reuploads += 1
            log.warning("%s: program changed; tag list uploaded again", self.name)
            self._resolve()
            self._set_state(LinkState.CONNECTED, self._link_detail())
            for group in self._groups.values():
                group.wake.set()

    # ---- writes ---------------------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write a device value; DriverWriteError says why it was not written."""
        try:
            where = addr.validate(point)
        except AddressError as exc:
            raise DriverWriteError(str(exc)) from None
        device_value = _to_device(value, point)
        if not self._connected:
            raise DriverWriteError(
                f"{Reason.NOT_CONNECTED}: {self._down_reason or 'no connection to the controller'}"
            )
        table = self._controller.table
        if table is not None:
            try:
                addr.resolve(where, point, table)
            except AddressError as exc:
                raise DriverWriteError(f"{Reason.CONFIG_ERROR}: {exc}") from None
        else:
            parsed = [(p.spec, p.where) for p in self._points.values() if p.where is not None]
            if point.key not in self._points:
                parsed.append((point, where))
            declared, errors = addr.declare(parsed)
            if point.key in errors:
                raise DriverWriteError(f"{Reason.CONFIG_ERROR}: {errors[point.key]}")
            await self._call(self._controller.declare, declared)  # a superset: harmless
        generation = self._gen
        request = where.request(addr.elements(point))
        try:
            error = await self._call(self._controller.write, request, device_value)
        except CommFailure as exc:
            self._link_lost(generation, f"{Reason.COMM_FAILURE}: {exc}")
            raise DriverWriteError(f"{point.address}: {Reason.COMM_FAILURE}: {exc}") from None
        except TimeoutError:
            raise DriverWriteError(
                f"{point.address}: {Reason.TIMEOUT}: no reply within {self.settings.timeout_ms} ms"
            ) from None
        if error is not None:
            raise DriverWriteError(f"{point.address}: {Reason.DEVICE_EXCEPTION}: {error}")

    # ---- browsing -------------------------------------------------------------------------
    async def browse(self, path: str = "") -> list[BrowseNode]:
        """The uploaded tag list: controller tags and programs at the root, members below.
        Empty when there is no tag list (not connected, or the upload is unavailable)."""
        table = self._controller.table
        if table is None:
            return []
        return browse_table(table, path)

    def tag_table(self) -> TagTable | None:
        """The uploaded tag list, if any."""
        return self._controller.table


# ---- values ---------------------------------------------------------------------------------
def _from_device(value: Any, spec: PointSpec) -> Any:
    """A value as pycomm3 gave it, in the point's shape: arrays as tuples."""
    if spec.array_length:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected {spec.array_length} elements, got {value!r}")
        return tuple(_scalar(v, spec.data_type) for v in value[: spec.array_length])
    return _scalar(value, spec.data_type)


def _scalar(value: Any, data_type: DataType) -> Any:
    if data_type is DataType.BOOL:
        return bool(value)
    if data_type is DataType.STRING:
        return str(value)
    if data_type.is_integer:
        return int(value)
    return float(value)


def _to_device(value: Any, point: PointSpec) -> Any:
    """``value`` checked and converted for the point's type; DriverWriteError if it does not
    fit. Arrays become lists of ``array_length`` elements."""
    if point.array_length:
        if not isinstance(value, list | tuple) or len(value) != point.array_length:
            raise DriverWriteError(
                f"cannot write {value!r} to {point.address}:"
                f" give a list of {point.array_length} values"
            )
        return [_scalar_to_device(v, point) for v in value]
    return _scalar_to_device(value, point)


def _scalar_to_device(value: Any, point: PointSpec) -> Any:
    kind = point.data_type
    where = point.address
    if kind is DataType.BOOL:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise DriverWriteError(f"cannot write {value!r} to {where}: not a bool")
    if kind is DataType.STRING:
        if not isinstance(value, str):
            raise DriverWriteError(f"cannot write {value!r} to {where}: not a string")
        limit = min(point.length or STRING_CHARS, STRING_CHARS)
        if len(value) > limit:
            raise DriverWriteError(
                f"cannot write to {where}: {len(value)} characters; at most {limit} fit"
            )
        try:
            value.encode("iso-8859-1")
        except UnicodeEncodeError:
            raise DriverWriteError(f"cannot write to {where}: Logix strings are Latin-1") from None
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DriverWriteError(f"cannot write {value!r} to {where}: not a number")
    if kind.is_integer:
        if isinstance(value, float) and not value.is_integer():
            raise DriverWriteError(f"cannot write {value!r} to {where}: not a whole number")
        low, high = kind.integer_range()
        if not low <= value <= high:
            raise DriverWriteError(
                f"cannot write {value!r} to {where}: outside {kind.value} ({low}..{high})"
            )
        return int(value)
    return float(value)
