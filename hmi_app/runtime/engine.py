"""The tag engine: device samples in, scaled values with quality out, to whoever subscribed.

Drivers publish decoded device values; the engine scales them to engineering units, applies the
deadband, keeps the latest value of each tag and calls listeners with changes only. Subscriptions
are counted per tag: the first listener makes the driver read the tag, the last one leaving stops
it. Writes are checked here (writability, type, limits) whatever screen or script they come from,
and every attempt is written to the audit log.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from drivers.base import Driver, DriverWriteError, GoodBlock, LinkState, PointSpec, Sample
from hmi_app.core.datatypes import DataType
from hmi_app.core.deadlines import within
from hmi_app.core.project.model import ProjectModel, TagConfig
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import TagCallback, TagMeta, WriteRefused
from hmi_app.runtime.coercion import check_integer_range, coerce

log = logging.getLogger(__name__)
audit = logging.getLogger("hmi.audit")

LinkListener = Callable[[str, LinkState, str], None]
WriteHandler = Callable[[Any], Awaitable[None]]
WRITE_TIMEOUT_S = 5.0


class _Listener:
    """A subscription handle: cancelling it removes one listener from one tag."""

    __slots__ = ("_callback", "_engine", "_name")

    def __init__(self, engine: TagEngine, name: str, callback: TagCallback) -> None:
        self._engine, self._name, self._callback = engine, name, callback

    def cancel(self) -> None:
        self._engine._remove_listener(self._name, self._callback)


class _TagState:
    """Runtime state of one tag."""

    __slots__ = (
        "config",
        "connection",
        "deadband",
        "gain",
        "listeners",
        "meta",
        "offset",
        "point",
        "value",
    )

    def __init__(self, config: TagConfig, meta: TagMeta, point: PointSpec | None) -> None:
        self.configure(config, meta, point)
        self.connection = config.connection
        self.listeners: list[TagCallback] = []
        self.value: TagValue | None = None

    def configure(self, config: TagConfig, meta: TagMeta, point: PointSpec | None) -> None:
        """Take ``config`` (at start, or edited while running: the state object stays, so the
        drivers' resolved publishers keep pointing at it)."""
        self.config = config
        self.meta = meta
        self.point = point
        scaling = config.scaling
        # eu = raw * gain + offset, precomputed: the hot path does one multiply and one add
        self.gain: float | None = None
        self.offset = 0.0
        if scaling is not None:
            self.gain = (scaling.eu_max - scaling.eu_min) / (scaling.raw_max - scaling.raw_min)
            self.offset = scaling.eu_min - scaling.raw_min * self.gain
        self.deadband = config.deadband


class TagEngine:
    """Holds every tag of a project and moves values from drivers to listeners."""

    def __init__(self, model: ProjectModel) -> None:
        self._model = model
        self._tags: dict[str, _TagState] = {}
        self._drivers: dict[str, Driver] = {}
        self._links: dict[str, tuple[LinkState, str]] = {
            name: (LinkState.STOPPED, "") for name in model.connections
        }
        self._link_listeners: list[LinkListener] = []
        self._write_handlers: dict[str, WriteHandler] = {}
        now = time.time()
        for config in model.runtime_tags:
            state = _TagState(config, config.meta(), self._point_of(config))
            if config.is_memory:
                initial = _initial_value(config)
                state.value = TagValue(initial, Quality.GOOD, now, now)
            self._tags[config.name] = state

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self, drivers: Mapping[str, Driver]) -> None:
        """Attach and start the drivers; tags already subscribed are handed to them."""
        self._drivers = dict(drivers)
        for name, driver in self._drivers.items():
            await self._attach(name, driver)

    async def _attach(self, connection: str, driver: Driver) -> None:
        """Hand ``driver`` every tag of ``connection`` something listens to, and start it."""
        wanted = [
            s.point
            for s in self._tags.values()
            if s.connection == connection and s.listeners and s.point is not None
        ]
        if wanted:
            driver.subscribe(wanted)
        await driver.start(self._publisher(connection), self._link_callback(connection))

    async def stop(self) -> None:
        """Stop every driver (their tags keep their last value, marked bad)."""
        drivers, self._drivers = self._drivers, {}
        for driver in drivers.values():
            try:
                await driver.stop()
            except Exception:
                log.exception("driver %s did not stop cleanly", driver.name)
        now = time.time()
        for state in self._tags.values():
            if state.point is not None:
                self._set(state, _bad(state.value, "stopped", now))

    async def replace_driver(self, connection: str, driver: Driver) -> None:
        """Run ``driver`` for ``connection`` instead of the one running (a connection edited or
        added while the app runs): the old one stops, its tags read BAD "restarting" until the
        new one (handed every tag something listens to) reports."""
        old = self._drivers.pop(connection, None)
        if old is not None:
            try:
                await old.stop()
            except Exception:
                log.exception("driver %s did not stop cleanly", old.name)
        now = time.time()
        reason = f"{Reason.NOT_CONNECTED}: connection {connection} restarting with new settings"
        for state in self._tags.values():
            if state.connection == connection and state.point is not None:
                self._set(state, _bad(state.value, reason, now))
        self._drivers[connection] = driver
        self._links[connection] = (LinkState.STOPPED, "")
        await self._attach(connection, driver)
        log.info("connection %s restarted with its new settings", connection)

    # ---- tags added while running --------------------------------------------------------
    def add_tags(self, model: ProjectModel, names: Iterable[str]) -> list[str]:
        """Add tags ``names`` of ``model`` (the project as saved while running) without a
        restart; the names added. A memory tag starts at its initial value; a tag on a running
        connection is read once something subscribes to it (as every tag is); a tag on a
        connection this engine does not run stays BAD until the app is restarted. Names
        already known are left alone: a changed or removed tag applies after a restart."""
        added: list[str] = []
        now = time.time()
        configs = _configs_by_name(model)
        for name in names:
            if name in self._tags:
                continue
            config = configs.get(name)
            if config is None:
                continue
            scan_ms = model.scan_classes.get(config.scan)
            point = None if scan_ms is None else point_spec(config, scan_ms)
            if not config.is_memory and point is None:
                continue
            state = _TagState(config, config.meta(), point)
            if config.is_memory:
                state.value = TagValue(_initial_value(config), Quality.GOOD, now, now)
            elif config.connection not in self._links:
                reason = (
                    f"{Reason.CONFIG_ERROR}: connection {config.connection} starts after a restart"
                )
                state.value = TagValue(None, Quality.BAD, now, now, reason)
            self._tags[name] = state
            added.append(name)
        if added:
            log.info("tags added while running: %s", ", ".join(added))
        return added

    def update_tags(self, model: ProjectModel, names: Iterable[str]) -> list[str]:
        """Take the edited configuration of tags ``names`` from ``model`` while running: limits,
        scaling, deadband, units, format and address apply at once (a new address is read from
        the next scan). A tag moved to another connection, or between device and memory, waits
        for a restart. The names updated."""
        updated: list[str] = []
        configs = _configs_by_name(model)
        for name in names:
            state = self._tags.get(name)
            config = configs.get(name)
            if state is None or config is None or config.connection != state.connection:
                continue
            scan_ms = model.scan_classes.get(config.scan)
            point = None if config.is_memory or scan_ms is None else point_spec(config, scan_ms)
            if (point is None) != (state.point is None):
                continue
            old_point = state.point
            state.configure(config, config.meta(), point)
            driver = self._drivers.get(state.connection)
            if point != old_point and state.listeners and driver is not None:
                driver.unsubscribe([name])
                assert point is not None
                driver.subscribe([point])
            updated.append(name)
        if updated:
            log.info("tags updated while running: %s", ", ".join(updated))
        return updated

    # ---- reading -----------------------------------------------------------------------
    def tag_names(self) -> list[str]:
        return list(self._tags)

    def meta(self, name: str) -> TagMeta:
        return self._state(name).meta

    def config(self, name: str) -> TagConfig:
        return self._state(name).config

    def current(self, name: str) -> TagValue | None:
        return self._state(name).value

    def point(self, name: str) -> PointSpec | None:
        """What the driver is asked to read for this tag (None for a memory tag)."""
        return self._state(name).point

    def subscribe(self, name: str, callback: TagCallback) -> _Listener:
        """Call ``callback`` now with the current value (if any) and later with every change."""
        state = self._state(name)
        state.listeners.append(callback)
        if len(state.listeners) == 1 and state.point is not None:
            driver = self._drivers.get(state.connection)
            if driver is not None:
                driver.subscribe([state.point])
            if state.value is None:
                now = time.time()
                state.value = TagValue(None, Quality.BAD, now, now, Reason.WAITING)
        if state.value is not None:
            callback(state.value)
        return _Listener(self, name, callback)

    def _remove_listener(self, name: str, callback: TagCallback) -> None:
        state = self._tags[name]
        try:
            state.listeners.remove(callback)
        except ValueError:
            return
        if not state.listeners and state.point is not None:
            driver = self._drivers.get(state.connection)
            if driver is not None:
                driver.unsubscribe([name])

    # ---- links -------------------------------------------------------------------------
    def link_states(self) -> dict[str, tuple[LinkState, str]]:
        return dict(self._links)

    def add_link_listener(self, callback: LinkListener) -> None:
        self._link_listeners.append(callback)

    def remove_link_listener(self, callback: LinkListener) -> None:
        """Forget ``callback`` (a closing window); unknown callbacks are ignored."""
        if callback in self._link_listeners:
            self._link_listeners.remove(callback)

    def _link_callback(self, connection: str) -> Callable[[LinkState, str], None]:
        def on_link(state: LinkState, detail: str) -> None:
            self._links[connection] = (state, detail)
            if detail and detail != state.value:
                log.info("link %s: %s (%s)", connection, state.value, detail)
            else:
                log.info("link %s: %s", connection, state.value)
            if state is LinkState.DISCONNECTED:
                reason = (
                    detail
                    if detail.startswith(Reason.COMM_FAILURE)
                    else (f"{Reason.COMM_FAILURE}: {detail}")
                )
                self._mark_connection_bad(connection, reason)
            for listener in list(self._link_listeners):
                listener(connection, state, detail)

        return on_link

    def _mark_connection_bad(self, connection: str, reason: str) -> None:
        now = time.time()
        for state in self._tags.values():
            if state.connection != connection or not state.listeners:
                continue
            value = state.value
            told = (
                value is not None
                and value.quality is Quality.BAD
                and value.reason.startswith(Reason.COMM_FAILURE)
            )
            if not told:  # the driver usually has said it already, with its own words
                self._set(state, _bad(value, reason, now))

    # ---- values from drivers -----------------------------------------------------------
    def _publisher(self, connection: str) -> Callable[[Sequence[Sample]], None]:
        tags = self._tags
        resolved: dict[tuple[str, ...], list[_TagState | None]] = {}

        def states_of(keys: tuple[str, ...]) -> list[_TagState | None]:
            states = resolved.get(keys)
            if states is None:
                if len(resolved) > 256:  # blocks re-planned or varying subsets: start afresh
                    resolved.clear()
                states = resolved[keys] = [self._own(tags.get(k), k, connection) for k in keys]
            return states

        def publish(samples: Sequence[Sample]) -> None:
            now = time.time()
            if type(samples) is GoodBlock:
                self._accept_good(states_of(samples.keys), samples.values, samples.source_ts, now)
                return
            for sample in samples:
                state = self._own(tags.get(sample.key), sample.key, connection)
                if state is not None:
                    self._accept(state, sample, now)

        return publish

    @staticmethod
    def _own(state: _TagState | None, key: str, connection: str) -> _TagState | None:
        if state is None or state.connection != connection:
            log.warning("%s published unknown point %r", connection, key)
            return None
        return state

    @staticmethod
    def _accept_good(
        states: list[_TagState | None], values: Sequence[Any], source_ts: float, now: float
    ) -> None:
        """The hot path: good values of one block read, no Sample objects, listeners inline."""
        good = Quality.GOOD
        make = tuple.__new__
        for state, value in zip(states, values, strict=True):
            if state is None:
                continue
            gain = state.gain
            if gain is not None:
                value = value * gain + state.offset
            old = state.value
            if old is not None and old[1] is good and not old[4]:
                previous = old[0]
                if previous == value:
                    continue
                deadband = state.deadband
                # value == value is False only for NaN, which always passes
                if (
                    deadband
                    and previous is not None
                    and value == value
                    and abs(value - previous) < deadband
                ):
                    continue
            new = make(TagValue, (value, good, source_ts, now, ""))
            state.value = new
            for listener in state.listeners:
                try:
                    listener(new)
                except Exception:
                    log.exception("listener of %s failed", state.config.name)

    def _accept(self, state: _TagState, sample: Sample, now: float) -> None:
        quality = sample.quality
        old = state.value
        if quality is Quality.BAD or (sample.value is None and quality is not Quality.GOOD):
            # no usable value (link down, device exception, stale): keep the last one, marked
            if old is not None and old.quality is quality and old.reason == sample.reason:
                return
            self._set(state, _marked(old, quality, sample.reason, now))
            return
        value = sample.value
        gain = state.gain
        if gain is not None and value is not None:
            value = value * gain + state.offset
        if old is not None and old.quality is quality and old.reason == sample.reason:
            previous = old.value
            if previous == value:
                return
            deadband = state.deadband
            if (
                deadband
                and previous is not None
                and abs(value - previous) < deadband
                and not (isinstance(value, float) and math.isnan(value))
            ):
                return
        self._set(state, TagValue(value, quality, sample.source_ts, now, sample.reason))

    def _set(self, state: _TagState, value: TagValue) -> None:
        state.value = value
        for listener in state.listeners:
            try:
                listener(value)
            except Exception:
                log.exception("listener of %s failed", state.config.name)

    # ---- memory tags a service owns -----------------------------------------------------
    def publish(
        self, name: str, value: Any, quality: Quality = Quality.GOOD, reason: str = ""
    ) -> None:
        """Set memory tag ``name`` (a service's figure) and tell its listeners, if it changed.

        No write checks and no audit entry: this is the runtime's own output, not an operator's
        write. ValueError for a device tag (those values come from their driver only).
        """
        state = self._state(name)
        if state.point is not None:
            raise ValueError(f"{name} is a device tag: only its driver sets its value")
        old = state.value
        if (
            old is not None
            and old.quality is quality
            and old.reason == reason
            and type(old.value) is type(value)
            and old.value == value
        ):
            return
        now = time.time()
        self._set(state, TagValue(value, quality, now, now, reason))

    def set_write_handler(self, name: str, handler: WriteHandler | None) -> None:
        """Let ``handler`` take the checked writes to memory tag ``name`` (None: the default).

        The handler gets the value after the type and limit checks; it decides what the write
        means, raises ``WriteRefused`` to refuse it and publishes what the tag then reads.
        """
        if self._state(name).point is not None:
            raise ValueError(f"{name} is a device tag: its writes go to the device")
        if handler is None:
            self._write_handlers.pop(name, None)
        else:
            self._write_handlers[name] = handler

    # ---- writes ------------------------------------------------------------------------
    async def write(self, name: str, value: Any, user: str = "operator") -> None:
        """Check and write ``value`` (engineering units); WriteRefused says why it was not done."""
        state = self._tags.get(name)
        if state is None:
            raise WriteRefused(f"unknown tag {name!r}")
        old = state.value.value if state.value is not None else None
        try:
            await self._write(state, value)
        except WriteRefused as exc:
            audit.warning("write refused user=%s tag=%s value=%r: %s", user, name, value, exc)
            raise
        audit.info("write done user=%s tag=%s old=%r new=%r", user, name, old, value)

    async def _write(self, state: _TagState, value: Any) -> None:
        config = state.config
        if not config.writable:
            raise WriteRefused(f"{config.name} is read-only")
        # a scaled integer tag holds a float in engineering units; it is rounded once unscaled
        eu_type = DataType.FLOAT64 if config.scaling is not None else config.type
        eu = coerce(value, eu_type, config.length, config.array_length)
        limits = config.limits
        if limits is not None:
            low = limits.min if limits.min is not None else -math.inf
            high = limits.max if limits.max is not None else math.inf
            if not low <= eu <= high:
                units = f" {config.units}" if config.units else ""
                raise WriteRefused(
                    f"{eu:g}{units} is outside the limits {_fmt(limits.min)}..{_fmt(limits.max)}"
                )
        if state.point is None:
            handler = self._write_handlers.get(config.name)
            if handler is not None:
                await handler(eu)
                return
            now = time.time()
            self._set(state, TagValue(eu, Quality.GOOD, now, now))
            return
        raw: Any = eu
        if config.scaling is not None:
            raw = config.scaling.to_raw(eu)
        if config.type.is_integer:
            if config.array_length:  # an integer array: each element checked
                raw = tuple(check_integer_range(item, config.type) for item in raw)
            else:
                raw = check_integer_range(raw, config.type)
        driver = self._drivers.get(state.connection)
        if driver is None:
            raise WriteRefused(f"connection {state.connection} is not running")
        try:
            await within(driver.write(state.point, raw), WRITE_TIMEOUT_S)
        except DriverWriteError as exc:
            raise WriteRefused(f"device refused the write: {exc}") from None
        except TimeoutError:
            raise WriteRefused(
                f"no answer from {state.connection} within {WRITE_TIMEOUT_S:g} s"
            ) from None

    # ---- helpers -----------------------------------------------------------------------
    def _state(self, name: str) -> _TagState:
        try:
            return self._tags[name]
        except KeyError:
            raise KeyError(f"unknown tag {name!r}") from None

    def _point_of(self, config: TagConfig) -> PointSpec | None:
        return point_spec(config, self._model.scan_classes[config.scan])


