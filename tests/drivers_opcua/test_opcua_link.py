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


class FreezableProxy:
    """A TCP relay in front of the server that can go silent (drop bytes, keep sockets open):
    a server that hangs, or a cable pulled between two switches."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.append(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink), name="test-proxy-pipe")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            if not self.frozen:
                sink.write(data)
        sink.close()


async def test_a_silent_server_is_noticed_by_the_watchdog(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    proxy = FreezableProxy(plant.port)
    await proxy.start()
    try:
        await make_driver(
            [point("count", "ns=2;s=Line1.Counter", DataType.UINT32)],
            url=f"opc.tcp://127.0.0.1:{proxy.port}/plant",
            watchdog_ms=300,
            timeout_ms=1000,
            connect_timeout_ms=1000,
        )
        await recorder.wait_for(lambda: recorder.good("count"))
        proxy.frozen = True
        took = await recorder.wait_for(lambda: recorder.bad("count"), within=3.0)
        assert took < 2.0, took
        assert recorder.latest["count"].reason.startswith("comm failure: ")
        proxy.frozen = False
        await recorder.wait_for(lambda: recorder.good("count"), within=6.0)
        first = recorder.value("count")
        await recorder.wait_for(lambda: recorder.value("count") > first)
    finally:
        await proxy.close()


async def test_a_subscription_the_server_dropped_is_made_again(
    make_driver: MakeDriver, recorder: Recorder, plant: PlantServer
) -> None:
    await make_driver(
        [
            point("count", "ns=2;s=Line1.Counter", DataType.UINT32),
            point("fixed", "ns=2;s=Line1.Fixed"),
        ],
        keepalive_ms=300,
    )
    await recorder.wait_for(
        lambda: recorder.good("count", "fixed") and len(recorder.of("count")) >= 3
    )
    assert plant.server is not None
    service = plant.server.iserver.subscription_service
    await service.delete_subscriptions(list(service.subscriptions))  # e.g. its lifetime expired
    await asyncio.sleep(0.2)
    stuck = recorder.value("count")
    await recorder.wait_for(lambda: recorder.value("count") >= stuck + 5, within=5.0)
    assert len(service.subscriptions) == 1
    assert len(recorder.of("fixed")) == 1  # the new subscription's initial value was a duplicate


async def test_a_reply_above_our_message_size_limit_is_refused(
    make_driver: MakeDriver, recorder: Recorder
) -> None:
    await make_driver(
        [point("speed", "ns=2;s=Line1.Speed"), point("big", "ns=2;s=Line1.Big", DataType.STRING)],
        max_message_size=16384,
        max_chunk_count=4,
    )
    await recorder.wait_for(lambda: recorder.bad("speed", "big"))
    assert recorder.latest["big"].reason == (
        "comm failure: the server sent a reply larger than max_message_size or max_chunk_count"
        " allow (BadRequestTooLarge)"
    )
    assert all(s.value is None for s in recorder.of("big"))
