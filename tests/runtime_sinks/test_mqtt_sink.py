"""MQTT target against the machine's real Mosquitto (127.0.0.1:1883).

A test subscriber (aiomqtt, QoS 1) listens under a topic root of its own; outages go through a
TCP proxy in front of the broker, which is cut and restored (the broker keeps running).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks import TransientSinkError, create_sink
from hmi_app.runtime.sinks.mqtt import MqttSink, MqttSinkConfig
from tests.support.tcp_proxy import TcpProxy

BROKER, PORT = "127.0.0.1", 1883
T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


def record(i: int, kind: str = "count", **payload: Any) -> OutboxRecord:
    return OutboxRecord(f"k{i}", kind, T0 + i, {"line": "line1", "delta": i, **payload})


class Subscriber:
    """Collects what arrives under ``root/#`` with the QoS it was delivered at."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, int, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    async def run(self) -> None:
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            self.messages.append((str(message.topic), message.qos, json.loads(message.payload)))
            self._arrived.set()

    async def wait_for(self, count: int, within_s: float = 10.0) -> None:
        async with asyncio.timeout(within_s):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def keys(self) -> list[str]:
        return [payload["key"] for _, _, payload in self.messages]


@asynccontextmanager
async def subscribed(root: str) -> AsyncIterator[Subscriber]:
    async with aiomqtt.Client(BROKER, PORT, timeout=10) as client:
        await client.subscribe(f"{root}/#", qos=1)
        subscriber = Subscriber(client)
        task = asyncio.create_task(subscriber.run(), name="mqtt-test-subscriber")
        try:
            yield subscriber
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def root() -> str:
    return f"hmi-test-{uuid.uuid4().hex[:10]}/dortmund/bottling"


async def test_records_arrive_as_json_with_their_key_on_the_uns_topic_at_qos_1(root: str) -> None:
    sink = create_sink(
        "uns", {"kind": "mqtt", "host": BROKER, "port": PORT, "topic_root": root}, Path(".")
    )
    no_line = OutboxRecord("s1", "shift_summary", T0, {"shift": "A", "good": 812})
    async with subscribed(root) as subscriber:
        try:
            assert await sink.send([record(1), record(2), no_line]) == {}
            await subscriber.wait_for(3)
        finally:
            await sink.close()
    assert [(topic, qos) for topic, qos, _ in subscriber.messages] == [
        (f"{root}/line1/production/count", 1),
        (f"{root}/line1/production/count", 1),
        (f"{root}/production/shift_summary", 1),
    ]
    assert subscriber.messages[1][2] == {
        "key": "k2",
        "kind": "count",
        "created": "2026-09-21T14:13:22.000Z",
        "payload": {"line": "line1", "delta": 2},
    }


async def test_one_connection_serves_many_batches_in_order(root: str) -> None:
    async with TcpProxy(BROKER, PORT) as proxy, subscribed(root) as subscriber:
        sink = MqttSink("uns", MqttSinkConfig(host=BROKER, port=proxy.port, topic_root=root))
        try:
            for b in range(10):
                assert await sink.send([record(b * 50 + i) for i in range(50)]) == {}
            await subscriber.wait_for(500)
        finally:
            await sink.close()
        assert proxy.accepted == 1
    assert subscriber.keys() == [f"k{i}" for i in range(500)]


async def test_a_cut_broker_link_is_transient_and_the_batch_is_delivered_after_restore(
    root: str,
) -> None:
    async with TcpProxy(BROKER, PORT) as proxy, subscribed(root) as subscriber:
        config = MqttSinkConfig(host=BROKER, port=proxy.port, topic_root=root, timeout_s=3)
        sink = MqttSink("uns", config)
        try:
            assert await sink.send([record(0)]) == {}
            await proxy.cut()
            batch = [record(i) for i in range(1, 6)]
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(TransientSinkError, match=f"127.0.0.1:{proxy.port}"):
                await sink.send(batch)
            with pytest.raises(TransientSinkError, match="cannot connect"):
                await sink.send(batch)
            assert loop.time() - started < 3, "an outage is noticed at once, not at the timeout"
            await proxy.restore()
            assert await sink.send(batch) == {}
            await subscriber.wait_for(6)
        finally:
            await sink.close()
        assert proxy.accepted == 2
    assert sorted(set(subscriber.keys())) == [f"k{i}" for i in range(6)]


