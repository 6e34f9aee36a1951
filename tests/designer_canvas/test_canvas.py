"""The design canvas driven with real mouse and key events: select, move, snap, resize, align,
nudge, clipboard, groups and z-order, each one undo step that undoes back to the exact file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QHelpEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu, QToolTip
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import TagMeta
from screens.designer.canvas import DesignCanvas
from screens.designer.document import ScreenDocument
from screens.designer.grid import render_static
from screens.designer.handles import guide_line, handle_centre
from screens.designer.selection import MoveDrag
from screens.designer.snapping import Guide
from tests.designer_canvas.conftest import SMALL, at, drag, open_canvas
from widgets.numeric import NumericDisplay

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def geometry(canvas: DesignCanvas, ident: str) -> tuple[int, int, int, int]:
    return canvas.document.entry(ident).geometry


def changed_lines(before: str, after: str) -> list[str]:
    return [b for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]


def undo_all(canvas: DesignCanvas) -> None:
    stack = canvas.document.undo_stack
    while stack.canUndo():
        stack.undo()


def click(qtbot: QtBot, canvas: DesignCanvas, ident: str, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, modifier, canvas.item_rect(ident).center())


def test_the_screen_shows_every_widget_where_the_file_puts_it(canvas: DesignCanvas) -> None:
    assert canvas.order == ["a", "b", "c", "p", "q"]
    assert all(canvas.items[i] is not None for i in canvas.order)
    assert canvas.item_rect("a").topLeft() == at(canvas, 100, 100)
    assert canvas.item_rect("a").size().width() == 200  # zoom 1


def test_click_selects_shift_click_adds_and_removes(qtbot: QtBot, canvas: DesignCanvas) -> None:
    seen: list[list[str]] = []
    canvas.selection_changed.connect(seen.append)
    click(qtbot, canvas, "a")
    click(qtbot, canvas, "b", SHIFT)
    click(qtbot, canvas, "c", SHIFT)
    assert canvas.selected() == ["a", "b", "c"]
    click(qtbot, canvas, "b", SHIFT)
    assert canvas.selected() == ["a", "c"]
    click(qtbot, canvas, "c")
    assert canvas.selected() == ["c"]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 500, 650))  # empty
    assert canvas.selected() == []
    assert seen[-1] == [] and ["a", "b", "c"] in seen


def test_move_snaps_to_the_grid_as_one_undo_step(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    start = canvas.item_rect("c").center()
    drag(qtbot, canvas, start, start + QPoint(53, 37))
    assert geometry(canvas, "c") == (656, 536, 120, 24)  # 653, 537 on the 8 px grid
    assert canvas.document.undo_stack.count() == 1
    assert changed_lines(original, canvas.document.text()) == [
        "  - {id: c, type: text, geometry: [656, 536, 120, 24], props: {text: hello}}"
    ]
    assert canvas.item_rect("c").topLeft() == at(canvas, 656, 536)
    canvas.document.undo_stack.undo()
    assert canvas.document.text() == original
    assert canvas.item_rect("c").topLeft() == at(canvas, 600, 500)


def test_move_snaps_to_a_neighbours_edge_and_shows_the_guide(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    start = canvas.item_rect("b").center()
    end = start + QPoint(3, -64)  # left edge 3 px right of a's left edge (100); grid says 104
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.mouseMove(canvas, start + (end - start) * k / 4)
    gesture = canvas.gesture
    assert gesture is not None
    assert any(g.axis == "x" and g.pos == 100 for g in gesture.guides())
    assert canvas.static is not None  # the rest is drawn from one pixmap while dragging
    grab = canvas.grab().toImage()  # the guide line is drawn in the guide colour
    line = guide_line(canvas, next(g for g in gesture.guides() if g.axis == "x"))[0]
    assert grab.pixelColor(round(line.x() - 0.5), round(line.y()) + 2).name() == "#d0308a"
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    assert geometry(canvas, "b") == (100, 240, 200, 40)  # y 236: the grid
    assert canvas.gesture is None and canvas.static is None
    canvas.document.undo_stack.undo()
    assert canvas.document.text() == original


def test_a_widget_moved_into_a_panel_above_it_comes_to_the_front(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    start = canvas.item_rect("c").center()
    drag(qtbot, canvas, start, start + QPoint(300, -250))  # into the panel p, drawn above c
    x, y, _w, _h = geometry(canvas, "c")
    assert x >= 800 and y >= 50 and canvas.order.index("c") > canvas.order.index("p")
    assert canvas.document.undo_stack.count() == 1
    assert canvas.document.undo_stack.undoText() == "Move c into a panel"
    canvas.document.undo_stack.undo()
    assert canvas.document.text() == original


def test_alt_disables_snapping(qtbot: QtBot, canvas: DesignCanvas) -> None:
    start = canvas.item_rect("b").center()
    end = start + QPoint(3, 5)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for point in (start + QPoint(2, 2), end):
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(point),
            QPointF(canvas.mapToGlobal(point)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.AltModifier,
        )
        QApplication.sendEvent(canvas, move)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    assert geometry(canvas, "b") == (103, 305, 200, 40)


def test_shift_multi_select_and_align_left_from_the_context_menu(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    click(qtbot, canvas, "c", SHIFT)
    click(qtbot, canvas, "q", SHIFT)
    pos = canvas.item_rect("c").center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, canvas.mapToGlobal(pos))
    QApplication.sendEvent(canvas, event)
    menu = canvas.menu
    align_menu = next(a.menu() for a in menu.actions() if a.text() == "Align")
    assert isinstance(align_menu, QMenu)
    action = next(a for a in align_menu.actions() if a.text() == "Align left edges")
    assert action.isEnabled()
    action.trigger()
    menu.close()
    assert [geometry(canvas, i)[0] for i in ("a", "c", "q")] == [100, 100, 100]
    assert geometry(canvas, "c")[1:] == (500, 120, 24)
    assert canvas.document.undo_stack.count() == 1
    canvas.align("right")  # the method, as the designer's toolbar calls it
    assert [sum(geometry(canvas, i)[0:3:2]) for i in ("a", "c", "q")] == [300, 300, 300]
    undo_all(canvas)
    assert canvas.document.text() == original


def test_distribute_spaces_the_selection_evenly(canvas: DesignCanvas) -> None:
    canvas.select(["a", "c", "q"])
    canvas.distribute("h")
    xs = sorted((geometry(canvas, i)[0], geometry(canvas, i)[2]) for i in ("a", "c", "q"))
    gaps = [xs[k + 1][0] - (xs[k][0] + xs[k][1]) for k in range(2)]
    assert abs(gaps[0] - gaps[1]) <= 1 and geometry(canvas, "a")[0] == 100


def test_rubber_band_selects_what_lies_wholly_inside(qtbot: QtBot, canvas: DesignCanvas) -> None:
    drag(qtbot, canvas, at(canvas, 50, 50), at(canvas, 350, 400))
    assert sorted(canvas.selected()) == ["a", "b"]
    # shift adds a second band to the selection
    drag(qtbot, canvas, at(canvas, 560, 480), at(canvas, 760, 560), modifier=SHIFT)
    assert sorted(canvas.selected()) == ["a", "b", "c"]
    assert canvas.document.undo_stack.count() == 0


def test_inside_a_panel_a_drag_bands_and_a_click_selects_the_panel(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    drag(qtbot, canvas, at(canvas, 1100, 330), at(canvas, 840, 100))
    assert canvas.selected() == ["q"]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 1100, 330))
    assert canvas.selected() == ["p"]
    start = at(canvas, 1100, 330)  # the panel selected: dragging it moves it
    drag(qtbot, canvas, start, start + QPoint(16, 16))
    assert geometry(canvas, "p")[:2] == (816, 60)  # its bottom (366) on the screen middle


def test_resize_with_the_corner_handle(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    corner = handle_centre(canvas.item_rect("a"), "se")
    drag(qtbot, canvas, corner, corner + QPoint(37, 13))
    assert geometry(canvas, "a") == (100, 100, 236, 52)  # right 337 -> 336, bottom 153 -> 152
    assert canvas.document.undo_stack.count() == 1
    left = handle_centre(canvas.item_rect("a"), "w")
    drag(qtbot, canvas, left, left + QPoint(-21, 0))
    assert geometry(canvas, "a") == (80, 100, 256, 52)
    undo_all(canvas)
    assert canvas.document.text() == original
    assert canvas.item_rect("a").size().width() == 200


def test_a_multiple_selection_resizes_by_its_frame_each_widget_scaled_with_it(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    click(qtbot, canvas, "b", SHIFT)
    assert canvas.selected() == ["a", "b"]
    frame = canvas.item_rect("a").united(canvas.item_rect("b"))  # 100,100 .. 300,340
    corner = handle_centre(frame, "se")
    qtbot.mouseMove(canvas, corner)
    assert canvas.cursor().shape() == Qt.CursorShape.SizeFDiagCursor
    drag(qtbot, canvas, corner, corner + QPoint(100, 116))  # the frame to 100,100 .. 400,456
    assert geometry(canvas, "a") == (100, 100, 300, 59)
    assert geometry(canvas, "b") == (100, 397, 300, 59)  # kept its place in the frame
    assert canvas.document.undo_stack.count() == 1  # one step for both
    assert canvas.selected() == ["a", "b"]
    # the left edge of the frame moves both left edges
    left = handle_centre(canvas.item_rect("a").united(canvas.item_rect("b")), "w")
    drag(qtbot, canvas, left, left + QPoint(-20, 0))
    assert geometry(canvas, "a")[0] == geometry(canvas, "b")[0] == 80
    undo_all(canvas)
    assert canvas.document.text() == original


def test_moving_a_panel_moves_what_lies_on_it(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    on_panel = at(canvas, 1100, 330)  # inside p (800,50 400x300), away from q
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=on_panel)
    assert canvas.selected() == ["p"]
    drag(qtbot, canvas, on_panel, on_panel + QPoint(-96, 104))
    px, py, _w, _h = geometry(canvas, "p")
    assert (px, py) != (800, 50)
    assert geometry(canvas, "q") == (px + 50, py + 70, 150, 40)  # carried along, same offset
    assert canvas.selected() == ["p"] and canvas.document.undo_stack.count() == 1
    assert geometry(canvas, "c") == (600, 500, 120, 24)  # not on the panel: stays
    qtbot.keyClick(canvas, Qt.Key.Key_Left)  # a nudge takes it along too
    assert geometry(canvas, "q") == (px + 49, py + 70, 150, 40)
    undo_all(canvas)
    assert canvas.document.text() == original


def test_arrow_keys_nudge_one_pixel_and_shift_a_grid_step(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert geometry(canvas, "a") == (101, 100, 200, 40)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, SHIFT)
    assert geometry(canvas, "a") == (101, 108, 200, 40)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.selected() == []
    undo_all(canvas)
    assert canvas.document.text() == original


def test_copy_paste_duplicate_delete(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    qtbot.keyClick(canvas, Qt.Key.Key_C, CTRL)
    qtbot.keyClick(canvas, Qt.Key.Key_V, CTRL)
    (pasted,) = canvas.selected()
    assert pasted == "numeric_1"
    copy = canvas.document.entry(pasted)
    assert copy.geometry == (116, 116, 200, 40)
    assert copy.props == {"label": "A"} and copy.bind == {"value": "t.a"}
    qtbot.keyClick(canvas, Qt.Key.Key_D, CTRL)
    (duplicated,) = canvas.selected()
    assert duplicated == "numeric_2"
    assert geometry(canvas, duplicated) == (132, 132, 200, 40)
    assert canvas.order[-2:] == ["numeric_1", "numeric_2"]
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert "numeric_2" not in canvas.document and "numeric_2" not in canvas.items
    assert canvas.selected() == []
    assert canvas.document.undo_stack.count() == 3
    undo_all(canvas)
    assert canvas.document.text() == original
    assert canvas.order == ["a", "b", "c", "p", "q"]


def test_group_then_click_selects_the_group_and_moves_it_whole(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    click(qtbot, canvas, "b", SHIFT)
    qtbot.keyClick(canvas, Qt.Key.Key_G, CTRL)
    assert canvas.document.group_of("a") == canvas.document.group_of("b") is not None
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    click(qtbot, canvas, "b")
    assert sorted(canvas.selected()) == ["a", "b"]
    start = canvas.item_rect("b").center()
    drag(qtbot, canvas, start, start + QPoint(0, 40))
    assert geometry(canvas, "a")[1] == 140 and geometry(canvas, "b")[1] == 340
    qtbot.keyClick(canvas, Qt.Key.Key_G, CTRL | SHIFT)
    assert canvas.document.group_of("a") is None
    click(qtbot, canvas, "b")
    assert canvas.selected() == ["b"]
    undo_all(canvas)
    assert canvas.document.text() == original


def test_z_order_commands(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    click(qtbot, canvas, "a")
    qtbot.keyClick(canvas, Qt.Key.Key_BraceRight, CTRL | SHIFT)  # Ctrl+Shift+] as typed
    assert canvas.order[-1] == "a"
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft, CTRL)
    assert canvas.order[-2] == "a"
    canvas.restack("back")
    assert canvas.order[0] == "a"
    canvas.restack("forward")
    assert canvas.order[1] == "a"
    # the panel in front hides q: a click there now picks the panel
    click(qtbot, canvas, "p")
    canvas.restack("front")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.item_rect("q").center())
    assert canvas.selected() == ["p"]
    undo_all(canvas)
    assert canvas.document.text() == original
    assert canvas.order == ["a", "b", "c", "p", "q"]


def test_an_edit_elsewhere_rebuilds_only_that_widget(canvas: DesignCanvas) -> None:
    before = dict(canvas.items)
    canvas.document.set_prop("a", "label", "Speed")
    assert canvas.items["a"] is not before["a"]
    assert all(canvas.items[i] is before[i] for i in ("b", "c", "p", "q"))
    canvas.document.set_binding("q", "value", "line1.speed")
    assert canvas.items["q"] is not before["q"]


def test_escape_cancels_a_drag_and_edits_nothing(qtbot: QtBot, canvas: DesignCanvas) -> None:
    start = canvas.item_rect("c").center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(20, 20))
    qtbot.mouseMove(canvas, start + QPoint(40, 40))
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 40))
    assert geometry(canvas, "c") == (600, 500, 120, 24)
    assert canvas.document.undo_stack.count() == 0


def test_zoom_and_fit(qtbot: QtBot, canvas: DesignCanvas) -> None:
    canvas.set_zoom(2.0)
    assert canvas.item_rect("a").width() == 400
    canvas.fit()
    assert canvas.design_area().width() <= canvas.width() - 40
    assert Guide  # the guide type is part of the canvas' public vocabulary


def test_the_tooltip_says_what_a_widget_is_bound_to(qtbot: QtBot, canvas: DesignCanvas) -> None:
    def tip(ident: str) -> str:
        pos = canvas.item_rect(ident).center()
        QApplication.sendEvent(
            canvas, QHelpEvent(QEvent.Type.ToolTip, pos, canvas.mapToGlobal(pos))
        )
        return QToolTip.text()

    assert tip("a") == "a (numeric)\nvalue \u2190 t.a"
    assert tip("q") == "q (numeric)\nnot bound to a tag yet"
    assert tip("c") == "c (text)"  # a static text needs no tag
    QToolTip.hideText()


def test_an_undo_in_the_middle_of_a_drag_drops_the_drag(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    canvas.select(["q"])
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    canvas.document.break_merge()
    start = canvas.item_rect("c").center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(30, 30))
    qtbot.mouseMove(canvas, start + QPoint(60, 60))
    canvas.document.undo_stack.undo()  # the delete comes back while the mouse is held
    assert canvas.gesture is None and canvas.static is None and "q" in canvas.items
    qtbot.mouseMove(canvas, start + QPoint(90, 90))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(90, 90))
    assert canvas.document.text() == original
    assert not canvas.document.undo_stack.canUndo()


def test_select_all_cut_and_wheel_zoom(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_A, CTRL)
    assert canvas.selected() == ["a", "b", "c", "p", "q"]
    qtbot.keyClick(canvas, Qt.Key.Key_X, CTRL)
    assert canvas.document.entries() == [] and len(canvas.clipboard.entries()) == 5
    qtbot.keyClick(canvas, Qt.Key.Key_V, CTRL)
    assert len(canvas.document.entries()) == 5 and len(canvas.selected()) == 5
    undo_all(canvas)
    assert canvas.document.text() == original
    pos = QPointF(canvas.item_rect("a").center())
    wheel = QWheelEvent(
        pos,
        QPointF(canvas.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        CTRL,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, wheel)
    assert canvas.zoom == pytest.approx(1.15) and not canvas.fitting


def test_an_entry_the_widget_rejects_is_a_hatched_box_that_says_why(
    qtbot: QtBot, tmp_path: Path
) -> None:
    text = SMALL + (
        "  - {id: z, type: numeric, geometry: [10, 600, 200, 60], props: {nonsense: 1}}\n"
        "  - {id: y, type: nosuch, geometry: [300, 600, 200, 60]}\n"
    )
    document = ScreenDocument.from_text(tmp_path / "broken.yaml", text)
    view = open_canvas(qtbot, document, 1400, 800)
    assert view.items["z"] is None and view.items["y"] is None
    assert "nonsense" in view.problems["z"] and "nosuch" in view.problems["y"]
    pos = view.item_rect("z").center()
    QApplication.sendEvent(view, QHelpEvent(QEvent.Type.ToolTip, pos, view.mapToGlobal(pos)))
    assert "cannot show: nonsense" in QToolTip.text()
    QToolTip.hideText()
    assert not view.grab().isNull()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pos)  # still selectable, deletable
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "z" not in document and "z" not in view.problems


def test_view_toggles_and_undo_from_the_keyboard(qtbot: QtBot, canvas: DesignCanvas) -> None:
    original = canvas.document.text()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Apostrophe, CTRL)
    assert not canvas.grid_visible and canvas.snap
    qtbot.keyClick(canvas, Qt.Key.Key_Apostrophe, CTRL | SHIFT)
    assert not canvas.snap
    click(qtbot, canvas, "c")
    start = canvas.item_rect("c").center()
    drag(qtbot, canvas, start, start + QPoint(53, 37))
    assert geometry(canvas, "c") == (653, 537, 120, 24)  # snapping off: where the mouse went
    qtbot.keyClick(canvas, Qt.Key.Key_Z, CTRL)
    assert canvas.document.text() == original
    qtbot.keyClick(canvas, Qt.Key.Key_Z, CTRL | SHIFT)
    assert geometry(canvas, "c") == (653, 537, 120, 24)


def test_the_drag_pixmap_from_the_scene_cache_equals_a_full_repaint(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    canvas.select(["q"])
    canvas.nudge(5, 5)  # edits the cache has to follow
    canvas.document.set_prop("a", "label", "Renamed")
    QApplication.processEvents()
    click(qtbot, canvas, "p")
    start = at(canvas, 1100, 330)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(10, 10))
    assert canvas.static is not None
    gesture = canvas.gesture
    assert isinstance(gesture, MoveDrag) and gesture.ids == ["p", "q"]  # q lies on the panel
    assert canvas.static.toImage() == render_static(canvas, gesture.ids).toImage()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(10, 10))


def _screen_is_a_full_repaint(qtbot: QtBot, canvas: DesignCanvas) -> bool:
    qtbot.wait(30)  # Qt delivers update requests on a short timer
    shown = canvas.screen().grabWindow(canvas.winId()).toImage()  # the window's backing store
    full = canvas.grab().toImage()
    return shown.convertToFormat(full.format()) == full


def test_what_is_on_screen_after_edits_equals_a_full_repaint(
    qtbot: QtBot, canvas: DesignCanvas
) -> None:
    """The canvas repaints only what changed; what the window shows must still be exactly a
    full repaint after selecting, deselecting, drags, resizes, deletes and undo."""
    qtbot.wait(30)
    click(qtbot, canvas, "c")
    qtbot.wait(30)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, 500, 650))  # deselects
    assert _screen_is_a_full_repaint(qtbot, canvas)
    start = canvas.item_rect("c").center()
    drag(qtbot, canvas, start, start + QPoint(120, -150))
    click(qtbot, canvas, "a")
    corner = handle_centre(canvas.item_rect("a"), "se")
    drag(qtbot, canvas, corner, corner + QPoint(40, 30))
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    click(qtbot, canvas, "q")
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    canvas.document.undo_stack.undo()
    canvas.document.undo_stack.undo()
    drag(qtbot, canvas, at(canvas, 20, 20), at(canvas, 350, 400))  # a rubber band
    assert _screen_is_a_full_repaint(qtbot, canvas)


def test_bound_widgets_show_their_tags_last_good_value_and_units(canvas: DesignCanvas) -> None:
    tags = {
        "t.a": TagMeta("t.a", DataType.INT32, "bottles", "d"),
        "t.b": TagMeta("t.b", DataType.FLOAT32, "bar", ".2f"),
    }
    values = {
        "t.a": TagValue(1234, Quality.GOOD, 1.0, 1.0),
        "t.b": TagValue(9.0, Quality.BAD, 1.0, 1.0, "comm failure"),  # not good: the sample
    }
    canvas.set_tags(tags, values.get)
    a, b = canvas.items["a"], canvas.items["b"]
    assert isinstance(a, NumericDisplay) and isinstance(b, NumericDisplay)
    assert a.display_state() == (a.value_shown(), "bottles")
    shown_a, shown_b = a.value_shown(), b.value_shown()
    assert shown_a is not None and shown_a.text == "1234"
    assert shown_b is not None and shown_b.text == "412.34" and b.units() == "bar"
