"""What one scan group reads: planned read blocks with their decoders, the memory of addresses the
device refused, and the checks a reply must pass before any value is taken from it.

Independent of the connection: ``tcp.py`` sends the requests (``pipeline.py`` checks replies).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drivers.base import PointSpec
from drivers.modbus.address import ModbusAddress, Table, register_count
from drivers.modbus.codec import BlockDecoder, FieldSpec
from drivers.modbus.planner import Block, Span, plan_blocks

EXCEPTION_NAMES: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}

# Exception codes that concern the addresses asked for: the block is split to find them. Others
# (4 device failure, 6 busy, gateway errors...) mark the block's points BAD for this pass only.
ADDRESS_EXCEPTIONS = frozenset({2, 3})
# The device does not support this read at all: every address of the block is refused.
FUNCTION_EXCEPTIONS = frozenset({1})


def exception_text(code: int) -> str:
    """``"2 illegal data address"`` for the reason and error messages."""
    return f"{code} {EXCEPTION_NAMES.get(code, 'unknown exception')}"


@dataclass(frozen=True, slots=True)
class ScanPoint:
    """A subscribed point with its parsed address."""

    spec: PointSpec
    address: ModbusAddress

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def span(self) -> Span:
        if self.address.table.is_bits or self.address.bit is not None:
            return Span(self.address.offset, 1)
        return Span(self.address.offset, register_count(self.spec))


class ReadBlock:
    """One read request of a plan: the addresses, the points served and how to decode them.

    ``last_raw``/``last_gen`` remember the raw data of the last GOOD publication on connection
    generation ``last_gen``, so an unchanged block is not published again (see ``tcp.py``).
    """

    def __init__(self, table: Table, start: int, count: int, atoms: Sequence[Sequence[ScanPoint]]):
        self.table = table
        self.start = start
        self.count = count
        self.atoms = [list(points) for points in atoms]
        points = [p for group in self.atoms for p in group]
        self.points = points
        self.last_raw: bytes | list[bool] | None = None
        self.last_gen = -1
        self.last_read = float("-inf")  # loop time of the last good read
        self.stale = False
        self._decode: Callable[[Any], Sequence[Any]]
        if table.is_bits:
            offsets = [p.address.offset - start for p in points]
            self.keys = tuple(p.key for p in points)
            if len(offsets) == 1:
                only = offsets[0]
                self._decode = lambda bits: (bits[only],)
            else:
                getter = operator.itemgetter(*offsets)
                self._decode = getter
        else:
            fields = [
                FieldSpec(
                    p.address.offset - start,
                    p.spec.data_type,
                    p.spec.byte_order,
                    p.spec.word_order,
                    p.spec.length,
                    p.address.bit,
                )
                for p in points
            ]
            decoder = BlockDecoder(count, fields)
            self.keys = tuple(points[i].key for i in decoder.order)
            self._decode = decoder.decode_bytes

    @property
    def end(self) -> int:
        return self.start + self.count

    def decode(self, raw: Any) -> Sequence[Any]:
        """Values in the order of ``keys``, from the reply's data: the registers' bytes as
        received, or the list of bits."""
        return self._decode(raw)

    def split(self) -> tuple[ReadBlock, ReadBlock]:
        """Two blocks holding the first and the second half of this block's atoms."""
        if len(self.atoms) < 2:
            raise ValueError("a block of one atom cannot be split")
        middle = len(self.atoms) // 2
        first, second = self.atoms[:middle], self.atoms[middle:]
        return _block_of(self.table, first), _block_of(self.table, second)

    def __repr__(self) -> str:
        where = f"{self.table.value}{self.start}"
        return f"ReadBlock({where}, count={self.count}, points={len(self.points)})"


def _block_of(table: Table, atoms: Sequence[Sequence[ScanPoint]]) -> ReadBlock:
    spans = [p.span for group in atoms for p in group]
    start = min(s.start for s in spans)
    end = max(s.end for s in spans)
    return ReadBlock(table, start, end - start, atoms)


