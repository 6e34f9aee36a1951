"""Shift ends of the production lines: a summary record per line and shift, and the slot saved.

A slot that is over is summarised when the service first looks at the line after its end (the
publisher does, about once a second; so does a booking). The summary holds the counts per kind
and product, the ISO 22400-2 parts (PBT, APT, quantities, KPIs) and the downtime events with their
reasons. The slot each line is in is saved, so a shift that ended while the runtime was down is
still summarised at the next start, from its bookings (run time unknown then, said in a note).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from hmi_app.runtime import production_store as store
from hmi_app.runtime.oee import RunStateTracker
from hmi_app.runtime.outbox import Outbox, OutboxRecord
from hmi_app.runtime.production_lines import LineRun
from hmi_app.runtime.production_queue import WriteJob, WriteQueue
from hmi_app.runtime.production_records import ShiftFigures, shift_oee, summary_payload
from hmi_app.runtime.shifts import ShiftCalendar, ShiftSlot

log = logging.getLogger(__name__)


class ShiftKeeper:
    """Keeps each line's figures in the slot of the moment; summarises the slots that end."""

    def __init__(
        self, calendar: ShiftCalendar, project: str, outbox: Outbox, writes: WriteQueue
    ) -> None:
        self.calendar = calendar
        self.project = project
        self.outbox = outbox
        self._writes = writes

    def figures(self, line: LineRun, now: float) -> ShiftFigures:
        """The figures of the slot ``now`` is in; a slot that ended is summarised first."""
        figures = line.figures
        if figures.slot.contains(now):
            return figures
        slot = self.calendar.shift_at(now)
        if slot.key == figures.slot.key:
            return figures
        if figures.slot.scheduled:
            end = figures.slot.end_ts
            result = shift_oee(
                self.calendar, line.config, line.run, figures, end, line.observed_since
            )
            events = line.run.events(figures.slot.start_ts, end)
            stops = self.calendar.planned_stop_spans(figures.slot.start_ts, end)
            down = line.run.down_seconds(figures.slot.start_ts, end, excluding=stops)
            payload = summary_payload(line.name, line.config, figures, result, events, down)
            self._send_summary(line, figures.slot, payload)
        line.run.prune(slot.start_ts)
        line.revisions = {k: v for k, v in line.revisions.items() if k in _keys(line.run)}
        line.figures = ShiftFigures(slot)
        self.remember(line, None)
        return line.figures

    def _send_summary(self, line: LineRun, slot: ShiftSlot, payload: dict[str, Any]) -> None:
        key = f"{self.project}/{line.name}/shift_summary/{slot.key}"
        record = OutboxRecord(key, "shift_summary", time.time(), payload)
        log.info("shift %s of %s ended: summary %s", slot.key, line.name, key)

        def fn(conn: sqlite3.Connection) -> None:
            self.outbox.add(conn, record)

        self._writes.put(WriteJob(fn, f"shift summary {key}"))

    def remember(self, line: LineRun, saved: store.SavedLine | None) -> None:
        """Remember the line's slot; a scheduled one saved earlier and over now is summarised
        from its bookings (run time is unknown: the runtime was not running when it ended)."""
        slot = line.figures.slot
        if (
            saved is not None
            and saved.shift_key
            and saved.shift_key != slot.key
            and saved.scheduled
            and saved.shift_start is not None
        ):
            self._summarise_missed(line, saved)
        fields = {
            "shift_key": slot.key,
            "shift_name": slot.name,
            "shift_start": slot.start_ts,
            "shift_end": slot.end_ts,
            "scheduled": int(slot.scheduled),
        }
        self._writes.put(
            WriteJob(lambda conn: store.save_line(conn, line.name, fields), "line state")
        )

    def _summarise_missed(self, line: LineRun, saved: store.SavedLine) -> None:
        assert saved.shift_start is not None and saved.shift_key is not None
        old = self.calendar.shift_at(saved.shift_start)
        if old.key != saved.shift_key:
            return  # the calendar changed since: that shift no longer exists
        key = saved.shift_key

        def fn(conn: sqlite3.Connection) -> None:
            figures = ShiftFigures(old)
            for kind, product, hour, amount in store.shift_bookings(conn, line.name, key):
                figures.add(kind, product, hour, amount)
            note = "the runtime was not running when the shift ended: run time and OEE unknown"
            payload = summary_payload(line.name, line.config, figures, None, [], None, note)
            record = OutboxRecord(
                f"{self.project}/{line.name}/shift_summary/{key}",
                "shift_summary",
                time.time(),
                payload,
            )
            self.outbox.add(conn, record)

        self._writes.put(WriteJob(fn, f"missed shift summary {key}"))


def _keys(run: RunStateTracker) -> set[str]:
    return {event.key for event in run.events()}
