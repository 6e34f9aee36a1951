"""Schema of the ``production:`` section of ``project.yaml`` (pydantic).

``production`` says what is counted (lines, their counters, run-state, order and product tags),
when (the shift calendar) and where the counts wait before they are sent (the SQLite database
with the outbox). The receivers are in ``sync_targets.py``, the tags the production service
publishes in ``production_tags.py``.

References to tags (do the tags exist, do their types fit) are checked in ``hmi_app.check``,
where the whole project is known; :meth:`ShiftCalendar.problems` finds overlapping shifts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    pass

DATA_DIR_ENV = "HMI_APP_DATA_DIR"
DATABASE_FILE = "production.sqlite"
UNSCHEDULED = "unscheduled"  # the runtime's name for time outside every shift
DEFAULT_OUTBOX_CAPACITY = 1_000_000
OUTBOX_WARN_FRACTION = 0.8  # warn when the outbox holds more than this share of its capacity
MINUTES_PER_DAY = 24 * 60
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
CODE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
TIME = re.compile(r"^(\d{2}):(\d{2})$")
Loc = tuple[str | int, ...]


class StrictModel(BaseModel):
    """Unknown keys are errors, so typos are caught at load time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ValueError(f"{value!r} is not a {what} name: use letters, digits, _ and -")
    return value


def minutes_of(text: str, *, end: bool = False) -> int:
    """``"HH:MM"`` as minutes after midnight; ``"24:00"`` only as an end. ValueError otherwise."""
    match = TIME.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time: write HH:MM (e.g. 06:00)")
    hours, minutes = int(match[1]), int(match[2])
    if end and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return hours * 60 + minutes


class _Period(StrictModel):
    """A daily period from ``start`` to ``end`` ("HH:MM"); an end before the start is next day."""

    name: str
    start: str
    end: str
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="days the period starts on (default: every day)",
    )

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        minutes_of(value)
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str) -> str:
        minutes_of(value, end=True)
        return value

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[Weekday]) -> list[Weekday]:
        if not value:
            raise ValueError("name at least one day (or leave weekdays out for every day)")
        if len(set(value)) != len(value):
            raise ValueError("a day is named twice")
        return value

    @model_validator(mode="after")
    def _length(self) -> _Period:
        if self.start_minute == self.end_minute:
            raise ValueError(
                f"{self.start} to {self.end} has no length (a whole day is 00:00 to 24:00)"
            )
        return self

    @property
    def start_minute(self) -> int:
        return minutes_of(self.start)

    @property
    def end_minute(self) -> int:
        return minutes_of(self.end, end=True)

    @property
    def minutes(self) -> int:
        """Length in minutes (a period that ends before it starts runs past midnight)."""
        return (self.end_minute - self.start_minute) % MINUTES_PER_DAY or MINUTES_PER_DAY

    def week_minutes(self) -> list[range]:
        """The minutes of a week (0 = Monday 00:00) this period covers, wrapping Sunday->Monday."""
        week = 7 * MINUTES_PER_DAY
        spans = []
        for day in self.weekdays:
            first = WEEKDAYS.index(day) * MINUTES_PER_DAY + self.start_minute
            last = first + self.minutes
            spans.append(range(first, min(last, week)))
            if last > week:
                spans.append(range(0, last - week))
        return spans


class ShiftConfig(_Period):
    """One shift; it belongs to the day it starts on (22:00-06:00 on a Monday is Monday's)."""

    @field_validator("name")
    @classmethod
    def _shift_name(cls, value: str) -> str:
        if value.lower() == UNSCHEDULED:
            raise ValueError(f"{value!r} names the time between shifts: pick another name")
        return _name(value, "shift")


class PlannedStop(_Period):
    """Time inside a shift when the line is not meant to run (a break, a meeting, cleaning)."""


