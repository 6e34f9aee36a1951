"""Browsing of the OPC UA address space for the tag browser.

``browse(path)`` lists the objects and variables under a node (a node id, an ``nsu=`` address
or a browse path; "" is the Objects folder), following continuation points. Each variable comes
with the tag data type it maps to (None for types hmi-app cannot show) and a description such as
``Double[4] - the line speed``; objects are expandable.
"""

from __future__ import annotations

from typing import Any

from asyncua import ua
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.base import AddressError, BrowseNode, PointSpec
from drivers.opcua import address as addr
from drivers.opcua import codec
from drivers.opcua.model import Connection, DriverContext, LinkDown, Point, chunks, plain, std
from drivers.opcua.resolver import Resolver
from hmi_app.core.datatypes import DataType


class Browser:
    """Answers ``browse`` on the current connection."""

    def __init__(self, ctx: DriverContext, resolver: Resolver) -> None:
        self._ctx = ctx
        self._resolver = resolver

    async def browse(self, path: str = "") -> list[BrowseNode]:
        """Objects and variables under ``path`` (a node id; "" is the Objects folder).

        Raises ConnectionError while the server is not connected or when it stops answering,
        AddressError for a path the server does not know.
        """
        try:
            return await self._browse(path)
        except LinkDown as exc:
            raise ConnectionError(f"{self._ctx.name}: {exc}") from None
        except UaStatusCodeError as exc:
            name = codec.status_name(exc.code)
            raise AddressError(f"cannot browse {path or 'Objects'}: {name}") from None

    async def _browse(self, path: str) -> list[BrowseNode]:
        ctx = self._ctx
        conn = ctx.conn
        if conn is None:
            raise ConnectionError(
                f"{ctx.name}: not connected to {ctx.url}"
                + (f" ({ctx.down_reason})" if ctx.down_reason else "")
            )
        node_id = std(ObjectIds.ObjectsFolder)
        if path:
            node_id = await self._node_of(conn, path)
        refs = await self._browse_refs(conn, node_id)
        variables = [r for r in refs if r.NodeClass == ua.NodeClass.Variable]
        details = await self._variable_details(conn, [r.NodeId for r in variables])
        nodes = []
        for ref in refs:
            name = ref.DisplayName.Text or ref.BrowseName.Name or ref.NodeId.to_string()
            text = ref.NodeId.to_string()
            if ref.NodeClass == ua.NodeClass.Variable:
                data_type, described = details.get(text, (None, ""))
                nodes.append(BrowseNode(name, text, data_type, description=described))
            else:
                nodes.append(BrowseNode(name, text, None, expandable=True))
        return nodes

    async def _node_of(self, conn: Connection, path: str) -> ua.NodeId:
        parsed = addr.parse(path)
        if parsed.node_id is not None and parsed.namespace_uri is None:
            return parsed.node_id
        probe = Point(PointSpec("browse", path, DataType.STRING), parsed)
        probe.gen, probe.index_range = conn.gen, None
        if parsed.namespace_uri:
            ns = await self._ctx.timed(conn.client.get_namespace_array(), "read NamespaceArray")
            self._resolver.apply_uri(probe, ns)
        else:
            await self._resolver.translate(conn, [probe])
        if probe.error or probe.node_id is None:
            raise AddressError(probe.error)
        return probe.node_id

    async def _browse_refs(self, conn: Connection, node_id: ua.NodeId) -> list[Any]:
        description = ua.BrowseDescription(
            NodeId=node_id,
            BrowseDirection=ua.BrowseDirection.Forward,
            ReferenceTypeId=std(ObjectIds.HierarchicalReferences),
            IncludeSubtypes=True,
            NodeClassMask=int(ua.NodeClass.Object) | int(ua.NodeClass.Variable),
            ResultMask=int(ua.BrowseResultMask.All),
        )
        params = ua.BrowseParameters(
            NodesToBrowse=[description], RequestedMaxReferencesPerNode=1000
        )
        results = await self._ctx.timed(conn.session.browse(params), "Browse")
        result = results[0]
        if not result.StatusCode.is_good():
            raise AddressError(
                f"cannot browse {node_id.to_string()}: {codec.status_name(result.StatusCode)}"
            )
        refs = list(result.References)
        point = result.ContinuationPoint
        while point:
            more = await self._ctx.timed(
                conn.session.browse_next(
                    ua.BrowseNextParameters(
                        ContinuationPoints=[point], ReleaseContinuationPoints=False
                    )
                ),
                "BrowseNext",
            )
            refs.extend(more[0].References)
            point = more[0].ContinuationPoint
        return refs

    async def _variable_details(
        self, conn: Connection, node_ids: list[ua.NodeId]
    ) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        attributes = (
            AttributeIds.DataType,
            AttributeIds.ValueRank,
            AttributeIds.ArrayDimensions,
            AttributeIds.Description,
        )
        for chunk in chunks(node_ids, max(1, self._ctx.settings.max_nodes_per_request // 4)):
            reads = [ua.ReadValueId(NodeId=n, AttributeId=a) for n in chunk for a in attributes]
            values = await self._ctx.timed(
                conn.session.read(ua.ReadParameters(NodesToRead=reads)), "Read"
            )
            for i, node in enumerate(chunk):
                dtype, rank, dims, desc = (plain(v) for v in values[4 * i : 4 * i + 4])
                variant = (
                    await self._resolver.variant_of(conn, dtype)
                    if isinstance(dtype, ua.NodeId)
                    else None
                )
                data_type = codec.DATA_TYPE_OF.get(variant) if variant is not None else None
                type_text = (
                    codec.describe_variant(
                        variant, int(rank) if isinstance(rank, int) else -1, dims
                    )
                    if variant is not None
                    else "structure"
                )
                text = desc.Text if isinstance(desc, ua.LocalizedText) and desc.Text else ""
                out[node.to_string()] = (data_type, f"{type_text} - {text}" if text else type_text)
        return out
