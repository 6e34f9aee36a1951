"""Saving connection changes into project.yaml: only the changed entry's lines move (comments and
untouched keys byte for byte), a new connection is appended after the last with the tag that uses
it in the same write, a rename keeps its place and takes its tags, a connection tags still use
cannot be removed, bad driver settings are refused and undone, and no change writes nothing."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from hmi_app.check import check_project
from hmi_app.core.project.connection_editing import plan_connection_edit, save_project
from hmi_app.core.project.editing import BACKUP_DIR, EditRefused
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.model import ConnectionConfig, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def _check(folder: Path) -> list[ProjectIssue]:
    return check_project(folder)[1]


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a diff."""
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_no_change_writes_nothing(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    model = load_project(demo).model
    result = save_project(demo, model.tags, model.connections, validator=_check)
    assert result.backup is None
    assert not result.connections.changed and not result.edit.changed
    assert result.connections.unchanged == ["line1_plc", "utilities"]
    assert path.read_bytes() == before
    assert not (demo / BACKUP_DIR).exists()
    assert plan_connection_edit(before, model.connections)[0] == before


def test_a_changed_setting_rewrites_only_its_line(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_text(encoding="utf-8")
    model = load_project(demo).model
    plc = model.connections["line1_plc"]
    changed = ConnectionConfig.model_validate(
        {"driver": "modbus-tcp", "simulated_plant": "bottling_line", "unit_id": 1,
         "timeout_ms": 2500, "max_gap_registers": 4}
    )  # fmt: skip
    assert changed != plc
    connections = {**model.connections, "line1_plc": changed}
    result = save_project(demo, model.tags, connections, validator=_check)
    assert result.connections.updated == ["line1_plc"] and result.backup is not None
    after = path.read_text(encoding="utf-8")
    removed, added = _changed_lines(before, after)
    assert removed == ["    timeout_ms: 1000"]
    assert added == ["    timeout_ms: 2500", "    max_gap_registers: 4"]
    # the comment on the simulated_plant line is still there, byte for byte
    assert "    simulated_plant: bottling_line     # host and port come from the embedded" in after
    reloaded = load_project(demo).model.connections["line1_plc"]
    assert reloaded.driver_settings() == {"unit_id": 1, "timeout_ms": 2500, "max_gap_registers": 4}
    assert result.backup.read_text(encoding="utf-8") == before


def test_add_a_connection_and_a_tag_on_it_in_one_write(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_text(encoding="utf-8")
    model = load_project(demo).model
    packer = ConnectionConfig.model_validate(
        {"driver": "modbus-tcp", "host": "10.0.0.7", "port": 5020, "unit_id": 3}
    )
    tag = TagConfig(name="packer.count", connection="packer_plc", address="HR4", type="uint16")
    result = save_project(
        demo, [*model.tags, tag], {**model.connections, "packer_plc": packer}, validator=_check
    )
    assert result.connections.added == ["packer_plc"] and result.edit.added == ["packer.count"]
    after = path.read_text(encoding="utf-8")
    # appended after the last entry, in the file's indent
    assert "  utilities:\n    driver: sim\n  packer_plc:\n    driver: modbus-tcp\n" in after
    removed, _added = _changed_lines(before, after)
    assert removed == []
    project = load_project(demo)
    assert project.model.connections["packer_plc"] == packer
    assert project.tag("packer.count").connection == "packer_plc"
    assert list(project.model.connections) == ["line1_plc", "utilities", "packer_plc"]


def test_a_rename_keeps_its_place_and_takes_its_tags(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_text(encoding="utf-8")
    model = load_project(demo).model
    connections = {
        ("line_a" if name == "line1_plc" else name): c for name, c in model.connections.items()
    }
    tags = [
        t.model_copy(update={"connection": "line_a"}) if t.connection == "line1_plc" else t
        for t in model.tags
    ]
    result = save_project(
        demo, tags, connections, renames={"line1_plc": "line_a"}, validator=_check
    )
    assert result.connections.updated == ["line_a"]
    after = path.read_text(encoding="utf-8")
    head = before[: before.index("tags:")]
    assert after[: after.index("tags:")] == head.replace("  line1_plc:\n", "  line_a:\n")
    assert list(load_project(demo).model.connections) == ["line_a", "utilities"]


def test_removing_a_connection_tags_use_is_refused_and_undone(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    model = load_project(demo).model
    connections = {"line1_plc": model.connections["line1_plc"]}
    with pytest.raises(EditRefused, match="unknown connection 'utilities'"):
        save_project(demo, model.tags, connections, validator=_check)
    assert path.read_bytes() == before
    # without its tags it goes, and only its lines go
    kept = [t for t in model.tags if t.connection != "utilities"]
    removed, added = _changed_lines(
        before.decode(), plan_connection_edit(before, connections)[0].decode()
    )
    assert removed == ["  utilities:", "    driver: sim"] and added == []
    assert len(kept) < len(model.tags)


def test_bad_driver_settings_are_refused_with_the_driver_message(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    model = load_project(demo).model
    for settings, message in (
        ({"port": "abc"}, "port"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ):
        bad = ConnectionConfig.model_validate({"driver": "modbus-tcp", **settings})
        with pytest.raises(EditRefused, match=message) as refused:
            save_project(demo, model.tags, {**model.connections, "bad": bad}, validator=_check)
        assert "project.yaml:" in str(refused.value)
        assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("connections: {a: {driver: sim}}  # kept\n", "connections: # kept\n  a:\n"),
        ("connections: {}\n", "connections:\n  a:\n"),
        ("", "connections:\n  a:\n"),
    ],
)
def test_flow_empty_or_missing_sections_become_blocks(section: str, expected: str) -> None:
    raw = ("schema_version: 1\nproject: {name: x}\n" + section + "tags: []\n").encode()
    connections = {
        "a": ConnectionConfig(driver="sim"),
        "b": ConnectionConfig.model_validate({"driver": "modbus-tcp", "port": 1502}),
    }
    new, edit = plan_connection_edit(raw, connections)
    text = new.decode()
    assert expected in text and "  b:\n    driver: modbus-tcp\n    port: 1502\n" in text
    assert "b" in edit.added
    # and emptied again: an explicit empty mapping, never null
    empty, _edit = plan_connection_edit(new, {})
    assert "connections: {}" in empty.decode()
