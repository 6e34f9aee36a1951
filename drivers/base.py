"""The contract between the tag engine and every device driver.

A driver owns one connection to one device. The engine tells it which points to read (with a scan
period each); the driver keeps itself connected (reconnecting with backoff) and publishes batches of
``Sample`` objects: decoded device values, before scaling, with quality and source time. When the
link drops, the driver publishes every subscribed point as BAD within one scan period.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

from hmi_app.core.datatypes import ByteOrder, DataType, WordOrder
from hmi_app.core.quality import Quality


class AddressError(ValueError):
    """An address a driver cannot use; the message says why in the user's terms."""


class DriverWriteError(Exception):
    """A write the device did not accept (exception reply, timeout, link down)."""


class LinkState(enum.StrEnum):
    """Connection state of a driver, shown per device in the operator header."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class PointSpec:
    """One thing to read from a device, as the engine asks for it."""

    key: str
    address: str
    data_type: DataType
    byte_order: ByteOrder = ByteOrder.BIG
    word_order: WordOrder = WordOrder.BIG
    length: int = 0
    scan_ms: int = 1000
    array_length: int = 0  # 0: a scalar; N: a whole array of N elements (value is a tuple)


@dataclass(slots=True)
class Sample:
    """A decoded device value (not yet scaled) for the point ``key``."""

    key: str
    value: Any
    quality: Quality
    source_ts: float
    reason: str = ""


class GoodBlock(Sequence[Sample]):
    """The good values of one block read, kept as columns.

    A scan of 10,000 registers would otherwise make 10,000 ``Sample`` objects per pass; this is
    one object per request. It is a ``Sequence[Sample]`` for any consumer, and the engine reads
    ``keys`` and ``values`` directly. ``keys`` should be the same tuple on every pass of a block.
    """

    __slots__ = ("keys", "source_ts", "values")

    def __init__(self, keys: tuple[str, ...], values: Sequence[Any], source_ts: float) -> None:
        if len(keys) != len(values):
            raise ValueError(f"{len(keys)} keys for {len(values)} values")
        self.keys = keys
        self.values = values
        self.source_ts = source_ts

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Sample]: ...

    def __getitem__(self, index: int | slice) -> Sample | Sequence[Sample]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Sample(self.keys[index], self.values[index], Quality.GOOD, self.source_ts)

    def __iter__(self) -> Iterator[Sample]:
        ts, good = self.source_ts, Quality.GOOD
        return (Sample(k, v, good, ts) for k, v in zip(self.keys, self.values, strict=True))


@dataclass(frozen=True, slots=True)
class BrowseNode:
    """One entry of a device's address space, for the tag browser."""

    name: str
    address: str
    data_type: DataType | None = None
    children: Sequence[BrowseNode] = field(default_factory=tuple)
    expandable: bool = False  # has children that browse(address) returns (loaded on demand)
    description: str = ""


PublishFn = Callable[[Sequence[Sample]], None]
LinkStateFn = Callable[[LinkState, str], None]


class Driver(Protocol):
    """What the tag engine needs of a device driver."""

    name: str

    @property
    def link_state(self) -> LinkState: ...

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if this driver cannot read ``point`` (used without connecting)."""
        ...

    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and scanning in the background; returns at once."""
        ...

    async def stop(self) -> None:
        """Stop scanning, close the connection, and leave no task behind."""
        ...

    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points to the scan (idempotent per key)."""
        ...

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points."""
        ...

    async def write(self, point: PointSpec, value: Any) -> None:
        """Write a device value (already unscaled and type-checked); raise DriverWriteError."""
        ...

    async def browse(self, path: str = "") -> list[BrowseNode]:
        """Children of ``path`` in the device's address space (empty when it has none)."""
        ...
