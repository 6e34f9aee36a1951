"""What the production service books: the figures of a shift and the outbox records' payloads.

Pure logic, no I/O. Keys (stable and unique, receivers dedupe on them):

- count: ``<project>/<line>/<counter>/<epoch>/<booking>``: ``booking`` numbers a counter's
  deltas 1, 2, 3... and is saved with the counter's baseline; ``epoch`` (the moment the counter's
  row was first created, hex milliseconds) keeps keys unique if the database is ever replaced.
- downtime: ``<project>/<line>/downtime/<start ms>/r<revision>``: one event is sent when it ends
  and again when its reason is set; ``event`` in the payload names it across revisions.
- order change: ``<project>/<line>/order_change/<ms>/<field>``.
- shift summary: ``<project>/<line>/shift_summary/<shift key>`` (``2026-11-22/early``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hmi_app.core.project.production_model import LineConfig
from hmi_app.core.project.production_tags import HOURS_PER_SHIFT_TAG
from hmi_app.runtime.counting import Delta
from hmi_app.runtime.oee import (
    DowntimeEvent,
    OeeResult,
    ProductOutput,
    RunStateTracker,
    ideal_cycle_s,
    oee_for_window,
    quantities,
)
from hmi_app.runtime.outbox import iso_utc
from hmi_app.runtime.shifts import ShiftCalendar, ShiftSlot

KINDS = ("good", "reject", "total")


@dataclass
class ShiftFigures:
    """Counts of one line in one shift slot: per counter kind, per product and per hour."""

    slot: ShiftSlot
    by_product: dict[str, dict[str | None, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    by_hour: dict[str, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0] * HOURS_PER_SHIFT_TAG)
    )

    def hour_index(self, ts: float) -> int:
        """Hours since the slot started (0 = its first hour), within the hourly array."""
        return min(HOURS_PER_SHIFT_TAG - 1, max(0, int((ts - self.slot.start_ts) // 3600)))

    def add(self, kind: str, product: str | None, hour: int, amount: int) -> None:
        self.by_product[kind][product] += amount
        self.by_hour[kind][hour] += amount

    def total(self, kind: str) -> int:
        return sum(self.by_product[kind].values()) if kind in self.by_product else 0

    def quantities(self, line: LineConfig, product: str | None = None) -> tuple[int, int]:
        """(produced, good) of the line, for ``product`` or (None) all products."""
        kinds = {c.kind for c in line.counters}

        def amount(kind: str) -> float | None:
            if kind not in kinds:
                return None
            counts = self.by_product.get(kind, {})
            return float(sum(counts.values()) if product is None else counts.get(product, 0))

        produced, good = quantities(amount("good"), amount("reject"), amount("total"))
        return int(produced), max(0, int(good))

    def hourly_good(self, line: LineConfig) -> tuple[int, ...]:
        kinds = {c.kind for c in line.counters}
        if "good" in kinds:
            return tuple(self.by_hour["good"])
        total, reject = self.by_hour["total"], self.by_hour["reject"]
        return tuple(max(0, t - r) for t, r in zip(total, reject, strict=True))

    def products(self) -> list[str | None]:
        seen: dict[str | None, None] = {}
        for counts in self.by_product.values():
            seen.update(dict.fromkeys(counts))
        return list(seen)


def shift_oee(
    calendar: ShiftCalendar,
    line: LineConfig,
    run: RunStateTracker,
    figures: ShiftFigures,
    end: float,
    observed_since: float | None,
) -> OeeResult:
    """ISO 22400-2 KPIs of the slot up to ``end`` (now, or the slot's end).

    Only the time the run state was watched counts (from ``observed_since``, the first value of
    the run tag): time before the runtime started is neither run nor stop, so it is left out of
    the planned busy time instead of being taken for a stop.
    """
    start = figures.slot.start_ts
    start = end if observed_since is None else min(end, max(start, observed_since))
    outputs = []
    for product in figures.products():
        produced, good = figures.quantities(line, product)
        rate = line.ideal_rate_per_min(product)
        outputs.append(ProductOutput(product, max(0, produced), good, ideal_cycle_s(rate)))
    return oee_for_window(calendar, run, start, end, outputs)


def undefined_reasons(result: OeeResult, scheduled: bool) -> dict[str, str]:
    """Why each KPI that is None is undefined (the bad-quality reason on its tag)."""
    reasons: dict[str, str] = {}
    if result.availability is None:
        reasons["availability"] = (
            "undefined: no planned busy time yet" if scheduled else "undefined: unscheduled time"
        )
    if result.effectiveness is None:
        reasons["performance"] = (
            "undefined: the line has not run in this shift"
            if result.actual_production_time_s <= 0
            else "undefined: no ideal rate for a product made"
        )
    if result.quality_ratio is None:
        reasons["quality"] = "undefined: nothing produced in this shift yet"
    if result.oee is None:
        reasons["oee"] = next(iter(reasons.values()), "undefined")
    return reasons


def slot_fields(slot: ShiftSlot) -> dict[str, Any]:
    return {"shift": slot.name, "shift_start": slot.start.isoformat(timespec="seconds")}


def count_payload(
    line: str,
    counter: str,
    kind: str,
    delta: Delta,
    slot: ShiftSlot,
    hour_label: str,
    order: str | None,
    product: str | None,
    booking: int,
) -> dict[str, Any]:
    """The payload of a count record (one booked delta of one counter)."""
    return {
        "line": line,
        "counter": counter,
        "kind": kind,
        "amount": delta.amount,
        "from_value": delta.from_value,
        "to_value": delta.to_value,
        "from_ts": iso_utc(delta.from_ts),
        "to_ts": iso_utc(delta.to_ts),
        **slot_fields(slot),
        "hour": hour_label,
        "order": order,
        "product": product,
        "recovered": delta.recovered,
        "uncertain": delta.uncertain,
        "wrap": delta.kind == "wrap",
        "reset": delta.kind == "reset",
        "note": delta.note,
        "booking": booking,
    }


def downtime_payload(
    event: DowntimeEvent, revision: int, reasons: Mapping[str, str], slot: ShiftSlot
) -> dict[str, Any]:
    """The payload of one revision of a downtime event."""
    return {
        "line": event.line,
        "event": event.key,
        "revision": revision,
        "start": iso_utc(event.start),
        "end": None if event.end is None else iso_utc(event.end),
        "duration_s": event.duration_s,
        "reason": event.reason,
        "reason_text": None if event.reason is None else reasons.get(event.reason),
        **slot_fields(slot),
    }


def summary_payload(
    line_name: str,
    line: LineConfig,
    figures: ShiftFigures,
    result: OeeResult | None,
    events: list[DowntimeEvent],
    down_s: float | None,
    note: str = "",
) -> dict[str, Any]:
    """The payload of a shift summary: counts, OEE parts and downtime of one shift of a line."""
    slot = figures.slot
    produced, good = figures.quantities(line)
    by_reason: dict[str, float] = defaultdict(float)
    for event in events:
        if event.duration_s is not None:
            by_reason[event.reason or "unassigned"] += event.duration_s
    return {
        "line": line_name,
        **slot_fields(slot),
        "shift_end": slot.end.isoformat(timespec="seconds"),
        "counts": {kind: figures.total(kind) for kind in KINDS if kind in _kinds(line)},
        "produced": produced,
        "good": good,
        "scrap": max(0, produced - good),
        "products": [
            {"product": p, "produced": q[0], "good": q[1]}
            for p in figures.products()
            for q in [figures.quantities(line, p)]
        ],
        "oee": None if result is None else result.to_dict(),
        "downtime": {
            "events": len(events),
            "minutes": None if down_s is None else round(down_s / 60.0, 3),
            "seconds_by_reason": dict(by_reason),
        },
        "note": note,
    }


def _kinds(line: LineConfig) -> set[str]:
    return {c.kind for c in line.counters}
