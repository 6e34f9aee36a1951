"""Guards against the PySide6 6.12.0 + Python 3.11 crash (``none_dealloc`` after a few thousand
``setText`` calls): a QLabel takes 20,000 changing texts in a fresh interpreter without dying."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
label.show()
for i in range(20_000):
    label.setText(f"value {i} {i * 0.1:.1f}")
    if i % 500 == 0:
        app.processEvents()
app.processEvents()
print("done", label.text())
"""


def test_label_survives_many_set_text_calls() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert "Fatal Python error" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]
    assert "done value 19999 1999.9" in result.stdout
