"""The operator window closes cleanly on Ctrl+C and SIGTERM, like a click on the close button."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_closes_the_window_and_stops_the_runtime(tmp_path: Path, sig: int) -> None:
    log = tmp_path / "hmi-app.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hmi_app", "run", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HMI_APP_LOG_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while "link line1_plc: connected" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the window's runtime did not connect"
            time.sleep(0.1)
        time.sleep(0.5)  # the window is up and flushing values
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "link line1_plc: stopped" in log.read_text()
