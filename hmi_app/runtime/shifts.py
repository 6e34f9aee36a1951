"""The shift calendar: which shift and which hour a moment belongs to, and the planned stops.

Pure logic, no I/O. Shifts and planned stops are daily periods in local wall-clock time ("06:00"
to "14:00", "22:00" to "06:00" crossing midnight), on chosen weekdays (the day a period *starts*
on: a Monday night shift 22:00-06:00 is Monday's), in one timezone (an IANA zone, default the
computer's own). Moments are POSIX seconds; every conversion goes through the timezone, so the
night shift of the spring DST change lasts 7 hours and the autumn one 9, and local hours are real
hours (the repeated 02:00 in autumn is two buckets, told apart by their UTC offset).

Rules chosen:

- **Unscheduled time is a slot, not None.** :meth:`ShiftCalendar.shift_at` always returns a
  :class:`ShiftSlot`; between shifts (nights without a night shift, weekends, days off) it is an
  ``unscheduled`` slot running from the end of the previous shift to the start of the next, cut at
  local midnight. Counts made then are kept (booked to that slot and their hour) but carry no
  planned busy time, so they do not change any shift's OEE.
- **Planned stops count only inside shifts** (as the project check says): a break at 12:00-12:30
  reduces the planned busy time of the shift it falls in and nothing else.
- **Wall times that do not exist or exist twice** (DST) follow PEP 495 with ``fold=0``: a time in
  the spring gap is read with the offset before the change (02:30 becomes 03:30 summer time), a
  repeated autumn time is its first occurrence. Shifts that end where the next starts stay
  back to back either way.
- **Days off** (:attr:`ShiftCalendar.days_off`): shifts that would start on these dates do not run.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from hmi_app.core.project.production_model import ShiftCalendar as ShiftCalendarConfig

log = logging.getLogger(__name__)

UNSCHEDULED = "unscheduled"
MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))

Moment = float | datetime


@dataclass(frozen=True, slots=True)
class Period:
    """A daily period of local time: a shift or a planned stop.

    ``start_minute``/``end_minute`` are minutes after local midnight (``end_minute`` may be 1440
    for 24:00); an end at or before the start is on the next day. ``weekdays`` (0 = Monday) are
    the days the period starts on.
    """

    name: str
    start_minute: int
    end_minute: int
    weekdays: frozenset[int] = EVERY_DAY

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"{self.name}: start minute {self.start_minute} is not in a day")
        if not 0 <= self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"{self.name}: end minute {self.end_minute} is not in a day")
        if self.start_minute == self.end_minute:
            raise ValueError(f"{self.name}: a period needs a length")
        if not self.weekdays or not self.weekdays <= EVERY_DAY:
            raise ValueError(f"{self.name}: weekdays are 0 (Monday) to 6, at least one")

    @classmethod
    def of(
        cls, name: str, start: str, end: str, weekdays: Iterable[str | int] | None = None
    ) -> Period:
        """From ``"HH:MM"`` times (``"24:00"`` as an end) and weekday names or numbers."""
        days = EVERY_DAY if weekdays is None else frozenset(_weekday(d) for d in weekdays)
        return cls(name, _minutes(start), _minutes(end, end=True), days)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    def instance(self, day: date, tz: tzinfo) -> tuple[float, float] | None:
        """(start, end) in POSIX seconds of the instance starting on ``day``, if it runs then."""
        if day.weekday() not in self.weekdays:
            return None
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return _local_ts(day, self.start_minute, tz), _local_ts(end_day, self.end_minute, tz)


@dataclass(frozen=True, slots=True)
class ShiftSlot:
    """One instance of a shift (or an unscheduled gap between shifts) as aware local datetimes.

    ``day`` is the production day: the local date the shift started on.
    """

    name: str
    start: datetime
    end: datetime
    day: date
    scheduled: bool = True

    @property
    def start_ts(self) -> float:
        return self.start.timestamp()

    @property
    def end_ts(self) -> float:
        return self.end.timestamp()

    @property
    def duration_s(self) -> float:
        """Real elapsed seconds (DST included: a 22:00-06:00 shift can last 7 or 9 hours)."""
        return self.end_ts - self.start_ts

    @property
    def key(self) -> str:
        """Stable identifier: ``2026-03-28/night``; an unscheduled slot by its start time."""
        if self.scheduled:
            return f"{self.day.isoformat()}/{self.name}"
        return f"{self.start.isoformat(timespec='seconds')}/{UNSCHEDULED}"

    def contains(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts


@dataclass(frozen=True, slots=True)
class HourBucket:
    """One local hour, from ``start`` to ``end`` (aware datetimes; the label tells the repeated
    autumn hour apart by its UTC offset)."""

    start: datetime
    end: datetime

    @property
    def start_ts(self) -> float:
        return self.start.timestamp()

    @property
    def end_ts(self) -> float:
        return self.end.timestamp()

    @property
    def label(self) -> str:
        return self.start.isoformat(timespec="minutes")


@dataclass(frozen=True)
class ShiftCalendar:
    """Shifts, planned stops and days off of a plant, in one timezone (see the module docstring)."""

    shifts: Sequence[Period]
    planned_stops: Sequence[Period] = ()
    tz: tzinfo = field(default_factory=lambda: local_zone())
    days_off: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        names = [s.name for s in self.shifts]
        if len(set(names)) != len(names):
            raise ValueError(f"shift names must differ: {names}")
        if UNSCHEDULED in names:
            raise ValueError(f"{UNSCHEDULED!r} is reserved for the time between shifts")
        # the weekly pattern repeats: overlaps show within any 9 days (one week plus spill-over)
        spans = sorted(
            (span, s.name)
            for day in (date(2024, 1, 1) + timedelta(days=i) for i in range(9))
            for s in self.shifts
            if (span := s.instance(day, ZoneInfo("UTC"))) is not None
        )
        for (first, a), (second, b) in itertools.pairwise(spans):
            if second[0] < first[1]:
                raise ValueError(f"shifts {a!r} and {b!r} overlap")

    @classmethod
    def from_config(
        cls, config: ShiftCalendarConfig, days_off: Iterable[date] = ()
    ) -> ShiftCalendar:
        """From the project's ``production.shifts`` section."""
        return cls(
            shifts=[Period.of(s.name, s.start, s.end, s.weekdays) for s in config.shifts],
            planned_stops=[
                Period.of(p.name, p.start, p.end, p.weekdays) for p in config.planned_stops
            ],
            tz=zone(config.timezone),
            days_off=frozenset(days_off),
        )

    # ---- lookups -------------------------------------------------------------------------
    def shift_at(self, moment: Moment) -> ShiftSlot:
        """The shift instance containing ``moment``, or the unscheduled slot around it."""
        ts = _ts(moment)
        day = _local(ts, self.tz).date()
        for start_day in (day - timedelta(days=1), day):
            for shift in self.shifts:
                span = self._instance(shift, start_day)
                if span is not None and span[0] <= ts < span[1]:
                    return self._slot(shift.name, span, start_day, scheduled=True)
        day_start = _local_ts(day, 0, self.tz)
        day_end = _local_ts(day + timedelta(days=1), 0, self.tz)
        begin, finish = day_start, day_end
        for start_day in (day - timedelta(days=1), day, day + timedelta(days=1)):
            for shift in self.shifts:
                span = self._instance(shift, start_day)
                if span is None:
                    continue
                if begin <= span[1] <= ts:
                    begin = span[1]
                if ts < span[0] <= finish:
                    finish = span[0]
        return self._slot(UNSCHEDULED, (begin, finish), day, scheduled=False)

    def hour_bucket(self, moment: Moment) -> HourBucket:
        """The local hour containing ``moment``."""
        local = _local(_ts(moment), self.tz)
        start = local.replace(minute=0, second=0, microsecond=0)
        end = datetime.fromtimestamp(start.timestamp() + 3600, self.tz)
        return HourBucket(start, end)

    def shifts_between(self, start: Moment, end: Moment) -> list[ShiftSlot]:
        """The scheduled shift instances overlapping ``[start, end)``, in time order."""
        lo, hi = _ts(start), _ts(end)
        slots = [
            self._slot(shift.name, span, day, scheduled=True)
            for day in self._days(lo, hi)
            for shift in self.shifts
            if (span := self._instance(shift, day)) is not None and span[0] < hi and span[1] > lo
        ]
        return sorted(slots, key=lambda s: s.start_ts)

    # ---- planned time --------------------------------------------------------------------
    def scheduled_seconds(self, start: Moment, end: Moment) -> float:
        """Seconds of ``[start, end)`` inside scheduled shifts."""
        lo, hi = _ts(start), _ts(end)
        return _measure(_clip(self._spans(self.shifts, lo, hi), lo, hi))

    def planned_stop_seconds(self, start: Moment, end: Moment) -> float:
        """Seconds of ``[start, end)`` inside planned stops that lie inside scheduled shifts.

        ISO 22400-2 calls this the planned down time (PDOT) when the window is a shift.
        """
        return _measure(self.planned_stop_spans(start, end))

    def planned_stop_spans(self, start: Moment, end: Moment) -> list[tuple[float, float]]:
        """Planned stops inside shifts within ``[start, end)``, as (start, end) POSIX seconds."""
        lo, hi = _ts(start), _ts(end)
        shifts = _clip(self._spans(self.shifts, lo, hi), lo, hi)
        stops = _clip(self._spans(self.planned_stops, lo, hi, shift=False), lo, hi)
        return _intersect(shifts, stops)

    def planned_busy_seconds(self, start: Moment, end: Moment) -> float:
        """Scheduled time of ``[start, end)`` minus its planned stops: ISO 22400-2 planned busy
        time (PBT) when the window is a shift; 0 for unscheduled time."""
        return self.scheduled_seconds(start, end) - self.planned_stop_seconds(start, end)

    # ---- internals -----------------------------------------------------------------------
    def _instance(
        self, period: Period, day: date, *, shift: bool = True
    ) -> tuple[float, float] | None:
        if shift and day in self.days_off:
            return None
        return period.instance(day, self.tz)

    def _slot(
        self, name: str, span: tuple[float, float], day: date, *, scheduled: bool
    ) -> ShiftSlot:
        start = datetime.fromtimestamp(span[0], self.tz)
        end = datetime.fromtimestamp(span[1], self.tz)
        return ShiftSlot(name, start, end, day, scheduled)

    def _days(self, lo: float, hi: float) -> list[date]:
        first = _local(lo, self.tz).date() - timedelta(days=1)
        last = _local(hi, self.tz).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def _spans(
        self, periods: Sequence[Period], lo: float, hi: float, *, shift: bool = True
    ) -> list[tuple[float, float]]:
        return _merge(
            span
            for day in self._days(lo, hi)
            for p in periods
            if (span := self._instance(p, day, shift=shift)) is not None
        )


