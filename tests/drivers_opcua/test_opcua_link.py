"""Link loss and recovery against a real asyncua server that is stopped and started again."""

from __future__ import annotations

import asyncio

from drivers.base import LinkState
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality

from .conftest import FIXED_TS, MakeDriver, PlantServer, Recorder, point


async def test_server_restart_tags_bad_then_good_subscription_recovered_no_duplicates(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    points = [
        point("count", "ns=2;s=Line1.Counter", DataType.UINT32),
        point("fixed", "ns=2;s=Line1.Fixed"),
        point("path", "/Objects/2:Line1/2:Speed"),
    ]
    await make_driver(points)
    await recorder.wait_for(lambda: recorder.good("count", "fixed", "path"))
    await recorder.wait_for(lambda: len(recorder.of("count")) >= 3)

    await plant.stop()
    took = await recorder.wait_for(lambda: recorder.bad("count", "fixed", "path"), within=2.0)
    assert took < 2.0
    assert recorder.latest["count"].reason.startswith("comm failure: ")
    await recorder.wait_for(lambda: recorder.links[-1][0] is LinkState.DISCONNECTED)
    await asyncio.sleep(0.5)  # a few failed reconnects (connection refused)
    assert recorder.bad("count", "fixed", "path")
    assert "connection refused" in recorder.links[-1][1]
    fixed_before = len(recorder.of("fixed"))

    await plant.start()  # a new server process on the same port: counter starts from 0 again
    await recorder.wait_for(lambda: recorder.good("count", "fixed", "path"), within=5.0)
    assert recorder.links[-1][0] is LinkState.CONNECTED
    start = recorder.value("count")
    await recorder.wait_for(
        lambda: recorder.value("count") >= start + 3, within=3.0
    )  # subscription live
    assert recorder.value("path") == 12.5  # browse path resolved again on the new server

    # the unchanged value came back once, with the server's own timestamp, and not again
    await asyncio.sleep(0.5)
    after = recorder.of("fixed")[fixed_before:]
    assert [(s.quality, s.value, s.source_ts) for s in after] == [
        (Quality.GOOD, 5.0, FIXED_TS.timestamp())
    ]


async def test_server_absent_at_start_then_appears(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    await plant.stop()
    await make_driver([point("speed", "ns=2;s=Line1.Speed")])
    await recorder.wait_for(lambda: recorder.bad("speed"))
    assert "connection refused" in recorder.latest["speed"].reason
    await recorder.wait_for(lambda: recorder.links[-1][0] is LinkState.DISCONNECTED)
    await plant.start()
    await recorder.wait_for(lambda: recorder.good("speed"), within=5.0)


async def test_points_added_during_an_outage_are_bad_at_once_and_read_after(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await make_driver([point("speed", "ns=2;s=Line1.Speed")])
    await recorder.wait_for(lambda: recorder.good("speed"))
    await plant.stop()
    await recorder.wait_for(lambda: recorder.bad("speed"))
    driver.subscribe([point("sp", "ns=2;s=Line1.Setpoint", scan_ms=200)])
    await recorder.wait_for(lambda: recorder.bad("sp"), within=0.5)
    await plant.start()
    await recorder.wait_for(lambda: recorder.good("speed", "sp"), within=5.0)
    assert recorder.value("sp") == 40.0


async def test_stop_while_reconnecting_leaves_nothing_behind(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await make_driver([point("speed", "ns=2;s=Line1.Speed")])
    await recorder.wait_for(lambda: recorder.good("speed"))
    await plant.stop()
    await recorder.wait_for(lambda: recorder.links[-1][0] is LinkState.DISCONNECTED)
    await driver.stop()
    assert driver.link_state is LinkState.STOPPED
    assert recorder.links[-1][0] is LinkState.STOPPED


async def test_stop_while_connected_closes_the_session(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    driver = await make_driver(
        [point("count", "ns=2;s=Line1.Counter", DataType.UINT32, scan_ms=50)], mode="poll"
    )
    await recorder.wait_for(lambda: recorder.good("count"))
    await driver.stop()
    seen = len(recorder.samples)
    await asyncio.sleep(0.3)
    assert len(recorder.samples) == seen
    assert plant.server is not None
    assert not plant.server.bserver.clients  # the session and socket were closed, not dropped
