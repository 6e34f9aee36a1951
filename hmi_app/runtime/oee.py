"""OEE per line and shift after ISO 22400-2, and the run/stop state turned into time and downtime.

Pure logic, no I/O. The ISO 22400-2 terms used here:

- **PBT**, planned busy time: the shift's length minus its planned stops (planned down time,
  **PDOT**); from :meth:`hmi_app.runtime.shifts.ShiftCalendar.planned_busy_seconds`.
- **APT**, actual production time: the time the line ran inside PBT (the run-state tag), from
  :meth:`RunStateTracker.run_seconds` with the planned stops taken out.
- **PQ**, produced quantity; **GQ**, good quantity; **SQ**, scrap quantity (PQ - GQ).
- **PRI**, planned runtime per item: the ideal cycle time, ``60 / ideal rate per minute``.

KPIs: availability ``APT / PBT``; effectiveness (the "performance" of the classic OEE)
``sum(PQ_i x PRI_i) / APT`` over the products made; quality ratio ``GQ / PQ``; OEE index
``availability x effectiveness x quality ratio``.

Undefined is None, never 0: no planned busy time gives no availability, no run time no
effectiveness, nothing produced no quality ratio. The OEE index is the product when all three are
defined; otherwise, as long as PBT and every produced product's ideal cycle time are known, it is
the equivalent ``sum(GQ_i x PRI_i) / PBT`` (so a line that never ran in planned time has an OEE of
0, which is what it achieved). Values above 1 (a line faster than its ideal rate, a good counter
ahead of the total) are reported as they are, not clipped: they point at wrong ideal rates or
counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from hmi_app.core.quality import Quality, TagValue
from hmi_app.runtime.shifts import ShiftCalendar

log = logging.getLogger(__name__)

RunKind = Literal["run", "stop", "unknown"]
Span = tuple[float, float]


def ideal_cycle_s(rate_per_min: float | None) -> float | None:
    """PRI (seconds per item) from an ideal rate in items per minute; None when not known."""
    if rate_per_min is None or rate_per_min <= 0:
        return None
    return 60.0 / rate_per_min


def quantities(
    good: float | None = None, reject: float | None = None, total: float | None = None
) -> tuple[float, float]:
    """(PQ, GQ) from whichever counters a line has: good, reject and/or total.

    PQ is the total counter, else good + reject; GQ the good counter, else total - reject.
    """
    if total is None and good is None:
        raise ValueError("a line needs a good or a total counter")
    produced = total if total is not None else (good or 0.0) + (reject or 0.0)
    good_q = good if good is not None else produced - (reject or 0.0)
    return produced, good_q


@dataclass(frozen=True, slots=True)
class ProductOutput:
    """What a line made of one product in the period: PQ, GQ and the product's PRI."""

    product: str | None
    produced: float
    good: float
    ideal_cycle_s: float | None

    def __post_init__(self) -> None:
        if self.produced < 0 or self.good < 0:
            raise ValueError(f"{self.product}: quantities cannot be negative")


