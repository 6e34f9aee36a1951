"""The base every HMI widget builds on: bound values, quality, tooltips and scaling.

A widget keeps the newest ``TagValue`` of each bound property. After a value arrives it computes
what it would show (``display_state``); only when that differs from what is on screen does it ask
Qt to repaint, so a stream of unchanged values costs no painting.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from PySide6.QtWidgets import QWidget

from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets.quality_look import BAD_PLACEHOLDER

NO_VALUE_REASON = "no value yet"


class WidgetProps(BaseModel):
    """Base of every widget's static properties: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Shown:
    """What one bound property shows: its text, its quality and why."""

    text: str
    quality: Quality
    reason: str = ""
    value: Any = None


class HmiWidget(QWidget):
    """A widget that displays (and maybe writes) tag values. Subclasses declare the class vars."""

    TYPE_KEY: ClassVar[str] = ""
    Props: ClassVar[type[WidgetProps]] = WidgetProps
    BINDABLE: ClassVar[tuple[str, ...]] = ()

    def __init__(self, props: WidgetProps, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.props = props
        self.scale = 1.0
        self._metas: dict[str, TagMeta] = {}
        self._values: dict[str, TagValue | None] = {}
        self._on_screen: Hashable = object()
        self.repaint_requests = 0
        """How often the widget asked Qt to repaint (tests use it to prove unchanged values cost
        nothing)."""

    # ---- binding ---------------------------------------------------------------------------
    def bind_meta(self, prop: str, meta: TagMeta) -> None:
        """Tell the widget which tag feeds ``prop``; its value is unknown until ``apply``."""
        if prop not in self.BINDABLE:
            raise KeyError(f"{self.TYPE_KEY} has no bindable property {prop!r}")
        self._metas[prop] = meta
        self._values.setdefault(prop, None)
        self.refresh()

    def apply(self, prop: str, value: TagValue | None) -> None:
        """A new value (or None: unknown) for the bound property ``prop``."""
        self._values[prop] = value
        self.refresh()

    def is_bound(self, prop: str) -> bool:
        return prop in self._metas

    def meta(self, prop: str) -> TagMeta | None:
        return self._metas.get(prop)

    def tag_value(self, prop: str) -> TagValue | None:
        return self._values.get(prop)

    def shown(self, prop: str, display_format: str | None = None) -> Shown:
        """Text and quality of a bound property; BAD and missing values show the placeholder."""
        meta = self._metas[prop]
        value = self._values.get(prop)
        if value is None:
            return Shown(BAD_PLACEHOLDER, Quality.BAD, NO_VALUE_REASON)
        if value.quality is Quality.BAD:
            return Shown(BAD_PLACEHOLDER, Quality.BAD, value.reason, value.value)
        if display_format:
            meta = TagMeta(meta.name, meta.data_type, display_format=display_format)
        return Shown(meta.format_value(value.value), value.quality, value.reason, value.value)

    def worst_quality(self) -> Quality:
        """The worst quality over the bound properties (GOOD when nothing is bound)."""
        worst = Quality.GOOD
        for prop in self._metas:
            worst = max(worst, self.shown(prop).quality)
        return worst

    # ---- display ---------------------------------------------------------------------------
    def set_scale(self, scale: float) -> None:
        """Screen scale factor (1.0 at the design size): fonts and pens follow it."""
        if scale != self.scale:
            self.scale = scale
            self.update()

    def display_state(self) -> Hashable:
        """Everything the widget paints that depends on data; equal states paint the same."""
        return tuple(self.shown(prop) for prop in self.BINDABLE if prop in self._metas)

    def refresh(self) -> None:
        """Repaint and retitle only if what the widget shows changed."""
        state = self.display_state()
        if state == self._on_screen:
            return
        self._on_screen = state
        self.repaint_requests += 1
        self.update()
        tooltip = self.tooltip_text()
        if tooltip != self.toolTip():
            self.setToolTip(tooltip)

    def tooltip_text(self) -> str:
        """Tag names, descriptions and, for anything not good, the quality and its reason."""
        lines: list[str] = []
        for prop in self.BINDABLE:
            meta = self._metas.get(prop)
            if meta is None:
                continue
            shown = self.shown(prop)
            head = meta.name if len(self._metas) == 1 else f"{prop}: {meta.name}"
            if meta.description:
                head += f" - {meta.description}"
            lines.append(head)
            if shown.quality is not Quality.GOOD:
                line = f"quality {shown.quality.label.upper()}"
                if shown.reason:
                    line += f": {shown.reason}"
                lines.append(line)
                value = self._values.get(prop)
                if value is not None and shown.quality is Quality.STALE:
                    stamp = time.strftime("%H:%M:%S", time.localtime(value.source_ts))
                    lines.append(f"last update {stamp}")
        return "\n".join(lines)
