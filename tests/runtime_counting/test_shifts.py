"""The shift calendar: shifts across midnight, weekdays, days off, breaks, and DST in Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi_app.core.project.production_model import ShiftCalendar as ShiftCalendarConfig
from hmi_app.runtime.shifts import UNSCHEDULED, Period, ShiftCalendar, local_zone, zone

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600.0


def at(text: str, tz: ZoneInfo = BERLIN, fold: int = 0) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz, fold=fold).timestamp()


def three_shifts(days_off: frozenset[date] = frozenset()) -> ShiftCalendar:
    return ShiftCalendar(
        shifts=[
            Period.of("early", "06:00", "14:00", ["mon", "tue", "wed", "thu", "fri"]),
            Period.of("late", "14:00", "22:00", ["mon", "tue", "wed", "thu", "fri"]),
            Period.of("night", "22:00", "06:00", ["sun", "mon", "tue", "wed", "thu"]),
        ],
        planned_stops=[
            Period.of("breakfast", "09:00", "09:15"),
            Period.of("lunch", "12:00", "12:30"),
            Period.of("midnight meal", "23:45", "00:15"),
            Period.of("sat cleaning", "10:00", "11:00", ["sat"]),  # outside every shift
        ],
        tz=BERLIN,
        days_off=days_off,
    )


def test_shift_at_finds_the_instance_and_its_production_day() -> None:
    cal = three_shifts()
    slot = cal.shift_at(at("2026-11-18T10:00"))  # a Wednesday
    assert (slot.name, slot.scheduled, slot.day) == ("early", True, date(2026, 11, 18))
    assert slot.start == datetime(2026, 11, 18, 6, tzinfo=BERLIN)
    assert slot.duration_s == 8 * H and slot.key == "2026-11-18/early"
    night = cal.shift_at(at("2026-11-19T03:00"))  # Thursday 03:00 is Wednesday's night shift
    assert (night.name, night.day, night.key) == ("night", date(2026, 11, 18), "2026-11-18/night")
    assert night.contains(at("2026-11-18T22:00")) and not night.contains(at("2026-11-19T06:00"))
    assert cal.shift_at(at("2026-11-19T06:00")).name == "early"  # ends exclusive, starts inclusive
    assert cal.shift_at(datetime(2026, 11, 18, 15, tzinfo=UTC)).name == "late"  # 16:00 in Berlin


def test_time_between_shifts_is_an_unscheduled_slot_cut_at_midnight() -> None:
    cal = three_shifts()
    # Friday has no night shift: unscheduled from 22:00 to midnight, then all Saturday, ...
    fri = cal.shift_at(at("2026-11-20T23:00"))
    assert (fri.name, fri.scheduled) == (UNSCHEDULED, False)
    assert (fri.start, fri.end) == (
        datetime(2026, 11, 20, 22, tzinfo=BERLIN),
        datetime(2026, 11, 21, 0, tzinfo=BERLIN),
    )
    sat = cal.shift_at(at("2026-11-21T12:00"))
    assert sat.duration_s == 24 * H and sat.key == "2026-11-21T00:00:00+01:00/unscheduled"
    # ... and Sunday until the night shift starts at 22:00
    sun = cal.shift_at(at("2026-11-22T08:00"))
    assert sun.end == datetime(2026, 11, 22, 22, tzinfo=BERLIN) and not sun.scheduled
    assert cal.shift_at(at("2026-11-22T22:30")).name == "night"


def test_days_off_have_no_shifts() -> None:
    cal = three_shifts(days_off=frozenset({date(2026, 12, 25)}))
    assert not cal.shift_at(at("2026-12-25T10:00")).scheduled
    assert cal.shift_at(at("2026-12-24T23:00")).name == "night"  # the 24th's night still runs
    # Christmas Day (a Friday) keeps only the end of Thursday's night, less its 00:00-00:15 meal
    assert cal.planned_busy_seconds(at("2026-12-25T00:00"), at("2026-12-26T00:00")) == 5.75 * H


def test_planned_stops_count_only_inside_shifts() -> None:
    cal = three_shifts()
    early = cal.shift_at(at("2026-11-18T07:00"))
    assert cal.planned_stop_seconds(early.start, early.end) == 45 * 60
    assert cal.planned_busy_seconds(early.start, early.end) == 8 * H - 45 * 60
    night = cal.shift_at(at("2026-11-18T23:00"))
    assert cal.planned_stop_seconds(night.start, night.end) == 30 * 60  # across midnight
    sat = cal.shift_at(at("2026-11-21T10:30"))
    assert cal.planned_stop_seconds(sat.start, sat.end) == 0  # the cleaning is outside shifts
    assert cal.planned_busy_seconds(sat.start, sat.end) == 0
    # a window cutting a break counts only its part
    assert cal.planned_stop_seconds(at("2026-11-18T12:10"), at("2026-11-18T13:00")) == 20 * 60


def test_hour_buckets() -> None:
    cal = three_shifts()
    bucket = cal.hour_bucket(at("2026-11-18T10:59:59"))
    assert bucket.start == datetime(2026, 11, 18, 10, tzinfo=BERLIN)
    assert bucket.end_ts - bucket.start_ts == H and bucket.label == "2026-11-18T10:00+01:00"
    india = ShiftCalendar(shifts=[], tz=ZoneInfo("Asia/Kolkata"))  # local hours are not UTC hours
    assert india.hour_bucket(at("2026-11-18T10:59", ZoneInfo("Asia/Kolkata"))).start.minute == 0


def test_dst_changes_in_berlin() -> None:
    cal = three_shifts()
    # both changes fall in a Saturday->Sunday night, which the three-shift week leaves free;
    # a calendar with a night shift every night sees them
    every = ShiftCalendar(
        shifts=[Period.of("day", "06:00", "22:00"), Period.of("night", "22:00", "06:00")],
        planned_stops=[Period.of("meal", "02:00", "02:30")],
        tz=BERLIN,
    )
    spring = every.shift_at(at("2026-03-29T01:30"))
    assert (spring.name, spring.day) == ("night", date(2026, 3, 28))
    assert spring.duration_s == 7 * H  # 22:00 CET to 06:00 CEST
    # the 02:00-02:30 meal does not exist that night: read at the pre-change offset it falls
    # at 03:00-03:30 summer time, still inside the shift
    assert every.planned_stop_seconds(spring.start, spring.end) == 30 * 60
    assert every.planned_busy_seconds(spring.start, spring.end) == 6.5 * H
    autumn = every.shift_at(at("2026-10-25T02:30", fold=1))  # the second 02:30
    assert (autumn.name, autumn.day, autumn.duration_s) == ("night", date(2026, 10, 24), 9 * H)
    assert every.shift_at(at("2026-10-25T02:30", fold=0)) == autumn
    # the repeated hour is two buckets, told apart by their offset
    first = every.hour_bucket(at("2026-10-25T02:10", fold=0))
    second = every.hour_bucket(at("2026-10-25T02:10", fold=1))
    assert first.label == "2026-10-25T02:00+02:00" and second.label == "2026-10-25T02:00+01:00"
    assert second.start_ts - first.start_ts == H and first.end == second.start
    # days next to the changes are ordinary
    assert every.shift_at(at("2026-03-29T23:00")).duration_s == 8 * H
    assert every.shift_at(at("2026-10-24T01:00")).duration_s == 8 * H
    # the three-shift calendar: Sunday 22:00 to Monday 06:00 after each change is 8 h
    assert cal.shift_at(at("2026-03-30T01:00")).duration_s == 8 * H
    assert cal.shift_at(at("2026-10-26T01:00")).duration_s == 8 * H


@settings(max_examples=200, deadline=None)
@given(ts=st.floats(at("2026-01-01T00:00"), at("2027-01-01T00:00")))
def test_every_moment_is_in_exactly_one_slot_and_slots_tile_time(ts: float) -> None:
    cal = three_shifts()
    slot = cal.shift_at(ts)
    assert slot.contains(ts)
    assert 0 < slot.duration_s <= 25 * H
    # the slot just before and just after touch it: no gaps, no overlaps
    assert cal.shift_at(slot.start_ts - 0.001).end_ts == slot.start_ts
    assert cal.shift_at(slot.end_ts).start_ts == slot.end_ts
    bucket = cal.hour_bucket(ts)
    assert bucket.start_ts <= ts < bucket.end_ts


def test_shifts_between_and_scheduled_seconds_over_a_week() -> None:
    cal = three_shifts()
    week = (at("2026-11-16T00:00"), at("2026-11-23T00:00"))  # Monday to Monday
    slots = cal.shifts_between(*week)
    assert [s.name for s in slots[:3]] == ["night", "early", "late"]  # Sunday's night spills in
    assert len(slots) == 3 * 5 + 1
    # 5 early + 5 late + 5 nights (Sun..Thu) = 15 shifts of 8 h; the week cuts 2 h off the ends
    assert cal.scheduled_seconds(*week) == 15 * 8 * H
    # breakfast + lunch in 5 early shifts; the midnight meal: 4 whole nights, and a quarter of an
    # hour of the nights cut by the week's ends
    assert cal.planned_stop_seconds(*week) == 5 * 45 * 60 + 4 * 30 * 60 + 2 * 15 * 60


def test_from_project_config_and_validation() -> None:
    config = ShiftCalendarConfig.model_validate(
        {
            "timezone": "Europe/Berlin",
            "shifts": [
                {"name": "A", "start": "06:00", "end": "18:00"},
                {"name": "B", "start": "18:00", "end": "06:00", "weekdays": ["mon", "tue"]},
            ],
            "planned_stops": [{"name": "meal", "start": "12:00", "end": "12:30"}],
        }
    )
    cal = ShiftCalendar.from_config(config)
    assert cal.tz == BERLIN
    assert cal.shift_at(at("2026-11-17T02:00")).name == "B"  # Monday's night
    assert not cal.shift_at(at("2026-11-19T02:00")).scheduled  # no B on Wednesday
    with pytest.raises(ValueError, match="overlap"):
        ShiftCalendar(
            [Period.of("a", "06:00", "14:00"), Period.of("b", "13:00", "15:00")], tz=BERLIN
        )
    with pytest.raises(ValueError, match="reserved"):
        ShiftCalendar([Period.of(UNSCHEDULED, "06:00", "14:00")], tz=BERLIN)
    with pytest.raises(ValueError, match="length"):
        Period.of("x", "06:00", "06:00")
    assert Period.of("all", "00:00", "24:00").instance(date(2026, 1, 1), BERLIN) == (
        at("2026-01-01T00:00"),
        at("2026-01-02T00:00"),
    )
    with pytest.raises(ValueError, match="no timezone"):
        cal.shift_at(datetime(2026, 1, 1))


def test_local_zone_follows_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert local_zone() == BERLIN and zone("local") == BERLIN and zone(None) == BERLIN
    assert zone("America/New_York") == ZoneInfo("America/New_York")
    assert datetime(2026, 7, 1, tzinfo=local_zone()).utcoffset() == timedelta(hours=2)
