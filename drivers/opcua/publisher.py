"""Publishing of OPC UA readings: decoding, duplicate suppression and GOOD blocks.

``value_of`` turns a DataValue into a reading (``source_ts`` is the SourceTimestamp, else the
ServerTimestamp, else the receive time). ``Publisher.deliver`` publishes what differs from the
last publication of each point (quality, value, source timestamp and reason): a re-created
subscription's initial values and unchanged polls are not published twice. GOOD values sharing
a source timestamp go out as one ``GoodBlock`` when there are ``GOOD_BLOCK_MIN`` or more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from asyncua import ua

from drivers.base import GoodBlock, Sample
from drivers.emitter import Emitter
from drivers.opcua import codec
from drivers.opcua.model import DriverContext, Point, Result
from hmi_app.core.quality import Quality, Reason

GOOD_BLOCK_MIN = 8  # a timestamp bucket this big is published as one GoodBlock


class Publisher:
    """Hands readings to the driver's ``publish`` callback, each change once."""

    def __init__(self, ctx: DriverContext) -> None:
        self._ctx = ctx
        self.out = Emitter(ctx.name)  # the driver's publish callback, set at start
        self._last: dict[str, tuple[Quality, Any, float, str]] = {}
        self.told_down: set[str] = set()  # points told BAD during the current outage

    def forget(self, key: str) -> None:
        """``key`` is no longer subscribed."""
        self._last.pop(key, None)
        self.told_down.discard(key)

    def deliver(self, results: Sequence[Result]) -> None:
        """Publish what differs from the last publication of each point, GOOD values in blocks."""
        if not results or self.out.publish is None:
            return
        last = self._last
        buckets: dict[float, tuple[list[str], list[Any]]] = {}
        others: list[Sample] = []
        for key, quality, value, ts, reason in results:
            record = (quality, value, ts, reason)
            prev = last.get(key)
            if prev is not None and _same(prev, record):
                continue
            last[key] = record
            if quality is Quality.GOOD:
                bucket = buckets.get(ts)
                if bucket is None:
                    bucket = buckets[ts] = ([], [])
                bucket[0].append(key)
                bucket[1].append(value)
            else:
                others.append(Sample(key, value, quality, ts, reason))
        for ts, (keys, values) in buckets.items():
            if len(keys) >= GOOD_BLOCK_MIN:
                self.out.emit(GoodBlock(tuple(keys), values, ts))
            else:
                others.extend(
                    Sample(k, v, Quality.GOOD, ts) for k, v in zip(keys, values, strict=True)
                )
        if others:
            self.out.emit(others)

    def tell_invalid(self, points: Sequence[Point]) -> None:
        """Points whose address or node is unusable go BAD with their error."""
        now = time.time()
        self.deliver([(p.spec.key, Quality.BAD, None, now, p.error) for p in points if p.error])

    def publish_down(self, reason: str) -> None:
        """Every readable point not yet told during this outage goes BAD."""
        now = time.time()
        keys = [
            k
            for k, p in self._ctx.points.items()
            if p.address is not None and k not in self.told_down
        ]
        self.told_down.update(keys)
        self.deliver([(k, Quality.BAD, None, now, reason) for k in keys])


def value_of(point: Point, value: ua.DataValue | None, now: float) -> Result:
    """The reading of ``point`` in ``value`` (received at ``now``)."""
    key = point.spec.key
    if value is None:
        return key, Quality.BAD, None, now, f"{Reason.DECODE_ERROR}: no value"
    quality, reason = codec.quality_of(value.StatusCode)
    ts = codec.to_posix(value.SourceTimestamp) or codec.to_posix(value.ServerTimestamp) or now
    if quality is Quality.BAD:
        return key, quality, None, ts, reason
    raw = value.Value.Value if value.Value is not None else None
    if point.index_range is not None and isinstance(raw, list):
        raw = _select(raw, point)
    try:
        decoded = codec.decode(raw, point.spec.data_type, point.spec.array_length)
    except codec.DecodeError as exc:
        return key, Quality.BAD, None, ts, f"{Reason.DECODE_ERROR}: {exc}"
    return key, quality, decoded, ts, reason


def _same(a: tuple[Quality, Any, float, str], b: tuple[Quality, Any, float, str]) -> bool:
    return (
        a[0] is b[0] and a[2] == b[2] and a[3] == b[3] and type(a[1]) is type(b[1]) and a[1] == b[1]
    )


def _select(values: list[Any], point: Point) -> Any:
    """The indexed elements of an array value. A conforming server sends just the IndexRange;
    some (asyncua's own) ignore it for monitored items and reads and send the whole array."""
    assert point.address is not None and point.address.index is not None
    first, last = point.address.index
    count = last - first + 1
    if len(values) != count and len(values) > last:
        values = values[first : last + 1]
    if point.spec.array_length:
        return values
    return values[0] if len(values) == 1 else values
