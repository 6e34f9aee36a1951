"""Templates: one screen file with parameters, instanced per equipment as a fragment or a
faceplate; references between screens are checked at project level and located by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmi_app.core.project.loader import load_project
from hmi_app.core.project.yamlio import YamlDocument, read_yaml
from hmi_app.shell.screenset import load_screen_set, load_screens
from screens.model import ScreenDefinition, check_screen
from screens.templates import TemplateError, check_screens, instantiate

TAGS = {
    f"{line}.filler.{name}"
    for line in ("line1", "line2")
    for name in ("speed", "running", "start_cmd", "level")
} | {"line1.state"}

FILLER = """\
schema_version: 1
name: filler
title: Filler
size: [400, 240]
parameters:
  equipment: {description: "tag prefix, e.g. line1.filler"}
  caption: {default: Filler}
widgets:
  - id: heading
    type: text
    geometry: [10, 10, 380, 30]
    props: {text: "{caption} {equipment}"}
  - id: speed
    type: numeric
    geometry: [10, 50, 380, 40]
    props: {label: Speed}
    bind: {value: "{equipment}.speed"}
  - id: run
    type: state
    geometry: [10, 100, 380, 40]
    props:
      label: "{caption}"
      states: [{value: false, text: STOPPED}, {value: true, text: RUNNING, style: running}]
    bind: {value: "{equipment}.running"}
  - id: start
    type: command
    geometry: [10, 150, 120, 40]
    props: {text: START, action: momentary}
    bind: {value: "{equipment}.start_cmd"}
"""

OVERVIEW = """\
schema_version: 1
name: overview
size: [1280, 720]
widgets:
  - id: filler1
    type: state
    geometry: [10, 10, 200, 40]
    props: {states: [{value: true, text: RUN}]}
    bind: {value: line1.filler.running}
    on_click: {faceplate: filler, params: {equipment: line1.filler}}
  - id: filler2
    type: state
    geometry: [10, 60, 200, 40]
    props: {states: [{value: true, text: RUN}]}
    bind: {value: line2.filler.running}
    on_click: {faceplate: filler, params: {equipment: line2.filler}}
instances:
  - {id: f1, template: filler, at: [400, 0], params: {equipment: line1.filler}}
  - {id: f2, template: filler, at: [400, 300], params: {equipment: line2.filler, caption: Two}}
"""


def _doc(folder: Path, name: str, text: str) -> YamlDocument:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return read_yaml(path)


def _template(tmp_path: Path, text: str = FILLER) -> ScreenDefinition:
    definition, issues = check_screen(_doc(tmp_path, "filler", text), TAGS)
    assert issues == []
    assert definition is not None and definition.is_template
    return definition


def test_instantiate_two_equipments_gives_two_tag_sets(tmp_path: Path) -> None:
    template = _template(tmp_path)
    one = instantiate(template, {"equipment": "line1.filler"}, TAGS)
    two = instantiate(template, {"equipment": "line2.filler"}, TAGS)
    assert one.tags() == {"line1.filler.speed", "line1.filler.running", "line1.filler.start_cmd"}
    assert two.tags() == {"line2.filler.speed", "line2.filler.running", "line2.filler.start_cmd"}
    assert not one.is_template
    assert one.params == {"equipment": "line1.filler", "caption": "Filler"}
    assert one.display_title == "Filler - line1.filler"  # the equipment, not every parameter
    heading = next(p for p in one.widgets if p.config.id == "heading")
    assert heading.props.model_dump()["text"] == "Filler line1.filler"
    # the template itself is untouched, so it can be instanced again
    assert template.tags() == set()


def test_instance_title_names_the_equipment(tmp_path: Path) -> None:
    text = FILLER.replace("  caption: {default: Filler}\n", "").replace("{caption}", "Filler")
    one = instantiate(_template(tmp_path, text), {"equipment": "line1.filler"}, TAGS)
    assert one.display_title == "Filler - line1.filler"


def test_instantiate_reports_unknown_tags_naming_instance_and_template_file(
    tmp_path: Path,
) -> None:
    template = _template(tmp_path)
    with pytest.raises(TemplateError) as caught:
        instantiate(template, {"equipment": "line3.filler"}, TAGS)
    messages = [str(issue) for issue in caught.value.issues]
    assert messages[0] == (
        "filler.yaml:17: widgets[1].bind.value: unknown tag 'line3.filler.speed' "
        "(did you mean line2.filler.speed or line1.filler.speed or line2.filler.level?) "
        "(instance filler[equipment=line3.filler])"
    )
    assert len(messages) == 3


def test_instantiate_checks_parameter_names(tmp_path: Path) -> None:
    template = _template(tmp_path)
    with pytest.raises(TemplateError) as caught:
        instantiate(template, {"equipmnt": "line1.filler"}, TAGS)
    assert [str(issue) for issue in caught.value.issues] == [
        "filler.yaml:5: parameters: filler has no parameter 'equipmnt' (parameters: equipment, "
        "caption) (instance filler[equipmnt=line1.filler])",
        "filler.yaml:5: parameters: filler needs parameter(s) equipment "
        "(instance filler[equipmnt=line1.filler])",
    ]


def test_placeholder_for_a_number_prop_is_checked_once_instanced(tmp_path: Path) -> None:
    text = """\