def _configs_by_name(model: ProjectModel) -> dict[str, TagConfig]:
    """``model.runtime_tags`` by name (the property builds its list on every call)."""
    return {tag.name: tag for tag in model.runtime_tags}


def point_spec(config: TagConfig, scan_ms: int) -> PointSpec | None:
    """What a driver is asked to read for ``config`` (None for a memory tag)."""
    if config.is_memory:
        return None
    return PointSpec(
        key=config.name,
        address=config.address,
        data_type=config.type,
        byte_order=config.byte_order,
        word_order=config.word_order,
        length=config.length,
        scan_ms=scan_ms,
        array_length=config.array_length,
    )


def _initial_value(config: TagConfig) -> Any:
    if config.initial is not None:
        try:
            return coerce(config.initial, config.type, config.length, config.array_length)
        except WriteRefused as exc:
            log.warning("initial value of %s ignored: %s", config.name, exc)
    scalar: Any = {DataType.BOOL: False, DataType.STRING: "", DataType.DATETIME: None}.get(
        config.type, 0
    )
    return (scalar,) * config.array_length if config.array_length else scalar


def _bad(old: TagValue | None, reason: str, now: float) -> TagValue:
    return _marked(old, Quality.BAD, reason, now)


def _marked(old: TagValue | None, quality: Quality, reason: str, now: float) -> TagValue:
    if old is None:
        return TagValue(None, quality, now, now, reason)
    return old.with_quality(quality, reason, now)


def _fmt(limit: float | None) -> str:
    return "" if limit is None else f"{limit:g}"
