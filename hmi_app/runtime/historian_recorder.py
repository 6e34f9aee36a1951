"""The live path into the historian: what of each tag's values is stored, batched to the writer.

The recorder subscribes through the tag engine to every tag marked ``history`` (its own
subscriptions: the drivers keep reading those tags whatever screen is open) and decides per
value whether to store it:

- a change of quality is always stored;
- a value is stored when it moved by at least the tag's deadband (engineering units; the tag's
  ``history.deadband``, else the historian's ``default_deadband``) from the last stored value;
- a value is stored at least every ``max_interval`` seconds even when unchanged, stamped with the
  current time, so a gap in history always means there was no data (the runtime did not run);
- bool values are stored as 0/1; a value that is not a number is stored as no value.

Stored samples of a tag have strictly increasing times: a good value carries its source time, a
marked one (link lost, runtime stopping) the time it was received. Samples are collected in
memory and handed to the writer thread as one transaction every ``batch_interval`` seconds (or
sooner once ``batch_rows`` are waiting), never one transaction per sample.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hmi_app.core.datatypes import DataType
from hmi_app.core.deadlines import wait_set
from hmi_app.core.project.history_model import TagHistory
from hmi_app.core.project.model import ProjectModel, TagConfig
from hmi_app.core.quality import Quality, TagValue
from hmi_app.runtime.engine import TagEngine
from hmi_app.runtime.historian import Historian, HistorianSettings
from hmi_app.runtime.historian_write import Row

log = logging.getLogger(__name__)

BATCH_INTERVAL_S = 0.5
BATCH_ROWS = 20_000
MAX_BACKLOG_ROWS = 2_000_000
"""Rows kept while the file cannot be written (disk full); the oldest go beyond this."""
TIME_STEP = 1e-6


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """How one tag is recorded: its deadband (engineering units) and maximum interval (s)."""

    tag: str
    deadband: float
    max_interval: float


def recordable(tag: TagConfig) -> str | None:
    """Why ``tag`` cannot be recorded (None when it can): history keeps numbers and bools."""
    if tag.array_length:
        return f"{tag.name} is an array: history keeps single numbers and bools"
    if tag.type is not DataType.BOOL and not tag.type.is_numeric:
        return f"{tag.name} is {tag.type.value}: history keeps numbers and bools"
    return None


def record_specs(model: ProjectModel, settings: HistorianSettings) -> list[RecordSpec]:
    """A spec per tag of ``model`` marked for history (tags that cannot be recorded left out)."""
    specs: list[RecordSpec] = []
    for tag in model.runtime_tags:
        history = tag.history
        if history is False or recordable(tag) is not None:
            continue
        own = history if isinstance(history, TagHistory) else TagHistory()
        specs.append(
            RecordSpec(
                tag.name,
                settings.default_deadband if own.deadband is None else own.deadband,
                settings.default_max_interval if own.max_interval is None else own.max_interval,
            )
        )
    return specs


def as_number(value: object) -> float | None:
    """A tag value as stored: a float, bool as 0/1, None for anything that is not a number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def _within(number: float | None, last: float | None, deadband: float) -> bool:
    """True when ``number`` is no change worth storing from ``last`` (both no value included)."""
    if number is None or last is None:
        return number is None and last is None
    return number == last or abs(number - last) < deadband


class _Subscription(Protocol):
    def cancel(self) -> None: ...


class _Track:
    """What the recorder remembers of one tag: the last stored sample and the latest value."""

    __slots__ = ("deadband", "last_q", "last_ts", "last_v", "latest_q", "latest_v", "max_interval")

    def __init__(self, spec: RecordSpec) -> None:
        self.deadband = spec.deadband
        self.max_interval = spec.max_interval
        self.last_ts = -math.inf
        self.last_v: float | None = None
        self.last_q = -1  # nothing stored yet
        self.latest_v: float | None = None
        self.latest_q = -1


