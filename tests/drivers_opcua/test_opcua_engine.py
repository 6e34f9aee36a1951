"""The OPC UA driver as a project uses it: settings from the project model, created through the
registry, run by the tag engine; an encrypted session with a password from the environment."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from drivers import registry
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import Quality, TagValue
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.engine import TagEngine

from .conftest import PASSWORDS, CertPair, PlantServer

ENV = "HMI_TEST_ENGINE_UA_PASSWORD"


async def test_encrypted_project_connection_through_the_engine(
    plant: PlantServer, certs: dict[str, CertPair], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, PASSWORDS["operator"])
    pki = tmp_path / "pki"
    (pki / "trusted").mkdir(parents=True)
    shutil.copy(certs["server"].cert_path, pki / "trusted")
    model = ProjectModel.model_validate(
        {
            "schema_version": 1,
            "project": {"name": "ua"},
            "scan_classes": {"fast": 100, "normal": 1000},
            "connections": {
                "line2": {
                    "driver": "opcua",
                    "url": plant.url,
                    "pki_dir": str(pki),
                    "user": "operator",
                    "password_env": ENV,
                    "watchdog_ms": 500,
                }
            },
            "tags": [
                {
                    "name": "line2.speed",
                    "connection": "line2",
                    "address": "/Objects/2:Line1/2:Speed",
                    "type": "float64",
                    "scan": "fast",
                },
                {
                    "name": "line2.count",
                    "connection": "line2",
                    "address": "ns=2;s=Line1.Counter",
                    "type": "uint32",
                    "scan": "fast",
                },
                {
                    "name": "line2.sp",
                    "connection": "line2",
                    "address": "ns=2;s=Line1.Setpoint",
                    "type": "float64",
                    "access": "read_write",
                    "limits": {"min": 0, "max": 100},
                },
                {
                    "name": "line2.arr",
                    "connection": "line2",
                    "address": "ns=2;s=Line1.Arr",
                    "type": "int32",
                    "array_length": 5,
                    "access": "read_write",
                    "scan": "fast",
                },
            ],
        }
    )
    engine = TagEngine(model)
    latest: dict[str, TagValue] = {}
    for name in engine.tag_names():
        engine.subscribe(name, lambda value, name=name: latest.__setitem__(name, value))  # type: ignore[misc]
    driver = registry.create("opcua", "line2", model.connections["line2"].driver_settings())
    await engine.start({"line2": driver})
    try:

        async def until(condition: object, within: float = 5.0) -> None:
            deadline = asyncio.get_running_loop().time() + within
            while not condition():  # type: ignore[operator]
                assert asyncio.get_running_loop().time() < deadline, (latest, engine.link_states())
                await asyncio.sleep(0.02)

        def good(*names: str) -> bool:
            return all(n in latest and latest[n].quality is Quality.GOOD for n in names)

        await until(lambda: good("line2.speed", "line2.count", "line2.sp", "line2.arr"))
        assert latest["line2.speed"].value == 12.5
        assert latest["line2.arr"].value == (10, 11, 12, 13, 14)
        await engine.write("line2.sp", "62.5")
        await until(lambda: latest["line2.sp"].value == 62.5)
        with pytest.raises(WriteRefused):
            await engine.write("line2.sp", 150)  # the project's limits, before the server's
        await engine.write("line2.arr", [5, 4, 3, 2, 1])
        await until(lambda: latest["line2.arr"].value == (5, 4, 3, 2, 1))

        await plant.stop()
        await until(lambda: all(v.quality is Quality.BAD for v in latest.values()), within=2.0)
        await plant.start()
        await until(lambda: good("line2.speed", "line2.count", "line2.sp", "line2.arr"))
        before = latest["line2.count"].value
        await until(lambda: latest["line2.count"].value > before)
    finally:
        await engine.stop()