@dataclass(frozen=True, slots=True)
class OeeResult:
    """The ISO 22400-2 KPIs of one line over one period, with the figures they come from."""

    planned_busy_time_s: float  # PBT
    actual_production_time_s: float  # APT
    produced: float  # PQ
    good: float  # GQ
    ideal_production_time_s: float | None  # sum(PQ_i x PRI_i); None if a PRI is missing
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None

    @property
    def scrap(self) -> float:
        """SQ: produced minus good."""
        return self.produced - self.good

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable, for a shift summary record."""
        return {
            "planned_busy_time_s": self.planned_busy_time_s,
            "actual_production_time_s": self.actual_production_time_s,
            "produced": self.produced,
            "good": self.good,
            "scrap": self.scrap,
            "ideal_production_time_s": self.ideal_production_time_s,
            "availability": self.availability,
            "effectiveness": self.effectiveness,
            "quality_ratio": self.quality_ratio,
            "oee": self.oee,
        }


def compute_oee(
    planned_busy_time_s: float, actual_production_time_s: float, outputs: Iterable[ProductOutput]
) -> OeeResult:
    """Availability, effectiveness, quality ratio and OEE index (see the module docstring)."""
    if planned_busy_time_s < 0 or actual_production_time_s < 0:
        raise ValueError("times cannot be negative")
    items = list(outputs)
    produced = sum(o.produced for o in items)
    good = sum(o.good for o in items)
    made = [o for o in items if o.produced > 0]
    ideal: float | None = None
    good_ideal: float | None = None
    if all(o.ideal_cycle_s is not None for o in made):
        ideal = sum(o.produced * (o.ideal_cycle_s or 0.0) for o in made)
        good_ideal = sum(o.good * (o.ideal_cycle_s or 0.0) for o in made)
    availability = _ratio(actual_production_time_s, planned_busy_time_s)
    effectiveness = None if ideal is None else _ratio(ideal, actual_production_time_s)
    quality = _ratio(good, produced)
    if availability is not None and effectiveness is not None and quality is not None:
        # A x E x Q with APT cancelled out: the same number, without overflow for a tiny APT
        assert ideal is not None
        oee: float | None = ideal * good / (planned_busy_time_s * produced)
    elif good_ideal is not None and planned_busy_time_s > 0:
        oee = good_ideal / planned_busy_time_s
    else:
        oee = None
    return OeeResult(
        planned_busy_time_s=planned_busy_time_s,
        actual_production_time_s=actual_production_time_s,
        produced=produced,
        good=good,
        ideal_production_time_s=ideal,
        availability=availability,
        effectiveness=effectiveness,
        quality_ratio=quality,
        oee=oee,
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def oee_for_window(
    calendar: ShiftCalendar,
    run_state: RunStateTracker,
    start: float,
    end: float,
    outputs: Iterable[ProductOutput],
) -> OeeResult:
    """OEE of a line over ``[start, end)`` (a shift, or a running shift up to now).

    PBT from the calendar; APT is the run time inside shifts and outside planned stops (running
    through a break makes parts, which count, but not planned time).
    """
    pbt = calendar.planned_busy_seconds(start, end)
    scheduled = calendar.shifts_between(start, end)
    windows = [(max(s.start_ts, start), min(s.end_ts, end)) for s in scheduled]
    stops = calendar.planned_stop_spans(start, end)
    apt = sum(run_state.run_seconds(lo, hi, excluding=stops) for lo, hi in windows)
    return compute_oee(pbt, apt, outputs)


# ---- run state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DowntimeEvent:
    """A stop of a line: from ``start`` to ``end`` (None while it lasts), with the reason code
    the operator picks (None until then). ISO 22400-2: actual unit down time (ADOT)."""

    line: str
    start: float
    end: float | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        """Stable identifier (line and start in milliseconds), the outbox key of the event."""
        return f"{self.line}/downtime/{round(self.start * 1000)}"

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else self.end - self.start

    @property
    def is_open(self) -> bool:
        return self.end is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "line": self.line,
            "start": self.start,
            "end": self.end,
            "duration_s": self.duration_s,
            "reason": self.reason,
        }


class RunStateTracker:
    """Turns a line's run/stop tag into run time, down time and downtime events.

    The state is *run*, *stop* or *unknown* (a value of bad, stale or uncertain quality: neither run
    time nor down time). A change to stop opens a :class:`DowntimeEvent`; it stays open through
    unknown time and is closed by the next run. Time segments are kept until :meth:`prune`.
    """

    def __init__(
        self,
        line: str,
        running_values: Iterable[bool | int | str] = (),
        *,
        is_running: Callable[[object], bool] | None = None,
    ) -> None:
        self.line = line
        self._running_values = list(running_values)
        self._is_running = is_running
        self._segments: list[tuple[float, float, RunKind]] = []
        self._current: tuple[RunKind, float] | None = None
        self._events: dict[str, DowntimeEvent] = {}
        self._open: str | None = None

    @property
    def current(self) -> RunKind | None:
        """The state now; None before the first value."""
        return None if self._current is None else self._current[0]

    @property
    def open_event(self) -> DowntimeEvent | None:
        return None if self._open is None else self._events[self._open]

    def running(self, value: object) -> bool:
        """Whether ``value`` of the run tag means running."""
        if self._is_running is not None:
            return self._is_running(value)
        if self._running_values:
            # a state code may arrive as 3 or 3.0; a text code only matches text
            return any(
                isinstance(value, str) == isinstance(v, str) and value == v
                for v in self._running_values
            )
        return isinstance(value, bool | int | float) and bool(value)

    def feed(self, value: TagValue) -> list[DowntimeEvent]:
        return self.update(value.value, value.quality, value.source_ts)

    def update(self, value: object, quality: Quality, ts: float) -> list[DowntimeEvent]:
        """A value of the run tag; the events it opened or closed (to record and send)."""
        kind: RunKind
        if quality is not Quality.GOOD or value is None:
            kind = "unknown"
        else:
            kind = "run" if self.running(value) else "stop"
        if self._current is not None:
            previous, since = self._current
            if ts < since or kind == previous:
                return []  # out of order, or no change
            self._segments.append((since, ts, previous))
        self._current = (kind, ts)
        changed: list[DowntimeEvent] = []
        if kind == "stop" and self._open is None:
            event = DowntimeEvent(self.line, ts)
            self._events[event.key] = event
            self._open = event.key
            changed.append(event)
        elif kind == "run" and self._open is not None:
            closed = replace(self._events[self._open], end=ts)
            self._events[closed.key] = closed
            self._open = None
            changed.append(closed)
        return changed

    def set_reason(self, key: str, reason: str | None) -> DowntimeEvent:
        """The operator picked (or cleared) the reason of an event; the updated event."""
        try:
            event = replace(self._events[key], reason=reason)
        except KeyError:
            raise KeyError(f"no downtime event {key!r} on line {self.line}") from None
        self._events[key] = event
        return event

    def events(self, start: float | None = None, end: float | None = None) -> list[DowntimeEvent]:
        """Downtime events overlapping ``[start, end)`` (all when not given), oldest first."""
        lo = float("-inf") if start is None else start
        hi = float("inf") if end is None else end
        return sorted(
            (e for e in self._events.values() if e.start < hi and (e.end is None or e.end > lo)),
            key=lambda e: e.start,
        )

    def seconds(
        self, kind: RunKind, start: float, end: float, *, excluding: Sequence[Span] = ()
    ) -> float:
        """Seconds of ``[start, end)`` in state ``kind``, outside the ``excluding`` spans (which
        must not overlap each other, as planned stop spans do not).

        The current state is taken to last until ``end``: pass the present as ``end`` while it
        lasts (a run tag sends nothing while it does not change).
        """
        spans = [(a, b) for a, b, k in self._segments if k == kind]
        if self._current is not None and self._current[0] == kind:
            spans.append((self._current[1], max(end, self._current[1])))
        total = 0.0
        for a, b in spans:
            lo, hi = max(a, start), min(b, end)
            if lo < hi:
                total += hi - lo - _overlap(lo, hi, excluding)
        return total

    def run_seconds(self, start: float, end: float, *, excluding: Sequence[Span] = ()) -> float:
        """Run time in ``[start, end)``: APT when the window is a shift and ``excluding`` its
        planned stops."""
        return self.seconds("run", start, end, excluding=excluding)

    def down_seconds(self, start: float, end: float, *, excluding: Sequence[Span] = ()) -> float:
        """Stopped time in ``[start, end)`` (unknown time is not counted)."""
        return self.seconds("stop", start, end, excluding=excluding)

    def prune(self, before: float) -> None:
        """Forget segments and closed events that ended before ``before`` (they were summarised)."""
        self._segments = [s for s in self._segments if s[1] > before]
        self._events = {k: e for k, e in self._events.items() if e.end is None or e.end > before}


def _overlap(lo: float, hi: float, spans: Sequence[Span]) -> float:
    total = 0.0
    for a, b in spans:
        x, y = max(a, lo), min(b, hi)
        if x < y:
            total += y - x
    return total