class Recorder:
    """Stores the values of the tags in ``specs`` into ``historian`` while started."""

    def __init__(
        self,
        engine: TagEngine,
        historian: Historian,
        specs: Sequence[RecordSpec],
        *,
        batch_interval: float = BATCH_INTERVAL_S,
        batch_rows: int = BATCH_ROWS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` stamps the samples stored for the maximum interval (tests may shift it)."""
        self.engine = engine
        self.historian = historian
        self.specs = list(specs)
        self.batch_interval = batch_interval
        self.batch_rows = batch_rows
        self.rows_stored = 0
        self._clock = clock
        self._tracks = {spec.tag: _Track(spec) for spec in self.specs}
        self._rows: list[Row] = []
        self._listeners: list[_Subscription] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()

    def start(self) -> None:
        """Subscribe to every tag (each stores its current value now) and start batching."""
        if self._task is not None:
            return
        self._stopping = False
        self.historian.add_flush_hook(self.flush)
        for tag in self._tracks:
            self._listeners.append(self.engine.subscribe(tag, self._listener(tag)))
        self._task = asyncio.get_running_loop().create_task(self._run(), name="history-recorder")
        log.info("recording history of %d tags into %s", len(self._tracks), self.historian.path)

    async def stop(self) -> None:
        """Unsubscribe, stop batching and store what is waiting (the last values included)."""
        task, self._task = self._task, None
        if task is not None:
            # not cancelled: a batch being handed over must not be dropped halfway
            self._stopping = True
            self._wake.set()
            await task
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.cancel()
        self.historian.remove_flush_hook(self.flush)
        await self.flush()

    async def flush(self) -> None:
        """Hand every waiting sample to the writer and return once it is committed."""
        async with self._write_lock:
            rows, self._rows = self._rows, []
            if not rows:
                return
            try:
                # shielded: a caller cancelled meanwhile does not cancel the write it queued
                self.rows_stored += await asyncio.shield(self.historian.submit(rows))
            except Exception as exc:
                keep = rows + self._rows
                dropped = max(0, len(keep) - MAX_BACKLOG_ROWS)
                self._rows = keep[dropped:]
                log.error(
                    "history samples not stored in %s (%s); %d waiting, %d dropped",
                    self.historian.path,
                    exc,
                    len(self._rows),
                    dropped,
                )

    def pending(self) -> int:
        """Samples waiting for the next batch."""
        return len(self._rows)

    # ---- deciding what to store ------------------------------------------------------
    def _listener(self, tag: str) -> Callable[[TagValue], None]:
        track = self._tracks[tag]

        def on_value(value: TagValue) -> None:
            number = as_number(value.value)
            quality = int(value.quality)
            track.latest_v, track.latest_q = number, quality
            last = track.last_v
            if quality == track.last_q and _within(number, last, track.deadband):
                return
            ts = value.source_ts if value.quality is Quality.GOOD else value.recv_ts
            if not math.isfinite(ts):  # a device time that is no time: the one it arrived
                ts = self._clock()
            self._store(tag, track, ts, number, quality)

        return on_value

    def _store(
        self, tag: str, track: _Track, ts: float, number: float | None, quality: int
    ) -> None:
        if ts <= track.last_ts:  # a device clock behind, or two samples in the same tick
            ts = track.last_ts + TIME_STEP
        track.last_ts, track.last_v, track.last_q = ts, number, quality
        self._rows.append((tag, ts, number, quality))
        if len(self._rows) >= self.batch_rows:
            self._wake.set()

    def _max_interval_due(self) -> None:
        """Store the latest value of every tag not stored for its maximum interval."""
        now = self._clock()
        for tag, track in self._tracks.items():
            if track.last_q >= 0 and now - track.last_ts >= track.max_interval:
                self._store(tag, track, now, track.latest_v, track.latest_q)

    async def _run(self) -> None:
        while not self._stopping:
            await wait_set(self._wake, self.batch_interval)
            self._wake.clear()
            if self._stopping:
                return  # stop() stores what is left, after unsubscribing
            try:
                self._max_interval_due()
                await self.flush()
            except Exception:
                log.exception("history recorder of %s failed; it goes on", self.historian.path)
