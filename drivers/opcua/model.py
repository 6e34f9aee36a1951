"""State shared by the parts of the OPC UA driver: points, scan groups, the live connection.

``DriverContext`` is owned by ``OpcUaDriver`` and handed to its helpers (session, resolver,
subscriptions, poller, writer, browser, publisher): it holds the points and scan groups, the
current ``Connection`` and its generation, and the bookkeeping of a lost link. Small helpers
used by more than one part (request timeouts, chunking, error texts) live here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaStatusCodeError

from drivers.base import PointSpec
from drivers.opcua import address as addr
from drivers.opcua import codec
from drivers.opcua.settings import OpcUaSettings
from hmi_app.core.deadlines import within
from hmi_app.core.quality import Quality, Reason

_T = TypeVar("_T")

Result = tuple[str, Quality, Any, float, str]
"""One reading of a point: key, quality, value, source timestamp, reason."""


class LinkDown(Exception):
    """The connection failed or was lost; the message is the reason given to the points."""


@dataclass(slots=True, eq=False)
class Point:
    """A subscribed point and what is known about its node on the current connection."""

    spec: PointSpec
    address: addr.OpcAddress | None
    error: str = ""  # config error (address, or the node on this connection)
    gen: int = 0  # connection the fields below belong to
    node_id: ua.NodeId | None = None
    index_range: str | None = None
    variant: ua.VariantType | None = None
    type_name: str = ""
    node_is_array: bool = False
    handle: int = 0
    item_id: int | None = None


@dataclass(slots=True, eq=False)
class Group:
    """Points sampled at one period: their subscription, or their poll task."""

    scan_ms: int
    keys: set[str] = field(default_factory=set)
    sub_id: int | None = None
    gen: int = 0
    polling: bool = False
    poll_task: asyncio.Task[None] | None = None
    doomed_items: list[int] = field(default_factory=list)
    last_publish: float = 0.0  # loop time of the last publish response (data or keep-alive)
    stale_after: float = 0.0  # seconds without a response after which it is made again
    dropped_sub: int | None = None  # a subscription given up on, to delete on the server


@dataclass(slots=True, eq=False)
class Connection:
    """One live asyncua client and its generation number."""

    client: Client
    gen: int
    handles: dict[int, Point] = field(default_factory=dict)
    write_targets: dict[PointSpec, Point] = field(default_factory=dict)
    variant_cache: dict[ua.NodeId, ua.VariantType] = field(default_factory=dict)

    @property
    def session(self) -> Any:
        return self.client.uaclient.session


class DriverContext:
    """What the driver's helpers share: settings, points, groups and the link's generation."""

    def __init__(self, name: str, settings: OpcUaSettings) -> None:
        self.name = name
        self.settings = settings
        self.timeout_s = settings.timeout_ms / 1000
        self.points: dict[str, Point] = {}
        self.groups: dict[int, Group] = {}
        self.conn: Connection | None = None
        self.gen = 0
        self.down_reason = ""
        self.lost_gen = -1
        self.lost_reason = ""
        self.wake = asyncio.Event()

    @property
    def url(self) -> str:
        return self.settings.url

    def link_lost(self, gen: int, reason: str) -> None:
        """Connection ``gen`` is lost for ``reason`` (the first reason given wins)."""
        if gen == self.gen and self.lost_gen != gen:
            self.lost_gen, self.lost_reason = gen, reason
            self.wake.set()

    def is_lost(self, gen: int) -> bool:
        return self.lost_gen == gen

    async def timed(self, awaitable: Awaitable[_T], what: str) -> _T:
        """Await one request with the request timeout; LinkDown when it fails on the wire."""
        try:
            return await within(awaitable, self.timeout_s)
        except TimeoutError:
            raise LinkDown(
                f"{Reason.COMM_FAILURE}: no answer to {what} within {self.timeout_s:g} s"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise LinkDown(f"{Reason.COMM_FAILURE}: {what}: {describe(exc)}") from None


def std(identifier: int) -> ua.NodeId:
    """A namespace-0 node id (asyncua types its parameters as NewTypes of int)."""
    return ua.NodeId(cast(Any, identifier))


def chunks(items: Sequence[_T], size: int) -> list[list[_T]]:
    """``items`` in lists of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def describe(exc: BaseException) -> str:
    """A short text for an exception, for reasons and error messages."""
    if isinstance(exc, UaStatusCodeError):
        return codec.status_name(exc.code)
    text = str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def node_text(point: Point) -> str:
    """The node id of ``point`` as text, else its address."""
    if point.node_id is not None:
        return str(point.node_id.to_string())
    return point.spec.address


def read_value_id(point: Point) -> ua.ReadValueId:
    """What to read (or monitor) for ``point``: its node's Value, with its IndexRange."""
    return ua.ReadValueId(
        NodeId=point.node_id, AttributeId=AttributeIds.Value, IndexRange=point.index_range
    )


def plain(value: ua.DataValue) -> Any:
    """The value of an attribute read, or None when it is not good."""
    if value.StatusCode is not None and not value.StatusCode.is_good():
        return None
    return value.Value.Value if value.Value is not None else None