class ShiftCalendar(StrictModel):
    """The shift pattern of the plant, in one timezone."""

    timezone: str = Field(
        default="local",
        description="IANA name (Europe/Berlin) or 'local' for the computer's own timezone",
    )
    shifts: list[ShiftConfig] = Field(default_factory=list)
    planned_stops: list[PlannedStop] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value == "local":
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a timezone: use an IANA name such as Europe/Berlin, or 'local'"
            ) from None
        return value

    def problems(self) -> list[tuple[Loc, str]]:
        """Overlapping shifts, duplicate names, stops that overlap or lie outside every shift.

        Each problem comes with its place relative to this section (``("shifts", 2)``), so the
        caller can name the line of the file.
        """
        found: list[tuple[Loc, str]] = []
        owner: dict[int, int] = {}
        names: set[str] = set()
        for index, shift in enumerate(self.shifts):
            if shift.name in names:
                found.append((("shifts", index, "name"), f"shift {shift.name!r} is defined twice"))
            names.add(shift.name)
            clash = _claim(owner, index, shift.week_minutes())
            if clash is not None:
                other, minute = clash
                found.append(
                    (
                        ("shifts", index),
                        f"shift {shift.name!r} overlaps shift {self.shifts[other].name!r}"
                        f" ({_when(minute)})",
                    )
                )
        stops: dict[int, int] = {}
        for index, stop in enumerate(self.planned_stops):
            spans = stop.week_minutes()
            clash = _claim(stops, index, spans)
            if clash is not None:
                other, minute = clash
                found.append(
                    (
                        ("planned_stops", index),
                        f"planned stop {stop.name!r} overlaps planned stop"
                        f" {self.planned_stops[other].name!r} ({_when(minute)})",
                    )
                )
            outside = next((m for span in spans for m in span if m not in owner), None)
            if outside is not None:
                found.append(
                    (
                        ("planned_stops", index),
                        f"planned stop {stop.name!r} is outside every shift ({_when(outside)});"
                        " a stop counts only inside a shift",
                    )
                )
        return found


def _claim(owner: dict[int, int], index: int, spans: list[range]) -> tuple[int, int] | None:
    """Mark ``spans`` as ``index``'s; the first (other owner, minute) already taken, if any."""
    clash = None
    for span in spans:
        for minute in span:
            previous = owner.setdefault(minute, index)
            if previous != index and clash is None:
                clash = (previous, minute)
    return clash


def _when(week_minute: int) -> str:
    day, minute = divmod(week_minute, MINUTES_PER_DAY)
    return f"{WEEKDAYS[day]} {minute // 60:02d}:{minute % 60:02d}"


