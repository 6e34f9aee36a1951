"""What a trend shows: plain, frozen descriptions the shell builds from saved trend definitions.

``TrendSpec`` holds up to ``MAX_PENS`` ``PenSpec``; a pen without a colour takes the next one of
``PALETTE``: eight calm, mutually distinguishable colours (no alarm red, no warning amber, no
magenta, which the theme keeps for bad data), dark enough to read on the light grey plot.
Pens share a y axis when they name the same ``axis`` key, or, without one, when their units match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hmi_app.core.tagsource import TagMeta, TagSource

MAX_PENS = 8

PALETTE: tuple[str, ...] = (
    "#1f5fa8",  # blue
    "#2e7d4f",  # green
    "#6a4c93",  # violet
    "#1b8a8f",  # teal
    "#8c5a2b",  # brown
    "#3d3d3d",  # charcoal
    "#4f6d1e",  # olive
    "#7a3b5e",  # plum
)


@dataclass(frozen=True, slots=True)
class PenSpec:
    """One trended tag: how it is labelled and drawn, and on which y axis."""

    tag: str
    label: str = ""
    colour: str = ""
    axis: str = ""
    y_min: float | None = None
    y_max: float | None = None
    units: str = ""
    width: int = 2

    def __post_init__(self) -> None:
        if not self.tag:
            raise ValueError("a trend pen needs a tag")
        if self.width < 1:
            raise ValueError(f"pen {self.tag}: width must be at least 1, got {self.width}")
        for name in ("y_min", "y_max"):
            bound = getattr(self, name)
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"pen {self.tag}: {name} must be a finite number")
        if self.y_min is not None and self.y_max is not None and self.y_min >= self.y_max:
            raise ValueError(f"pen {self.tag}: y_min {self.y_min} must be below y_max {self.y_max}")

    @property
    def title(self) -> str:
        """What the legend and the CSV call the pen: its label, else its tag."""
        return self.label or self.tag

    @property
    def axis_key(self) -> str:
        """Pens with equal keys share one y axis: the ``axis`` name, else the units."""
        return f"axis:{self.axis}" if self.axis else f"units:{self.units}"


@dataclass(frozen=True, slots=True)
class TrendSpec:
    """A trend: its title, its pens (1 to ``MAX_PENS``), the live span in seconds, and whether
    it opens live (scrolling) or on the last ``span`` seconds of history."""

    title: str
    pens: tuple[PenSpec, ...]
    span: float = 600
    live: bool = True

    def __post_init__(self) -> None:
        if not self.pens:
            raise ValueError(f"trend {self.title!r} has no pens")
        if len(self.pens) > MAX_PENS:
            raise ValueError(
                f"trend {self.title!r} has {len(self.pens)} pens: at most {MAX_PENS} are allowed"
            )
        if not (math.isfinite(self.span) and self.span > 0):
            raise ValueError(f"trend {self.title!r}: span must be a positive number of seconds")

    def colour_of(self, index: int) -> str:
        """The colour of pen ``index``: its own, else the palette's next unused one."""
        pen = self.pens[index]
        if pen.colour:
            return pen.colour
        taken = {p.colour.lower() for p in self.pens if p.colour}
        free = [c for c in PALETTE if c not in taken] or list(PALETTE)
        auto = [i for i, p in enumerate(self.pens) if not p.colour]
        return free[auto.index(index) % len(free)]

    def axis_groups(self) -> list[list[int]]:
        """Pen indexes per y axis, in order of first appearance."""
        groups: dict[str, list[int]] = {}
        for i, pen in enumerate(self.pens):
            groups.setdefault(pen.axis_key, []).append(i)
        return list(groups.values())


def meta_of(source: TagSource | None, tag: str) -> TagMeta | None:
    """The tag's metadata from a live source (None: no source, or a tag it does not know)."""
    if source is None:
        return None
    try:
        return source.meta(tag)
    except KeyError:
        return None
