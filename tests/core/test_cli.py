"""The ``hmi-app`` command as a user meets it: located errors, readable reads, quiet Ctrl+C.

Run in subprocesses, like a user would; reads go through the real demo plant over Modbus TCP.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hmi_app.core.project.loader import demo_project_dir

HMI = [sys.executable, "-m", "hmi_app"]


def hmi(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HMI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def broken_demo(tmp_path: Path) -> Path:
    """A copy of the demo with a bad address and a screen bound to a misspelt tag."""
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    project = folder / "project.yaml"
    text = project.read_text(encoding="utf-8")
    assert "address: IR10, type: float32" in text
    project.write_text(text.replace("address: IR10, type: float32", "address: IX10, type: float32"))
    screen = folder / "screens" / "overview.yaml"
    text = screen.read_text(encoding="utf-8")
    assert "bind: {value: line1.fault_code}" in text
    screen.write_text(text.replace("{value: line1.fault_code}", "{value: line1.falt_code}"))
    return folder


def test_check_names_each_file_from_the_working_folder(broken_demo: Path) -> None:
    result = hmi("check", "plant", cwd=broken_demo.parent)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    address_line = _line_of(broken_demo / "project.yaml", "address: IX10")
    bind_line = _line_of(broken_demo / "screens" / "overview.yaml", "line1.falt_code")
    assert lines[0].startswith(
        f"plant/project.yaml:{address_line}: tags[10].address: 'IX10' is not a Modbus"
    )
    assert lines[1] == (
        f"plant/screens/overview.yaml:{bind_line}: widgets[2].bind.value: unknown tag "
        "'line1.falt_code' (did you mean line1.fault_code?)"
    )
    assert lines[2] == "2 problems found"
    elsewhere = hmi("check", str(broken_demo), cwd=Path("/"))
    assert elsewhere.stderr.startswith(f"{broken_demo}/project.yaml:{address_line}: ")


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_yaml_syntax_error_is_located_without_a_traceback(broken_demo: Path) -> None:
    project = broken_demo / "project.yaml"
    project.write_text(project.read_text().replace("fast: 100", "fast: [100"))
    for command in (["check"], ["run", "--headless", "--for", "1"], ["read"]):
        args = [*command[:1], str(broken_demo), *command[1:]]
        if command == ["read"]:
            args.append("line1.state")
        result = hmi(*args)
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert re.search(r"project\.yaml:1[12]: YAML syntax: ", result.stderr), result.stderr
        assert result.stderr.rstrip().endswith("1 problem found")


def test_check_of_the_demo_says_demo() -> None:
    result = hmi("check", "demo")
    assert result.returncode == 0 and result.stdout.startswith("demo: ok ("), result
    assert "tags (25 recorded)" in result.stdout and "3 saved trends" in result.stdout


def test_unknown_tags_get_suggestions() -> None:
    result = hmi("read", "demo", "line1.filler.sped", "line1.state", "zzz")
    assert result.returncode == 1
    first, second = result.stderr.splitlines()
    assert first.startswith(
        "unknown tag 'line1.filler.sped' (did you mean line1.filler.speed or "
        "line1.filler.speed_sp or "
    )
    assert second == "unknown tag 'zzz'"
    write = hmi("write", "demo", "line1.start_cmnd", "1")
    assert write.returncode == 1 and "did you mean line1.start_cmd" in write.stderr


def test_read_on_a_terminal_is_aligned_and_formatted() -> None:
    pty = pytest.importorskip("pty")  # POSIX terminals
    tags = ["line1.filler.temperature", "line1.state", "line1.name", "utilities.air_pressure"]
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [*HMI, "read", "demo", *tags],
            stdout=terminal,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        terminal = -1
        output = b""
        while chunk := _read_pty(controller):
            output += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, proc.stderr
    lines = output.decode().replace("\r\n", "\n").splitlines()
    assert [line.split("  ")[0] for line in lines] == tags
    assert "\t" not in output.decode()
    quality_columns = {line.index(" good ") for line in lines}
    assert len(quality_columns) == 1, lines  # the columns line up
    temperature = lines[0].split()
    assert temperature[2] == "°C" and re.fullmatch(r"\d+\.\d", temperature[1])  # format ".1f"


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other side is closed and everything has been read
        return b""


def test_read_into_a_pipe_is_tab_separated() -> None:
    result = hmi("read", "demo", "line1.state", "line1.work_order")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == ["line1.state", "line1.work_order"]
    assert [row[2] for row in rows] == ["good", "good"] and rows[1][1] == "WO-1001"


def test_refused_write_is_said_once() -> None:
    result = hmi("write", "demo", "line1.filler.speed_sp", "900")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "line1.filler.speed_sp: write refused: 900 bpm is outside the limits 0..600"
    ]  # the audit record goes to the log file, not a second time to the console


@pytest.mark.parametrize("delay_s", [0.3, 0.6])
def test_ctrl_c_while_starting_ends_quietly(delay_s: float) -> None:
    proc = subprocess.Popen(
        [*HMI, "run", "demo", "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        # a shell starts background jobs with SIGINT ignored; a terminal user's Ctrl+C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 130), (proc.returncode, out, err)
    if proc.returncode == 130:
        assert err.strip() == "interrupted"
    else:
        assert "stopped" in out
