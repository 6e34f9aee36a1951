"""Modbus scan throughput through the whole tag engine, against a bare pymodbus loop.

For 1,000 and 10,000 holding-register tags on a loopback server (in its own process):
- requests per scan, counted by the server, against the minimum for the address layout;
- at a 10 Hz scan: values/s delivered to listeners and CPU seconds per million values;
- flat out: values/s with 1, 2 and 4 connections (pymodbus serialises requests on one connection);
- the same block reads done by a bare pymodbus loop (no decoding beyond ``.registers``), and the
  ratios, measured side by side in this run.
The server's registers change on every request, so every value read is a change to deliver.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from drivers import registry
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import TagValue
from hmi_app.runtime.engine import TagEngine

BLOCK = 125


class LoopbackServer:
    """The benchmark server process (benchmarks/loopback_server.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.loopback_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])

    def requests(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@dataclass
class Result:
    """One measured configuration."""

    name: str
    tags: int
    requests_per_scan: float
    minimum_requests: int
    values_per_s: float
    cpu_s_per_million: float


def _model(
    tags: int, scan_ms: int, port: int, connections: int, in_flight: int = 1
) -> ProjectModel:
    return ProjectModel.model_validate(
        {
            "schema_version": 1,
            "project": {"name": "bench"},
            "scan_classes": {"bench": scan_ms},
            "connections": {
                "plc": {
                    "driver": "modbus-tcp",
                    "host": "127.0.0.1",
                    "port": port,
                    "timeout_ms": 2000,
                    "connections": connections,
                }
            },
            "tags": [
                {
                    "name": f"t{i}",
                    "connection": "plc",
                    "address": f"HR{i}",
                    "type": "uint16",
                    "scan": "bench",
                    "scaling": {"raw_min": 0, "raw_max": 65535, "eu_min": 0, "eu_max": 100},
                }
                for i in range(tags)
            ],
        }
    )


async def engine_run(
    server: LoopbackServer,
    tags: int,
    scan_ms: int,
    seconds: float,
    connections: int = 1,
    in_flight: int = 1,
) -> Result:
    """Scan ``tags`` through driver + engine for ``seconds``; count values reaching listeners."""
    model = _model(tags, scan_ms, server.port, connections, in_flight)
    engine = TagEngine(model)
    delivered = 0

    def listener(_value: TagValue) -> None:
        nonlocal delivered
        delivered += 1

    for name in engine.tag_names():
        engine.subscribe(name, listener)
    settings = model.connections["plc"].driver_settings()
    driver = registry.create("modbus-tcp", "plc", settings)
    await engine.start({"plc": driver})
    await _wait_for(lambda: delivered >= 2 * tags, 20)  # connected and warmed up
    req0, n0, cpu0, t0 = server.requests(), delivered, time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    req1, n1, cpu1, t1 = server.requests(), delivered, time.process_time(), time.perf_counter()
    await engine.stop()
    values = n1 - n0
    minimum = math.ceil(tags / BLOCK)
    scans = (req1 - req0) / minimum if minimum else 0
    label = f"engine {scan_ms} ms scan"
    if connections > 1 or in_flight > 1:
        label += f", {connections} conn x {in_flight} in flight"
    return Result(
        label,
        tags,
        (req1 - req0) / max(scans, 1) if scan_ms >= 100 else float("nan"),
        minimum,
        values / (t1 - t0),
        (cpu1 - cpu0) / max(values, 1) * 1e6,
    )


async def bare_run(server: LoopbackServer, tags: int, period_s: float, seconds: float) -> Result:
    """The same block reads with a bare pymodbus client; ``period_s`` 0 means flat out."""
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=2, retries=0)
    await client.connect()
    blocks = [(start, min(BLOCK, tags - start)) for start in range(0, tags, BLOCK)]
    values = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    deadline = t0 + seconds
    next_scan = t0
    while time.perf_counter() < deadline:
        for start, count in blocks:
            reply = await client.read_holding_registers(start, count=count, device_id=1)
            values += len(reply.registers)
        if period_s:
            next_scan += period_s
            await asyncio.sleep(max(0.0, next_scan - time.perf_counter()))
    cpu1, t1 = time.process_time(), time.perf_counter()
    client.close()
    label = "bare pymodbus " + (f"{period_s * 1000:.0f} ms scan" if period_s else "flat out")
    return Result(
        label,
        tags,
        len(blocks),
        len(blocks),
        values / (t1 - t0),
        (cpu1 - cpu0) / max(values, 1) * 1e6,
    )


async def _wait_for(predicate: Any, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the driver delivered no values in time")
        await asyncio.sleep(0.05)


async def run_all(seconds: float = 4.0) -> list[Result]:
    """Every configuration, side by side against one server process."""
    server = LoopbackServer()
    results: list[Result] = []
    try:
        for tags in (1_000, 10_000):
            results.append(await engine_run(server, tags, 100, seconds))
            results.append(await bare_run(server, tags, 0.1, seconds))
        for connections, in_flight in ((1, 1), (1, 8), (2, 4)):
            results.append(await engine_run(server, 10_000, 10, seconds, connections, in_flight))
        results.append(await bare_run(server, 10_000, 0, seconds))
    finally:
        server.close()
    return results


def table(results: list[Result]) -> str:
    """The results as a text table, with ratios against the bare loop of the same size and mode."""
    lines = [
        f"{'configuration':34} {'tags':>6} {'req/scan':>8} {'min':>4} {'values/s':>11} "
        f"{'CPU s/M values':>14}"
    ]
    for r in results:
        req = "-" if math.isnan(r.requests_per_scan) else f"{r.requests_per_scan:.2f}"
        lines.append(
            f"{r.name:34} {r.tags:>6} {req:>8} {r.minimum_requests:>4} {r.values_per_s:>11,.0f} "
            f"{r.cpu_s_per_million:>14.2f}"
        )
    bare = {(r.tags, "flat" in r.name): r for r in results if r.name.startswith("bare")}
    lines.append("")
    for r in results:
        if r.name.startswith("engine"):
            ref = bare.get((r.tags, "10 ms" in r.name))
            if ref:
                lines.append(
                    f"{r.name} / {ref.name} ({r.tags} tags): CPU per value x"
                    f"{r.cpu_s_per_million / ref.cpu_s_per_million:.2f}, "
                    f"values/s x{r.values_per_s / ref.values_per_s:.2f}"
                )
    return "\n".join(lines)


def main() -> None:
    print("Modbus TCP scan: tag engine vs bare pymodbus (loopback server in its own process)")
    print(table(asyncio.run(run_all())))


if __name__ == "__main__":
    main()
