"""The demo as ``hmi-app run`` runs it: a working copy in the data folder (so design mode can
save), made once, kept when edited, replaced when unchanged and the shipped demo changed, and
the shipped demo run instead when the copy cannot be made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hmi_app.cli import _project_dir, main
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.project.working_demo import (
    MARKER,
    fingerprint,
    prepare_working_demo,
    working_demo_dir,
)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A stand-in for the demo a newer app ships (a copy we may change)."""
    folder = tmp_path / "shipped"
    shutil.copytree(demo_project_dir(), folder)
    return folder


def test_the_first_run_copies_the_demo_and_later_runs_reuse_it(data: Path) -> None:
    copy = prepare_working_demo()
    assert copy == working_demo_dir() == data / "demo-project"
    assert fingerprint(copy) == fingerprint(demo_project_dir())
    assert (copy / MARKER).read_text(encoding="utf-8").strip() == fingerprint(demo_project_dir())
    assert load_project(copy).model.project.name == "Demo bottling plant"
    stamp = (copy / "project.yaml").stat().st_mtime_ns
    assert prepare_working_demo() == copy
    assert (copy / "project.yaml").stat().st_mtime_ns == stamp  # not copied again


def test_an_edited_copy_is_kept_and_an_unchanged_one_follows_a_new_demo(
    data: Path, shipped: Path
) -> None:
    copy = prepare_working_demo(shipped=shipped)
    screen = copy / "screens" / "utilities.yaml"
    # a newer demo: an unchanged copy is replaced by it
    (shipped / "screens" / "utilities.yaml").write_text(
        screen.read_text(encoding="utf-8").replace("Utilities", "Utilities (new)"),
        encoding="utf-8",
    )
    assert prepare_working_demo(shipped=shipped) == copy
    assert "Utilities (new)" in screen.read_text(encoding="utf-8")
    # the supervisor edits it (backups of saves do not count as edits of their own)
    edited = screen.read_text(encoding="utf-8") + "# my change\n"
    screen.write_text(edited, encoding="utf-8")
    (copy / "screens" / ".backups").mkdir()
    (copy / "screens" / ".backups" / "utilities-1.yaml").write_text("old", encoding="utf-8")
    (shipped / "trends" / "extra.yaml").write_text(
        (shipped / "trends" / "filler.yaml").read_text(encoding="utf-8").replace(
            "name: filler", "name: extra"
        ),
        encoding="utf-8",
    )
    assert prepare_working_demo(shipped=shipped) == copy
    assert screen.read_text(encoding="utf-8") == edited  # kept as it is
    assert not (copy / "trends" / "extra.yaml").exists()


def test_run_demo_runs_the_working_copy_other_commands_the_shipped_demo(data: Path) -> None:
    assert main(["run", "demo", "--headless", "--for", "0.5"]) == 0
    copy = working_demo_dir()
    assert (copy / "project.yaml").is_file()
    assert _project_dir("demo", make_working_copy=True) == copy
    assert _project_dir("demo") == demo_project_dir()  # check, read, write, set-pin …
    assert _project_dir("plant") == Path("plant")


def test_without_a_writable_data_folder_the_shipped_demo_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be", encoding="utf-8")
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(blocked))
    assert _project_dir("demo", make_working_copy=True) == demo_project_dir()
    assert "running the shipped (read-only) demo" in capsys.readouterr().err
