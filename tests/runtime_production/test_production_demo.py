"""The demo project on the real runtime counts bottles into its file drop, through link cuts,
forced reconnects and a runtime restart, with downtime reasons and shift summaries.

Real components throughout: the embedded (or a test-run) Modbus plant, the Modbus driver, the tag
engine, the production service, the SQLite outbox and the file-drop sink. The PLC's own counter
(the plant model) is the reference: the booked amounts must add up to its change exactly.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drivers.backoff import Backoff
from drivers.base import LinkState
from hmi_app.core.project.loader import load_project
from hmi_app.core.project.production_model import project_data_dir
from hmi_app.core.quality import Quality
from hmi_app.core.tagsource import WriteRefused
from hmi_app.plant.bottling import FaultCode, LineState
from hmi_app.plant.bottling_plant import BottlingLinePlant
from hmi_app.runtime.runtime import Runtime
from tests.runtime_production.helpers import (
    DEMO_NAME,
    chain_checked,
    clock_at,
    counts,
    databases_in,
    demo_plant,
    demo_with_external_plant,
    demo_without_production,
    drop_folder,
    dropped,
    open_demo,
    stop_line_and_settle,
)
from tests.support.waiting import wait_until

GOOD = "line1.production.good"
REASON = "line1.production.downtime_reason"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own data folder: its own database and file drop."""
    folder = tmp_path / "data"
    monkeypatch.setenv("HMI_APP_DATA_DIR", str(folder))
    return folder


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    rt = open_demo(clock=clock_at(8, 0))  # mid early shift, clear of its break
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


def _current(rt: Runtime, tag: str) -> object:
    value = rt.engine.current(tag)
    return None if value is None or value.quality is not Quality.GOOD else value.value


async def test_demo_counts_bottles_into_the_file_drop(runtime: Runtime) -> None:
    assert runtime.production is not None and runtime.sync is not None
    plant = demo_plant(runtime)
    await wait_until(lambda: len(counts()) >= 5, 20, "five good bookings in the file drop")
    final = await stop_line_and_settle(runtime, plant)
    rows = counts()
    booked = chain_checked(rows)
    assert booked == final - rows[0]["from_value"]
    assert booked > 0 and not any(r["recovered"] or r["uncertain"] for r in rows)
    keys = [r["key"] for r in dropped()]
    assert len(keys) == len(set(keys))  # no record twice, whatever its kind
    assert all(k.startswith("demo-bottling-plant/line1/good/") for k in keys if "/good/" in k)
    first = rows[0]
    assert first["shift"] == "early" and first["order"] == "WO-1001"
    assert first["product"] == "water_0.5l" and first["hour"].endswith("08:00" + first["hour"][-6:])
    assert list(drop_folder().glob("*.csv")), "the CSV file is written next to the JSON Lines"
    # the derived tags show the shift's counts (all booked in this shift) and its name
    await wait_until(lambda: _current(runtime, GOOD) == booked, 5, "the good tag to show them")
    assert _current(runtime, "line1.production.shift") == "early"
    hourly = _current(runtime, "line1.production.hourly_good")
    assert isinstance(hourly, tuple) and len(hourly) == 24 and hourly[2] == booked  # 08:00 is the
    # early shift's third hour
    status = (await runtime.sync.status())["file_drop"]
    assert status.depth == 0 and status.last_error is None


async def test_counts_made_during_a_link_cut_are_booked_recovered(runtime: Runtime) -> None:
    plant = demo_plant(runtime)
    await wait_until(lambda: len(counts()) >= 3, 20, "bookings before the cut")
    await plant.stop_server()
    await wait_until(
        lambda: runtime.engine.link_states()["line1_plc"][0] is LinkState.DISCONNECTED,
        10,
        "the link to drop",
    )
    at_cut = plant.model.good_count
    await asyncio.sleep(1.5)  # the line keeps producing while nobody watches
    assert plant.model.good_count > at_cut
    await plant.restart_server()
    await wait_until(lambda: any(r["recovered"] for r in counts()), 20, "a recovered booking")
    final = await stop_line_and_settle(runtime, plant)
    rows = counts()
    recovered = [r for r in rows if r["recovered"]]
    assert len(recovered) == 1 and recovered[0]["amount"] > 0 and not recovered[0]["uncertain"]
    assert recovered[0]["to_value"] > at_cut  # it holds the counts made during the cut
    assert chain_checked(rows) == final - rows[0]["from_value"]


