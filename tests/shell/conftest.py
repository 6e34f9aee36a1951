"""Fixtures for shell tests: a qasync loop on the test's QApplication."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop driven by Qt, as in the application (writes run on it)."""
    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()
