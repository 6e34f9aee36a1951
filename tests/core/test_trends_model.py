"""Saved trend definitions (``trends/<name>.yaml``): the demo's are valid and recorded; every
mistake is located with file, line and field; an unrecorded pen tag is a warning, an unknown one an
error; a definition saved (atomically, with a backup) reads back identical."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from hmi_app.check import check_project
from hmi_app.core.project.editing import BACKUP_DIR
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.trends_model import (
    PenConfig,
    TrendDefinition,
    check_trend_tags,
    dump_definition,
    parse_span,
    read_trend,
    read_trends,
    save_trend,
    span_text,
)

PROJECT = """\
schema_version: 1
project: {name: Trends test}
tags:
  - {name: tank.level, units: "%", history: true}
  - {name: tank.temp, units: "°C"}
  - {name: tank.name, type: string, length: 10}
  - {name: tank.running, type: bool, history: {max_interval: 30}}
"""


def _project(folder: Path, trends: dict[str, str]) -> Path:
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "trends").mkdir()
    for name, text in trends.items():
        (folder / "trends" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def test_demo_trends_are_valid_and_every_pen_is_recorded() -> None:
    folder = demo_project_dir()
    saved, issues = read_trends(folder)
    assert issues == []
    assert len(saved) >= 2
    project = load_project(folder)
    tags = {tag.name: tag for tag in project.model.runtime_tags}
    for trend in saved.values():
        errors, warnings = check_trend_tags(trend, tags)
        assert (errors, warnings) == ([], []), trend.name  # every pen is recorded
        assert 1 <= len(trend.definition.pens) <= 8


def test_a_valid_definition_reads_with_spans_in_words(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {
            "tank": """\
            schema_version: 1
            name: tank
            title: Tank
            span: 8 h
            pens:
              - {tag: tank.level, label: Level, colour: "#1f5fa8", y_min: 0, y_max: 100}
              - {tag: tank.running, axis: state}
            """
        },
    )
    saved, issues = read_trends(tmp_path)
    assert issues == []
    definition = saved["tank"].definition
    assert definition.span == 8 * 3600
    assert definition.pens[0] == PenConfig(
        tag="tank.level", label="Level", colour="#1f5fa8", y_min=0, y_max=100
    )
    assert definition.pens[1].axis == "state"
    assert definition.pens[1].display_label == "tank.running"
    assert definition.display_title == "Tank"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(600, 600.0), ("10 min", 600.0), ("1h", 3600.0), ("7 d", 604800.0), ("90 s", 90.0)],
)
def test_spans(text: object, seconds: float) -> None:
    assert parse_span(text) == seconds
    assert parse_span(span_text(seconds)) == seconds


def test_mistakes_name_file_line_and_field(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {
            "bad": """\
            schema_version: 1
            name: bad
            span: 3 weeks
            pens:
              - {tag: tank.level}
              - {tag: tank.temp, colour: red}
              - {tag: tank.level, y_min: 5, y_max: 1}
              - {tag: tank.running, thickness: 3}
            """,
            "empty": """\
            schema_version: 1
            name: empty
            pens: []
            """,
            "renamed": """\
            schema_version: 1
            name: other
            pens: [{tag: tank.level}]
            """,
            "broken": "name: [unclosed\n",
        },
    )
    saved, issues = read_trends(tmp_path)
    assert saved == {}
    assert [str(issue) for issue in issues] == [
        "trends/bad.yaml:3: span: '3 weeks' is not a span: give seconds or e.g. '10 min', "
        "'8 h', '7 d'",
        "trends/bad.yaml:6: pens[1].colour: 'red' is not a colour like '#1f77b4'",
        "trends/bad.yaml:7: pens[2]: y_min 5 must be below y_max 1",
        "trends/bad.yaml:8: pens[3].thickness: is not a known field",
        "trends/broken.yaml:2: YAML syntax: expected ',' or ']', but got '<stream end>'",
        "trends/empty.yaml:3: pens: List should have at least 1 item after validation, "
        "not 0 (got [])",
        "trends/renamed.yaml:2: name: name 'other' differs from the file name 'renamed': "
        "rename one of them",
    ]


def test_pen_tags_are_checked_against_the_project(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _project(
        tmp_path,
        {
            "mixed": """\
            schema_version: 1
            name: mixed
            pens:
              - {tag: tank.level}
              - {tag: tank.temp}
              - {tag: tank.nope}
              - {tag: tank.name}
            """
        },
    )
    with caplog.at_level(logging.WARNING):
        project, issues = check_project(tmp_path)
    assert project is None
    assert [str(issue) for issue in issues] == [
        "trends/mixed.yaml:6: pens[2].tag: unknown tag 'tank.nope'",
        "trends/mixed.yaml:7: pens[3].tag: tag 'tank.name' is a string: a trend draws numbers",
    ]
    # not recorded: a warning only (the pen is drawn live), logged with its place
    assert (
        "trends/mixed.yaml:5: pens[1].tag: tag 'tank.temp' is not recorded "
        "(no 'history:' in project.yaml): the pen shows live values only"
    ) in caplog.text


def test_a_duplicate_pen_is_refused(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {"dup": "schema_version: 1\nname: dup\npens: [{tag: tank.level}, {tag: tank.level}]\n"},
    )
    _saved, issues = read_trends(tmp_path)
    assert [str(i) for i in issues] == [
        "trends/dup.yaml:3: pens: tag 'tank.level' is drawn by pens[0] and [1]"
    ]


def test_saved_definition_reads_back_identical_and_keeps_a_backup(tmp_path: Path) -> None:
    _project(tmp_path, {})
    definition = TrendDefinition(
        name="tank_watch",
        title="Tank: level and state",
        span=5400,
        pens=[
            PenConfig(tag="tank.level", label="Level", colour="#1f5fa8", y_min=0, y_max=100.5),
            PenConfig(tag="tank.running", axis="state"),
        ],
    )
    path = save_trend(tmp_path, definition)
    assert path == tmp_path / "trends" / "tank_watch.yaml"
    text = path.read_text(encoding="utf-8")
    assert "span: 90 min" in text
    assert "- {tag: tank.level, label: Level, colour: '#1f5fa8', y_min: 0, y_max: 100.5}" in text
    saved, issues = read_trend(path)
    assert issues == []
    assert saved is not None and saved.definition == definition
    assert not (tmp_path / "trends" / BACKUP_DIR).exists()  # nothing to back up yet

    changed = definition.model_copy(update={"span": 600.0})
    save_trend(tmp_path, changed)
    backups = list((tmp_path / "trends" / BACKUP_DIR).glob("tank_watch-*.yaml"))
    assert len(backups) == 1
    assert backups[0].read_text(encoding="utf-8") == text
    again, _ = read_trend(path)
    assert again is not None and again.definition == changed
    assert dump_definition(changed) == path.read_text(encoding="utf-8")


def test_saving_creates_the_trends_folder_and_a_bad_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text(PROJECT, encoding="utf-8")
    definition = TrendDefinition(name="first", pens=[PenConfig(tag="tank.level")])
    save_trend(tmp_path, definition)
    saved, issues = read_trends(tmp_path)
    assert issues == [] and saved["first"].definition == definition
    with pytest.raises(ValueError, match="is not a trend name"):
        TrendDefinition(name="../escape", pens=[PenConfig(tag="tank.level")])


def test_screens_naming_a_saved_trend_that_does_not_exist_are_refused(tmp_path: Path) -> None:
    _project(tmp_path, {"tank": "schema_version: 1\nname: tank\npens: [{tag: tank.level}]\n"})
    with (tmp_path / "project.yaml").open("a", encoding="utf-8") as handle:
        handle.write("screens: [screens/main.yaml]\n")
    (tmp_path / "screens").mkdir()
    (tmp_path / "screens" / "main.yaml").write_text(
        textwrap.dedent(
            """\
            schema_version: 1
            name: main
            widgets:
              - {id: ok, type: trend_button, geometry: [0, 0, 200, 40],
                 props: {text: Tank, trend: tank}}
              - {id: typo, type: trend_button, geometry: [0, 50, 200, 40],
                 props: {text: Tank, trend: tanks}}
              - id: level
                type: trend
                geometry: [0, 100, 400, 200]
                bind: {pen1: tank.level}
                on_click: {trend: nowhere}
            """
        ),
        encoding="utf-8",
    )
    project, issues = check_project(tmp_path)
    assert project is None
    assert [str(issue) for issue in issues] == [
        "screens/main.yaml:7: widgets[1].props.trend: no saved trend named 'tanks' "
        "(trends/*.yaml: tank)",
        "screens/main.yaml:12: widgets[2].on_click.trend: no saved trend named 'nowhere' "
        "(trends/*.yaml: tank)",
    ]
