"""Snapping a moved or resized rectangle to the grid and to the edges of its neighbours.

Pure geometry in design pixels (no Qt), so it is tested on its own and costs little per mouse move:
the edges of the widgets that stay put are indexed once when a drag starts (``SnapTargets``),
and each step looks up the nearest edge with a binary search.

An edge of the moving rectangle (left, centre or right; top, middle or bottom) snaps to the
nearest edge of any other widget, or of the screen, within ``threshold`` (design pixels: the
caller divides its screen-pixel threshold by the zoom). When no edge is that close, the
rectangle's top-left corner (or the edge being resized) snaps to the grid. The guides to draw
are the lines the snapped rectangle now shares with its neighbours.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from screens.designer.entries import Geometry

Axis = Literal["x", "y"]
Rect = tuple[float, float, float, float]
"""x, y, width, height of a rectangle being dragged (design pixels, not yet rounded)."""
DEFAULT_THRESHOLD_PX = 6
MIN_SIZE = 4
"""The smallest width or height a resize leaves."""


@dataclass(frozen=True)
class Guide:
    """A line to draw while snapping: ``axis`` "x" is a vertical line at x = ``pos`` running
    from ``start`` to ``end`` in y (and "y" a horizontal one), all in design pixels."""

    axis: Axis
    pos: float
    start: int
    end: int


@dataclass(frozen=True)
class Snapped:
    """Where a snapped rectangle ends up and the guides it aligns with."""

    geometry: Geometry
    guides: tuple[Guide, ...] = ()


class _EdgeIndex:
    """Edge positions along one axis, each with the extent (along the other axis) of the
    rectangles that have an edge there, so a guide can span them."""

    def __init__(self, edges: Iterable[tuple[float, int, int]]) -> None:
        spans: dict[float, tuple[int, int]] = {}
        for pos, start, end in edges:
            old = spans.get(pos)
            spans[pos] = (start, end) if old is None else (min(old[0], start), max(old[1], end))
        self.positions = sorted(spans)
        self.spans = spans

    def nearest(self, value: float) -> float | None:
        """The indexed position closest to ``value`` (None when there is none)."""
        positions = self.positions
        if not positions:
            return None
        index = bisect.bisect_left(positions, value)
        best: float | None = None
        for candidate in positions[max(0, index - 1) : index + 1]:
            if best is None or abs(candidate - value) < abs(best - value):
                best = candidate
        return best


class SnapTargets:
    """The edges a moving rectangle may snap to: those of the widgets that stay put, and the
    screen's edges and centre lines when ``screen`` (width, height) is given."""

    def __init__(self, rects: Iterable[Geometry], screen: tuple[int, int] | None = None) -> None:
        xs: list[tuple[float, int, int]] = []
        ys: list[tuple[float, int, int]] = []
        boxes = list(rects)
        if screen is not None:
            boxes.append((0, 0, screen[0], screen[1]))
        for x, y, w, h in boxes:
            for pos in (x, x + w / 2, x + w):
                xs.append((pos, y, y + h))
            for pos in (y, y + h / 2, y + h):
                ys.append((pos, x, x + w))
        self.x = _EdgeIndex(xs)
        self.y = _EdgeIndex(ys)

    def index(self, axis: Axis) -> _EdgeIndex:
        return self.x if axis == "x" else self.y


def _best_shift(edges: Iterable[float], index: _EdgeIndex, threshold: float) -> float | None:
    """The smallest shift that puts one of ``edges`` on an indexed edge, within ``threshold``."""
    best: float | None = None
    for edge in edges:
        target = index.nearest(edge)
        if target is None:
            continue
        shift = target - edge
        if abs(shift) <= threshold and (best is None or abs(shift) < abs(best)):
            best = shift
    return best


def bounds(rects: Sequence[Geometry]) -> Geometry:
    """The smallest rectangle holding every one of ``rects`` (which must not be empty)."""
    if not rects:
        raise ValueError("bounds of no rectangles")
    left = min(r[0] for r in rects)
    top = min(r[1] for r in rects)
    right = max(r[0] + r[2] for r in rects)
    bottom = max(r[1] + r[3] for r in rects)
    return (left, top, right - left, bottom - top)


def _grid(value: float, step: int) -> int:
    return round(value / step) * step if step > 1 else round(value)


def _guides(rect: Geometry, targets: SnapTargets, axes: Iterable[Axis]) -> tuple[Guide, ...]:
    """The lines ``rect`` shares with the targets along ``axes``."""
    x, y, w, h = rect
    found: list[Guide] = []
    for axis in axes:
        index = targets.index(axis)
        if axis == "x":
            edges, lo, hi = (x, x + w / 2, x + w), y, y + h
        else:
            edges, lo, hi = (y, y + h / 2, y + h), x, x + w
        for edge in edges:
            span = index.spans.get(edge)
            if span is not None:
                found.append(Guide(axis, edge, min(lo, span[0]), max(hi, span[1])))
    return tuple(found)


def snap_move(
    rect: Rect,
    targets: SnapTargets | None,
    grid: int,
    threshold: float = DEFAULT_THRESHOLD_PX,
) -> Snapped:
    """``rect`` moved (size kept) so one of its edges lies on a neighbour's edge within
    ``threshold``, else with its top-left corner on the grid (``grid`` <= 1: no grid)."""
    x, y = rect[0], rect[1]
    w, h = round(rect[2]), round(rect[3])
    snapped_axes: list[Axis] = []
    shift_x = _best_shift((x, x + w / 2, x + w), targets.x, threshold) if targets else None
    if shift_x is not None:
        new_x = round(x + shift_x)
        snapped_axes.append("x")
    else:
        new_x = _grid(x, grid)
    shift_y = _best_shift((y, y + h / 2, y + h), targets.y, threshold) if targets else None
    if shift_y is not None:
        new_y = round(y + shift_y)
        snapped_axes.append("y")
    else:
        new_y = _grid(y, grid)
    result = (new_x, new_y, w, h)
    guides = _guides(result, targets, snapped_axes) if targets else ()
    return Snapped(result, guides)


Edges = frozenset[Literal["left", "right", "top", "bottom"]]


def snap_resize(
    rect: Rect,
    moving: Edges,
    targets: SnapTargets | None,
    grid: int,
    threshold: float = DEFAULT_THRESHOLD_PX,
) -> Snapped:
    """``rect`` with its ``moving`` edges snapped (a neighbour's edge within ``threshold``,
    else the grid); the other edges stay where they are. Never smaller than ``MIN_SIZE``."""
    left, top, right, bottom = rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]
    axes: list[Axis] = []

    def snap_edge(value: float, axis: Axis) -> int:
        if targets is not None:
            shift = _best_shift((value,), targets.index(axis), threshold)
            if shift is not None:
                axes.append(axis)
                return round(value + shift)
        return _grid(value, grid)

    if "left" in moving:
        left = min(snap_edge(left, "x"), right - MIN_SIZE)
    if "right" in moving:
        right = max(snap_edge(right, "x"), left + MIN_SIZE)
    if "top" in moving:
        top = min(snap_edge(top, "y"), bottom - MIN_SIZE)
    if "bottom" in moving:
        bottom = max(snap_edge(bottom, "y"), top + MIN_SIZE)
    result = (round(left), round(top), round(right - left), round(bottom - top))
    guides = _guides(result, targets, dict.fromkeys(axes)) if targets else ()
    return Snapped(result, guides)
