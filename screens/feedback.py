"""The one-line outcome shown next to a control after a write: done (briefly) or why it failed."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QPainter

from widgets import theme
from widgets.base import HmiWidget, WidgetProps

SHOW_ERROR_MS = 8000
SHOW_DONE_MS = 3000


class WriteFeedback(HmiWidget):
    """A one-line message under a control: a failure stays 8 s (amber), a success 3 s (grey)."""

    TYPE_KEY: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(WidgetProps())
        self.message = ""
        self.detail = ""
        self.is_error = False
        self._clear: QTimer | None = None
        self.visible = False

    def show_error(self, message: str, detail: str = "") -> None:
        """Show ``message``; ``detail`` (default: the message) goes into the tooltip."""
        self._show(message, detail, error=True)

    def show_done(self, message: str) -> None:
        """Confirm a write the device accepted."""
        self._show(message, message, error=False)

    def _show(self, message: str, detail: str, *, error: bool) -> None:
        self.message, self.is_error = message, error
        self.detail = detail or message
        parent = self.popup_parent()
        if self._clear is None and parent is not None:
            self._clear = QTimer(parent)  # dies with the screen, so it never fires on a dead one
            self._clear.setSingleShot(True)
            self._clear.timeout.connect(self.clear)
        if self._clear is not None:
            self._clear.start(SHOW_ERROR_MS if error else SHOW_DONE_MS)
        self.set_visible(True)
        self.refresh()

    def clear(self) -> None:
        self.message, self.detail, self.is_error = "", "", False
        if self._clear is not None:
            self._clear.stop()
        self.set_visible(False)
        self.refresh()

    def display_state(self) -> Hashable:
        return self.message, self.is_error

    def tooltip_text(self) -> str:
        return self.detail

    def paint(self, painter: QPainter) -> None:
        if not self.message:
            return
        s = self.scale
        r = QRectF(self.rect())
        painter.fillRect(r, theme.WARNING_FILL if self.is_error else theme.PANEL_BG)
        painter.setPen(theme.WARNING_TEXT)
        painter.setFont(theme.font(theme.CAPTION_PX, s, bold=True))
        painter.drawText(
            r.adjusted(4 * s, 0, -4 * s, 0),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            painter.fontMetrics().elidedText(
                self.message, Qt.TextElideMode.ElideRight, int(r.width() - 8 * s)
            ),
        )
