"""OEE after ISO 22400-2 and the run-state tracker (run time, downtime events, reasons)."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi_app.core.quality import Quality, TagValue
from hmi_app.runtime.oee import (
    ProductOutput,
    RunStateTracker,
    compute_oee,
    ideal_cycle_s,
    oee_for_window,
    quantities,
)
from hmi_app.runtime.shifts import Period, ShiftCalendar

GOOD, BAD = Quality.GOOD, Quality.BAD
H = 3600.0
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def test_textbook_shift() -> None:
    """PBT 7.5 h (8 h less a break), ran 6 h, 1 s per bottle, 19,000 made, 18,430 good."""
    r = compute_oee(7.5 * H, 6 * H, [ProductOutput("0.5l", 19_000, 18_430, ideal_cycle_s(60))])
    assert r.availability == pytest.approx(0.8)
    assert r.effectiveness == pytest.approx(19_000 / 21_600)
    assert r.quality_ratio == pytest.approx(0.97)
    assert r.oee == pytest.approx(0.8 * 19_000 / 21_600 * 0.97)
    assert r.oee == pytest.approx(18_430 * 1.0 / (7.5 * H))  # = GQ x PRI / PBT
    assert r.scrap == 570 and r.ideal_production_time_s == 19_000
    assert r.to_dict()["oee"] == r.oee


def test_several_products_weight_the_ideal_time() -> None:
    outputs = [
        ProductOutput("small", 600, 590, ideal_cycle_s(120)),  # 0.5 s each: 300 s
        ProductOutput("large", 300, 290, ideal_cycle_s(30)),  # 2 s each: 600 s
        ProductOutput("none", 0, 0, None),  # not made: its missing rate does not matter
    ]
    r = compute_oee(1000, 1000, outputs)
    assert r.effectiveness == pytest.approx(0.9)
    assert r.quality_ratio == pytest.approx(880 / 900)


def test_undefined_is_none_not_zero() -> None:
    idle = compute_oee(0, 0, [])  # no planned time at all (unscheduled)
    assert (idle.availability, idle.effectiveness, idle.quality_ratio, idle.oee) == (None,) * 4
    never_ran = compute_oee(7.5 * H, 0, [ProductOutput("p", 0, 0, 1.0)])
    assert never_ran.availability == 0.0
    assert never_ran.effectiveness is None and never_ran.quality_ratio is None
    assert never_ran.oee == 0.0  # planned, not run: achieved nothing
    ran_made_nothing = compute_oee(H, H, [ProductOutput("p", 0, 0, 1.0)])
    assert (ran_made_nothing.effectiveness, ran_made_nothing.quality_ratio) == (0.0, None)
    assert ran_made_nothing.oee == 0.0
    no_rate = compute_oee(H, H, [ProductOutput(None, 100, 100, None)])
    assert no_rate.effectiveness is None and no_rate.oee is None
    assert no_rate.availability == 1.0 and no_rate.quality_ratio == 1.0
    with pytest.raises(ValueError):
        ProductOutput("p", -1, 0, 1.0)
    with pytest.raises(ValueError):
        compute_oee(-1, 0, [])
    assert ideal_cycle_s(None) is None and ideal_cycle_s(0) is None


def test_not_clipped_above_one() -> None:
    r = compute_oee(H, H, [ProductOutput("p", 4000, 4000, 1.0)])  # ideal rate set too low
    assert r.effectiveness == pytest.approx(4000 / 3600) and r.oee is not None and r.oee > 1


@settings(max_examples=200, deadline=None)
@given(
    pbt=st.floats(1, 1e5),
    run=st.floats(0, 1),
    produced=st.integers(1, 10**6),
    good_share=st.floats(0, 1),
    cycle=st.floats(0.01, 10),
)
def test_oee_is_good_quantity_times_ideal_time_over_planned_time(
    pbt: float, run: float, produced: int, good_share: float, cycle: float
) -> None:
    """For one product the three factors multiply to GQ x PRI / PBT whatever the run time."""
    good = math.floor(produced * good_share)
    r = compute_oee(pbt, pbt * run, [ProductOutput("p", produced, good, cycle)])
    assert r.oee == pytest.approx(good * cycle / pbt, rel=1e-9)


def test_counter_kinds_give_produced_and_good() -> None:
    assert quantities(good=90, reject=10) == (100, 90)
    assert quantities(total=100, reject=10) == (100, 90)
    assert quantities(good=90, total=100) == (100, 90)
    assert quantities(good=5) == (5, 5)
    with pytest.raises(ValueError, match="good or a total"):
        quantities(reject=3)


# ---- run state -----------------------------------------------------------------------------


def test_stops_become_downtime_events_with_reasons() -> None:
    rs = RunStateTracker("line1")
    assert rs.current is None
    assert rs.update(True, GOOD, 0.0) == []
    (opened,) = rs.update(False, GOOD, 100.0)
    assert (opened.start, opened.end, opened.reason, opened.is_open) == (100.0, None, None, True)
    assert opened.key == "line1/downtime/100000" and rs.open_event == opened
    assert rs.update(False, GOOD, 150.0) == []  # no change
    (closed,) = rs.update(True, GOOD, 400.0)
    assert (closed.key, closed.end, closed.duration_s) == (opened.key, 400.0, 300.0)
    picked = rs.set_reason(closed.key, "jam")
    assert picked.reason == "jam" and rs.events() == [picked]
    assert picked.to_dict()["reason"] == "jam"
    with pytest.raises(KeyError, match="no downtime event"):
        rs.set_reason("line1/downtime/1", "jam")
    assert rs.run_seconds(0, 1000) == 100 + 600  # the run goes on until the end asked for
    assert rs.down_seconds(0, 1000) == 300
    assert rs.run_seconds(50, 120) == 50
    assert rs.events(500, 600) == [] and rs.events(399, 600) == [picked]


def test_bad_quality_is_unknown_time_and_keeps_a_stop_open() -> None:
    rs = RunStateTracker("line1")
    rs.update(True, GOOD, 0.0)
    rs.update(False, GOOD, 10.0)
    assert rs.update(None, BAD, 20.0) == []
    assert rs.current == "unknown" and rs.open_event is not None
    assert rs.update(False, GOOD, 30.0) == []  # still the same stop
    (closed,) = rs.feed(TagValue(True, GOOD, 50.0, 50.0))
    assert (closed.start, closed.end) == (10.0, 50.0)
    assert rs.down_seconds(0, 60) == 30  # 10-20 and 30-50; 20-30 nobody knows
    assert rs.seconds("unknown", 0, 60) == 10
    assert rs.run_seconds(0, 60) == 20
    assert rs.update(False, GOOD, 40.0) == []  # out of order: ignored


def test_state_codes_and_planned_stops_excluded() -> None:
    rs = RunStateTracker("line2", running_values=[3, "RUN"])
    seen = []
    for value, ts in ((3.0, 0.0), (5, 100.0), ("RUN", 200.0)):
        rs.update(value, GOOD, ts)
        seen.append(rs.current)
    assert seen == ["run", "stop", "run"]  # 3.0 is the code 3; text codes match text
    assert rs.run_seconds(0, 300, excluding=[(50, 60), (250, 270)]) == 100 - 10 + 100 - 20
    custom = RunStateTracker("line3", is_running=lambda v: v == "auto")
    custom.update("auto", GOOD, 0.0)
    assert custom.current == "run"


def test_prune_forgets_what_was_summarised() -> None:
    rs = RunStateTracker("line1")
    rs.update(False, GOOD, 0.0)
    rs.update(True, GOOD, 10.0)
    rs.update(False, GOOD, 100.0)
    rs.prune(50.0)
    assert [e.start for e in rs.events()] == [100.0]
    assert rs.down_seconds(0, 200) == 100  # only the stop still open


def test_shift_oee_from_calendar_and_run_state() -> None:
    cal = ShiftCalendar(
        shifts=[Period.of("early", "06:00", "14:00")],
        planned_stops=[Period.of("lunch", "12:00", "12:30")],
        tz=BERLIN,
    )
    slot = cal.shift_at(at("2026-11-18T07:00"))
    rs = RunStateTracker("line1")
    rs.update(True, GOOD, at("2026-11-18T05:00"))  # running before the shift: not its time
    rs.update(False, GOOD, at("2026-11-18T08:00"))  # a 1 h stop
    rs.update(True, GOOD, at("2026-11-18T09:00"))  # then running through lunch to the end
    out = [ProductOutput("0.5l", 20_000, 19_800, ideal_cycle_s(60))]
    r = oee_for_window(cal, rs, slot.start_ts, slot.end_ts, out)
    assert r.planned_busy_time_s == 7.5 * H
    assert r.actual_production_time_s == 6.5 * H  # 06-08 and 09-14 less the lunch
    assert r.availability == pytest.approx(6.5 / 7.5)
    assert r.effectiveness == pytest.approx(20_000 / (6.5 * H))
    # a running shift up to now
    now = at("2026-11-18T10:00")
    live = oee_for_window(cal, rs, slot.start_ts, now, out)
    assert live.planned_busy_time_s == 4 * H and live.actual_production_time_s == 3 * H
