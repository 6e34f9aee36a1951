"""Screen management on a copy of the demo project: every command leaves a project the app
opens without a problem, changes only the lines it must, and keeps backups."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from hmi_app.check import check_project
from screens.designer import screen_files as files
from screens.designer.document import ScreenDocument
from screens.designer.screen_files import ScreenFileError


def diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
    return [d for d in lines if d[:1] in "+-" and not d.startswith(("+++", "---"))]


def assert_clean(folder: Path) -> None:
    _project, issues = check_project(folder)
    assert issues == [], "\n".join(str(i) for i in issues)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".backups" not in p.parts
    }


def test_new_screen_and_template(demo: Path) -> None:
    project = (demo / "project.yaml").read_text()
    path = files.new_screen(demo, "packing", title="Packing")
    assert path == demo / "screens" / "packing.yaml"
    assert diff(project, (demo / "project.yaml").read_text()) == ["+  - screens/packing.yaml\n"]
    document = ScreenDocument.load(path)
    assert (document.name, document.title, document.entries()) == ("packing", "Packing", [])
    template = files.new_screen(
        demo, "valve_faceplate", parameters=["equipment", "title"], size=(400, 300)
    )
    text = template.read_text()
    assert "parameters:\n  equipment: {description: ''}\n  title: {description: ''}\n" in text
    assert "packing" in files.screen_files(demo) and "valve_faceplate" in files.screen_files(demo)
    assert_clean(demo)


@pytest.mark.parametrize(
    ("name", "words"),
    [("overview", "already a screen"), ("two words", "is not a screen name"), ("", "screen name")],
)
def test_bad_new_names_are_refused_and_change_nothing(demo: Path, name: str, words: str) -> None:
    before = snapshot(demo)
    with pytest.raises(ScreenFileError, match=words):
        files.new_screen(demo, name)
    assert snapshot(demo) == before


COMMENT = "# a template: opened as a popup, not in the navigation"
CLICK = "params: {equipment: line1.filler, title: Filler}}"


def test_rename_follows_every_reference(demo: Path) -> None:
    before = snapshot(demo)
    new_path = files.rename_screen(demo, "machine_faceplate", "machine_popup")
    assert new_path == demo / "screens" / "machine_popup.yaml"
    assert not (demo / "screens" / "machine_faceplate.yaml").exists()
    after = snapshot(demo)
    assert diff(before["project.yaml"].decode(), after["project.yaml"].decode()) == [
        f"-  - screens/machine_faceplate.yaml   {COMMENT}\n",
        f"+  - screens/machine_popup.yaml   {COMMENT}\n",
    ]
    assert diff(
        before["screens/machine_faceplate.yaml"].decode(),
        after["screens/machine_popup.yaml"].decode(),
    ) == ["-name: machine_faceplate\n", "+name: machine_popup\n"]
    overview = diff(
        before["screens/overview.yaml"].decode(), after["screens/overview.yaml"].decode()
    )
    assert len(overview) == 8  # the four machines' faceplate clicks, one line each
    assert all("machine_popup" in line for line in overview if line[0] == "+")
    assert diff(before["screens/filler.yaml"].decode(), after["screens/filler.yaml"].decode()) == [
        f"-    on_click: {{faceplate: machine_faceplate, {CLICK}\n",
        f"+    on_click: {{faceplate: machine_popup, {CLICK}\n",
    ]
    backups = {p.name.split("-")[0] for p in (demo / "screens" / ".backups").iterdir()}
    assert backups == {"machine_faceplate", "overview", "filler"}
    assert_clean(demo)


def test_renaming_the_start_screen_moves_the_start_and_the_nav_buttons(demo: Path) -> None:
    files.rename_screen(demo, "overview", "line_overview")
    project = (demo / "project.yaml").read_text()
    assert "  start_screen: line_overview\n" in project
    assert "  - screens/line_overview.yaml\n" in project
    filler = (demo / "screens" / "filler.yaml").read_text()
    assert "props: {text: Overview, screen: line_overview, arrow: left}" in filler
    assert files.references(demo, "overview") == []
    assert_clean(demo)


def test_duplicate_keeps_everything_but_the_name(demo: Path) -> None:
    original = (demo / "screens" / "filler.yaml").read_text()
    copy = files.duplicate_screen(demo, "filler", "filler_line2")
    assert diff(original, copy.read_text()) == ["-name: filler\n", "+name: filler_line2\n"]
    assert files.screen_files(demo)["filler_line2"] == copy
    assert_clean(demo)


def test_delete_is_refused_while_referenced(demo: Path) -> None:
    before = snapshot(demo)
    with pytest.raises(ScreenFileError, match="start screen"):
        files.delete_screen(demo, "overview")
    with pytest.raises(ScreenFileError) as refused:
        files.delete_screen(demo, "machine_faceplate")
    message = str(refused.value)
    assert "overview.yaml:145: on_click.faceplate of infeed" in message
    assert "filler.yaml:137: on_click.faceplate of" in message
    with pytest.raises(ScreenFileError, match=r"filler.yaml:\d+: props.screen of"):
        files.delete_screen(demo, "utilities")
    assert snapshot(demo) == before


def test_delete_an_unused_screen_keeps_a_backup(demo: Path) -> None:
    project = (demo / "project.yaml").read_text()
    original = (demo / "screens" / "production.yaml").read_bytes()
    files.delete_screen(demo, "production")
    assert not (demo / "screens" / "production.yaml").exists()
    assert diff(project, (demo / "project.yaml").read_text()) == ["-  - screens/production.yaml\n"]
    backups = list((demo / "screens" / ".backups").glob("production-*.yaml"))
    assert [b.read_bytes() for b in backups] == [original]
    assert_clean(demo)


def test_start_screen(demo: Path) -> None:
    files.set_start_screen(demo, "filler")
    assert "  start_screen: filler\n" in (demo / "project.yaml").read_text()
    with pytest.raises(ScreenFileError, match="is a template"):
        files.set_start_screen(demo, "machine_faceplate")
    with pytest.raises(ScreenFileError, match="no screen 'nope'"):
        files.set_start_screen(demo, "nope")
    assert_clean(demo)


def test_template_parameters(demo: Path) -> None:
    path = demo / "screens" / "machine_faceplate.yaml"
    original = path.read_text()
    files.add_parameter(
        demo, "machine_faceplate", "unit", description="engineering unit", default="bpm"
    )
    assert diff(original, path.read_text()) == [
        "+  unit: {description: engineering unit, default: bpm}\n"
    ]
    files.remove_parameter(demo, "machine_faceplate", "unit")
    assert path.read_text() == original
    with pytest.raises(
        ScreenFileError, match=r"'equipment' is still used by widgets\.1\.props\.text"
    ):
        files.remove_parameter(demo, "machine_faceplate", "equipment")
    with pytest.raises(ScreenFileError, match="has no parameter"):
        files.remove_parameter(demo, "machine_faceplate", "nope")
    with pytest.raises(ScreenFileError, match="parameter name"):
        files.add_parameter(demo, "machine_faceplate", "bad name")
    # a plain screen becomes a template with its first parameter
    files.add_parameter(demo, "production", "line", default="line1")
    assert (
        "parameters:\n  line: {description: '', default: line1}\nwidgets:\n"
        in (demo / "screens" / "production.yaml").read_text()
    )


def test_a_failed_write_puts_every_file_back(demo: Path) -> None:
    before = snapshot(demo)
    (demo / ".backups").write_text("not a folder")  # project.yaml's backup cannot be made
    with pytest.raises(ScreenFileError, match=r"project\.yaml: cannot be written"):
        files.rename_screen(demo, "machine_faceplate", "machine_popup")
    after = snapshot(demo)
    assert after == before
