"""Screen designer on a large screen: 500 widgets of mixed types, offscreen, at 1600x1000.

Measured, each with the paint it causes (events are sent, then the event loop runs until the
canvas has repainted):

- **open**: ``ScreenDocument.load`` of the file, then building the ``DesignCanvas`` (every
  widget) and its first full paint; medians of 5.
- **drag start**: the first mouse move of a drag, which makes the pixmap of the widgets that stay
  put (a copy of the canvas's scene cache with the moving widgets' areas repainted without them);
  later steps repaint from it.
- **drag step**: one mouse move while dragging a selection of 1 and of 20 widgets (snapping to
  the grid and the neighbours' edges on), p50 and p99 over 200 steps; the release commits one
  undo step.
- **selection click**: press and release on a widget (selects it, repaints the handles).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

WIDGETS = 500
COLUMNS = 20
CELL_W, CELL_H = 80, 40
DESIGN = (1600, 1000)
STEPS = 200
KINDS = [
    ("numeric", "{label: N{n}}", "value", "plant.t{n}"),
    ("state", "{label: S{n}}", "value", "plant.s{n}"),
    ("text", "{text: 'Label {n}'}", None, None),
    ("bar", "{label: B{n}}", "value", "plant.t{n}"),
    ("command", "{text: GO}", "value", "plant.c{n}"),
    ("level", "{}", "value", "plant.l{n}"),
    ("symbol", "{label: P{n}, symbol: pump}", "value", "plant.r{n}"),
    ("entry", "{label: E{n}}", "value", "plant.e{n}"),
    ("pipe", "{}", "flow", "plant.f{n}"),
    ("gauge", "{}", "value", "plant.g{n}"),
]


def screen_text() -> str:
    """A 1600x1000 screen with ``WIDGETS`` widgets of mixed types in a grid, most bound."""
    lines = [
        "schema_version: 1",
        "name: big",
        f"size: [{DESIGN[0]}, {DESIGN[1]}]",
        "widgets:",
    ]
    for n in range(WIDGETS):
        kind, props, prop, tag = KINDS[n % len(KINDS)]
        row, column = divmod(n, COLUMNS)
        x, y = column * CELL_W + 2, row * CELL_H + 2
        bind = f", bind: {{{prop}: {tag.replace('{n}', str(n))}}}" if prop and tag else ""
        lines.append(
            f"  - {{id: w{n}, type: {kind}, geometry: [{x}, {y}, {CELL_W - 4}, {CELL_H - 4}], "
            f"props: {props.replace('{n}', str(n))}{bind}}}"
        )
    return "\n".join(lines) + "\n"


def _settle(app: QApplication) -> None:
    app.processEvents()
    app.processEvents()


def _send(app: QApplication, canvas: QWidget, kind: QEvent.Type, pos: QPointF) -> None:
    """A left-button mouse event at ``pos`` (a move carries the held button)."""
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    held = (
        Qt.MouseButton.NoButton
        if kind == QEvent.Type.MouseButtonRelease
        else Qt.MouseButton.LeftButton
    )
    event = QMouseEvent(kind, pos, pos, button, held, Qt.KeyboardModifier.NoModifier)
    app.sendEvent(canvas, event)


def _timed(app: QApplication, canvas: QWidget, *events: tuple[QEvent.Type, QPointF]) -> float:
    """Milliseconds to handle ``events`` and the repaint they cause."""
    start = time.perf_counter()
    for kind, pos in events:
        _send(app, canvas, kind, pos)
    _settle(app)
    return (time.perf_counter() - start) * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _spread(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.2f} ms, p99 {_percentile(values, 0.99):.2f} ms"


def run() -> list[tuple[str, str, str]]:
    """The rows of the table: what, figure, note."""
    from screens.designer.canvas import DesignCanvas
    from screens.designer.document import ScreenDocument

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    move, press, release = (
        QEvent.Type.MouseMove,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
    )
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        path.write_text(screen_text(), encoding="utf-8")
        loads: list[float] = []
        builds: list[float] = []
        canvas: DesignCanvas | None = None
        for _ in range(5):
            if canvas is not None:
                canvas.close()
                canvas.deleteLater()
                _settle(app)
            start = time.perf_counter()
            document = ScreenDocument.load(path)
            loaded = time.perf_counter()
            canvas = DesignCanvas(document)
            canvas.resize(1600, 1000)
            canvas.show()
            deadline = time.monotonic() + 10
            while canvas.items_painted < WIDGETS and time.monotonic() < deadline:
                app.processEvents()  # until the first paint has drawn every widget
            loads.append((loaded - start) * 1000)
            builds.append((time.perf_counter() - loaded) * 1000)
        assert canvas is not None
        _settle(app)
        load, build = statistics.median(loads), statistics.median(builds)
        rows.append(("open: document load", f"{load:.0f} ms", "ScreenDocument.load, median of 5"))
        rows.append(("open: canvas build + first paint", f"{build:.0f} ms", "median of 5"))
        rows.append(("open: total", f"{load + build:.0f} ms", f"{WIDGETS} widgets"))

        for count, first_id in ((1, 100), (20, 300)):
            ids = [f"w{n}" for n in range(first_id, first_id + 3 * count, 3)]
            canvas.select(ids)
            _settle(app)
            origin = QPointF(canvas.item_rect(ids[0]).center())
            _send(app, canvas, press, origin)
            first = _timed(app, canvas, (move, origin + QPointF(5, 3)))
            painted_before = canvas.items_painted
            steps: list[float] = []
            pos = origin
            for k in range(STEPS):
                pos = origin + QPointF(5 + (k % 60) * 1.7, 3 + (k % 40) * 1.3)
                steps.append(_timed(app, canvas, (move, pos)))
            painted = (canvas.items_painted - painted_before) / STEPS
            undo_before = document.undo_stack.count()
            commit = _timed(app, canvas, (release, pos))
            assert canvas.selected() == ids, "the drag moved the selection"
            assert document.undo_stack.count() == undo_before + 1, "a drag is one undo step"
            rows.append(
                (
                    f"drag start, {count} selected",
                    f"{first:.1f} ms",
                    "the scene cache copied, the moving widgets' areas repainted",
                )
            )
            rows.append(
                (
                    f"drag step, {count} selected",
                    _spread(steps),
                    f"{painted:.1f} widgets painted a step; release (1 undo step) {commit:.1f} ms",
                )
            )

        clicks: list[float] = []
        for n in range(200):
            centre = QPointF(canvas.item_rect(f"w{(n * 7) % WIDGETS}").center())
            clicks.append(_timed(app, canvas, (press, centre), (release, centre)))
        rows.append(("selection click", _spread(clicks), "press + release + repaint, 200 clicks"))
        canvas.close()
        canvas.deleteLater()
        _settle(app)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the designer table (markdown)."""
    del argv
    rows = run()
    print(f"\n### Screen designer, {WIDGETS} widgets ({DESIGN[0]}x{DESIGN[1]}, offscreen)\n")
    print("| measure | figure | note |")
    print("| --- | --- | --- |")
    for what, figure, note in rows:
        print(f"| {what} | {figure} | {note} |")


if __name__ == "__main__":
    main(sys.argv[1:])
