"""The production figures as ordinary memory tags: exactly the Phase 2 table, known to the engine
and to the screen check, while ``ProjectModel.tags`` stays what the project file holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hmi_app.check import check_project
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.engine import TagEngine

# (suffix, type, array length, format, units, access) from the Phase 2 contract
CONTRACT = [
    ("shift", DataType.STRING, 0, "", "", "read"),
    ("good", DataType.UINT32, 0, "d", "", "read"),
    ("reject", DataType.UINT32, 0, "d", "", "read"),
    ("total", DataType.UINT32, 0, "d", "", "read"),
    ("hourly_good", DataType.UINT32, 24, "", "", "read"),
    ("availability", DataType.FLOAT64, 0, ".1%", "", "read"),
    ("performance", DataType.FLOAT64, 0, ".1%", "", "read"),
    ("quality", DataType.FLOAT64, 0, ".1%", "", "read"),
    ("oee", DataType.FLOAT64, 0, ".1%", "", "read"),
    ("downtime_active", DataType.BOOL, 0, "", "", "read"),
    ("downtime_minutes", DataType.FLOAT64, 0, ".0f", "min", "read"),
    ("downtime_reason", DataType.STRING, 0, "", "", "read_write"),
    ("order", DataType.STRING, 0, "", "", "read"),
    ("product", DataType.STRING, 0, "", "", "read"),
]


def test_runtime_tags_are_the_project_tags_plus_the_contract_per_line() -> None:
    model = load_project(demo_project_dir()).model
    derived = model.runtime_tags[len(model.tags) :]
    assert model.runtime_tags[: len(model.tags)] == model.tags
    assert not any(".production." in tag.name for tag in model.tags)
    shape = [
        (t.name, t.type, t.array_length, t.format, t.units, t.access, t.is_memory) for t in derived
    ]
    assert shape == [
        (f"line1.production.{s}", kind, n, fmt, units, access, True)
        for s, kind, n, fmt, units, access in CONTRACT
    ]
    reason = next(t for t in derived if t.name.endswith("downtime_reason"))
    assert reason.length == 32


async def test_the_engine_runs_them_and_a_reason_write_needs_the_service() -> None:
    engine = TagEngine(load_project(demo_project_dir()).model)
    assert "line1.production.oee" in engine.tag_names()
    engine.publish("line1.production.oee", None, Quality.BAD, "undefined: nothing produced")
    value = engine.current("line1.production.oee")
    assert value is not None and value.quality is Quality.BAD and value.reason.startswith("undef")
    with pytest.raises(ValueError, match="device tag"):
        engine.publish("line1.counts.good", 5)
    refusals: list[object] = []

    async def refuse(value: object) -> None:
        refusals.append(value)
        raise WriteRefused("not a reason")

    engine.set_write_handler("line1.production.downtime_reason", refuse)
    with pytest.raises(WriteRefused, match="not a reason"):
        await engine.write("line1.production.downtime_reason", "coffee")
    assert refusals == ["coffee"]
    current = engine.current("line1.production.downtime_reason")
    assert current is not None and current.value == ""  # the refused write left it alone


def test_a_screen_may_bind_the_derived_tags(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_project_dir(), folder)
    screen = folder / "screens" / "utilities.yaml"
    text = screen.read_text(encoding="utf-8")
    screen.write_text(
        text.replace(
            "widgets:\n",
            "widgets:\n"
            "  - {id: oee, type: numeric, geometry: [900, 600, 300, 40],"
            " props: {label: OEE}, bind: {value: line1.production.oee}}\n",
            1,
        ),
        encoding="utf-8",
    )
    project, issues = check_project(folder)
    assert project is not None, [str(i) for i in issues]
    typo = text.replace(
        "widgets:\n",
        "widgets:\n  - {id: oee, type: numeric, geometry: [900, 600, 300, 40],"
        " bind: {value: line1.production.oeee}}\n",
        1,
    )
    screen.write_text(typo, encoding="utf-8")
    project, issues = check_project(folder)
    assert project is None and any("line1.production.oeee" in str(i) for i in issues)
