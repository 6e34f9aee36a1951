"""Block planning: the fewest read requests that cover a set of points of one Modbus table.

A pure function, independent of pymodbus. Each item is a span of addresses (a point's registers, or
one bit) that must be read whole by one request. Spans that share an address are first merged into
*atoms* (as long as an atom stays within ``max_size``), then atoms are taken in address order and
packed greedily into blocks:

* a block reads the contiguous range from its first atom's start to its last atom's end, at most
  ``max_size`` addresses (125 registers or 2000 bits by the protocol);
* between two neighbouring atoms of a block at most ``max_gap`` unneeded addresses are read;
* a block never spans a *barrier*: a range known to make the device answer with an exception (or,
  for an empty range ``(p, p)``, a boundary the device does not let one request cross). An atom
  that touches a barrier cannot be read by any request: it is reported in ``skipped``.

For atoms that do not overlap, greedy is optimal: any valid block holds a consecutive run of atoms,
every sub-run of a valid run is valid, so extending the current block as far as possible never
costs a request (the usual exchange argument). ``tests/drivers`` checks this against a brute force
over all partitions of small random layouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Addresses ``start .. start + count - 1`` that one point needs."""

    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count


@dataclass(frozen=True, slots=True)
class Atom:
    """Addresses ``start .. end - 1`` read whole by one request; ``items`` index the spans."""

    start: int
    end: int
    items: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: ``count`` addresses from ``start``, serving the spans of its atoms."""

    start: int
    count: int
    atoms: tuple[Atom, ...]

    @property
    def end(self) -> int:
        return self.start + self.count

    @property
    def items(self) -> tuple[int, ...]:
        return tuple(i for atom in self.atoms for i in atom.items)


@dataclass(frozen=True, slots=True)
class Plan:
    """The blocks to read and the items left out because they overlap a barrier."""

    blocks: tuple[Block, ...]
    skipped: tuple[int, ...]


@dataclass(slots=True)
class _Growing:
    start: int
    end: int
    items: list[int]


def _crosses(start: int, end: int, barrier: tuple[int, int]) -> bool:
    """Whether the address range [start, end) touches the barrier."""
    low, high = barrier
    if low == high:
        return start < low < end
    return start < high and low < end


def atoms_of(spans: Sequence[Span], max_size: int) -> list[Atom]:
    """Spans merged where they share addresses: (start, end, item indexes), sorted by start."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    atoms: list[_Growing] = []
    for index in order:
        span = spans[index]
        if span.count < 1:
            raise ValueError(f"span at {span.start} has no addresses")
        if span.count > max_size:
            raise ValueError(
                f"span at {span.start} of {span.count} addresses exceeds the block size {max_size}"
            )
        last = atoms[-1] if atoms else None
        if (
            last is not None
            and span.start < last.end
            and max(last.end, span.end) - last.start <= max_size
        ):
            last.end = max(last.end, span.end)
            last.items.append(index)
        else:
            atoms.append(_Growing(span.start, span.end, [index]))
    return [Atom(a.start, a.end, tuple(a.items)) for a in atoms]


def plan_blocks(
    spans: Sequence[Span],
    *,
    max_gap: int,
    max_size: int,
    barriers: Sequence[tuple[int, int]] = (),
) -> Plan:
    """Blocks covering every span not touching a barrier, with the fewest requests."""
    if max_size < 1:
        raise ValueError("max_size must be at least 1")
    if max_gap < 0:
        raise ValueError("max_gap must not be negative")
    blocks: list[Block] = []
    skipped: list[int] = []
    current: list[Atom] = []
    block_start = block_end = 0

    def close() -> None:
        if current:
            blocks.append(Block(block_start, block_end - block_start, tuple(current)))
            current.clear()

    for atom in atoms_of(spans, max_size):
        start, end = atom.start, atom.end
        if any(_crosses(start, end, b) for b in barriers):
            skipped.extend(atom.items)
            continue
        if current:
            new_end = max(block_end, end)
            if (
                start - block_end > max_gap
                or new_end - block_start > max_size
                or any(_crosses(block_start, new_end, b) for b in barriers)
            ):
                close()
        if current:
            block_end = max(block_end, end)
        else:
            block_start, block_end = start, end
        current.append(atom)
    close()
    return Plan(tuple(blocks), tuple(sorted(skipped)))
