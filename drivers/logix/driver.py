"""Allen-Bradley Logix driver: pycomm3 on one worker thread per controller.

How it works:

* **One thread per controller.** pycomm3 blocks, so every call to the controller (open, read,
  write, tag list upload, close) runs on this driver's own single-worker executor
  (``logix-<name>``): calls never overlap and never block the event loop, which awaits each with
  a timeout. ``plc.py`` is the only module that imports pycomm3.
* **Link.** One supervisor task (``logix:<name>:link``) opens a *new* pycomm3 driver object for
  every connection (re-opening a closed one is known not to recover from every failure), reports
  ``on_link``, waits until a call fails with a communication error or times out, publishes every
  subscribed point BAD (``comm failure: ...``) at once and reconnects with exponential backoff and
  jitter (0.5 s doubling to 30 s, ±20 %).
* **Tag definitions.** With ``init_tags`` (the default) the controller's tag list (controller and
  program scope, with UDT templates) is uploaded on connect and every point is checked against it:
  an unknown tag, member or a type that differs from the project's is BAD ``config error: ...``.
  When the upload is off or the controller cannot do it (simulators), definitions are made from
  the project's points (the leaf of each address gets the point's type).
* **Scan classes.** One task per scan period (``logix:<name>:scan<ms>ms``) reads all its points
  with one executor call per pass; pycomm3 packs the tags into multi-service packets by size
  (``max_tags_per_read`` splits a pass into several reads for controllers that need smaller
  packets). Good values are published as one ``GoodBlock``; a tag the controller refuses is BAD
  ``device exception: <CIP status>``. ``source_ts`` is the time of the reply.
* **Program download.** A tag that read fine and now gets "destination unknown" (CIP 0x05) or
  "IOI syntax error" (0x04) means the program changed: the tag list is uploaded again (once, then
  at most every ``REUPLOAD_MIN_S``) and the points re-checked.
* **Writes** are coerced to the point's type (and range) here; a refusal by the controller
  raises ``DriverWriteError`` with the CIP status text.

Modules: ``link.py`` (``LogixLink``: the worker thread, supervision, generations),
``scanner.py`` (``Scanner``: points, tag list checks, scan groups, publishing, re-upload),
``writes.py`` and ``values.py`` (conversion to and from pycomm3's values); ``LogixDriver`` here
ties them together behind the ``drivers.base.Driver`` protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drivers.backoff import Backoff
from drivers.base import BrowseNode, LinkState, LinkStateFn, PointSpec, PublishFn
from drivers.logix import address as addr
from drivers.logix import writes
from drivers.logix.browse import browse as browse_table
from drivers.logix.link import LogixLink
from drivers.logix.plc import Controller
from drivers.logix.scanner import REUPLOAD_MIN_S, Scanner
from drivers.logix.tags import TagTable
from drivers.tasks import cancel_and_wait

__all__ = ["REUPLOAD_MIN_S", "Backoff", "LogixDriver"]


class LogixDriver:
    """A ``drivers.base.Driver`` for one ControlLogix/CompactLogix controller."""

    class Settings(BaseModel):
        """Connection settings of a ``logix`` connection in ``project.yaml``."""

        model_config = ConfigDict(extra="forbid", frozen=True)

        host: str
        port: int = Field(default=44818, ge=1, le=65535)
        slot: int = Field(default=0, ge=0, le=31, description="backplane slot of the CPU")
        route: str | None = Field(
            default=None,
            description="CIP route after the host instead of the slot: bp/2/enet/10.0.0.9/bp/0",
        )
        timeout_ms: int = Field(default=2000, ge=50, le=60000)
        init_tags: bool = Field(
            default=True, description="upload the tag list; false: types come from the project"
        )
        max_tags_per_read: int = Field(
            default=0, ge=0, le=10000, description="0: as many as pycomm3 packs"
        )

        @property
        def path(self) -> str:
            """pycomm3's CIP path."""
            route = self.route.strip("/") if self.route else str(self.slot)
            return f"{self.host}:{self.port}/{route}"

    def __init__(
        self,
        name: str,
        settings: LogixDriver.Settings,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        timeout_s = settings.timeout_ms / 1000
        self._controller = Controller(
            settings.path, timeout_s=timeout_s, init_tags=settings.init_tags
        )
        self._link = LogixLink(
            name,
            self._controller,
            path=settings.path,
            timeout_s=timeout_s,
            init_tags=settings.init_tags,
            backoff=backoff or Backoff(),
        )
        self._scanner = Scanner(
            name,
            self._link,
            timeout_ms=settings.timeout_ms,
            init_tags=settings.init_tags,
            max_tags_per_read=settings.max_tags_per_read,
        )
        self._supervisor: asyncio.Task[None] | None = None
        self._running = False

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> LogixDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, cls.Settings.model_validate(dict(settings)))

    @property
    def link_state(self) -> LinkState:
        return self._link.report.state

    @property
    def controller(self) -> Controller:
        """The blocking controller connection (diagnostics: packets sent, connections opened)."""
        return self._controller

    @property
    def reuploads(self) -> int:
        """Tag list uploads after the first (program downloads seen)."""
        return self._scanner.reuploads

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (syntax and type, no connection)."""
        addr.validate(point)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and scanning in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._link.report.listener = on_link
        self._running = True
        self._link.open()
        self._supervisor = asyncio.create_task(
            self._link.run(self._scanner), name=f"logix:{self.name}:link"
        )
        self._scanner.start(publish)

    async def stop(self) -> None:
        """Cancel every task, close the connection, end the worker thread, report STOPPED."""
        if not self._running:
            return
        self._running = False
        self._link.running = False
        tasks = [self._supervisor, *self._scanner.take_tasks()]
        self._supervisor = None
        await cancel_and_wait(tasks, grace_s=2.0)
        await self._link.shut()
        self._link.report.set(LinkState.STOPPED, "stopped")

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points to the scan (idempotent per key; a changed spec replaces the old one).

        A point that cannot be read is published BAD ``config error: ...`` instead of raising.
        """
        self._scanner.subscribe(points)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points; a scan group left empty stops its task."""
        self._scanner.unsubscribe(keys)

    # ---- writes ---------------------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write a device value; DriverWriteError says why it was not written."""
        await writes.write(self._link, self._scanner, self.settings.timeout_ms, point, value)

    # ---- browsing -------------------------------------------------------------------------
    async def browse(self, path: str = "") -> list[BrowseNode]:
        """The uploaded tag list: controller tags and programs at the root, members below.
        Empty when there is no tag list (not connected, or the upload is unavailable)."""
        table = self._controller.table
        if table is None:
            return []
        return browse_table(table, path)

    def tag_table(self) -> TagTable | None:
        """The uploaded tag list, if any."""
        return self._controller.table
