"""Browsing a live server's address space, as the tag browser does."""

from __future__ import annotations

import pytest

from drivers.base import AddressError
from drivers.opcua.driver import OpcUaDriver
from hmi_app.core.datatypes import DataType

from .conftest import MakeDriver, PlantServer, Recorder, point


async def test_browse_objects_folder_then_a_line(
    make_driver: MakeDriver, recorder: Recorder
) -> None:
    driver = await make_driver([point("speed", "ns=2;s=Line1.Speed")])
    await recorder.wait_for(lambda: recorder.good("speed"))
    top = {node.name: node for node in await driver.browse()}
    assert {"Line1", "Types", "Server"} <= set(top)
    line = top["Line1"]
    assert line.address == "ns=2;s=Line1" and line.expandable and line.data_type is None

    children = {node.name: node for node in await driver.browse(line.address)}
    speed = children["Speed"]
    assert speed.address == "ns=2;s=Line1.Speed"
    assert speed.data_type is DataType.FLOAT64 and not speed.expandable
    assert speed.description == "Double - Line speed"
    assert children["Arr"].data_type is DataType.INT32
    assert children["Arr"].description.startswith("Int32[")
    assert children["Counter"].data_type is DataType.UINT32

    types = {node.name: node for node in await driver.browse("/Objects/2:Types")}
    assert types["DateTime"].data_type is DataType.DATETIME
    assert types["SByte"].data_type is DataType.INT8
    assert types["ByGuid"].address == "ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a"

    # what the browser lists can be subscribed as it is
    driver.subscribe([point("from_browse", children["Counter"].address, DataType.UINT32)])
    await recorder.wait_for(lambda: recorder.good("from_browse"))


async def test_browse_errors(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await make_driver([point("speed", "ns=2;s=Line1.Speed")])
    await recorder.wait_for(lambda: recorder.good("speed"))
    with pytest.raises(AddressError, match="cannot browse ns=2;s=Nowhere: BadNodeId"):
        await driver.browse("ns=2;s=Nowhere")
    with pytest.raises(AddressError, match="not found"):
        await driver.browse("/Objects/2:Nowhere")
    with pytest.raises(AddressError, match="is not an OPC UA address"):
        await driver.browse("Line1")
    await plant.stop()
    await recorder.wait_for(lambda: recorder.bad("speed"))
    with pytest.raises(ConnectionError, match=r"not connected to opc\.tcp://"):
        await driver.browse()


async def test_browse_before_start_says_not_connected(plant: PlantServer) -> None:
    driver = OpcUaDriver.from_settings("plc", {"url": plant.url, "security": "none"})
    with pytest.raises(ConnectionError, match="plc: not connected"):
        await driver.browse()
