"""Snapping, aligning, distributing, resize handles and copying: the designer's pure geometry."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from screens.designer.align import align, bounds, distribute
from screens.designer.clipboard import Clipboard, copies, fresh_group, fresh_id
from screens.designer.entries import WidgetEntry
from screens.designer.handles import EDGES, HANDLES, handle_at, handle_centre
from screens.designer.snapping import Guide, SnapTargets, snap_move, snap_resize

NEIGHBOUR = (100, 100, 80, 40)  # left 100, centre 140, right 180; top 100, middle 120, bottom 140


def test_move_snaps_to_the_grid_without_neighbours() -> None:
    assert snap_move((23, 38, 50, 20), None, 10).geometry == (20, 40, 50, 20)
    assert snap_move((23, 38, 50, 20), SnapTargets([]), 10).guides == ()
    assert snap_move((23, 38, 50, 20), None, 1).geometry == (23, 38, 50, 20)


def test_move_snaps_an_edge_to_a_neighbour_within_the_threshold_before_the_grid() -> None:
    targets = SnapTargets([NEIGHBOUR])
    # left edge 3 px right of the neighbour's left: snaps to it; y is far: grid
    snapped = snap_move((103, 300, 50, 20), targets, 10, threshold=5)
    assert snapped.geometry == (100, 300, 50, 20)
    assert snapped.guides == (Guide("x", 100, 100, 320),)
    # right edge (x + w = 176) to the neighbour's right (180)
    assert snap_move((126, 300, 50, 20), targets, 10, threshold=5).geometry[0] == 130
    # centres: 40 wide at 117 -> centre 137 -> 140
    assert snap_move((117, 300, 40, 20), targets, 10, threshold=5).geometry[0] == 120
    # too far for the threshold: grid only
    assert snap_move((108, 300, 50, 20), targets, 10, threshold=5).geometry[0] == 110


def test_move_snaps_both_axes_and_reports_both_guides() -> None:
    targets = SnapTargets([NEIGHBOUR, (400, 98, 30, 30)])
    snapped = snap_move((250, 102, 60, 40), targets, 8, threshold=4)
    assert snapped.geometry == (248, 100, 60, 40)  # x: grid; top 102 -> 100 (neighbour top)
    assert Guide("y", 100, 100, 308) in snapped.guides  # spans both rectangles


def test_move_snaps_to_the_screen_edges_and_centre() -> None:
    targets = SnapTargets([], screen=(1280, 720))
    assert snap_move((3, 5, 100, 50), targets, 1, threshold=6).geometry == (0, 0, 100, 50)
    centred = snap_move((588, 300, 100, 50), targets, 1, threshold=6)
    assert centred.geometry[0] == 590  # its centre on the screen's centre line (640)
    assert any(g.axis == "x" and g.pos == 640 for g in centred.guides)


def test_resize_moves_only_the_dragged_edges_and_keeps_a_minimum_size() -> None:
    targets = SnapTargets([NEIGHBOUR])
    snapped = snap_resize((10, 10, 87, 33), EDGES["se"], targets, 10, threshold=5)
    assert snapped.geometry == (10, 10, 90, 30)  # right 97 -> 100 (neighbour), bottom 43 -> 40
    assert Guide("x", 100, 10, 140) in snapped.guides
    left = snap_resize((52, 10, 40, 30), EDGES["w"], None, 10)
    assert left.geometry == (50, 10, 42, 30)
    collapsed = snap_resize((50, 10, 3, 30), EDGES["e"], None, 10)
    assert collapsed.geometry[2] >= 4


def test_align_lines_units_up_on_the_outermost_edge() -> None:
    rects = {"a": (10, 10, 50, 20), "b": (40, 60, 30, 20), "c": (25, 100, 100, 10)}
    assert align(rects, "left") == {"b": (10, 60, 30, 20), "c": (10, 100, 100, 10)}
    assert align(rects, "right") == {"a": (75, 10, 50, 20), "b": (95, 60, 30, 20)}
    assert align(rects, "top") == {"b": (40, 10, 30, 20), "c": (25, 10, 100, 10)}
    assert align(rects, "bottom") == {"a": (10, 90, 50, 20), "b": (40, 90, 30, 20)}
    # the selection spans x 10..125: centre 67.5
    hcentre = {**rects, **align(rects, "hcenter")}
    assert {k: v[0] + v[2] / 2 for k, v in hcentre.items()} == {"a": 68, "b": 68, "c": 68}
    vcentre = {**rects, **align(rects, "vcenter")}
    assert len({v[1] + v[3] / 2 for v in vcentre.values()}) == 1
    assert align({"a": (1, 2, 3, 4)}, "left") == {}


def test_align_moves_a_group_as_one_unit() -> None:
    rects = {"a": (10, 10, 20, 20), "g1": (50, 50, 20, 20), "g2": (80, 50, 20, 20)}
    moved = align(rects, "left", units=[["g1", "g2"]])
    assert moved == {"g1": (10, 50, 20, 20), "g2": (40, 50, 20, 20)}


def test_distribute_spaces_with_equal_gaps_keeping_the_outermost() -> None:
    rects = {"a": (0, 0, 10, 10), "b": (15, 0, 20, 10), "c": (100, 0, 10, 10), "d": (50, 5, 30, 10)}
    moved = {**rects, **distribute(rects, "h")}
    assert moved["a"] == (0, 0, 10, 10) and moved["c"] == (100, 0, 10, 10)
    ordered = sorted(moved.values())
    gaps = [ordered[i + 1][0] - (ordered[i][0] + ordered[i][2]) for i in range(3)]
    assert max(gaps) - min(gaps) <= 1, gaps
    vertical = distribute({"a": (0, 0, 5, 10), "b": (0, 11, 5, 10), "c": (0, 40, 5, 10)}, "v")
    assert vertical == {"b": (0, 20, 5, 10)}
    assert distribute({"a": (0, 0, 5, 5), "b": (9, 0, 5, 5)}, "h") == {}


def test_bounds() -> None:
    assert bounds([(10, 20, 5, 5), (0, 30, 50, 1)]) == (0, 20, 50, 11)


def test_handles_sit_on_corners_and_edge_middles_and_are_found_by_position() -> None:
    rect = QRect(100, 50, 80, 40)
    assert handle_centre(rect, "nw") == QPoint(100, 50)
    assert handle_centre(rect, "se") == QPoint(180, 90)
    assert handle_centre(rect, "n") == QPoint(140, 50)
    for handle in HANDLES:
        assert handle_at(rect, handle_centre(rect, handle)) == handle
    assert handle_at(rect, QPoint(140, 70)) is None
    assert EDGES["ne"] == frozenset({"right", "top"})


def _entry(ident: str, kind: str = "numeric", group: str | None = None) -> WidgetEntry:
    return WidgetEntry(
        ident, kind, (10, 10, 100, 40), {"label": "Speed"}, {"value": "a.b"}, None, group
    )


def test_copies_get_fresh_ids_new_groups_and_an_offset() -> None:
    existing = {"numeric_1", "numeric_2", "numeric_3"}

    def new_id(kind: str) -> str:  # what the document does: the first free number in the file
        n = 1
        while f"{kind}_{n}" in existing:
            n += 1
        return f"{kind}_{n}"

    source = [
        _entry("numeric_1", group="group_1"),
        _entry("numeric_2", group="group_1"),
        _entry("numeric_3", group="group_2"),
    ]
    made = copies(source, new_id=new_id, taken_ids=existing, taken_groups={"group_1", "group_2"})
    assert [e.id for e in made] == ["numeric_4", "numeric_5", "numeric_6"]
    assert [e.group for e in made] == ["group_3", "group_3", None]  # group_2 was partly copied
    assert all(e.geometry == (26, 26, 100, 40) for e in made)
    assert made[0].props == source[0].props and made[0].bind == source[0].bind


def test_copies_stay_on_the_screen() -> None:
    entry = WidgetEntry("a", "numeric", (1200, 700, 80, 20))
    (made,) = copies([entry], new_id=lambda k: "x_1", screen=(1280, 720))
    assert made.geometry == (1200, 700, 80, 20)


def test_each_paste_lands_further_and_a_new_copy_starts_again() -> None:
    board = Clipboard()
    assert board.is_empty() and board.paste(new_id=lambda k: "x") == []
    board.copy([_entry("numeric_1")])
    first = board.paste(new_id=lambda k: f"{k}_9")
    second = board.paste(new_id=lambda k: f"{k}_9")
    assert first[0].geometry[:2] == (26, 26) and second[0].geometry[:2] == (42, 42)
    board.copy([_entry("numeric_1")])
    assert board.paste(new_id=lambda k: f"{k}_9")[0].geometry[:2] == (26, 26)


def test_fresh_ids_and_groups() -> None:
    assert fresh_id("pipe", lambda k: "pipe_2", {"pipe_2", "pipe_3"}) == "pipe_4"
    assert fresh_id("pipe", lambda k: "pump", {"pump"}) == "pump_2"
    assert fresh_group({"group_1", "group_3"}) == "group_2"