async def test_a_hundred_forced_reconnects_count_nothing_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the driver's reconnect waits shortened (its default backs off to 30 s after repeated
    # losses): each of the 100 cuts below is then a real reconnect within a few scans
    monkeypatch.setattr(
        "drivers.modbus.driver.Backoff",
        lambda: Backoff(first_s=0.02, max_s=0.05, stable_s=0.0),
    )
    runtime = open_demo(clock=clock_at(8, 0))
    await runtime.start()
    try:
        plant = demo_plant(runtime)
        link = lambda: runtime.engine.link_states()["line1_plc"][0]  # noqa: E731
        await wait_until(lambda: len(counts()) >= 2, 20, "bookings before the cuts")
        for cut in range(100):
            await plant.stop_server()
            await wait_until(lambda: link() is not LinkState.CONNECTED, 5, f"cut {cut}")
            await plant.restart_server()
            await wait_until(lambda: link() is LinkState.CONNECTED, 5, f"reconnect {cut}")
            await asyncio.sleep(0.05)
        final = await stop_line_and_settle(runtime, plant)
    finally:
        await runtime.stop()
    rows = counts()
    assert chain_checked(rows) == final - rows[0]["from_value"]
    recovered = sum(r["recovered"] for r in rows)
    assert recovered >= 50, f"only {recovered} of 100 reconnects booked recovered counts"
    keys = [r["key"] for r in dropped()]
    assert len(keys) == len(set(keys))


async def test_a_restart_books_what_was_counted_while_the_runtime_was_down(
    tmp_path: Path,
) -> None:
    plant = BottlingLinePlant()
    _host, port = await plant.start()
    folder = demo_with_external_plant(tmp_path / "project", port)
    try:
        first = open_demo(folder, clock=clock_at(8, 0))
        await first.start()
        try:
            await wait_until(lambda: len(counts()) >= 3, 20, "bookings before the restart")
        finally:
            await first.stop()
        stopped_at = plant.model.good_count
        baseline = counts()[-1]["to_value"]
        await asyncio.sleep(1.5)  # counting on while no runtime watches
        assert plant.model.good_count > stopped_at
        second = open_demo(folder, clock=clock_at(8, 0))
        await second.start()
        try:
            await wait_until(lambda: any(r["recovered"] for r in counts()), 20, "the recovery")
            final = await stop_line_and_settle(second, plant)
        finally:
            await second.stop()
    finally:
        await plant.stop()
    rows = counts()
    with sqlite3.connect(project_data_dir(DEMO_NAME) / "production.sqlite") as conn:
        saved = conn.execute(
            "SELECT booking, json_extract(state, '$.baseline') FROM production_counter"
            " WHERE line = 'line1' AND counter = 'good'"
        ).fetchone()
    assert saved == (rows[-1]["booking"], final)  # baseline and booking number saved together
    recovered = next(r for r in rows if r["recovered"])
    assert recovered["from_value"] == baseline  # the saved baseline, not the first new value
    assert recovered["amount"] >= plant_delta_floor(stopped_at, baseline)
    assert chain_checked(rows) == final - rows[0]["from_value"]


def plant_delta_floor(stopped_at: int, baseline: int) -> int:
    """At least the counts the PLC made after the first runtime stopped (plus any it had not
    booked yet): the recovered booking covers them."""
    return max(1, stopped_at - baseline)


async def test_a_downtime_reason_written_on_the_tag_is_booked_to_the_event(
    runtime: Runtime,
) -> None:
    plant = demo_plant(runtime)
    await wait_until(lambda: _current(runtime, "line1.state") == LineState.RUNNING, 10, "running")
    with pytest.raises(WriteRefused, match="no downtime event"):
        await runtime.engine.write(REASON, "jam")
    plant.model.force_fault(FaultCode.FILLER_JAM)
    await wait_until(
        lambda: _current(runtime, "line1.production.downtime_active") is True, 10, "downtime"
    )
    with pytest.raises(WriteRefused, match="use one of jam, changeover"):
        await runtime.engine.write(REASON, "coffee")
    await runtime.engine.write(REASON, "jam", user="test")
    assert _current(runtime, REASON) == "jam"
    await asyncio.sleep(0.5)
    plant.model.reset_fault()
    plant.model.start()
    await wait_until(
        lambda: _current(runtime, "line1.production.downtime_active") is False, 10, "running"
    )
    assert _current(runtime, REASON) == ""  # no current event any more
    events = lambda: [r for r in dropped() if r["kind"] == "downtime"]  # noqa: E731
    await wait_until(lambda: len(events()) >= 2, 10, "two revisions of the event dropped")
    first, second = events()[:2]
    assert first["payload"]["event"] == second["payload"]["event"]
    assert (first["payload"]["revision"], second["payload"]["revision"]) == (1, 2)
    assert first["key"].endswith("/r1") and second["key"].endswith("/r2")
    assert first["payload"]["reason"] == "jam" and first["payload"]["end"] is None
    assert second["payload"]["reason"] == "jam" and second["payload"]["reason_text"] == "Jam"
    assert second["payload"]["duration_s"] >= 0.5 and second["payload"]["shift"] == "early"
    minutes = runtime.engine.current("line1.production.downtime_minutes")
    assert minutes is not None and minutes.value > 0