async def test_a_link_cut_with_a_batch_in_flight_fails_it_at_once_and_nothing_is_lost(
    root: str,
) -> None:
    async with TcpProxy(BROKER, PORT) as proxy, subscribed(root) as subscriber:
        config = MqttSinkConfig(host=BROKER, port=proxy.port, topic_root=root, timeout_s=5)
        sink = MqttSink("uns", config)
        # fewer than Mosquitto queues for a slow subscriber (max_queued_messages 1000), big
        # enough to be still on the wire when the link is cut
        batch = [record(i, note="x" * 20_000) for i in range(800)]
        try:
            assert await sink.send(batch[:1]) == {}
            sending = asyncio.create_task(sink.send(batch), name="mqtt-test-send")
            await subscriber.wait_for(20)  # the batch is flowing
            loop = asyncio.get_running_loop()
            cut_at = loop.time()
            await proxy.cut()
            # which words depends on where the cut meets the client: mid-read or mid-publish
            with pytest.raises(TransientSinkError, match=r"lost|not currently connected"):
                await sending
            assert loop.time() - cut_at < 2, "a lost link fails the batch at once"
            await proxy.restore()
            assert await sink.send(batch) == {}
            await subscriber.wait_for(len(batch) + 20)
            await asyncio.sleep(0.2)  # anything else still on its way
        finally:
            await sink.close()
    keys = subscriber.keys()
    assert set(keys) == {r.key for r in batch}
    assert keys[-len(batch) :] == [r.key for r in batch]  # the re-sent batch, whole and in order


async def test_a_broker_that_stops_answering_times_out_as_transient(root: str) -> None:
    async with TcpProxy(BROKER, PORT) as proxy, subscribed(root) as subscriber:
        config = MqttSinkConfig(host=BROKER, port=proxy.port, topic_root=root, timeout_s=1)
        sink = MqttSink("uns", config)
        try:
            assert await sink.send([record(0)]) == {}
            proxy.hold()
            with pytest.raises(TransientSinkError, match="no PUBACK"):
                await sink.send([record(1)])
            await proxy.restore()
            assert await sink.send([record(1), record(2)]) == {}
            await subscriber.wait_for(3)
        finally:
            await sink.close()
    assert set(subscriber.keys()) == {"k0", "k1", "k2"}


async def test_a_connection_lost_between_batches_is_opened_again(root: str) -> None:
    async with TcpProxy(BROKER, PORT) as proxy, subscribed(root) as subscriber:
        sink = MqttSink("uns", MqttSinkConfig(host=BROKER, port=proxy.port, topic_root=root))
        try:
            assert await sink.send([record(0)]) == {}
            await proxy.cut()
            await proxy.restore()
            await asyncio.sleep(0.2)  # the client has noticed the drop by now
            assert await sink.send([record(1)]) == {}
            await subscriber.wait_for(2)
        finally:
            await sink.close()
        assert proxy.accepted == 2
    assert subscriber.keys() == ["k0", "k1"]


async def test_no_broker_at_all_is_transient(root: str) -> None:
    async with TcpProxy(BROKER, PORT) as proxy:
        port = proxy.port
        await proxy.cut()
        sink = MqttSink("uns", MqttSinkConfig(host=BROKER, port=port, topic_root=root))
        try:
            message = f"cannot connect to MQTT broker 127.0.0.1:{port}"
            with pytest.raises(TransientSinkError, match=message):
                await sink.send([record(0)])
        finally:
            await sink.close()


def test_topics_follow_the_unified_namespace() -> None:
    sink = MqttSink("uns", MqttSinkConfig(host=BROKER, topic_root="acme/dortmund/bottling"))
    assert sink.topic(record(1)) == "acme/dortmund/bottling/line1/production/count"
    odd = OutboxRecord("x", "down+time", T0, {"line": "$line/2#"})
    assert sink.topic(odd) == "acme/dortmund/bottling/line_2_/production/down_time"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"topic_root": "acme/+/x"}, "cannot be a topic level"),
        ({"topic_root": "acme//x"}, "cannot be a topic level"),
        ({"topic_root": "$SYS/x"}, "cannot be a topic level"),
        ({"qos": 3}, "qos"),
        ({"password_env": "MQTT_PW"}, "a password needs a username"),
        ({"ca_file": "ca.pem"}, "ca_file: unknown setting"),
        ({"host": "mqtt://broker"}, "is not a host name"),
    ],
)
def test_bad_settings_are_named(config: dict[str, Any], message: str) -> None:
    settings = {"kind": "mqtt", "host": BROKER, "topic_root": "acme/site/area", **config}
    with pytest.raises(ValueError, match=message) as caught:
        create_sink("uns", settings, Path("."))
    assert str(caught.value).startswith("sync target 'uns' (mqtt): ")