schema_version: 1
name: tank
size: [100, 220]
parameters: {tank: {}, top: {default: "100"}}
widgets:
  - id: level
    type: level
    geometry: [0, 0, 100, 200]
    props: {max: "{top}"}
    bind: {value: "{tank}.level"}
"""
    template = _template(tmp_path, text)
    tank = instantiate(template, {"tank": "line1.filler", "top": "80"}, TAGS)
    assert tank.widgets[0].props.model_dump()["max"] == 80.0
    with pytest.raises(TemplateError, match=r"filler.yaml:9: widgets\[0\].props.max: "):
        instantiate(template, {"tank": "line1.filler", "top": "lots"}, TAGS)


def test_fragments_are_expanded_with_prefixed_ids_and_offset(tmp_path: Path) -> None:
    docs = {
        "overview": _doc(tmp_path, "overview", OVERVIEW),
        "filler": _doc(tmp_path, "filler", FILLER),
    }
    check = check_screens(docs, TAGS)
    assert check.issues() == []
    assert list(check.screens) == ["overview"]  # the template is not a navigation screen
    assert list(check.library.templates) == ["filler"]
    overview = check.screens["overview"]
    assert isinstance(overview, ScreenDefinition)
    by_id = {p.config.id: p for p in overview.widgets}
    assert by_id["f1.speed"].config.geometry == (410, 50, 380, 40)
    assert by_id["f2.speed"].config.geometry == (410, 350, 380, 40)
    assert by_id["f1.speed"].config.bind == {"value": "line1.filler.speed"}
    assert by_id["f2.speed"].config.bind == {"value": "line2.filler.speed"}
    assert by_id["f2.heading"].props.model_dump()["text"] == "Two line2.filler"
    assert {"line1.filler.start_cmd", "line2.filler.start_cmd"} <= overview.tags()
    assert len(overview.widgets) == 2 + 2 * 4


def test_fragment_and_click_errors_are_located_at_the_reference(tmp_path: Path) -> None:
    broken = """\
schema_version: 1
name: overview
size: [1280, 720]
widgets:
  - id: a
    type: text
    geometry: [0, 0, 100, 20]
    on_click: {navigate: overveiw}
  - id: b
    type: text
    geometry: [0, 30, 100, 20]
    on_click: {faceplate: other}
  - id: c
    type: text
    geometry: [0, 60, 100, 20]
    on_click:
      faceplate: filler
      params: {caption: x}
  - id: d
    type: text
    geometry: [0, 90, 100, 20]
    on_click: {faceplate: filler, params: {equipment: line9.filler}}
  - id: e
    type: text
    geometry: [0, 120, 100, 20]
    on_click: {navigate: filler}
instances:
  - {id: f1, template: filler, at: [1000, 600], params: {equipment: line1.filler}}
  - {id: f2, template: nothing, at: [0, 0]}
