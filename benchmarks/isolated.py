"""Run one case of a GUI benchmark in a fresh offscreen process, so cases cannot slow each other
(leftover Qt objects, a grown heap), and read back the JSON line it prints last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def run_case(module: str, case: str, seconds: float, *, grace: float = 120) -> dict[str, Any]:
    """``python -m module --case case --seconds seconds`` offscreen; its last stdout line as a
    dict. ``grace``: seconds allowed beyond ``seconds`` for start-up and set-up."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", module, "--case", case, "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=seconds + grace,
    )
    if out.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
