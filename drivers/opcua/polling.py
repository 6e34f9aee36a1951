"""Polling fallback of the OPC UA driver: a scan class that reads its nodes every period.

Used for ``mode: poll`` and for a server that refuses subscriptions. One task per scan period
(``opcua:<name>:poll<ms>ms``) reads its points in batches of ``max_nodes_per_request``; an
overrun skips the polls it missed rather than running them back to back.
"""

from __future__ import annotations

import asyncio
import logging
import time

from asyncua import ua
from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.opcua import codec
from drivers.opcua.model import (
    Connection,
    DriverContext,
    Group,
    LinkDown,
    Point,
    chunks,
    read_value_id,
)
from drivers.opcua.publisher import Publisher, value_of
from drivers.pacing import Pacer

log = logging.getLogger(__name__)


class Poller:
    """Starts, runs and stops the poll tasks of the scan groups."""

    def __init__(self, ctx: DriverContext, publisher: Publisher) -> None:
        self._ctx = ctx
        self._publisher = publisher

    def ensure(self, conn: Connection, group: Group) -> None:
        """Start the group's poll task unless it runs."""
        if group.poll_task is None or group.poll_task.done():
            group.poll_task = asyncio.create_task(
                self._loop(conn, group), name=f"opcua:{self._ctx.name}:poll{group.scan_ms}ms"
            )

    def tasks(self) -> list[asyncio.Task[None]]:
        """The poll tasks that exist."""
        return [g.poll_task for g in self._ctx.groups.values() if g.poll_task is not None]

    def stop_all(self) -> None:
        """Cancel every poll task (without waiting for them)."""
        for group in self._ctx.groups.values():
            if group.poll_task is not None:
                group.poll_task.cancel()
                group.poll_task = None

    async def _loop(self, conn: Connection, group: Group) -> None:
        ctx = self._ctx
        pacer = Pacer(group.scan_ms / 1000)
        while not ctx.is_lost(conn.gen):
            points = [
                ctx.points[k]
                for k in sorted(group.keys)
                if k in ctx.points and not ctx.points[k].error and ctx.points[k].gen == conn.gen
            ]
            try:
                for chunk in chunks(points, ctx.settings.max_nodes_per_request):
                    await self._poll(conn, chunk)
            except LinkDown as exc:
                ctx.link_lost(conn.gen, str(exc))
                return
            except UaStatusCodeError as exc:
                now = time.time()
                quality, reason = codec.quality_of(ua.StatusCode(exc.code))
                self._publisher.deliver([(p.spec.key, quality, None, now, reason) for p in points])
            except Exception:  # a bug must not stop the scan class
                log.exception("%s: poll of %d ms failed", ctx.name, group.scan_ms)
            pacer.advance()  # an overrun skips the polls it missed
            await pacer.sleep()

    async def _poll(self, conn: Connection, points: list[Point]) -> None:
        params = ua.ReadParameters(
            NodesToRead=[read_value_id(p) for p in points],
            TimestampsToReturn=ua.TimestampsToReturn.Both,
        )
        values = await self._ctx.timed(conn.session.read(params), "Read")
        if self._ctx.is_lost(conn.gen):
            return
        now = time.time()
        self._publisher.deliver([value_of(p, v, now) for p, v in zip(points, values, strict=False)])
