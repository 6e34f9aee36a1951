"""Time limits that never lose a cancellation (``hmi_app.core.deadlines``), and a guard that the
product code uses them instead of ``asyncio.wait_for`` (which loses one on Python 3.11)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hmi_app.core.deadlines import cancel_and_wait, wait_set, within

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("hmi_app", "drivers", "screens", "widgets")


async def test_within_gives_the_result_or_a_timeout() -> None:
    assert await within(asyncio.sleep(0, "done"), 1.0) == "done"
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(5), 0.05)


async def test_wait_set_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.02) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5.0) is True


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_a_cancel_landing_with_the_event_still_ends_the_waiter(turns: int) -> None:
    """The case ``asyncio.wait_for`` gets wrong on 3.11: the event is set and the waiting task is
    cancelled in the same turns of the loop; the task must end cancelled, not carry on."""
    event = asyncio.Event()
    rounds = 0

    async def loop_until_cancelled() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            await wait_set(event, 5.0)
            event.clear()

    task = asyncio.ensure_future(loop_until_cancelled())
    await asyncio.sleep(0)
    event.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert task in done and task.cancelled()
    assert rounds <= 2


async def test_cancel_and_wait_ends_the_task_and_passes_its_error_on() -> None:
    stopped = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    task = asyncio.ensure_future(forever())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and stopped.is_set()

    async def fails_when_stopped() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise RuntimeError("clean-up failed")

    failing = asyncio.ensure_future(fails_when_stopped())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="clean-up failed"):
        await cancel_and_wait(failing)


async def test_a_cancelled_cancel_and_wait_says_so() -> None:
    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.2)

    task = asyncio.ensure_future(slow_to_stop())
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(cancel_and_wait(task))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait({task})


def test_the_product_code_does_not_use_asyncio_wait_for() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "asyncio.wait_for(" in line and not line.lstrip().startswith("#")
    ]
    assert offenders == [], "use hmi_app.core.deadlines.within / wait_set instead: " + ", ".join(
        offenders
    )
