"""Renderer: a validated screen -> a live QWidget whose widgets are bound through a TagSource.

The screen subscribes its tags when shown and cancels every subscription when hidden, so a screen
nobody looks at costs no polling. Command writes run as named asyncio tasks on the running (qasync)
loop with a timeout; a failure is shown next to the control and never blocks the GUI.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

import shiboken6
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import QWidget

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import Subscription, TagMeta, TagSource, WriteRefused
from screens.feedback import WriteFeedback
from screens.model import ScreenDefinition
from widgets.base import HmiWidget
from widgets.canvas import ItemCanvas
from widgets.command_button import CommandButton

log = logging.getLogger(__name__)

WRITE_TIMEOUT_S = 8.0  # above the runtime's own device timeout, so its message wins
FEEDBACK_HEIGHT = 22


class _Subscriptions:
    """The open subscriptions of one screen (kept apart so ``destroyed`` can still cancel them)."""

    def __init__(self) -> None:
        self.items: list[Subscription] = []

    def cancel_all(self, *_: object) -> None:
        items, self.items = self.items, []
        for sub in items:
            sub.cancel()


class ScreenView(ItemCanvas):
    """One rendered screen: widgets placed and scaled, bound while visible."""

    def __init__(
        self,
        definition: ScreenDefinition,
        source: TagSource,
        parent: QWidget | None = None,
        *,
        write_timeout: float = WRITE_TIMEOUT_S,
    ) -> None:
        model = definition.model
        super().__init__(QSize(*model.size), QColor(model.background), parent)
        self.definition = definition
        self.source = source
        self.write_timeout = write_timeout
        self.widgets: dict[str, HmiWidget] = {}
        self.feedback: dict[str, WriteFeedback] = {}
        self._bindings: list[tuple[HmiWidget, str, str]] = []
        self._subs = _Subscriptions()
        self._writes: set[asyncio.Task[None]] = set()
        self.destroyed.connect(self._subs.cancel_all)
        for placed in definition.widgets:
            config = placed.config
            widget = placed.cls(placed.props)
            self.place(widget, QRect(*config.geometry))
            self.widgets[config.id] = widget
            for prop, tag in config.bind.items():
                self._bindings.append((widget, prop, tag))
            if isinstance(widget, CommandButton) and "value" in config.bind:
                self._wire_command(config.id, widget, config.bind["value"])

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def title(self) -> str:
        return self.definition.model.display_title

    @property
    def subscribed(self) -> bool:
        return bool(self._subs.items)

    # ---- subscriptions ---------------------------------------------------------------------
    def subscribe(self) -> None:
        """Bind every widget to its tag (idempotent)."""
        if self._subs.items:
            return
        for widget, prop, tag in self._bindings:
            try:
                meta = self.source.meta(tag)
            except KeyError:
                now = time.time()
                widget.bind_meta(prop, TagMeta(tag, DataType.STRING))
                widget.apply(
                    prop,
                    TagValue(None, Quality.BAD, now, now, f"{Reason.CONFIG_ERROR}: unknown tag"),
                )
                continue
            widget.bind_meta(prop, meta)
            widget.apply(prop, self.source.current(tag))
            self._subs.items.append(
                self.source.subscribe(tag, functools.partial(widget.apply, prop))
            )

    def unsubscribe(self) -> None:
        """Cancel every subscription (the screen is hidden or closing)."""
        self._subs.cancel_all()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.subscribe()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.unsubscribe()

    # ---- writes ----------------------------------------------------------------------------
    def _wire_command(self, widget_id: str, button: CommandButton, tag: str) -> None:
        x, y, w, h = self.design_rect_of(button).getRect()
        width = max(w, 240)
        x = min(x, self.design.width() - width)
        top = y + h + 3
        if top + FEEDBACK_HEIGHT > self.design.height():
            top = y - FEEDBACK_HEIGHT - 3
        feedback = WriteFeedback()
        self.place(feedback, QRect(max(0, x), top, width, FEEDBACK_HEIGHT))
        self.feedback[widget_id] = feedback
        button.set_write_handler(functools.partial(self._start_write, tag, button, feedback))

    def _start_write(
        self, tag: str, button: CommandButton, feedback: WriteFeedback, value: Any
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            feedback.show_error("cannot write now: the application loop is not running")
            return
        feedback.clear()
        button.set_busy(True)
        task = loop.create_task(
            self._write(tag, value, button, feedback), name=f"screen {self.name}: write {tag}"
        )
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(
        self, tag: str, value: Any, button: CommandButton, feedback: WriteFeedback
    ) -> None:
        error = ""
        try:
            await asyncio.wait_for(self.source.write(tag, value), self.write_timeout)
        except WriteRefused as exc:
            error = str(exc) or "write refused"
        except TimeoutError:
            error = f"no answer within {self.write_timeout:g} s"
        except Exception as exc:  # a failing write must reach the operator, not the loop
            log.exception("write of %s to %s failed", value, tag)
            error = f"write failed: {exc}"
        if shiboken6.isValid(button):
            button.set_busy(False)
        if error and shiboken6.isValid(feedback):
            feedback.show_error(error, f"write of {value!r} to {tag} failed: {error}")

    async def wait_writes(self) -> None:
        """Wait for writes still in flight (used on shutdown and in tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    def pending_writes(self) -> int:
        return len(self._writes)


def render_screen(
    definition: ScreenDefinition, source: TagSource, parent: QWidget | None = None
) -> ScreenView:
    """Build the live widget for ``definition`` (it subscribes when first shown)."""
    return ScreenView(definition, source, parent)
