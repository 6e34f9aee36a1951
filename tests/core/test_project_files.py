"""Project files: the demo loads; every mistake is reported with file, line and field."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hmi_app.check import check_project
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.yamlio import ProjectLoadError

HEADER = """\
schema_version: 1
project: {name: Test}
connections:
  plc: {driver: modbus-tcp, host: 127.0.0.1, port: 5020}
"""


def write_project(folder: Path, body: str) -> Path:
    (folder / "project.yaml").write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return folder


def issues_of(folder: Path) -> list[str]:
    project, issues = check_project(folder)
    assert project is None, "the project should have been refused"
    return [str(issue) for issue in issues]


def test_demo_project_is_valid() -> None:
    project, issues = check_project(demo_project_dir())
    assert issues == []
    assert project is not None
    assert project.model.project.start_screen == "overview"
    assert "overview" in project.screen_docs
    names = {t.name for t in project.model.tags}
    assert {"line1.filler.speed", "line1.counts.good", "line1.work_order"} <= names


def test_address_beyond_modbus_range_names_file_line_and_field(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """\
        tags:
          - {name: a.ok, connection: plc, address: HR1, type: int16}
          - name: a.far
            connection: plc
            address: HR70000
            type: int16
        """,
    )
    assert issues_of(tmp_path) == [
        "project.yaml:9: tags[1].address: 'HR70000' is beyond the Modbus range 0..65535"
    ]


@pytest.mark.parametrize(
    ("tag_yaml", "expected"),
    [
        ("{name: x, connection: plc, address: HR1, type: int99}", "tags[0].type: Input should be"),
        ("{name: 1bad, connection: plc, address: HR1}", "tags[0].name: '1bad' is not a tag name"),
        ("{name: x, connection: nowhere, address: HR1}", "tags[0].connection: unknown connection"),
        ("{name: x, connection: plc, address: HR1, scan: turbo}", "unknown scan class 'turbo'"),
        ("{name: x, connection: plc, address: HR1, colour: red}", "tags[0].colour: is not a known"),
        ("{name: x, connection: plc}", "needs an address"),
        ("{name: x, connection: plc, address: HR1, type: string}", "needs a length"),
        (
            "{name: x, connection: plc, address: HR1, format: '%d'}",
            "tags[0].format: '%d' does not fit a float32",
        ),
        ("{name: x, connection: plc, address: HR1, deadband: -1}", "tags[0].deadband"),
        ("{name: x, access: read_write, limits: {min: 5, max: 1}}", "min 5.0 is above max 1.0"),
    ],
)
def test_each_field_error_is_reported_on_its_line(
    tmp_path: Path, tag_yaml: str, expected: str
) -> None:
    write_project(tmp_path, f"tags:\n  - {tag_yaml}\n")
    issues = issues_of(tmp_path)
    assert len(issues) == 1, issues
    assert issues[0].startswith("project.yaml:6: "), issues
    assert expected in issues[0]


def test_duplicate_tag_and_bad_connection_settings(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text(
        textwrap.dedent(
            """\
            schema_version: 1
            project: {name: Test}
            connections:
              plc:
                driver: modbus-tcp
                port: 99999
            tags:
              - {name: a, connection: plc, address: HR1}
              - {name: a, connection: plc, address: HR2}
            """
        ),
        encoding="utf-8",
    )
    issues = issues_of(tmp_path)
    assert any(i.startswith("project.yaml:6: connections.plc.port: ") for i in issues), issues
    assert "project.yaml:9: tags[1].name: tag 'a' is defined more than once" in issues


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text("schema_version: 1\nproject: {name: [\n", "utf-8")
    with pytest.raises(ProjectLoadError) as info:
        load_project(tmp_path)
    assert str(info.value).startswith("project.yaml:3: YAML syntax")


def test_missing_file_and_newer_schema(tmp_path: Path) -> None:
    with pytest.raises(ProjectLoadError, match=r"project\.yaml: file not found"):
        load_project(tmp_path)
    (tmp_path / "project.yaml").write_text("schema_version: 99\nproject: {name: X}\n", "utf-8")
    with pytest.raises(ProjectLoadError, match=r"project.yaml:1: schema_version: .*less than or"):
        load_project(tmp_path)


def test_check_command_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    write_project(tmp_path, "tags:\n  - {name: x, connection: plc, address: QQ1}\n")
    bad = subprocess.run(
        [sys.executable, "-m", "hmi_app", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "project.yaml:6: tags[0].address: 'QQ1' is not a Modbus address" in bad.stderr
    good = subprocess.run(
        [sys.executable, "-m", "hmi_app", "check", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert "ok (" in good.stdout


def test_screen_file_problems_are_reported_by_check(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        """\
        tags:
          - {name: a, connection: plc, address: HR1}
        screens: [screens/main.yaml]
        """,
    )
    (tmp_path / "screens").mkdir()
    (tmp_path / "screens" / "main.yaml").write_text(
        "schema_version: 1\nname: main\nwidgets:\n"
        "  - {id: w1, type: numeric, geometry: [10, 10, 100, 40], bind: {value: nope}}\n",
        encoding="utf-8",
    )
    issues = issues_of(tmp_path)
    assert len(issues) == 1, issues
    assert issues[0].startswith("screens/main.yaml:4: widgets[0].bind.value: "), issues
    assert "nope" in issues[0]
