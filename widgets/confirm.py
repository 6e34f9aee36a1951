"""Confirmation popup for operator writes, and the popup frame every operator dialog shares.

Operator dialogs never run a nested event loop (the app runs asyncio on the Qt loop through
qasync, and ``exec()`` would stall every driver while the dialog is up): they are opened with
``open()`` and report through signals. They are sized for gloved fingers on a touch screen
(buttons at least ``MIN_TOUCH_PX`` square) and drawn in the calm ISA-101 greys of
``widgets.theme``; colour appears only for an error.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from widgets import theme

MIN_TOUCH_PX = 56  # smallest button edge a gloved finger hits reliably
BUTTON_PX = 64  # design pixels; scaled, never below MIN_TOUCH_PX


def _css(colour: QColor) -> str:
    return colour.name()


def _style_sheet(scale: float) -> str:
    radius = max(3, round(4 * scale))
    edge = max(1, round(scale))
    return f"""
QFrame#popupFrame {{
    background: {_css(theme.PANEL_BG)};
    border: {edge + 1}px solid {_css(theme.STOPPED_EDGE)};
    border-radius: {radius}px;
}}
QLabel {{ color: {_css(theme.TEXT)}; background: transparent; }}
QLabel[role="muted"] {{ color: {_css(theme.TEXT_MUTED)}; }}
QLabel[role="message"] {{ padding: {round(6 * scale)}px {round(8 * scale)}px; }}
QLabel[role="message"][level="error"] {{
    background: {_css(theme.WARNING_FILL)};
    color: {_css(theme.WARNING_TEXT)};
    border: {edge}px solid {_css(theme.STOPPED_EDGE)};
    border-radius: {radius}px;
}}
QPushButton {{
    background: {_css(theme.STOPPED_FILL)};
    color: {_css(theme.TEXT)};
    border: {edge}px solid {_css(theme.STOPPED_EDGE)};
    border-radius: {radius}px;
    padding: 0 {round(12 * scale)}px;
}}
QPushButton:pressed, QPushButton:checked:pressed {{
    background: {_css(theme.PANEL_EDGE)};
}}
QPushButton:disabled {{
    background: {_css(theme.PANEL_BG)};
    color: {_css(theme.TEXT_STALE)};
    border-color: {_css(theme.PANEL_EDGE)};
}}
QPushButton:default, QPushButton:focus {{
    border: {edge + 2}px solid {_css(theme.TEXT)};
}}
QPushButton[role="primary"] {{
    background: {_css(theme.RUNNING_FILL)};
    color: {_css(theme.RUNNING_TEXT)};
    border-color: {_css(theme.TEXT)};
}}
QPushButton[role="primary"]:pressed {{ background: {_css(theme.TEXT)}; }}
QPushButton:checked {{
    background: {_css(theme.FIELD_BG)};
    border: {edge + 2}px solid {_css(theme.TEXT)};
    border-left: {round(10 * scale)}px solid {_css(theme.RUNNING_FILL)};
}}
QScrollArea, QScrollArea > QWidget > QWidget {{ background: transparent; border: none; }}
QScrollBar:vertical {{
    width: {max(MIN_TOUCH_PX * 2 // 3, round(40 * scale))}px;
    background: {_css(theme.FIELD_BG)};
    border: none;
}}
QScrollBar::handle:vertical {{
    background: {_css(theme.PANEL_EDGE)};
    min-height: {MIN_TOUCH_PX}px;
    border-radius: {radius}px;
}}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
"""


class PopupDialog(QDialog):
    """The frame of an operator popup: a bordered, frameless panel with a title.

    Subclasses add their content to ``self.body`` (a QVBoxLayout) and build buttons with
    ``make_button``. The dialog is application-modal once ``open()`` is called, centres itself on
    its parent and deletes nothing by itself: the ``open_*`` / ``ask_*`` helpers set
    ``WA_DeleteOnClose`` so a popup opened a thousand times in a week leaves nothing behind.
    """

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        subtitle: str = "",
        scale: float = 1.0,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.scale = scale
        self.setModal(True)
        self.setWindowTitle(title)
        self.setStyleSheet(_style_sheet(scale))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # A popup is exactly as big as its content: Qt otherwise caps a new window's height at
        # 2/3 of the screen, which on an 800 px panel squeezed the keypad's rows together.
        outer.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        frame = self.frame = QFrame(self)
        frame.setObjectName("popupFrame")
        outer.addWidget(frame)
        self.body = QVBoxLayout(frame)
        margin = round(20 * scale)
        self.body.setContentsMargins(margin, margin, margin, margin)
        self.body.setSpacing(round(10 * scale))
        self.title_label = self.make_label(title, theme.TITLE_PX, bold=True)
        self.body.addWidget(self.title_label)
        self.subtitle_label = self.make_label(subtitle, theme.CAPTION_PX, muted=True)
        self.subtitle_label.setVisible(bool(subtitle))
        self.body.addWidget(self.subtitle_label)

    def px(self, design_px: float) -> int:
        """``design_px`` design pixels at this dialog's scale."""
        return round(design_px * self.scale)

    def button_px(self) -> int:
        """Edge of a touch button: the design size scaled, never below ``MIN_TOUCH_PX``."""
        return max(MIN_TOUCH_PX, self.px(BUTTON_PX))

    def make_label(
        self, text: str, pixel_size: float, *, bold: bool = False, muted: bool = False
    ) -> QLabel:
        """A label in the theme font; ``muted`` for secondary information."""
        label = QLabel(text)
        label.setFont(theme.font(pixel_size, self.scale, bold=bold))
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        if muted:
            label.setProperty("role", "muted")
        return label

    def make_button(
        self,
        text: str,
        *,
        primary: bool = False,
        pixel_size: float = theme.VALUE_PX,
        focus: bool = True,
    ) -> QPushButton:
        """A touch-size button in the theme font; ``primary`` is the dark, emphasised one.

        ``focus=False`` keeps the button out of keyboard focus (keypad keys: the keyboard types
        into the dialog itself, and a focused key would swallow Enter and Space).
        """
        button = QPushButton(text)
        button.setFont(theme.font(pixel_size, self.scale, bold=primary))
        edge = self.button_px()
        button.setMinimumSize(edge, edge)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.setAutoDefault(False)
        if primary:
            button.setProperty("role", "primary")
        if not focus:
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button


class ConfirmDialog(PopupDialog):
    """Asks the operator to confirm an action; ``confirmed`` is emitted only for the Yes button.

    Cancel is the default button, so Enter (or a bump of the keyboard) never confirms by accident;
    Esc cancels too. Nothing is emitted on cancel: the caller simply does not act.
    """

    confirmed = Signal()

    def __init__(
        self,
        question: str,
        parent: QWidget | None = None,
        *,
        detail: str = "",
        yes_text: str = "Yes, write",
        cancel_text: str = "Cancel",
        title: str = "Please confirm",
        scale: float = 1.0,
    ) -> None:
        super().__init__(title, parent, scale=scale)
        self.question_label = self.make_label(question, theme.VALUE_PX)
        self.body.addWidget(self.question_label)
        self.detail_label = self.make_label(detail, theme.LABEL_PX, muted=True)
        self.detail_label.setVisible(bool(detail))
        self.body.addWidget(self.detail_label)
        self.body.addSpacing(self.px(10))

        self.cancel_button = self.make_button(cancel_text)
        self.yes_button = self.make_button(yes_text, primary=True)
        row = QHBoxLayout()
        row.setSpacing(self.px(16))
        row.addWidget(self.cancel_button)
        row.addWidget(self.yes_button)
        self.body.addLayout(row)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        self.cancel_button.clicked.connect(self.reject)
        self.yes_button.clicked.connect(self._yes)
        self.frame.setMinimumWidth(self.px(480))

    def _yes(self) -> None:
        self.confirmed.emit()
        self.accept()


def ask_confirm(
    parent: QWidget | None,
    question: str,
    on_yes: Callable[[], None],
    detail: str = "",
    *,
    yes_text: str = "Yes, write",
    scale: float = 1.0,
) -> ConfirmDialog:
    """Open a confirmation popup (non-blocking) that calls ``on_yes`` if the operator confirms."""
    dialog = ConfirmDialog(question, parent, detail=detail, yes_text=yes_text, scale=scale)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.confirmed.connect(on_yes)
    dialog.open()
    return dialog
