"""Saving: the check first (errors stop it, warnings do not), then an atomic write with a backup;
the saved file reads back through the app's own screen loader as the same widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hmi_app.check import check_project
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.yamlio import read_yaml
from hmi_app.core.tagsource import TagMeta
from screens.designer.document import DocumentError, SaveRefused, ScreenDocument, WidgetEntry
from screens.designer.validation import overlap_issues
from screens.model import check_screen

TAGS = {
    "line1.speed": TagMeta("line1.speed", DataType.FLOAT32, units="bpm"),
    "line1.speed_sp": TagMeta("line1.speed_sp", DataType.FLOAT32, writable=True),
    "line1.running": TagMeta("line1.running", DataType.BOOL),
}
SCREENS = ["overview", "filler", "machine_faceplate"]

BLANK = "schema_version: 1\nname: check\nsize: [800, 600]\nwidgets: []\n"


@pytest.fixture
def blank(tmp_path: Path) -> ScreenDocument:
    path = tmp_path / "check.yaml"
    path.write_text(BLANK, encoding="utf-8")
    return ScreenDocument.load(path)


def add(document: ScreenDocument, *entries: WidgetEntry) -> None:
    document.add_widgets(list(entries))


def messages(document: ScreenDocument) -> list[tuple[str | None, str, str]]:
    return [(i.widget_id, i.severity, i.message) for i in document.validate(TAGS, SCREENS)]


def test_a_clean_screen_has_no_issues(blank: ScreenDocument) -> None:
    add(
        blank,
        WidgetEntry("panel", "panel", (0, 0, 400, 300), {"title": "Filler"}),
        WidgetEntry(
            "speed", "numeric", (10, 40, 200, 40), {"label": "Speed"}, {"value": "line1.speed"}
        ),
        WidgetEntry("sp", "entry", (10, 90, 200, 40), {}, {"value": "line1.speed_sp"}),
        WidgetEntry("go", "nav", (10, 140, 120, 40), {"text": "Filler", "screen": "filler"}),
        WidgetEntry("fp", "symbol", (10, 190, 60, 60), {}, {}, {"faceplate": "machine_faceplate"}),
    )
    assert messages(blank) == []


@pytest.mark.parametrize(
    ("entry", "severity", "words"),
    [
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {"value": "line1.sped"}),
            "error",
            "bind.value: unknown tag 'line1.sped' (did you mean line1.speed",
        ),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {"value": "line1.speed * gain.k"}),
            "error",
            "unknown tag 'gain.k'",
        ),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {"value": "line1.speed *"}),
            "error",
            "bind.value: expression 'line1.speed *'",
        ),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {"colour": "line1.speed"}),
            "error",
            "numeric has no bindable property 'colour'",
        ),
        (WidgetEntry("w", "pumpp", (0, 0, 100, 40)), "error", "unknown widget type 'pumpp'"),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {"lable": "x"}),
            "error",
            "props.lable: numeric has no property 'lable'",
        ),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {"label_width": "wide"}),
            "error",
            "props.label_width",
        ),
        (WidgetEntry("w", "numeric", (750, 0, 100, 40)), "error", "outside the 800x600 screen"),
        (WidgetEntry("w", "numeric", (0, -5, 100, 40)), "error", "outside the 800x600 screen"),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {}, {"navigate": "nowhere"}),
            "error",
            "on_click.navigate: no screen named 'nowhere'",
        ),
        (
            WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {}, {"faceplate": "pump_fp"}),
            "error",
            "on_click.faceplate: no screen named 'pump_fp'",
        ),
        (
            WidgetEntry("w", "nav", (0, 0, 100, 40), {"text": "x", "screen": "gone"}),
            "error",
            "props.screen: no screen named 'gone'",
        ),
        (
            WidgetEntry("w", "entry", (0, 0, 100, 40), {}, {"value": "line1.speed"}),
            "warning",
            "tag 'line1.speed' is read-only",
        ),
        (
            WidgetEntry("w", "entry", (0, 0, 100, 40), {}, {"value": "line1.speed_sp * 2"}),
            "warning",
            "is an expression",
        ),
    ],
)
def test_each_problem_names_the_widget(
    blank: ScreenDocument, entry: WidgetEntry, severity: str, words: str
) -> None:
    add(blank, WidgetEntry("ok", "numeric", (300, 300, 100, 40)), entry)
    found = messages(blank)
    assert any(w == "w" and s == severity and words in m for w, s, m in found), found
    assert all(w == "w" for w, _s, _m in found), found


def test_overlaps_warn_but_panels_may_hold_widgets() -> None:
    entries = [
        WidgetEntry("panel", "panel", (0, 0, 400, 300)),
        WidgetEntry("inside", "numeric", (10, 10, 100, 40)),
        WidgetEntry("over", "numeric", (50, 30, 100, 40)),  # over 'inside'
        WidgetEntry("edge", "numeric", (380, 10, 100, 40)),  # half out of the panel
        WidgetEntry("apart", "numeric", (500, 500, 10, 10)),
        WidgetEntry("touching", "numeric", (510, 500, 10, 10)),  # shares an edge only
        WidgetEntry("pipe", "pipe", (100, 20, 300, 20)),  # connectors run into what they join
    ]
    issues = overlap_issues(entries)
    assert [(i.widget_id, i.severity, i.message) for i in issues] == [
        ("over", "warning", "overlaps inside"),
        ("edge", "warning", "overlaps panel"),
    ]


def test_errors_stop_the_save_and_warnings_do_not(blank: ScreenDocument) -> None:
    original = blank.path.read_bytes()
    add(blank, WidgetEntry("w", "numeric", (0, 0, 100, 40), {}, {"value": "no.such_tag"}))
    with pytest.raises(SaveRefused) as refused:
        blank.save(TAGS, SCREENS)
    assert isinstance(refused.value, DocumentError)  # callers that catch DocumentError see it
    assert "unknown tag 'no.such_tag'" in str(refused.value)
    assert refused.value.design_issues[0].widget_id == "w"
    assert blank.path.read_bytes() == original and blank.is_modified()
    blank.set_binding("w", "value", "line1.speed")
    add(blank, WidgetEntry("w2", "numeric", (50, 20, 100, 40)))  # overlaps w: a warning
    issues = blank.save(TAGS, SCREENS)
    assert [(i.widget_id, i.severity) for i in issues] == [("w2", "warning")]
    assert not blank.is_modified()
    assert blank.path.read_text(encoding="utf-8") == blank.text()


def test_without_tags_the_save_still_checks_the_widgets(blank: ScreenDocument) -> None:
    add(blank, WidgetEntry("w", "numeric", (0, 0, 100, 40), {"lable": "x"}))
    with pytest.raises(SaveRefused, match="has no property 'lable'"):
        blank.save()
    issues = blank.save(force=True)  # the user insisted: written, issues returned
    assert issues[0].severity == "error"
    assert "lable" in blank.path.read_text(encoding="utf-8")


def test_save_is_atomic_with_a_backup_and_reloads_the_same(demo: Path, qtbot: QtBot) -> None:
    path = demo / "screens" / "overview.yaml"
    original = path.read_bytes()
    document = ScreenDocument.load(path)
    document.set_geometries({"work_order": (670, 52, 216, 40)})
    document.set_prop("work_order", "label", "Order")
    document.add_widgets(
        [
            WidgetEntry(
                "pump_2",
                "numeric",
                (860, 600, 200, 40),
                {"label": "Pump 2"},
                {"value": "line1.filler.speed"},
            )
        ]
    )
    with qtbot.waitSignal(document.saved) as saved:
        document.save()
    assert saved.args == [path]
    backups = list((demo / "screens" / ".backups").glob("overview-*.yaml"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert not list((demo / "screens").glob(".overview.yaml.*.tmp"))
    # the app's own loader reads the saved file as the designer's widgets
    definition, issues = check_screen(read_yaml(path))
    assert issues == [] and definition is not None
    loaded = [
        WidgetEntry(
            c.id,
            c.type,
            c.geometry,
            c.props,
            c.bind,
            c.on_click.model_dump(exclude_none=True, exclude_defaults=True) if c.on_click else None,
            c.group,
        )
        for c in (p.config for p in definition.widgets)
    ]
    assert loaded == document.entries()
    assert ScreenDocument.load(path).entries() == document.entries()
    _project, problems = check_project(demo)
    assert problems == []
    # undo back to the start and save: the file is the original again (a second backup kept)
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    assert document.is_modified()
    document.save()
    assert path.read_bytes() == original
    assert len(list((demo / "screens" / ".backups").glob("overview-*.yaml"))) == 2


def test_checks_across_files_name_the_widget(demo: Path) -> None:
    from hmi_app.core.project.loader import read_project

    project, problems = read_project(demo)
    assert project is not None and problems == []
    others = project.screen_docs
    tags = {tag.name for tag in project.model.tags}
    document = ScreenDocument.load(demo / "screens" / "overview.yaml")
    assert document.validate(tags, None, others) == []  # the demo is clean, overlaps and all
    document.set_on_click("work_order", {"faceplate": "machine_faceplate"})
    document.set_on_click("start", {"navigate": "machine_faceplate"})
    found = [(i.widget_id, i.message) for i in document.validate(tags, None, others)]
    assert any(
        w == "work_order" and "machine_faceplate needs parameter(s) equipment, title" in m
        for w, m in found
    ), found
    assert any(
        w == "start" and "'machine_faceplate' is a template: open it with 'faceplate'" in m
        for w, m in found
    ), found
    nav = next(e.id for e in document.entries() if e.type == "nav")
    document.set_prop(nav, "screen", "gone")
    found = [(i.widget_id, i.message) for i in document.validate(tags, None, others)]
    assert (nav, "props.screen: no screen named 'gone'") in [
        (w, m.split(" (")[0]) for w, m in found
    ]


def test_a_file_changed_on_disk_is_not_overwritten(demo: Path) -> None:
    from screens.designer import screen_files

    path = demo / "screens" / "overview.yaml"
    document = ScreenDocument.load(path)
    document.set_prop("work_order", "label", "Order")
    assert document.changed_on_disk() is None
    # meanwhile a rename of the faceplate updates the links in this very file
    screen_files.rename_screen(demo, "machine_faceplate", "machine_popup")
    renamed = path.read_bytes()
    with pytest.raises(DocumentError, match="changed on disk since it was opened"):
        document.save()
    assert path.read_bytes() == renamed and document.is_modified()
    document.save(force=True)  # the user chose to overwrite: the other version is backed up
    assert path.read_text(encoding="utf-8") == document.text()
    assert renamed in [b.read_bytes() for b in (demo / "screens" / ".backups").glob("overview-*")]
    document.set_prop("work_order", "label", "Order no.")
    document.save()  # its own last save is what it expects on disk


def test_a_new_screen_does_not_replace_an_existing_file(demo: Path) -> None:
    path = demo / "screens" / "filler.yaml"
    original = path.read_bytes()
    document = ScreenDocument.new(path, "filler")
    with pytest.raises(DocumentError, match="was created by someone else"):
        document.save()
    assert path.read_bytes() == original


def test_disk_changes_merge_with_the_edits(demo: Path) -> None:
    from screens.designer import screen_files

    path = demo / "screens" / "overview.yaml"
    document = ScreenDocument.load(path)
    document.set_prop("work_order", "label", "Order")
    document.set_geometries({"infeed": (60, 300, 100, 104)})
    screen_files.rename_screen(demo, "machine_faceplate", "machine_popup")
    assert document.merge_disk_changes()
    text = document.text()
    assert "faceplate: machine_faceplate" not in text
    assert text.count("faceplate: machine_popup") == 4
    assert "props: {label: Order, label_width: 96}" in text
    assert document.entry("infeed").on_click == {
        "faceplate": "machine_popup",
        "params": {"equipment": "line1.infeed", "title": "Infeed"},
    }
    document.save()  # no longer stale: saved without force
    assert path.read_text(encoding="utf-8") == text
    assert ScreenDocument.load(path).entries() == document.entries()
    _project, problems = check_project(demo)
    assert problems == []


def test_conflicting_disk_changes_are_not_merged(demo: Path) -> None:
    path = demo / "screens" / "overview.yaml"
    document = ScreenDocument.load(path)
    document.set_prop("work_order", "label", "Mine")
    before = document.text()
    path.write_text(
        path.read_text().replace("{label: Work order,", "{label: Theirs,"), encoding="utf-8"
    )
    assert not document.merge_disk_changes()
    assert document.text() == before and document.changed_on_disk() is not None
    clean = ScreenDocument.load(path)
    path.write_text(path.read_text().replace("{label: Theirs,", "{label: Again,"), "utf-8")
    assert clean.merge_disk_changes()  # nothing of its own to keep: simply reloaded
    assert clean.entry("work_order").props["label"] == "Again" and not clean.is_modified()


@pytest.mark.parametrize(
    ("ours", "theirs", "merged"),
    [
        ("a\nB\nc\nd\n", "a\nb\nc\nD\n", "a\nB\nc\nD\n"),
        ("a\nB\nc\nd\n", "a\nB\nc\nd\n", "a\nB\nc\nd\n"),
        ("a\nb\nc\nd\nX\n", "a\nb\nc\n", "a\nb\nc\nX\n"),
        ("a\nB\nc\nd\n", "a\nb2\nc\nd\n", None),
        ("a\nb\nX\nc\nd\n", "a\nb\nY\nc\nd\n", None),
    ],
)
def test_merge3(ours: str, theirs: str, merged: str | None) -> None:
    from screens.designer.text_edits import merge3

    assert merge3("a\nb\nc\nd\n", ours, theirs) == merged
