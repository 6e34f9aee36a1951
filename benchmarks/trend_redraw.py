"""Trend view under load: 8 live pens of 100,000 points redrawn at 10 Hz, and a 24 h pan backfill.

Each case runs in its own process, offscreen, in a 1600x1000 window:

- **TrendView, 8 live pens**: the product path. Eight pens whose ring buffers are prefilled with
  100,000 points each over the 1,000 s span; every 10 ms each pen gets a new value through a
  ``MemoryTagSource`` (100 values/s per pen, so 100,000 points stay in the window); the view
  redraws at most 10 Hz, clipped to the x range and peak-downsampled to the pixel width.
- **naive setData, 8 pens**: the same data and feed into a plain ``pyqtgraph.PlotWidget`` whose
  10 Hz timer hands every curve its full arrays (no clipping, no downsampling) and scrolls.
- **24 h pan backfill**: a real ``Historian`` file with 24 h of 1 s samples of 4 tags
  (345,600 rows) and a TrendView in history mode; the view is panned by a quarter of a day (and
  zoomed to 24 h from 1 h) and the time from ``set_range`` to the new history drawn is taken.

Reported for the live cases: GUI loop lag (a 10 ms precise timer; lag = how late each tick came)
p50/p99/max and process CPU in % of one core (``time.process_time`` over wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import isolated
from benchmarks.screen_updates import Probe

PENS = 8
POINTS = 100_000
SPAN_S = 1000.0
FEED_MS = 10
WARM_UP_S = 2.0
MEASURE_S = 10.0
SIZE = (1600, 1000)
BACKFILL_TAGS = 4
PANS = 8

CASES = {
    "view": "TrendView, 8 live pens x 100,000 points",
    "naive": "naive setData of full arrays, 8 pens x 100,000 points",
}


def _prefill() -> tuple[Any, Any]:
    """100,000 points per pen over the last ``SPAN_S`` seconds (a slow sine plus noise)."""
    import numpy as np

    now = time.time()
    ts = np.linspace(now - SPAN_S, now, POINTS, endpoint=False)
    rng = np.random.default_rng(1)
    return ts, rng


def _value(i: int, t: float) -> float:
    return 50.0 + 10 * i + 20 * math.sin(t / (30.0 + i)) + 3 * math.sin(t * 7.0)


def _appender(ring: Any) -> Any:
    """A TagSource callback appending each value to ``ring``."""

    def append(value: Any) -> None:
        ring.append(value.source_ts, float(value.value), int(value.quality))

    return append


def run_live(case: str, seconds: float) -> dict[str, Any]:
    """One live case: the TrendView or the naive plot, fed at 100 values/s per pen."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from hmi_app.core.datatypes import DataType
    from hmi_app.core.tagsource import TagMeta
    from screens.memory_source import MemoryTagSource
    from widgets.trends.ring import RingBuffer
    from widgets.trends.spec import PenSpec, TrendSpec
    from widgets.trends.view import TrendView

    app = QApplication.instance() or QApplication([])
    tags = [f"bench.pen{i}" for i in range(PENS)]
    source = MemoryTagSource(TagMeta(t, DataType.FLOAT64, "u", ".2f") for t in tags)
    ts, rng = _prefill()
    redraws = 0
    if case == "view":
        spec = TrendSpec("bench", tuple(PenSpec(t, units=f"u{i % 4}") for i, t in enumerate(tags)))
        spec = TrendSpec("bench", spec.pens, span=SPAN_S)
        view = TrendView(spec, source, None, capacity=POINTS)
        for i, pen in enumerate(view.pens):
            values = np.array([_value(i, t) for t in ts[:: POINTS // 1000]]).repeat(100)
            values = values + rng.normal(0, 0.5, POINTS)
            pen.ring.extend(ts, values, np.zeros(POINTS, dtype=np.uint8))
        original = view._redraw

        def counted(now: float | None) -> None:
            nonlocal redraws
            redraws += 1
            original(now)

        view._redraw = counted  # type: ignore[method-assign]
        widget: Any = view
    else:
        plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        rings = [RingBuffer(POINTS) for _ in tags]
        curves = []
        for i, ring in enumerate(rings):
            values = np.array([_value(i, t) for t in ts[:: POINTS // 1000]]).repeat(100)
            ring.extend(ts, values + rng.normal(0, 0.5, POINTS), np.zeros(POINTS, dtype=np.uint8))
            curves.append(plot.plot(pen=pg.mkPen(width=2)))
            source.subscribe(tags[i], _appender(ring))
        plot.getPlotItem().getViewBox().disableAutoRange(axis=pg.ViewBox.XAxis)

        def naive_redraw() -> None:
            nonlocal redraws
            redraws += 1
            now = time.time()
            for ring, curve in zip(rings, curves, strict=True):
                x, y, _ = ring.arrays()
                curve.setData(x, y)
            plot.setXRange(now - SPAN_S, now, padding=0)

        redraw_timer = QTimer()
        redraw_timer.setInterval(100)
        redraw_timer.timeout.connect(naive_redraw)
        redraw_timer.start()
        widget = plot

    def feed() -> None:
        now = time.time()
        for i, tag in enumerate(tags):
            source.set(tag, _value(i, now) + float(rng.normal(0, 0.5)))
        source.flush()

    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(FEED_MS)
    feeder.timeout.connect(feed)
    feeder.start()
    widget.resize(*SIZE)
    widget.show()
    probe = Probe()
    end = time.perf_counter() + WARM_UP_S
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    probe.restart()
    redraws = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    result = probe.result(redraws, 0)  # "updates" per second are redraws here
    result["redraws"] = result.pop("updates")
    feeder.stop()
    if case == "view":
        result["shown"] = sum(view.plot.displayed(i) for i in range(PENS)) / PENS
        view.close_view()
    else:
        result["shown"] = float(POINTS)
    return result


def run_backfill() -> dict[str, Any]:
    """Time from ``set_range`` to the new history drawn, on a real 24 h, 1 s historian file."""
    import numpy as np
    import qasync
    from PySide6.QtWidgets import QApplication

    from hmi_app.runtime.historian import Historian
    from widgets.trends.spec import PenSpec, TrendSpec
    from widgets.trends.view import TrendView

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    day = 86400.0

    async def main(folder: Path) -> dict[str, Any]:
        historian = await Historian.open(folder / "history.sqlite")
        end = float(math.floor(time.time()))
        ts = np.arange(end - day, end, 1.0)
        tags = [f"bench.h{i}" for i in range(BACKFILL_TAGS)]
        began = time.perf_counter()
        for i, tag in enumerate(tags):
            values = 50 + 20 * np.sin(ts / (600.0 * (i + 1))) + np.sin(ts)
            await historian.insert(
                (tag, float(t), float(v), 0) for t, v in zip(ts, values, strict=True)
            )
        insert_s = time.perf_counter() - began
        spec = TrendSpec("bench", tuple(PenSpec(t) for t in tags), span=day, live=False)
        view = TrendView(spec, None, historian)
        view.resize(*SIZE)
        view.show()
        times: list[float] = []
        queries: list[float] = []
        ranges = [(end - day / 24 - k * 600, end - k * 600) for k in range(2)]  # warm the cache
        ranges += [(end - day - k * day / 4, end - k * day / 4) for k in range(PANS)]
        ranges += [(end - day, end)]
        try:
            for start, stop in ranges:
                await asyncio.sleep(0.2)
                t0 = time.perf_counter()
                view.set_range(start, stop)
                while not view.up_to_date:  # noqa: ASYNC110 - polled to the millisecond
                    await asyncio.sleep(0.001)
                times.append((time.perf_counter() - t0) * 1000)
                queries.append(view._loader.last_duration * 1000 if view._loader else 0.0)
            kinds = {("buckets" if p.history and p.history.buckets else "raw") for p in view.pens}
        finally:
            view.close_view()
            await historian.close()
        measured = times[2:]
        return {
            "rows": len(ts) * len(tags),
            "insert_s": insert_s,
            "median": statistics.median(measured),
            "queries": statistics.median(queries[2:]),
            "max": max(measured),
            "pans": len(measured),
            "kinds": ",".join(sorted(kinds)),
            "pixels": view.plot.pixels(),
        }

    with tempfile.TemporaryDirectory() as tmp:
        result: dict[str, Any] = loop.run_until_complete(main(Path(tmp)))
        return result


def run_case(case: str, seconds: float) -> dict[str, Any]:
    """Run one case in a fresh process and return its figures."""
    return isolated.run_case("benchmarks.trend_redraw", case, seconds, grace=300)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "backfill"], help="run one case (internal)")
    parser.add_argument("--seconds", type=float, default=MEASURE_S)
    args = parser.parse_args(argv)
    if args.case:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        result = run_backfill() if args.case == "backfill" else run_live(args.case, args.seconds)
        print(json.dumps(result))
        return
    print(
        f"Trend redraw: {PENS} pens x {POINTS:,} points, {1000 // FEED_MS} new values/s per pen,"
        f" redraw at most 10 Hz, {args.seconds:g} s measured after {WARM_UP_S:g} s, offscreen"
        f" {SIZE[0]}x{SIZE[1]}"
    )
    lines = [
        "| case | lag p50 ms | lag p99 ms | lag max ms | CPU % of a core | redraws/s"
        " | points drawn per pen |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case, title in CASES.items():
        r = run_case(case, args.seconds)
        lines.append(
            f"| {title} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['cpu']:.0f}"
            f" | {r['redraws']:.1f} | {r['shown']:,.0f} |"
        )
    print("\n".join(lines))
    b = run_case("backfill", args.seconds)
    print()
    print(
        f"24 h pan backfill: real Historian, {BACKFILL_TAGS} tags x 24 h of 1 s samples"
        f" ({b['rows']:,} rows, inserted in {b['insert_s']:.1f} s), plot {b['pixels']} px wide,"
        f" drawn from {b['kinds']}"
    )
    print("| case | pans | median ms | max ms | of which history queries, median ms |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| set_range -> history drawn (pan by 6 h, 24 h wide) | {b['pans']} |"
        f" {b['median']:.0f} | {b['max']:.0f} | {b['queries']:.0f} |"
    )


if __name__ == "__main__":
    main()
