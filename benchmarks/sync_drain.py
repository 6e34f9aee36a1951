"""Draining the outbox to each sink on loopback: records per second, batched vs one per request.

For every sink (file drop, REST, PostgreSQL, MQTT) the records are queued in a real outbox (SQLite,
WAL, synchronous=FULL) first, then one real ``Sender`` drains them through the sink: the timed
part is what the runtime does after an outage, from the first batch read to the outbox found
empty, including marking every record delivered in the outbox. Afterwards the receiver is asked
how many distinct keys it holds, so a row only counts what really arrived.

Receivers: the file drop writes to a temporary folder (fsync on, as in the product); REST posts
to a minimal HTTP/1.1 keep-alive receiver in its own process (it parses the JSON and keeps the
keys); PostgreSQL is the machine's server (127.0.0.1:5432, database ``test``, a table created
and dropped for the run); MQTT publishes with QoS 1 to the machine's Mosquitto (127.0.0.1:1883)
and a subscriber in its own process counts the keys.

A first pair of rows drains into a sink that only keeps the keys in memory: what the outbox
(reading batches, marking them delivered with synchronous=FULL) and the Sender cost on their own,
the ceiling for every sink (it is what limits the one-per-request rows).

The records look like counter records: line, shift, counter, delta, order and product. The
shift changes every 10,000 records, so the file drop writes files of up to 10,000 records each
(its atomic rewrite costs grow with the file). One-per-request rows drain fewer records so the
default run stays short; the record count is in the table.

    python -m benchmarks.sync_drain [--records 100000] [--single 2000] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from hmi_app.runtime.outbox import Outbox, OutboxRecord
from hmi_app.runtime.sinks.base import Sink
from hmi_app.runtime.sinks.file import FileSink
from hmi_app.runtime.sinks.mqtt import MqttSink, MqttSinkConfig
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.sinks.sql import SqlSink, SqlSinkConfig
from hmi_app.runtime.store import Database
from hmi_app.runtime.sync import Sender

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
RECORDS_PER_SHIFT = 10_000
T0 = 1_790_000_000.0


@dataclass
class Row:
    """One measured drain."""

    sink: str
    batch: int
    records: int
    seconds: float
    received: int
    failures: int

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def make_records(run: str, n: int) -> list[OutboxRecord]:
    records = []
    for i in range(n):
        shift = i // RECORDS_PER_SHIFT
        records.append(
            OutboxRecord(
                key=f"{run}/line1/good/{i}",
                kind="count",
                created=T0 + i * 0.5,
                payload={
                    "line": "line1",
                    "shift": f"S{shift}",
                    "shift_start": T0 + shift * 28_800,
                    "counter": "good",
                    "delta": 1 + i % 7,
                    "order": "WO-4711",
                    "product": "0.5 l PET",
                    "recovered": False,
                },
            )
        )
    return records


# --- receivers in their own processes ---------------------------------------------------------


class ReceiverProcess:
    """A receiver run as ``python -m benchmarks.sync_drain --serve ...``; asks it for its count."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sync_drain", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.ready = self.proc.stdout.readline().split()  # e.g. "port 43121" or "ready"

    def keys(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve_http() -> None:
    """A minimal REST receiver: keeps the keys of every POSTed batch, answers 200."""
    keys: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as an ERP endpoint would
        disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK wait

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            for record in json.loads(body)["records"]:
                keys.add(record["key"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    _answer_counts(lambda: len(keys))
    server.shutdown()


def subscribe_mqtt(topic: str) -> None:
    """A subscriber that keeps the keys of what arrives under ``topic``."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    keys: set[str] = set()
    subscribed = threading.Event()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        keys.add(json.loads(message.payload)["key"])

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(MQTT_HOST, MQTT_PORT)
    client.subscribe(topic, qos=1)
    client.loop_start()
    subscribed.wait(10)
    print("ready", flush=True)
    _answer_counts(lambda: len(keys))
    client.loop_stop()
    client.disconnect()


def _answer_counts(count: Callable[[], int]) -> None:
    for line in sys.stdin:
        if line.strip() == "count":
            print(f"keys {count()}", flush=True)


# --- the drain -------------------------------------------------------------------------------


async def drain(
    label: str,
    make_sink: Callable[[], Sink],
    records: list[OutboxRecord],
    batch: int,
    received: Callable[[], Awaitable[int]],
) -> Row:
    """Queue ``records``, drain them through a real Sender and ``make_sink()``, time it."""
    with tempfile.TemporaryDirectory(prefix="hmi-drain-") as folder:
        db = await Database.open(Path(folder) / "outbox.sqlite")
        try:
            outbox = Outbox(db, ["target"])  # the product's default capacity (1,000,000)
            for start in range(0, len(records), 10_000):
                await outbox.extend(records[start : start + 10_000])
            sink = make_sink()
            sender = Sender(outbox, "target", sink, batch, send_timeout_s=120, idle_poll_s=60)
            started = time.perf_counter()
            sender.start()
            if not await sender.wait_idle(600):
                raise RuntimeError(f"{label}: not drained within 10 minutes")
            seconds = time.perf_counter() - started
            await sender.stop()
            await sink.close()
            left = (await outbox.status("target")).depth
            if left:
                raise RuntimeError(f"{label}: {left} records still queued")
        finally:
            await db.close()
    return Row(label, batch, len(records), seconds, await received(), sender.stats.failures)


class NullSink:
    """Keeps the keys in memory: what the outbox and the Sender cost without any receiver."""

    def __init__(self) -> None:
        self.name = "null"
        self.keys: set[str] = set()

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        self.keys.update(record.key for record in records)
        return {}

    async def close(self) -> None:
        pass


async def null_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    rows = []
    for n, batch in sizes:
        sink = NullSink()

        async def received(sink: NullSink = sink) -> int:
            return len(sink.keys)

        rows.append(
            await drain(
                "none (outbox + Sender alone)",
                lambda sink=sink: sink,  # type: ignore[misc]
                make_records(f"null{batch}", n),
                batch,
                received,
            )
        )
    return rows


def jsonl_keys(folder: Path) -> int:
    """Distinct keys in the JSON Lines files of a drop folder."""
    keys: set[str] = set()
    for path in folder.glob("*.jsonl"):
        with path.open(encoding="utf-8") as lines:
            keys.update(json.loads(line)["key"] for line in lines)
    return len(keys)


async def file_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    rows = []
    for n, batch in sizes:
        with tempfile.TemporaryDirectory(prefix="hmi-drop-") as folder:
            drop = Path(folder)

            async def received(drop: Path = drop) -> int:
                return await asyncio.to_thread(jsonl_keys, drop)

            rows.append(
                await drain(
                    "file drop (CSV + JSONL, fsync)",
                    partial(FileSink, "bench", drop),
                    make_records(f"file{batch}", n),
                    batch,
                    received,
                )
            )
    return rows


async def rest_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    receiver = ReceiverProcess("--serve-http")
    url = f"http://127.0.0.1:{receiver.ready[1]}/records"
    rows = []
    try:
        for n, batch in sizes:
            before = receiver.keys()

            async def received(before: int = before) -> int:
                return receiver.keys() - before

            rows.append(
                await drain(
                    "REST (HTTP/1.1 keep-alive)",
                    partial(RestSink, "bench", url),
                    make_records(f"rest{batch}", n),
                    batch,
                    received,
                )
            )
    finally:
        receiver.close()
    return rows


async def sql_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    rows = []
    for n, batch in sizes:
        table = f"hmi_bench_{uuid.uuid4().hex[:10]}"

        async def received(table: str = table) -> int:
            async with await psycopg.AsyncConnection.connect(PG_DSN) as conn:
                cur = await conn.execute(
                    sql.SQL("SELECT count(DISTINCT key) FROM {}").format(sql.Identifier(table))
                )
                row = await cur.fetchone()
            return int(row[0]) if row else 0

        try:
            rows.append(
                await drain(
                    "PostgreSQL (ON CONFLICT DO NOTHING)",
                    partial(SqlSink, "bench", SqlSinkConfig(dsn=PG_DSN, table=table)),
                    make_records(f"sql{batch}", n),
                    batch,
                    received,
                )
            )
        finally:
            async with await psycopg.AsyncConnection.connect(PG_DSN, autocommit=True) as conn:
                await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    return rows


async def mqtt_rows(sizes: list[tuple[int, int]]) -> list[Row]:
    rows = []
    for n, batch in sizes:
        root = f"hmi-bench-{uuid.uuid4().hex[:8]}/site/area"
        subscriber = ReceiverProcess("--subscribe-mqtt", f"{root}/#")
        try:
            config = MqttSinkConfig(host=MQTT_HOST, port=MQTT_PORT, topic_root=root, timeout_s=60)

            async def received(subscriber: ReceiverProcess = subscriber) -> int:
                await asyncio.sleep(0.5)  # the last messages on their way to the subscriber
                return subscriber.keys()

            rows.append(
                await drain(
                    "MQTT (QoS 1, PUBACK awaited)",
                    partial(MqttSink, "bench", config),
                    make_records(f"mqtt{batch}", n),
                    batch,
                    received,
                )
            )
        finally:
            subscriber.close()
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| sink | per request | records | seconds | records/s | keys at the receiver |"
        " transient failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.sink} | {row.batch} | {row.records:,} | {row.seconds:.2f} |"
            f" {row.per_s:,.0f} | {row.received:,} | {row.failures} |"
        )
    return "\n".join(lines)


async def run_all(records: int, single: int, batch: int) -> list[Row]:
    sizes = [(records, batch), (single, 1)]
    rows: list[Row] = []
    for measure in (null_rows, file_rows, rest_rows, sql_rows, mqtt_rows):
        rows += await measure(sizes)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100_000, help="records per batched row")
    parser.add_argument("--single", type=int, default=2_000, help="records per one-by-one row")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--serve-http", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--subscribe-mqtt", metavar="TOPIC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_http:
        serve_http()
        return
    if args.subscribe_mqtt:
        subscribe_mqtt(args.subscribe_mqtt)
        return
    print(
        f"Outbox drain to each sink on loopback through the real Sender ({args.batch} records per"
        f" batch vs one per request; {args.records:,} and {args.single:,} records)"
    )
    print(table(asyncio.run(run_all(args.records, args.single, args.batch))))


if __name__ == "__main__":
    main()
