"""Senders that drain the outbox to the sync targets, one asyncio task per target.

A sender takes the oldest waiting records of its target in batches and hands them to the sink.
Confirmed records leave the outbox, records the receiver refused for good count a try (and go to
quarantine after ``max_tries``, so later records keep flowing), and when the receiver is down or
slow (``TransientSinkError``, timeout) the batch is sent again after a backoff with jitter. The
sender sleeps while the outbox is empty and wakes as soon as a record is committed, so online
records reach the receiver within milliseconds.

Delivery is at least once: a sender killed between the receiver's accept and the local confirm
sends that batch again after the restart, so receivers dedupe on the record key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from drivers.backoff import Backoff
from hmi_app.core.deadlines import cancel_and_wait, wait_set, within
from hmi_app.runtime.outbox import Outbox, OutboxRecord, OutboxStatus
from hmi_app.runtime.sinks.base import Sink, TransientSinkError

__all__ = [
    "DEFAULT_BACKOFF",
    "RetryDelays",
    "Sender",
    "SenderOptions",
    "SenderStats",
    "SyncBackoff",
    "SyncService",
]

log = logging.getLogger(__name__)


class RetryDelays(Protocol):
    """How long to wait before try ``attempt`` (0 after the first failure) of a batch."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait."""
        ...


@dataclass(frozen=True, slots=True)
class SyncBackoff:
    """``first_s``, times ``factor`` each try, up to ``max_s``, each randomised by ±``jitter``.

    The drivers' ``Backoff`` always doubles; a project's sync target may name its own factor.
    """

    first_s: float = 1.0
    max_s: float = 60.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """The wait before try ``attempt``; jitter keeps many HMIs from retrying in lockstep."""
        base: float = min(self.max_s, self.first_s * self.factor ** min(attempt, 64))
        return base * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)


DEFAULT_BACKOFF: RetryDelays = Backoff(first_s=0.5, max_s=30.0, jitter=0.2)


@dataclass(frozen=True)
class SenderOptions:
    """How one target's sender works: batch size, tries before quarantine, waits, time limit."""

    batch_size: int = 100
    max_tries: int = 3
    backoff: RetryDelays = field(default=DEFAULT_BACKOFF)
    send_timeout_s: float = 120.0  # a whole send (a sink may split a batch into many requests)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SenderOptions:
        """From a sync target's project settings (``batch_size``, ``max_tries``, ``backoff``
        with ``initial_s``/``max_s``/``factor``); the sink's own keys are ignored."""
        backoff: RetryDelays = DEFAULT_BACKOFF
        raw = settings.get("backoff")
        if isinstance(raw, Mapping):
            backoff = SyncBackoff(
                first_s=float(raw.get("initial_s", 1.0)),
                max_s=float(raw.get("max_s", 60.0)),
                factor=float(raw.get("factor", 2.0)),
            )
        return cls(
            batch_size=int(settings.get("batch_size", 100)),
            max_tries=int(settings.get("max_tries", 3)),
            backoff=backoff,
        )


@dataclass
class SenderStats:
    """What one sender did since it started (for tests, benchmarks and the log)."""

    batches: int = 0
    confirmed: int = 0
    rejected: int = 0
    quarantined: int = 0
    failures: int = 0  # transient failures (each followed by a backoff)


