"""Subscriptions of the OPC UA driver: one per scan period, one monitored item per point.

Publishing interval = sampling interval = the scan period (optional absolute/percent deadband,
dropped per item when the server refuses the filter). Each publish response is handled in the
next loop turn, so asyncua asks for the next one at once. A subscription silent for longer than
its keep-alive promise (deleted or expired on the server), or reported lost in a status change,
is made again. A server that refuses subscriptions makes that scan class poll instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from asyncua import ua
from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.opcua import codec
from drivers.opcua.model import Connection, DriverContext, Group, Point, chunks, read_value_id
from drivers.opcua.polling import Poller
from drivers.opcua.publisher import Publisher, value_of
from hmi_app.core.quality import Quality, Reason

log = logging.getLogger(__name__)

_FILTER_ERRORS = frozenset(
    {
        "BadFilterNotAllowed",
        "BadMonitoredItemFilterInvalid",
        "BadMonitoredItemFilterUnsupported",
        "BadDeadbandFilterInvalid",
    }
)
_SESSION_GONE = ("BadShutdown", "BadServerHalted", "BadSessionClosed", "BadConnectionClosed")


class Subscriptions:
    """Keeps each scan group's subscription and monitored items in step with its points."""

    def __init__(self, ctx: DriverContext, publisher: Publisher, poller: Poller) -> None:
        self._ctx = ctx
        self._publisher = publisher
        self._poller = poller
        self._next_handle = 1
        self.notifications = 0  # data change notifications received (benchmarks)

    async def sync(self, conn: Connection, group: Group) -> None:
        """Create the group's subscription if needed, delete dropped items, add new ones."""
        ctx = self._ctx
        session = conn.session
        if group.dropped_sub is not None:
            dropped, group.dropped_sub = group.dropped_sub, None
            if group.gen == conn.gen:
                with contextlib.suppress(UaStatusCodeError):
                    await ctx.timed(session.delete_subscriptions([dropped]), "DeleteSubscriptions")
        if group.sub_id is None or group.gen != conn.gen:
            group.doomed_items = []
            params = _subscription_parameters(group.scan_ms, ctx.settings.keepalive_ms)
            try:
                result = await ctx.timed(
                    session.create_subscription(params, self._callback(conn.gen, group)),
                    "CreateSubscription",
                )
            except UaStatusCodeError as exc:
                log.warning(
                    "%s: the server refused a subscription (%s); polling every %d ms instead",
                    ctx.name,
                    codec.status_name(exc.code),
                    group.scan_ms,
                )
                group.polling = True
                self._poller.ensure(conn, group)
                return
            group.sub_id, group.gen = result.SubscriptionId, conn.gen
            promised = result.RevisedPublishingInterval * result.RevisedMaxKeepAliveCount / 1000
            group.stale_after = 1.5 * max(promised, group.scan_ms / 1000) + 1.0
            group.last_publish = asyncio.get_running_loop().time()
            session.ensure_publish_loop()  # asyncua's loop ends on BadNoSubscription
        if group.doomed_items:
            doomed, group.doomed_items = group.doomed_items, []
            for ids in chunks(doomed, ctx.settings.max_nodes_per_request):
                deletion = ua.DeleteMonitoredItemsParameters(
                    SubscriptionId=group.sub_id, MonitoredItemIds=ids
                )
                with contextlib.suppress(UaStatusCodeError):
                    await ctx.timed(
                        session.delete_monitored_items(deletion), "DeleteMonitoredItems"
                    )
        points = ctx.points
        new = [
            points[k]
            for k in sorted(group.keys)
            if k in points
            and points[k].item_id is None
            and not points[k].error
            and points[k].gen == conn.gen
        ]
        for chunk in chunks(new, ctx.settings.max_nodes_per_request):
            await self._create_items(conn, group, chunk, with_filter=True)

    def check(self, conn: Connection) -> None:
        """A subscription that sent nothing, not even a keep-alive, for longer than it promised
        is gone on the server (deleted, expired) or stuck: make it again."""
        now = asyncio.get_running_loop().time()
        for group in self._ctx.groups.values():
            if group.sub_id is None or group.gen != conn.gen or group.polling:
                continue
            if now - group.last_publish > group.stale_after:
                log.warning(
                    "%s: the %d ms subscription sent nothing for %.1f s; making it again",
                    self._ctx.name,
                    group.scan_ms,
                    now - group.last_publish,
                )
                self.drop(group)
                self._ctx.wake.set()

    def drop(self, group: Group) -> None:
        """Give up on the group's subscription: it is deleted and made again on the next sync."""
        group.dropped_sub, group.sub_id, group.doomed_items = group.sub_id, None, []
        for key in group.keys:
            point = self._ctx.points.get(key)
            if point is not None:
                point.item_id = None

    def _callback(self, gen: int, group: Group) -> Callable[[ua.PublishResult], None]:
        """The publish-response handler: decoding and publishing run in the next loop turn,
        so asyncua's publish loop acknowledges and asks for the next response at once."""

        def handle(result: ua.PublishResult) -> None:
            try:
                self._on_publish(gen, group, result)
            except Exception:
                log.exception("%s: handling a publish response failed", self._ctx.name)

        def on_publish(result: ua.PublishResult) -> None:
            loop = asyncio.get_running_loop()
            if result.SubscriptionId == group.sub_id:
                group.last_publish = loop.time()
            loop.call_soon(handle, result)

        return on_publish

    async def _create_items(
        self, conn: Connection, group: Group, points: list[Point], with_filter: bool
    ) -> None:
        requests = []
        for point in points:
            if point.handle == 0 or point.handle not in conn.handles:
                point.handle = self._next_handle
                self._next_handle += 1
            conn.handles[point.handle] = point
            parameters = ua.MonitoringParameters(
                ClientHandle=point.handle,
                SamplingInterval=float(group.scan_ms),
                QueueSize=self._ctx.settings.queue_size,
                DiscardOldest=True,
            )
            mfilter = self._filter(point) if with_filter else None
            if mfilter is not None:
                parameters.Filter = mfilter
            requests.append(
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=read_value_id(point),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=parameters,
                )
            )
        params = ua.CreateMonitoredItemsParameters(
            SubscriptionId=group.sub_id,
            ItemsToCreate=requests,
            TimestampsToReturn=ua.TimestampsToReturn.Both,
        )
        try:
            results = await self._ctx.timed(
                conn.session.create_monitored_items(params), "CreateMonitoredItems"
            )
        except UaStatusCodeError as exc:
            now, name = time.time(), codec.status_name(exc.code)
            self._publisher.deliver(
                [
                    (p.spec.key, Quality.BAD, None, now, f"{Reason.DEVICE_EXCEPTION}: {name}")
                    for p in points
                ]
            )
            for point in points:
                point.error = f"{Reason.DEVICE_EXCEPTION}: {name}"
            return
        unfiltered: list[Point] = []
        failed: list[tuple[str, Quality, Any, float, str]] = []
        now = time.time()
        for point, result in zip(points, results, strict=False):
            if result.StatusCode.is_good():
                point.item_id = result.MonitoredItemId
                continue
            name = codec.status_name(result.StatusCode)
            if with_filter and name in _FILTER_ERRORS:
                unfiltered.append(point)
                continue
            conn.handles.pop(point.handle, None)
            quality, reason = codec.quality_of(result.StatusCode)
            point.error = reason
            failed.append((point.spec.key, quality, None, now, reason))
        self._publisher.deliver(failed)
        if unfiltered:
            await self._create_items(conn, group, unfiltered, with_filter=False)

    def _filter(self, point: Point) -> ua.DataChangeFilter | None:
        s = self._ctx.settings
        spec = point.spec
        if s.deadband_type == "none" or not spec.data_type.is_numeric or spec.array_length:
            return None
        return ua.DataChangeFilter(
            Trigger=ua.DataChangeTrigger.StatusValue,
            DeadbandType=1 if s.deadband_type == "absolute" else 2,
            DeadbandValue=s.deadband_value,
        )

    def _on_publish(self, gen: int, group: Group, result: ua.PublishResult) -> None:
        ctx = self._ctx
        conn = ctx.conn
        if conn is None or conn.gen != gen or ctx.is_lost(gen):
            return
        data = result.NotificationMessage.NotificationData
        if not data:
            return
        now = time.time()
        out: list[tuple[str, Quality, Any, float, str]] = []
        handles = conn.handles
        for notification in data:
            if isinstance(notification, ua.DataChangeNotification):
                for item in notification.MonitoredItems:
                    point = handles.get(item.ClientHandle)
                    if point is not None and point.spec.key in ctx.points:
                        out.append(value_of(point, item.Value, now))
                self.notifications += len(notification.MonitoredItems)
            elif isinstance(notification, ua.StatusChangeNotification):
                self._status_change(conn, group, notification.Status)
        self._publisher.deliver(out)

    def _status_change(self, conn: Connection, group: Group, status: ua.StatusCode) -> None:
        name = codec.status_name(status)
        if status.is_good():
            return
        if name in _SESSION_GONE:
            self._ctx.link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {name}")
            return
        # BadTimeout: the server dropped the subscription; make a new one
        log.info(
            "%s: subscription of %d ms lost (%s); re-creating it",
            self._ctx.name,
            group.scan_ms,
            name,
        )
        self.drop(group)
        self._ctx.wake.set()


def _subscription_parameters(scan_ms: int, keepalive_ms: int) -> ua.CreateSubscriptionParameters:
    keepalive = max(1, math.ceil(keepalive_ms / scan_ms))
    return ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=float(scan_ms),
        RequestedLifetimeCount=max(3 * keepalive, math.ceil(60_000 / scan_ms)),
        RequestedMaxKeepAliveCount=keepalive,
        MaxNotificationsPerPublish=0,
        PublishingEnabled=True,
        Priority=0,
    )
