"""The production service's writes, one after the other, each in its own database transaction.

Counts are booked from the engine's listeners, which cannot wait; they queue a job here and go
on. One task takes the jobs in order and runs each in ``Database.write``. A job that fails calls
its ``on_failed`` (the counter goes back to its last saved state, so the next value books the
lost delta again); a job that became ``stale`` (an earlier write it built on failed) is skipped
and also told through ``on_failed``. ``join`` waits until everything queued so far is committed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from hmi_app.core.deadlines import cancel_and_wait, within
from hmi_app.runtime.store import Database

log = logging.getLogger(__name__)


@dataclass
class WriteJob:
    """One transaction: ``fn`` runs on the database's writer thread."""

    fn: Callable[[sqlite3.Connection], object]
    what: str  # for the log: "count demo/line1/good/.../12"
    stale: Callable[[], bool] | None = None
    on_done: Callable[[], None] | None = None
    on_failed: Callable[[], None] | None = None
    future: asyncio.Future[None] | None = None  # set when committed (or with the error)


class WriteQueue:
    """Runs queued :class:`WriteJob` s in order on one task."""

    def __init__(self, db: Database, name: str = "production-writer") -> None:
        self.db = db
        self.name = name
        self._jobs: asyncio.Queue[WriteJob] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def put(self, job: WriteJob) -> None:
        self._jobs.put_nowait(job)

    async def join(self) -> None:
        """Wait until every job queued so far has run."""
        if self._task is not None:
            await self._jobs.join()

    async def stop(self, drain_s: float) -> None:
        """Run what is queued (at most ``drain_s`` seconds), then end the task."""
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await within(self._jobs.join(), drain_s)
        except TimeoutError:
            log.error("%s: %d writes not finished at stop", self.name, self._jobs.qsize())
        await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await self._one(job)
            except Exception:
                log.exception("%s: %s failed", self.name, job.what)
            finally:
                self._jobs.task_done()

    async def _one(self, job: WriteJob) -> None:
        if job.stale is not None and job.stale():
            if job.on_failed is not None:
                job.on_failed()
            _settle(job.future, RuntimeError(f"{job.what} dropped: an earlier write failed"))
            return
        try:
            await self.db.write(job.fn)
        except Exception as exc:
            log.error("%s: %s not saved: %s", self.name, job.what, exc)
            if job.on_failed is not None:
                job.on_failed()
            _settle(job.future, exc)
            return
        if job.on_done is not None:
            job.on_done()
        _settle(job.future, None)


def _settle(future: asyncio.Future[None] | None, error: BaseException | None) -> None:
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
