"""State indicator and machine/motor symbol: a discrete value mapped to text and an ISA-101 look.

Running is dark grey filled, stopped is an off-white outline; only abnormal states (``warning``)
and alarms (``alarm``) get colour. A value with no entry in ``states`` shows ``? <value>`` in the
stopped look with an amber edge, so a missing mapping is visible but not alarming.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWidget, Shown, WidgetExample, WidgetProps
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour

Style = Literal["running", "stopped", "normal", "warning", "alarm"]

# style -> (fill, edge, text)
LOOKS: dict[str, tuple[QColor, QColor, QColor]] = {
    "running": (theme.RUNNING_FILL, theme.RUNNING_FILL, theme.RUNNING_TEXT),
    "stopped": (theme.STOPPED_FILL, theme.STOPPED_EDGE, theme.TEXT),
    "normal": (theme.PANEL_BG, theme.PANEL_EDGE, theme.TEXT),
    "warning": (theme.WARNING_FILL, theme.WARNING_FILL.darker(140), theme.WARNING_TEXT),
    "alarm": (theme.ALARM_FILL, theme.ALARM_FILL.darker(140), theme.ALARM_TEXT),
    "unknown": (theme.STOPPED_FILL, theme.UNCERTAIN_EDGE, theme.TEXT),
    "bad": (theme.FIELD_BG, theme.BAD_EDGE, theme.TEXT),
}


class StateEntry(WidgetProps):
    """One state: the value that selects it, the text shown and the look."""

    value: bool | int | str
    text: str
    style: Style = "normal"


def default_states() -> list[StateEntry]:
    """RUNNING (dark) for True, STOPPED (outline) for False."""
    return [
        StateEntry(value=True, text="RUNNING", style="running"),
        StateEntry(value=False, text="STOPPED", style="stopped"),
    ]


class StateProps(WidgetProps):
    """Static properties of a state indicator."""

    label: str = Field(default="", description="machine or signal name")
    symbol: Literal["machine", "motor", "pill"] = "pill"
    label_width: int | None = Field(
        default=None, ge=0, description="pill: design px left of the pill; default 45%"
    )
    states: list[StateEntry] = Field(default_factory=default_states)

    @field_validator("states")
    @classmethod
    def _unique(cls, states: list[StateEntry]) -> list[StateEntry]:
        return unique_states(states)


def unique_states(states: list[StateEntry]) -> list[StateEntry]:
    """``states`` unchanged; ValueError when a value is listed twice (validators share it)."""
    seen: list[bool | int | str] = []
    for entry in states:
        if any(same_value(entry.value, other) for other in seen):
            raise ValueError(f"state value {entry.value!r} is listed twice")
        seen.append(entry.value)
    return states


def same_value(a: object, b: object) -> bool:
    """Whether a state's value matches a tag value: a string never equals a number, True == 1."""
    if isinstance(a, str) != isinstance(b, str):
        return False
    return a == b


