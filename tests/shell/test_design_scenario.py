"""The issue's check, end to end, as a supervisor would do it on the running app (real runtime,
embedded PLC, a copy of the demo project): open the overview in design mode with the PIN, drag a
pump from the palette onto the canvas, bind it with the tag picker, align it with its neighbour,
preview it live, save; the operator window shows the new pump without a restart; undo all the
way back and save: the file is byte-identical to the original.

Clicks, keys and selection are real mouse and key events. The drop is the one step delivered as
Qt's drag events (enter, move, drop) carrying the palette's own mime data: the offscreen platform
has no drag loop (``QDrag.exec`` returns at once), so the drag cannot be finished by the mouse.
"""

from __future__ import annotations

from pathlib import Path

import qasync
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from hmi_app.core.quality import Quality
from hmi_app.shell.design_window import DesignerWindow
from screens.designer.canvas import DesignCanvas
from screens.designer.palette import WidgetPalette
from screens.renderer import ScreenView
from tests.shell.test_design_mode import PIN, Plant, copy_demo, pin_dialog, run_plant, type_pin
from tests.support.waiting import wait_exposed, wait_until
from widgets.symbol import SymbolWidget

PUMP_TAG = "utilities.chiller.running"


def tool(designer: DesignerWindow, name: str) -> QWidget:
    """The toolbar button of action ``name``."""
    action: QAction = designer.toolbar.actions_by_name[name]
    button = designer.toolbar.widgetForAction(action)
    assert button is not None and button.isVisible(), f"{name} is not on the toolbar"
    return button


def click(
    qtbot: QtBot,
    widget: QWidget,
    pos: QPoint | None = None,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, modifier, pos or widget.rect().center())


def drag_from_palette(
    qtbot: QtBot, palette: WidgetPalette, key: str, canvas: DesignCanvas, at: QPoint
) -> None:
    """Press on the palette entry and move past the drag distance (the palette starts its
    drag), then deliver what Qt's drag loop gives the canvas: enter, move, drop."""
    item = palette.item_of(key)
    palette.list.scrollToItem(item)
    start = palette.list.visualItemRect(item).center()
    viewport = palette.list.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 0))
    mime = palette.list.mimeData([item])
    action, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    mods = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at, action, mime, buttons, mods)
    QApplication.sendEvent(canvas, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(canvas, QDragMoveEvent(at, action, mime, buttons, mods))
    QApplication.sendEvent(canvas, QDropEvent(QPointF(at), action, mime, buttons, mods))


def symbol_text(widget: object) -> str:
    """What a process symbol shows as its state, "" until the value is GOOD."""
    assert isinstance(widget, SymbolWidget)
    _style, text, quality, _reason = widget.state()
    return text if quality is Quality.GOOD else ""


def test_a_supervisor_adds_a_pump_binds_aligns_previews_saves_and_undoes_it_all(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    folder = copy_demo(tmp_path)
    path = folder / "screens" / "overview.yaml"
    original = path.read_bytes()

    async def scenario(plant: Plant) -> None:
        window = plant.window
        # design mode: the Design button, the PIN
        assert window.design_button is not None
        click(qtbot, window.design_button)
        await type_pin(qtbot, pin_dialog(window), PIN)
        designer = plant.design.designer
        assert designer is not None and designer.document is not None
        designer.resize(1600, 960)
        await wait_exposed(designer)
        document, canvas = designer.document, designer.canvas
        assert document.name == "overview" and canvas is not None
        before = {entry.id for entry in document.entries()}

        # drag a pump from the palette onto the canvas (in the free corner left of the valve)
        drag_from_palette(
            qtbot,
            designer.widget_palette,
            "symbol",
            canvas,
            canvas.to_widget((70, 250, 0, 0)).topLeft(),
        )
        (pump,) = {entry.id for entry in document.entries()} - before
        assert document.entry(pump).type == "symbol"
        assert document.entry(pump).props["symbol"] == "pump"
        assert canvas.selected() == [pump]
        inspector = designer.inspector
        binding = inspector.bindings["value"]

        # bind it with the tag picker: search, Enter picks the first match
        click(qtbot, binding.pick_button)
        picker = inspector.picker
        assert picker is not None and picker.isVisible() and not picker.isModal()
        qtbot.keyClicks(picker.search, "chiller running")
        assert picker.shown_names() == [PUMP_TAG]
        qtbot.keyClick(picker.search, Qt.Key.Key_Return)
        assert document.entry(pump).bind == {"value": PUMP_TAG}
        assert inspector.bindings["value"].edit.text() == PUMP_TAG

        # align it with its neighbour, the fill valve: click, shift-click, "Align top edges"
        click(qtbot, canvas, canvas.item_rect(pump).center())
        click(
            qtbot,
            canvas,
            canvas.item_rect("filler_valve").center(),
            modifier=Qt.KeyboardModifier.ShiftModifier,
        )
        assert set(canvas.selected()) == {pump, "filler_valve"}
        click(qtbot, tool(designer, "align_top"))
        valve_top = document.entry("filler_valve").geometry[1]
        assert document.entry(pump).geometry[1] == valve_top == 194

        # preview it live: the pump shows the chiller's running state as the bus has it
        click(qtbot, tool(designer, "preview"))
        assert designer.centre.currentWidget() is designer.preview
        await designer.preview.wait_shown()
        view = designer.preview.view
        assert isinstance(view, ScreenView) and pump in view.widgets
        live = view.widgets[pump]
        await wait_until(lambda: symbol_text(live) != "", 5, "the pump's live state")
        value = plant.runtime.bus.current(PUMP_TAG)
        assert value is not None and value.quality is Quality.GOOD
        await wait_until(
            lambda: (
                symbol_text(live)
                == ("RUNNING" if plant.runtime.bus.current(PUMP_TAG).value else "STOPPED")
            ),
            5,
            "the preview to follow the tag",
        )
        assert not tool(designer, "align_left").isEnabled()  # no editing during the preview
        click(qtbot, tool(designer, "preview"))
        assert designer.centre.currentWidget() is designer.canvas_scroll
        assert set(canvas.selected()) == {pump, "filler_valve"}  # selection kept
        assert designer.preview.view is None  # the preview's screen unsubscribed and went

        # save: the pump overlaps the supply pipe, a warning asks; the operator window shows it
        click(qtbot, tool(designer, "save"))
        await designer.wait_saves()  # checked in a worker thread
        box = designer.question
        assert isinstance(box, QMessageBox) and box.isVisible()
        assert designer.issues.warnings() and not designer.issues.errors()
        click(qtbot, box.button(QMessageBox.StandardButton.Save))
        await designer.wait_saves()  # written, and the screens loaded, in worker threads
        assert not document.is_modified()
        assert path.read_bytes() != original
        page = window.page("overview")
        assert isinstance(page, ScreenView) and pump in page.widgets
        assert window.current_screen == "overview" and window.stack.currentWidget() is page
        await wait_until(lambda: symbol_text(page.widgets[pump]) != "", 5, "the operator's pump")
        assert len(list((folder / "screens" / ".backups").iterdir())) == 1

        # undo everything with the Undo button, save again: the file is the original
        undo = tool(designer, "undo")
        while undo.isEnabled():
            click(qtbot, undo)
        assert pump not in {entry.id for entry in document.entries()}
        click(qtbot, tool(designer, "save"))
        await designer.wait_saves()
        assert path.read_bytes() == original
        assert pump not in window.page("overview").widgets  # type: ignore[attr-defined]
        designer.close()
        assert plant.design.designer is None or not designer.isVisible()

    run_plant(qtbot, qloop, folder, scenario, within=60)
