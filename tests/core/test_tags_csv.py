"""Tag lists as CSV: a lossless round trip, every bad row reported with its line and nothing
written, merges by name, and the ``hmi-app tags export/import`` commands in a subprocess."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hmi_app.check import address_checker, check_project
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.editing import save_tags
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.model import Limits, ProjectModel, Scaling, TagConfig
from hmi_app.core.project.tags_csv import (
    COLUMNS,
    CsvImportError,
    export_tags,
    parse_csv,
    plan_import,
    read_csv,
)

HMI = [sys.executable, "-m", "hmi_app"]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_a_column_for_every_field() -> None:
    fields = set(TagConfig.model_fields) - {"scaling", "limits"}
    assert fields <= set(COLUMNS)
    assert {c for c in COLUMNS if "." in c} == {
        "scaling.raw_min",
        "scaling.raw_max",
        "scaling.eu_min",
        "scaling.eu_max",
        "limits.min",
        "limits.max",
    }
    model = load_project(demo_project_dir()).model
    rows = {row["name"]: row for row in _rows(export_tags(model.tags))}
    assert len(rows) == len(model.tags)
    speed = rows["line1.infeed.speed"]
    assert (speed["scaling.raw_max"], speed["scaling.eu_max"], speed["units"]) == (
        "1000",
        "100",
        "%",
    )
    assert rows["line1.filler.speed_sp"]["limits.max"] == "600"
    assert rows["line1.state"]["description"] == "0 stopped, 1 running, 2 faulted, 3 starved"
    assert rows["line1.work_order"]["connection"] == ""  # memory tag
    assert rows["line1.work_order"]["initial"] == "WO-1001"
    assert rows["line1.operator_note"]["initial"] == '""'  # an empty string, not "no value"
    assert rows["line1.runtime_s"]["word_order"] == "little"


def test_round_trip_of_every_kind_of_value() -> None:
    tags = [
        TagConfig(name="a.text", type=DataType.STRING, length=20, initial="123"),
        TagConfig(name="a.spaces", type=DataType.STRING, length=20, initial=" padded "),
        TagConfig(name="a.flag", type=DataType.BOOL, initial=True),
        TagConfig(name="a.arr", type=DataType.INT16, array_length=3, initial=[1, 2, 3]),
        TagConfig(
            name="a.scaled",
            connection="plc",
            address="HR1",
            type=DataType.INT16,
            scaling=Scaling(raw_min=-10, raw_max=10.5, eu_min=0, eu_max=1e6),
            limits=Limits(max=7.25),
            deadband=0.125,
            units="m³/h, net",
            format=".3f",
            description='say "hi", twice\nsecond line',
            access="read_write",
            scan="slow",
            initial=2.5,
        ),
    ]
    text = export_tags(tags)
    assert [row.tag for row in parse_csv(text)] == tags


def test_import_of_the_export_changes_nothing(demo: Path) -> None:
    path = demo / "project.yaml"
    before = path.read_bytes()
    project = load_project(demo)
    plan = plan_import(export_tags(project.model.tags), project.model)
    result = save_tags(demo, plan.tags, validator=lambda f: check_project(f)[1])
    assert not result.edit.changed and result.backup is None
    assert path.read_bytes() == before


def test_every_bad_row_is_reported_with_its_line(demo: Path) -> None:
    project = load_project(demo)
    lines = export_tags(project.model.tags).splitlines()
    lines[3] = lines[3].replace(",string,", ",strin,")  # line 4
    lines[8] = lines[8].replace(",0,1000,0,100,", ",0,abc,0,100,")  # line 9
    lines[10] = lines[10].replace(",DI2,", ",QX2,")  # line 11: no such Modbus table
    n = len(lines)  # the header and one line per demo tag
    lines += [
        "x.y,nowhere,HR1,uint16",  # line n + 1
        '"multi.line",,,string,,,10,,,,,,,,,,,,,,"a description',
        'on two lines"',
        "9bad,,,bool",  # line n + 4
        "line1.state,,,bool",  # line n + 5: already on line 2
        "b.scaled,line1_plc,HR99,uint16,,,,,0,10",  # line n + 6: half a scaling
    ]
    text = "\n".join(lines) + "\n"
    with pytest.raises(CsvImportError) as caught:
        plan_import(text, project.model, "tags.csv", check_address=address_checker(project))
    messages = [str(issue) for issue in caught.value.issues]
    assert messages[0].startswith("tags.csv:4: type: Input should be 'bool'")
    assert messages[1].startswith("tags.csv:9: scaling.raw_max: Input should be a valid number")
    assert messages[2].startswith("tags.csv:11: address: 'QX2' is not a Modbus address")
    assert messages[3].startswith(f"tags.csv:{n + 1}: connection: unknown connection 'nowhere'")
    assert messages[4].startswith(f"tags.csv:{n + 4}: name: '9bad' is not a tag name")
    assert messages[5] == f"tags.csv:{n + 5}: name: tag 'line1.state' is already on line 2"
    assert messages[6] == (
        f"tags.csv:{n + 6}: scaling: needs raw_min, raw_max, eu_min and eu_max"
        " (missing: eu_min, eu_max)"
    )
    assert len(messages) == 7  # the two-line row after x.y is fine


def test_header_problems_are_reported_before_any_row() -> None:
    with pytest.raises(CsvImportError) as caught:
        parse_csv("name,adress,type,type\nx,HR1,bool,bool\n")
    assert [str(i) for i in caught.value.issues] == [
        "tags.csv:1: unknown column 'adress' (did you mean address?)",
        "tags.csv:1: column 'type' appears twice",
    ]
    with pytest.raises(CsvImportError, match=r"tags\.csv:1: a 'name' column is required"):
        parse_csv("address,type\nHR1,bool\n")
    with pytest.raises(CsvImportError, match="is empty"):
        parse_csv("")
    with pytest.raises(CsvImportError, match=r"missing\.csv: file not found"):
        read_csv(Path("/nonexistent/missing.csv"))


def test_spreadsheet_files_with_bom_and_semicolons_are_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffname;type;units\r\nline1.t;float32;°C\r\n".encode())
    [row] = read_csv(path)
    assert row.tag == TagConfig(name="line1.t", units="°C")
    assert row.line == 2


def test_missing_columns_keep_existing_values_and_empty_cells_clear_them() -> None:
    model = load_project(demo_project_dir()).model
    plan = plan_import("name,address\nline1.infeed.speed,IR1\n", model)
    [speed] = plan.tags
    old = next(t for t in model.tags if t.name == "line1.infeed.speed")
    assert speed == old.model_copy(update={"address": "IR1"})
    plan = plan_import(
        "name,scaling.raw_min,scaling.raw_max,scaling.eu_min,scaling.eu_max,units\n"
        "line1.infeed.speed,,,,,\n",
        model,
    )
    assert plan.tags[0].scaling is None and plan.tags[0].units == ""
    # one scaling cell of an already scaled tag changes just that bound
    plan = plan_import("name,scaling.eu_max\nline1.infeed.speed,250\n", model)
    assert plan.tags[0].scaling == Scaling(raw_min=0, raw_max=1000, eu_min=0, eu_max=250)
    # with replace, the file is the whole list: a new tag starts from the defaults
    plan = plan_import("name,address\nline1.infeed.speed,IR1\n", model, replace=True)
    assert plan.tags[0].connection == "memory"


def test_merge_adds_and_updates_by_name(demo: Path) -> None:
    model: ProjectModel = load_project(demo).model
    text = (
        "name,connection,address,type,units\n"
        "line1.filler.level,line1_plc,IR12,float32,percent\n"
        "utilities.water,utilities,sine:period=30,float64,m³\n"
    )
    plan = plan_import(text, model)
    result = save_tags(demo, plan.tags, validator=lambda f: check_project(f)[1])
    assert result.edit.added == ["utilities.water"]
    assert result.edit.updated == ["line1.filler.level"]
    project = load_project(demo)
    assert project.tag("line1.filler.level").units == "percent"
    assert project.tag("line1.filler.level").format == ".1f"  # not in the file: kept
    assert project.tag("utilities.water").units == "m³"
    assert len(project.model.tags) == len(model.tags) + 1


def hmi(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HMI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def test_cli_export_and_import(demo: Path) -> None:
    work = demo.parent
    n = len(load_project(demo).model.tags)
    exported = hmi("tags", "export", "plant", "--out", "tags.csv", cwd=work)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"tags.csv: {n} tags written\n"
    printed = hmi("tags", "export", "demo")
    assert printed.returncode == 0
    assert printed.stdout == (work / "tags.csv").read_text(encoding="utf-8")
    unchanged = hmi("tags", "import", "plant", "tags.csv", cwd=work)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout == (
        f"tags.csv: no change (0 added, 0 updated, 0 removed, {n} unchanged)\n"
    )
    assert not (demo / ".backups").exists()

    before = (demo / "project.yaml").read_bytes()
    csv_path = work / "tags.csv"
    with csv_path.open("a", encoding="utf-8") as handle:
        handle.write("utilities.water,utilities,sine:period=30,float64\n")
        handle.write("line1.valve,line1_plc,QX7,bool\n")  # line n + 3
    bad = hmi("tags", "import", "plant", "tags.csv", cwd=work)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.splitlines() == [
        f"tags.csv:{n + 3}: address: 'QX7' is not a Modbus address: use HR, IR, CO or DI followed"
        " by a "
        "number (e.g. HR100)",
        "1 problem found; nothing written",
    ]
    assert (demo / "project.yaml").read_bytes() == before

    csv_path.write_text(
        csv_path.read_text(encoding="utf-8").replace(",QX7,", ",CO7,"), encoding="utf-8"
    )
    dry = hmi("tags", "import", "plant", "tags.csv", "--dry-run", cwd=work)
    assert dry.returncode == 0, dry.stderr
    assert f"would save 2 added, 0 updated, 0 removed, {n} unchanged (dry run" in dry.stdout
    assert (demo / "project.yaml").read_bytes() == before
    done = hmi("tags", "import", "plant", "tags.csv", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"tags.csv: saved 2 added, 0 updated, 0 removed, {n} unchanged;")
    backups = list((demo / ".backups").iterdir())
    assert [b.read_bytes() for b in backups] == [before]
    assert load_project(demo).tag("line1.valve").address == "CO7"
    refused = hmi("tags", "import", "demo", "tags.csv", cwd=work)
    assert refused.returncode == 2
    assert "demo project is read-only" in refused.stderr
