"""Fixtures for the Logix driver tests: the cpppo EtherNet/IP (Logix) simulator of
``tests.support.cpppo_sim`` (its own process on a free loopback port, restartable on the same
port), and a recorder for what a driver publishes and reports about its link.

cpppo serves Read Tag (0x4C), Read Tag Fragmented (0x52), Write Tag (0x4D), Write Tag Fragmented
(0x53) and Multiple Service Packet (0x0A) on symbolic paths; a dotted name such as
``Udt.Member`` or ``Program:Main.Count`` is one tag to it. It has no tag list upload (Get Instance
Attribute List, 0x55) and no UDT templates, so the driver runs on the project's declarations.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from drivers.base import PointSpec
from drivers.logix.driver import Backoff, LogixDriver
from tests.support.cpppo_sim import CpppoServer, running
from tests.support.recording import Recorder, StartedDrivers

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


@pytest.fixture(scope="module")
def cpppo_server() -> Iterator[CpppoServer]:
    """One simulator for a test module (starting one takes about half a second)."""
    with running([*BASE_TAGS, *(f"M{i}=DINT" for i in range(MANY))]) as server:
        yield server


@pytest.fixture
def own_server() -> Iterator[CpppoServer]:
    """A simulator of this test's own, which it may kill and restart."""
    with running(BASE_TAGS) as server:
        yield server


FAST_BACKOFF = Backoff(first_s=0.05, max_s=0.3, stable_s=1.0)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


MakeDriver = Callable[..., Awaitable[LogixDriver]]


@pytest.fixture
async def make_driver(recorder: Recorder) -> AsyncIterator[MakeDriver]:
    """Starts drivers (fast backoff, short timeout) against a server; stops them after."""
    drivers = StartedDrivers(recorder)

    async def make(
        server: CpppoServer, points: Sequence[PointSpec] = (), **settings: Any
    ) -> LogixDriver:
        settings.setdefault("host", "127.0.0.1")
        settings.setdefault("port", server.port)
        settings.setdefault("timeout_ms", 500)
        settings.setdefault("init_tags", False)
        driver = LogixDriver("plc", LogixDriver.Settings(**settings), backoff=FAST_BACKOFF)
        return await drivers.start(driver, points)

    yield make
    await drivers.stop_all()


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
    with contextlib.ExitStack() as servers:
        yield lambda tags: servers.enter_context(running(tags))
