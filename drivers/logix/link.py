"""Link of the Logix driver: the controller's worker thread and the supervisor of its connection.

``LogixLink`` owns the single-worker executor every pycomm3 call runs on (``call``), opens the
controller (a new pycomm3 driver object per connection), reports every state change, waits until
a call fails or times out (``lose``), has the scanner publish the outage, and reconnects with
``drivers.backoff.Backoff``. Each connection is a new *generation*; results of an older one are
not published.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from drivers.backoff import Backoff
from drivers.base import LinkState
from drivers.linkstate import LinkReporter
from drivers.logix.plc import CommFailure, Controller
from hmi_app.core.quality import Reason

T = TypeVar("T")


class LinkUser(Protocol):
    """What the link tells the points' owner (the scanner) about the connection."""

    async def declare(self) -> None:
        """Give the controller the project's declarations (before it is opened)."""
        ...

    def connected(self) -> None:
        """A new connection, before CONNECTED is reported: check the points again."""
        ...

    def wake(self) -> None:
        """Read every scan group now (after CONNECTED is reported)."""
        ...

    def link_down(self, reason: str) -> None:
        """The link is down: publish the subscribed points BAD."""
        ...


class LogixLink:
    """The connection to one controller: worker thread, supervision, generations."""

    def __init__(
        self,
        name: str,
        controller: Controller,
        *,
        path: str,
        timeout_s: float,
        init_tags: bool,
        backoff: Backoff,
    ) -> None:
        self.name = name
        self.controller = controller
        self.path = path
        self.timeout_s = timeout_s
        self._init_tags = init_tags
        self._backoff = backoff
        self.report = LinkReporter(name)
        self.running = False
        self.connected = False
        self.generation = 0
        self.down_reason = ""
        self._executor: ThreadPoolExecutor | None = None
        self._lost = asyncio.Event()
        self._lost_reason = ""

    # ---- the worker thread ----------------------------------------------------------------
    def open(self) -> None:
        """Make the worker thread's executor (at driver start, on the running loop)."""
        self.running = True
        self._lost = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"logix-{self.name}")

    async def shut(self) -> None:
        """Close the controller on its thread and end the thread (the driver is stopping)."""
        self.connected = False
        executor, self._executor = self._executor, None
        if executor is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout_s + 1):
                    await loop.run_in_executor(executor, self.controller.close)
            executor.shutdown(wait=False, cancel_futures=True)

    async def call(self, fn: Callable[..., T], *args: Any, limit_s: float | None = None) -> T:
        """Run ``fn(*args)`` on the controller's thread; TimeoutError after ``limit_s``."""
        executor = self._executor
        if executor is None:
            raise CommFailure("driver stopped")
        loop = asyncio.get_running_loop()
        limit = limit_s if limit_s is not None else 4 * self.timeout_s + 1.0
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives
        # as the call completes, and stop() would wait for a task that goes on scanning.
        async with asyncio.timeout(limit):
            return await loop.run_in_executor(executor, fn, *args)

    def open_timeout(self) -> float:
        """Time allowed to open the connection or upload the tag list."""
        # a tag list upload of a big program takes many requests
        return (60.0 if self._init_tags else 0.0) + 4 * self.timeout_s + 1.0

    # ---- supervision ----------------------------------------------------------------------
    async def run(self, user: LinkUser) -> None:
        """The supervisor task: open, wait for a loss, back off, until the driver stops."""
        loop = asyncio.get_running_loop()
        attempt = 0
        target = self.path
        while self.running:
            self.report.set(LinkState.CONNECTING, f"connecting to {target}")
            try:
                await user.declare()
                await self.call(self.controller.open, limit_s=self.open_timeout())
            except CommFailure as exc:
                reason = f"{Reason.COMM_FAILURE}: {exc}"
            except TimeoutError:
                reason = f"{Reason.COMM_FAILURE}: no answer from {target} while connecting"
            else:
                self.generation += 1
                self.connected = True
                self.down_reason = ""
                self._lost.clear()
                user.connected()
                up_since = loop.time()
                self.report.set(LinkState.CONNECTED, self.detail())
                user.wake()
                await self._lost.wait()
                reason = self._lost_reason
                self.connected = False
                with contextlib.suppress(Exception):
                    await self.call(self.controller.close, limit_s=self.timeout_s + 1)
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            self.down_reason = reason
            user.link_down(reason)
            self.report.set(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    def detail(self) -> str:
        """The CONNECTED detail: the product and where the tag types come from."""
        info = self.controller.info
        product = info.get("product_name") or "controller"
        table = self.controller.table
        if table is not None:
            tags = f"tag list: {len(table)} tags"
        elif self.controller.upload_error:
            tags = f"tag list upload unavailable ({self.controller.upload_error}); project types"
        else:
            tags = "tag types from the project"
        return f"{self.path}: {product}; {tags}"

    def lose(self, generation: int, reason: str) -> None:
        """Generation ``generation`` is lost (ignored if it is not the current one)."""
        if generation == self.generation and self.connected:
            self.connected = False
            self._lost_reason = reason
            self._lost.set()
