"""Process symbol: a motor, pump, valve, ... whose colours follow the state of its tag.

The symbol is an SVG from ``resources/symbols`` rendered once per colour set and size by
``widgets.svg_symbols`` (a shared pixmap cache), so painting is one ``drawPixmap`` plus at most two
lines of text: a screen of 1,000 symbols updating at 10 Hz stays cheap.

The bound ``value`` selects a state from ``states`` (the same value/text/style list as the state
indicator); ISA-101: running is dark grey, stopped off-white, only ``warning`` and ``alarm`` are
coloured. An optional bool ``fault`` shows the alarm look whatever the value says. Quality: BAD
shows the "bad" colours, ``####`` and the magenta hatched frame; STALE the pale "stale" colours,
greyed text and a dashed frame; UNCERTAIN keeps the colours and adds the dotted amber frame with
its "?". The colours come from the input that decided the state; the frame shows the worst quality
of all bound inputs, so a lost fault tag is visible without hiding a known running state.

Clicking a symbol opens its equipment's faceplate when the screen gave it an ``on_click``.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QStaticText, QTransform

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.base import NO_VALUE_REASON, HmiWidget, WidgetExample, WidgetProps
from widgets.quality_look import BAD_PLACEHOLDER, paint_quality, text_colour
from widgets.state_indicator import LOOKS, StateEntry, default_states, same_value, unique_states
from widgets.svg_symbols import STATE_COLOURS, symbol_names, symbol_pixmap

# Text shown on a coloured chip (fill, text) rather than plain, so an alarm reads at a glance.
_CHIP_STYLES = ("warning", "alarm")
_GAP = 3  # design px between the symbol and its text, and between text lines
_PAD = 3  # design px between the quality frame and the symbol
_PRESSED = QColor(0, 0, 0, 40)


class SymbolProps(WidgetProps):
    """Static properties of a process symbol."""

    symbol: str = Field(
        default="motor",
        description=f"which symbol: {', '.join(symbol_names())}",
    )
    states: list[StateEntry] = Field(
        default_factory=default_states,
        description="value -> text and style (running, stopped, normal, warning, alarm)",
    )
    rotation: Literal[0, 90, 180, 270] = Field(default=0, description="degrees clockwise")
    label: str = Field(default="", description="equipment name, e.g. 'P-101 Feed pump'")
    show_state_text: bool = Field(default=True, description="state text with the label")
    label_position: Literal["below", "right", "none"] = Field(
        default="below",
        description="where label and state text go; 'none': symbol only (label in tooltip)",
    )
    fault_text: str = Field(default="FAULT", description="state text while 'fault' is true")

    @field_validator("symbol")
    @classmethod
    def _known_symbol(cls, name: str) -> str:
        known = symbol_names()
        if name not in known:
            raise ValueError(f"unknown symbol {name!r}; choose one of: {', '.join(known)}")
        return name

    @field_validator("states")
    @classmethod
    def _unique(cls, states: list[StateEntry]) -> list[StateEntry]:
        if not states:
            raise ValueError("states must list at least one value (e.g. true: RUNNING)")
        return unique_states(states)


class _Layout:
    """Where things go for one widget size and scale (recomputed only when those change)."""

    __slots__ = (
        "centred",
        "frame",
        "key",
        "label_pos",
        "label_static",
        "label_text",
        "line_h",
        "state_rect",
        "symbol",
    )

    def __init__(self, widget: SymbolWidget) -> None:
        props = widget.props
        s = widget.scale
        w, h = widget.width(), widget.height()
        self.key = (w, h, s)
        label_font = theme.font(theme.CAPTION_PX, s, bold=True)
        self.line_h = theme.metrics(label_font).height()
        lines = int(bool(props.label)) + int(props.show_state_text)
        position = props.label_position if lines else "none"
        gap = _GAP * s
        text_h = lines * self.line_h + (lines - 1) * gap
        if position == "below":
            side = max(1.0, min(w, h - text_h - gap))
            box = QRectF((w - side) / 2, 0, side, side)
            text = QRectF(0, side + gap, w, text_h)
        elif position == "right":
            side = max(1.0, min(h, w - gap))
            box = QRectF(0, (h - side) / 2, side, side)
            text = QRectF(side + 2 * gap, (h - text_h) / 2, w - side - 2 * gap, text_h)
        else:
            side = max(1.0, min(w, h))
            box = QRectF((w - side) / 2, (h - side) / 2, side, side)
            text = QRectF()
        self.centred = position != "right"
        # the quality frame goes round the box; the symbol keeps clear of it, so a frame
        # appearing never covers part of the symbol and the symbol never changes size
        self.frame = QRectF(box.toRect())
        pad = max(2, round(_PAD * s))
        self.symbol = box.toRect().adjusted(pad, pad, -pad, -pad)
        if self.symbol.width() < 1 or self.symbol.height() < 1:
            self.symbol = box.toRect()
        self.label_pos: QPointF | None = None
        self.label_static = QStaticText()
        self.label_text = ""
        if props.label and position != "none":
            self.label_text = theme.metrics(label_font).elidedText(
                props.label, Qt.TextElideMode.ElideRight, text.width()
            )
            self.label_static, label_w = _static_text(self.label_text, label_font.pixelSize(), True)
            left = text.left() if position == "right" else text.center().x() - label_w / 2
            self.label_pos = QPointF(left, text.top())
            text.setTop(text.top() + self.line_h + gap)
        self.state_rect = (
            QRectF(text.left(), text.top(), text.width(), self.line_h)
            if props.show_state_text and position != "none"
            else None
        )


class SymbolWidget(HmiWidget):
    """An SVG process symbol coloured by the state of its tag, with a label and state text."""

    TYPE_KEY: ClassVar[str] = "symbol"
    Props: ClassVar[type[WidgetProps]] = SymbolProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value", "fault")
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (120, 110),
        {"symbol": "pump", "label": "P-101 Feed pump"},
        {
            "value": (TagMeta("line1.feed_pump.running", DataType.BOOL), True),
            "fault": (TagMeta("line1.feed_pump.fault", DataType.BOOL), False),
        },
    )

    props: SymbolProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._layout: _Layout | None = None
        self._pressed = False
        self._elided: dict[str, str] = {}
        self._state: tuple[str, str, Quality, str] | None = None
        """What ``display_state`` last found: ``paint`` draws it without working it out again."""
        self._pixmap_key: tuple[str, int, int, float] | None = None
        self._pixmap = QPixmap()
        # same_value() semantics as a dict: a string never equals a number, True equals 1
        self._by_value: dict[tuple[bool, Any], tuple[str, str]] = {}
        for entry in self.props.states:
            self._by_value.setdefault(
                (isinstance(entry.value, str), entry.value), (entry.style, entry.text)
            )

    # ---- state -----------------------------------------------------------------------------
    def state(self) -> tuple[str, str, Quality, str]:
        """(style, text, quality, reason): the colour preset painted, the state text, the worst
        quality of the bound inputs (the frame) and its reason."""
        style: str
        if not self.is_bound("value"):
            first = self.props.states[0]
            style, text, decided = first.style, first.text, Quality.GOOD
            quality, reason = Quality.GOOD, ""
        else:
            value = self.tag_value("value")
            if value is None:
                style, text, decided = "bad", BAD_PLACEHOLDER, Quality.BAD
                quality, reason = Quality.BAD, NO_VALUE_REASON
            else:
                quality = decided = value.quality
                reason = value.reason
                if decided is Quality.BAD:
                    style, text = "bad", BAD_PLACEHOLDER
                else:
                    style, text = self._lookup(value.value)
        if self.is_bound("fault"):
            fault = self.tag_value("fault")
            if fault is None:
                fault_quality, fault_reason = Quality.BAD, NO_VALUE_REASON
            else:
                fault_quality, fault_reason = fault.quality, fault.reason
                if fault_quality is not Quality.BAD and bool(fault.value):
                    style, text, decided = "alarm", self.props.fault_text, fault_quality
            if fault_quality > quality:
                quality, reason = fault_quality, fault_reason
        if decided is Quality.STALE:
            style = "stale"
        self._state = (style, text, quality, reason)
        return self._state

    def _lookup(self, value: Any) -> tuple[str, str]:
        """(style, text) of a good value: its entry in ``states``, else the unknown look."""
        try:
            found = self._by_value.get((isinstance(value, str), value))
        except TypeError:  # unhashable (an array tag): compare one by one
            found = next(
                ((e.style, e.text) for e in self.props.states if same_value(e.value, value)), None
            )
        return found if found is not None else ("unknown", f"? {value}")

    def display_state(self) -> tuple[str, str, Quality, str]:
        return self.state()

    def tooltip_text(self) -> str:
        text = self.state()[1]
        head = self.props.label
        if text:
            head = f"{head}: {text}" if head else text
        details = super().tooltip_text()
        return f"{head}\n{details}" if head and details else head or details

    # ---- input -----------------------------------------------------------------------------
    def mouse_press(self, pos: QPointF) -> None:
        if self.click_handler is not None:
            self._pressed = True
            self.update()

    def mouse_release(self, pos: QPointF, inside: bool) -> None:
        if self._pressed:
            self._pressed = False
            self.update()
        super().mouse_release(pos, inside)

    # ---- painting --------------------------------------------------------------------------
    def scale_changed(self) -> None:
        self._layout = None

    def _current_layout(self) -> _Layout:
        layout = self._layout
        if layout is None or layout.key != (self.width(), self.height(), self.scale):
            layout = self._layout = _Layout(self)
            self._elided.clear()
        return layout

    def paint(self, painter: QPainter) -> None:
        layout = self._current_layout()
        style, text, quality, _ = self._state or self.state()
        s = self.scale
        box = layout.symbol
        if self._pressed:
            painter.fillRect(layout.frame, _PRESSED)
        ratio = painter.device().devicePixelRatioF()
        key = (style, box.width(), box.height(), ratio)
        if key != self._pixmap_key:
            self._pixmap_key = key
            self._pixmap = symbol_pixmap(
                self.props.symbol,
                STATE_COLOURS[style],
                box.width(),
                box.height(),
                self.props.rotation,
                ratio,
            )
        painter.drawPixmap(box.topLeft(), self._pixmap)
        if layout.label_pos is not None:
            painter.setPen(theme.TEXT)
            painter.setFont(theme.font(theme.CAPTION_PX, s, bold=True))
            painter.drawStaticText(layout.label_pos, layout.label_static)
        if layout.state_rect is not None and text:
            self._paint_state_text(painter, layout, style, text, quality)
        paint_quality(painter, layout.frame, quality, s)
        if self.click_handler is not None and self.has_focus():
            pen = QPen(theme.TEXT_MUTED, 1, Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))

    def _paint_state_text(
        self, painter: QPainter, layout: _Layout, style: str, text: str, quality: Quality
    ) -> None:
        rect = layout.state_rect
        assert rect is not None
        font = theme.font(theme.CAPTION_PX, self.scale)
        shown = self._elided.get(text)
        if shown is None:
            shown = theme.metrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
            if len(self._elided) > 32:
                self._elided.clear()
            self._elided[text] = shown
        static, width = _static_text(shown, font.pixelSize(), False)
        painter.setFont(font)
        centred = layout.centred
        if style in _CHIP_STYLES:
            fill, _, fg = LOOKS[style]
            pad = 4 * self.scale
            chip_w = min(rect.width(), width + 2 * pad)
            left = rect.center().x() - chip_w / 2 if centred else rect.left()
            painter.fillRect(QRectF(left, rect.top(), chip_w, rect.height()), fill)
            painter.setPen(fg)
            painter.drawStaticText(QPointF(left + (chip_w - width) / 2, rect.top()), static)
            return
        painter.setPen(text_colour(quality, theme.TEXT_MUTED))
        left = rect.center().x() - width / 2 if centred else rect.left()
        painter.drawStaticText(QPointF(left, rect.top()), static)


@functools.lru_cache(maxsize=1024)
def _static_text(text: str, pixel_size: int, bold: bool) -> tuple[QStaticText, float]:
    """Text laid out once and its width: drawing it costs a third of ``drawText`` (shared
    between widgets: every running symbol draws the same "RUNNING")."""
    font = theme.font(pixel_size, 1.0, bold=bold)
    static = QStaticText(text)
    static.setTextFormat(Qt.TextFormat.PlainText)
    static.prepare(QTransform(), font)
    return static, theme.metrics(font).horizontalAdvance(text)
