"""A cpppo EtherNet/IP (Logix) simulator in its own process on a free loopback port; ``kill``
and ``start`` again keep the port, as a controller that is power-cycled keeps its address."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

_BOUND = re.compile(r"\('127\.0\.0\.1', (\d+)\)")


class CpppoServer:
    """``python -m cpppo.server.enip`` with ``tags`` (``Name=TYPE`` or ``Name=TYPE[n]``)."""

    def __init__(self, tags: Sequence[str]) -> None:
        self.tags = list(tags)
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, within_s: float = 15.0) -> None:
        """Start the simulator (on the same port as before, once it had one)."""
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
        deadline = time.monotonic() + within_s
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
            proc.stdout.close()
            if time.monotonic() > deadline:  # the old socket may linger a moment after a kill
                raise RuntimeError(f"cpppo did not start: {line!r}")
            time.sleep(0.2)

    def kill(self) -> None:
        """End the simulator at once (the controller loses power)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@contextmanager
def running(tags: Sequence[str]) -> Iterator[CpppoServer]:
    """A started simulator with ``tags``, killed on leaving the block whatever happened."""
    server = CpppoServer(tags)
    server.start()
    try:
        yield server
    finally:
        server.kill()
