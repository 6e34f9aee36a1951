"""OPC UA subscription throughput: 10,000 monitored items changing every second.

The server (``benchmarks/opcua_server.py``) runs in its own process and changes every one of its
Double variables once a second. Two clients, one after the other, subscribe to all of them with
a 1 s publishing and sampling interval:

- **engine**: the hmi-app OPC UA driver through the tag engine, one listener on every tag, with
  the default queue of 1 value per monitored item (latest value wins: a value superseded within
  one publishing interval is dropped by the server) and with a queue of 10 (every change);
- **bare asyncua**: asyncua's own ``Subscription`` with a data change handler (its documented
  way), counting notifications.

Reported: data change notifications received per second, changes delivered to listeners per
second (engine), CPU of this process in % of one core and CPU seconds per million
notifications, and the server process' CPU %.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asyncua import Client, ua

from drivers import registry
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import TagValue
from hmi_app.runtime.engine import TagEngine

TAGS = 10_000
SECONDS = 6.0


class BenchServer:
    """The server process."""

    def __init__(self, tags: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.opcua_server", "--tags", str(tags)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = f"opc.tcp://127.0.0.1:{self.port}/bench"

    def cpu(self) -> tuple[float, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        words = self.proc.stdout.readline().split()
        return float(words[1]), int(words[3])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Result:
    """One measured client."""

    name: str
    items: int
    notifications_per_s: float
    changes_per_s: float
    cpu_percent: float
    cpu_s_per_million: float
    server_cpu_percent: float
    server_changes_per_s: float


def _model(tags: int, url: str, queue_size: int) -> ProjectModel:
    return ProjectModel.model_validate(
        {
            "schema_version": 1,
            "project": {"name": "bench"},
            "scan_classes": {"second": 1000},
            "connections": {
                "ua": {
                    "driver": "opcua",
                    "url": url,
                    "security": "none",
                    "timeout_ms": 20_000,
                    "watchdog_ms": 5000,
                    "queue_size": queue_size,
                }
            },
            "tags": [
                {
                    "name": f"t{i}",
                    "connection": "ua",
                    "address": f"ns=2;i={i}",
                    "type": "float64",
                    "scan": "second",
                }
                for i in range(1, tags + 1)
            ],
        }
    )


async def _measure(
    server: BenchServer, counter: Callable[[], tuple[int, int]], seconds: float
) -> tuple[float, float, float, float, float, float]:
    n0, d0 = counter()
    s0, c0 = server.cpu()
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    n1, d1 = counter()
    s1, c1 = server.cpu()
    cpu1, t1 = time.process_time(), time.perf_counter()
    wall = t1 - t0
    notes = n1 - n0
    return (
        notes / wall,
        (d1 - d0) / wall,
        (cpu1 - cpu0) / wall * 100,
        (cpu1 - cpu0) / max(notes, 1) * 1e6,
        (s1 - s0) / wall * 100,
        (c1 - c0) / wall,
    )


async def _wait_for(predicate: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not warm up in time")
        await asyncio.sleep(0.1)


async def engine_run(server: BenchServer, tags: int, seconds: float, queue_size: int) -> Result:
    model = _model(tags, server.url, queue_size)
    engine = TagEngine(model)
    delivered = 0

    def listener(_value: TagValue) -> None:
        nonlocal delivered
        delivered += 1

    for name in engine.tag_names():
        engine.subscribe(name, listener)
    driver: Any = registry.create("opcua", "ua", model.connections["ua"].driver_settings())
    await engine.start({"ua": driver})
    try:
        await _wait_for(lambda: driver.notifications >= 2 * tags, 60)
        rates = await _measure(server, lambda: (driver.notifications, delivered), seconds)
    finally:
        await engine.stop()
    return Result(f"engine, queue {queue_size} per item", tags, *rates)


class _Handler:
    def __init__(self) -> None:
        self.count = 0

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.count += 1


async def bare_run(server: BenchServer, tags: int, seconds: float) -> Result:
    handler = _Handler()
    async with Client(server.url, timeout=20, watchdog_intervall=5.0) as client:
        sub = await client.create_subscription(1000, handler)
        nodes = [client.get_node(ua.NodeId(i, 2)) for i in range(1, tags + 1)]
        for start in range(0, tags, 1000):
            await sub.subscribe_data_change(nodes[start : start + 1000], sampling_interval=1000)
        await _wait_for(lambda: handler.count >= 2 * tags, 60)
        rates = await _measure(server, lambda: (handler.count, 0), seconds)
        await sub.delete()
    return Result("bare asyncua Subscription + handler", tags, rates[0], math.nan, *rates[2:])


async def run_all(tags: int = TAGS, seconds: float = SECONDS) -> list[Result]:
    server = BenchServer(tags)
    try:
        return [
            await engine_run(server, tags, seconds, queue_size=1),
            await engine_run(server, tags, seconds, queue_size=10),
            await bare_run(server, tags, seconds),
        ]
    finally:
        server.close()


def table(results: list[Result]) -> str:
    lines = [
        f"{'configuration':38} {'items':>6} {'notif/s':>9} {'changes/s':>10} {'CPU %':>6}"
        f" {'CPU s/M notif':>13} {'server CPU %':>12} {'server changes/s':>16}"
    ]
    for r in results:
        changes = "-" if math.isnan(r.changes_per_s) else f"{r.changes_per_s:,.0f}"
        lines.append(
            f"{r.name:38} {r.items:>6} {r.notifications_per_s:>9,.0f} {changes:>10}"
            f" {r.cpu_percent:>6.1f} {r.cpu_s_per_million:>13.2f} {r.server_cpu_percent:>12.1f}"
            f" {r.server_changes_per_s:>16,.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    print(
        f"OPC UA subscription: {TAGS:,} monitored items changing every second"
        " (server in its own process)"
    )
    print(table(asyncio.run(run_all())))


if __name__ == "__main__":
    main()
