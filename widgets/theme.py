"""ISA-101 style palette and fonts shared by every widget.

Calm greys for everything normal; colour is kept for abnormal states, alarms and bad data so that
it means something when it appears. Sizes are in design pixels of a 1280x800 screen and scale with
the screen (see ``HmiWidget.set_scale``).
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QColor, QFont, QFontMetricsF

SCREEN_BG = QColor("#d9d9d9")
PANEL_BG = QColor("#e6e6e6")
PANEL_EDGE = QColor("#b3b3b3")
FIELD_BG = QColor("#eeeeee")
FIELD_EDGE = QColor("#bdbdbd")
TEXT = QColor("#262626")
TEXT_MUTED = QColor("#5c5c5c")
TEXT_STALE = QColor("#8f8f8f")

RUNNING_FILL = QColor("#4d4d4d")
RUNNING_TEXT = QColor("#ffffff")
STOPPED_FILL = QColor("#f7f7f7")
STOPPED_EDGE = QColor("#6b6b6b")
LEVEL_FILL = QColor("#7a8a99")

WARNING_FILL = QColor("#f2c21b")
WARNING_TEXT = QColor("#1a1a1a")
ALARM_FILL = QColor("#d92b1f")
ALARM_TEXT = QColor("#ffffff")

BAD_EDGE = QColor("#c000c0")
STALE_EDGE = QColor("#6e6e6e")
UNCERTAIN_EDGE = QColor("#8a6d00")

FONT_FAMILIES = ["Segoe UI", "DejaVu Sans", "Liberation Sans", "Arial"]

# design pixel sizes (at 1280x800, 96 dpi: 22 px = 16.5 pt, readable at 1 m)
VALUE_PX = 22
LABEL_PX = 15
CAPTION_PX = 13
TITLE_PX = 20


def font(pixel_size: float, scale: float = 1.0, *, bold: bool = False) -> QFont:
    """The UI font at ``pixel_size`` design pixels, scaled to the screen (shared: do not modify)."""
    return _font(max(6, round(pixel_size * scale)), bold)


def metrics(font: QFont) -> QFontMetricsF:
    """Metrics of a font returned by ``font`` (shared, cached)."""
    return _metrics(font.pixelSize(), font.bold())


@functools.lru_cache(maxsize=256)
def _font(pixels: int, bold: bool) -> QFont:
    result = QFont()
    result.setFamilies(FONT_FAMILIES)
    result.setPixelSize(pixels)
    result.setBold(bold)
    return result


@functools.lru_cache(maxsize=256)
def _metrics(pixels: int, bold: bool) -> QFontMetricsF:
    return QFontMetricsF(_font(pixels, bold))
