"""Senders draining the outbox to a real HTTP receiver: outages, refusals, hangs, latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drivers.backoff import Backoff
from hmi_app.runtime.outbox import Outbox, OutboxRecord
from hmi_app.runtime.sinks.rest import RestSink
from hmi_app.runtime.store import Database
from hmi_app.runtime.sync import Sender, SenderOptions, SyncBackoff, SyncService
from tests.support.http_receiver import HttpReceiver
from tests.support.waiting import wait_until

FAST = Backoff(first_s=0.05, max_s=0.2, jitter=0.2)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "runtime.db")
    yield database
    await database.close()


def rec(i: int, created: float | None = None) -> OutboxRecord:
    return OutboxRecord(
        key=f"line1/good/{i:06d}",
        kind="count",
        created=1_763_776_000.0 + i if created is None else created,
        payload={"delta": 1, "n": i},
    )


async def test_receiver_down_then_back_delivers_everything_once(db: Database) -> None:
    outbox = Outbox(db, ["erp"])
    with HttpReceiver() as rx:
        rx.fail_with(503)
        sender = Sender(outbox, "erp", RestSink("erp", rx.url), batch_size=50, backoff=FAST)
        sender.start()
        try:
            await outbox.extend(rec(i) for i in range(300))
            await wait_until(lambda: rx.requests >= 5, 5.0, "several refused attempts")
            status = await outbox.status("erp")
            assert status.depth == 300 and status.last_success is None
            assert status.last_error is not None and "HTTP 503" in status.last_error
            for i in range(300, 400):  # records keep arriving during the outage
                await outbox.append(rec(i))
            rx.fail_with(None)
            await wait_until(
                lambda: len(rx.stored_keys()) == 400, 10.0, "all 400 records delivered"
            )
            assert await sender.wait_idle(5.0)
        finally:
            await sender.stop()
            await sender.sink.close()
        assert rx.stored_keys() == {rec(i).key for i in range(400)}
        assert rx.duplicates == 0  # nothing confirmed was sent twice
        status = await outbox.status("erp")
        assert (status.depth, status.total, status.quarantined) == (0, 0, 0)
        assert status.last_success is not None
        assert sender.stats.failures >= 5 and sender.stats.confirmed == 400
        # in order: each record arrived no earlier than the one queued before it
        arrival = [rx.records[rec(i).key].received for i in range(400)]
        assert arrival == sorted(arrival)


async def test_a_permanently_refused_record_does_not_stall_the_rest(db: Database) -> None:
    outbox = Outbox(db, ["erp"])
    with HttpReceiver() as rx:
        bad = rec(17).key
        rx.reject(bad)
        sender = Sender(outbox, "erp", RestSink("erp", rx.url), batch_size=20, backoff=FAST)
        sender.start()
        try:
            await outbox.extend(rec(i) for i in range(100))
            await wait_until(lambda: len(rx.stored_keys()) == 99, 10.0, "the 99 good records")
            assert await sender.wait_idle(5.0)
        finally:
            await sender.stop()
            await sender.sink.close()
        assert bad not in rx.stored_keys()
        status = await outbox.status("erp")
        assert (status.depth, status.quarantined, status.total) == (0, 1, 1)
        (q,) = await outbox.quarantined("erp")
        assert q.record.key == bad and q.tries == 3 and q.last_error is not None
        assert "HTTP 422" in q.last_error
        assert sender.stats.quarantined == 1 and sender.stats.rejected == 3
        assert rx.duplicates == 0

        # the receiver is fixed: a retry from the UI delivers the quarantined record
        rx_fixed = HttpReceiver()
        with rx_fixed:
            sender = Sender(outbox, "erp", RestSink("erp", rx_fixed.url), backoff=FAST)
            sender.start()
            try:
                assert await outbox.retry_quarantined("erp") == 1
                await wait_until(lambda: rx_fixed.stored_keys() == {bad}, 5.0, "the retried record")
                assert await sender.wait_idle(5.0)
            finally:
                await sender.stop()
                await sender.sink.close()
        assert (await outbox.status("erp")).total == 0


async def test_a_hanging_receiver_is_retried(db: Database) -> None:
    outbox = Outbox(db, ["erp"])
    with HttpReceiver() as rx:
        rx.hang()
        sink = RestSink("erp", rx.url, timeout_s=0.3)
        sender = Sender(outbox, "erp", sink, batch_size=10, backoff=FAST)
        sender.start()
        try:
            await outbox.extend(rec(i) for i in range(30))
            await wait_until(lambda: sender.stats.failures >= 2, 5.0, "two timed-out attempts")
            status = await outbox.status("erp")
            assert status.depth == 30
            assert status.last_error is not None and "in time" in status.last_error
            rx.hang(False)
            await wait_until(lambda: len(rx.stored_keys()) == 30, 10.0, "all 30 records")
            assert await sender.wait_idle(5.0)
        finally:
            await sender.stop()
            await sink.close()
        assert (await outbox.status("erp")).depth == 0


async def test_a_sender_timeout_covers_sinks_without_their_own(db: Database) -> None:
    class Stuck:
        name = "stuck"

        def __init__(self) -> None:
            self.calls = 0

        async def send(self, records: object) -> dict[str, str]:
            self.calls += 1
            await asyncio.sleep(3600)
            return {}

        async def close(self) -> None:
            pass

    outbox = Outbox(db, ["stuck"])
    sink = Stuck()
    sender = Sender(outbox, "stuck", sink, send_timeout_s=0.1, backoff=FAST)
    sender.start()
    try:
        await outbox.append(rec(1))
        await wait_until(lambda: sink.calls >= 3, 5.0, "three attempts")
    finally:
        await sender.stop()
    status = await outbox.status("stuck")
    assert status.depth == 1 and status.last_error == "no answer within 0.1 s"


async def test_online_latency_from_append_to_receiver(db: Database) -> None:
    """A record queued while the target is up reaches it within milliseconds (target p99 < 1 s)."""
    outbox = Outbox(db, ["erp"])
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url)
        sender = Sender(outbox, "erp", sink)  # default settings
        sender.start()
        created: dict[str, float] = {}
        try:
            assert await sender.wait_idle(5.0)
            for i in range(100):
                record = rec(i, created=time.time())
                created[record.key] = record.created
                await outbox.append(record)
                await asyncio.sleep(0.01)
            await wait_until(lambda: len(rx.stored_keys()) == 100, 10.0, "100 records")
        finally:
            await sender.stop()
            await sink.close()
        latencies = sorted(rx.records[key].received - t for key, t in created.items())
        p50, p99 = statistics.median(latencies), latencies[98]
        print(
            f"online latency append -> receiver: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
        assert p99 < 1.0


async def test_sync_service_runs_one_sender_per_target(db: Database) -> None:
    outbox = Outbox(db, ["erp", "mes"])
    with HttpReceiver() as erp_rx, HttpReceiver() as mes_rx:
        mes_rx.fail_with(503)
        service = SyncService(
            outbox, [RestSink("erp", erp_rx.url), RestSink("mes", mes_rx.url)], backoff=FAST
        )
        await service.start()
        try:
            await outbox.extend(rec(i) for i in range(20))
            await wait_until(lambda: len(erp_rx.stored_keys()) == 20, 5.0, "erp has all 20")
            await wait_until(lambda: mes_rx.requests >= 2, 5.0, "mes refused twice")
            status = await service.status()
            assert set(status) == {"erp", "mes"}
            assert (status["erp"].depth, status["mes"].depth) == (0, 20)
            assert status["erp"].total == 20  # still needed by mes
            assert status["mes"].oldest_age_s() is not None
            assert status["mes"].last_error is not None and status["mes"].last_success is None
            mes_rx.fail_with(None)
            await wait_until(lambda: len(mes_rx.stored_keys()) == 20, 5.0, "mes has all 20")
            await service.senders["mes"].wait_idle(5.0)
            assert (await service.status())["mes"].total == 0
        finally:
            await service.stop()
        assert not any(s.running for s in service.senders.values())
    with pytest.raises(ValueError, match="does not know"):
        SyncService(outbox, {"crm": service.senders["erp"].sink})


async def test_per_target_options_from_project_settings(db: Database) -> None:
    # the keys a sync target's validated project settings carry for its sender
    settings = {
        "kind": "rest",
        "batch_size": 7,
        "max_tries": 2,
        "backoff": {"initial_s": 0.05, "max_s": 0.4, "factor": 3.0},
        "url": "https://ignored.example",
    }
    options = SenderOptions.from_settings(settings)
    assert (options.batch_size, options.max_tries) == (7, 2)
    assert isinstance(options.backoff, SyncBackoff)
    delays = [options.backoff.delay(a) for a in range(4)]
    assert 0.04 <= delays[0] <= 0.06 and 0.12 <= delays[1] <= 0.18 and delays[3] <= 0.48
    outbox = Outbox(db, ["erp"])
    with HttpReceiver() as rx:
        rx.reject(rec(3).key)
        service = SyncService(outbox, [RestSink("erp", rx.url)], options={"erp": options})
        await service.start()
        try:
            await outbox.extend(rec(i) for i in range(20))
            await wait_until(lambda: len(rx.stored_keys()) == 19, 5.0, "the 19 good records")
            await service.senders["erp"].wait_idle(5.0)
        finally:
            await service.stop()
        quarantined = await outbox.quarantined("erp")
        assert [q.tries for q in quarantined] == [2]  # max_tries from the settings
        assert rx.batch_sizes[0] == 7 and max(rx.batch_sizes) == 7


@pytest.fixture
async def idle_sender(db: Database) -> AsyncIterator[Sender]:
    """A sender to a live HTTP receiver, started and idle (its outbox is empty)."""
    with HttpReceiver() as rx:
        sink = RestSink("erp", rx.url)
        sender = Sender(Outbox(db, ["erp"]), "erp", sink)
        sender.start()
        try:
            assert await sender.wait_idle(5.0)
            yield sender
        finally:
            await sender.stop()
            await sink.close()


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_stop_ends_the_sender_even_when_a_wake_up_lands_with_it(
    idle_sender: Sender, turns: int
) -> None:
    """Stopping cancels the sender's task. On Python 3.11, ``asyncio.wait_for`` returns the
    result instead of raising when what it waits for completes in the same turn as the cancel,
    and the cancel is lost: ``stop`` then waited for ever (CI hung on it once, under load)."""
    idle_sender.wake()
    for _ in range(turns):  # the wake-up part-way through the loop's callbacks
        await asyncio.sleep(0)
    stopping = asyncio.ensure_future(idle_sender.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5.0)
    if not done:  # a second cancel ends the lost sender, so the test can clean up
        stopping.cancel()
        await asyncio.wait({stopping})
    assert stopping in done, "stop() did not end the sender"
    stopping.result()
    assert not idle_sender.running


async def test_a_cancelled_stop_is_not_swallowed(idle_sender: Sender) -> None:
    """Whoever cancels a stop (a shutdown deadline) learns it was cancelled."""
    stopping = asyncio.ensure_future(idle_sender.stop())
    await asyncio.sleep(0)  # stop has cancelled the sender and waits for it
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not idle_sender.running
