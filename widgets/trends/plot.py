"""The pyqtgraph plot of a trend: one time axis, one y axis per group of pens, a cursor line.

The first axis group lives in the PlotItem's own ViewBox (left axis); every further group gets
its own ViewBox, x-linked to the first and stacked under it, with an axis on the right (the
layout of pyqtgraph's ``MultiplePlotAxes`` example). Only the main ViewBox takes the mouse, and
only along x: drag pans, the wheel zooms time, the y axes follow the data (or a pen's fixed
``y_min``/``y_max``).

Each pen is a ``PlotDataItem`` drawn with ``connect='finite'`` (NaN = gap), antialiasing off,
clipped to the explicit x range and peak-downsampled to the pixel width.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem, QWidget

from hmi_app.core.history import FloatArray
from widgets import theme
from widgets.trends.spec import TrendSpec

PLOT_BG = "#eeeeee"
AXIS_PEN = "#5c5c5c"
GRID_ALPHA = 0.25
CURSOR_COLOUR = "#262626"
DOWNSAMPLE_FACTOR = 1.0
Y_MARGIN = 0.08  # of the data's span, above and below
Y_SHRINK = 0.6  # an axis is refitted when the data fills less than this of it


class TrendPlot(pg.PlotWidget):  # type: ignore[misc]
    """Curves of a ``TrendSpec`` on shared or separate y axes, with a movable cursor line."""

    user_moved = Signal()
    """The x range was changed with the mouse (drag or wheel)."""
    x_changed = Signal()
    """The x range changed, for whatever reason."""
    cursor_moved = Signal(float)
    """The cursor was placed or dragged to this time."""

    def __init__(self, spec: TrendSpec, parent: QWidget | None = None) -> None:
        date_axis = pg.DateAxisItem(orientation="bottom")
        super().__init__(parent, background=PLOT_BG, axisItems={"bottom": date_axis})
        self.spec = spec
        self._scale = 1.0
        self._labels: list[tuple[pg.AxisItem, str, str]] = []
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=GRID_ALPHA)
        self.main_view: pg.ViewBox = item.getViewBox()
        self.main_view.setMouseEnabled(x=True, y=False)
        self.main_view.disableAutoRange(axis=pg.ViewBox.XAxis)
        self.views: list[pg.ViewBox] = []
        self.axes: list[pg.AxisItem] = []
        self._auto_y: list[tuple[pg.ViewBox, list[int]]] = []
        self._fitted: set[int] = set()
        curves: dict[int, pg.PlotDataItem] = {}
        self._style_axis(item.getAxis("bottom"))
        for g, group in enumerate(spec.axis_groups()):
            view, axis = self._add_group(item, g)
            self.views.append(view)
            self.axes.append(axis)
            # a y axis changes only when its range does, not when time scrolls: keep it as a
            # pixmap instead of replaying its text and grid on every frame
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self._label_axis(axis, group)
            for i in group:
                pen = spec.pens[i]
                curve = pg.PlotDataItem(
                    connect="finite",
                    antialias=False,
                    pen=pg.mkPen(spec.colour_of(i), width=pen.width),
                    name=pen.title,
                )
                curve.setDownsampling(auto=True, method="peak")
                # one min/max pair per pixel column: every extreme still drawn, and 5x fewer
                # segments to stroke than pyqtgraph's default of 5 samples per pixel
                curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
                curve.setClipToView(True)
                view.addItem(curve)
                curves[i] = curve
            self._set_y_policy(view, group)
        self.curves: list[pg.PlotDataItem] = [curves[i] for i in range(len(spec.pens))]
        self.main_view.sigResized.connect(self._sync_views)
        self.main_view.sigRangeChangedManually.connect(lambda *_: self.user_moved.emit())
        self.main_view.sigXRangeChanged.connect(lambda *_: self.x_changed.emit())
        self.cursor = pg.InfiniteLine(
            angle=90,
            movable=True,
            pen=pg.mkPen(CURSOR_COLOUR, width=2),
            hoverPen=pg.mkPen(CURSOR_COLOUR, width=4),
        )
        self.cursor.setZValue(100)
        self.cursor.hide()
        self.main_view.addItem(self.cursor, ignoreBounds=True)
        self.cursor.sigPositionChanged.connect(lambda line: self.cursor_moved.emit(line.value()))
        self.scene().sigMouseClicked.connect(self._clicked)
        self._sync_views()

    # ---- building --------------------------------------------------------------------------
    def _add_group(self, item: pg.PlotItem, g: int) -> tuple[pg.ViewBox, pg.AxisItem]:
        if g == 0:
            axis = item.getAxis("left")
            self._style_axis(axis)
            return self.main_view, axis
        view = pg.ViewBox(enableMenu=False)
        view.disableAutoRange()  # x follows the main view; y is fitted by fit_y
        view.setMouseEnabled(x=False, y=False)
        view.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # under the main view (a ViewBox sits at z -100): pyqtgraph hands drags and the wheel
        # to the topmost ViewBox, which must be the main one
        view.setZValue(-200)
        item.scene().addItem(view)
        view.setXLink(self.main_view)
        if g == 1:
            item.showAxis("right")
            axis = item.getAxis("right")
        else:
            axis = pg.AxisItem("right")
            item.layout.addItem(axis, 2, g + 1)
        axis.linkToView(view)
        axis.setZValue(-10000)
        self._style_axis(axis)
        return view, axis

    def _style_axis(self, axis: pg.AxisItem) -> None:
        axis.setPen(pg.mkPen(AXIS_PEN))
        axis.setTextPen(pg.mkPen(theme.TEXT.name()))
        tick_font: QFont = theme.font(theme.CAPTION_PX, self._scale)
        axis.setStyle(tickFont=tick_font, autoExpandTextSpace=True)

    def set_scale(self, scale: float) -> None:
        """Axis fonts for a view ``scale`` times the design size."""
        self._scale = scale
        self._style_axis(self.getPlotItem().getAxis("bottom"))
        for axis, text, colour in self._labels:
            self._style_axis(axis)
            size = f"{round(theme.LABEL_PX * scale)}px"
            axis.setLabel(text, color=colour, **{"font-size": size})

    def _label_axis(self, axis: pg.AxisItem, group: list[int]) -> None:
        pens = [self.spec.pens[i] for i in group]
        units = next((p.units for p in pens if p.units), "")
        if len(pens) == 1:
            text = f"{pens[0].title} ({units})" if units else pens[0].title
            colour = self.spec.colour_of(group[0])
        else:
            text = units or pens[0].axis
            colour = theme.TEXT.name()
        axis.setLabel(text, color=colour, **{"font-size": f"{theme.LABEL_PX}px"})
        self._labels.append((axis, text, colour))

    def _set_y_policy(self, view: pg.ViewBox, group: list[int]) -> None:
        view.disableAutoRange(axis=pg.ViewBox.YAxis)  # fit_y does it, once per redraw
        lows = [p.y_min for i in group if (p := self.spec.pens[i]).y_min is not None]
        highs = [p.y_max for i in group if (p := self.spec.pens[i]).y_max is not None]
        if lows and highs and min(lows) < max(highs):
            view.setYRange(min(lows), max(highs), padding=0.02)
        else:
            self._auto_y.append((view, group))

    def fit_y(self) -> None:
        """Fit each y axis without a fixed range to the data on screen, with hysteresis.

        Done here, before the paint, rather than by pyqtgraph's auto-range (which adjusts
        during the paint and so paints every frame twice), and only when the data leaves the
        axis or fills less than ``Y_SHRINK`` of it: a steady axis is easier to read than one
        that twitches with every new sample.
        """
        for view, group in self._auto_y:
            lo, hi = math.inf, -math.inf
            for i in group:
                _, y = self.curves[i].getData()
                if y is None or not len(y):
                    continue
                with np.errstate(all="ignore"):
                    lo = min(lo, float(np.nanmin(y))) if np.isfinite(y).any() else lo
                    hi = max(hi, float(np.nanmax(y))) if np.isfinite(y).any() else hi
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            if hi - lo < 1e-12:
                pad = abs(lo) * 0.05 or 1.0
                lo, hi = lo - pad, hi + pad
            cur_lo, cur_hi = view.viewRange()[1]
            shown = cur_hi - cur_lo
            inside = cur_lo <= lo and hi <= cur_hi
            if id(view) in self._fitted and inside and hi - lo >= Y_SHRINK * shown:
                continue
            margin = (hi - lo) * Y_MARGIN
            view.setYRange(lo - margin, hi + margin, padding=0)
            self._fitted.add(id(view))

    def commit(self) -> None:
        """Apply the new ranges now: pyqtgraph would do it lazily at the start of the paint,
        and the curves' geometry changing inside the paint makes Qt paint everything twice."""
        for view in self.views:
            view.updateMatrix()

    def _sync_views(self) -> None:
        rect = self.main_view.sceneBoundingRect()
        for view in self.views[1:]:
            view.setGeometry(rect)
            view.linkedViewChanged(self.main_view, view.XAxis)

    # ---- use -------------------------------------------------------------------------------
    def set_pen_data(self, index: int, x: FloatArray, y: FloatArray) -> None:
        """Replace what pen ``index`` draws."""
        self.curves[index].setData(x, y, connect="finite")

    def set_x_range(self, start: float, end: float) -> None:
        """Show ``[start, end]`` (no padding)."""
        self.main_view.setXRange(start, end, padding=0)

    def x_range(self) -> tuple[float, float]:
        """The visible time range."""
        (x0, x1), _ = self.main_view.viewRange()
        return float(x0), float(x1)

    def pixels(self) -> int:
        """Width of the plot area in device pixels (at least 100: before the first layout)."""
        return max(100, int(self.main_view.width() * self.devicePixelRatioF()))

    def show_cursor(self, t: float) -> None:
        """Put the cursor at time ``t`` and show it."""
        self.cursor.show()
        self.cursor.setValue(t)

    def hide_cursor(self) -> None:
        self.cursor.hide()

    def cursor_time(self) -> float | None:
        """Where the cursor is, None when hidden."""
        return float(self.cursor.value()) if self.cursor.isVisible() else None

    def time_at(self, widget_pos: QPointF) -> float:
        """The time under a point of this widget."""
        scene = self.mapToScene(widget_pos.toPoint())
        return float(self.main_view.mapSceneToView(scene).x())

    def pos_of(self, t: float, fraction_y: float = 0.5) -> QPointF:
        """The point of this widget showing time ``t`` at ``fraction_y`` of the plot height."""
        rect = self.main_view.sceneBoundingRect()
        x0, x1 = self.x_range()
        sx = rect.left() + (t - x0) / (x1 - x0) * rect.width()
        sy = rect.top() + fraction_y * rect.height()
        return QPointF(self.mapFromScene(QPointF(sx, sy)))

    def drawn(self, index: int) -> tuple[FloatArray, FloatArray]:
        """What pen ``index`` holds to draw (before clipping and downsampling)."""
        x, y = self.curves[index].getOriginalDataset()
        if x is None or y is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def displayed(self, index: int) -> int:
        """How many points pen ``index`` puts on screen (after clipping and downsampling)."""
        x, _ = self.curves[index].getData()
        return 0 if x is None else len(x)

    def _clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        pos = event.scenePos()
        if not self.main_view.sceneBoundingRect().contains(pos):
            return
        t = float(self.main_view.mapSceneToView(pos).x())
        if math.isfinite(t):
            self.show_cursor(t)
            self.cursor_moved.emit(t)
