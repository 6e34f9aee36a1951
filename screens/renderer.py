"""Renderer: a validated screen -> a live canvas whose widgets are bound through a TagSource.

The screen subscribes its bindings (tags or expressions) when shown and cancels every subscription
when hidden, so a screen nobody looks at costs no polling. Writes from controls run as named
asyncio tasks on the running (qasync) loop with a timeout, after the control's confirm question if
it has one; the outcome is shown next to the control and never blocks the GUI. Clicks on widgets
with an ``on_click`` (and navigation buttons) go to the screen's ``action_handler``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import QWidget

from hmi_app.core.datatypes import DataType
from hmi_app.core.expressions import ExpressionError
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import Subscription, TagMeta, TagSource, WriteRefused
from screens.bindings import bind_source, binding_meta
from screens.feedback import WriteFeedback
from screens.model import ClickAction, ScreenDefinition
from widgets.base import HmiWidget, HmiWriter
from widgets.canvas import ItemCanvas
from widgets.confirm import ask_confirm
from widgets.nav_button import NavButton

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
        self.action_handler: Callable[[ClickAction], None] | None = None
        """Performs click actions (navigate, open a faceplate); set by the window."""
        self.widgets: dict[str, HmiWidget] = {}
        self.feedback: dict[str, WriteFeedback] = {}
        self._bindings: list[tuple[HmiWidget, str, str]] = []
        self._subs = _Subscriptions()
        self._writes: set[asyncio.Task[None]] = set()
        self.destroyed.connect(self._subs.cancel_all)
        folder = Path(definition.source).parent
        for placed in definition.widgets:
            config = placed.config
            widget = placed.cls(placed.props)
            widget.set_resource_dir(folder)
            self.place(widget, QRect(*config.geometry))
            self.widgets[config.id] = widget
            for prop, tag in config.bind.items():
                self._bindings.append((widget, prop, tag))
            if isinstance(widget, HmiWriter) and widget.WRITE_PROP in config.bind:
                self._wire_writer(config.id, widget, config.bind[widget.WRITE_PROP])
            action = config.on_click or _own_action(widget)
            if action is not None:
                widget.click_handler = functools.partial(self._act, action)

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
        for widget, prop, text in self._bindings:
            try:
                meta = binding_meta(text, self.source)
            except (KeyError, ExpressionError) as exc:
                now = time.time()
                problem = "unknown tag" if isinstance(exc, KeyError) else str(exc)
                widget.bind_meta(prop, TagMeta(text, DataType.STRING))
                widget.apply(
                    prop, TagValue(None, Quality.BAD, now, now, f"{Reason.CONFIG_ERROR}: {problem}")
                )
                continue
            widget.bind_meta(prop, meta)
            widget.apply(prop, None)
            self._subs.items.append(
                bind_source(text, self.source, functools.partial(widget.apply, prop))
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

    # ---- clicks ----------------------------------------------------------------------------
    def _act(self, action: ClickAction) -> None:
        if self.action_handler is None:
            log.warning("screen %s: no handler for %s", self.name, action)
            return
        self.action_handler(action)

    # ---- writes ----------------------------------------------------------------------------
    def _wire_writer(self, widget_id: str, control: HmiWriter, tag: str) -> None:
        rect = self.design_rect_of(control)
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        width = max(w, 240)
        x = min(x, self.design.width() - width)
        top = y + h + 3
        if top + FEEDBACK_HEIGHT > self.design.height():
            top = y - FEEDBACK_HEIGHT - 3
        feedback = WriteFeedback()
        self.place(feedback, QRect(max(0, x), top, width, FEEDBACK_HEIGHT))
        self.feedback[widget_id] = feedback
        control.set_write_handler(functools.partial(self._ask_write, tag, control, feedback))

    def _ask_write(self, tag: str, control: HmiWriter, feedback: WriteFeedback, value: Any) -> None:
        """Ask the control's confirm question (if any), then write."""
        question = control.confirm_question()
        if not question:
            self._start_write(tag, control, feedback, value)
            return
        shown = _shown_value(value, control.meta(control.WRITE_PROP))
        ask_confirm(
            self,
            question.replace("{value}", shown),
            functools.partial(self._start_write, tag, control, feedback, value),
            detail=f"{tag} := {shown}",
            scale=max(self.scale, 0.6),
        )

    def _start_write(
        self, tag: str, button: HmiWriter, feedback: WriteFeedback, value: Any
    ) -> None:
        if not shiboken6.isValid(self):
            return
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
        self, tag: str, value: Any, button: HmiWriter, feedback: WriteFeedback
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
        if not shiboken6.isValid(self):
            return
        shown = _shown_value(value, button.meta(button.WRITE_PROP))
        if error:
            feedback.show_error(error, f"write of {shown} to {tag} failed: {error}")
        else:
            feedback.show_done(f"✓ {shown} written")

    async def wait_writes(self) -> None:
        """Wait for writes still in flight (used on shutdown and in tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    def pending_writes(self) -> int:
        return len(self._writes)


def _shown_value(value: Any, meta: TagMeta | None) -> str:
    """A value to write as the operator reads it: in the tag's format, with its units."""
    if meta is None:
        return repr(value)
    text = meta.format_value(value)
    return f"{text} {meta.units}".strip() if meta.units else text


def _own_action(widget: HmiWidget) -> ClickAction | None:
    """The click action a widget carries itself (a navigation button's target screen)."""
    if isinstance(widget, NavButton):
        return ClickAction(navigate=widget.target_screen())
    return None


def render_screen(
    definition: ScreenDefinition, source: TagSource, parent: QWidget | None = None
) -> ScreenView:
    """Build the live widget for ``definition`` (it subscribes when first shown)."""
    return ScreenView(definition, source, parent)
