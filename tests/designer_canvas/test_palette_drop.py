"""The palette lists every registered widget and drops onto the canvas; the demo overview as
the designer shows it, grabbed at the two panel sizes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from screens.designer.canvas import DesignCanvas
from screens.designer.document import ScreenDocument
from screens.designer.handles import SELECTION, handle_rect
from screens.designer.palette import MIME_TYPE, WidgetPalette, type_key_of, widget_icon
from tests.designer_canvas.conftest import at, open_canvas
from widgets.registry import WIDGET_TYPES


def _drop(canvas: DesignCanvas, mime: QMimeData, pos: QPoint) -> bool:
    """What Qt's drag loop sends a drop target: enter, move, drop (a real QDrag cannot run its
    blocking loop offscreen)."""
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, action, mime, buttons, mods)
    QApplication.sendEvent(canvas, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(canvas, QDragMoveEvent(pos, action, mime, buttons, mods))
    drop = QDropEvent(QPointF(pos), action, mime, buttons, mods)
    QApplication.sendEvent(canvas, drop)
    return drop.isAccepted()


def test_the_palette_lists_every_registered_widget_with_an_icon(qtbot: QtBot) -> None:
    palette = WidgetPalette()
    qtbot.addWidget(palette)
    assert palette.visible_keys() == sorted(WIDGET_TYPES)
    for key in WIDGET_TYPES:
        image = widget_icon(key).toImage()
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 3)
            for y in range(0, image.height(), 3)
        }
        assert len(colours) > 2, f"{key}: the icon is blank"
        assert palette.item_of(key).toolTip().startswith(key)


def test_search_filters_by_name_and_description(qtbot: QtBot) -> None:
    palette = WidgetPalette()
    qtbot.addWidget(palette)
    qtbot.keyClicks(palette.search, "tank")
    assert palette.visible_keys() == ["tank"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "dial")  # only in the gauge's description
    assert palette.visible_keys() == ["gauge"]
    palette.search.clear()
    assert len(palette.visible_keys()) == len(WIDGET_TYPES)


def test_dragging_carries_the_type_key_and_double_click_activates(qtbot: QtBot) -> None:
    palette = WidgetPalette()
    qtbot.addWidget(palette)
    palette.resize(300, 600)
    palette.show()
    qtbot.waitExposed(palette)
    item = palette.item_of("numeric")
    mime = palette.list.mimeData([item])
    assert mime.hasFormat(MIME_TYPE) and type_key_of(mime) == "numeric"
    foreign = QMimeData()
    foreign.setText("numeric")
    assert type_key_of(foreign) is None
    rect = palette.list.visualItemRect(item)
    viewport = palette.list.viewport()
    with qtbot.waitSignal(palette.activated, timeout=1000) as signal:
        # a double-click is a press and release, then the double-click event
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args == ["numeric"]


def test_a_drop_adds_one_widget_at_the_snapped_point(qtbot: QtBot, tmp_path: Path) -> None:
    document = ScreenDocument.new(tmp_path / "blank.yaml", "blank")
    original = document.text()
    canvas = open_canvas(qtbot, document, 1280, 800)
    palette = WidgetPalette()
    qtbot.addWidget(palette)
    mime = palette.list.mimeData([palette.item_of("numeric")])
    assert _drop(canvas, mime, at(canvas, 400, 300))
    (entry,) = document.entries()
    # the numeric's EXAMPLE is 260 x 40, centred on the drop point: 270, 280 -> the 8 px grid
    assert entry.id == "numeric_1" and entry.type == "numeric"
    assert entry.geometry == (272, 280, 260, 40)
    assert entry.props == {"label": "Speed"} and entry.bind == {}
    assert canvas.selected() == ["numeric_1"] and canvas.drop_preview is None
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText().startswith("Add")
    # a second drop near the first lines up with it (a guide beats the grid)
    assert _drop(canvas, mime, at(canvas, 403, 403))
    second = document.entry("numeric_2")
    assert second.geometry[0] == 272
    # something that is not a widget is refused
    text = QMimeData()
    text.setText("hello")
    assert not _drop(canvas, text, at(canvas, 100, 100))
    assert len(document.entries()) == 2
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.text() == original


def test_double_click_in_the_palette_adds_at_the_centre(qtbot: QtBot, tmp_path: Path) -> None:
    document = ScreenDocument.new(tmp_path / "blank.yaml", "blank")
    canvas = open_canvas(qtbot, document, 1280, 800)
    palette = WidgetPalette()
    qtbot.addWidget(palette)
    palette.activated.connect(canvas.add_widget)
    palette.activated.emit("tank")
    (entry,) = document.entries()
    x, y, w, h = entry.geometry
    assert abs(x + w / 2 - 640) <= 8 and abs(y + h / 2 - 360) <= 8


def _grab(canvas: DesignCanvas, name: str, folder: Path) -> QImage:
    image = canvas.grab().toImage()
    image.save(str(folder / name))
    return image


def test_the_demo_overview_in_the_designer_at_both_panel_sizes(
    qtbot: QtBot, overview: ScreenDocument, tmp_path: Path
) -> None:
    canvas = open_canvas(qtbot, overview, 1280, 800)
    assert all(canvas.items[i] is not None for i in canvas.order), "every widget builds"
    canvas.select(["work_order"])
    for width, height in ((1280, 800), (1920, 1080)):
        canvas.resize(width, height)
        QApplication.processEvents()
        assert canvas.design_area().width() <= width and canvas.design_area().height() <= height
        image = _grab(canvas, f"overview_{width}x{height}.png", tmp_path)
        handle = handle_rect(canvas.item_rect("work_order"), "se")
        assert image.pixelColor(handle.center()).name() == "#ffffff"
        assert image.pixelColor(handle.topLeft()).name() == SELECTION.name()
