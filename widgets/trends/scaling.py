"""Fonts that follow the size of the trend view, like the HMI widgets' ``set_scale``.

Sizes are the theme's design pixels for a 1280x800 screen; a view shown larger (a 1920x1080
panel) scales them up so text stays readable at a metre.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets import theme

DESIGN_SIZE = (1280, 800)


def scale_for(width: int, height: int) -> float:
    """The scale of a view of this size: 1 at the design size, up to 2, never below 1."""
    return max(1.0, min(2.0, width / DESIGN_SIZE[0], height / DESIGN_SIZE[1]))


class FontScaler:
    """Remembers which widget uses which design font size, to rescale them all at once."""

    def __init__(self) -> None:
        self.scale = 1.0
        self._items: list[tuple[QWidget, float, bool]] = []

    def use(self, widget: QWidget, pixel_size: float, *, bold: bool = False) -> None:
        """Give ``widget`` the theme font at ``pixel_size`` design pixels, now and on rescale."""
        self._items.append((widget, pixel_size, bold))
        widget.setFont(theme.font(pixel_size, self.scale, bold=bold))

    def apply(self, scale: float) -> None:
        """Rescale every registered widget's font."""
        self.scale = scale
        for widget, pixel_size, bold in self._items:
            widget.setFont(theme.font(pixel_size, scale, bold=bold))
