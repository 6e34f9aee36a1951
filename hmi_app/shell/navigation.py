"""Screen navigation: one button per screen of the project, and Back through the history."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

HISTORY_LIMIT = 50


class History:
    """Screens visited, newest last; ``back`` returns the one before the current screen."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self._stack: list[str] = []
        self._limit = limit

    @property
    def current(self) -> str | None:
        return self._stack[-1] if self._stack else None

    def visit(self, name: str) -> None:
        if self.current == name:
            return
        self._stack.append(name)
        del self._stack[: -self._limit]

    def can_go_back(self) -> bool:
        return len(self._stack) > 1

    def back(self) -> str | None:
        """Drop the current screen and return the previous one (None when there is none)."""
        if not self.can_go_back():
            return None
        self._stack.pop()
        return self._stack[-1]


class NavBar(QFrame):
    """Back button, one checkable button per screen, and the current screen's title."""

    def __init__(
        self,
        screens: list[tuple[str, str]],
        on_select: Callable[[str], None],
        on_back: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("navBar")
        self.setFixedHeight(42)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)
        layout.setSpacing(8)
        self.back_button = QPushButton("◀  Back")
        self.back_button.setObjectName("back")
        self.back_button.setToolTip("Back to the previous screen")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(on_back)
        layout.addWidget(self.back_button)
        layout.addSpacing(12)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        for name, title in screens:
            button = QPushButton(title)
            button.setCheckable(True)
            button.setObjectName(f"screen_{name}")
            button.clicked.connect(lambda _checked=False, n=name: on_select(n))
            self._group.addButton(button)
            self.buttons[name] = button
            layout.addWidget(button)
        layout.addStretch(1)
        self.title = QLabel("")
        self.title.setObjectName("screenTitle")
        layout.addWidget(self.title)

    def show_current(self, name: str, title: str, can_go_back: bool) -> None:
        button = self.buttons.get(name)
        if button is not None and not button.isChecked():
            button.setChecked(True)
        if self.title.text() != title:
            self.title.setText(title)
        self.back_button.setEnabled(can_go_back)
