"""Panel: a calm grey area with a title that groups the widgets drawn on top of it."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps


class PanelProps(WidgetProps):
    """Static properties of a panel."""

    title: str = ""


class Panel(HmiWidget):
    """Background grouping box; transparent to the mouse so it never steals a click."""

    TYPE_KEY: ClassVar[str] = "panel"
    Props: ClassVar[type[WidgetProps]] = PanelProps
    BINDABLE: ClassVar[tuple[str, ...]] = ()
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample((300, 200), {"title": "Process"})

    props: PanelProps

    def paint(self, painter: QPainter) -> None:
        self.paint_cached(painter, None, self._paint_now)

    def _paint_now(self, painter: QPainter) -> None:
        s = self.scale
        painter.setPen(theme.PANEL_EDGE)
        painter.setBrush(theme.PANEL_BG)
        painter.drawRect(QRectF(self.rect()).adjusted(0, 0, -1, -1))
        if self.props.title:
            painter.setPen(theme.TEXT_MUTED)
            painter.setFont(theme.font(theme.CAPTION_PX, s, bold=True))
            painter.drawText(
                QRectF(8 * s, 4 * s, self.width() - 16 * s, 18 * s),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.props.title.upper(),
            )
