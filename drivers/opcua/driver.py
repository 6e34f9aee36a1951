"""OPC UA client driver on asyncua.

How it works:

* **Link.** One supervisor task (``opcua:<name>:link``) connects a fresh ``asyncua.Client`` per
  connection attempt, reports ``on_link`` on every change, and on loss publishes every point BAD
  (``comm failure: ...``) at once, disposes the client (its tasks included) and reconnects with
  exponential backoff and jitter (0.5 s doubling to 30 s, ±20 %). asyncua's own watchdog probes
  the server every ``watchdog_ms``; a closed socket is noticed at once. asyncua's auto-reconnect
  is off: recovery is ours, so its behaviour is the same for every server.
* **Resolution.** On each connection, browse paths are translated to node ids, ``nsu=`` URIs to
  namespace indexes, and each node's DataType and ValueRank are read once (in batches of
  ``max_nodes_per_request``): the tag's type is checked against the node's and writes use the
  node's own built-in type. ``ns=2;s=Arr[3]`` reads element 3 of ``Arr`` (IndexRange); should
  ``Arr`` not exist but ``Arr[3]`` does, the whole text is taken as the node id.
* **Scan classes.** One subscription per scan period, publishing interval = sampling interval =
  the period, one monitored item per point (optional absolute/percent deadband). A server that
  refuses subscriptions, or ``mode: poll``, makes that scan class read its nodes every period
  instead (overruns skip polls). Each publish response is handled in the next loop turn (so
  asyncua asks for the next one at once) and delivered as one ``GoodBlock`` per distinct source
  timestamp (a ``Sample`` list for small groups and non-good values). A subscription silent for
  longer than its keep-alive promise (deleted or expired on the server) is made again.
* **Limits.** ``max_message_size`` and ``max_chunk_count`` are sent in Hello and enforced on
  replies: a larger reply drops the link with ``BadRequestTooLarge`` named in the reason.
* **Timestamps and duplicates.** ``source_ts`` is the SourceTimestamp, else the ServerTimestamp,
  else the receive time. A value whose quality, value and source timestamp equal those last
  published for the point is not published again (a re-created subscription's initial values,
  unchanged polls); after an outage the first value is published once, restoring GOOD quality
  with the server's original timestamp.
* **Security.** See ``security.py`` for the PKI folder; the server certificate offered by the
  chosen endpoint must be in ``pki_dir/trusted``, otherwise it is saved to ``rejected/`` and the
  link reports why (``config error: server certificate of ... is not trusted ...``).

Where it lives: this module holds ``OpcUaDriver`` (points, link supervision, keeping the server
in step); ``session.py`` connects (endpoint, security, login, limits), ``disposal.py`` disposes
of a client, ``resolver.py`` resolves addresses to nodes, ``subscriptions.py`` and
``polling.py`` read, ``publisher.py`` decodes and publishes, ``writer.py`` writes,
``browser.py`` browses; ``model.py`` holds the state they share and ``drivers/backoff.py`` the
reconnect delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.backoff import Backoff
from drivers.base import (
    AddressError,
    BrowseNode,
    LinkState,
    LinkStateFn,
    PointSpec,
    PublishFn,
)
from drivers.linkstate import LinkReporter
from drivers.opcua import address as addr
from drivers.opcua import codec
from drivers.opcua.browser import Browser
from drivers.opcua.disposal import dispose
from drivers.opcua.model import Connection, DriverContext, Group, LinkDown, Point, describe
from drivers.opcua.polling import Poller
from drivers.opcua.publisher import Publisher
from drivers.opcua.resolver import Resolver
from drivers.opcua.session import Connector, application_uri
from drivers.opcua.settings import OpcUaSettings
from drivers.opcua.subscriptions import Subscriptions
from drivers.opcua.writer import Writer
from drivers.tasks import cancel_and_wait
from hmi_app.core.deadlines import wait_set
from hmi_app.core.quality import Reason

__all__ = ["Backoff", "LinkDown", "OpcUaDriver", "application_uri"]

log = logging.getLogger(__name__)


class OpcUaDriver:
    """A ``drivers.base.Driver`` for one OPC UA server endpoint.

    It supervises the link and keeps the points in step with the server; the work is done by
    the helpers it owns, which share one ``DriverContext``: ``Connector`` (sessions),
    ``Resolver`` (nodes), ``Subscriptions``, ``Poller``, ``Publisher``, ``Writer``, ``Browser``.
    """

    Settings = OpcUaSettings

    def __init__(
        self, name: str, settings: OpcUaSettings, *, backoff: Backoff | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self._backoff = backoff or Backoff()
        self._ctx = ctx = DriverContext(name, settings)
        self._publisher = Publisher(ctx)
        self._resolver = Resolver(ctx)
        self._connector = Connector(ctx)
        self._poller = Poller(ctx, self._publisher)
        self._subscriptions = Subscriptions(ctx, self._publisher, self._poller)
        self._writer = Writer(ctx, self._resolver)
        self._browser = Browser(ctx, self._resolver)
        self._report = LinkReporter(name)
        self._supervisor: asyncio.Task[None] | None = None
        self._running = False

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> OpcUaDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, OpcUaSettings.model_validate(dict(settings)))

    @property
    def link_state(self) -> LinkState:
        return self._report.state

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def notifications(self) -> int:
        """Data change notifications received (benchmarks)."""
        return self._subscriptions.notifications

    @property
    def _conn(self) -> Connection | None:
        """The live connection, if any."""
        return self._ctx.conn

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (no connection needed)."""
        addr.validate(point)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and subscribing in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._publisher.out.publish, self._report.listener = publish, on_link
        self._running = True
        self._ctx.wake = asyncio.Event()
        self._publisher.tell_invalid(list(self._ctx.points.values()))
        self._supervisor = asyncio.create_task(self._supervise(), name=f"opcua:{self.name}:link")

    async def stop(self) -> None:
        """Cancel every task, close the session and report STOPPED."""
        if not self._running:
            return
        self._running = False
        tasks = [self._supervisor, *self._poller.tasks()]
        self._supervisor = None
        await cancel_and_wait(tasks, grace_s=3.0)
        conn, self._ctx.conn = self._ctx.conn, None
        if conn is not None:
            await dispose(conn.client, graceful=False)
        for group in self._ctx.groups.values():
            group.poll_task, group.sub_id = None, None
        self._report.set(LinkState.STOPPED, "stopped")

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points (idempotent per key; a changed spec replaces the old one).

        A point with an unusable address is published BAD with ``config error: ...``.
        """
        ctx = self._ctx
        added: list[Point] = []
        for spec in points:
            old = ctx.points.get(spec.key)
            if old is not None:
                if old.spec == spec:
                    continue
                self._drop(spec.key)
            try:
                parsed: addr.OpcAddress | None = addr.validate(spec)
                error = ""
            except AddressError as exc:
                parsed, error = None, f"{Reason.CONFIG_ERROR}: {exc}"
            point = ctx.points[spec.key] = Point(spec, parsed, error)
            group = ctx.groups.get(spec.scan_ms)
            if group is None:
                group = ctx.groups[spec.scan_ms] = Group(max(1, spec.scan_ms))
            group.keys.add(spec.key)
            added.append(point)
        if not added or not self._running:
            return
        self._publisher.tell_invalid(added)
        if ctx.conn is None and ctx.down_reason:
            self._publisher.publish_down(ctx.down_reason)
        ctx.wake.set()

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points (their monitored items are deleted on the next sync)."""
        for key in keys:
            self._drop(key)
        self._ctx.wake.set()

    def _drop(self, key: str) -> None:
        ctx = self._ctx
        point = ctx.points.pop(key, None)
        self._publisher.forget(key)
        if point is None:
            return
        group = ctx.groups.get(max(1, point.spec.scan_ms))
        if group is None:
            return
        group.keys.discard(key)
        conn = ctx.conn
        if conn is not None:
            conn.handles.pop(point.handle, None)
            if point.item_id is not None and point.gen == conn.gen and group.gen == conn.gen:
                group.doomed_items.append(point.item_id)

    # ---- link supervision -----------------------------------------------------------------
    async def _supervise(self) -> None:
        ctx = self._ctx
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            self._report.set(LinkState.CONNECTING, f"connecting to {self.url}")
            gen = ctx.gen + 1
            try:
                client = await self._connector.connect(gen)
            except LinkDown as exc:
                reason = str(exc)
            else:
                conn = ctx.conn = Connection(client, gen)
                ctx.gen = gen
                ctx.down_reason = ""
                self._publisher.told_down.clear()
                up_since = loop.time()
                self._report.set(LinkState.CONNECTED, self.url)
                try:
                    reason = await self._run_connected(conn)
                finally:
                    ctx.conn = None
                    self._poller.stop_all()
                    for group in ctx.groups.values():
                        group.sub_id, group.doomed_items = None, []
                    await dispose(client, graceful=ctx.lost_gen != gen)
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            if reason != ctx.down_reason:  # tell the points the new cause, once
                self._publisher.told_down.clear()
            ctx.down_reason = reason
            self._publisher.publish_down(reason)
            self._report.set(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _run_connected(self, conn: Connection) -> str:
        """Keep subscriptions in step with the points until the link is lost; the reason."""
        ctx = self._ctx
        while True:
            ctx.wake.clear()
            try:
                await self._sync(conn)
            except LinkDown as exc:
                ctx.link_lost(conn.gen, str(exc))
            except UaStatusCodeError as exc:  # a service fault (the server forgot our session...)
                name = codec.status_name(exc.code)
                ctx.link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {name}")
            except Exception as exc:  # never let the supervisor die: reconnect and say why
                log.exception("%s: keeping the subscriptions in step failed", self.name)
                ctx.link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {describe(exc)}")
            if ctx.is_lost(conn.gen):
                return ctx.lost_reason
            await wait_set(ctx.wake, 0.5)
            self._subscriptions.check(conn)

    # ---- keeping the server in step -------------------------------------------------------
    async def _sync(self, conn: Connection) -> None:
        ctx = self._ctx
        gen = conn.gen
        stale = [p for p in ctx.points.values() if p.gen != gen and p.address is not None]
        if stale:
            await self._resolver.resolve(conn, stale)
            bad = [p for p in stale if p.error]
            if bad:
                self._publisher.tell_invalid(bad)
        for scan_ms, group in list(ctx.groups.items()):
            if ctx.is_lost(gen):
                return
            if not group.keys:
                await self._retire(conn, group)
                if not group.keys:  # no point joined while the server answered
                    ctx.groups.pop(scan_ms, None)
                continue
            if self.settings.mode == "poll" or group.polling:
                self._poller.ensure(conn, group)
                continue
            await self._subscriptions.sync(conn, group)

    async def _retire(self, conn: Connection, group: Group) -> None:
        if group.poll_task is not None:
            group.poll_task.cancel()
            group.poll_task = None
        if group.sub_id is not None and group.gen == conn.gen:
            sub_id, group.sub_id = group.sub_id, None
            with contextlib.suppress(UaStatusCodeError):
                await self._ctx.timed(
                    conn.session.delete_subscriptions([sub_id]), "DeleteSubscriptions"
                )

    # ---- writes and browsing --------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write ``value`` converted to the node's own data type; DriverWriteError says why not."""
        await self._writer.write(point, value)

    async def browse(self, path: str = "") -> list[BrowseNode]:
        """Objects and variables under ``path`` (a node id; "" is the Objects folder).

        Raises ConnectionError while the server is not connected or when it stops answering,
        AddressError for a path the server does not know.
        """
        return await self._browser.browse(path)
