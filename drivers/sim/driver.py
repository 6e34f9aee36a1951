"""Driver for simulated signals: sources without a PLC (utilities, demos, tests).

Addresses are parsed by :mod:`drivers.sim.signals`. Points are scanned in one named task per scan
period; each scan publishes one batch of samples cast to the points' data types. The link is
CONNECTED from start to stop, and writes are refused: simulated signals are read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

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
from drivers.sim.signals import Signal, SignalValue, Square, Step, ValueFn, parse_address
from drivers.tasks import retire
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

_EXAMPLES = (
    ("sine", "sine:period=60,min=0,max=100,phase=0", DataType.FLOAT64),
    ("ramp", "ramp:period=60,min=0,max=100", DataType.FLOAT64),
    ("random_walk", "random_walk:min=0,max=100,step=1,seed=1", DataType.FLOAT64),
    ("counter", "counter:step=1,per=s,wrap=1000", DataType.UINT32),
    ("square", "square:period=10,low=0,high=1,duty=0.5", DataType.BOOL),
    ("step", "step:values=1|2|3,dwell=5", DataType.INT16),
)


def _check_type(signal: Signal, point: PointSpec) -> None:
    if isinstance(signal, Step) and not signal.numeric and point.data_type is not DataType.STRING:
        raise AddressError(
            f"{point.address!r}: values must be numbers for a {point.data_type.value} point"
        )


def cast_value(value: SignalValue, data_type: DataType, length: int = 0) -> Any:
    """``value`` as the point's type: integers rounded and clipped to the type's range, float32
    rounded to single precision, bool true when non-zero, strings cut to ``length``."""
    if data_type is DataType.STRING:
        text = value if isinstance(value, str) else format(value, "g")
        return text[:length] if length > 0 else text
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not a number")
    if data_type is DataType.BOOL:
        return value != 0.0
    if data_type.is_integer:
        low, high = data_type.integer_range()
        return max(low, min(high, round(value)))
    if data_type is DataType.FLOAT32:
        packed: float = struct.unpack("<f", struct.pack("<f", value))[0]
        return packed
    return float(value)


@dataclass(slots=True)
class _Point:
    """A subscribed point: its spec and the function giving its value at a time (None if bad)."""

    spec: PointSpec
    signal: Signal | None
    value_fn: ValueFn | None
    error: str = ""

    def sample(self, t: float) -> Sample:
        value, reason = self.read(t)
        if reason:
            return Sample(self.spec.key, None, Quality.BAD, t, reason)
        return Sample(self.spec.key, value, Quality.GOOD, t)

    def read(self, t: float) -> tuple[Any, str]:
        """(value, "") or (None, why it is bad)."""
        if self.value_fn is None or self.signal is None:
            return None, f"{Reason.CONFIG_ERROR}: {self.error}"
        spec = self.spec
        if isinstance(self.signal, Square) and spec.data_type is DataType.BOOL:
            self.value_fn(t)
            return self.signal.is_high(t), ""
        raw = self.value_fn(t)
        try:
            return cast_value(raw, spec.data_type, spec.length), ""
        except (ValueError, OverflowError) as exc:
            return None, f"{Reason.DECODE_ERROR}: {exc}"


def publish_scan(
    publish: PublishFn, scan: tuple[tuple[str, ...], list[_Point]], t: float
) -> None:
    """Publish one scan: the good values as one ``GoodBlock``, bad ones as single samples."""
    keys, points = scan
    values: list[Any] = []
    bad: list[Sample] = []
    for point in points:
        value, reason = point.read(t)
        if reason:
            bad.append(Sample(point.spec.key, None, Quality.BAD, t, reason))
        values.append(value)
    if not bad:
        publish(GoodBlock(keys, values, t))
        return
    failed = {sample.key for sample in bad}
    good = [(k, v) for k, v in zip(keys, values, strict=True) if k not in failed]
    if good:
        publish(GoodBlock(tuple(k for k, _ in good), [v for _, v in good], t))
    publish(bad)


class SimDriver:
    """Simulated signals, scanned like a device: one task per scan period, read-only."""

    class Settings(BaseModel):
        """The simulator needs no settings; any key is a mistake."""

        model_config = ConfigDict(extra="forbid")

    def __init__(self, name: str, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self._clock = clock
        self._state = LinkState.STOPPED
        self._points: dict[str, _Point] = {}
        self._groups: dict[int, set[str]] = {}
        self._ordered: dict[int, tuple[tuple[str, ...], list[_Point]]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._publish: PublishFn | None = None
        self._on_link: LinkStateFn | None = None

    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> SimDriver:
        """A simulator for the connection ``name``; pydantic.ValidationError for any setting."""
        cls.Settings.model_validate(dict(settings))
        return cls(name)

    @property
    def link_state(self) -> LinkState:
        return self._state

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` is not a valid simulated signal for its type."""
        _check_type(parse_address(point.address), point)
        if point.scan_ms <= 0:
            raise AddressError(f"{point.address!r}: scan period must be > 0 ms")

    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        if self._publish is not None:
            return
        self._publish = publish
        self._on_link = on_link
        self._set_state(LinkState.CONNECTED, "simulated")
        for scan_ms in list(self._groups):
            self._ensure_task(scan_ms)

    async def stop(self) -> None:
        tasks = [*self._tasks.values(), *self._retiring]
        self._tasks.clear()
        self._retiring.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        was_started = self._publish is not None
        self._publish = None
        if was_started:
            self._set_state(LinkState.STOPPED, "")
        self._on_link = None

    def subscribe(self, points: Iterable[PointSpec]) -> None:
        for spec in points:
            old = self._points.get(spec.key)
            if old is not None and old.spec == spec:
                continue
            if old is not None:
                self._forget(spec.key)
            self._points[spec.key] = self._make_point(spec)
            self._ordered.clear()
            scan_ms = max(1, spec.scan_ms)
            self._groups.setdefault(scan_ms, set()).add(spec.key)
            if self._publish is not None:
                self._ensure_task(scan_ms)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._forget(key)

    async def write(self, point: PointSpec, value: Any) -> None:
        raise DriverWriteError("simulated signals are read-only")

    async def browse(self, path: str = "") -> list[BrowseNode]:
        """One example address per signal kind (the tag browser offers them as templates)."""
        if path:
            return []
        return [BrowseNode(name, address, data_type) for name, address, data_type in _EXAMPLES]

    # ---- internals ------------------------------------------------------------------------

    def _make_point(self, spec: PointSpec) -> _Point:
        try:
            self.validate(spec)
            signal = parse_address(spec.address)
        except AddressError as exc:
            return _Point(spec, None, None, str(exc))
        return _Point(spec, signal, signal.make(self._clock()))

    def _forget(self, key: str) -> None:
        point = self._points.pop(key, None)
        if point is None:
            return
        self._ordered.clear()
        scan_ms = max(1, point.spec.scan_ms)
        group = self._groups.get(scan_ms)
        if group is None:
            return
        group.discard(key)
        if not group:
            del self._groups[scan_ms]
            task = self._tasks.pop(scan_ms, None)
            if task is not None:
                task.cancel()
                retire(task, self._retiring)

    def _ensure_task(self, scan_ms: int) -> None:
        if scan_ms in self._tasks:
            return
        self._tasks[scan_ms] = asyncio.get_running_loop().create_task(
            self._scan(scan_ms), name=f"sim:{self.name}:scan:{scan_ms}ms"
        )

    async def _scan(self, scan_ms: int) -> None:
        period = scan_ms / 1000.0
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            keys = self._groups.get(scan_ms)
            publish = self._publish
            if not keys or publish is None:
                return
            try:
                publish_scan(publish, self._scan_points(scan_ms, keys), self._clock())
            except Exception:  # a faulty subscriber must not end the scan
                log.exception("sim driver %s: publishing %d samples failed", self.name, len(keys))
            now = loop.time()
            next_at += period
            if next_at < now:  # late (busy loop): skip missed scans rather than burst
                next_at += math.ceil((now - next_at) / period) * period
            await asyncio.sleep(next_at - now)

    def _scan_points(self, scan_ms: int, keys: set[str]) -> tuple[tuple[str, ...], list[_Point]]:
        """The group's keys in order and their points (kept until the group changes)."""
        cached = self._ordered.get(scan_ms)
        if cached is None:
            ordered = tuple(sorted(keys))
            cached = self._ordered[scan_ms] = (ordered, [self._points[k] for k in ordered])
        return cached

    def _set_state(self, state: LinkState, detail: str) -> None:
        self._state = state
        if self._on_link is not None:
            self._on_link(state, detail)
