"""Simulated signals: address parsing and the value of each signal kind.

An address reads ``kind:param=value,...`` (``kind`` alone takes every default). Periodic kinds
(sine, ramp, square, step) are pure functions of POSIX time, so every reader sees the same value at
the same instant and tests can check values at known times. Counters count from the moment they are
subscribed; random walks move once per scan from a seeded generator, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import AddressError

SignalValue = float | str
ValueFn = Callable[[float], SignalValue]

KINDS = ("sine", "ramp", "random_walk", "counter", "square", "step")
_KIND_LIST = "sine, ramp, random_walk, counter, square or step"


def _number(address: str, params: Mapping[str, str], key: str, default: float) -> float:
    text = params.get(key)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise AddressError(f"{address!r}: {key} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise AddressError(f"{address!r}: {key} must be a finite number, got {text!r}")
    return value


def _positive(address: str, params: Mapping[str, str], key: str, default: float) -> float:
    value = _number(address, params, key, default)
    if value <= 0:
        raise AddressError(f"{address!r}: {key} must be > 0")
    return value


def _span(address: str, params: Mapping[str, str], lo: float, hi: float) -> tuple[float, float]:
    low = _number(address, params, "min", lo)
    high = _number(address, params, "max", hi)
    if low >= high:
        raise AddressError(f"{address!r}: min ({low:g}) must be below max ({high:g})")
    return low, high


@dataclass(frozen=True, slots=True)
class Sine:
    """``min + (max - min) * (1 + sin(2π t / period + phase)) / 2``; phase in degrees."""

    PARAMS: ClassVar[tuple[str, ...]] = ("period", "min", "max", "phase")
    period: float = 60.0
    low: float = 0.0
    high: float = 1.0
    phase: float = 0.0

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> Sine:
        period = _positive(address, params, "period", 60.0)
        low, high = _span(address, params, 0.0, 1.0)
        return cls(period, low, high, _number(address, params, "phase", 0.0))

    def value_at(self, t: float) -> float:
        angle = 2.0 * math.pi * t / self.period + math.radians(self.phase)
        return self.low + (self.high - self.low) * (1.0 + math.sin(angle)) / 2.0

    def make(self, t0: float) -> ValueFn:
        return self.value_at


@dataclass(frozen=True, slots=True)
class Ramp:
    """A sawtooth rising from ``min`` to ``max`` once per ``period`` (aligned to POSIX time 0)."""

    PARAMS: ClassVar[tuple[str, ...]] = ("period", "min", "max")
    period: float = 60.0
    low: float = 0.0
    high: float = 100.0

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> Ramp:
        period = _positive(address, params, "period", 60.0)
        low, high = _span(address, params, 0.0, 100.0)
        return cls(period, low, high)

    def value_at(self, t: float) -> float:
        return self.low + (self.high - self.low) * ((t % self.period) / self.period)

    def make(self, t0: float) -> ValueFn:
        return self.value_at


@dataclass(frozen=True, slots=True)
class Square:
    """``high`` for the first ``duty`` fraction of each period, ``low`` for the rest."""

    PARAMS: ClassVar[tuple[str, ...]] = ("period", "low", "high", "duty")
    period: float = 10.0
    low: float = 0.0
    high: float = 1.0
    duty: float = 0.5

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> Square:
        period = _positive(address, params, "period", 10.0)
        low = _number(address, params, "low", 0.0)
        high = _number(address, params, "high", 1.0)
        duty = _number(address, params, "duty", 0.5)
        if not 0.0 < duty < 1.0:
            raise AddressError(f"{address!r}: duty must be between 0 and 1 (exclusive)")
        return cls(period, low, high, duty)

    def is_high(self, t: float) -> bool:
        return (t % self.period) / self.period < self.duty

    def value_at(self, t: float) -> float:
        return self.high if self.is_high(t) else self.low

    def make(self, t0: float) -> ValueFn:
        return self.value_at


@dataclass(frozen=True, slots=True)
class Step:
    """Cycles through ``values`` (separated by ``|``), holding each for ``dwell`` seconds.

    Values are numbers, or any text when the point is a string.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("values", "dwell")
    values: tuple[SignalValue, ...] = (0.0, 1.0)
    dwell: float = 1.0

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> Step:
        dwell = _positive(address, params, "dwell", 1.0)
        text = params.get("values")
        if text is None or not text.strip():
            raise AddressError(f"{address!r}: values is required, e.g. values=1|2|3")
        items = [item.strip() for item in text.split("|")]
        if any(not item for item in items):
            raise AddressError(f"{address!r}: values has an empty entry")
        values: list[SignalValue] = []
        for item in items:
            try:
                values.append(float(item))
            except ValueError:
                values.append(item)
        return cls(tuple(values), dwell)

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, float) for v in self.values)

    def value_at(self, t: float) -> SignalValue:
        return self.values[math.floor(t / self.dwell) % len(self.values)]

    def make(self, t0: float) -> ValueFn:
        return self.value_at


