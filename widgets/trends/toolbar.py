"""The buttons above a trend: time presets, Live, a custom range, the cursor and exports.

Every button carries text (an operator in gloves, at a metre, reads words faster than icons).
The toolbar only emits what was asked; the view decides what it means.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from widgets import theme
from widgets.trends.scaling import FontScaler

PRESETS: dict[str, float] = {
    "10 min": 600.0,
    "1 h": 3600.0,
    "8 h": 8 * 3600.0,
    "24 h": 24 * 3600.0,
    "7 d": 7 * 24 * 3600.0,
}
DATE_FORMAT = "yyyy-MM-dd HH:mm:ss"


def style(scale: float) -> str:
    """The toolbar's style sheet at ``scale``."""
    pad_v, pad_h, height = round(5 * scale), round(12 * scale), round(26 * scale)
    return f"""
QPushButton {{
    background: {theme.PANEL_BG.name()}; color: {theme.TEXT.name()};
    border: 1px solid {theme.PANEL_EDGE.name()}; border-radius: 3px;
    padding: {pad_v}px {pad_h}px; min-height: {height}px;
}}
QPushButton:checked {{
    background: {theme.RUNNING_FILL.name()}; color: {theme.RUNNING_TEXT.name()};
    border-color: {theme.RUNNING_FILL.name()};
}}
QPushButton:disabled {{ color: {theme.TEXT_STALE.name()}; }}
QDateTimeEdit {{
    background: {theme.FIELD_BG.name()}; color: {theme.TEXT.name()};
    border: 1px solid {theme.FIELD_EDGE.name()}; padding: 3px 6px; min-height: {height}px;
}}
QLabel {{ color: {theme.TEXT.name()}; }}
"""


class TrendToolbar(QWidget):
    """Presets, Live, From/To with Apply, Hide cursor, Export CSV/PNG, and a status line."""

    preset_clicked = Signal(str)
    live_clicked = Signal()
    range_applied = Signal(float, float)
    hide_cursor_clicked = Signal()
    export_csv_clicked = Signal()
    export_png_clicked = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fonts = FontScaler()
        self.setStyleSheet(style(1.0))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        top = QHBoxLayout()
        top.setSpacing(6)
        outer.addLayout(top)
        self.title = QLabel(title)
        self.fonts.use(self.title, theme.TITLE_PX, bold=True)
        top.addWidget(self.title)
        top.addSpacing(12)
        self.presets: dict[str, QPushButton] = {}
        for name in PRESETS:
            button = self._button(name, checkable=True)
            button.clicked.connect(lambda _=False, n=name: self.preset_clicked.emit(n))
            self.presets[name] = button
            top.addWidget(button)
        top.addSpacing(12)
        self.live = self._button("Live", checkable=True)
        self.live.clicked.connect(lambda _=False: self.live_clicked.emit())
        top.addWidget(self.live)
        self.loading = QLabel("Loading…")
        self.fonts.use(self.loading, theme.LABEL_PX)
        self.loading.setStyleSheet(f"color: {theme.TEXT_MUTED.name()};")
        self.loading.setVisible(False)
        top.addWidget(self.loading)
        top.addStretch(1)
        self.hide_cursor = self._button("Hide cursor")
        self.hide_cursor.setEnabled(False)
        self.hide_cursor.clicked.connect(lambda _=False: self.hide_cursor_clicked.emit())
        top.addWidget(self.hide_cursor)
        self.export_csv = self._button("Export CSV…")
        self.export_csv.clicked.connect(lambda _=False: self.export_csv_clicked.emit())
        top.addWidget(self.export_csv)
        self.export_png = self._button("Export PNG…")
        self.export_png.clicked.connect(lambda _=False: self.export_png_clicked.emit())
        top.addWidget(self.export_png)

        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        outer.addLayout(bottom)
        self.start_edit = self._date_edit()
        self.end_edit = self._date_edit()
        for text, edit in (("From", self.start_edit), ("To", self.end_edit)):
            label = QLabel(text)
            self.fonts.use(label, theme.LABEL_PX)
            bottom.addWidget(label)
            bottom.addWidget(edit)
        self.apply = self._button("Apply")
        self.apply.clicked.connect(lambda _=False: self._apply())
        bottom.addWidget(self.apply)
        bottom.addSpacing(12)
        self.status = QLabel("")
        self.fonts.use(self.status, theme.LABEL_PX)
        self.status.setWordWrap(False)
        bottom.addWidget(self.status, 1)

    def _date_edit(self) -> QDateTimeEdit:
        edit = QDateTimeEdit()
        edit.setDisplayFormat(DATE_FORMAT)
        edit.setCalendarPopup(True)
        self.fonts.use(edit, theme.LABEL_PX)
        return edit

    def _button(self, text: str, *, checkable: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setCheckable(checkable)
        self.fonts.use(button, theme.LABEL_PX)
        return button

    def set_scale(self, scale: float) -> None:
        """Fonts and paddings for a view ``scale`` times the design size."""
        self.fonts.apply(scale)
        self.setStyleSheet(style(scale))

    def _apply(self) -> None:
        start = self.start_edit.dateTime().toSecsSinceEpoch()
        end = self.end_edit.dateTime().toSecsSinceEpoch()
        if end <= start:
            self.status.setText("The end of the range must be after its start.")
            return
        self.range_applied.emit(float(start), float(end))

    def show_range(self, start: float, end: float) -> None:
        """Put the visible range into From/To (without applying anything)."""
        for edit, t in ((self.start_edit, start), (self.end_edit, end)):
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(round(t)))

    def show_mode(self, live: bool, preset: str | None) -> None:
        """Check Live and the preset matching the span (if any)."""
        self.live.setChecked(live)
        for name, button in self.presets.items():
            button.setChecked(name == preset)


def local_text(t: float) -> str:
    """A POSIX time as local ``YYYY-MM-DD HH:MM:SS`` (the operator's clock)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
