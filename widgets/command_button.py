"""Command button: writes a value to its bound tag through a handler the screen layer gives it.

``momentary`` writes True and leaves clearing the bit to the PLC (while the bit reads True the
button shows "pending"); ``set`` writes True, ``reset`` writes False, ``value`` writes ``value``.
The widget never imports drivers or the runtime: the screen passes ``set_write_handler``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Literal

from pydantic import model_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QPen

from hmi_app.core.quality import Quality
from widgets import theme
from widgets.base import HmiWidget, WidgetProps
from widgets.quality_look import paint_quality

WriteHandler = Callable[[Any], None]


class CommandProps(WidgetProps):
    """Static properties of a command button."""

    text: str
    action: Literal["momentary", "set", "reset", "value"] = "momentary"
    value: bool | int | float | str | None = None

    @model_validator(mode="after")
    def _value_given(self) -> CommandProps:
        if self.action == "value" and self.value is None:
            raise ValueError("action 'value' needs a value to write")
        if self.action != "value" and self.value is not None:
            raise ValueError(f"action {self.action!r} writes a fixed value; drop 'value'")
        return self

    def write_value(self) -> Any:
        if self.action == "value":
            return self.value
        return self.action != "reset"


class CommandButton(HmiWidget):
    """A push button for operator commands; clicks go to the write handler, never block."""

    TYPE_KEY: ClassVar[str] = "command"
    Props: ClassVar[type[WidgetProps]] = CommandProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    TAKES_MOUSE: ClassVar[bool] = True

    props: CommandProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._handler: WriteHandler | None = None
        self._pressed = False
        self._busy = False

    def set_write_handler(self, handler: WriteHandler | None) -> None:
        """Who performs the write; without one the button is shown disabled."""
        self._handler = handler
        self.refresh()

    def set_busy(self, busy: bool) -> None:
        """True while a write is in flight (the button ignores clicks meanwhile)."""
        self._busy = busy
        self.refresh()

    def pending(self) -> bool:
        """Momentary bit still set: the PLC has not yet acted on the command."""
        if self.props.action != "momentary" or not self.is_bound("value"):
            return False
        shown = self.shown("value")
        return shown.quality is not Quality.BAD and shown.value is True

    def enabled_for_click(self) -> bool:
        return self._handler is not None and not self._busy

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
        if self.enabled_for_click() and self._handler is not None:
            self._handler(self.props.write_value())

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
