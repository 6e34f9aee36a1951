"""What the designer edits and reports: one widget as written in a screen file, one problem found.

Plain immutable records shared by the document (which owns and edits them), the canvas (which
draws and moves them), the inspector (which shows their properties) and the save check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Geometry = tuple[int, int, int, int]
"""x, y, width, height in design pixels."""


@dataclass(frozen=True)
class WidgetEntry:
    """One widget of a screen file: id, type key, geometry, static props, bindings, click action.

    ``group`` is the designer group the widget belongs to (None: not grouped).
    """

    id: str
    type: str
    geometry: Geometry
    props: Mapping[str, Any] = field(default_factory=dict)
    bind: Mapping[str, str] = field(default_factory=dict)
    on_click: Mapping[str, Any] | None = None
    group: str | None = None

    def moved_to(self, x: int, y: int) -> WidgetEntry:
        """The same widget at another position."""
        return replace(self, geometry=(x, y, self.geometry[2], self.geometry[3]))

    def with_geometry(self, geometry: Geometry) -> WidgetEntry:
        """The same widget with another geometry."""
        return replace(self, geometry=geometry)


@dataclass(frozen=True)
class DesignIssue:
    """A problem found before saving; ``widget_id`` lets the designer jump to the widget."""

    widget_id: str | None
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        where = f"{self.widget_id}: " if self.widget_id else ""
        return f"{self.severity}: {where}{self.message}"
