"""Renderer: a validated screen -> a live canvas whose widgets are bound through a TagSource.

The screen subscribes its bindings (tags or expressions) when shown and cancels every subscription
when hidden, so a screen nobody looks at costs no polling. Writes from controls run as named
asyncio tasks on the running (qasync) loop with a timeout, after the control's confirm question if
it has one; the outcome is shown next to the control and never blocks the GUI. Clicks on widgets
with an ``on_click`` (and navigation buttons) go to the screen's ``action_handler``.

Trends: a right-click on a widget that shows tag values offers "Trend <tag>" for each tag it
reads (an expression's input tags); the choice, a click on an embedded trend (``TrendItem``) and
an ``on_click: {trend: <saved trend>}`` go to the ``trend_handler`` as a ``TrendRequest``. While
shown, embedded trends move with a clock of ``TREND_TICK_MS`` and, given a ``history`` source,
are filled with the recorded past of their span (asynchronously) so they are never empty.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QPoint, QRect, QSize, QTimer
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import QMenu, QWidget

from hmi_app.core.datatypes import DataType
from hmi_app.core.deadlines import within
from hmi_app.core.expressions import ExpressionError, compile_expression, is_tag_reference
from hmi_app.core.history import HistoryError, HistorySource
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import Subscription, TagMeta, TagSource, WriteRefused
from screens.bindings import bind_source, binding_meta
from screens.feedback import WriteFeedback
from screens.model import ClickAction, PlacedWidget, ScreenDefinition
from widgets.base import HmiWidget, HmiWriter
from widgets.canvas import ItemCanvas
from widgets.confirm import ask_confirm
from widgets.nav_button import NavButton
from widgets.trend_item import BACKFILL_MAX_GAP_S, TrendButton, TrendItem

log = logging.getLogger(__name__)

WRITE_TIMEOUT_S = 8.0  # above the runtime's own device timeout, so its message wins
FEEDBACK_HEIGHT = 22
TREND_TICK_MS = 500
"""How often embedded trends move on while the screen is shown (their repaint period)."""


@dataclass(frozen=True)
class TrendRequest:
    """A trend to open in the trend window: ad hoc tags, or a saved definition by name.

    ``colours``/``labels`` are per tag (empty: the window's own); ``span`` in seconds (None: the
    window's default)."""

    title: str = ""
    tags: tuple[str, ...] = ()
    span: float | None = None
    colours: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    definition: str | None = None


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
        self.trend_handler: Callable[[TrendRequest], None] | None = None
        """Opens the trend window (right-click trends, trend items, trend actions)."""
        self.history: HistorySource | None = None
        """Where embedded trends get their past from when shown (None: live values only)."""
        self.history_gap: Callable[[str], float] = lambda _tag: BACKFILL_MAX_GAP_S
        """The longest pause between a tag's stored samples that is not a gap (no data): set
        by the window from the tag's recording interval."""
        self.trend_menu: QMenu | None = None
        """The right-click menu last offered (tests read it)."""
        self._placed: dict[int, PlacedWidget] = {}
        self._trends: list[TrendItem] = []
        self._backfills: set[asyncio.Task[None]] = set()
        self._trend_clock = QTimer(self)
        self._trend_clock.setInterval(TREND_TICK_MS)
        self._trend_clock.timeout.connect(self._tick_trends)
        self.context_menu_handler = self._offer_trends
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
            self._placed[id(widget)] = placed
            if isinstance(widget, TrendItem):
                self._trends.append(widget)
            for prop, tag in config.bind.items():
                self._bindings.append((widget, prop, tag))
            if isinstance(widget, HmiWriter) and widget.WRITE_PROP in config.bind:
                self._wire_writer(config.id, widget, config.bind[widget.WRITE_PROP])
            action = config.on_click or _own_action(widget)
            if action is not None:
                widget.click_handler = functools.partial(self._act, action)
            elif isinstance(widget, TrendItem):
                widget.click_handler = functools.partial(self._open_item_trend, widget)

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
        self._resume_trends()
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
        was_subscribed = bool(self._subs.items)
        self._subs.cancel_all()
        self._trend_clock.stop()
        for task in list(self._backfills):
            task.cancel()
        if was_subscribed:
            now = time.time()
            for item in self._trends:
                item.pause(now)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.subscribe()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.unsubscribe()

    # ---- trends ----------------------------------------------------------------------------
    def _resume_trends(self) -> None:
        """Start the trends' clock and fill them from history (before the live values bind)."""
        if not self._trends:
            return
        now = time.time()
        recorded = set(self.history.history_tags()) if self.history is not None else set()
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for item in self._trends:
            pens = {
                prop: tag
                for prop, tag in self._placed[id(item)].config.bind.items()
                if tag in recorded and loop is not None
            }
            item.resume(now, tuple(pens))
            item.tick(now)
            for prop, tag in pens.items():
                assert loop is not None
                task = loop.create_task(
                    self._backfill(item, prop, tag, now), name=f"screen {self.name}: backfill {tag}"
                )
                self._backfills.add(task)
                task.add_done_callback(self._backfills.discard)
        self._trend_clock.start()

    async def _backfill(self, item: TrendItem, prop: str, tag: str, now: float) -> None:
        if self.history is None:
            return
        try:
            series = await self.history.raw(tag, now - item.props.span, now)
        except HistoryError as exc:
            log.warning("screen %s: no history for %s: %s", self.name, tag, exc)
            return
        if shiboken6.isValid(self):
            item.backfill(prop, series, max_gap=self.history_gap(tag))

    async def wait_backfills(self) -> None:
        """Wait for the history reads of the embedded trends (tests and shutdown)."""
        while self._backfills:
            await asyncio.gather(*list(self._backfills), return_exceptions=True)

    def _tick_trends(self) -> None:
        now = time.time()
        for item in self._trends:
            item.tick(now)

    def trend_tags(self, item: HmiWidget) -> list[str]:
        """The tags a right-click on ``item`` offers: what it reads that a trend can draw."""
        placed = self._placed.get(id(item))
        if placed is None:
            return []
        tags: list[str] = []
        for tag in placed.bound_tags():
            try:
                meta = self.source.meta(tag)
            except KeyError:
                continue
            if meta.array_length or meta.data_type is DataType.STRING:
                continue
            tags.append(tag)
        return tags

    def _offer_trends(self, item: HmiWidget, global_pos: QPoint) -> None:
        """The right-click menu: 'Trend <tag>' per tag of ``item`` (and all of them at once)."""
        tags = self.trend_tags(item)
        if not tags or self.trend_handler is None:
            return
        if self.trend_menu is not None and shiboken6.isValid(self.trend_menu):
            self.trend_menu.close()
        menu = QMenu(self)
        menu.setObjectName("trendMenu")
        for tag in tags:
            action = menu.addAction(f"Trend {tag}")
            action.triggered.connect(functools.partial(self._request, TrendRequest(tag, (tag,))))
        if len(tags) > 1:
            menu.addSeparator()
            title = ", ".join(tags)
            everything = menu.addAction(f"Trend all {len(tags)}")
            everything.triggered.connect(
                functools.partial(self._request, TrendRequest(title, tuple(tags)))
            )
        self.trend_menu = menu
        menu.popup(global_pos)

    def _request(self, request: TrendRequest, *_: object) -> None:
        if self.trend_handler is None:
            log.warning("screen %s: no trend window for %s", self.name, request)
            return
        self.trend_handler(request)

    def _open_item_trend(self, item: TrendItem) -> None:
        """A click on an embedded trend: its pens in the trend window."""
        config = self._placed[id(item)].config
        tags: list[str] = []
        colours: list[str] = []
        labels: list[str] = []
        for prop in item.pen_props():
            text = config.bind.get(prop, "")
            inputs = [text] if is_tag_reference(text) else list(_expression_tags(text))
            for tag in inputs:
                if tag not in tags:
                    tags.append(tag)
                    colours.append(item.pen_colour(prop).name())
                    labels.append(item.pen_label(prop) if len(inputs) == 1 else tag)
        if tags:
            title = item.props.title or ", ".join(labels)
            request = TrendRequest(
                title, tuple(tags), item.props.span, tuple(colours), tuple(labels)
            )
            self._request(request)

    # ---- clicks ----------------------------------------------------------------------------
    def _act(self, action: ClickAction) -> None:
        if action.trend is not None:
            self._request(TrendRequest(definition=action.trend))
            return
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
            await within(self.source.write(tag, value), self.write_timeout)
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


def _expression_tags(text: str) -> tuple[str, ...]:
    try:
        return tuple(compile_expression(text).tags)
    except ExpressionError:
        return ()


def _own_action(widget: HmiWidget) -> ClickAction | None:
    """The click action a widget carries itself (a navigation button's target screen)."""
    if isinstance(widget, TrendButton):
        return ClickAction(trend=widget.saved_trend())
    if isinstance(widget, NavButton):
        return ClickAction(navigate=widget.target_screen())
    return None


def render_screen(
    definition: ScreenDefinition, source: TagSource, parent: QWidget | None = None
) -> ScreenView:
    """Build the live widget for ``definition`` (it subscribes when first shown)."""
    return ScreenView(definition, source, parent)
