"""The legend beside a trend: per pen its colour, label, value with units, and quality.

It shows the newest values, or the values under the cursor when one is placed (the header says
which). A value that is not good says so in words next to it, in the theme's quality colours:
the operator must never read an uncertain, stale or bad value as a good one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import TagMeta
from widgets import theme
from widgets.quality_look import BAD_PLACEHOLDER
from widgets.trends.pens import Sample
from widgets.trends.scaling import FontScaler

Formatter = Callable[[float], str]

_QUALITY_COLOUR = {
    Quality.UNCERTAIN: theme.UNCERTAIN_EDGE,
    Quality.STALE: theme.TEXT_STALE,
    Quality.BAD: theme.BAD_EDGE,
}


@dataclass(frozen=True, slots=True)
class LegendPen:
    """What the legend needs of a pen."""

    title: str
    colour: str
    units: str
    fmt: Formatter


@dataclass(slots=True)
class LegendRow:
    """The labels of one pen's row (kept for tests and updates)."""

    title: QLabel
    value: QLabel
    units: QLabel
    quality: QLabel


class TrendLegend(QFrame):
    """Per-pen values of a trend, at "now" or at the cursor."""

    def __init__(self, pens: Sequence[LegendPen], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trendLegend")
        self._pens = tuple(pens)
        self.fonts = FontScaler()
        self._swatches: list[QFrame] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(6)
        self.header = QLabel("Latest values")
        self.fonts.use(self.header, theme.LABEL_PX, bold=True)
        outer.addWidget(self.header)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        outer.addLayout(grid)
        self.rows: list[LegendRow] = []
        for i, pen in enumerate(self._pens):
            swatch = QFrame()
            swatch.setFixedSize(6, 40)
            self._swatches.append(swatch)
            swatch.setStyleSheet(f"background: {pen.colour}; border: none;")
            title = QLabel(pen.title)
            self.fonts.use(title, theme.LABEL_PX)
            title.setStyleSheet(f"color: {theme.TEXT_MUTED.name()};")
            value = QLabel("")
            self.fonts.use(value, theme.VALUE_PX, bold=True)
            units = QLabel(pen.units)
            self.fonts.use(units, theme.LABEL_PX)
            quality = QLabel("")
            self.fonts.use(quality, theme.CAPTION_PX, bold=True)
            grid.addWidget(swatch, 2 * i, 0, 2, 1)
            grid.addWidget(title, 2 * i, 1, 1, 3)
            grid.addWidget(value, 2 * i + 1, 1)
            grid.addWidget(units, 2 * i + 1, 2)
            grid.addWidget(quality, 2 * i + 1, 3)
            self.rows.append(LegendRow(title, value, units, quality))
        grid.setColumnStretch(3, 1)
        outer.addStretch(1)

    def set_scale(self, scale: float) -> None:
        """Fonts and swatches for a view ``scale`` times the design size."""
        self.fonts.apply(scale)
        for swatch in self._swatches:
            swatch.setFixedSize(round(6 * scale), round(40 * scale))

    def show_values(self, header: str, values: Sequence[Sample | None]) -> None:
        """Show one value per pen (None: no data) under ``header``."""
        self.header.setText(header)
        for pen, row, sample in zip(self._pens, self.rows, values, strict=True):
            if sample is None:
                text, quality = "no data", None
            else:
                value, code = sample
                quality = Quality(min(max(code, 0), int(Quality.BAD)))
                if quality is Quality.BAD or value != value:  # NaN: no number to show
                    text = BAD_PLACEHOLDER
                else:
                    text = pen.fmt(value)
            good = quality is None or quality is Quality.GOOD
            value_colour = theme.TEXT_MUTED if sample is None else theme.TEXT
            quality_text = ""
            if quality is not None and not good:
                quality_text = quality.label
                if quality is Quality.STALE:
                    value_colour = theme.TEXT_STALE
            # touch a label only when what it shows changes: a style change re-polishes
            _set(row.value, text, f"color: {value_colour.name()};")
            quality_colour = (
                theme.TEXT if quality is None else _QUALITY_COLOUR.get(quality, theme.TEXT)
            )
            _set(row.quality, quality_text, f"color: {quality_colour.name()};")
            row.units.setVisible(sample is not None and text != BAD_PLACEHOLDER)


def _set(label: QLabel, text: str, style: str) -> None:
    if label.text() != text:
        label.setText(text)
    if label.styleSheet() != style:
        label.setStyleSheet(style)


def formatter(meta: TagMeta | None) -> Formatter:
    """How a pen's values are written: the tag's display format, else 6 significant digits."""
    if meta is not None and meta.display_format:
        return meta.format_value
    return lambda v: f"{v:.6g}"
