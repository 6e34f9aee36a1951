"""The Modbus driver core, shared by Modbus TCP (``tcp.py``) and Modbus RTU (``rtu.py``).

Everything but the wire lives here: link supervision, scan groups, block planning around refused
addresses, stale marking, publishing and writes. A subclass says how to make its transports (the
``ModbusTransport`` protocol below: a pipelined TCP connection, or a handle on a shared serial
bus) and how many requests each may have in flight; its ``Settings`` extend ``ModbusSettings``.

How it works:

* **Link.** One supervisor task (``modbus:<name>:link``) owns the transports: it connects
  those the subclass makes (``connections`` TCP connections, or one handle on a serial bus),
  reports ``on_link`` on every state change, waits until any of them is lost, publishes every
  subscribed point BAD (``comm failure: ...``) at once, and reconnects with exponential backoff
  and jitter (0.5 s doubling to 30 s, ±20 %). A request is never retried: a timeout is reported
  at once, and ``LINK_TIMEOUTS`` timeouts in a row (a peer that went silent without closing its
  end) count as a lost link; so do replies that fail their checks where ``GARBLED_LOSES_LINK``
  (RTU: a wrong baud rate or parity garbles every reply, and the link must not look fine).
  Each connection gets a new *generation* number; a reply or error from an older generation is
  never published.
* **Scan classes.** Points are grouped by ``scan_ms``; each group is polled by its own task
  (``modbus:<name>:scan<ms>``). A pass that overruns its period makes the next polls be skipped,
  not queued. Blocks are planned per (table, scan period) by ``planner.plan_blocks``; subscribe and
  unsubscribe mark the group for re-planning at its next pass.
* **Several requests in flight** (TCP only). ``max_in_flight`` requests are pipelined on each
  connection (Modbus TCP matches replies by transaction id; 1, the default, suits devices that
  handle one request at a time), and with ``connections > 1`` a pass spreads its blocks
  round-robin over the connections, so a group with many blocks takes about
  ``blocks / (connections * max_in_flight)`` round trips instead of ``blocks``.
* **Replies.** The transport matches the reply to its request (transaction id on TCP, one
  request at a time and a CRC on RTU) and unit; a reply must also be of the function asked and
  carry exactly the registers (bytes of bits) asked, or nothing is decoded.
  Each block read publishes one batch, with ``source_ts`` the time the reply arrived.
* **Stale values.** A pass that takes longer than ``STALE_PERIODS`` scan periods (a slow or
  overloaded device) marks the points of every block it has not yet read STALE, keeping their
  last value; the next good read makes them GOOD again.
* **First values.** A scan group reads at once when the link comes up and when new points join
  it, so a slow scan class does not leave new points waiting a whole period.
* **Exception replies** 2 and 3 (illegal address or value) split the block in halves and read
  each, down to the single point (or gap) the device refuses; that range is remembered, later
  plans read around it, and it is forgotten after ``reprobe_s`` (60 s) so a corrected PLC program
  is picked up. Other exceptions (busy, device failure...) mark the block's points for this pass.
* **Unchanged blocks.** A block whose raw data equal those of its last GOOD publication on the same
  connection is not published again: the engine already holds those values with GOOD quality, and
  change detection would drop them anyway. Any BAD publication or a reconnect clears this memory.

Modules: ``link.py`` (``ModbusLink``: transports, generations, backoff, outages),
``scanner.py`` (``Scanner``: points, scan groups, passes, block reads, stale marking, refused
addresses), ``writes.py`` (encoding, bit read-modify-write, error mapping) and ``settings.py``;
``ModbusDriver`` here ties them together behind the ``drivers.base.Driver`` protocol.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, TypeVar

from drivers.backoff import Backoff
from drivers.base import BrowseNode, LinkState, LinkStateFn, PointSpec, PublishFn
from drivers.modbus import address as addr
from drivers.modbus import writes
from drivers.modbus.link import LINK_TIMEOUTS, ModbusLink, ModbusTransport
from drivers.modbus.scanner import STALE_PERIODS, Scanner
from drivers.modbus.settings import ModbusSettings
from drivers.tasks import cancel_and_wait
from hmi_app.core.datatypes import DataType

__all__ = [
    "LINK_TIMEOUTS",
    "STALE_PERIODS",
    "Backoff",
    "ModbusDriver",
    "ModbusSettings",
    "ModbusTransport",
    "SettingsT",
]

SettingsT = TypeVar("SettingsT", bound=ModbusSettings)


class ModbusDriver(abc.ABC, Generic[SettingsT]):
    """A ``drivers.base.Driver`` for one Modbus device (one unit id), whatever the transport.

    Subclasses define ``target`` (where the device is, for messages), ``_new_transports`` and,
    if they pipeline, ``max_in_flight``.
    """

    TABLE_NODES: ClassVar[tuple[addr.Table, ...]] = tuple(addr.Table)
    GARBLED_LOSES_LINK: ClassVar[bool] = False  # replies failing their checks count as timeouts

    def __init__(
        self,
        name: str,
        settings: SettingsT,
        *,
        backoff: Backoff | None = None,
        reprobe_s: float = 60.0,
    ) -> None:
        self.name = name
        self.settings = settings
        self._link = ModbusLink(
            name,
            backoff or Backoff(),
            self._new_transports,
            target=lambda: self.target,
            no_reply_text=lambda: self.no_reply_text,
            on_up=self._link_up,
            on_down=self._link_down,
        )
        self._scanner = Scanner(
            name,
            settings,
            self._link,
            reprobe_s=reprobe_s,
            max_in_flight=self.max_in_flight,
            garbled_loses_link=self.GARBLED_LOSES_LINK,
        )
        self._supervisor: asyncio.Task[None] | None = None
        self._running = False

    @property
    def link_state(self) -> LinkState:
        return self._link.report.state

    @property
    def requests(self) -> int:
        """Read requests sent, for tests and benchmarks."""
        return self._scanner.requests

    @property
    @abc.abstractmethod
    def target(self) -> str:
        """Where the device is, for link details and error messages."""

    @property
    def max_in_flight(self) -> int:
        """Requests a transport may have in flight at once (1: strictly one at a time)."""
        return 1

    @property
    def no_reply_text(self) -> str:
        """Why a link counts as lost after ``LINK_TIMEOUTS`` failed requests in a row."""
        return f"{LINK_TIMEOUTS} requests in a row unanswered"

    @abc.abstractmethod
    def _new_transports(self, on_lost: Callable[[str], None]) -> list[ModbusTransport]:
        """Unconnected transports for one link generation; ``on_lost`` is told of a drop."""

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (no connection needed)."""
        addr.validate(point, self.settings.max_block_registers)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and scanning in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._link.report.listener = on_link
        self._running = True
        self._link.reset()
        self._supervisor = asyncio.create_task(self._link.run(), name=f"modbus:{self.name}:link")
        self._scanner.start(publish)

    async def stop(self) -> None:
        """Cancel every task, close the transports and report STOPPED."""
        if not self._running:
            return
        self._running = False
        tasks = [self._supervisor, *self._scanner.take_tasks()]
        self._supervisor = None
        await cancel_and_wait(tasks, grace_s=2.0)
        await self._link.shut()
        self._link.report.set(LinkState.STOPPED, "stopped")

    def _link_up(self) -> None:
        self._scanner.link_up()

    def _link_down(self, reason: str) -> None:
        self._scanner.link_down(reason)

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points to the scan (idempotent per key; a changed spec replaces the old one).

        A point this driver cannot read is published BAD with ``config error: ...`` instead of
        raising, so one bad address does not stop the others.
        """
        self._scanner.subscribe(points)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points; a scan group left empty stops its task."""
        self._scanner.unsubscribe(keys)

    # ---- writes ---------------------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write a device value; DriverWriteError says why it was not written."""
        await writes.write(self._link, self.settings, self.target, point, value)

    # ---- browsing -------------------------------------------------------------------------
    async def browse(self, path: str = "") -> list[BrowseNode]:
        """The four Modbus tables (Modbus has no address space to discover)."""
        if path:
            return []
        return [
            BrowseNode(
                table.label.capitalize(),
                table.value,
                DataType.BOOL if table.is_bits else DataType.UINT16,
            )
            for table in self.TABLE_NODES
        ]

    # ---- diagnostics ----------------------------------------------------------------------
    def scan_stats(self) -> dict[int, tuple[int, int, int]]:
        """Per scan period: (passes, skipped polls, blocks in the plan)."""
        return self._scanner.stats()