"""
    other = "schema_version: 1\nname: other\n"
    docs = {
        "overview": _doc(tmp_path, "overview", broken),
        "other": _doc(tmp_path, "other", other),
        "filler": _doc(tmp_path, "filler", FILLER),
    }
    check = check_screens(docs, TAGS)
    issues = check.screens["overview"]
    assert isinstance(issues, list)
    messages = [str(issue) for issue in issues]
    assert messages[0] == (
        "overview.yaml:8: widgets[0].on_click.navigate: no screen named 'overveiw' "
        "(screens: other, overview)"
    )
    assert messages[1] == (
        "overview.yaml:12: widgets[1].on_click.faceplate: faceplate 'other' is a screen, "
        "not a template (templates: filler)"
    )
    assert messages[2] == (
        "overview.yaml:17: widgets[2].on_click.faceplate: filler needs parameter(s) equipment"
    )
    assert messages[3].startswith(
        "overview.yaml:22: widgets[3].on_click.faceplate: faceplate 'filler' for "
        "equipment=line9.filler: filler.yaml:17: widgets[1].bind.value: unknown tag "
        "'line9.filler.speed'"
    )
    assert messages[6] == (
        "overview.yaml:26: widgets[4].on_click.navigate: 'filler' is a template: open it with "
        "'faceplate'"
    )
    assert messages[7] == (
        "overview.yaml:28: instances[0].at: filler (400x240) at (1000, 600) is outside the "
        "1280x720 screen"
    )
    assert messages[8] == (
        "overview.yaml:29: instances[1].template: no template named 'nothing' (templates: filler)"
    )
    assert len(messages) == 9
    assert isinstance(check.screens["other"], ScreenDefinition)  # one bad screen harms no other


def test_screens_share_names_and_broken_templates_stay_visible(tmp_path: Path) -> None:
    docs = {
        "a": _doc(tmp_path, "a", "schema_version: 1\nname: same\n"),
        "b": _doc(tmp_path, "b", "schema_version: 1\nname: same\n"),
        "filler": _doc(tmp_path, "filler", FILLER.replace("type: numeric", "type: spinner")),
    }
    check = check_screens(docs, TAGS)
    assert [str(i) for i in check.screens["b"]] == [  # type: ignore[union-attr]
        "b.yaml:2: name: screen name 'same' is also used by a.yaml"
    ]
    assert "filler" in check.screens  # shown with its errors, not silently dropped
    assert check.library.templates == {}


def test_a_template_may_open_faceplates_but_not_embed_instances(tmp_path: Path) -> None:
    motor = """\
schema_version: 1
name: motor
size: [200, 100]
parameters: {drive: {}}
widgets:
  - {id: v, type: numeric, geometry: [0, 0, 200, 40], bind: {value: "{drive}.speed"}}
"""
    holder = """\
schema_version: 1
name: holder
size: [300, 300]
parameters: {equipment: {}}
widgets:
  - id: open
    type: text
    geometry: [0, 0, 100, 20]
    on_click: {faceplate: motor, params: {drive: "{equipment}"}}
  - id: bad
    type: text
    geometry: [0, 30, 100, 20]
    on_click: {faceplate: motor, params: {motor: "{equipment}"}}
instances:
  - {id: m, template: motor, at: [0, 100], params: {drive: "{equipment}"}}
"""
    docs = {
        "motor": _doc(tmp_path, "motor", motor),
        "holder": _doc(tmp_path, "holder", holder),
    }
    messages = [str(i) for i in check_screens(docs, TAGS).screens["holder"]]  # type: ignore[union-attr]
    assert messages == [
        "holder.yaml:13: widgets[1].on_click.faceplate: motor has no parameter 'motor' "
        "(parameters: drive)",
        "holder.yaml:13: widgets[1].on_click.faceplate: motor needs parameter(s) drive",
        "holder.yaml:15: instances[0]: a template cannot embed instances (only screens)",
    ]


PROJECT = (
    """\
schema_version: 1
project: {name: Test, start_screen: overview}
tags:
"""
    + "".join(f"  - {{name: {tag}}}\n" for tag in sorted(TAGS))
    + """\
screens:
  - screens/overview.yaml
  - screens/filler.yaml
"""
)


def test_load_screen_set_splits_navigation_screens_from_templates(tmp_path: Path) -> None:
    (tmp_path / "screens").mkdir()
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "screens" / "overview.yaml").write_text(OVERVIEW, encoding="utf-8")
    (tmp_path / "screens" / "filler.yaml").write_text(FILLER, encoding="utf-8")
    project = load_project(tmp_path)
    screen_set = load_screen_set(project)
    assert list(screen_set.screens) == ["overview"]
    assert list(screen_set.library.templates) == ["filler"]
    assert screen_set.library.tag_names == frozenset(TAGS)
    assert list(load_screens(project)) == ["overview"]
    faceplate = screen_set.library.instantiate("filler", {"equipment": "line2.filler"})
    assert "line2.filler.speed" in faceplate.tags()
