"""Fixtures for the Logix driver tests: a cpppo EtherNet/IP (Logix) simulator in its own
process on a free loopback port, restartable on the same port, and a recorder for what a driver
publishes and reports about its link.

cpppo serves Read Tag (0x4C), Read Tag Fragmented (0x52), Write Tag (0x4D), Write Tag Fragmented
(0x53) and Multiple Service Packet (0x0A) on symbolic paths; a dotted name such as
``Udt.Member`` or ``Program:Main.Count`` is one tag to it. It has no tag list upload (Get Instance
Attribute List, 0x55) and no UDT templates, so the driver runs on the project's declarations.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.base import LinkState, PointSpec, Sample
from drivers.logix.driver import Backoff, LogixDriver
from hmi_app.core.quality import Quality

BASE_TAGS = [
    "B=BOOL",
    "S=SINT",
    "I=INT",
    "D=DINT",
    "L=LINT",
    "R=REAL",
    "LR=LREAL",
    "US=USINT",
    "UI=UINT",
    "UD=UDINT",
    "UL=ULINT",
    "Str=STRING",
    "Arr=REAL[10]",
    "DArr=DINT[20]",
    "Udt.Member=DINT",
    "Udt.Speed=REAL",
    "Program:Main.Count=DINT",
    "DupTag=DINT",
]
MANY = 300  # M0..M299, DINT each, for the packing test
_BOUND = re.compile(r"\('127\.0\.0\.1', (\d+)\)")


class CpppoServer:
    """``python -m cpppo.server.enip`` in a subprocess; ``stop``/``start`` keep the port."""

    def __init__(self, tags: Sequence[str]) -> None:
        self.tags = list(tags)
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "cpppo.server.enip",
            "--no-config",
            "--no-udp",
            "--address-output",
            "-a",
            f"127.0.0.1:{self.port}",
            *self.tags,
        ]
        deadline = time.monotonic() + 15
        while True:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = _BOUND.search(line)
            if match:
                self.port = int(match.group(1))
                self.proc = proc
                return
            proc.kill()
            proc.wait()
            if time.monotonic() > deadline:  # the old socket may linger a moment after a kill
                raise RuntimeError(f"cpppo did not start: {line!r}")
            time.sleep(0.2)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.fixture(scope="module")
def cpppo_server() -> Iterator[CpppoServer]:
    """One simulator for a test module (starting one takes about half a second)."""
    server = CpppoServer([*BASE_TAGS, *(f"M{i}=DINT" for i in range(MANY))])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_server() -> Iterator[CpppoServer]:
    """A simulator of this test's own, which it may kill and restart."""
    server = CpppoServer(BASE_TAGS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


FAST_BACKOFF = Backoff(first_s=0.05, max_s=0.3, stable_s=1.0)


@dataclass
class Recorder:
    """Collects published samples and link changes; ``wait_for`` polls a condition."""

    samples: list[Sample] = field(default_factory=list)
    batches: int = 0
    links: list[tuple[LinkState, str]] = field(default_factory=list)
    latest: dict[str, Sample] = field(default_factory=dict)
    on_batch: Callable[[], None] | None = None  # called after each batch (to take counts)

    def publish(self, samples: Sequence[Sample]) -> None:
        self.batches += 1
        if self.on_batch is not None:
            self.on_batch()
        for sample in samples:
            self.samples.append(sample)
            self.latest[sample.key] = sample

    def on_link(self, state: LinkState, detail: str) -> None:
        self.links.append((state, detail))

    def value(self, key: str) -> Any:
        sample = self.latest[key]
        assert sample.quality is Quality.GOOD, f"{key}: {sample.quality.name} {sample.reason}"
        return sample.value

    def good(self, *keys: str) -> bool:
        return all(k in self.latest and self.latest[k].quality is Quality.GOOD for k in keys)

    def bad(self, *keys: str) -> bool:
        return all(k in self.latest and self.latest[k].quality is Quality.BAD for k in keys)

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> float:
        """Seconds until ``condition()`` held; fails the test after ``within`` seconds."""
        start = time.monotonic()
        while not condition():
            if time.monotonic() - start > within:
                pytest.fail(f"condition not met within {within} s; latest: {self.latest}")
            await asyncio.sleep(0.01)
        return time.monotonic() - start


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


MakeDriver = Callable[..., Awaitable[LogixDriver]]


@pytest.fixture
async def make_driver(recorder: Recorder) -> AsyncIterator[MakeDriver]:
    """Starts drivers (fast backoff, short timeout) against a server; stops them after."""
    started: list[LogixDriver] = []

    async def make(
        server: CpppoServer, points: Sequence[PointSpec] = (), **settings: Any
    ) -> LogixDriver:
        settings.setdefault("host", "127.0.0.1")
        settings.setdefault("port", server.port)
        settings.setdefault("timeout_ms", 500)
        settings.setdefault("init_tags", False)
        driver = LogixDriver("plc", LogixDriver.Settings(**settings), backoff=FAST_BACKOFF)
        driver.subscribe(points)
        started.append(driver)
        await driver.start(recorder.publish, recorder.on_link)
        return driver

    yield make
    for driver in started:
        await driver.stop()


class TagListProxy:
    """``tag_list_proxy.py`` in a subprocess: cpppo plus a tag list upload (see that file)."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def set(self, upstream: CpppoServer, tags: dict[str, tuple[str, list[int]]]) -> None:
        """Serve ``upstream`` with this tag list (written at once; read on every frame)."""
        temp = self.config.with_suffix(".tmp")
        temp.write_text(json.dumps({"upstream": upstream.port, "tags": tags}))
        temp.replace(self.config)

    def start(self) -> None:
        script = Path(__file__).with_name("tag_list_proxy.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"tag list proxy did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def tag_list_proxy(tmp_path: Path) -> Iterator[TagListProxy]:
    proxy = TagListProxy(tmp_path / "proxy.json")
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def cpppo_factory() -> Iterator[Callable[[Sequence[str]], CpppoServer]]:
    """Starts simulators with the given tags; stops them after the test."""
    servers: list[CpppoServer] = []

    def make(tags: Sequence[str]) -> CpppoServer:
        server = CpppoServer(tags)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
