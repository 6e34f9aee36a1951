"""Modbus scan throughput through the whole tag engine, against a bare pymodbus loop.

For 1,000 and 10,000 holding-register tags (uint16, scaled) on a loopback server in its own
process:
- requests per scan, counted by the server, against the minimum for the address layout;
- at a 10 Hz scan: values read per second, changes delivered to listeners per second, and CPU
  seconds of this process per million values read;
- flat out (10 ms scan class, passes back to back): the same, with several requests in flight;
- the same block reads by a bare pymodbus loop (no decoding beyond ``.registers``), side by side
  in this run, and the ratios.
Two server modes: every register changes between two reads (the worst case: every value read is
a change to deliver), and one register in ten changes (closer to a plant).
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient

from drivers import registry
from hmi_app.core.project.model import ProjectModel
from hmi_app.core.quality import TagValue
from hmi_app.runtime.engine import TagEngine

BLOCK = 125


class LoopbackServer:
    """The benchmark server process (benchmarks/loopback_server.py)."""

    def __init__(self, change_every: int = 1) -> None:
        self.change_every = change_every
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.loopback_server",
                "--change-every",
                str(change_every),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])

    @property
    def changing(self) -> str:
        return "all" if self.change_every == 1 else f"1/{self.change_every}"

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
    changing: str
    requests_per_scan: float
    minimum_requests: int
    values_per_s: float
    changes_per_s: float
    cpu_s_per_million: float


def _model(
    tags: int, scan_ms: int, port: int, connections: int = 1, in_flight: int = 1
) -> ProjectModel:
    connection = {
        "driver": "modbus-tcp",
        "host": "127.0.0.1",
        "port": port,
        "timeout_ms": 2000,
        "connections": connections,
        "max_in_flight": in_flight,
    }
    scaling = {"raw_min": 0, "raw_max": 65535, "eu_min": 0, "eu_max": 100}
    return ProjectModel.model_validate(
        {
            "schema_version": 1,
            "project": {"name": "bench"},
            "scan_classes": {"bench": scan_ms},
            "connections": {"plc": connection},
            "tags": [
                {
                    "name": f"t{i}",
                    "connection": "plc",
                    "address": f"HR{i}",
                    "type": "uint16",
                    "scan": "bench",
                    "scaling": scaling,
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
    """Scan ``tags`` through driver + engine for ``seconds``; one listener on every tag."""
    model = _model(tags, scan_ms, server.port, connections, in_flight)
    engine = TagEngine(model)
    delivered = 0

    def listener(_value: TagValue) -> None:
        nonlocal delivered
        delivered += 1

    for name in engine.tag_names():
        engine.subscribe(name, listener)
    driver = registry.create("modbus-tcp", "plc", model.connections["plc"].driver_settings())
    await engine.start({"plc": driver})
    await _wait_for(lambda: delivered >= 2 * tags, 20)  # connected and warmed up

    def passes() -> int:
        return sum(stats[0] for stats in driver.scan_stats().values())  # type: ignore[attr-defined]

    req0, n0, p0, cpu0, t0 = (
        server.requests(),
        delivered,
        passes(),
        time.process_time(),
        time.perf_counter(),
    )
    await asyncio.sleep(seconds)
    req1, n1, p1, cpu1, t1 = (
        server.requests(),
        delivered,
        passes(),
        time.process_time(),
        time.perf_counter(),
    )
    await engine.stop()
    minimum = math.ceil(tags / BLOCK)
    values = (req1 - req0) * tags / minimum  # every register of every block read is a value
    label = "engine, 10 Hz scan" if scan_ms == 100 else "engine, flat out"
    if connections > 1 or in_flight > 1:
        label += f", {connections} conn x {in_flight} in flight"
    return Result(
        label,
        tags,
        server.changing,
        (req1 - req0) / max(p1 - p0, 1),
        minimum,
        values / (t1 - t0),
        (n1 - n0) / (t1 - t0),
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
    label = "bare pymodbus, " + ("10 Hz scan" if period_s else "flat out")
    return Result(
        label,
        tags,
        server.changing,
        len(blocks),
        len(blocks),
        values / (t1 - t0),
        float("nan"),
        (cpu1 - cpu0) / max(values, 1) * 1e6,
    )


async def _wait_for(predicate: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the driver delivered no values in time")
        await asyncio.sleep(0.05)


async def run_all(seconds: float = 4.0) -> list[Result]:
    """Every configuration, side by side."""
    results: list[Result] = []
    for change_every in (1, 10):
        server = LoopbackServer(change_every)
        try:
            sizes = (1_000, 10_000) if change_every == 1 else (10_000,)
            for tags in sizes:
                results.append(await engine_run(server, tags, 100, seconds))
                if tags == 10_000:
                    results.append(await engine_run(server, tags, 100, seconds, 1, 8))
                results.append(await bare_run(server, tags, 0.1, seconds))
            flat = ((1, 1), (1, 8), (2, 4)) if change_every == 1 else ((2, 4),)
            for connections, in_flight in flat:
                results.append(
                    await engine_run(server, 10_000, 10, seconds, connections, in_flight)
                )
            results.append(await bare_run(server, 10_000, 0, seconds))
        finally:
            server.close()
    return results


def table(results: list[Result]) -> str:
    """The results as a text table, then the ratios against the matching bare loop."""
    lines = [
        f"{'configuration':40} {'tags':>6} {'changing':>8} {'req/scan':>8} {'min':>4} "
        f"{'values/s':>10} {'changes/s':>10} {'CPU s/M values':>14}"
    ]
    for r in results:
        changes = "-" if math.isnan(r.changes_per_s) else f"{r.changes_per_s:,.0f}"
        req = "-" if "flat out" in r.name else f"{r.requests_per_scan:.2f}"
        lines.append(
            f"{r.name:40} {r.tags:>6} {r.changing:>8} {req:>8} {r.minimum_requests:>4} "
            f"{r.values_per_s:>10,.0f} {changes:>10} {r.cpu_s_per_million:>14.2f}"
        )
    bare = {
        (r.tags, r.changing, "flat out" in r.name): r for r in results if r.name.startswith("bare")
    }
    lines.append("")
    for r in results:
        ref = bare.get((r.tags, r.changing, "flat out" in r.name))
        if r.name.startswith("engine") and ref is not None:
            lines.append(
                f"{r.name} ({r.tags} tags, {r.changing} changing) / {ref.name}: "
                f"CPU per value x{r.cpu_s_per_million / ref.cpu_s_per_million:.2f}, "
                f"values/s x{r.values_per_s / ref.values_per_s:.2f}"
            )
    return "\n".join(lines)


def main() -> None:
    print(
        "Modbus TCP scan: driver + tag engine vs a bare pymodbus loop (server in its own process)"
    )
    print(table(asyncio.run(run_all())))


if __name__ == "__main__":
    main()
