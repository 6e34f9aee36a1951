"""Long random edit sequences: the text always reads back as the document's entries, undoing
everything gives the original bytes, redoing everything gives the edited text again."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screens.designer.document import ScreenDocument, WidgetEntry
from screens.designer.screen_text import parse_screen

DEMO_SCREENS = sorted(
    (Path(__file__).resolve().parents[2] / "resources" / "demo" / "screens").glob("*.yaml")
)

VALUES: list[Any] = [
    "plain words",
    "colon: inside",
    "# not a comment",
    "{placeholder}",
    "it's 'quoted'",
    'say "hi"',
    "  leading blanks",
    "yes",
    "123",
    "",
    "Δp über 5 °C",
    "a, b, [c]",
    42,
    -3.25,
    True,
    [1, 2, 3],
    {"nested": {"deep": ["x", "y: z"]}},
    [
        {"value": 0, "text": "STOPPED", "style": "stopped"},
        {"value": 1, "text": "RUN", "style": "running"},
    ],
    "a much longer text value that on its own nearly fills a line of the screen file, "
    "to force block style",
]
SOURCES = ["line1.state", "line1.filler.speed", "line1.speed * 2 + 1", "not line1.running", "t.in"]
KEYS = ["label", "text", "title", "states", "format", "label_width", "extra", "style"]


def check(document: ScreenDocument) -> None:
    """The text parses back to exactly the document's entries and metadata."""
    state = parse_screen(document.text(), "walk", document.name)
    assert [i.entry for i in state.items] == document.entries()
    assert state.meta.size == document.size and state.meta.title == document.title


def random_edit(document: ScreenDocument, rng: random.Random, counter: list[int]) -> None:
    entries = document.entries()
    ids = [e.id for e in entries]
    kind = rng.choice(
        [
            "add",
            "move",
            "move",
            "resize",
            "prop",
            "prop",
            "bind",
            "click",
            "remove",
            "restack",
            "group",
            "ungroup",
            "screen",
            "break",
        ]
    )
    if kind == "add" or not ids:
        counter[0] += 1
        count = rng.choice([1, 1, 2])
        new = [
            WidgetEntry(
                document.new_id("walk", reserved=[f"walk_{counter[0]}_{n}"]) + f"_{counter[0]}_{n}",
                rng.choice(["numeric", "text", "panel"]),
                (
                    rng.randrange(0, 900),
                    rng.randrange(0, 600),
                    rng.randrange(10, 300),
                    rng.randrange(10, 100),
                ),
                {rng.choice(KEYS): rng.choice(VALUES)} if rng.random() < 0.7 else {},
                {"value": rng.choice(SOURCES)} if rng.random() < 0.5 else {},
                {"navigate": "filler"} if rng.random() < 0.2 else None,
            )
            for n in range(count)
        ]
        document.add_widgets(new)
        return
    chosen = rng.sample(ids, k=min(len(ids), rng.choice([1, 1, 2, 3])))
    if kind in ("move", "resize"):
        geometries = {}
        for widget_id in chosen:
            x, y, w, h = document.entry(widget_id).geometry
            if kind == "move":
                geometries[widget_id] = (x + rng.randint(-20, 20), y + rng.randint(-20, 20), w, h)
            else:
                geometries[widget_id] = (
                    x,
                    y,
                    max(1, w + rng.randint(-10, 10)),
                    max(1, h + rng.randint(-5, 5)),
                )
        document.set_geometries(geometries, text="Move" if kind == "move" else "Resize")
    elif kind == "prop":
        value = rng.choice([*VALUES, None])
        document.set_prop(chosen[0], rng.choice([*document.entry(chosen[0]).props, *KEYS]), value)
    elif kind == "bind":
        document.set_binding(
            chosen[0], rng.choice(["value", "text", "fault"]), rng.choice([*SOURCES, None])
        )
    elif kind == "click":
        action = rng.choice(
            [
                None,
                {"navigate": "utilities"},
                {
                    "faceplate": "machine_faceplate",
                    "params": {"equipment": "line1.filler", "title": "Filler"},
                },
            ]
        )
        document.set_on_click(chosen[0], action)
    elif kind == "remove":
        document.remove_widgets(chosen)
    elif kind == "restack":
        document.restack(chosen, rng.choice(["front", "back", "forward", "backward"]))
    elif kind == "group":
        document.group(chosen)
    elif kind == "ungroup":
        groups = sorted({e.group for e in entries if e.group})
        if groups:
            document.ungroup(rng.choice(groups))
    elif kind == "screen":
        document.set_screen_props(
            title=rng.choice(["Walk", "A: title", "", None]),
            size=rng.choice([(1280, 720), (1920, 1080), None]),
        )
    else:
        document.break_merge()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("path", DEMO_SCREENS, ids=lambda p: p.name)
def test_random_walk_undo_all_gives_the_original_bytes(path: Path, seed: int) -> None:
    document = ScreenDocument.load(path)
    original = document.text()
    rng = random.Random(f"{path.name}-{seed}")
    counter = [0]
    for step in range(150):
        random_edit(document, rng, counter)
        if step % 15 == 0:
            check(document)
    check(document)
    edited = document.text()
    steps = document.undo_stack.count()
    assert steps > 40
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    assert document.text().encode("utf-8") == path.read_bytes() == original.encode("utf-8")
    assert not document.is_modified()
    while document.undo_stack.canRedo():
        document.undo_stack.redo()
    assert document.text() == edited
    check(document)


TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029\ufeff"
    ),
    max_size=40,
)
VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=3)
    ),
    max_leaves=6,
)


OVERVIEW = next(p for p in DEMO_SCREENS if p.name == "overview.yaml")
OVERVIEW_STATE = parse_screen(OVERVIEW.read_text(encoding="utf-8"), "overview.yaml", "overview")


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.tuples(
            st.sampled_from(["status_panel", "work_order", "line_state", "shift_panel"]),
            st.sampled_from(KEYS),
            VALUE,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_prop_value_reads_back_exactly(values: list[tuple[str, str, Any]]) -> None:
    document = ScreenDocument(OVERVIEW, OVERVIEW_STATE)  # states are immutable: shared
    for widget_id, key, value in values:
        if widget_id not in document:
            continue
        try:
            document.set_prop(widget_id, key, value)
        except ValueError:
            continue  # refused (cannot be written so it reads back the same): nothing changed
    check(document)
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    assert document.text().encode("utf-8") == OVERVIEW.read_bytes()
