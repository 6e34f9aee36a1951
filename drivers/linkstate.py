"""Link state reporting shared by the drivers: record a change and tell the engine's listener.

``LinkReporter`` keeps a driver's ``LinkState`` and calls the ``on_link`` listener the driver was
started with on every change (DISCONNECTED at every retry, so the detail shows the next delay).
A listener that raises is logged and otherwise ignored: it must not kill a link supervisor.
"""

from __future__ import annotations

import logging

from drivers.base import LinkState, LinkStateFn

__all__ = ["LinkReporter"]

log = logging.getLogger(__name__)


class LinkReporter:
    """The link state of driver ``name`` and the listener told of its changes."""

    __slots__ = ("listener", "name", "state")

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = LinkState.STOPPED
        self.listener: LinkStateFn | None = None

    def set(self, state: LinkState, detail: str) -> None:
        """Record and report a state change (DISCONNECTED is reported at every retry)."""
        if state is self.state and state is not LinkState.DISCONNECTED:
            return
        self.state = state
        if self.listener is not None:
            try:
                self.listener(state, detail)
            except Exception:
                log.exception("%s: link listener failed", self.name)
