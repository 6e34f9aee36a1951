"""Test-wide set-up: offscreen Qt, logs in a temporary folder, and a guard against leaks.

A test that leaves asyncio tasks or threads behind fails: such leaks are what turns into a frozen
or bloated HMI after a week on a plant PC (the idea comes from pymodbus' own test suite).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HMI_APP_LOG_DIR", tempfile.mkdtemp(prefix="hmi-app-test-logs-"))
# counts, outbox and file drops of the projects the tests run, never in the user's data folder
os.environ.setdefault("HMI_APP_DATA_DIR", tempfile.mkdtemp(prefix="hmi-app-test-data-"))

THREAD_GRACE_S = 3.0


def pytest_configure(config: pytest.Config) -> None:
    # Garbage is collected on the main thread between tests only (as hmi_app.shell.gc_policy does
    # in the app): a collection run by a worker thread (asyncua, Logix, executors) could destroy
    # Qt objects left in reference cycles by an earlier test, and Qt crashes when its objects die
    # outside their own thread.
    gc.disable()


def pytest_unconfigure(config: pytest.Config) -> None:
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread() -> Iterator[None]:
    yield
    counts, thresholds = gc.get_count(), gc.get_threshold()
    generation = max((i for i in range(3) if counts[i] > thresholds[i]), default=-1)
    if generation >= 0:
        gc.collect(generation)


@pytest.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    leaked: set[asyncio.Task[object]] = set()
    for _ in range(50):  # let cancelled tasks finish their clean-up
        leaked = {t for t in asyncio.all_tasks() if t is not current and not t.done()}
        if not leaked:
            return
        await asyncio.sleep(0.02)
    names = sorted(t.get_name() + ": " + repr(t.get_coro()) for t in leaked)
    for task in leaked:
        task.cancel()
    pytest.fail("test leaked asyncio tasks:\n  " + "\n  ".join(names))


@pytest.fixture(autouse=True)
def _leak_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    if inspect.iscoroutinefunction(request.function):
        request.getfixturevalue("_no_leaked_tasks")
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    item.stash[_THREADS] = set(threading.enumerate())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    result = yield  # every fixture, event loops included, is finalised by now
    before = item.stash.get(_THREADS, set())
    deadline = time.monotonic() + THREAD_GRACE_S
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    while leaked and time.monotonic() < deadline:
        time.sleep(0.05)
        leaked = [t for t in leaked if t.is_alive()]
    if leaked:
        raise AssertionError(f"{item.nodeid} leaked threads: {[t.name for t in leaked]}")
    return result


_THREADS = pytest.StashKey[set[threading.Thread]]()
