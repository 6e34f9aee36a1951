"""The plant serves every line1_plc tag of resources/demo/project.yaml where the project says.

The plant is driven by hand (its own ticks are an hour apart), then each tag is read over Modbus
TCP with the address, type, word order and length the project declares, decoded with pymodbus's
own converter, and compared with the model it came from.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient as Client
from ruamel.yaml import YAML

from hmi_app.plant.bottling import BottlingLine, FaultCode
from hmi_app.plant.bottling_plant import BottlingLinePlant

PROJECT = Path(__file__).resolve().parents[2] / "resources" / "demo" / "project.yaml"
DT = Client.DATATYPE
TYPES = {
    "int16": DT.INT16,
    "uint16": DT.UINT16,
    "int32": DT.INT32,
    "uint32": DT.UINT32,
    "float32": DT.FLOAT32,
    "float64": DT.FLOAT64,
}
REGISTERS = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}

# what each tag must show, as a raw device value, given the model
EXPECTED: dict[str, Callable[[BottlingLine], Any]] = {
    "line1.state": lambda m: int(m.state),
    "line1.fault_code": lambda m: int(m.fault_code),
    "line1.name": lambda m: "LINE 1 BOTTLING",
    "line1.start_cmd": lambda m: False,
    "line1.stop_cmd": lambda m: False,
    "line1.reset_cmd": lambda m: False,
    "line1.infeed.running": lambda m: m.infeed_running,
    "line1.infeed.speed": lambda m: round(m.infeed_speed_pct * 10),
    "line1.filler.running": lambda m: m.machines_running,
    "line1.filler.valve_open": lambda m: m.valve_open,
    "line1.filler.speed": lambda m: pytest.approx(m.filler_speed, rel=1e-6),
    "line1.filler.level": lambda m: pytest.approx(m.tank_level, rel=1e-6),
    "line1.filler.temperature": lambda m: pytest.approx(m.temperature, rel=1e-6),
    "line1.filler.speed_sp": lambda m: m.setpoint,
    "line1.capper.running": lambda m: m.machines_running,
    "line1.capper.torque": lambda m: round(m.capper_torque * 10),
    "line1.labeller.running": lambda m: m.machines_running,
    "line1.labeller.stock": lambda m: int(m.label_stock),
    "line1.reject.active": lambda m: m.reject_active,
    "line1.infeed.fault": lambda m: m.machine_faulted("infeed"),
    "line1.filler.fault": lambda m: m.machine_faulted("filler"),
    "line1.capper.fault": lambda m: m.machine_faulted("capper"),
    "line1.labeller.fault": lambda m: m.machine_faulted("labeller"),
    "line1.capper.speed": lambda m: pytest.approx(m.filler_speed, rel=1e-6),
    "line1.labeller.speed": lambda m: pytest.approx(m.filler_speed, rel=1e-6),
    "line1.counts.good": lambda m: m.good_count,
    "line1.counts.reject": lambda m: m.reject_count,
    "line1.runtime_s": lambda m: int(m.runtime_s),
    "line1.energy_kwh": lambda m: m.energy_kwh,
}


def plc_tags() -> list[dict[str, Any]]:
    doc = YAML(typ="safe").load(PROJECT.read_text(encoding="utf-8"))
    plants = {
        name
        for name, conn in doc["connections"].items()
        if conn.get("simulated_plant") == "bottling_line"
    }
    assert plants == {"line1_plc"}
    return [tag for tag in doc["tags"] if tag.get("connection") in plants]


async def read_tag(client: Client, tag: dict[str, Any]) -> Any:
    match = re.fullmatch(r"(HR|IR|DI|CO)(\d+)", tag["address"])
    assert match, tag["address"]
    table, address = match.group(1), int(match.group(2))
    kind = tag.get("type", "float32")
    if table in ("DI", "CO"):
        assert kind == "bool"
        read = client.read_discrete_inputs if table == "DI" else client.read_coils
        rr = await read(address, count=1, device_id=1)
        assert not rr.isError(), tag
        return bool(rr.bits[0])
    count = (tag["length"] + 1) // 2 if kind == "string" else REGISTERS[kind]
    read = client.read_holding_registers if table == "HR" else client.read_input_registers
    rr = await read(address, count=count, device_id=1)
    assert not rr.isError(), tag
    data_type = DT.STRING if kind == "string" else TYPES[kind]
    return Client.convert_from_registers(
        list(rr.registers), data_type, word_order=tag.get("word_order", "big")
    )


@pytest.fixture
async def frozen_plant() -> AsyncIterator[BottlingLinePlant]:
    plant = BottlingLinePlant(seed=4, period_s=3600.0)  # only the test advances it
    await plant.start()
    yield plant
    await plant.stop()


def test_every_plc_tag_of_the_demo_is_known() -> None:
    assert {tag["name"] for tag in plc_tags()} == set(EXPECTED)


@pytest.mark.parametrize("phase", ["running", "faulted", "starved"])
async def test_demo_tags_read_what_the_model_holds(
    frozen_plant: BottlingLinePlant, phase: str
) -> None:
    model = frozen_plant.model
    model.runtime_s = 70_000.0  # above 65535, so a wrong word order shows
    model.good_count = 1_000_000
    for _ in range(200):  # 20 s: at speed, counting, torque on
        frozen_plant.tick(0.1)
    if phase == "faulted":
        model.force_fault(FaultCode.LABELLER_WEB_BREAK)
        frozen_plant.tick(0.1)
    elif phase == "starved":
        model.force_starvation(30.0)
        for _ in range(20):
            frozen_plant.tick(0.1)
    client = Client("127.0.0.1", port=frozen_plant.address[1], timeout=1, retries=0)
    assert await client.connect()
    try:
        for tag in plc_tags():
            value = await read_tag(client, tag)
            assert value == EXPECTED[tag["name"]](model), tag["name"]
    finally:
        client.close()
    if phase == "running":
        assert model.filler_speed == 300.0 and model.machines_running
        assert model.capper_torque > 0 and model.infeed_speed_pct > 0
    else:
        assert not model.machines_running and model.filler_speed == 0.0
