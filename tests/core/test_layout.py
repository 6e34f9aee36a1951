"""The generic top-level package names resolve to this project's packages, not to namesakes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import hmi_app

PROJECT_ROOT = Path(hmi_app.__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["drivers", "widgets", "screens", "resources", "hmi_app"])
def test_top_level_package_is_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == PROJECT_ROOT / name


def test_demo_project_ships_with_the_resources() -> None:
    from hmi_app.core.project.loader import demo_project_dir

    demo = demo_project_dir()
    assert (demo / "project.yaml").is_file()
    assert (demo / "screens" / "overview.yaml").is_file()