async def test_a_shift_summary_is_written_at_the_shift_end() -> None:
    rt = open_demo(clock=clock_at(13, 59, 56))  # the early shift ends in 4 s
    await rt.start()
    try:
        summaries = lambda: [r for r in dropped() if r["kind"] == "shift_summary"]  # noqa: E731
        await wait_until(lambda: bool(summaries()), 15, "the early shift's summary")
        await wait_until(
            lambda: any(r["shift"] == "late" for r in counts()), 10, "counts in the late shift"
        )
        assert rt.production is not None
        await rt.production.flush()
    finally:
        await rt.stop()
    (summary,) = summaries()
    payload = summary["payload"]
    early = [r for r in counts() if r["shift"] == "early"]
    rejects = [r for r in counts("reject") if r["shift"] == "early"]
    assert summary["key"].startswith("demo-bottling-plant/line1/shift_summary/")
    assert summary["key"].endswith("/early") and payload["shift"] == "early"
    assert payload["counts"]["good"] == sum(r["amount"] for r in early) > 0
    assert payload["counts"]["reject"] == sum(r["amount"] for r in rejects)
    assert payload["produced"] == payload["good"] + payload["scrap"]
    oee = payload["oee"]
    assert oee["produced"] == payload["produced"] and oee["availability"] is not None
    assert 0 < oee["actual_production_time_s"] <= oee["planned_busy_time_s"] + 0.5
    assert payload["shift_end"].endswith(payload["shift_end"][-6:])  # local time with offset
    assert "14:00:00" in payload["shift_end"]


async def test_a_project_without_production_runs_as_before(tmp_path: Path, _data_dir: Path) -> None:
    rt = Runtime(load_project(demo_without_production(tmp_path / "plain")), production=True)
    await rt.start()
    try:
        assert rt.production is None and rt.sync is None and rt.database is None
        assert not any(".production." in name for name in rt.engine.tag_names())
    finally:
        await rt.stop()
    # no production database; the historian keeps its own file for the tags marked history:
    assert [path.name for path in databases_in(_data_dir)] == ["history.sqlite"]
    off = open_demo(production=False)  # a one-shot read or write: no counting, figures bad
    await off.start()
    try:
        assert off.production is None and off.sync is None
        oee = off.engine.current("line1.production.oee")
        assert oee is not None and oee.quality is Quality.BAD and "off" in oee.reason
    finally:
        await off.stop()
    assert not [path for path in databases_in(_data_dir) if path.name != "history.sqlite"]


def _switch(path: Path, armed: bool) -> None:
    """Arm or disarm a trigger that makes every booking transaction fail (a full disk, say)."""
    with sqlite3.connect(path, timeout=10) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS fail_switch (armed INTEGER NOT NULL)")
        conn.execute(
            "CREATE TRIGGER IF NOT EXISTS fail_bookings BEFORE INSERT ON production_booking"
            " WHEN (SELECT max(armed) FROM fail_switch) = 1"
            " BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"
        )
        conn.execute("DELETE FROM fail_switch")
        conn.execute("INSERT INTO fail_switch VALUES (?)", (int(armed),))


async def test_a_booking_that_cannot_be_saved_is_booked_again_later(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    plant = demo_plant(runtime)
    path = project_data_dir(DEMO_NAME) / "production.sqlite"
    await wait_until(lambda: len(counts()) >= 3, 20, "bookings before the failures")
    await asyncio.to_thread(_switch, path, True)
    await wait_until(lambda: "disk full (test)" in caplog.text, 10, "a booking to fail")
    failed_from = plant.model.good_count
    await asyncio.sleep(1.0)  # more counts while every booking fails
    failing_until = plant.model.good_count
    await asyncio.to_thread(_switch, path, False)
    final = await stop_line_and_settle(runtime, plant)
    rows = counts()
    assert chain_checked(rows) == final - rows[0]["from_value"]  # nothing lost, none twice
    # the counts of the failing second are in one booking made after the disk came back
    assert any(r["from_value"] <= failed_from and r["to_value"] >= failing_until for r in rows)


async def test_an_order_change_is_sent_and_later_counts_are_booked_to_the_new_order(
    runtime: Runtime,
) -> None:
    await wait_until(lambda: len(counts()) >= 1, 20, "a first booking")
    assert counts()[0]["order"] == "WO-1001"
    await runtime.engine.write("line1.work_order", "WO-2002", user="test")
    changes = lambda: [r for r in dropped() if r["kind"] == "order_change"]  # noqa: E731
    await wait_until(
        lambda: any(c["payload"]["order"] == "WO-2002" for c in changes()), 10, "the change"
    )
    change = next(c for c in changes() if c["payload"]["order"] == "WO-2002")["payload"]
    assert change["field"] == "order" and change["previous_order"] == "WO-1001"
    assert change["product"] == "water_0.5l" and change["shift"] == "early"
    await wait_until(lambda: counts()[-1]["order"] == "WO-2002", 10, "a count for WO-2002")
    await wait_until(
        lambda: _current(runtime, "line1.production.order") == "WO-2002", 5, "the order tag"
    )
