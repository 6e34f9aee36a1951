"""Logging set-up: pymodbus and the audit trail reach the log file, never the console."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymodbus.logging import Log

from hmi_app import logging_setup


@pytest.fixture
def clean_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A root logger without our handlers, logs in ``tmp_path``; everything restored after."""
    monkeypatch.setenv("HMI_APP_LOG_DIR", str(tmp_path))
    root, pymodbus = logging.getLogger(), logging.getLogger("pymodbus")
    saved_root = (root.level, list(root.handlers))
    saved_pymodbus = (pymodbus.level, pymodbus.propagate, list(pymodbus.handlers))
    root.handlers = [h for h in root.handlers if not getattr(h, "_hmi_app", False)]
    yield tmp_path
    for handler in root.handlers:
        if getattr(handler, "_hmi_app", False):
            handler.close()
    root.setLevel(saved_root[0])
    root.handlers = saved_root[1]
    pymodbus.setLevel(saved_pymodbus[0])
    pymodbus.propagate = saved_pymodbus[1]
    pymodbus.handlers = saved_pymodbus[2]


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_pymodbus_warnings_go_to_the_file_and_not_the_console(
    clean_logging: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = logging_setup.setup_logging()
    assert path == clean_logging / "hmi-app.log"
    Log.transport_dump(Log.SEND_DATA, b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x01", b"")
    Log.warning("ERROR: received pdu without a corresponding request, IGNORING")
    Log.error("Cancel send, because not connected!")
    Log.info("connected to {}", "127.0.0.1")  # below WARNING: nowhere
    logging.getLogger("hmi_app.test").warning("our own warning")
    _flush()
    text = path.read_text(encoding="utf-8")
    assert "WARNING pymodbus.logging: ERROR: received pdu without a corresponding request" in text
    assert "ERROR   pymodbus.logging: Cancel send, because not connected!" in text
    assert "send: 0x0 0x1" in text  # the frame dump pymodbus appends to errors stays in the file
    assert "connected to 127.0.0.1" not in text
    assert "our own warning" in text
    err = capfd.readouterr().err
    assert "our own warning" in err
    assert "pymodbus" not in err and "received pdu" not in err and "0x0" not in err


def test_the_audit_trail_is_in_the_file_only(
    clean_logging: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = logging_setup.setup_logging()
    assert path is not None
    logging.getLogger("hmi.audit").warning("write refused user=u tag=t value='9': too big")
    logging.getLogger("hmi.audit.sub").warning("child of the audit logger")
    logging.getLogger("hmi.auditor").warning("not the audit logger")
    _flush()
    text = path.read_text(encoding="utf-8")
    assert "write refused user=u tag=t" in text and "child of the audit logger" in text
    err = capfd.readouterr().err
    assert "write refused" not in err and "child of the audit logger" not in err
    assert "not the audit logger" in err


def test_set_up_once_and_routing_replaces_its_handler(clean_logging: Path) -> None:
    assert logging_setup.setup_logging() is not None
    assert logging_setup.setup_logging() is None  # second call: nothing added
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_hmi_app", False)]
    assert len(ours) == 2
    logging_setup.route_pymodbus(None)
    logging_setup.route_pymodbus(None)
    pymodbus = logging.getLogger("pymodbus")
    routed = [h for h in pymodbus.handlers if getattr(h, "_hmi_app_pymodbus", False)]
    assert len(routed) == 1 and isinstance(routed[0], logging.NullHandler)
    assert pymodbus.level == logging.WARNING and not pymodbus.propagate


def test_an_unwritable_log_folder_is_a_warning_not_a_crash(
    tmp_path: Path, clean_logging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HMI_APP_LOG_DIR", str(blocker / "logs"))
    assert logging_setup.setup_logging() is None
    assert not logging.getLogger("pymodbus").propagate
