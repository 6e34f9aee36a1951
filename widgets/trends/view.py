"""``TrendView``: up to eight pens over time, live or from history, with cursor, legend, export.

Live mode shows ``[now - span, now]`` and scrolls: each pen's values arrive through
``TagSource.subscribe`` into a preallocated ring buffer; one 10 Hz timer redraws behind a dirty
flag. History mode shows a fixed range the operator picks (presets, From/To, mouse pan and wheel
zoom); 150 ms after the range stops moving the history of every pen is fetched for it (with half
a width of margin each side), raw samples when few, min/max buckets one per pixel otherwise. All
fetches run as asyncio tasks on the Qt loop (qasync); a newer one cancels an older one and the
toolbar shows "Loading…" meanwhile: the GUI never waits.

Presets: while live, a preset changes the live span; in history mode it keeps the right edge of
the view and changes the width (zooming out around the moment being looked at). "Live" returns
to scrolling at the last live span. Dragging or wheeling the time axis leaves live mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QVBoxLayout, QWidget

from hmi_app.core.history import HistorySource
from hmi_app.core.quality import TagValue
from hmi_app.core.tagsource import Subscription, TagSource
from widgets import theme
from widgets.trends.export import pen_samples, save_dialog, write_csv, write_png
from widgets.trends.legend import LegendPen, TrendLegend, formatter
from widgets.trends.loader import HistoryLoader, event_loop
from widgets.trends.pens import HistoryLayer, PenData, Sample, read_exact
from widgets.trends.plot import TrendPlot
from widgets.trends.scaling import scale_for
from widgets.trends.spec import TrendSpec, meta_of
from widgets.trends.toolbar import PRESETS, TrendToolbar, local_text

log = logging.getLogger(__name__)

REDRAW_MS = 100  # at most 10 redraws a second
SETTLE_MS = 150  # the range must rest this long before history is fetched for it
DEFAULT_MAX_GAP = 150.0
"""Seconds between stored samples beyond which the line breaks (no data): 2.5 times the
historian's default maximum interval of 60 s, which guarantees a sample at least that often."""
LEGEND_WIDTH = 250


def buffer_capacity(span: float) -> int:
    """Live samples kept per pen: 20 a second over the span, within 10,000 .. 200,000."""
    return int(min(200_000, max(10_000, span * 20)))


