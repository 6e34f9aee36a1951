"""The production service: PLC counts, run state and orders in, outbox records and figures out.

Per line of the project's ``production:`` section it subscribes (through the tag engine, so the
drivers keep reading these tags whatever screen is open) to the counter tags, the run tag and the
order and product tags. Each counter has a :class:`~hmi_app.runtime.counting.CounterTracker`
whose state is loaded from the database at start; every delta it books becomes ONE database
transaction holding the counter's new state (baseline and booking number), the booking row and
the outbox record, so after a crash the three are all there or all missing. The outbox wakes the
senders once the transaction committed. Link drops reach the trackers from the engine's link
listeners (the next good value books what was missed, flagged recovered).

The run tag feeds a :class:`~hmi_app.runtime.oee.RunStateTracker`: a downtime event is sent when
it ends and again when the operator books its reason (a write to ``L.production.downtime_reason``,
refused for a code the line does not know). Order and product changes are sent, and at each shift
end a summary (counts, OEE parts, downtime). The figures are published about once a second as the
derived memory tags of ``production_model.derived_tag_specs``.

Writes go through one queue, in order, so a failed write (disk full) can put the counter back to
its last saved state: the next value books again what was lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from drivers.base import LinkState
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.project.production_model import CounterConfig, ProductionConfig, project_slug
from hmi_app.core.project.production_tags import derived_tag_configs, production_tag
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime import production_store as store
from hmi_app.runtime.counting import CounterState, CounterTracker, CounterWidth, Delta
from hmi_app.runtime.engine import TagEngine
from hmi_app.runtime.oee import DowntimeEvent, RunStateTracker
from hmi_app.runtime.outbox import Outbox, OutboxRecord, iso_utc
from hmi_app.runtime.production_lines import CounterRun, LineRun, downtime_figures, line_figures
from hmi_app.runtime.production_queue import WriteJob, WriteQueue
from hmi_app.runtime.production_records import (
    ShiftFigures,
    count_payload,
    downtime_payload,
    slot_fields,
)
from hmi_app.runtime.production_shifts import ShiftKeeper
from hmi_app.runtime.shifts import ShiftCalendar
from hmi_app.runtime.store import Database

log = logging.getLogger(__name__)

PUBLISH_INTERVAL_S = 1.0
STOP_DRAIN_S = 10.0
Clock = Callable[[], float]


class ProductionService:
    """Counting, attribution, downtime and shift summaries of every line (see the module doc)."""

    def __init__(
        self,
        model: ProjectModel,
        engine: TagEngine,
        db: Database,
        outbox: Outbox,
        *,
        clock: Clock = time.time,
        publish_interval_s: float = PUBLISH_INTERVAL_S,
    ) -> None:
        if model.production is None:
            raise ValueError("the project has no production section")
        self.config: ProductionConfig = model.production
        self.engine = engine
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.publish_interval_s = publish_interval_s
        self.calendar = ShiftCalendar.from_config(self.config.shifts)
        self.project = project_slug(model.project.name)
        self.lines: dict[str, LineRun] = {}
        self._owned = {
            tag.name
            for tag in derived_tag_configs(self.config)
            if tag.name in engine.tag_names() and engine.config(tag.name) == tag
        }
        self._writes = WriteQueue(db)
        self._shifts = ShiftKeeper(self.calendar, self.project, outbox, self._writes)
        self._subscriptions: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._reason_tags: list[str] = []

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the saved state, subscribe to the line tags and start publishing."""
        await self.outbox.setup()
        now = self.clock()
        counters, lines = await self.db.write(lambda conn: _load(conn, time.time()))
        for name, config in self.config.lines.items():
            slot = self.calendar.shift_at(now)
            line = self.lines[name] = LineRun(
                name,
                config,
                [],
                RunStateTracker(name, config.running_values),
                ShiftFigures(slot),
            )
            saved_line = lines.get(name)
            if saved_line is not None:
                line.order, line.product = saved_line.work_order, saved_line.product
            for counter in config.counters:
                line.counters.append(
                    self._counter(name, counter, counters.get((name, counter.name)))
                )
            rows = await self.db.read(functools.partial(_bookings_of, line=name, key=slot.key))
            for kind, product, hour, amount in rows:
                line.figures.add(kind, product, hour, amount)
            self._shifts.remember(line, saved_line)
        self._writes.start()
        self.engine.add_link_listener(self._on_link)
        for line in self.lines.values():
            self._subscribe(line)
        self._publish_all()
        self._tasks.append(asyncio.create_task(self._ticker(), name="production-ticker"))
        log.info("production service started for %s", ", ".join(self.lines))

    async def stop(self) -> None:
        """Unsubscribe, finish the queued writes (at most STOP_DRAIN_S), stop the tasks."""
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions = []
        self.engine.remove_link_listener(self._on_link)
        for name in self._reason_tags:
            self.engine.set_write_handler(name, None)
        self._reason_tags = []
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._writes.stop(STOP_DRAIN_S)
        for name in self._owned:  # what screens still show is no longer kept up to date
            self.engine.publish(name, None, Quality.BAD, "production service stopped")

    async def flush(self) -> None:
        """Wait until every booking queued so far is committed (tests, shutdown)."""
        await self._writes.join()

    # ---- set-up --------------------------------------------------------------------------
    def _counter(
        self, line: str, config: CounterConfig, saved: store.SavedCounter | None
    ) -> CounterRun:
        state = None
        if saved is not None:
            try:
                state = CounterState.from_dict(saved.state)
            except ValueError as exc:
                log.warning("counter %s.%s: saved state unusable (%s)", line, config.name, exc)
        tracker = CounterTracker(
            config.tag,
            CounterWidth(config.width, config.signed),
            max_rate_per_s=config.max_rate_per_s,
            state=state,
            name=f"{line}.{config.name}",
        )
        epoch = saved.epoch if saved is not None else f"{round(time.time() * 1000):x}"
        booking = saved.booking if saved is not None else 0
        connection = self.engine.config(config.tag).connection
        return CounterRun(
            line, config, connection, tracker, epoch, booking, tracker.state, booking,
            tracker.state.baseline,
        )  # fmt: skip

    def _subscribe(self, line: LineRun) -> None:
        sub = self.engine.subscribe
        for counter in line.counters:
            self._subscriptions.append(
                sub(counter.config.tag, functools.partial(self._on_count, counter))
            )
        self._subscriptions.append(sub(line.config.run_tag, lambda v: self._on_run(line, v)))
        for what in ("order", "product"):
            tag = getattr(line.config, f"{what}_tag")
            if tag is not None:
                self._subscriptions.append(sub(tag, functools.partial(self._on_order, line, what)))
        reason_tag = production_tag(line.name, "downtime_reason")
        if reason_tag in self._owned:

            async def handler(value: Any) -> None:
                await self._write_reason(line, value)

            self.engine.set_write_handler(reason_tag, handler)
            self._reason_tags.append(reason_tag)

    # ---- counting ------------------------------------------------------------------------
    def _on_link(self, connection: str, state: LinkState, _detail: str) -> None:
        if state is LinkState.CONNECTED or state is LinkState.CONNECTING:
            return
        for line in self.lines.values():
            for counter in line.counters:
                if counter.connection == connection:
                    counter.tracker.link_down(time.time())

    def _on_count(self, counter: CounterRun, value: TagValue) -> None:
        delta = counter.tracker.feed(value)
        if delta is not None:
            self._book(counter, delta)
        elif counter.tracker.state.baseline != counter.queued_baseline:
            self._save_state(counter)

    def _save_state(self, counter: CounterRun) -> None:
        """A new baseline (first value, resubscription): saved so a restart books from it."""
        state, booking = counter.tracker.state, counter.booking
        counter.queued_baseline = state.baseline
        saved = store.SavedCounter(counter.epoch, booking, state.to_dict())
        now = time.time()

        def fn(conn: sqlite3.Connection) -> None:
            store.save_counter(conn, counter.line, counter.config.name, saved, now)

        what = f"baseline of {counter.line}.{counter.config.name}"
        self._writes.put(self._counter_job(counter, fn, what, state, booking))

    def _book(self, counter: CounterRun, delta: Delta) -> None:
        line = self.lines[counter.line]
        now = self.clock()
        figures = self._shifts.figures(line, now)
        counter.booking += 1
        booking, state = counter.booking, counter.tracker.state
        counter.queued_baseline = state.baseline
        kind = counter.config.kind
        key = f"{self.project}/{line.name}/{counter.config.name}/{counter.epoch}/{booking}"
        hour = figures.hour_index(now)
        payload = count_payload(
            line.name,
            counter.config.name,
            kind,
            delta,
            figures.slot,
            self.calendar.hour_bucket(now).label,
            line.order,
            line.product,
            booking,
        )
        record = OutboxRecord(key, "count", time.time(), payload)
        row = store.BookingRow(
            key, line.name, counter.config.name, kind, delta.amount, now, figures.slot.key,
            hour, line.product, line.order,
        )  # fmt: skip
        saved = store.SavedCounter(counter.epoch, booking, state.to_dict())
        figures.add(kind, line.product, hour, delta.amount)

        def fn(conn: sqlite3.Connection) -> None:
            store.save_counter(conn, line.name, counter.config.name, saved, row.at)
            store.save_booking(conn, row)
            self.outbox.add(conn, record)

        def undo() -> None:
            figures.add(kind, row.product, hour, -delta.amount)

        self._writes.put(self._counter_job(counter, fn, f"count {key}", state, booking, undo))

    @staticmethod
    def _counter_job(
        counter: CounterRun,
        fn: Callable[[sqlite3.Connection], None],
        what: str,
        state: CounterState,
        booking: int,
        undo: Callable[[], None] | None = None,
    ) -> WriteJob:
        """A write of ``counter``'s state; if it fails, the counter rolls back to the last saved
        state, and writes queued after it (built on the lost state) are dropped."""
        generation = counter.generation

        def failed() -> None:
            if undo is not None:
                undo()
            if generation == counter.generation:
                counter.roll_back()

        return WriteJob(
            fn,
            what,
            stale=lambda: generation != counter.generation,
            on_done=lambda: counter.committed(state, booking),
            on_failed=failed,
        )

    # ---- run state, downtime, orders -------------------------------------------------------
    def _on_run(self, line: LineRun, value: TagValue) -> None:
        now = self.clock()
        if line.observed_since is None and value.quality is Quality.GOOD:
            line.observed_since = now
        for event in line.run.update(value.value, value.quality, now):
            if event.end is not None:
                self._send_downtime(line, event, None)
        self._publish_downtime(line, now)

    def _send_downtime(
        self, line: LineRun, event: DowntimeEvent, future: asyncio.Future[None] | None
    ) -> None:
        revision = line.revisions[event.key] = line.revisions.get(event.key, 0) + 1
        slot = self.calendar.shift_at(event.start)
        payload = downtime_payload(event, revision, line.config.downtime_reasons, slot)
        record = OutboxRecord(
            f"{self.project}/{event.key}/r{revision}", "downtime", time.time(), payload
        )

        def fn(conn: sqlite3.Connection) -> None:
            self.outbox.add(conn, record)

        self._writes.put(WriteJob(fn, f"downtime {record.key}", future=future))

    async def _write_reason(self, line: LineRun, value: Any) -> None:
        code = str(value).strip()
        reasons = line.config.downtime_reasons
        if not reasons:
            raise WriteRefused(
                f"line {line.name} has no downtime reasons: add them under production.lines."
                f"{line.name}.downtime_reasons"
            )
        if code not in reasons:
            raise WriteRefused(
                f"{code!r} is not a downtime reason of {line.name}: use one of "
                + ", ".join(reasons)
            )
        event = line.run.open_event or next(
            (e for e in reversed(line.run.events()) if e.reason is None and e.end is not None),
            None,
        )
        if event is None:
            raise WriteRefused(f"line {line.name} has no downtime event to book {code!r} to")
        event = line.run.set_reason(event.key, code)
        log.info("downtime %s of %s booked as %s", event.key, line.name, code)
        saved: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._send_downtime(line, event, saved)
        try:
            await saved
        except Exception as exc:
            raise WriteRefused(f"the reason could not be saved: {exc}") from None
        finally:
            self._publish_downtime(line, self.clock())

    def _on_order(self, line: LineRun, what: str, value: TagValue) -> None:
        quality = (value.quality, value.reason)
        setattr(line, f"{what}_quality", quality)
        if value.quality is Quality.GOOD and value.value is not None:
            new = str(value.value)
            old = getattr(line, what)
            if new != old:
                setattr(line, what, new)
                self._send_order_change(line, what, old)
        self._publish(line, what, getattr(line, what) or "", *quality)

    def _send_order_change(self, line: LineRun, what: str, previous: str | None) -> None:
        now = self.clock()
        figures = self._shifts.figures(line, now)
        payload = {
            "line": line.name,
            "field": what,
            "order": line.order,
            "product": line.product,
            f"previous_{what}": previous,
            "at": iso_utc(now),
            **slot_fields(figures.slot),
        }
        ms = round(now * 1000)
        key = f"{self.project}/{line.name}/order_change/{ms}/{what}"
        record = OutboxRecord(key, "order_change", time.time(), payload)
        fields = {"work_order": line.order, "product": line.product}

        def fn(conn: sqlite3.Connection) -> None:
            store.save_line(conn, line.name, fields)
            self.outbox.add(conn, record)

        self._writes.put(WriteJob(fn, f"order change {key}"))

    # ---- publishing --------------------------------------------------------------------------
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.publish_interval_s)
            try:
                self._publish_all()
            except Exception:
                log.exception("production: publishing the figures failed")

    def _publish_all(self) -> None:
        now = self.clock()
        for line in self.lines.values():
            self._shifts.figures(line, now)
            for what, value, quality, reason in line_figures(self.calendar, line, now):
                self._publish(line, what, value, quality, reason)

    def _publish_downtime(self, line: LineRun, now: float) -> None:
        for what, value, quality, reason in downtime_figures(self.calendar, line, now):
            self._publish(line, what, value, quality, reason)

    def _publish(
        self,
        line: LineRun,
        what: str,
        value: Any,
        quality: Quality = Quality.GOOD,
        reason: str = "",
    ) -> None:
        name = production_tag(line.name, what)
        if name in self._owned:
            self.engine.publish(name, value, quality, reason)


def _bookings_of(
    conn: sqlite3.Connection, line: str, key: str
) -> list[tuple[str, str | None, int, int]]:
    return store.shift_bookings(conn, line, key)


def _load(
    conn: sqlite3.Connection, now: float
) -> tuple[dict[tuple[str, str], store.SavedCounter], dict[str, store.SavedLine]]:
    store.create_schema(conn, now)
    return store.load_counters(conn), store.load_lines(conn)
