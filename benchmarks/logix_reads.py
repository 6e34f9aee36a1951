"""Logix multi-tag reads: 1,000 DINT tags from a cpppo Logix simulator in its own process.

Rows (one run, side by side):
- pycomm3 multi-tag read: ``read(*1000 tags)`` packed into multi-service packets by size, the
  way the driver reads a scan class (one call to the controller thread per pass);
- the same with at most 50 tags per read (``max_tags_per_read: 50``);
- one read per tag (1,000 requests per pass), what a naive poller does;
- the driver, flat out: ``LogixDriver`` scanning the 1,000 tags (1 ms scan class, passes back to
  back) and publishing to a callback, with its worker thread and event loop in the path.
Reported: request packets per pass, tags read per second, and this process's CPU seconds per
thousand tags. The simulator is pure Python: it, not the client, bounds the rates, so compare
the ratios; a real controller answers a multi-service packet in a few milliseconds.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from drivers.base import PointSpec, Sample
from drivers.logix import address as addr
from drivers.logix.driver import LogixDriver
from drivers.logix.plc import Controller
from hmi_app.core.datatypes import DataType

TAGS = 1000
WINDOW_S = 3.0


class Simulator:
    """``python -m cpppo.server.enip`` with ``TAGS`` DINT tags on a free loopback port."""

    def __init__(self, tags: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cpppo.server.enip",
                "--no-config",
                "--no-udp",
                "--address-output",
                "-a",
                "127.0.0.1:0",
                *(f"T{i}=DINT" for i in range(tags)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"\('127\.0\.0\.1', (\d+)\)", line)
        if not match:
            self.close()
            raise RuntimeError(f"cpppo did not start: {line!r}")
        self.port = int(match.group(1))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _points() -> list[PointSpec]:
    return [PointSpec(f"t{i}", f"T{i}", DataType.INT32, scan_ms=1) for i in range(TAGS)]


def _controller(port: int, points: Sequence[PointSpec]) -> Controller:
    ctl = Controller(f"127.0.0.1:{port}/0", timeout_s=10.0, init_tags=False)
    table, _errors = addr.declare([(p, addr.validate(p)) for p in points])
    ctl.declare(table)
    ctl.open()
    return ctl


def _measure(ctl: Controller, one_pass: Callable[[], int]) -> tuple[float, float, float]:
    """(packets per pass, tags/s, CPU s per 1000 tags) over WINDOW_S."""
    passes = 0
    tags = 0
    packets = ctl.packets
    cpu, start = time.process_time(), time.perf_counter()
    while time.perf_counter() - start < WINDOW_S or passes < 1:
        tags += one_pass()
        passes += 1
    elapsed = time.perf_counter() - start
    used = time.process_time() - cpu
    return (ctl.packets - packets) / passes, tags / elapsed, used / tags * 1000


def bench_direct(port: int) -> list[tuple[str, float, float, float]]:
    points = _points()
    requests = [p.address for p in points]
    ctl = _controller(port, points)
    rows: list[tuple[str, float, float, float]] = []
    try:

        def multi() -> int:
            results, _ts = ctl.read(requests)
            assert all(r.error is None for r in results), results[0]
            return len(results)

        def chunked() -> int:
            done = 0
            for start in range(0, len(requests), 50):
                part, _ts = ctl.read(requests[start : start + 50])
                done += len(part)
            return done

        def single() -> int:
            for request in requests:
                ctl.read([request])
            return len(requests)

        rows.append(("pycomm3 multi-tag read", *_measure(ctl, multi)))
        rows.append(("pycomm3, at most 50 tags per read", *_measure(ctl, chunked)))
        rows.append(("one read per tag", *_measure(ctl, single)))
    finally:
        ctl.close()
    return rows


async def bench_driver(port: int, passes: int = 3) -> tuple[str, float, float, float]:
    """Timed between the ends of full passes (a pass takes seconds on the simulator)."""
    driver = LogixDriver(
        "bench",
        LogixDriver.Settings(host="127.0.0.1", port=port, timeout_ms=10000, init_tags=False),
    )
    driver.subscribe(_points())
    marks: list[tuple[float, float, int, int]] = []  # (wall, cpu, packets, values) per pass
    enough = asyncio.Event()

    def publish(samples: Sequence[Sample]) -> None:
        done = (marks[-1][3] if marks else 0) + len(samples)
        marks.append((time.perf_counter(), time.process_time(), driver.controller.packets, done))
        if len(marks) > passes:  # the first pass ends the connecting
            enough.set()

    await driver.start(publish, lambda _state, _detail: None)
    try:
        await asyncio.wait_for(enough.wait(), 120)
    finally:
        await driver.stop()
    (wall0, cpu0, packets0, values0), (wall1, cpu1, packets1, values1) = marks[0], marks[-1]
    values = values1 - values0
    return (
        "driver scan, flat out",
        (packets1 - packets0) / passes,
        values / (wall1 - wall0),
        (cpu1 - cpu0) / values * 1000,
    )


def main() -> None:
    sim = Simulator(TAGS)
    try:
        rows = bench_direct(sim.port)
        rows.append(asyncio.run(bench_driver(sim.port)))
    finally:
        sim.close()
    print(f"\nLogix reads of {TAGS:,} DINT tags from a cpppo simulator (own process)\n")
    print("| configuration | packets/pass | tags/s | CPU s per 1000 tags |")
    print("| --- | --- | --- | --- |")
    for name, per_pass, rate, cpu in rows:
        print(f"| {name} | {per_pass:,.1f} | {rate:,.0f} | {cpu:.3f} |")
    multi, single = rows[0][2], rows[2][2]
    print(f"\nmulti-tag reads are {multi / single:.1f}x one read per tag")


if __name__ == "__main__":
    main()
