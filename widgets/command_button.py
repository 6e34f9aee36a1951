"""Command button: writes a value to its bound tag through a handler the screen layer gives it.

``momentary`` writes True and leaves clearing the bit to the PLC (while the bit reads True the
button shows "pending"); ``set`` writes True, ``reset`` writes False, ``toggle`` writes the
opposite of what the bit reads (and shows latched while it is True), ``value`` writes ``value``.
The widget never imports drivers or the runtime: the screen passes ``set_write_handler``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar, Literal

from pydantic import model_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QPen

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWriter, WidgetExample, WidgetProps, WriterProps
from widgets.quality_look import paint_quality


class CommandProps(WriterProps):
    """Static properties of a command button."""

    text: str
    action: Literal["momentary", "set", "reset", "toggle", "value"] = "momentary"
    value: bool | int | float | str | None = None

    @model_validator(mode="after")
    def _value_given(self) -> CommandProps:
        if self.action == "value" and self.value is None:
            raise ValueError("action 'value' needs a value to write")
        if self.action != "value" and self.value is not None:
            raise ValueError(f"action {self.action!r} writes a fixed value; drop 'value'")
        return self

    def write_value(self, current: Any = None) -> Any:
        """What a click writes (``current``: the bit's value now, for ``toggle``)."""
        if self.action == "value":
            return self.value
        if self.action == "toggle":
            return not bool(current)
        return self.action != "reset"


class CommandButton(HmiWriter):
    """A push button for operator commands; clicks go to the write handler, never block."""

    TYPE_KEY: ClassVar[str] = "command"
    Props: ClassVar[type[WidgetProps]] = CommandProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (120, 48),
        {"text": "START"},
        {"value": (TagMeta("line.start", DataType.BOOL, writable=True), False)},
    )

    props: CommandProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._pressed = False

    def pending(self) -> bool:
        """Momentary bit still set (the PLC has not yet acted) or toggle latched on."""
        if self.props.action not in ("momentary", "toggle") or not self.is_bound("value"):
            return False
        shown = self.shown("value")
        return shown.quality is not Quality.BAD and shown.value is True

    def enabled_for_click(self) -> bool:
        return self.can_write()

    def display_state(self) -> Hashable:
        shown = self.shown("value") if self.is_bound("value") else None
        return (
            self.props.text,
            self.enabled_for_click(),
            self._busy,
            self._pressed,
            self.pending(),
            shown.quality if shown else Quality.GOOD,
            shown.reason if shown else "",
        )

    def click(self) -> None:
        """Perform the command (same as a mouse click)."""
        current = self.tag_value("value")
        if self.props.action == "toggle" and (current is None or current.quality is Quality.BAD):
            return  # toggling an unknown state could switch either way
        self.request_write(self.props.write_value(current.value if current else None))

    # ---- input -----------------------------------------------------------------------------
    def mouse_press(self, pos: QPointF) -> None:
        self._pressed = True
        self.refresh()

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        if self._pressed:
            self._pressed = False
            self.refresh()
            if inside:
                self.click()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
            return True
        return False

    # ---- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        self.paint_cached(painter, (self.display_state(), self.has_focus()), self._paint_now)

    def _paint_now(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        s = self.scale
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        enabled = self.enabled_for_click()
        if self._pressed or self.pending():
            fill, fg = theme.RUNNING_FILL, theme.RUNNING_TEXT
        elif enabled:
            fill, fg = theme.STOPPED_FILL, theme.TEXT
        else:
            fill, fg = theme.PANEL_BG, theme.TEXT_STALE
        edge = theme.TEXT if self.has_focus() else theme.STOPPED_EDGE
        painter.setPen(QPen(edge, max(1.0, 1.5 * s)))
        painter.setBrush(fill)
        painter.drawRoundedRect(r, 4 * s, 4 * s)
        if enabled and not self._pressed:
            painter.setPen(QPen(theme.PANEL_EDGE, max(1.0, 2 * s)))
            y = r.bottom() - 2 * s
            painter.drawLine(QPointF(r.left() + 4 * s, y), QPointF(r.right() - 4 * s, y))
        painter.setPen(fg)
        painter.setFont(theme.font(theme.LABEL_PX + 1, s, bold=True))
        text = f"{self.props.text}…" if self._busy else self.props.text
        painter.drawText(r, int(Qt.AlignmentFlag.AlignCenter), text)
        if self.is_bound("value"):
            paint_quality(painter, r, self.shown("value").quality, s)
