"""A strip under the navigation bar naming every connection that is down, and why.

The header's link chips say *that* a link is down; an operator looking at a screen full of
``####`` also needs to read *why* without hovering anything: "line1_plc disconnected (cannot
connect to 10.0.0.5:502: refused): its values are not current". Hidden while every link is up.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel, QWidget

from drivers.base import LinkState
from hmi_app.core.quality import Reason

_DOWN = (LinkState.DISCONNECTED, LinkState.CONNECTING)
_RETRY = re.compile(r";?\s*retrying in [0-9.]+ ?s")


class LinkBanner(QLabel):
    """Shows one line per connection that is disconnected or (re)connecting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("linkBanner")
        self.setWordWrap(True)
        self._down: dict[str, tuple[LinkState, str]] = {}
        self.hide()

    def set_link(self, connection: str, state: LinkState, detail: str) -> None:
        """Link listener: note the connection's state and redraw the strip."""
        if state in _DOWN:
            self._down[connection] = (state, detail)
        else:
            self._down.pop(connection, None)
        lines = [_line(name, *self._down[name]) for name in sorted(self._down)]
        text = "\n".join(lines)
        if text != self.text():
            self.setText(text)
        self.setVisible(bool(lines))

    def connections_down(self) -> list[str]:
        return sorted(self._down)


def _line(connection: str, state: LinkState, detail: str) -> str:
    what = "disconnected" if state is LinkState.DISCONNECTED else "connecting"
    # the countdown would change the strip every second; the prefix repeats "disconnected"
    reason = _RETRY.sub("", detail).removeprefix(f"{Reason.COMM_FAILURE}: ").strip()
    reason = f" ({reason})" if reason else ""
    return f"⚠  {connection} {what}{reason}: its values are not current"
