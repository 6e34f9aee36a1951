"""Log to the console and to a rotating file in the platform's log folder.

``HMI_APP_LOG_DIR`` overrides the folder (tests, services with their own layout).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def log_dir() -> Path:
    override = os.environ.get("HMI_APP_LOG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_log_dir("hmi-app", appauthor=False))


def setup_logging(level: int = logging.INFO, console_level: int = logging.WARNING) -> Path | None:
    """Attach the console and file handlers to the root logger once; return the log file path."""
    root = logging.getLogger()
    if any(getattr(h, "_hmi_app", False) for h in root.handlers):
        return None
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    console._hmi_app = True  # type: ignore[attr-defined]
    root.addHandler(console)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    path = log_dir() / "hmi-app.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        root.warning("cannot write the log file %s: %s", path, exc)
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler._hmi_app = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return path
