"""``python -m hmi_app.plant``: serves a plant standalone and stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hmi_app.plant", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_signalled(sig: signal.Signals) -> None:
    proc = _spawn("bottling_line", "--port", "0", "--seed", "3")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"serving Modbus TCP on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        client = ModbusTcpClient("127.0.0.1", port=int(match.group(1)), timeout=2, retries=0)
        try:
            assert client.connect()
            rr = client.read_holding_registers(20, count=8, device_id=1)
            assert not rr.isError()
            name = ModbusTcpClient.convert_from_registers(
                rr.registers, ModbusTcpClient.DATATYPE.STRING
            )
            assert name == "LINE 1 BOTTLING"
        finally:
            client.close()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "bottling_line stopped" in out
    assert "Traceback" not in err


def test_unknown_plant_is_a_clear_error() -> None:
    proc = _spawn("brewery")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "error: unknown simulated plant 'brewery'; known: bottling_line" in err