class TrendView(QWidget):
    """A trend of a ``TrendSpec``: live from ``live``, history from ``history`` (both optional)."""

    range_changed = Signal(float, float)
    """The visible range after it settled, or when live mode starts or changes its span."""

    def __init__(
        self,
        spec: TrendSpec,
        live: TagSource | None,
        history: HistorySource | None,
        parent: QWidget | None = None,
        *,
        max_gap: float = DEFAULT_MAX_GAP,
        capacity: int | None = None,
        export_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._history = history
        self._clock = clock
        self.export_dir = export_dir or Path.home()
        metas = [meta_of(live, p.tag) for p in spec.pens]
        self.spec = TrendSpec(
            spec.title,
            tuple(
                replace(p, units=p.units or (m.units if m else ""))
                for p, m in zip(spec.pens, metas, strict=True)
            ),
            spec.span,
            spec.live,
        )
        cap = capacity or buffer_capacity(spec.span)
        self.pens = [PenData(p, cap, max_gap) for p in self.spec.pens]
        self._live = spec.live
        self._span = float(spec.span)
        self._dirty = True
        self._last_redraw = -math.inf  # monotonic time of the last redraw
        self._moving = 0  # >0 while the view itself sets the x range
        self._closed = False
        self._scale = 1.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._probe: asyncio.Task[None] | None = None
        self.export_dialog: QFileDialog | None = None
        self.last_error = ""

        self.setObjectName("trendView")
        self.setStyleSheet(
            f"#trendView {{ background: {theme.SCREEN_BG.name()}; }}"
            f"#trendLegend {{ background: {theme.PANEL_BG.name()};"
            f" border: 1px solid {theme.PANEL_EDGE.name()}; }}"
        )
        self.toolbar = TrendToolbar(self.spec.title)
        self.plot = TrendPlot(self.spec)
        self.legend = TrendLegend(
            [
                LegendPen(p.title, self.spec.colour_of(i), p.units, formatter(m))
                for i, (p, m) in enumerate(zip(self.spec.pens, metas, strict=True))
            ]
        )
        self.legend.setFixedWidth(LEGEND_WIDTH)
        self.body = QWidget()
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addWidget(self.plot, 1)
        body.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.body, 1)

        self._loader = (
            HistoryLoader(history, self.spec.pens, max_gap, self._history_loaded, self._busy)
            if history is not None
            else None
        )
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._tick)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._settled)

        self.toolbar.preset_clicked.connect(self.set_preset)
        self.toolbar.live_clicked.connect(self.go_live)
        self.toolbar.range_applied.connect(self.set_range)
        self.toolbar.hide_cursor_clicked.connect(self.hide_cursor)
        self.toolbar.export_csv_clicked.connect(lambda: self.ask_export("csv"))
        self.toolbar.export_png_clicked.connect(lambda: self.ask_export("png"))
        self.plot.user_moved.connect(self._user_moved)
        self.plot.x_changed.connect(self._x_changed)
        self.plot.cursor_moved.connect(self._cursor_moved)

        self._subscriptions: list[Subscription] = []
        if live is not None:
            for pen in self.pens:
                with contextlib.suppress(KeyError):  # unknown live tag: history only
                    self._subscriptions.append(live.subscribe(pen.spec.tag, self._feed(pen)))
        now = self._clock()
        self._set_x(now - self._span, now)
        self._show_mode()

    # ---- public API ------------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        """True while the view scrolls with the latest data."""
        return self._live

    @property
    def loading(self) -> bool:
        """True while history is being fetched."""
        return self._loader is not None and self._loader.busy

    @property
    def up_to_date(self) -> bool:
        """True when no fetch runs and what is drawn matches the data held."""
        return not self.loading and not self._dirty and not self._settle.isActive()

    def visible_range(self) -> tuple[float, float]:
        """The time range on screen (POSIX seconds)."""
        return self.plot.x_range()

    def set_preset(self, name: str) -> None:
        """Show the last 10 min, 1 h, 8 h, 24 h or 7 d (see the module docstring)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}: one of {', '.join(PRESETS)}")
        span = PRESETS[name]
        if self._live:
            self._span = span
            now = self._clock()
            self._set_x(now - span, now)
            self._show_mode()
            self._fetch_visible()
            self.range_changed.emit(now - span, now)
        else:
            end = self.visible_range()[1]
            self.set_range(end - span, end)

    def set_range(self, start: float, end: float) -> None:
        """Show ``[start, end]`` of history (leaves live mode)."""
        if not (math.isfinite(start) and math.isfinite(end) and end > start):
            raise ValueError(f"not a time range: {start} .. {end}")
        self._live = False
        self._set_x(start, end)
        self._show_mode()
        self._settle.stop()
        self._settled()

    def go_live(self) -> None:
        """Scroll with the latest data again, over the last live span."""
        self._live = True
        now = self._clock()
        self._set_x(now - self._span, now)
        self._show_mode()
        self._dirty = True
        self.range_changed.emit(now - self._span, now)

    def cursor_values(self, t: float) -> dict[str, Sample | None]:
        """Every pen's value at ``t`` (last sample at or before it, with quality) by tag."""
        return {pen.spec.tag: pen.value_at(t) for pen in self.pens}

    def hide_cursor(self) -> None:
        """Remove the cursor; the legend shows the latest values again."""
        self.plot.hide_cursor()
        self.toolbar.hide_cursor.setEnabled(False)
        self._dirty = True

    async def export_csv(self, path: Path) -> int:
        """Write the samples of the visible range to ``path`` (see ``export``); rows written."""
        start, end = self.visible_range()
        pens = [await pen_samples(pen, self._history, start, end) for pen in self.pens]
        return await asyncio.to_thread(write_csv, Path(path), pens)

    async def export_png(self, path: Path) -> None:
        """Write a picture of the plot and legend to ``path``."""
        image = self.body.grab().toImage()
        await asyncio.to_thread(write_png, Path(path), image)

    def close_view(self) -> None:
        """Stop timers, cancel every request and unsubscribe (call before dropping the view)."""
        self._closed = True
        self._timer.stop()
        self._settle.stop()
        if self._loader is not None:
            self._loader.cancel()
        for task in list(self._tasks):
            task.cancel()
        for sub in self._subscriptions:
            sub.cancel()
        self._subscriptions.clear()
        if self.export_dialog is not None:
            self.export_dialog.close()

    # ---- Qt --------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._closed:
            self._timer.start()
            self._dirty = True
            if not self._live:  # history for the range at the width now laid out
                self._settle.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        scale = scale_for(self.width(), self.height())
        if abs(scale - self._scale) > 0.04:
            self._scale = scale
            self.toolbar.set_scale(scale)
            self.legend.set_scale(scale)
            self.legend.setFixedWidth(round(LEGEND_WIDTH * scale))
            self.plot.set_scale(scale)
        if not self._live and self.isVisible():
            self._settle.start()  # buckets for the new width

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    # ---- live values and redraw ------------------------------------------------------------
    def _feed(self, pen: PenData) -> Callable[[TagValue], None]:
        def on_value(value: TagValue) -> None:
            pen.on_value(value)
            self._dirty = True

        return on_value

    def _tick(self) -> None:
        if time.monotonic() - self._last_redraw < REDRAW_MS / 2000:
            return  # history just drawn between two ticks: keep the cap
        if self._live:
            now = self._clock()
            self._set_x(now - self._span, now)
            self._fetch_if_uncovered(now)
            self._redraw(now)
        elif self._dirty:
            self._redraw(None)

    def _redraw_soon(self) -> None:
        """Redraw now if the last redraw is a period old, else at the next tick (the cap)."""
        self._dirty = True
        if self._timer.isActive() and time.monotonic() - self._last_redraw >= REDRAW_MS / 1000:
            self._redraw(self._clock() if self._live else None)

    def _redraw(self, now: float | None) -> None:
        self._last_redraw = time.monotonic()
        start, end = self.visible_range()
        for i, pen in enumerate(self.pens):
            x, y = pen.line(start, end, now)
            self.plot.set_pen_data(i, x, y)
        self.plot.fit_y()
        self.plot.commit()
        self._dirty = False
        self._update_legend()

    def _update_legend(self) -> None:
        t = self.plot.cursor_time()
        if t is not None:
            values = [pen.value_at(t) for pen in self.pens]
            self.legend.show_values(f"At {local_text(t)}", values)
        else:
            now = self._clock()
            self.legend.show_values("Latest values", [pen.latest_sample(now) for pen in self.pens])

    # ---- ranges and history ----------------------------------------------------------------
    def _set_x(self, start: float, end: float) -> None:
        self._moving += 1
        try:
            self.plot.set_x_range(start, end)
        finally:
            self._moving -= 1

    def _show_mode(self) -> None:
        width = self.visible_range()
        span = self._span if self._live else width[1] - width[0]
        preset = next((n for n, s in PRESETS.items() if abs(s - span) < 1.0), None)
        self.toolbar.show_mode(self._live, preset)
        self.toolbar.show_range(*self.visible_range())

    def _user_moved(self) -> None:
        if self._live:
            self._live = False
            self._show_mode()

    def _x_changed(self) -> None:
        if self._moving:
            return
        self._dirty = True
        self._settle.start()

    def _settled(self) -> None:
        if self._closed:
            return
        self._show_mode()
        if self._loader is None:
            self._dirty = True
        else:
            # the answer redraws; a redraw now would only push it to the next tick (the cap)
            self._fetch_visible()
        self.range_changed.emit(*self.visible_range())

    def _fetch_visible(self) -> None:
        """Fetch history for the visible range with half a width of margin each side."""
        if self._loader is None or self._closed:
            return
        start, end = self.visible_range()
        width = end - start
        pixels = self.plot.pixels()
        if self._live:
            self._loader.request(start - width * 0.1, self._clock(), int(pixels * 1.1))
        else:
            self._loader.request(start - width / 2, end + width / 2, pixels * 2)

    def _fetch_if_uncovered(self, now: float) -> None:
        if self._loader is None or self._loader.busy:
            return
        start, _ = self.visible_range()
        if not all(pen.covered(start, now) for pen in self.pens):
            self._fetch_visible()

    def _history_loaded(self, layers: list[HistoryLayer]) -> None:
        errors = []
        for pen, layer in zip(self.pens, layers, strict=True):
            pen.history = layer
            if layer.error:
                errors.append(layer.error)
        error = "; ".join(errors)
        if error != self.last_error:  # leave an export's outcome alone when nothing changed
            self.last_error = error
            self.toolbar.status.setText(error)
        self._probe_cursor()
        self._redraw_soon()

    def _busy(self, busy: bool) -> None:
        self.toolbar.loading.setVisible(busy)

    # ---- cursor ----------------------------------------------------------------------------
    def _cursor_moved(self, t: float) -> None:
        self.toolbar.hide_cursor.setEnabled(True)
        self._dirty = True
        self._probe_cursor()

    def _probe_cursor(self) -> None:
        """Read the exact samples under the cursor where the pens show buckets."""
        t = self.plot.cursor_time()
        if t is None or self._history is None:
            return
        pens = [p for p in self.pens if p.needs_probe(t)]
        if not pens:
            return
        if self._probe is not None:
            self._probe.cancel()
        self._probe = self._spawn(self._read_cursor(pens, t), "trend cursor read")

    async def _read_cursor(self, pens: list[PenData], t: float) -> None:
        assert self._history is not None
        await read_exact(self._history, pens, t)
        self._dirty = True

    # ---- export ----------------------------------------------------------------------------
    def ask_export(self, kind: str) -> QFileDialog:
        """A non-modal save dialog for a CSV or PNG of the visible range."""
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        dialog = save_dialog(self, kind, self.spec.title, self.export_dir)
        dialog.fileSelected.connect(lambda path: self._export_to(kind, Path(path)))
        self.export_dialog = dialog
        dialog.setWindowModality(Qt.WindowModality.NonModal)  # the trend stays usable
        dialog.show()
        return dialog

    def _export_to(self, kind: str, path: Path) -> None:
        self.toolbar.status.setText(f"Exporting to {path}…")
        self._spawn(self._export(kind, path), "trend export")

    async def _export(self, kind: str, path: Path) -> None:
        try:
            if kind == "csv":
                rows = await self.export_csv(path)
                text = f"{rows} samples exported to {path}"
            else:
                await self.export_png(path)
                text = f"Picture saved to {path}"
        except OSError as exc:
            text = f"Export failed: {exc}"
        self.toolbar.status.setText(text)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = event_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
