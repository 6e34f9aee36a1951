"""Trend view tests: offscreen Qt with a qasync loop (history fetches run on it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop driven by Qt, as in the application (history fetches run on it)."""
    loop = qasync.QEventLoop(qapp)
    yield loop
    loop.close()
