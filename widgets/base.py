"""The base every HMI widget builds on: bound values, quality, tooltips and scaling.

A widget here is a light *item*, not a QWidget: the canvas that hosts it (``widgets.canvas``)
paints every item of a screen itself, routes mouse clicks and shows tooltips. One QWidget per
value costs about twice the CPU at 10,000 updates a second (Qt's per-widget paint machinery), and
an operator screen has hundreds of values.

A widget keeps the newest ``TagValue`` of each bound property. After a value arrives it computes
what it would show (``display_state``); only when that differs from what is on screen does it ask
its host to repaint its rectangle, so a stream of unchanged values costs no painting. The tooltip
is built only when the mouse rests on the widget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field
from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QWidget

from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from widgets.quality_look import BAD_PLACEHOLDER

NO_VALUE_REASON = "no value yet"


class WidgetProps(BaseModel):
    """Base of every widget's static properties: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class WriterProps(WidgetProps):
    """Static properties every control that writes a tag has."""

    confirm: str | None = Field(
        default=None,
        description="ask this before writing, e.g. 'Start line 1?' ({value} is the new value)",
    )


@dataclass(frozen=True)
class WidgetExample:
    """A sensible instance of a widget: the designer's palette drops it, the contract test
    renders it in every quality."""

    size: tuple[int, int]
    props: dict[str, Any] = field(default_factory=dict)
    values: dict[str, tuple[TagMeta, Any]] = field(default_factory=dict)
    """Bindable property -> (metadata of an example tag, a good value)."""


class Shown(NamedTuple):
    """What one bound property shows: its text, its quality and why (a named tuple: it is made
    on every value change)."""

    text: str
    quality: Quality
    reason: str = ""
    value: Any = None


class ItemHost(Protocol):
    """What a widget needs from the canvas that paints it."""

    def update_item(self, item: HmiWidget) -> None:
        """Repaint ``item``'s rectangle soon."""
        ...

    def focus_item(self) -> HmiWidget | None:
        """The widget that gets key presses."""
        ...

    def popup_parent(self) -> QWidget:
        """The QWidget dialogs opened by a widget belong to."""
        ...