def zone(name: str | None) -> tzinfo:
    """An IANA timezone by name; ``"local"`` or None: the computer's own (:func:`local_zone`)."""
    if name is None or name == "local":
        return local_zone()
    return ZoneInfo(name)


def local_zone() -> tzinfo:
    """The computer's timezone as an IANA zone (so DST changes are followed).

    From ``TZ``, else the ``/etc/localtime`` link; where neither names a zone (Windows), the
    current fixed offset, with a warning: name the timezone in the project there.
    """
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo" + os.sep in target:
            candidates.append(target.split("zoneinfo" + os.sep, 1)[1])
    except OSError:
        pass
    for key in candidates:
        if key:
            try:
                return ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    fixed = datetime.now().astimezone().tzinfo
    log.warning(
        "the computer's timezone has no IANA name: using the fixed offset %s, which does not"
        " follow DST; set production.shifts.timezone in the project",
        fixed,
    )
    assert fixed is not None
    return fixed


def _weekday(day: str | int) -> int:
    if isinstance(day, int):
        return day
    return WEEKDAYS.index(day.lower()[:3])


def _minutes(text: str, *, end: bool = False) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes)
    if end and value == MINUTES_PER_DAY:
        return value
    if not 0 <= value < MINUTES_PER_DAY or not 0 <= int(minutes) < 60:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def _local_ts(day: date, minute: int, tz: tzinfo) -> float:
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return wall.timestamp()


def _local(ts: float, tz: tzinfo) -> datetime:
    # whole seconds: fromtimestamp rounds to the nearest microsecond, which can push a moment
    # just before a boundary (always on a whole minute) over it
    return datetime.fromtimestamp(math.floor(ts), tz)


def _ts(moment: Moment) -> float:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError(f"{moment} has no timezone: give an aware datetime or POSIX seconds")
        return moment.timestamp()
    return float(moment)


def _merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _clip(spans: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if a < hi and b > lo]


def _intersect(
    first: list[tuple[float, float]], second: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = []
    for a, b in first:
        for c, d in second:
            lo, hi = max(a, c), min(b, d)
            if lo < hi:
                out.append((lo, hi))
    return out


def _measure(spans: Iterable[tuple[float, float]]) -> float:
    return sum(hi - lo for lo, hi in spans)
