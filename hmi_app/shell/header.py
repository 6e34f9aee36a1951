"""Header bar: plant and line, clock, user, alarm count, one link chip per connection and, when
the project syncs production records, the sync chip."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from drivers.base import LinkState
from hmi_app.shell.sync_view import SyncChip

# state -> stylesheet; calm when connected, colour only when something is wrong
_CHIP_BASE = "border-radius: 3px; padding: 2px 8px; font-size: 13px; font-weight: bold;"
CHIP_STYLES: dict[str, str] = {
    LinkState.CONNECTED: "background: #d9d9d9; color: #262626; border: 1px solid #a6a6a6;",
    LinkState.STOPPED: "background: #f2f2f2; color: #5c5c5c; border: 1px dashed #8c8c8c;",
    LinkState.CONNECTING: "background: #f2c21b; color: #1a1a1a; border: 1px solid #b08a00;",
    LinkState.DISCONNECTED: "background: #d92b1f; color: #ffffff; border: 1px solid #a01d14;",
}
CLOCK_FORMAT = "%Y-%m-%d  %H:%M:%S"


class LinkChip(QLabel):
    """``name: state`` of one connection; the detail goes into the tooltip."""

    def __init__(self, connection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.connection = connection
        self.state: LinkState | None = None
        self.detail = ""
        self.setObjectName(f"link_{connection}")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_state(LinkState.STOPPED, "not started")

    def reserve_width(self) -> None:
        """Keep the width of the longest state, so chips do not shift when one changes."""
        longest = max((state.value for state in LinkState), key=len)
        text = self.fontMetrics().horizontalAdvance(f"{self.connection}: {longest}")
        self.setMinimumWidth(text + 20)  # the stylesheet's padding and border, both sides

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self.reserve_width()

    def set_state(self, state: LinkState, detail: str) -> None:
        if state == self.state and detail == self.detail:
            return
        style_changed = state != self.state
        self.state, self.detail = state, detail
        self.setText(f"{self.connection}: {state.value}")
        if style_changed:
            self.setStyleSheet(_CHIP_BASE + CHIP_STYLES.get(state, CHIP_STYLES[LinkState.STOPPED]))
        self.setToolTip(
            f"Connection {self.connection}: {state.value}" + (f"\n{detail}" if detail else "")
        )


class HeaderBar(QFrame):
    """The strip at the top of the operator window."""

    def __init__(
        self, plant: str, line: str, connections: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setFixedHeight(44)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 4, 14, 4)
        layout.setSpacing(14)
        self.plant = QLabel(plant)
        self.plant.setObjectName("plantName")
        self.line = QLabel(line)
        self.line.setObjectName("lineName")
        layout.addWidget(self.plant)
        layout.addWidget(self.line)
        layout.addStretch(1)
        self.sync_chip: SyncChip | None = None
        self.chips: dict[str, LinkChip] = {}
        for name in connections:
            chip = LinkChip(name)
            self.chips[name] = chip
            layout.addWidget(chip)
        layout.addSpacing(10)
        self.alarms = QLabel("Alarms: 0")
        self.alarms.setObjectName("alarms")
        self.alarms.setToolTip("Placeholder: the alarm engine is not part of this version yet")
        layout.addWidget(self.alarms)
        self.user = QLabel("operator")
        self.user.setObjectName("user")
        self.user.setToolTip(
            "Placeholder: log-in and roles come later; writes are made as 'operator'"
        )
        layout.addWidget(self.user)
        self.clock = QLabel("")
        self.clock.setObjectName("clock")
        self.clock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.clock.setMinimumWidth(190)
        layout.addWidget(self.clock)
        self.tick()

    def set_link(self, connection: str, state: LinkState, detail: str) -> None:
        """Link listener: update (or add) the chip of ``connection``."""
        chip = self.chips.get(connection)
        if chip is None:
            chip = self.chips[connection] = LinkChip(connection)
            layout = self.layout()
            if isinstance(layout, QHBoxLayout):
                # after the other link chips, before the sync chip and the alarm count
                at = (
                    layout.indexOf(self.sync_chip)
                    if self.sync_chip is not None
                    else layout.indexOf(self.alarms) - 1
                )
                layout.insertWidget(at, chip)
        chip.set_state(state, detail)

    def add_sync_chip(self) -> SyncChip:
        """The sync indicator, after the link chips (added once; the window feeds it)."""
        if self.sync_chip is None:
            self.sync_chip = SyncChip()
            layout = self.layout()
            if isinstance(layout, QHBoxLayout):
                layout.insertWidget(layout.indexOf(self.alarms) - 1, self.sync_chip)
        return self.sync_chip

    def tick(self, now: float | None = None) -> None:
        """Update the clock (only when the shown second changes)."""
        text = time.strftime(CLOCK_FORMAT, time.localtime(time.time() if now is None else now))
        if text != self.clock.text():
            self.clock.setText(text)
