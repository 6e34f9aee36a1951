"""No coroutine spins a nested Qt event loop. Under qasync a task step runs inside the Qt loop;
``processEvents``, ``exec()`` or qtbot's waits called from it run other tasks' wake-ups while this
one is still executing, asyncio refuses them ("Cannot enter into task ... while another task is
being executed") and the task that lost its wake-up hangs for ever (a driver that can then never
stop). It failed CI once, intermittently; this scan keeps it from coming back in app or tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("hmi_app", "widgets", "screens", "drivers", "tests", "benchmarks")
NESTING_CALLS = {"processEvents", "exec", "exec_", "qWait"}
QTBOT_WAITS = {"wait", "waitUntil", "waitExposed", "waitActive", "waitSignal", "waitSignals"}


def _nested_loops(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, receiver = node.func.attr, ast.unparse(node.func.value)
            if name in NESTING_CALLS or (name in QTBOT_WAITS and receiver.endswith("qtbot")):
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_scan_finds_a_nested_loop_in_a_coroutine() -> None:
    source = "async def f(qtbot):\n    app.processEvents()\n    qtbot.waitExposed(w)\n"
    assert [line for line, _ in _nested_loops(ast.parse(source))] == [2, 3]
    assert _nested_loops(ast.parse("async def f(e):\n    await e.wait()\n")) == []


def test_no_coroutine_runs_a_nested_qt_event_loop() -> None:
    offenders = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            for line, call in _nested_loops(ast.parse(path.read_text(encoding="utf-8"))):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {call}")
    assert offenders == [], "nested Qt loops inside coroutines:\n" + "\n".join(offenders)