class StateIndicator(HmiWidget):
    """Maps a bool/integer/string tag to a labelled state with an ISA-101 colour."""

    TYPE_KEY: ClassVar[str] = "state"
    Props: ClassVar[type[WidgetProps]] = StateProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (160, 72),
        {"label": "Filler", "symbol": "machine"},
        {"value": (TagMeta("line.running", DataType.BOOL), True)},
    )

    props: StateProps

    def state(self) -> tuple[str, str, Shown | None]:
        """(text, style, shown) for the current value."""
        if not self.is_bound("value"):
            first = self.props.states[0] if self.props.states else None
            return (first.text, first.style, None) if first else ("", "stopped", None)
        shown = self.shown("value")
        if shown.quality is Quality.BAD:
            return BAD_PLACEHOLDER, "bad", shown
        for entry in self.props.states:
            if same_value(entry.value, shown.value):
                return entry.text, entry.style, shown
        return f"? {shown.value}", "unknown", shown

    def display_state(self) -> Hashable:
        text, style, shown = self.state()
        quality = shown.quality if shown else Quality.GOOD
        return text, style, quality, shown.reason if shown else ""

    def paint(self, painter: QPainter) -> None:
        self.paint_cached(painter, self._on_screen, self._paint_now)

    def _paint_now(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text, style, shown = self.state()
        quality = shown.quality if shown else Quality.GOOD
        fill, edge, fg = LOOKS[style]
        fg = text_colour(quality, fg) if style != "running" else fg
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        if self.props.symbol == "machine":
            self._paint_machine(painter, rect, text, fill, edge, fg, quality)
        elif self.props.symbol == "motor":
            self._paint_motor(painter, rect, text, fill, edge, fg, quality)
        else:
            self._paint_pill(painter, rect, text, fill, edge, fg, quality)

    def _box(self, painter: QPainter, rect: QRectF, fill: QColor, edge: QColor, q: Quality) -> None:
        pen = QPen(edge, max(1.0, 2 * self.scale))
        if q is Quality.STALE:
            fill = QColor(fill).lighter(115) if fill.lightness() < 128 else fill
        painter.setPen(pen)
        painter.setBrush(fill)
        radius = 4 * self.scale
        painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), radius, radius)

    def _paint_machine(
        self,
        painter: QPainter,
        rect: QRectF,
        text: str,
        fill: QColor,
        edge: QColor,
        fg: QColor,
        quality: Quality,
    ) -> None:
        s = self.scale
        self._box(painter, rect, fill, edge, quality)
        painter.setPen(fg)
        if self.props.label:
            painter.setFont(theme.font(theme.LABEL_PX + 1, s, bold=True))
            top = QRectF(rect.left(), rect.top() + 4 * s, rect.width(), rect.height() * 0.5 - 4 * s)
            painter.drawText(top, int(Qt.AlignmentFlag.AlignCenter), self.props.label)
            bottom = QRectF(rect.left(), rect.center().y(), rect.width(), rect.height() * 0.5)
        else:
            bottom = rect
        painter.setFont(theme.font(theme.LABEL_PX, s))
        painter.drawText(bottom, int(Qt.AlignmentFlag.AlignCenter), text)
        paint_quality(painter, rect, quality, s)

    def _paint_motor(
        self,
        painter: QPainter,
        rect: QRectF,
        text: str,
        fill: QColor,
        edge: QColor,
        fg: QColor,
        quality: Quality,
    ) -> None:
        s = self.scale
        d = min(rect.height(), rect.width() * 0.4)
        circle = QRectF(rect.left() + 1, rect.center().y() - d / 2, d - 2, d - 2)
        painter.setPen(QPen(edge, max(1.0, 2 * s)))
        painter.setBrush(fill)
        painter.drawEllipse(circle)
        painter.setPen(fg)
        painter.setFont(theme.font(d * 0.45 / max(s, 1e-6), s, bold=True))
        painter.drawText(circle, int(Qt.AlignmentFlag.AlignCenter), "M")
        text_rect = QRectF(circle.right() + 6 * s, rect.top(), rect.right() - circle.right(), 0)
        text_rect.setBottom(rect.bottom())
        painter.setPen(text_colour(quality))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if self.props.label:
            painter.setFont(theme.font(theme.CAPTION_PX, s))
            upper = QRectF(text_rect.topLeft(), QPointF(text_rect.right(), text_rect.center().y()))
            painter.drawText(upper, int(align), self.props.label)
            text_rect.setTop(text_rect.center().y())
        painter.setFont(theme.font(theme.LABEL_PX, s, bold=True))
        painter.drawText(text_rect, int(align), text)
        paint_quality(painter, circle, quality, s)

    def _paint_pill(
        self,
        painter: QPainter,
        rect: QRectF,
        text: str,
        fill: QColor,
        edge: QColor,
        fg: QColor,
        quality: Quality,
    ) -> None:
        s = self.scale
        box = rect
        if self.props.label:
            label_w = (
                self.props.label_width * s
                if self.props.label_width is not None
                else rect.width() * 0.45
            )
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(
                QRectF(rect.left(), rect.top(), label_w - 6 * s, rect.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.label,
            )
            box = rect.adjusted(label_w, 0, 0, 0)
        self._box(painter, box, fill, edge, quality)
        painter.setPen(fg)
        painter.setFont(theme.font(theme.LABEL_PX + 1, s, bold=True))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        paint_quality(painter, box, quality, s)
