"""Operator screen under load: 1,000 bound widgets whose tags all change at 10 Hz.

Each case runs in its own process (clean CPU and memory figures), offscreen, on a 1600x1000
window, for a warm-up and then a measured interval:

- **screen, spread flush**: the product path. A ``sim`` connection scans 1,000 tags every 100 ms
  (500 counters shown by numeric displays, 500 run/stop bits shown by state indicators) through
  the real runtime, tag engine and tag bus; the bus is handed to the screen by the app's 20 ms
  ``FlushPacer`` (a scan's values spread over four 20 ms ticks), garbage collected as the app
  does (``GuiThreadCollector``).
- **screen, one flush per 100 ms**: the same, the bus flushed in one go every 100 ms.
- **screen, updates off**: the same screen and runtime with values that never change.
- **plain QLabels**: the baseline: 1,000 QLabels in the same grid updated from one 10 Hz timer,
  ``setText`` only when the text changed, no runtime.

Reported: GUI event-loop lag (a 10 ms precise timer; lag = how late each tick came) p50, p99 and
max; process CPU in % of one core; widget updates applied per second (the target is all 10,000);
items painted per second; resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import isolated

ROWS, COLUMNS = 40, 25
CELL_W, CELL_H = 64, 25
DESIGN = (COLUMNS * CELL_W, ROWS * CELL_H)  # 1600 x 1000
WIDGETS = ROWS * COLUMNS
PERIOD_MS = 100
WARM_UP_S = 3.0
MEASURE_S = 10.0

CASES = {
    "spread": "screen, spread flush (20 ms ticks)",
    "burst": "screen, one flush per 100 ms",
    "idle": "screen, updates off",
    "labels": "plain QLabels, 10 Hz timer",
}


# ---- the project the screen cases run ---------------------------------------------------------
def write_project(folder: Path, *, changing: bool) -> None:
    """A project with one sim connection, 1,000 tags and one screen binding all of them."""
    counter = "counter:step=1,per=scan" if changing else "counter:step=1,per=s,wrap=1"
    toggle = "counter:step=1,per=scan,wrap=2" if changing else "counter:step=1,per=s,wrap=1"
    tags, widgets = [], []
    for index in range(WIDGETS):
        row, column = divmod(index, COLUMNS)
        x, y = column * CELL_W, row * CELL_H
        geometry = f"[{x + 1}, {y + 1}, {CELL_W - 2}, {CELL_H - 2}]"
        if index % 2 == 0:
            tags.append(
                f"  - {{name: b.n{index}, connection: sim, address: '{counter}', "
                f"type: uint32, format: d, scan: fast}}"
            )
            widgets.append(
                f"  - {{id: w{index}, type: numeric, geometry: {geometry}, "
                f"props: {{value_size: 15}}, bind: {{value: b.n{index}}}}}"
            )
        else:
            tags.append(
                f"  - {{name: b.s{index}, connection: sim, address: '{toggle}', "
                f"type: uint16, scan: fast}}"
            )
            widgets.append(
                f"  - {{id: w{index}, type: state, geometry: {geometry},"
                f" bind: {{value: b.s{index}}},"
                f" props: {{states: [{{value: 0, text: STOP, style: stopped}},"
                f" {{value: 1, text: RUN, style: running}}]}}}}"
            )
    (folder / "screens").mkdir(parents=True, exist_ok=True)
    (folder / "project.yaml").write_text(
        "schema_version: 1\n"
        "project: {name: Screen benchmark, start_screen: bench}\n"
        f"scan_classes: {{fast: {PERIOD_MS}}}\n"
        "connections:\n  sim: {driver: sim}\n"
        "tags:\n" + "\n".join(tags) + "\n"
        "screens:\n  - screens/bench.yaml\n",
        encoding="utf-8",
    )
    (folder / "screens" / "bench.yaml").write_text(
        "schema_version: 1\nname: bench\n"
        f"size: [{DESIGN[0]}, {DESIGN[1]}]\n"
        "widgets:\n" + "\n".join(widgets) + "\n",
        encoding="utf-8",
    )


# ---- measuring inside the case process ----------------------------------------------------------
class Probe:
    """A 10 ms precise timer recording how late each tick comes, plus CPU and wall time."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.lags: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.restart()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, (now - self._last) * 1000.0 - 10.0))
        self._last = now

    def restart(self) -> None:
        self.lags.clear()
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()

    def result(self, updates: int, painted: int) -> dict[str, Any]:
        import psutil

        wall = time.perf_counter() - self.wall0
        cpu = time.process_time() - self.cpu0
        lags = sorted(self.lags) or [0.0]
        self._timer.stop()
        return {
            "p50": lags[len(lags) // 2],
            "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
            "max": lags[-1],
            "cpu": 100.0 * cpu / wall,
            "updates": updates / wall,
            "painted": painted / wall,
            "rss": psutil.Process().memory_info().rss / 2**20,
        }


def run_labels(seconds: float) -> dict[str, Any]:
    """The baseline: QLabels and one 10 Hz timer."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication, QLabel, QWidget

    app = QApplication.instance() or QApplication([])
    window = QWidget()
    window.setStyleSheet("background: #d9d9d9")
    window.resize(*DESIGN)
    font = QFont()
    font.setPixelSize(15)
    labels: list[QLabel] = []
    for index in range(WIDGETS):
        row, column = divmod(index, COLUMNS)
        label = QLabel("", window)
        label.setFont(font)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        label.setGeometry(column * CELL_W + 1, row * CELL_H + 1, CELL_W - 2, CELL_H - 2)
        labels.append(label)
    window.show()
    applied = [0]
    tick = [0]

    def update() -> None:
        tick[0] += 1
        for index, label in enumerate(labels):
            text = str(tick[0] + index) if index % 2 == 0 else ("RUN", "STOP")[tick[0] % 2]
            if label.text() != text:
                label.setText(text)
                applied[0] += 1

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(PERIOD_MS)
    timer.timeout.connect(update)
    timer.start()
    probe = Probe()
    outcome: dict[str, Any] = {}

    def warm() -> None:
        probe.restart()
        applied[0] = 0

    def done() -> None:
        outcome.update(probe.result(applied[0], applied[0]))
        app.quit()

    QTimer.singleShot(int(WARM_UP_S * 1000), warm)
    QTimer.singleShot(int((WARM_UP_S + seconds) * 1000), done)
    app.exec()
    timer.stop()
    window.close()
    return outcome


def run_screen(case: str, seconds: float) -> dict[str, Any]:
    """A project screen on the real runtime (sim driver -> engine -> bus -> widgets)."""
    import qasync
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from hmi_app.core.project.loader import load_project
    from hmi_app.runtime.bus import FlushPacer
    from hmi_app.runtime.runtime import Runtime
    from hmi_app.shell.app import FLUSH_SLICES, SPREAD_TICKS
    from hmi_app.shell.gc_policy import GuiThreadCollector
    from screens.model import ScreenDefinition
    from screens.renderer import ScreenView
    from screens.templates import check_screens

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    collector = GuiThreadCollector()  # as the app does
    ticks = 1 if case == "burst" else FLUSH_SLICES  # timer ticks per 100 ms
    spread = 1 if case == "burst" else SPREAD_TICKS

    async def main(folder: Path) -> dict[str, Any]:
        project = load_project(folder)
        screens = check_screens(project.screen_docs, {t.name for t in project.model.tags})
        definition = screens.screens["bench"]
        assert isinstance(definition, ScreenDefinition), definition
        runtime = Runtime(project)
        await runtime.start()
        view = ScreenView(definition, runtime.bus)
        view.resize(*DESIGN)
        view.show()
        pacer = FlushPacer(runtime.bus, spread)
        collector.freeze_startup()  # as the app does once its window is up
        applied = [0]

        def tick() -> None:
            applied[0] += pacer.tick()

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(PERIOD_MS // ticks)
        timer.timeout.connect(tick)
        timer.start()
        probe = Probe()
        try:
            await asyncio.sleep(WARM_UP_S)
            probe.restart()
            applied[0] = 0
            painted0 = view.items_painted
            await asyncio.sleep(seconds)
            return probe.result(applied[0], view.items_painted - painted0)
        finally:
            timer.stop()
            view.hide()
            view.close()
            await runtime.stop()

    with tempfile.TemporaryDirectory() as tmp:
        write_project(Path(tmp), changing=case != "idle")
        try:
            with loop:
                return loop.run_until_complete(main(Path(tmp)))
        finally:
            collector.stop()


# ---- the table --------------------------------------------------------------------------------
def run_case(case: str, seconds: float) -> dict[str, Any]:
    """Run one case in a fresh process and return its figures."""
    return isolated.run_case("benchmarks.screen_updates", case, seconds, grace=120)


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| case | lag p50 ms | lag p99 ms | lag max ms | CPU % of a core | updates/s"
        " | items painted/s | RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case, r in results.items():
        lines.append(
            f"| {CASES[case]} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['cpu']:.0f}"
            f" | {r['updates']:,.0f} | {r['painted']:,.0f} | {r['rss']:.0f} |"
        )
    if "spread" in results and "labels" in results:
        ours, base = results["spread"], results["labels"]
        lines.append("")
        lines.append(
            f"spread flush vs plain QLabels: p99 lag x{ours['p99'] / max(base['p99'], 0.1):.2f},"
            f" CPU x{ours['cpu'] / max(base['cpu'], 0.1):.2f} (targets: p99 < 20 ms, CPU < 25 %,"
            " both at most half the baseline's)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help="run one case here (internal)")
    parser.add_argument("--seconds", type=float, default=MEASURE_S)
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES)
    )
    args = parser.parse_args(argv)
    if args.case:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        runner: Callable[[], dict[str, Any]] = (
            (lambda: run_labels(args.seconds))
            if args.case == "labels"
            else (lambda: run_screen(args.case, args.seconds))
        )
        print(json.dumps(runner()))
        return
    print(
        f"Operator screen: {WIDGETS:,} bound widgets (numeric + state), tags changing every"
        f" {PERIOD_MS} ms, {args.seconds:g} s measured after {WARM_UP_S:g} s, offscreen"
    )
    results = {case: run_case(case, args.seconds) for case in args.cases.split(",")}
    print(table(results))


if __name__ == "__main__":
    main()
