"""Multi-state selector: the operator sets a mode (AUTO / MANUAL / OFF) or any one of a few values.

Two layouts. ``popup`` shows the current state in a field with a chevron; a click (or Enter /
Space) opens the choice popup (``widgets.choice_popup``) and the chosen state is written.
``buttons`` draws the states as a segmented row, the current one dark (selected); clicking
another segment writes it at once (Enter / Space opens the popup, so the keyboard can choose too).
Choosing the state the tag already reads (GOOD) writes nothing: there is nothing to change, and a
``confirm`` question for no change would only train operators to say yes.

Like every writer it shows disabled (no chevron, greyed segments) when it cannot write: no write
handler, a read-only tag, a BAD value or a write in flight; the tooltip says which.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar, Literal

import shiboken6
from pydantic import Field, field_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QDialog

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import HmiWriter, WidgetExample, WidgetProps, WriterProps
from widgets.choice_popup import open_choices
from widgets.entry import paint_edit_field, why_not_writable
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour
from widgets.state_indicator import LOOKS, StateEntry, same_value, unique_states

CHEVRON_PX = 28  # design px of the chevron segment of the popup layout
NO_STATE = -1


class SelectorProps(WriterProps):
    """Static properties of a multi-state selector."""

    label: str = Field(default="", description="what is selected, e.g. 'Mode'")
    label_width: int | None = Field(
        default=None, ge=0, description="design px; default 45% (buttons: the label's width)"
    )
    states: list[StateEntry] = Field(
        description="the choices: value written, text shown, style (as the state indicator's)"
    )
    layout: Literal["popup", "buttons"] = Field(
        default="popup", description="'buttons': a segmented row, one click writes"
    )
    title: str | None = Field(default=None, description="popup title; default: the label")

    @field_validator("states")
    @classmethod
    def _usable(cls, states: list[StateEntry]) -> list[StateEntry]:
        if len(states) < 2:
            raise ValueError("a selector needs at least two states")
        return unique_states(states)


class Selector(HmiWriter):
    """Shows which of a few states a tag is in and writes the one the operator picks."""

    TYPE_KEY: ClassVar[str] = "selector"
    Props: ClassVar[type[WidgetProps]] = SelectorProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (300, 44),
        {
            "label": "Mode",
            "states": [
                {"value": 0, "text": "OFF"},
                {"value": 1, "text": "MANUAL"},
                {"value": 2, "text": "AUTO"},
            ],
        },
        {"value": (TagMeta("line.mode", DataType.INT16, writable=True), 2)},
    )

    props: SelectorProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._pressed = NO_STATE
        self._dialog: QDialog | None = None

    # ---- state -----------------------------------------------------------------------------
    def current_index(self) -> int:
        """Index of the state the tag reads, ``NO_STATE`` when unknown, BAD or not listed."""
        if not self.is_bound("value"):
            return NO_STATE
        shown = self.shown("value")
        if shown.quality is Quality.BAD:
            return NO_STATE
        for index, entry in enumerate(self.props.states):
            if same_value(entry.value, shown.value):
                return index
        return NO_STATE

    def quality(self) -> Quality:
        return self.shown("value").quality if self.is_bound("value") else Quality.GOOD

    def current_text(self) -> tuple[str, str]:
        """(text, style) of the field in the popup layout."""
        if not self.is_bound("value"):
            return "", "normal"
        shown = self.shown("value")
        if shown.quality is Quality.BAD:
            return BAD_PLACEHOLDER, "bad"
        index = self.current_index()
        if index == NO_STATE:
            return f"? {shown.value}", "unknown"
        entry = self.props.states[index]
        return entry.text, entry.style

    def enabled(self) -> bool:
        return not why_not_writable(self)

    def display_state(self) -> Hashable:
        shown = self.shown("value") if self.is_bound("value") else None
        return (
            self.current_text(),
            self.current_index(),
            shown.quality if shown else Quality.GOOD,
            shown.reason if shown else "",
            self.enabled(),
            self._pressed,
            self.has_focus(),
        )

    def tooltip_text(self) -> str:
        text = super().tooltip_text()
        if not self.is_bound("value"):
            return text
        why = why_not_writable(self)
        if why:
            return f"{text}\nread-only: {why}"
        if self.current_index() == NO_STATE and self.quality() is not Quality.BAD:
            text += f"\nvalue {self.shown('value').value!r} is none of the states"
        return f"{text}\ntouch to choose"

    # ---- writing ---------------------------------------------------------------------------
    def choose(self, value: Any) -> bool:
        """Write ``value`` unless the tag already reads it; False when nothing was written."""
        current = self.tag_value("value")
        if (
            current is not None
            and current.quality is Quality.GOOD
            and same_value(current.value, value)
        ):
            return False
        return self.request_write(value)

    def popup(self) -> QDialog | None:
        """The choice popup this selector opened, while it is open."""
        if self._dialog is not None and not shiboken6.isValid(self._dialog):
            self._dialog = None
        return self._dialog

    def open_popup(self) -> QDialog | None:
        """Open the choice popup if the selector can write now; returns it."""
        if not self.enabled() or self.popup() is not None:
            return self.popup()
        meta = self.meta("value")
        assert meta is not None
        title = self.props.title or self.props.label or meta.description or meta.name
        index = self.current_index()
        current = self.props.states[index].value if index != NO_STATE else None
        dialog = open_choices(
            self.popup_parent(),
            title,
            [(entry.value, entry.text) for entry in self.props.states],
            current,
            self._chosen,
            subtitle=meta.name if meta.name != title else "",
            scale=self.scale,
        )
        dialog.finished.connect(self._closed)
        self._dialog = dialog
        return dialog

    def _chosen(self, value: object) -> None:
        self.choose(value)

    def _closed(self, _result: int) -> None:
        self._dialog = None

    # ---- input -----------------------------------------------------------------------------
    def segment_at(self, pos: QPointF) -> int:
        """Index of the button under ``pos`` (buttons layout), else ``NO_STATE``."""
        for index, rect in enumerate(self.segments()):
            if rect.contains(pos):
                return index
        return NO_STATE

    def mouse_press(self, pos: QPointF) -> None:
        if not self.enabled():
            return
        if self.props.layout == "buttons":
            self._pressed = self.segment_at(pos)
        else:  # the label too: a bigger target for a finger, as the entry's
            self._pressed = 0
        self.refresh()

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        pressed, self._pressed = self._pressed, NO_STATE
        self.refresh()
        if pressed == NO_STATE or not inside or not self.enabled():
            return
        if self.props.layout == "popup":
            self.open_popup()
        elif self.segment_at(pos) == pressed:
            self.choose(self.props.states[pressed].value)

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_popup()
            return True
        return False

    # ---- geometry --------------------------------------------------------------------------
    def box_rect(self) -> QRectF:
        full = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if not self.props.label:
            return full
        if self.props.label_width is not None:
            label_w = self.props.label_width * self.scale
        elif self.props.layout == "buttons":  # the buttons need the room more than a column does
            label_font = theme.font(theme.LABEL_PX, self.scale)
            label_w = theme.metrics(label_font).horizontalAdvance(self.props.label)
            label_w = min(full.width() * 0.45, label_w + 12 * self.scale)
        else:
            label_w = full.width() * 0.45  # as the numeric display's, so a column lines up
        return full.adjusted(label_w, 0, 0, 0)

    def segments(self) -> list[QRectF]:
        """The buttons of the buttons layout, left to right (empty for the popup layout)."""
        if self.props.layout != "buttons":
            return []
        box = self.box_rect()
        count = len(self.props.states)
        width = box.width() / count
        return [
            QRectF(box.left() + i * width, box.top(), width, box.height()) for i in range(count)
        ]

    # ---- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        s = self.scale
        box = self.box_rect()
        if self.props.label:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.LABEL_PX, s))
            painter.drawText(
                QRectF(0, 0, box.left() - 6 * s, self.height()),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.label,
            )
        if self.props.layout == "buttons":
            self._paint_buttons(painter, box)
        else:
            self._paint_popup_field(painter, box)
        paint_quality(painter, box, self.quality(), s, badge="left")

    def _paint_popup_field(self, painter: QPainter, box: QRectF) -> None:
        s = self.scale
        text, style = self.current_text()
        quality = self.quality()
        enabled = self.enabled()
        fill, edge, fg = LOOKS[style]
        radius = 3 * s
        if style in ("normal", "stopped") and enabled:
            paint_edit_field(painter, box, s, pressed=self._pressed == 0, focus=self.has_focus())
            fg = theme.TEXT
        else:
            if style == "normal":
                fill, edge = theme.FIELD_BG, theme.FIELD_EDGE
            if self._pressed == 0:
                fill = fill.darker(115)
            focus = self.has_focus() and enabled
            painter.setPen(QPen(theme.TEXT if focus else edge, max(1.0, (2 if focus else 1) * s)))
            painter.setBrush(fill)
            painter.drawRoundedRect(box, radius, radius)
        if style not in ("running", "warning", "alarm"):
            fg = text_colour(quality, fg)
        text_box = QRectF(box)
        if enabled:
            chevron = QRectF(box.right() - CHEVRON_PX * s, box.top(), CHEVRON_PX * s, box.height())
            divider = QColor(fg)
            divider.setAlpha(70)
            painter.setPen(QPen(divider, max(1.0, s)))
            painter.drawLine(
                QPointF(chevron.left(), chevron.top() + 5 * s),
                QPointF(chevron.left(), chevron.bottom() - 5 * s),
            )
            paint_chevron(painter, chevron.center(), 12 * s, fg)
            text_box.setRight(chevron.left())
        if quality is Quality.UNCERTAIN:
            text_box.setLeft(text_box.left() + 16 * s)  # clear of the "?" badge
        painter.setPen(fg)
        painter.setFont(theme.font(theme.LABEL_PX + 1, s, bold=True))
        elided = theme.metrics(painter.font()).elidedText(
            text, Qt.TextElideMode.ElideRight, text_box.width() - 8 * s
        )
        painter.drawText(text_box, int(Qt.AlignmentFlag.AlignCenter), elided)

    def _paint_buttons(self, painter: QPainter, box: QRectF) -> None:
        s = self.scale
        quality = self.quality()
        enabled = self.enabled()
        current = self.current_index()
        radius = 3 * s
        edge = theme.STOPPED_EDGE if enabled else theme.PANEL_EDGE
        if (
            self.current_index() == NO_STATE
            and quality is not Quality.BAD
            and self.is_bound("value")
        ):
            edge = theme.UNCERTAIN_EDGE  # a value none of the states has
        outline = QPainterPath()
        outline.addRoundedRect(box, radius, radius)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.STOPPED_FILL if enabled else theme.PANEL_BG)
        painter.drawPath(outline)
        painter.save()
        painter.setClipPath(outline)
        segments = self.segments()
        font = segment_font(
            [entry.text for entry in self.props.states], segments[0].width() - 8 * s, s
        )
        metrics = theme.metrics(font)
        painter.setFont(font)
        for index, (rect, entry) in enumerate(zip(segments, self.props.states, strict=True)):
            selected = index == current
            if selected:
                fill, _, fg = LOOKS[
                    entry.style if entry.style in ("warning", "alarm") else "running"
                ]
                if quality is Quality.STALE:
                    fill = QColor(fill).lighter(160)
            elif self._pressed == index:
                fill, fg = theme.PANEL_EDGE, theme.TEXT
            else:
                fill = None
                fg = text_colour(quality, theme.TEXT if enabled else theme.TEXT_STALE)
            if fill is not None:
                painter.fillRect(rect, fill)
            if index:
                painter.setPen(QPen(edge, max(1.0, s)))
                painter.drawLine(rect.topLeft(), rect.bottomLeft())
            painter.setPen(fg)
            text = metrics.elidedText(entry.text, Qt.TextElideMode.ElideRight, rect.width() - 4 * s)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()
        focus = self.has_focus() and enabled
        painter.setPen(QPen(theme.TEXT if focus else edge, max(1.0, (2 if focus else 1) * s)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(outline)


def segment_font(texts: list[str], width: float, scale: float) -> QFont:
    """The bold font the segment texts are drawn in: the label size, or smaller (down to the
    caption size) when the longest text would not fit its segment; beyond that texts are elided."""
    size = float(theme.LABEL_PX)
    font = theme.font(size, scale, bold=True)
    while size > theme.CAPTION_PX:
        metrics = theme.metrics(font)
        if all(metrics.horizontalAdvance(text) <= width for text in texts):
            break
        size -= 1
        font = theme.font(size, scale, bold=True)
    return font


def paint_chevron(painter: QPainter, centre: QPointF, size: float, colour: QColor) -> None:
    """A downward chevron ``size`` pixels wide: "this opens a list"."""
    pen = QPen(colour, max(1.5, size / 6))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    half = size / 2
    path = QPainterPath()
    path.moveTo(centre.x() - half, centre.y() - half / 2)
    path.lineTo(centre.x(), centre.y() + half / 2)
    path.lineTo(centre.x() + half, centre.y() - half / 2)
    painter.drawPath(path)
