"""Writes of the OPC UA driver: the value converted to the node's own built-in type.

The node of a subscribed point is already resolved; another point is resolved once per
connection and kept in ``Connection.write_targets``. An element write (``Arr[3]``) carries a
one-element array with the IndexRange (Part 4, 7.22). Every refusal is a ``DriverWriteError``
that says why.
"""

from __future__ import annotations

from typing import Any

from asyncua import ua
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from drivers.base import AddressError, DriverWriteError, PointSpec
from drivers.opcua import address as addr
from drivers.opcua import codec
from drivers.opcua.model import Connection, DriverContext, LinkDown, Point, describe
from drivers.opcua.resolver import Resolver
from hmi_app.core.quality import Reason


class Writer:
    """Writes one value to one point's node on the current connection."""

    def __init__(self, ctx: DriverContext, resolver: Resolver) -> None:
        self._ctx = ctx
        self._resolver = resolver

    async def write(self, point: PointSpec, value: Any) -> None:
        """Write ``value`` converted to the node's own data type; DriverWriteError says why not."""
        ctx = self._ctx
        try:
            parsed = addr.validate(point)
        except AddressError as exc:
            raise DriverWriteError(str(exc)) from None
        conn = ctx.conn
        if conn is None or ctx.is_lost(conn.gen):
            raise DriverWriteError(
                f"{Reason.NOT_CONNECTED}: {ctx.down_reason or 'no connection to ' + ctx.url}"
            )
        target = await self._target(conn, point, parsed)
        if target.error or target.variant is None or target.node_id is None:
            raise DriverWriteError(f"{point.address}: {target.error or 'node not resolved'}")
        as_array = bool(point.array_length) or (target.index_range is not None)
        payload = value
        if target.index_range is not None and not point.array_length:
            payload = [value]  # an element write carries a one-element array (Part 4, 7.22)
        try:
            variant = codec.encode(payload, target.variant, target.type_name, as_array)
        except codec.EncodeError as exc:
            raise DriverWriteError(f"{point.address}: {exc}") from None
        request = ua.WriteValue(
            NodeId=target.node_id,
            AttributeId=AttributeIds.Value,
            Value=ua.DataValue(variant),
            IndexRange=target.index_range,
        )
        try:
            results = await ctx.timed(
                conn.session.write(ua.WriteParameters(NodesToWrite=[request])), "Write"
            )
        except LinkDown as exc:
            ctx.link_lost(conn.gen, str(exc))
            raise DriverWriteError(f"{point.address}: {exc}") from None
        except UaStatusCodeError as exc:
            raise DriverWriteError(
                f"{point.address}: the server refused the write: {codec.status_name(exc.code)}"
            ) from None
        except UaError as exc:
            raise DriverWriteError(f"{point.address}: {describe(exc)}") from None
        status = results[0]
        if not status.is_good():
            name = codec.status_name(status)
            raise DriverWriteError(
                f"{point.address}: the server refused the write: {name} ({status.doc})"
            )

    async def _target(self, conn: Connection, point: PointSpec, parsed: addr.OpcAddress) -> Point:
        """The resolved node of ``point`` on ``conn``: the subscribed point's, else its own."""
        ctx = self._ctx
        target = ctx.points.get(point.key)
        if target is None or target.spec != point or target.gen != conn.gen:
            target = conn.write_targets.get(point)
        if target is None:
            target = Point(point, parsed)
            try:
                await self._resolver.resolve(conn, [target])
            except LinkDown as exc:
                ctx.link_lost(conn.gen, str(exc))
                raise DriverWriteError(f"{point.address}: {exc}") from None
            except UaStatusCodeError as exc:
                name = codec.status_name(exc.code)
                raise DriverWriteError(f"{point.address}: the server refused: {name}") from None
            conn.write_targets[point] = target
        return target
