"""Tags added to the project while the runtime runs (tag browser, tag editor) join the running
engine without a restart: a Modbus tag is read from the embedded plant once subscribed, a memory
tag starts at its initial value, a tag on a connection the runtime does not run is BAD saying it
starts after a restart; changed tags take their new limits, units and address at once (a tag moved
to another connection waits for the restart); connections added or edited restart."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hmi_app.core.project.editing import save_tags
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.model import Limits, TagConfig
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.runtime import Runtime
from tests.support.waiting import wait_until


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Path]]:
    folder = tmp_path / "demo"
    shutil.copytree(demo_project_dir(), folder)
    runtime = Runtime(load_project(folder), production=False, history=False)
    await runtime.start()
    yield runtime, folder
    await runtime.stop()


def _tag(**fields: object) -> TagConfig:
    return TagConfig.model_validate(fields)


async def test_tags_saved_while_running_go_live_without_a_restart(
    running: tuple[Runtime, Path],
) -> None:
    runtime, folder = running
    engine = runtime.engine
    before = set(engine.tag_names())
    speed = engine.config("line1.filler.speed")
    new = [
        _tag(name="line1.filler.speed_copy", connection="line1_plc", address=speed.address,
             type=speed.type.value, scan="fast"),
        _tag(name="line1.shift_note", type="int32", initial=3),
        _tag(name="line1.filler.speed", connection="line1_plc", address="IR40",
             type="float32"),  # a changed tag: applies after a restart
    ]
    result = save_tags(folder, new)
    assert result.edit.added == ["line1.filler.speed_copy", "line1.shift_note"]
    project = load_project(folder)
    added = engine.add_tags(project.model, [*result.edit.added, "line1.filler.speed"])
    assert added == ["line1.filler.speed_copy", "line1.shift_note"]
    assert set(engine.tag_names()) == before | set(added)
    assert engine.config("line1.filler.speed").address == speed.address  # unchanged until restart
    note = engine.current("line1.shift_note")
    assert note is not None and note.value == 3 and note.quality is Quality.GOOD
    # read from the embedded PLC like any tag, once something subscribes
    seen: list[TagValue] = []
    subscription = runtime.bus.subscribe("line1.filler.speed_copy", seen.append)
    original: list[TagValue] = []
    other = engine.subscribe("line1.filler.speed", original.append)
    await wait_until(
        lambda: (runtime.bus.flush() or True)
        and any(v.quality is Quality.GOOD for v in seen)
        and any(v.quality is Quality.GOOD for v in original),
        10,
        "the new tag's value from the PLC",
    )
    latest = engine.current("line1.filler.speed_copy")
    assert latest is not None and abs(latest.value - original[-1].value) < 50  # same register
    subscription.cancel()
    other.cancel()


async def test_a_tag_on_a_connection_the_runtime_does_not_run_says_it_needs_a_restart(
    running: tuple[Runtime, Path],
) -> None:
    runtime, folder = running
    project = load_project(folder)
    spare = _tag(name="spare.level", connection="spare_plc", address="HR0", type="uint16")
    unknown_scan = _tag(
        name="line1.slow_one", connection="line1_plc", address="HR0", type="uint16", scan="hourly"
    )
    connection = project.model.connections["line1_plc"].model_copy(update={"simulated_plant": ""})
    model = project.model.model_copy(
        update={
            "tags": [*project.model.tags, spare, unknown_scan],
            "connections": {**project.model.connections, "spare_plc": connection},
        }
    )
    assert runtime.engine.add_tags(model, ["spare.level", "line1.slow_one", "no.such"]) == [
        "spare.level"
    ]
    value = runtime.engine.current("spare.level")
    assert value is not None and value.quality is Quality.BAD
    assert "connection spare_plc starts after a restart" in value.reason
    assert unknown_scan.name not in runtime.engine.tag_names()


async def test_connections_added_or_edited_while_running_restart_with_their_settings(
    running: tuple[Runtime, Path],
) -> None:
    runtime, folder = running
    project = load_project(folder)
    model = project.model
    old_driver = runtime.drivers["line1_plc"]
    line1 = model.connections["line1_plc"]
    edited = line1.model_copy(update={"timeout_ms": 2500})
    refused = line1.model_copy(update={"timeout": 2.5})  # a key the driver does not know
    speed = runtime.engine.config("line1.filler.speed")
    twin = _tag(name="line2.speed", connection="line2_plc", address=speed.address,
                type=speed.type.value)
    saved = model.model_copy(
        update={
            "tags": [*model.tags, twin],
            # a second connection to the same embedded plant
            "connections": {**model.connections, "line1_plc": edited, "line2_plc": line1},
        }
    )
    seen: list[TagValue] = []
    runtime.engine.subscribe("line1.filler.speed", seen.append)
    await wait_until(lambda: any(v.quality is Quality.GOOD for v in seen), 10, "line1 values")
    # settings the driver refuses: the running driver stays (the editor checks them first)
    bad = model.model_copy(update={"connections": {**model.connections, "line1_plc": refused}})
    assert runtime.apply_saved(bad, [], ["line1_plc"]).connections == ["line1_plc"]
    await runtime.wait_applied()
    assert runtime.drivers["line1_plc"] is old_driver
    applied = runtime.apply_saved(saved, ["line2.speed"], ["line1_plc", "line2_plc"])
    assert applied.tags == ["line2.speed"] and applied.connections == ["line1_plc", "line2_plc"]
    twin_values: list[TagValue] = []
    runtime.engine.subscribe("line2.speed", twin_values.append)
    await runtime.wait_applied()
    assert runtime.drivers["line1_plc"] is not old_driver  # restarted with the new settings
    assert set(runtime.engine.link_states()) >= {"line1_plc", "line2_plc"}
    seen.clear()
    await wait_until(
        lambda: any(v.quality is Quality.GOOD for v in seen)
        and any(v.quality is Quality.GOOD for v in twin_values),
        10,
        "values through both connections",
    )
    assert runtime.engine.link_states()["line2_plc"][0].value == "connected"


async def test_tags_changed_while_running_take_their_new_settings_at_once(
    running: tuple[Runtime, Path],
) -> None:
    runtime, folder = running
    engine = runtime.engine
    setpoint = engine.config("line1.filler.speed_sp")
    speed = engine.config("line1.filler.speed")
    capper = engine.config("line1.capper.speed")
    tighter = setpoint.model_copy(update={"limits": Limits(min=0, max=400)})
    moved_address = speed.model_copy(update={"address": capper.address, "units": "bottles/min"})
    other_connection = engine.config("utilities.power_kw").model_copy(
        update={"connection": "line1_plc", "address": "IR50"}
    )
    changed = {t.name: t for t in (tighter, moved_address, other_connection)}
    model = load_project(folder).model
    model = model.model_copy(update={"tags": [changed.get(t.name, t) for t in model.tags]})
    seen: list[TagValue] = []
    engine.subscribe("line1.filler.speed", seen.append)
    applied = runtime.apply_saved(model, [], [], list(changed))
    assert applied.updated == ["line1.filler.speed_sp", "line1.filler.speed"]  # not the move
    assert engine.config("utilities.power_kw").connection == "utilities"
    # a tighter limit protects at once: 450 was allowed a moment ago
    with pytest.raises(WriteRefused, match=r"outside the limits 0\.\.400"):
        await engine.write("line1.filler.speed_sp", 450)
    assert engine.meta("line1.filler.speed").units == "bottles/min"
    # the new address is read from the next scan: the capper's speed register
    capper_values: list[TagValue] = []
    engine.subscribe("line1.capper.speed", capper_values.append)
    seen.clear()
    await wait_until(
        lambda: any(v.quality is Quality.GOOD for v in seen)
        and any(v.quality is Quality.GOOD for v in capper_values),
        10,
        "values from the new address",
    )
    assert engine.point("line1.filler.speed").address == capper.address
