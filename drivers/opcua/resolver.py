"""Resolution of point addresses to nodes on one connection.

Browse paths are translated to node ids, ``nsu=`` URIs to namespace indexes, and each node's
DataType and ValueRank are read once (in batches of ``max_nodes_per_request``): the tag's type is
checked against the node's, and writes use the node's own built-in type. ``ns=2;s=Arr[3]`` reads
element 3 of ``Arr`` (IndexRange); should ``Arr`` not exist but ``Arr[3]`` does, the whole text is
taken as the node id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncua import ua
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError

from drivers.opcua import codec
from drivers.opcua.model import Connection, DriverContext, Point, chunks, node_text, std
from hmi_app.core.quality import Reason

_TRUE: Any = True
_FALSE: Any = False
_ABSTRACT_TYPES = frozenset({24, 26, 27, 28})  # BaseDataType, Number, Integer, UInteger


class Resolver:
    """Finds each point's node, built-in type and array-ness on the current connection."""

    def __init__(self, ctx: DriverContext) -> None:
        self._ctx = ctx

    async def resolve(self, conn: Connection, points: list[Point]) -> None:
        """Node id, built-in type and array-ness of each point's node, for this connection."""
        gen = conn.gen
        limit = self._ctx.settings.max_nodes_per_request
        for point in points:
            point.gen, point.error, point.node_id, point.item_id = gen, "", None, None
            assert point.address is not None
            point.index_range = point.address.index_range
        uris = [p for p in points if p.address is not None and p.address.namespace_uri]
        if uris:
            namespaces = await self._ctx.timed(
                conn.client.get_namespace_array(), "read NamespaceArray"
            )
            for point in uris:
                self.apply_uri(point, namespaces)
        for point in points:
            assert point.address is not None
            if point.address.node_id is not None and point.address.namespace_uri is None:
                point.node_id = point.address.node_id
        paths = [p for p in points if p.address is not None and p.address.is_path]
        for chunk in chunks(paths, limit):
            await self.translate(conn, chunk)
        todo = [p for p in points if p.node_id is not None and not p.error]
        for chunk in chunks(todo, limit):
            await self._read_node_types(conn, chunk)

    @staticmethod
    def apply_uri(point: Point, namespaces: Sequence[str]) -> None:
        """Give ``point`` the node id of its ``nsu=`` address in the server's ``namespaces``."""
        assert point.address is not None and point.address.node_id is not None
        uri = point.address.namespace_uri
        if uri not in namespaces:
            point.error = f"{Reason.CONFIG_ERROR}: the server has no namespace {uri!r}"
            return
        base = point.address.node_id
        index: Any = namespaces.index(uri or "")
        point.node_id = ua.NodeId(base.Identifier, index, base.NodeIdType)

    async def translate(self, conn: Connection, points: list[Point]) -> None:
        """Translate the browse paths of ``points`` (one request) to node ids."""
        paths = []
        for point in points:
            assert point.address is not None
            elements = [
                ua.RelativePathElement(
                    ReferenceTypeId=std(ObjectIds.HierarchicalReferences),
                    IsInverse=_FALSE,
                    IncludeSubtypes=_TRUE,
                    TargetName=ua.QualifiedName(name, ns),
                )
                for ns, name in point.address.path
            ]
            paths.append(
                ua.BrowsePath(
                    StartingNode=std(ObjectIds.RootFolder),
                    RelativePath=ua.RelativePath(Elements=elements),
                )
            )
        results = await self._ctx.timed(
            conn.session.translate_browsepaths_to_nodeids(paths), "TranslateBrowsePaths"
        )
        for point, result in zip(points, results, strict=False):
            if result.StatusCode.is_good() and result.Targets:
                target = result.Targets[0].TargetId
                point.node_id = ua.NodeId(
                    target.Identifier, target.NamespaceIndex, target.NodeIdType
                )
            else:
                assert point.address is not None
                point.error = (
                    f"{Reason.CONFIG_ERROR}: browse path {point.address.node_text} not found"
                    f" ({codec.status_name(result.StatusCode)})"
                )

    async def _read_node_types(self, conn: Connection, points: list[Point]) -> None:
        nodes = []
        for point in points:
            assert point.node_id is not None
            nodes += [
                ua.ReadValueId(NodeId=point.node_id, AttributeId=AttributeIds.DataType),
                ua.ReadValueId(NodeId=point.node_id, AttributeId=AttributeIds.ValueRank),
            ]
        values = await self._ctx.timed(
            conn.session.read(ua.ReadParameters(NodesToRead=nodes)), "Read"
        )
        retry: list[Point] = []
        for i, point in enumerate(points):
            dtype, rank = values[2 * i], values[2 * i + 1]
            status = dtype.StatusCode
            if status is not None and not status.is_good():
                literal = point.address.literal if point.address is not None else None
                if literal is not None and point.node_id != literal.node_id:
                    point.node_id, point.index_range = literal.node_id, None
                    retry.append(point)
                    continue
                point.error = (
                    f"{Reason.CONFIG_ERROR}: node {node_text(point)} is not usable:"
                    f" {codec.status_name(status)}"
                )
                continue
            value_rank = (
                int(rank.Value.Value)
                if rank.Value is not None and rank.Value.Value is not None
                else -2
            )
            await self._apply_type(
                conn, point, dtype.Value.Value if dtype.Value else None, value_rank
            )
        if retry:
            await self._read_node_types(conn, retry)

    async def _apply_type(
        self, conn: Connection, point: Point, type_id: Any, value_rank: int
    ) -> None:
        spec = point.spec
        variant = await self.variant_of(conn, type_id) if isinstance(type_id, ua.NodeId) else None
        if variant is None and isinstance(type_id, ua.NodeId) and _is_abstract(type_id):
            # BaseDataType, Number, Integer...: the value may be of any type; read what comes
            # and write as the tag's own type
            variant = codec.VARIANT_OF[spec.data_type]
        if variant is None:
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {node_text(point)} has a data type"
                " hmi-app cannot read"
            )
            return
        point.variant, point.type_name = variant, str(variant.name)
        point.node_is_array = value_rank >= 0
        indexed = point.index_range is not None
        if not codec.compatible(spec.data_type, variant):
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {node_text(point)} is {variant.name};"
                f" a {spec.data_type.value} tag cannot show it"
            )
        elif value_rank == -1 and (indexed or spec.array_length):
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {node_text(point)} holds one {variant.name},"
                " not an array: remove the [index] and array_length"
            )
        elif value_rank >= 1 and not indexed and not spec.array_length:
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {node_text(point)} is an array of {variant.name}:"
                " set array_length, or read one element with [index]"
            )

    async def variant_of(self, conn: Connection, type_id: ua.NodeId) -> ua.VariantType | None:
        """The built-in type behind DataType ``type_id`` (cached per connection), or None."""
        variant = codec.variant_type_of(type_id)
        if variant is not None and variant not in (
            ua.VariantType.Variant,
            ua.VariantType.ExtensionObject,
        ):
            return variant
        cached = conn.variant_cache.get(type_id)
        if cached is not None:
            return cached
        from asyncua.common.ua_utils import data_type_to_variant_type

        try:
            found = await self._ctx.timed(
                data_type_to_variant_type(conn.client.get_node(type_id)), "browse of a data type"
            )
        except (UaError, ValueError):
            return None
        if found in (ua.VariantType.Variant, ua.VariantType.ExtensionObject, ua.VariantType.Null):
            return None
        conn.variant_cache[type_id] = found
        return found


def _is_abstract(type_id: ua.NodeId) -> bool:
    return type_id.NamespaceIndex == 0 and type_id.Identifier in _ABSTRACT_TYPES
