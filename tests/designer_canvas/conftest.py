"""A small screen and the demo overview opened in a design canvas, shown offscreen."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from screens.designer.canvas import DesignCanvas
from screens.designer.document import ScreenDocument

ROOT = Path(__file__).resolve().parents[2]
OVERVIEW = ROOT / "resources" / "demo" / "screens" / "overview.yaml"

SMALL = """\
# a screen for the canvas tests
schema_version: 1
name: small
size: [1280, 720]
widgets:
  - {id: a, type: numeric, geometry: [100, 100, 200, 40], props: {label: A}, bind: {value: t.a}}
  - {id: b, type: numeric, geometry: [100, 300, 200, 40], props: {label: B}, bind: {value: t.b}}
  - {id: c, type: text, geometry: [600, 500, 120, 24], props: {text: hello}}
  - {id: p, type: panel, geometry: [800, 50, 400, 300], props: {title: Pumps}}
  - {id: q, type: numeric, geometry: [850, 120, 150, 40], props: {label: Q}}
"""


def open_canvas(qtbot: QtBot, document: ScreenDocument, width: int, height: int) -> DesignCanvas:
    """A shown canvas on ``document`` of ``width`` x ``height``."""
    canvas = DesignCanvas(document)
    qtbot.addWidget(canvas)
    canvas.resize(width, height)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


@pytest.fixture
def small(tmp_path: Path) -> ScreenDocument:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return ScreenDocument.load(path)


@pytest.fixture
def canvas(qtbot: QtBot, small: ScreenDocument) -> Iterator[DesignCanvas]:
    """The small screen at zoom 1 (one design pixel per screen pixel), grid 8."""
    view = open_canvas(qtbot, small, 1400, 800)
    view.set_zoom(1.0)
    view.set_grid(8)
    yield view
    view.close()


@pytest.fixture
def overview(tmp_path: Path) -> ScreenDocument:
    folder = tmp_path / "screens"
    folder.mkdir()
    shutil.copy(OVERVIEW, folder / "overview.yaml")
    return ScreenDocument.load(folder / "overview.yaml")


def at(canvas: DesignCanvas, x: float, y: float) -> QPoint:
    """Widget pixel of design point (x, y)."""
    return canvas.to_widget((round(x), round(y), 1, 1)).topLeft()


def drag(
    qtbot: QtBot,
    canvas: DesignCanvas,
    start: QPoint,
    end: QPoint,
    steps: int = 6,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release: a real mouse drag."""
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, start)
    for k in range(1, steps + 1):
        point = QPointF(start) + (QPointF(end) - QPointF(start)) * (k / steps)
        qtbot.mouseMove(canvas, point.toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, end)
