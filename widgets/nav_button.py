"""Navigation button: a calm button with an arrow that takes the operator to another screen.

The button does not navigate by itself (widgets know nothing of screens): it names its target
(``target_screen()``) and a click, Enter or Space calls ``click_handler``, which the screen
renderer sets to go there. Until a handler is set the button is drawn disabled.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps


class NavProps(WidgetProps):
    """Static properties of a navigation button."""

    text: str = Field(description="what the operator reads, e.g. 'Filler'")
    screen: str = Field(description="name of the screen a click opens")
    icon: str | None = Field(
        default=None, max_length=2, description="a glyph drawn before the text, e.g. '⚙'"
    )
    arrow: Literal["right", "left", "none"] = Field(
        default="right", description="'left' for a way back: the arrow then comes first"
    )

    @field_validator("screen")
    @classmethod
    def _named(cls, screen: str) -> str:
        if not screen.strip():
            raise ValueError("a navigation button needs the name of a screen")
        return screen.strip()


class NavButton(HmiWidget):
    """Goes to ``screen`` when clicked, through the ``click_handler`` the renderer sets."""

    TYPE_KEY: ClassVar[str] = "nav"
    Props: ClassVar[type[WidgetProps]] = NavProps
    BINDABLE: ClassVar[tuple[str, ...]] = ()
    TAKES_MOUSE: ClassVar[bool] = True
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (180, 48), {"text": "Filler", "screen": "filler"}
    )

    props: NavProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._pressed = False

    def target_screen(self) -> str:
        """The name of the screen this button leads to."""
        return self.props.screen

    def enabled(self) -> bool:
        return self.click_handler is not None

    def display_state(self) -> Hashable:
        return self.enabled(), self._pressed, self.has_focus()

    def tooltip_text(self) -> str:
        if not self.enabled():
            return f"screen {self.props.screen} (navigation not available here)"
        return f"go to screen {self.props.screen}"

    # ---- input -----------------------------------------------------------------------------
    def mouse_press(self, pos: QPointF) -> None:
        if self.enabled():
            self._pressed = True
            self.refresh()

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        was_pressed, self._pressed = self._pressed, False
        self.refresh()
        if was_pressed and inside and self.click_handler is not None:
            self.click_handler()

    # ---- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        s = self.scale
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        enabled = self.enabled()
        if self._pressed:
            fill, fg, muted = theme.RUNNING_FILL, theme.RUNNING_TEXT, theme.RUNNING_TEXT
        elif enabled:
            fill, fg, muted = theme.STOPPED_FILL, theme.TEXT, theme.TEXT_MUTED
        else:
            fill, fg, muted = theme.PANEL_BG, theme.TEXT_STALE, theme.TEXT_STALE
        focus = self.has_focus() and enabled
        edge = theme.TEXT if focus else (theme.STOPPED_EDGE if enabled else theme.PANEL_EDGE)
        painter.setPen(QPen(edge, max(1.0, (2.5 if focus else 1.5) * s)))
        painter.setBrush(fill)
        painter.drawRoundedRect(r, 4 * s, 4 * s)
        if enabled and not self._pressed:
            painter.setPen(QPen(theme.PANEL_EDGE, max(1.0, 2 * s)))
            y = r.bottom() - 2 * s
            painter.drawLine(QPointF(r.left() + 4 * s, y), QPointF(r.right() - 4 * s, y))

        pad = 12 * s
        arrow_w = 10 * s
        content = r.adjusted(pad, 0, -pad, 0)
        if self.props.arrow == "right":
            paint_arrow(
                painter,
                QPointF(content.right() - arrow_w / 2, r.center().y()),
                arrow_w,
                muted,
                left=False,
            )
            content.setRight(content.right() - arrow_w - 8 * s)
        elif self.props.arrow == "left":
            paint_arrow(
                painter,
                QPointF(content.left() + arrow_w / 2, r.center().y()),
                arrow_w,
                muted,
                left=True,
            )
            content.setLeft(content.left() + arrow_w + 10 * s)
        if self.props.icon:
            icon_font = theme.font(theme.VALUE_PX, s)
            icon_w = theme.metrics(icon_font).horizontalAdvance(self.props.icon)
            painter.setFont(icon_font)
            painter.setPen(muted)
            painter.drawText(
                QRectF(content.left(), r.top(), icon_w, r.height()),
                int(Qt.AlignmentFlag.AlignCenter),
                self.props.icon,
            )
            content.setLeft(content.left() + icon_w + 8 * s)
        font = theme.font(theme.LABEL_PX + 1, s, bold=True)
        painter.setFont(font)
        painter.setPen(fg)
        text = theme.metrics(font).elidedText(
            self.props.text, Qt.TextElideMode.ElideRight, max(0.0, content.width())
        )
        painter.drawText(
            content, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text
        )


def paint_arrow(
    painter: QPainter, centre: QPointF, size: float, colour: QColor, *, left: bool
) -> None:
    """A chevron ``size`` pixels wide pointing right (or ``left``)."""
    pen = QPen(colour, max(1.5, size / 4.5))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    half = size / 2
    tip, back = (-half / 1.2, half / 1.2) if left else (half / 1.2, -half / 1.2)
    path = QPainterPath()
    path.moveTo(centre.x() + back, centre.y() - half * 1.1)
    path.lineTo(centre.x() + tip, centre.y())
    path.lineTo(centre.x() + back, centre.y() + half * 1.1)
    painter.drawPath(path)
