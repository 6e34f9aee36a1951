"""End-to-end latency of a count: PLC counter change -> row at the receiver, while online.

A real Modbus TCP server (the plant server of ``hmi_app.plant``, with a register image the
benchmark writes) holds a uint32 good counter. A real runtime (``Runtime`` over a project written
for the run: one line, one counter on the "fast" scan class, as the demo's counters) reads it
through the Modbus driver; the production service books every change into the SQLite outbox and
two senders deliver it: the SQL sink into the machine's PostgreSQL (127.0.0.1:5432, database
``test``, a table created and dropped for the run) and the REST sink to a small HTTP receiver in a
thread of this process. Every sync target uses the project defaults (batch_size 100, backoff,
timeouts).

For each of ``--changes`` changes the counter goes up by one at a random moment (a random wait of
up to one scan period after the last arrival, so the change falls anywhere in the scan period),
and the time until the record carrying the new value is at the receiver is taken: for REST when
the receiver got the POST, for PostgreSQL when a poll of the table (every 2 ms, on its own
connection) first finds the row. p50/p99/max per receiver. The default scan class is the one the
demo's counters use ("fast", 100 ms); ``--scan normal`` shows a counter left on the default
class of a new tag (1000 ms, when the project keeps the default scan classes).

    python -m benchmarks.count_latency [--changes 200] [--scan fast]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from hmi_app.core.project.loader import load_project
from hmi_app.core.project.model import ProjectModel
from hmi_app.plant import words
from hmi_app.plant.server import ModbusPlantServer, RegisterImage, Table
from hmi_app.runtime.runtime import Runtime

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
POLL_S = 0.002
WAIT_S = 10.0

PROJECT = """\
schema_version: 1
project: {{name: count latency benchmark}}
connections:
  plc: {{driver: modbus-tcp, host: 127.0.0.1, port: {port}, unit_id: 1}}
tags:
  - {{name: line1.good, connection: plc, address: IR0, type: uint32, scan: {scan}}}
  - {{name: line1.running, type: bool, initial: true}}
production:
  lines:
    line1:
      run_tag: line1.running
      default_ideal_rate_per_min: 60
      counters:
        - {{name: good, tag: line1.good, kind: good, width: 32}}
sync_targets:
  erp: {{kind: rest, url: "http://127.0.0.1:{rest_port}/counts"}}
  mes_db: {{kind: sql, dsn: "{dsn}", table: {table}}}
"""


class _Arrivals:
    """``to_value`` of a count record -> perf_counter() when the HTTP receiver got it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[int, float] = {}

    def get(self, value: int) -> float | None:
        with self.lock:
            return self.seen.get(value)


def _receiver(arrivals: _Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.perf_counter()
            records = json.loads(body)["records"]
            with arrivals.lock:
                for record in records:
                    if record["kind"] == "count":
                        arrivals.seen.setdefault(int(record["payload"]["to_value"]), now)
            reply = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


async def _row_seen(conn: psycopg.AsyncConnection[Any], table: str, value: int) -> bool:
    query = sql.SQL("SELECT 1 FROM {} WHERE kind = 'count' AND payload->>'to_value' = %s").format(
        sql.Identifier(table)
    )
    async with conn.cursor() as cur:
        try:
            await cur.execute(query, (str(value),))
        except psycopg.errors.UndefinedTable:  # the sink creates it with its first batch
            return False
        return await cur.fetchone() is not None


async def measure(changes: int, scan: str) -> dict[str, Any]:
    """Latencies (seconds) of ``changes`` counter changes at both receivers."""
    image = RegisterImage()
    image.write(Table.INPUT, 0, words.uint32(1000))
    server = ModbusPlantServer("latency-plc", image, lambda _dt: None, period_s=1.0)
    _host, port = await server.start()
    arrivals = _Arrivals()
    http = _receiver(arrivals)
    http_thread = threading.Thread(target=http.serve_forever, name="http-receiver", daemon=True)
    http_thread.start()
    table = f"count_latency_{uuid.uuid4().hex[:8]}"
    rest_port = http.server_address[1]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hmi-count-latency-") as tmp:
        folder = Path(tmp) / "project"
        folder.mkdir()
        text = PROJECT.format(port=port, scan=scan, rest_port=rest_port, dsn=PG_DSN, table=table)
        (folder / "project.yaml").write_text(text, encoding="utf-8")
        os.environ["HMI_APP_DATA_DIR"] = str(Path(tmp) / "data")
        project = load_project(folder)
        runtime = Runtime(project, production=True)
        poll = await psycopg.AsyncConnection.connect(PG_DSN, autocommit=True)
        try:
            await runtime.start()
            result["defaults"] = _defaults(project.model, scan)
            value = 1000
            await _wait(lambda: _good(runtime) == value, "the first counter value")
            rest: list[float] = []
            pg: list[float] = []
            scan_s = project.model.scan_classes[scan] / 1000.0
            for _ in range(changes):
                # a random phase against the scan: the change lands anywhere in a scan period
                await asyncio.sleep(random.uniform(0.02, 0.02 + scan_s))
                value += 1
                image.write(Table.INPUT, 0, words.uint32(value))
                changed = time.perf_counter()
                pg_at: float | None = None
                deadline = changed + WAIT_S
                while pg_at is None or arrivals.get(value) is None:
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"count {value} did not arrive within {WAIT_S} s")
                    if pg_at is None and await _row_seen(poll, table, value):
                        pg_at = time.perf_counter()
                    await asyncio.sleep(POLL_S)
                rest_at = arrivals.get(value)
                assert rest_at is not None
                rest.append(rest_at - changed)
                pg.append(pg_at - changed)
            result["REST (HTTP receiver)"] = rest
            result["PostgreSQL (SQL sink)"] = pg
        finally:
            await runtime.stop()
            async with poll.cursor() as cur:
                await cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            await poll.close()
            http.shutdown()
            http.server_close()
            await server.stop()
    return result


def _good(runtime: Runtime) -> object:
    value = runtime.engine.current("line1.good")
    return None if value is None else value.value


async def _wait(condition: Any, what: str, limit_s: float = 15.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {limit_s} s")
        await asyncio.sleep(0.02)


def _defaults(model: ProjectModel, scan: str) -> str:
    target = next(iter(model.sync_targets.values()))
    return (
        f"scan class {scan} ({model.scan_classes[scan]} ms), batch_size {target.batch_size},"
        f" backoff {target.backoff.initial_s:g}-{target.backoff.max_s:g} s,"
        f" timeout {target.timeout_s:g} s"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def table(result: dict[str, Any], changes: int) -> str:
    lines = [
        f"Count latency, PLC change -> row at the receiver ({changes} changes; "
        f"{result['defaults']})",
        "",
        "| receiver | p50 ms | p99 ms | max ms | p99 < 1 s |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    for name, values in result.items():
        if name == "defaults":
            continue
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        p50, p99 = statistics.median(values), cuts[98]
        ok = "yes" if p99 < 1.0 else "no"
        lines.append(f"| {name} | {_ms(p50)} | {_ms(p99)} | {_ms(max(values))} | {ok} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--scan", default="fast", help="scan class of the counter tag")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(measure(args.changes, args.scan))
    print(table(result, args.changes))


if __name__ == "__main__":
    main()