@dataclass(frozen=True, slots=True)
class Limits:
    """Block size and gap limits of a connection."""

    max_gap_registers: int = 8
    max_gap_bits: int = 32
    max_block_registers: int = 125
    max_block_bits: int = 2000

    def for_table(self, table: Table) -> tuple[int, int]:
        """(max gap, max size) for ``table``."""
        if table.is_bits:
            return self.max_gap_bits, self.max_block_bits
        return self.max_gap_registers, self.max_block_registers


@dataclass(slots=True)
class ScanPlan:
    """The blocks of one scan group and the points not read because the device refuses them."""

    blocks: list[ReadBlock]
    refused: list[tuple[ScanPoint, str]]


def build_plan(points: Iterable[ScanPoint], limits: Limits, refused: RefusedAddresses) -> ScanPlan:
    """Blocks per table for ``points``, planned around the addresses the device refused."""
    by_table: dict[Table, list[ScanPoint]] = {}
    for point in points:
        by_table.setdefault(point.address.table, []).append(point)
    blocks: list[ReadBlock] = []
    skipped: list[tuple[ScanPoint, str]] = []
    for table in Table:
        members = by_table.get(table)
        if not members:
            continue
        gap, size = limits.for_table(table)
        plan = plan_blocks(
            [p.span for p in members],
            max_gap=gap,
            max_size=size,
            barriers=refused.barriers(table),
        )
        for block in plan.blocks:
            blocks.append(_read_block(table, block, members))
        for index in plan.skipped:
            point = members[index]
            span = point.span
            skipped.append((point, refused.reason(table, span.start, span.end)))
    return ScanPlan(blocks, skipped)


def _read_block(table: Table, block: Block, members: Sequence[ScanPoint]) -> ReadBlock:
    atoms: list[list[ScanPoint]] = [[members[i] for i in atom.items] for atom in block.atoms]
    return ReadBlock(table, block.start, block.count, atoms)


@dataclass(slots=True)
class _Refusal:
    start: int
    end: int
    since: float
    reason: str


@dataclass(slots=True)
class RefusedAddresses:
    """Address ranges the device answered with an exception, forgotten after ``reprobe_s``.

    A range ``(start, end)`` holds addresses of points that are not read until it expires; an
    empty range ``(p, p)`` is a boundary no request may cross (both sides read fine alone, together
    they are refused). ``version`` changes whenever the set changes, so plans know to re-plan.
    """

    reprobe_s: float = 60.0
    version: int = 0
    _ranges: dict[Table, list[_Refusal]] = field(default_factory=dict)
    _next_expiry: float = float("inf")

    def add(self, table: Table, start: int, end: int, reason: str, now: float) -> None:
        entries = self._ranges.setdefault(table, [])
        if any(e.start == start and e.end == end for e in entries):
            return
        entries.append(_Refusal(start, end, now, reason))
        self._next_expiry = min(self._next_expiry, now + self.reprobe_s)
        self.version += 1

    def expire(self, now: float) -> bool:
        """Forget ranges older than ``reprobe_s`` so they are read again; True if any was."""
        if now < self._next_expiry:
            return False
        limit = now - self.reprobe_s
        next_expiry = float("inf")
        changed = False
        for table, entries in list(self._ranges.items()):
            kept = [e for e in entries if e.since > limit]
            changed = changed or len(kept) != len(entries)
            for entry in kept:
                next_expiry = min(next_expiry, entry.since + self.reprobe_s)
            if kept:
                self._ranges[table] = kept
            else:
                del self._ranges[table]
        self._next_expiry = next_expiry
        if changed:
            self.version += 1
        return changed

    def barriers(self, table: Table) -> list[tuple[int, int]]:
        return [(e.start, e.end) for e in self._ranges.get(table, ())]

    def reason(self, table: Table, start: int, end: int) -> str:
        for entry in self._ranges.get(table, ()):
            if entry.start < end and start < entry.end:
                return entry.reason
        return "device exception"

    def clear(self) -> None:
        if self._ranges:
            self._ranges.clear()
            self.version += 1
        self._next_expiry = float("inf")
