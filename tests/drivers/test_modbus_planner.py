"""Block planner: the fewest requests, checked against a brute force over every partition."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import pytest

from drivers.modbus.planner import Plan, Span, plan_blocks


def partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into non-empty groups."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in partitions(rest):
        for index in range(len(smaller)):
            yield [*smaller[:index], [first, *smaller[index]], *smaller[index + 1 :]]
        yield [[first], *smaller]


def valid_request(
    group: Sequence[int],
    spans: Sequence[Span],
    max_gap: int,
    max_size: int,
    barriers: Sequence[tuple[int, int]],
) -> bool:
    """Can one request read exactly the range spanned by ``group``?

    The definition, independent of the planner: the request reads [min start, max end); it is at
    most ``max_size`` long; no run of addresses inside it that none of its spans needs is longer
    than ``max_gap``; and it touches no barrier.
    """
    start = min(spans[i].start for i in group)
    end = max(spans[i].end for i in group)
    if end - start > max_size:
        return False
    needed = {a for i in group for a in range(spans[i].start, spans[i].end)}
    run = 0
    for address in range(start, end):
        run = 0 if address in needed else run + 1
        if run > max_gap:
            return False
    for low, high in barriers:
        if low == high and start < low < end:
            return False
        if low < high and start < high and low < end:
            return False
    return True


def brute_force_minimum(
    spans: Sequence[Span], max_gap: int, max_size: int, barriers: Sequence[tuple[int, int]]
) -> int:
    best = len(spans)
    if not spans:
        return 0
    for partition in partitions(list(range(len(spans)))):
        if len(partition) < best and all(
            valid_request(g, spans, max_gap, max_size, barriers) for g in partition
        ):
            best = len(partition)
    return best


def check_plan(
    plan: Plan,
    spans: Sequence[Span],
    max_gap: int,
    max_size: int,
    barriers: Sequence[tuple[int, int]] = (),
) -> None:
    """Every span read whole by exactly one block, and every block a valid request."""
    served = [i for block in plan.blocks for i in block.items]
    assert sorted(served + list(plan.skipped)) == list(range(len(spans)))  # each exactly once
    for block in plan.blocks:
        assert 1 <= block.count <= max_size
        for i in block.items:
            assert block.start <= spans[i].start and spans[i].end <= block.end
        assert block.start == min(spans[i].start for i in block.items)
        assert block.end == max(spans[i].end for i in block.items)
        assert valid_request(block.items, spans, max_gap, max_size, barriers)


def random_layout(rng: random.Random, count: int) -> list[Span]:
    """Non-overlapping spans of 1..4 addresses with random holes between them."""
    spans: list[Span] = []
    address = rng.randrange(4)
    for _ in range(count):
        size = rng.choice([1, 1, 2, 2, 4])
        spans.append(Span(address, size))
        address += size + rng.choice([0, 0, 1, 2, 3, 5, 9])
    rng.shuffle(spans)
    return spans


def test_greedy_needs_no_more_requests_than_any_partition() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        spans = random_layout(rng, rng.randint(1, 7))
        max_gap = rng.randint(0, 4)
        max_size = rng.randint(4, 12)
        top = max(s.end for s in spans)
        barriers: list[tuple[int, int]] = []
        if rng.random() < 0.4:
            cut = rng.randrange(top + 1)
            barriers.append((cut, cut))
        plan = plan_blocks(spans, max_gap=max_gap, max_size=max_size, barriers=barriers)
        check_plan(plan, spans, max_gap, max_size, barriers)
        unreadable = [
            i
            for i in range(len(spans))
            if not valid_request([i], spans, max_gap, max_size, barriers)
        ]
        assert list(plan.skipped) == unreadable
        readable = [s for i, s in enumerate(spans) if i not in unreadable]
        expected = brute_force_minimum(readable, max_gap, max_size, barriers)
        assert len(plan.blocks) == expected, (spans, max_gap, max_size, barriers)


def test_overlapping_spans_share_a_request() -> None:
    # A float at HR10, the same registers as two uint16, and a bit of HR11.
    spans = [Span(10, 2), Span(10, 1), Span(11, 1), Span(11, 1), Span(30, 1)]
    plan = plan_blocks(spans, max_gap=8, max_size=125)
    assert [(b.start, b.count) for b in plan.blocks] == [(10, 2), (30, 1)]
    check_plan(plan, spans, 8, 125)


def test_random_overlapping_layouts_are_covered_validly() -> None:
    rng = random.Random(99)
    for _ in range(300):
        sizes = [rng.choice([1, 2, 4, 8]) for _ in range(rng.randint(1, 25))]
        spans = [Span(rng.randrange(60), size) for size in sizes]
        max_gap, max_size = rng.randint(0, 10), rng.randint(8, 30)
        check_plan(plan_blocks(spans, max_gap=max_gap, max_size=max_size), spans, max_gap, max_size)


def test_gap_and_size_limits() -> None:
    spans = [Span(0, 1), Span(9, 1), Span(19, 1)]
    assert len(plan_blocks(spans, max_gap=8, max_size=125).blocks) == 2  # 8 between, then 9
    assert len(plan_blocks(spans, max_gap=9, max_size=125).blocks) == 1
    assert len(plan_blocks(spans, max_gap=9, max_size=19).blocks) == 2
    many = [Span(a, 1) for a in range(300)]
    assert [b.count for b in plan_blocks(many, max_gap=8, max_size=125).blocks] == [125, 125, 50]
    bits = [Span(a, 1) for a in range(0, 4000, 2)]
    assert [b.count for b in plan_blocks(bits, max_gap=32, max_size=2000).blocks] == [1999, 1999]


def test_a_refused_range_is_skipped_and_never_read_across() -> None:
    spans = [Span(0, 1), Span(1, 1), Span(2, 2), Span(6, 1)]
    plan = plan_blocks(spans, max_gap=8, max_size=125, barriers=[(2, 3)])
    assert plan.skipped == (2,)
    assert [(b.start, b.count) for b in plan.blocks] == [(0, 2), (6, 1)]
    # A refused address in a gap splits the block around it.
    plan = plan_blocks([Span(0, 1), Span(6, 1)], max_gap=8, max_size=125, barriers=[(3, 4)])
    assert [(b.start, b.count) for b in plan.blocks] == [(0, 1), (6, 1)]
    # An empty barrier is a boundary: both sides read, never together.
    plan = plan_blocks([Span(0, 2), Span(2, 2)], max_gap=8, max_size=125, barriers=[(2, 2)])
    assert [(b.start, b.count) for b in plan.blocks] == [(0, 2), (2, 2)]


def test_bad_limits_and_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="exceeds the block size"):
        plan_blocks([Span(0, 4)], max_gap=0, max_size=2)
    with pytest.raises(ValueError, match="no addresses"):
        plan_blocks([Span(0, 0)], max_gap=0, max_size=2)
    with pytest.raises(ValueError, match="max_size"):
        plan_blocks([], max_gap=0, max_size=0)
    assert plan_blocks([], max_gap=0, max_size=1).blocks == ()
