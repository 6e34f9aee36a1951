"""Fixtures for end-to-end tests: the operator window on a real runtime against real servers.

Servers that live in their own process (the cpppo Logix simulator, socat's serial pair) are
started here; servers that run on the asyncio loop (asyncua, pymodbus) are started by the test on
the qasync loop, where the window and the runtime run too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.support.cpppo_sim import CpppoServer, running
from tests.support.opcua_server import CertPair, make_cert
from tests.support.serial_rtu import SerialPair, have_socat

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LOGIX_TAGS = ["PartCount=DINT", "OvenTemp=REAL", "Mode=DINT"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: end-to-end: the operator window on real servers (select with -m e2e)"
    )


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop driven by Qt, as in the application."""
    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()


@pytest.fixture
def ua_cert(tmp_path: Path) -> CertPair:
    """The OPC UA server's certificate (the project trusts it by a copy in pki/trusted/)."""
    return make_cert(tmp_path / "server-cert", "e2e-plant-server", "urn:hmi-app:test-server")


@pytest.fixture
def logix_sim() -> Iterator[CpppoServer]:
    """A Logix simulator on a free port, killed after the test whatever happened."""
    with running(LOGIX_TAGS) as server:
        yield server


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[SerialPair]:
    """A virtual serial pair (socat), ended after the test whatever happened."""
    if not have_socat():  # installer/linux/system-deps.sh installs it
        pytest.skip("socat is needed for the virtual serial pair")
    folder = tmp_path / "tty"
    folder.mkdir()
    pair = SerialPair(folder)
    pair.start()
    try:
        yield pair
    finally:
        pair.kill()


@pytest.fixture
def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``$HMI_E2E_SHOTS`` (e.g. the repository's git-ignored ``shots/``),
    else the test's temporary folder."""
    folder = Path(os.environ.get("HMI_E2E_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
