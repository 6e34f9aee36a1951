"""Screen files are validated against the widget registry; every error names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.yamlio import ProjectLoadError, read_yaml
from screens.model import check_screen
from widgets.registry import WIDGET_TYPES

TAGS = {"line1.state", "line1.start_cmd", "line1.filler.level"}


KNOWN = ", ".join(sorted(WIDGET_TYPES))


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
    type: spinner
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
        f"bad.yaml:5: widgets[0].type: unknown widget type 'spinner' (known: {KNOWN})",
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


def test_bind_expressions_are_compiled_and_their_tags_checked(tmp_path: Path) -> None:
    text = """\
schema_version: 1
name: s
widgets:
  - id: ok
    type: state
    geometry: [0, 0, 100, 40]
    props: {states: [{value: true, text: FULL}]}
    bind: {value: "line1.filler.level > 90 and line1.state == 1"}
  - id: typo
    type: numeric
    geometry: [0, 50, 100, 40]
    bind: {value: "line1.filler.levl * 2"}
  - id: syntax
    type: numeric
    geometry: [0, 100, 100, 40]
    bind: {value: "line1.state +"}
"""
    issues = _check(tmp_path, text)
    assert issues[0] == (
        "bad.yaml:12: widgets[1].bind.value: in expression 'line1.filler.levl * 2': "
        "unknown tag 'line1.filler.levl' (did you mean line1.filler.level?)"
    )
    assert issues[1].startswith("bad.yaml:16: widgets[2].bind.value: expression 'line1.state +': ")
    assert len(issues) == 2
    path = tmp_path / "good.yaml"
    path.write_text(text.split("  - id: typo")[0], encoding="utf-8")
    definition, problems = check_screen(read_yaml(path), TAGS)
    assert problems == [] and definition is not None
    assert definition.tags() == {"line1.filler.level", "line1.state"}
    placed = definition.widgets[0]
    assert placed.expressions["value"].tags == ("line1.filler.level", "line1.state")
    assert placed.expressions["value"].evaluate({"line1.filler.level": 95, "line1.state": 1})


def test_on_click_needs_exactly_one_target(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        """\
schema_version: 1
name: s
widgets:
  - id: both
    type: text
    geometry: [0, 0, 100, 20]
    on_click: {navigate: a, faceplate: b}
  - id: none
    type: text
    geometry: [0, 30, 100, 20]
    on_click:
      params: {equipment: line1.filler}
  - id: nav_params
    type: text
    geometry: [0, 60, 100, 20]
    on_click: {navigate: a, params: {x: y}}
  - id: ok
    type: text
    geometry: [0, 90, 100, 20]
    on_click: {faceplate: filler, params: {equipment: line1.filler}}
""",
    )
    one = "give exactly one of 'navigate' (a screen) or 'faceplate' (a template)"
    assert issues == [
        f"bad.yaml:7: widgets[0].on_click: {one}",
        f"bad.yaml:11: widgets[1].on_click: {one}",
        "bad.yaml:16: widgets[2].on_click: 'params' go with 'faceplate'; a navigation takes none",
    ]


def test_placeholders_must_name_declared_parameters(tmp_path: Path) -> None:
    issues = _check(
        tmp_path,
        """\
schema_version: 1
name: tile
title: "{title}"
size: [300, 120]
parameters:
  equipment: {description: tag prefix}
widgets:
  - id: v
    type: numeric
    geometry: [0, 0, 300, 40]
    props: {label: "{lable}"}
    bind: {value: "{equipment}.speed"}
  - id: s
    type: state
    geometry: [0, 50, 300, 40]
    props:
      states: [{value: 1, text: "{equipment} {stat}"}]
    on_click: {faceplate: motor, params: {drive: "{equipment}.{motor}"}}
""",
    )
    assert issues == [
        "bad.yaml:3: title: unknown parameter {title} (parameters: equipment)",
        "bad.yaml:11: widgets[0].props.label: unknown parameter {lable} (parameters: equipment)",
        "bad.yaml:17: widgets[1].props.states[0].text: unknown parameter {stat} "
        "(parameters: equipment)",
        "bad.yaml:18: widgets[1].on_click.params.drive: unknown parameter {motor} "
        "(parameters: equipment)",
    ]


def test_a_template_is_small_and_not_checked_against_tags_until_instanced(tmp_path: Path) -> None:
    template = """\
schema_version: 1
name: tile
size: [120, 60]
parameters: {equipment: {}}
widgets:
  - {id: v, type: numeric, geometry: [0, 0, 120, 40], bind: {value: "{equipment}.speed"}}
"""
    path = tmp_path / "tile.yaml"
    path.write_text(template, encoding="utf-8")
    definition, issues = check_screen(read_yaml(path), TAGS)
    assert issues == [] and definition is not None
    assert definition.is_template and definition.tags() == set()
    screen = template.replace("parameters: {equipment: {}}\n", "").replace("{equipment}", "x")
    assert _check(tmp_path, screen) == [
        "bad.yaml:3: size: size 120x60 is outside 200..8000 px (only a template, a screen "
        "with parameters, may be smaller)",
        "bad.yaml:5: widgets[0].bind.value: unknown tag 'x.speed'",
    ]
    assert _check(tmp_path, screen.replace("x.speed", "{equipment}.speed"))[1] == (
        "bad.yaml:5: widgets[0].bind.value: {equipment} is a placeholder, but this screen "
        "declares no parameters (a template lists them under 'parameters:')"
    )


def test_value_in_a_confirm_question_is_left_for_the_write(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        """\
schema_version: 1
name: ok
widgets:
  - id: sp
    type: entry
    geometry: [0, 0, 300, 40]
    props: {confirm: "Set the speed to {value}?"}
    bind: {value: line1.filler.speed_sp}
""",
        encoding="utf-8",
    )
    definition, issues = check_screen(read_yaml(path), None)
    assert issues == [] and definition is not None
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema_version: 1\nname: bad\nparameters: {value: {}}\nsize: [300, 100]\n",
        encoding="utf-8",
    )
    _none, problems = check_screen(read_yaml(bad), None)
    assert [str(p) for p in problems] == [
        "bad.yaml:3: parameters: {value} is filled in when writing; name the parameter else"
    ]