class HmiWidget:
    """A widget that displays (and maybe writes) tag values. Subclasses declare the class vars.

    Subclasses paint in ``paint`` with the painter's origin at their top-left corner, sized by
    ``rect()``; interactive ones set ``TAKES_MOUSE`` and override ``mouse_press`` /
    ``mouse_release`` / ``key_press``.
    """

    TYPE_KEY: ClassVar[str] = ""
    Props: ClassVar[type[WidgetProps]] = WidgetProps
    BINDABLE: ClassVar[tuple[str, ...]] = ()
    TAKES_MOUSE: ClassVar[bool] = False
    EXAMPLE: ClassVar[WidgetExample | None] = None

    def __init__(self, props: WidgetProps) -> None:
        self.props = props
        self.scale = 1.0
        self.host: ItemHost | None = None
        self.visible = True
        self.click_handler: Callable[[], None] | None = None
        """Set by the screen for an ``on_click`` action (open a faceplate, navigate)."""
        self._geometry = QRect()
        self._metas: dict[str, TagMeta] = {}
        self._values: dict[str, TagValue | None] = {}
        self._on_screen: Hashable = object()
        self._paint_cache: dict[Hashable, QPixmap] = {}
        self.repaint_requests = 0
        """How often the widget asked to be repainted (tests use it to prove unchanged values
        cost nothing)."""

    # ---- geometry (widget pixels, in the host's coordinates) ---------------------------------
    def geometry(self) -> QRect:
        return QRect(self._geometry)

    def set_geometry(self, rect: QRect) -> None:
        self._geometry = QRect(rect)

    def rect(self) -> QRect:
        """The widget's own area, origin at its top-left corner (what ``paint`` fills)."""
        return QRect(0, 0, self._geometry.width(), self._geometry.height())

    def width(self) -> int:
        return self._geometry.width()

    def height(self) -> int:
        return self._geometry.height()

    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self._repaint()

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
            text = TagMeta(meta.name, meta.data_type, display_format=display_format).format_value(
                value.value
            )
        else:
            text = meta.format_value(value.value)
        return Shown(text, value.quality, value.reason, value.value)

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
            self.scale_changed()
            self._repaint()

    def scale_changed(self) -> None:
        """Hook for widgets that cache drawings made at the old scale."""

    def set_resource_dir(self, folder: Path) -> None:
        """The folder relative file names in props (images) are found in: the screen's."""

    def display_state(self) -> Hashable:
        """Everything the widget paints that depends on data; equal states paint the same."""
        return tuple(self.shown(prop) for prop in self.BINDABLE if prop in self._metas)

    def refresh(self) -> None:
        """Repaint only if what the widget shows changed."""
        state = self.display_state()
        if state == self._on_screen:
            return
        self._on_screen = state
        self.repaint_requests += 1
        self._repaint()

    def update(self) -> None:
        """Repaint now-ish regardless of the data (e.g. pressed look, focus)."""
        self._on_screen = object()
        self.refresh()

    def _repaint(self) -> None:
        if self.host is not None:
            self.host.update_item(self)

    def paint(self, painter: QPainter) -> None:
        """Draw the widget; the painter's origin is the widget's top-left corner."""

    def paint_cached(
        self, painter: QPainter, key: Hashable, draw: Callable[[QPainter], None], limit: int = 8
    ) -> None:
        """Draw what ``draw`` paints for ``key`` from a pixmap made once per key, size and scale.

        For everything that looks the same every time its key (a display state, or the static
        part of a widget) is the same: drawing a pixmap costs a fraction of drawing shapes and
        text. The widget keeps its last ``limit`` pixmaps.
        """
        ratio = painter.device().devicePixelRatioF()
        width, height = self._geometry.width(), self._geometry.height()
        full_key = (key, width, height, self.scale, ratio)
        pixmap = self._paint_cache.get(full_key)
        if pixmap is None:
            pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            inner = QPainter(pixmap)
            draw(inner)
            inner.end()
            if len(self._paint_cache) >= limit:
                del self._paint_cache[next(iter(self._paint_cache))]
            self._paint_cache[full_key] = pixmap
        painter.drawPixmap(0, 0, pixmap)

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

    # ---- input (only for widgets that take the mouse) ----------------------------------------
    def takes_mouse(self) -> bool:
        """Whether clicks on the widget go to it (else they fall through to what is below)."""
        return self.TAKES_MOUSE or self.click_handler is not None

    def cursor(self) -> Qt.CursorShape:
        return (
            Qt.CursorShape.PointingHandCursor if self.takes_mouse() else Qt.CursorShape.ArrowCursor
        )

    def has_focus(self) -> bool:
        return self.host is not None and self.host.focus_item() is self

    def mouse_press(self, pos: QPointF) -> None:
        """Left button pressed at ``pos`` (widget coordinates)."""

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        """Left button released; ``inside`` when still over the widget (that is a click)."""
        if inside and self.click_handler is not None:
            self.click_handler()

    def key_press(self, event: QKeyEvent) -> bool:
        """A key while the widget has the focus; True when it used the key."""
        activate = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if event.key() in activate and self.click_handler is not None:
            self.click_handler()
            return True
        return False

    def popup_parent(self) -> QWidget | None:
        """Where a dialog opened by this widget belongs (None when not on a canvas)."""
        return self.host.popup_parent() if self.host is not None else None


WriteHandler = Callable[[Any], None]


class HmiWriter(HmiWidget):
    """A control that writes its bound ``WRITE_PROP`` tag through a handler the screen gives it.

    Widgets never import drivers or the runtime: the screen passes ``set_write_handler`` (which
    writes without blocking, asks the ``confirm`` question first and shows the outcome next to the
    control). Without a handler the control shows disabled.
    """

    WRITE_PROP: ClassVar[str] = "value"
    TAKES_MOUSE: ClassVar[bool] = True

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._handler: WriteHandler | None = None
        self._busy = False

    def set_write_handler(self, handler: WriteHandler | None) -> None:
        """Who performs the write; without one the control is shown disabled."""
        self._handler = handler
        self.update()

    def set_busy(self, busy: bool) -> None:
        """True while a write is in flight (the control ignores input meanwhile)."""
        self._busy = busy
        self.update()

    @property
    def busy(self) -> bool:
        return self._busy

    def can_write(self) -> bool:
        return self._handler is not None and not self._busy

    def request_write(self, value: Any) -> bool:
        """Hand ``value`` to the write handler; False when the control cannot write now."""
        if not self.can_write() or self._handler is None:
            return False
        self._handler(value)
        return True

    def confirm_question(self) -> str | None:
        """The question to ask before a write, if the control has one."""
        return self.props.confirm if isinstance(self.props, WriterProps) else None
