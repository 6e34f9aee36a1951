"""Each kind of edit changes only the text it must, reads back as intended, and undoes exactly."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from screens.designer.document import ScreenDocument, WidgetEntry
from screens.designer.screen_text import parse_screen

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "screens"


def changed_lines(before: str, after: str) -> list[str]:
    """The lines removed (-) and added (+) between two texts."""
    diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
    return [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]


def reread(document: ScreenDocument) -> list[WidgetEntry]:
    """The entries the document's text gives when parsed afresh."""
    return [i.entry for i in parse_screen(document.text(), "x").items]


def undo_all(document: ScreenDocument) -> None:
    while document.undo_stack.canUndo():
        document.undo_stack.undo()


@pytest.fixture
def overview() -> ScreenDocument:
    return ScreenDocument.load(DEMO / "overview.yaml")


def test_moving_one_widget_changes_one_line(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.set_geometries({"work_order": (670, 52, 216, 40)})
    assert changed_lines(original, overview.text()) == [
        "-    geometry: [666, 48, 216, 40]\n",
        "+    geometry: [670, 52, 216, 40]\n",
    ]
    overview.set_geometries({"status_panel": (20, 12, 1240, 96)}, text="Resize")
    lines = changed_lines(original, overview.text())
    assert len(lines) == 4
    assert lines[1].startswith("+  - {id: status_panel, type: panel, geometry: [20, 12, 1240, 96],")
    assert overview.undo_stack.text(1) == "Resize status_panel"
    undo_all(overview)
    assert overview.text() == original


def test_a_drag_is_one_undo_step_and_a_new_gesture_another(overview: ScreenDocument) -> None:
    original = overview.text()
    for step in range(1, 30):  # a drag: many small moves of the same two widgets
        overview.set_geometries(
            {"start": (902 + step, 42, 108, 48), "stop": (1022 + step, 42, 108, 48)}
        )
    assert overview.undo_stack.count() == 1
    assert overview.undo_stack.text(0) == "Move 2 widgets"
    overview.break_merge()  # mouse released
    overview.set_geometries({"start": (900, 40, 108, 48), "stop": (1020, 40, 108, 48)})
    assert overview.undo_stack.count() == 2
    overview.set_geometries({"start": (900, 40, 108, 48)})  # another selection: its own step
    overview.set_geometries({"start": (901, 40, 108, 48)})
    assert overview.undo_stack.count() == 3
    overview.undo_stack.undo()
    overview.undo_stack.undo()
    assert overview.entry("start").geometry == (931, 42, 108, 48)
    overview.undo_stack.undo()
    assert overview.text() == original and not overview.is_modified()


def test_a_drag_back_to_the_start_leaves_nothing_to_undo(overview: ScreenDocument) -> None:
    overview.set_geometries({"reset": (1150, 42, 108, 48)})
    overview.set_geometries({"reset": (1142, 42, 108, 48)})
    assert overview.undo_stack.count() == 0
    assert not overview.is_modified()


def test_setting_a_prop_splices_only_that_key(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.set_prop("work_order", "label", "Order no.")  # flow props of a block item
    assert changed_lines(original, overview.text()) == [
        "-    props: {label: Work order, label_width: 96}\n",
        "+    props: {label: Order no., label_width: 96}\n",
    ]
    overview.set_prop("line_state", "label", "State: line 1")  # block props: one line
    lines = changed_lines(original, overview.text())
    assert len(lines) == 4
    assert "-      label: Line state\n" in lines and "+      label: 'State: line 1'\n" in lines
    overview.set_prop("line_state", "label_width", 80)  # new key in block props
    assert "+      label_width: 80\n" in changed_lines(original, overview.text())
    overview.set_prop("work_order", "label_width", None)  # removed: the widget's default
    assert overview.entry("work_order").props == {"label": "Order no."}
    assert (
        overview.undo_stack.text(overview.undo_stack.count() - 1)
        == "Clear label_width of work_order"
    )
    assert reread(overview) == overview.entries()
    undo_all(overview)
    assert overview.text() == original


PANEL = "id: status_panel, type: panel, geometry: [16, 12, 1248, 96]"


def test_flow_entries_stay_flow_while_they_fit(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.set_prop("status_panel", "title", "Line")
    assert changed_lines(original, overview.text()) == [
        f"-  - {{{PANEL}, props: {{title: Line status}}}}\n",
        f"+  - {{{PANEL}, props: {{title: Line}}}}\n",
    ]
    overview.set_prop("status_panel", "title", "The status of line 1 with a much longer title")
    text = overview.text()
    assert (
        "  - id: status_panel\n    type: panel\n    geometry: [16, 12, 1248, 96]\n"
        "    props: {title: The status of line 1 with a much longer title}\n" in text
    )
    assert max(len(line) for line in text.splitlines()) <= 100 or "#" in text
    assert reread(overview) == overview.entries()
    undo_all(overview)
    assert overview.text() == original


def test_bindings_and_click_actions(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.set_binding("work_order", "value", "line1.work_order + 1")
    assert changed_lines(original, overview.text()) == [
        "-    bind: {value: line1.work_order}\n",
        "+    bind: {value: line1.work_order + 1}\n",
    ]
    overview.set_binding("status_panel", "title", None)  # nothing bound: no edit
    overview.set_binding("work_order", "value", None)
    assert "bind" not in _keys(overview, "work_order")
    overview.set_on_click("work_order", {"navigate": "production"})
    assert "    on_click: {navigate: production}\n" in overview.text()
    assert overview.entry("work_order").on_click == {"navigate": "production"}
    overview.set_on_click("work_order", None)
    assert overview.entry("work_order").on_click is None
    texts = [overview.undo_stack.text(i) for i in range(overview.undo_stack.count())]
    assert texts == [
        "Bind value of work_order to line1.work_order + 1",
        "Unbind value of work_order",
        "Set click action of work_order",
        "Clear click action of work_order",
    ]
    assert reread(overview) == overview.entries()
    undo_all(overview)
    assert overview.text() == original


def _keys(document: ScreenDocument, widget_id: str) -> list[str]:
    body = next(i.body for i in parse_screen(document.text(), "x").items if i.entry.id == widget_id)
    return [line.strip().split(":")[0].lstrip("- ") for line in body.splitlines()]


def test_added_widgets_go_on_top_in_the_files_style(overview: ScreenDocument) -> None:
    original = overview.text()
    new_id = overview.new_id("numeric")
    assert new_id == "numeric_1"
    pump = WidgetEntry(
        new_id, "numeric", (40, 600, 200, 40), {"label": "Pump"}, {"value": "p.speed"}
    )
    overview.add_widgets([pump])
    assert overview.entries()[-1] == pump
    assert overview.text() == original + (
        "  - id: numeric_1\n    type: numeric\n    geometry: [40, 600, 200, 40]\n"
        "    props: {label: Pump}\n    bind: {value: p.speed}\n"
    )
    with pytest.raises(ValueError, match="already used"):
        overview.add_widgets([pump])
    assert overview.new_id("numeric") == "numeric_2"
    assert overview.new_id("numeric", reserved=["numeric_2"]) == "numeric_3"
    undo_all(overview)
    assert overview.text() == original


def test_flow_files_get_flow_widgets(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_bytes(
        b"schema_version: 1\r\nname: flow\r\nwidgets:\r\n"
        b"  - {id: a, type: text, geometry: [0, 0, 10, 10]}\r\n"
        b"  - {id: b, type: text, geometry: [10, 0, 10, 10]}"
    )
    document = ScreenDocument.load(path)
    document.add_widgets([WidgetEntry("c", "text", (0, 20, 50, 10), {"text": "#1"})])
    assert document.text().endswith(
        "[10, 0, 10, 10]}\r\n"
        "  - {id: c, type: text, geometry: [0, 20, 50, 10], props: {text: '#1'}}\r\n"
    )
    undo_all(document)
    assert document.text().encode() == path.read_bytes()


def test_an_empty_list_opens_and_closes(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("schema_version: 1\nname: e\nwidgets: []  # none yet\nsize: [400, 300]\n")
    document = ScreenDocument.load(path)
    document.add_widgets([WidgetEntry("a", "text", (0, 0, 10, 10))])
    assert document.text() == (
        "schema_version: 1\nname: e\nwidgets:  # none yet\n"
        "  - id: a\n    type: text\n    geometry: [0, 0, 10, 10]\nsize: [400, 300]\n"
    )
    document.remove_widgets(["a"])
    assert document.text() == path.read_text()


def test_removing_takes_the_comment_directly_above(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.remove_widgets(["fault_code", "status_panel"])
    removed = [line for line in changed_lines(original, overview.text()) if line[0] == "-"]
    assert any(line.startswith("-  # The fault in words (with the PLC's code") for line in removed)
    assert any(line.startswith("-  # ---- line status and commands ---") for line in removed)
    assert not [line for line in changed_lines(original, overview.text()) if line[0] == "+"]
    assert "fault_code" not in overview and len(overview.entries()) == 49
    assert overview.undo_stack.text(0) == "Delete 2 widgets"
    # the blank line and section comment above a removed widget stay when detached from it
    path = DEMO / "filler.yaml"
    filler = ScreenDocument.load(path)
    assert reread(filler) == filler.entries()
    undo_all(overview)
    assert overview.text() == original


def test_restack_moves_the_item_text(overview: ScreenDocument) -> None:
    original = overview.text()
    ids = [e.id for e in overview.entries()]
    overview.restack(["status_panel"], "front")
    assert [e.id for e in overview.entries()] == [*ids[1:], "status_panel"]
    assert overview.text().rstrip("\n").endswith("props: {title: Line status}}")
    overview.restack(["status_panel"], "back")
    assert overview.text() == original  # back where it was, comment and all
    overview.restack(["start"], "forward")
    assert [e.id for e in overview.entries()][4:7] == ["plc_line_name", "stop", "start"]
    overview.restack(["start"], "backward")
    overview.restack(["start"], "backward")
    assert [e.id for e in overview.entries()][3:6] == ["work_order", "start", "plc_line_name"]
    overview.restack(["status_panel"], "backward")  # already at the back: no edit
    assert reread(overview) == overview.entries()
    assert [overview.undo_stack.text(i) for i in range(4)] == [
        "Bring status_panel to front",
        "Send status_panel to back",
        "Bring start forward",
        "Send start backward",
    ]
    undo_all(overview)
    assert overview.text() == original


def test_groups_are_saved_on_their_members(overview: ScreenDocument) -> None:
    original = overview.text()
    group = overview.group(["start", "stop", "reset"])
    assert group == "group_1"
    assert overview.group_members(group) == ["start", "stop", "reset"]
    assert overview.group_of("stop") == "group_1" and overview.group_of("work_order") is None
    assert overview.text().count("    group: group_1\n") == 3
    assert overview.undo_stack.count() == 1 and overview.undo_stack.text(0) == "Group 3 widgets"
    assert overview.group(["work_order"]) == "group_2"
    overview.ungroup(group)
    assert overview.group_members(group) == []
    assert reread(overview) == overview.entries()
    undo_all(overview)
    assert overview.text() == original


def test_screen_props(overview: ScreenDocument) -> None:
    original = overview.text()
    overview.set_screen_props(title="Line 1", size=(1920, 1080), background="#dddddd")
    assert changed_lines(original, overview.text()) == [
        "-title: Overview\n",
        "-size: [1280, 720]\n",
        '-background: "#d9d9d9"\n',
        "+title: Line 1\n",
        "+size: [1920, 1080]\n",
        "+background: '#dddddd'\n",
    ]
    assert (overview.title, overview.size, overview.background) == (
        "Line 1",
        (1920, 1080),
        "#dddddd",
    )
    assert overview.undo_stack.count() == 1
    undo_all(overview)
    assert overview.text() == original and overview.size == (1280, 720)


def test_signals_name_the_changed_widgets(overview: ScreenDocument, qtbot: QtBot) -> None:
    seen: list[list[str]] = []
    overview.entries_changed.connect(seen.append)
    with qtbot.waitSignal(overview.changed):
        overview.set_geometries({"start": (0, 0, 10, 10), "stop": (20, 0, 10, 10)})
    overview.undo_stack.undo()
    overview.add_widgets([WidgetEntry("x", "text", (0, 0, 5, 5))])
    overview.undo_stack.undo()
    assert seen == [["start", "stop"], ["start", "stop"], ["x"], ["x"]]


def test_new_screen_is_saved_as_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "screens" / "packing.yaml"
    document = ScreenDocument.new(path, "packing", (1280, 720), "Packing")
    assert document.is_modified() and document.entries() == []
    document.add_widgets([WidgetEntry("title", "text", (16, 8, 300, 30), {"text": "Packing"})])
    document.save()
    assert not document.is_modified()
    reopened = ScreenDocument.load(path)
    assert reopened.entries() == document.entries()
    assert (reopened.name, reopened.title, reopened.size) == ("packing", "Packing", (1280, 720))


def test_odd_files_stay_themselves_around_the_edit(tmp_path: Path) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(
        "\ufeffname: bom\nwidgets:\n- id: a\n  type: text\n  geometry: [0, 0, 9, 9]".encode()
    )
    document = ScreenDocument.load(bom)
    document.add_widgets([WidgetEntry("b", "text", (0, 10, 9, 9))])
    assert document.text() == (
        "\ufeffname: bom\nwidgets:\n- id: a\n  type: text\n  geometry: [0, 0, 9, 9]\n"
        "- id: b\n  type: text\n  geometry: [0, 10, 9, 9]\n"
    )
    undo_all(document)
    assert document.text().encode() == bom.read_bytes()

    after = tmp_path / "after.yaml"  # screen keys written after the widgets, and none at all
    after.write_text(
        "name: after\nwidgets:\n  - {id: a, type: text, geometry: [0, 0, 9, 9]}\n"
        "# the size comes last here\nsize: [400, 300]\n"
    )
    document = ScreenDocument.load(after)
    document.set_screen_props(size=(640, 480), title="After")
    assert document.text() == (
        "name: after\ntitle: After\nwidgets:\n  - {id: a, type: text, geometry: [0, 0, 9, 9]}\n"
        "# the size comes last here\nsize: [640, 480]\n"
    )
    assert document.size == (640, 480)
    bare = tmp_path / "bare.yaml"
    bare.write_text("name: bare")
    document = ScreenDocument.load(bare)
    document.add_widgets([WidgetEntry("a", "text", (0, 0, 9, 9))])
    assert document.text() == (
        "name: bare\nwidgets:\n  - id: a\n    type: text\n    geometry: [0, 0, 9, 9]\n"
    )
    undo_all(document)
    assert document.text() == "name: bare"


def test_refused_values_leave_the_document_unchanged(overview: ScreenDocument) -> None:
    original = overview.text()
    with pytest.raises(ValueError, match="cannot be written"):
        overview.set_prop("work_order", "label_width", float("nan"))
    assert overview.text() == original and overview.undo_stack.count() == 0
    with pytest.raises(KeyError):
        overview.set_prop("no_such_widget", "label", "x")


def test_values_are_written_as_plain_data(overview: ScreenDocument) -> None:
    from enum import StrEnum

    class Style(StrEnum):
        CAPTION = "caption"

    overview.add_widgets(
        [WidgetEntry("t", "text", [5, 5, 50, 20], {"style": Style.CAPTION, "pad": (1, 2)})]  # type: ignore[arg-type]
    )
    assert overview.entry("t").geometry == (5, 5, 50, 20)
    assert overview.entry("t").props == {"style": "caption", "pad": [1, 2]}
    overview.set_prop("t", "pad", (1, 2))  # the same once written: no edit
    assert overview.undo_stack.count() == 1
    assert reread(overview) == overview.entries()


def test_reload_takes_the_file_as_it_is_now(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nwidgets:\n  - {id: a, type: text, geometry: [0, 0, 9, 9]}\n")
    document = ScreenDocument.load(path)
    document.set_geometries({"a": (1, 1, 9, 9)})
    path.write_text("name: r\nwidgets:\n  - {id: b, type: text, geometry: [0, 0, 9, 9]}\n")
    assert document.changed_on_disk() is not None
    document.reload()
    assert [e.id for e in document.entries()] == ["b"]
    assert not document.is_modified() and document.undo_stack.count() == 0
    assert document.changed_on_disk() is None