class Sender:
    """Drains the outbox for one target through its sink, in order and in batches."""

    def __init__(
        self,
        outbox: Outbox,
        target: str,
        sink: Sink,
        batch_size: int = 100,
        *,
        backoff: RetryDelays = DEFAULT_BACKOFF,
        send_timeout_s: float = 120.0,
        max_tries: int = 3,
        idle_poll_s: float = 5.0,
    ) -> None:
        """A sender for ``target`` (not running until ``start``)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.outbox = outbox
        self.target = target
        self.sink = sink
        self.batch_size = batch_size
        self.backoff = backoff
        self.send_timeout_s = send_timeout_s
        self.max_tries = max_tries
        self.idle_poll_s = idle_poll_s  # also catches records written by another process
        self.stats = SenderStats()
        self._wake = outbox.wakeup(target)
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()

    @property
    def running(self) -> bool:
        """True while the sender's task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start draining (a task named ``sync-<target>``)."""
        if self.running:
            return
        self._idle.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sync-{self.target}")

    def wake(self) -> None:
        """Look for new records now instead of at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop draining; a batch in flight is abandoned and sent again after the next start."""
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait(task)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until the sender found nothing left to send; False on timeout."""
        return await wait_set(self._idle, timeout_s)

    async def _run(self) -> None:
        attempt = 0
        while True:
            self._wake.clear()  # before reading: a record committed after this wakes us again
            try:
                batch = await self.outbox.next_batch(self.target, self.batch_size)
            except Exception as exc:  # the database is unusable: keep trying, loudly
                attempt = await self._failed(attempt, f"outbox: {exc}", 0, exc)
                continue
            if not batch:
                self._idle.set()
                await wait_set(self._wake, self.idle_poll_s)
                continue
            self._idle.clear()
            try:
                refused = await within(self.sink.send(batch), self.send_timeout_s)
            except (TransientSinkError, TimeoutError) as exc:
                reason = str(exc) or f"no answer within {self.send_timeout_s:g} s"
                attempt = await self._failed(attempt, reason, len(batch), exc)
                continue
            except Exception as exc:  # a sink bug: never lose the batch, never stop the sender
                reason = f"{type(exc).__name__}: {exc}"
                attempt = await self._failed(attempt, reason, len(batch), exc)
                continue
            try:
                await self._settle(batch, refused)
            except Exception as exc:  # the batch stays queued and is sent again (deduped)
                attempt = await self._failed(attempt, f"outbox: {exc}", len(batch), exc)
                continue
            if attempt:
                log.info("sync %s: delivering again after %d failed tries", self.target, attempt)
            attempt = 0

    async def _settle(self, batch: Sequence[OutboxRecord], refused: Mapping[str, str]) -> None:
        keys = {record.key for record in batch}
        unknown = set(refused) - keys
        if unknown:
            log.warning("sync %s: sink refused keys it was not sent: %s", self.target, unknown)
        confirmed = [record.key for record in batch if record.key not in refused]
        await self.outbox.delivered(self.target, confirmed)
        for record in batch:
            reason = refused.get(record.key)
            if reason is None:
                continue
            self.stats.rejected += 1
            if await self.outbox.rejected(self.target, record.key, reason, self.max_tries):
                self.stats.quarantined += 1
        self.stats.batches += 1
        self.stats.confirmed += len(confirmed)
        if confirmed:
            self.outbox.report_success(self.target, time.time())
        refused_here = [(k, v) for k, v in refused.items() if k in keys]
        if refused_here:
            key, reason = refused_here[0]
            self.outbox.report_error(self.target, f"{key} refused: {reason}")

    async def _failed(self, attempt: int, reason: str, size: int, exc: BaseException) -> int:
        self.stats.failures += 1
        self.outbox.report_error(self.target, reason)
        delay = self.backoff.delay(attempt)
        # the first failure of an outage at warning level, the repeats at debug: no log flood
        level = logging.WARNING if attempt == 0 else logging.DEBUG
        log.log(
            level,
            "sync %s: batch of %d not delivered (%s); retrying in %.1f s",
            self.target,
            size,
            reason,
            delay,
            exc_info=not isinstance(exc, TransientSinkError | TimeoutError),
        )
        await asyncio.sleep(delay)
        return attempt + 1


class SyncService:
    """All senders of one outbox: started and stopped together, status per target for the UI."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Mapping[str, Sink] | Sequence[Sink],
        batch_size: int = 100,
        *,
        backoff: RetryDelays = DEFAULT_BACKOFF,
        send_timeout_s: float = 120.0,
        max_tries: int = 3,
        options: Mapping[str, SenderOptions] | None = None,
    ) -> None:
        """One sender per sink; a sink's target is its key in ``sinks`` (or its ``name``).

        ``options`` per target replace the shared ``batch_size``, ``backoff``,
        ``send_timeout_s`` and ``max_tries`` for that target.
        """
        by_target = dict(sinks) if isinstance(sinks, Mapping) else {s.name: s for s in sinks}
        missing = set(by_target) - set(outbox.targets)
        if missing:
            raise ValueError(f"sinks for targets the outbox does not know: {sorted(missing)}")
        shared = SenderOptions(batch_size, max_tries, backoff, send_timeout_s)
        self.outbox = outbox
        self.senders: dict[str, Sender] = {}
        for target, sink in by_target.items():
            opts = (options or {}).get(target, shared)
            self.senders[target] = Sender(
                outbox,
                target,
                sink,
                opts.batch_size,
                backoff=opts.backoff,
                send_timeout_s=opts.send_timeout_s,
                max_tries=opts.max_tries,
            )

    async def start(self) -> None:
        """Prepare the outbox and start every sender."""
        await self.outbox.setup()
        for sender in self.senders.values():
            sender.start()
        log.info("sync started for %s", ", ".join(self.senders) or "no targets")

    async def stop(self, close_sinks: bool = True) -> None:
        """Stop every sender, then close their sinks (unless ``close_sinks`` is False)."""
        await asyncio.gather(*(sender.stop() for sender in self.senders.values()))
        if close_sinks:
            for sender in self.senders.values():
                try:
                    await sender.sink.close()
                except Exception:
                    log.exception("sync %s: closing the sink failed", sender.target)

    async def status(self) -> dict[str, OutboxStatus]:
        """Per target: queue depth, oldest waiting record, quarantine, last success and error."""
        return {target: await self.outbox.status(target) for target in self.senders}

    async def retry_quarantined(self, target: str, keys: Sequence[str] | None = None) -> int:
        """Put quarantined records of ``target`` back in line (logged by the outbox)."""
        return await self.outbox.retry_quarantined(target, keys)