class CounterConfig(StrictModel):
    """A production counter: a PLC count tag that only goes up, wrapping at its width."""

    name: str
    tag: str
    kind: Literal["good", "reject", "total"]
    width: Literal[16, 32] = 32
    signed: bool = False
    max_rate_per_s: float = Field(
        default=100.0,
        gt=0,
        description="most counts a second the machine can make: a bigger jump is a reset, and an "
        "outage longer than one wrap period (2^width / rate) makes the counts uncertain",
    )

    @field_validator("name")
    @classmethod
    def _counter_name(cls, value: str) -> str:
        return _name(value, "counter")

    def value_range(self) -> tuple[int, int]:
        """Inclusive range of the PLC counter."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    @property
    def wrap_period_s(self) -> float:
        """Seconds the counter needs at full rate to go once round its range."""
        return (1 << self.width) / self.max_rate_per_s


class LineConfig(StrictModel):
    """One production line: what it counts, when it runs, what it makes and for which order."""

    run_tag: str = Field(description="tag that says whether the line runs (bool or a state code)")
    running_values: list[bool | int | str] = Field(
        default_factory=list,
        description="values of run_tag that mean running; a bool tag needs none (true runs)",
    )
    order_tag: str | None = Field(
        default=None, description="work order: a PLC tag or a memory tag the operator enters"
    )
    product_tag: str | None = Field(
        default=None, description="product being made: a PLC tag or an operator-entered memory tag"
    )
    products: dict[str, float] = Field(
        default_factory=dict, description="product -> ideal rate (units per minute)"
    )
    default_ideal_rate_per_min: float | None = Field(default=None, gt=0)
    downtime_reasons: dict[str, str] = Field(
        default_factory=dict, description="reason code -> text the operator picks from"
    )
    counters: list[CounterConfig]

    @field_validator("products")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for product, rate in value.items():
            if not product.strip():
                raise ValueError("a product needs a name")
            if not rate > 0:
                raise ValueError(f"product {product!r}: the ideal rate must be above 0")
        return value

    @field_validator("downtime_reasons")
    @classmethod
    def _reasons(cls, value: dict[str, str]) -> dict[str, str]:
        for code, text in value.items():
            if not CODE.match(code):
                raise ValueError(f"{code!r} is not a reason code: use letters, digits, _ . and -")
            if not str(text).strip():
                raise ValueError(f"reason {code!r} needs a text the operator can read")
        return value

    @field_validator("counters")
    @classmethod
    def _counters(cls, value: list[CounterConfig]) -> list[CounterConfig]:
        if not value:
            raise ValueError("a line needs at least one counter")
        names = [c.name for c in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"counter names must differ ({', '.join(twice)} used twice)")
        if not any(c.kind in ("good", "total") for c in value):
            raise ValueError("a line needs a good or a total counter (rejects alone count nothing)")
        return value

    @model_validator(mode="after")
    def _ideal_rate(self) -> LineConfig:
        if self.default_ideal_rate_per_min is None and not self.products:
            raise ValueError(
                "performance needs an ideal rate: set default_ideal_rate_per_min or products"
            )
        return self

    def ideal_rate_per_min(self, product: str | None) -> float | None:
        """The ideal rate of ``product`` (the default for an unknown or missing product)."""
        if product is not None and product in self.products:
            return self.products[product]
        return self.default_ideal_rate_per_min


class ProductionConfig(StrictModel):
    """The ``production:`` section: where counts are kept, the shift calendar and the lines."""

    database: str = Field(
        default=DATABASE_FILE,
        description="SQLite file for counts and the outbox; a relative path is in the project's "
        "data folder (see project_data_dir), not in the project folder",
    )
    outbox_capacity: int = Field(default=DEFAULT_OUTBOX_CAPACITY, ge=1000, le=100_000_000)
    shifts: ShiftCalendar = Field(default_factory=ShiftCalendar)
    lines: dict[str, LineConfig]

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.strip() or value.endswith(("/", "\\")):
            raise ValueError(f"{value!r} is not a file name")
        return value

    @field_validator("lines")
    @classmethod
    def _lines(cls, value: dict[str, LineConfig]) -> dict[str, LineConfig]:
        if not value:
            raise ValueError("name at least one line")
        for name in value:
            _name(name, "line")
        return value

    def database_path(self, data_folder: Path) -> Path:
        """The database file: ``database`` in ``data_folder`` (see :func:`project_data_dir`)."""
        return resolve_data_path(self.database, data_folder)


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``HMI_APP_DATA_DIR`` or the platform's user data folder (as for the log folder)."""
    env = os.environ if environ is None else environ
    override = env.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("hmi-app", appauthor=False))


def project_data_dir(project_name: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the runtime writes for a project: ``<data dir>/<project name as a folder name>``.

    Not the project folder: that may be read-only (the demo ships inside the installed package)
    and is copied and versioned by people editing projects, which must not copy the counts.
    The folder follows the project's name, so moving the project folder keeps its outbox.
    """
    return data_dir(environ) / project_slug(project_name)


def resolve_data_path(text: str, data_folder: Path) -> Path:
    """``text`` (``~`` expanded) if absolute, else inside ``data_folder``."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(data_folder) / path


def project_slug(name: str) -> str:
    """A folder name for a project name (``Demo bottling plant`` -> ``demo-bottling-plant``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "project"
