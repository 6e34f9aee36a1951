"""Screen files are validated against the widget registry; every error names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.yamlio import ProjectLoadError, read_yaml
from screens.model import check_screen

TAGS = {"line1.state", "line1.start_cmd", "line1.filler.level"}


def _check(tmp_path: Path, text: str, tags: set[str] | None = TAGS) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    definition, issues = check_screen(read_yaml(path), tags)
    assert (definition is None) == bool(issues)
    return [str(issue) for issue in issues]


def test_demo_overview_is_valid_against_the_demo_tags() -> None:
    project = load_project(demo_project_dir())
    tags = {tag.name for tag in project.model.tags}
    definition, issues = check_screen(project.screen_docs["overview"], tags)
    assert issues == []
    assert definition is not None
    assert definition.name == "overview"
    bound = definition.tags()
    # every machine of the line and the commands are on the overview
    for tag in (
        "line1.infeed.running",
        "line1.filler.running",
        "line1.capper.running",
        "line1.labeller.running",
        "line1.reject.active",
        "line1.state",
        "line1.fault_code",
        "line1.start_cmd",
        "line1.stop_cmd",
        "line1.reset_cmd",
        "line1.filler.level",
        "utilities.air_pressure",
    ):
        assert tag in bound


def test_unknown_type_prop_bindable_and_tag_are_located(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        """\
schema_version: 1
name: broken
widgets:
  - id: a
    type: gauge
    geometry: [0, 0, 100, 40]
  - id: b
    type: numeric
    geometry: [0, 50, 100, 40]
    props:
      label: Speed
      colour: red
  - id: c
    type: level
    geometry: [0, 100, 100, 200]
    bind:
      colour: line1.filler.level
      value: line1.no_such_tag
""",
    )
    assert issues == [
        "bad.yaml:5: widgets[0].type: unknown widget type 'gauge' (known: command, flow, level, "
        "numeric, panel, state, text)",
        "bad.yaml:12: widgets[1].props.colour: numeric has no property 'colour'",
        "bad.yaml:17: widgets[2].bind.colour: level has no bindable property 'colour' "
        "(bindable: value)",
        "bad.yaml:18: widgets[2].bind.value: unknown tag 'line1.no_such_tag'",
    ]


def test_bad_prop_values_duplicate_ids_and_geometry_are_located(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        """\
schema_version: 1
name: broken
size: [1280, 800]
widgets:
  - {id: tank, type: level, geometry: [0, 0, 100, 200], props: {min: 100, max: 0}}
  - {id: tank, type: text, geometry: [1200, 0, 100, 20]}
  - id: go
    type: command
    geometry: [0, 300, 0, 40]
""",
    )
    assert "bad.yaml:5: widgets[0].props: min 100.0 must be below max 0.0" in issues
    assert "bad.yaml:6: widgets[1].id: id 'tank' is already used by widgets[0]" in issues
    assert (
        "bad.yaml:6: widgets[1].geometry: (1200, 0, 100, 20) is outside the 1280x800 screen"
        in issues
    )
    assert "bad.yaml:9: widgets[2].geometry: width and height must be positive (got 0x40)" in issues
    assert len(issues) == 4


def test_schema_errors_are_located(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        """\
name: bad name
background: grey
widgets:
  - id: a
    type: numeric
    geometry: [0, 0, 0, 40]
""",
    )
    assert issues == [
        "bad.yaml:1: schema_version: is required",
        "bad.yaml:1: name: 'bad name' is not a screen name: use letters, digits, _ and -",
        "bad.yaml:2: background: 'grey' is not a colour like '#d9d9d9'",
        "bad.yaml:6: widgets[0].geometry: width and height must be positive (got 0x40)",
    ]


def test_missing_required_prop_and_newer_schema(tmp_path: Path) -> None:
    assert _check(
        tmp_path,
        "schema_version: 1\nname: s\nwidgets:\n"
        "  - {id: go, type: command, geometry: [0, 0, 9, 9]}\n",
    ) == ["bad.yaml:4: widgets[0].props.text: is required"]
    issues = _check(tmp_path, "schema_version: 99\nname: s\n")
    assert len(issues) == 1 and issues[0].startswith("bad.yaml:1: schema_version: ")


def test_without_tag_list_tags_are_not_checked(tmp_path: Path) -> None:
    text = (
        "schema_version: 1\nname: s\nwidgets:\n"
        "  - {id: v, type: numeric, geometry: [0, 0, 90, 30], bind: {value: any.tag}}\n"
    )
    assert _check(tmp_path, text, tags=None) == []


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("schema_version: 1\nwidgets: [\n  {id: a\n", encoding="utf-8")
    with pytest.raises(ProjectLoadError, match=r"broken.yaml:\d+: YAML syntax"):
        read_yaml(path)
