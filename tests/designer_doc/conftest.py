"""Fixtures for the designer document tests: a Qt application (the undo stack is Qt's) and a
copy of the demo project to edit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
DEMO_SCREENS = sorted((DEMO / "screens").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> Iterator[None]:
    yield


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo project (project.yaml and screens/) in a temporary folder."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target)
    return target
