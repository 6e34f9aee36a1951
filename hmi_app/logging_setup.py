"""Log to the console and to a rotating file in the platform's log folder.

``HMI_APP_LOG_DIR`` overrides the folder (tests, services with their own layout).

The console shows our warnings only. asyncua and pycomm3 records (WARNING and up) go to the file
alone, and so do two other kinds of records: the audit trail
(``hmi.audit``; a refused write is already reported to whoever made it) and pymodbus, whose own
``Log`` class appends raw frame dumps to its errors and whose client complains about every late
reply. pymodbus records at WARNING and above reach the file; they never propagate to the root
logger, so neither the console nor a test run's captured output fills with them.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
AUDIT_LOGGER = "hmi.audit"
# Libraries that log every link loss with a traceback: their records go to the file only (the
# operator sees the link state in the header; the engineer reads the details in the file).
FILE_ONLY_LIBRARIES = ("asyncua", "pycomm3")
PYMODBUS_LOGGER = "pymodbus"
PYMODBUS_LEVEL = logging.WARNING


def log_dir() -> Path:
    """The folder of ``hmi-app.log``: ``HMI_APP_LOG_DIR`` or the platform's user log folder."""
    override = os.environ.get("HMI_APP_LOG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_log_dir("hmi-app", appauthor=False))


class _NotFor(logging.Filter):
    """Drops the records of one logger and its children (kept for other handlers)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name
        self._prefix = name + "."

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == self._name or record.name.startswith(self._prefix))


def setup_logging(level: int = logging.INFO, console_level: int = logging.WARNING) -> Path | None:
    """Attach the console and file handlers to the root logger once; return the log file path."""
    root = logging.getLogger()
    if any(getattr(h, "_hmi_app", False) for h in root.handlers):
        return None
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    console.addFilter(_NotFor(AUDIT_LOGGER))
    for library in FILE_ONLY_LIBRARIES:
        console.addFilter(_NotFor(library))
        logging.getLogger(library).setLevel(logging.WARNING)
    console._hmi_app = True  # type: ignore[attr-defined]
    root.addHandler(console)
    path = log_dir() / "hmi-app.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        root.warning("cannot write the log file %s: %s", path, exc)
        route_pymodbus(None)
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler._hmi_app = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    route_pymodbus(handler)
    return path


def route_pymodbus(file_handler: logging.Handler | None) -> None:
    """Send pymodbus' WARNING and above to ``file_handler`` only (nowhere if None).

    pymodbus logs through ``logging.getLogger("pymodbus.logging")``, a child of "pymodbus": the
    level and handler set here cover it. Calling this again replaces the handler set before.
    """
    logger = logging.getLogger(PYMODBUS_LOGGER)
    logger.setLevel(PYMODBUS_LEVEL)
    logger.propagate = False
    for old in [h for h in logger.handlers if getattr(h, "_hmi_app_pymodbus", False)]:
        logger.removeHandler(old)
    handler = file_handler if file_handler is not None else logging.NullHandler()
    handler._hmi_app_pymodbus = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