@dataclass(frozen=True, slots=True)
class Counter:
    """Counts by ``step`` each second (``per=s``) or each scan (``per=scan``) from subscription.

    With ``wrap`` the count restarts at 0 on reaching ``wrap``.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("step", "per", "wrap")
    step: float = 1.0
    per_scan: bool = False
    wrap: float | None = None

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> Counter:
        step = _positive(address, params, "step", 1.0)
        per = params.get("per", "s")
        if per not in ("s", "scan"):
            raise AddressError(f"{address!r}: per must be 's' or 'scan', got {per!r}")
        wrap = _positive(address, params, "wrap", 1.0) if "wrap" in params else None
        return cls(step, per == "scan", wrap)

    def value_after(self, ticks: int) -> float:
        """Count after ``ticks`` whole seconds or scans."""
        value = self.step * ticks
        return value % self.wrap if self.wrap is not None else value

    def make(self, t0: float) -> ValueFn:
        if not self.per_scan:
            return lambda t: self.value_after(max(0, math.floor(t - t0)))
        scans = -1

        def next_value(t: float) -> float:
            nonlocal scans
            scans += 1
            return self.value_after(scans)

        return next_value


@dataclass(frozen=True, slots=True)
class RandomWalk:
    """Starts mid-range and moves up to ``step`` each scan, reflected at ``min``/``max``.

    ``seed`` defaults to a checksum of the address, so the same address walks the same way.
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("min", "max", "step", "seed")
    low: float = 0.0
    high: float = 100.0
    step: float = 1.0
    seed: int = 0

    @classmethod
    def parse(cls, address: str, params: Mapping[str, str]) -> RandomWalk:
        low, high = _span(address, params, 0.0, 100.0)
        step = _positive(address, params, "step", 1.0)
        seed_text = params.get("seed")
        if seed_text is None:
            seed = zlib.crc32(address.encode())
        else:
            try:
                seed = int(seed_text)
            except ValueError:
                raise AddressError(
                    f"{address!r}: seed must be an integer, got {seed_text!r}"
                ) from None
        return cls(low, high, step, seed)

    def make(self, t0: float) -> ValueFn:
        rng = random.Random(self.seed)
        value = (self.low + self.high) / 2.0
        first = True

        def next_value(t: float) -> float:
            nonlocal value, first
            if first:
                first = False
                return value
            value += rng.uniform(-self.step, self.step)
            if value > self.high:
                value = 2.0 * self.high - value
            if value < self.low:
                value = 2.0 * self.low - value
            value = min(self.high, max(self.low, value))
            return value

        return next_value


Signal = Sine | Ramp | Square | Step | Counter | RandomWalk

_PARSERS: dict[str, type[Signal]] = {
    "sine": Sine,
    "ramp": Ramp,
    "random_walk": RandomWalk,
    "counter": Counter,
    "square": Square,
    "step": Step,
}


def parse_address(address: str) -> Signal:
    """The signal an address describes; AddressError with the reason in the user's terms."""
    text = address.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    cls = _PARSERS.get(kind)
    if cls is None:
        raise AddressError(f"unknown signal {kind!r}: use {_KIND_LIST}")
    params: dict[str, str] = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise AddressError(f"{address!r}: expected param=value, got {part.strip()!r}")
        if key not in cls.PARAMS:
            raise AddressError(
                f"{address!r}: unknown parameter {key!r} for {kind}; use {', '.join(cls.PARAMS)}"
            )
        if key in params:
            raise AddressError(f"{address!r}: {key} is given twice")
        params[key] = value.strip()
    return cls.parse(address, params)
