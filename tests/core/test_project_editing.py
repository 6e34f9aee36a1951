"""Saving tag changes into project.yaml: untouched text stays byte for byte, comments and key
order survive, the write is atomic with a backup, and a change that does not validate is undone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hmi_app.check import check_project
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.editing import (
    BACKUP_DIR,
    EditRefused,
    plan_tag_edit,
    save_tags,
    write_atomic,
)
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.model import Limits, Scaling, TagConfig
from hmi_app.core.project.yamlio import ProjectIssue


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def _check(folder: Path) -> list[ProjectIssue]:
    return check_project(folder)[1]


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_save_without_edits_leaves_the_file_byte_identical(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    tags = load_project(demo).model.tags
    result = save_tags(demo, tags, validator=_check)  # every tag "updated" to itself
    assert result.backup is None and not result.edit.changed
    assert len(result.edit.unchanged) == len(tags)
    assert path.read_bytes() == before
    assert not (demo / BACKUP_DIR).exists()
    assert plan_tag_edit(before)[0] == before


def test_add_update_remove_keep_comments_order_and_untouched_lines(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_text(encoding="utf-8")
    old = load_project(demo)
    speed_sp = old.tag("line1.filler.speed_sp")
    changed = speed_sp.model_copy(update={"limits": Limits(min=0, max=500)})
    added = TagConfig(
        name="utilities.t.ramp",
        connection="utilities",
        address="ramp:period=60",
        type=DataType.FLOAT64,
    )
    long_one = TagConfig(
        name="line1.filler.flow",
        connection="line1_plc",
        address="IR60",
        type=DataType.UINT16,
        scaling=Scaling(raw_min=0, raw_max=1000, eu_min=0, eu_max=12.5),
        units="m³/h",
        format=".2f",
        description="product flow into the filler bowl, from the flow meter",
    )
    # a tag a screen still shows cannot be removed: the check after writing refuses, file restored
    with pytest.raises(EditRefused, match=r"unknown tag 'line1\.capper\.torque'"):
        save_tags(demo, [changed], ["line1.capper.torque"], validator=_check)
    assert path.read_text(encoding="utf-8") == before
    result = save_tags(demo, [changed, added, long_one], ["line1.operator_note"], validator=_check)
    assert result.edit.added == ["utilities.t.ramp", "line1.filler.flow"]
    assert result.edit.updated == ["line1.filler.speed_sp"]
    assert result.edit.removed == ["line1.operator_note"]
    after = path.read_text(encoding="utf-8")
    assert _comments(after) == _comments(before)  # every comment kept, in order
    # the speed_sp item keeps its block style and key order; only the limits line differs
    assert "    limits: {min: 0, max: 500}\n" in after
    assert "    limits: {min: 0, max: 600}\n" not in after
    assert "line1.operator_note" not in after
    # a tag that fits on a line is written like its neighbours; a long one as a block
    assert (
        "  - {name: utilities.t.ramp, connection: utilities, address: ramp:period=60, "
        "type: float64}\n"
    ) in after
    assert "  - name: line1.filler.flow\n    connection: line1_plc\n" in after
    # every line not belonging to an edited tag is unchanged, in the same order
    removed = {"line1.operator_note", "line1.filler.speed_sp"}
    new = {"utilities.t.ramp", "line1.filler.flow"}
    assert _outside(after, removed | new) == _outside(before, removed)
    project, issues = check_project(demo)
    assert project is not None, issues
    assert project.tag("line1.filler.speed_sp").limits == Limits(min=0, max=500)
    assert project.tag("line1.filler.flow") == long_one
    assert project.tag("utilities.t.ramp") == added
    with pytest.raises(KeyError):
        project.tag("line1.operator_note")


def _outside(text: str, names: set[str]) -> list[str]:
    """Lines of ``text`` outside the block items of the tags ``names``."""
    lines, skipping = [], False
    for line in text.splitlines():
        if line.startswith("  - "):
            skipping = any(f"name: {name}" in line for name in names)
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            lines.append(line)
    return lines


def test_atomic_write_keeps_a_backup_of_the_previous_file(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    os.chmod(path, 0o640)
    tag = TagConfig(name="line1.shift", type=DataType.STRING, length=8, access="read_write")
    result = save_tags(demo, [tag], validator=_check)
    assert result.backup is not None
    assert result.backup.parent == demo / BACKUP_DIR
    assert result.backup.read_bytes() == before
    assert path.stat().st_mode & 0o777 == 0o640  # the new file keeps the old permissions
    assert b"- {name: line1.shift, type: string, length: 8, access: read_write}\n" in (
        path.read_bytes()
    )
    assert [p.name for p in demo.iterdir() if p.name.endswith(".tmp")] == []
    # backups are pruned to the newest ones
    for length in range(9, 14):
        save_tags(demo, [tag.model_copy(update={"length": length})], backups_kept=3)
    assert len(list((demo / BACKUP_DIR).iterdir())) == 3


def test_write_atomic_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "project.yaml"
    target.mkdir()  # os.replace cannot put a file over a folder
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.yaml"]
    assert (target / "inside").read_text() == "kept"


def test_a_change_that_does_not_validate_is_undone(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    bad_address = TagConfig(name="line1.x", connection="line1_plc", address="QX1", type="bool")
    with pytest.raises(EditRefused) as refused:
        save_tags(demo, [bad_address], validator=_check)
    assert "'QX1' is not a Modbus address" in str(refused.value)
    assert "project.yaml:" in str(refused.value)  # located in the file it would have written
    assert path.read_bytes() == before
    # the core's own validator catches references (an unknown connection) without drivers
    unknown = TagConfig(name="line1.y", connection="nowhere", address="HR1", type="uint16")
    with pytest.raises(EditRefused, match="unknown connection 'nowhere'"):
        save_tags(demo, [unknown])
    assert path.read_bytes() == before
    with pytest.raises(EditRefused, match="given twice"):
        save_tags(demo, [unknown, unknown])

    def broken_validator(_folder: Path) -> list[ProjectIssue]:
        raise RuntimeError("validator crashed")

    ok = TagConfig(name="line1.z", type=DataType.BOOL)
    with pytest.raises(RuntimeError, match="validator crashed"):
        save_tags(demo, [ok], validator=broken_validator)
    assert path.read_bytes() == before


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_tag_lists_that_are_missing_empty_or_flow_become_block_lists(
    tmp_path: Path, newline: str
) -> None:
    tag = TagConfig(name="a.b", type=DataType.INT16, access="read_write")
    cases = {
        "missing": "schema_version: 1\nproject: {name: x}  # the name\n",
        "empty": "schema_version: 1\ntags: []   # none yet\nproject: {name: x}\n",
        "null": "schema_version: 1\ntags:\nproject: {name: x}\n",
        "flow": "schema_version: 1\ntags: [{name: c.d, type: bool}]\nproject: {name: x}\n",
    }
    for case, text in cases.items():
        folder = tmp_path / case
        folder.mkdir()
        path = folder / "project.yaml"
        path.write_bytes(("\ufeff" + text.replace("\n", newline)).encode())
        save_tags(folder, [tag])
        raw = path.read_bytes()
        assert raw.startswith("\ufeff".encode()), case  # a byte-order mark stays
        after = raw.decode("utf-8-sig")
        if newline == "\r\n":
            assert "\n" not in after.replace("\r\n", ""), (case, after)
        project = load_project(folder)
        assert project.tag("a.b") == tag, case
        assert project.model.project.name == "x"
        if case == "empty":
            assert "# none yet" in after
        if case == "flow":
            assert [t.name for t in project.model.tags] == ["c.d", "a.b"]


def test_removing_every_tag_and_replace(demo: Path) -> None:
    project = load_project(demo)
    keep = project.tag("line1.work_order")
    result = save_tags(demo, [keep], replace=True)
    assert result.edit.unchanged == ["line1.work_order"]
    assert len(result.edit.removed) == len(project.model.tags) - 1
    text = (demo / "project.yaml").read_text(encoding="utf-8")
    assert "# ---- utilities (simulator connection: no PLC)" in text
    assert [t.name for t in load_project(demo).model.tags] == ["line1.work_order"]
    save_tags(demo, [], ["line1.work_order"])
    assert load_project(demo).model.tags == []


def test_new_items_follow_the_indentation_of_the_list(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text(
        "schema_version: 1\nproject: {name: x}\ntags:\n-   {name: c.d, type: bool}  # first\n"
        "-   name: e.f\n    type: int16\n# the end\n",
        encoding="utf-8",
    )
    save_tags(tmp_path, [TagConfig(name="a.b", type=DataType.BOOL)])
    assert path.read_text(encoding="utf-8") == (
        "schema_version: 1\nproject: {name: x}\ntags:\n-   {name: c.d, type: bool}  # first\n"
        "-   name: e.f\n    type: int16\n- {name: a.b, type: bool}\n# the end\n"
    )
    save_tags(tmp_path, [TagConfig(name="c.d", type=DataType.INT16)])  # keeps its comment
    assert "- {name: c.d, type: int16}  # first\n" in path.read_text(encoding="utf-8")


def test_items_using_anchors_and_merge_keys_are_understood(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    text = (
        "schema_version: 1\nproject: {name: x}\n"
        "tags:\n"
        "  - &base {name: a.one, type: int16, access: read_write}\n"
        "  - {<<: *base, name: a.two}\n"
    )
    path.write_text(text, encoding="utf-8")
    two = load_project(tmp_path).tag("a.two")
    assert save_tags(tmp_path, [two]).backup is None  # recognised as unchanged
    assert path.read_text(encoding="utf-8") == text
    result = save_tags(tmp_path, [two.model_copy(update={"access": "read"})])
    assert result.edit.updated == ["a.two"]
    assert load_project(tmp_path).tag("a.two").access == "read"
    assert load_project(tmp_path).tag("a.one").access == "read_write"
