"""What the production service keeps per line and counter, and the figures it publishes.

Pure logic, no I/O: :func:`line_figures` turns a line's state into the values of its derived tags
(``L.production.*``, see ``production_model.derived_tag_specs``), each with its quality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hmi_app.core.project.production_model import CounterConfig, LineConfig
from hmi_app.core.project.production_tags import KPI_TAGS
from hmi_app.core.quality import Quality, Reason
from hmi_app.runtime.counting import CounterState, CounterTracker
from hmi_app.runtime.oee import RunStateTracker
from hmi_app.runtime.production_records import ShiftFigures, shift_oee, undefined_reasons
from hmi_app.runtime.shifts import ShiftCalendar

Figure = tuple[str, Any, Quality, str]  # (tag suffix, value, quality, reason)


@dataclass
class CounterRun:
    """One counter of a line: its tracker, booking numbers and last saved state."""

    line: str
    config: CounterConfig
    connection: str
    tracker: CounterTracker
    epoch: str  # part of every key of this counter (see production_records)
    booking: int  # the last booking number handed out
    saved: CounterState  # last committed state and booking: where a failed write goes back to
    saved_booking: int
    queued_baseline: int | None  # the baseline of the last state queued for saving
    generation: int = 0  # raised when a write failed: jobs queued before it are stale

    def committed(self, state: CounterState, booking: int) -> None:
        self.saved, self.saved_booking = state, booking

    def roll_back(self) -> None:
        """A write failed: back to the last saved state, so the next value books it again."""
        self.generation += 1
        self.tracker.restore(self.saved)
        self.booking = self.saved_booking
        self.queued_baseline = self.saved.baseline


@dataclass
class LineRun:
    """One line: counters, run state, order and product, the figures of the current shift."""

    name: str
    config: LineConfig
    counters: list[CounterRun]
    run: RunStateTracker
    figures: ShiftFigures
    order: str | None = None
    product: str | None = None
    order_quality: tuple[Quality, str] = (Quality.BAD, Reason.WAITING)
    product_quality: tuple[Quality, str] = (Quality.BAD, Reason.WAITING)
    revisions: dict[str, int] = field(default_factory=dict)  # downtime event -> last revision
    observed_since: float | None = None  # first good value of the run tag: OEE counts from here


def line_figures(calendar: ShiftCalendar, line: LineRun, now: float) -> list[Figure]:
    """Every derived tag's value for ``line`` at ``now`` (the figures must be ``now``'s slot)."""
    good_q = Quality.GOOD
    figures = line.figures
    slot = figures.slot
    produced, good = figures.quantities(line.config)
    out: list[Figure] = [
        ("shift", slot.name, good_q, ""),
        ("good", good, good_q, ""),
        ("reject", max(0, produced - good), good_q, ""),
        ("total", produced, good_q, ""),
        ("hourly_good", figures.hourly_good(line.config), good_q, ""),
    ]
    result = shift_oee(calendar, line.config, line.run, figures, now, line.observed_since)
    undefined = undefined_reasons(result, slot.scheduled)
    values = (result.availability, result.effectiveness, result.quality_ratio, result.oee)
    for kpi, value in zip(KPI_TAGS, values, strict=True):
        if value is None:
            out.append((kpi, None, Quality.BAD, undefined[kpi]))
        else:
            out.append((kpi, float(value), good_q, ""))
    out += downtime_figures(calendar, line, now)
    out.append(("order", line.order or "", *line.order_quality))
    out.append(("product", line.product or "", *line.product_quality))
    return out


def downtime_figures(calendar: ShiftCalendar, line: LineRun, now: float) -> list[Figure]:
    """Downtime now (unplanned: in a shift, outside its planned stops), this shift's downtime
    minutes and the current event's reason code."""
    slot = line.figures.slot
    end = max(now, slot.start_ts)
    stops = calendar.planned_stop_spans(slot.start_ts, end)
    in_stop = any(a <= now < b for a, b in stops)
    down = line.run.down_seconds(slot.start_ts, end, excluding=stops) if slot.scheduled else 0.0
    active = line.run.current == "stop" and slot.scheduled and not in_stop
    event = line.run.open_event
    reason = (event.reason if event is not None else None) or ""
    return [
        ("downtime_active", active, Quality.GOOD, ""),
        ("downtime_minutes", down / 60.0, Quality.GOOD, ""),
        ("downtime_reason", reason, Quality.GOOD, ""),
    ]
