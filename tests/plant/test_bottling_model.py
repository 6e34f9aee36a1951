"""The pure bottling line model, advanced with a fake clock (explicit time steps)."""

from __future__ import annotations

import itertools
import math

import pytest

from hmi_app.plant.bottling import MACHINES, BottlingLine, BottlingParams, FaultCode, LineState

QUIET = BottlingParams(mtbf_s=1e12, mean_time_between_starvation_s=1e12)  # no random events


def run(line: BottlingLine, seconds: float, dt: float = 0.1) -> None:
    for _ in range(round(seconds / dt)):
        line.step(dt)


def test_starts_running_at_300_bpm_and_ramps_up() -> None:
    line = BottlingLine(params=QUIET)
    assert line.state is LineState.RUNNING
    assert line.setpoint == 300.0
    assert line.filler_speed == 0.0
    run(line, 2.0)
    assert line.filler_speed == pytest.approx(120.0)  # 60 bpm/s
    run(line, 4.0)
    assert line.filler_speed == pytest.approx(300.0)
    assert line.infeed_running and line.machines_running
    assert line.infeed_speed_pct == pytest.approx(51.0)  # a little above 300/600


def test_setpoint_change_moves_filler_speed_over_time() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    assert line.set_setpoint(450.0) == 450.0
    run(line, 1.0)
    assert line.filler_speed == pytest.approx(360.0)
    run(line, 5.0)
    assert line.filler_speed == pytest.approx(450.0)
    line.set_setpoint(100.0)
    run(line, 1.0)
    assert line.filler_speed == pytest.approx(250.0)  # slows at 200 bpm/s
    run(line, 1.0)
    assert line.filler_speed == pytest.approx(100.0)


def test_setpoint_is_clamped_and_nan_ignored() -> None:
    line = BottlingLine()
    assert line.set_setpoint(900.0) == 600.0
    assert line.set_setpoint(-5.0) == 0.0
    assert line.set_setpoint(math.inf) == 600.0
    assert line.set_setpoint(math.nan) == 600.0


def test_counts_follow_line_speed_with_fractional_accumulation() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)  # ramp-up: 0 -> 300 over 5 s = 12.5 bottles, then 5 s at 5/s = 25
    assert line.good_count + line.reject_count == 37
    before = line.good_count + line.reject_count
    run(line, 60.0, dt=0.01)
    assert line.good_count + line.reject_count - before == 300


def test_reject_rate_and_reject_pulse() -> None:
    line = BottlingLine(seed=5, params=QUIET)
    line.set_setpoint(600.0)
    pulses = 0
    was_active = False
    for _ in range(36_000):  # one hour at 10 Hz
        line.step(0.1)
        if line.reject_active and not was_active:
            pulses += 1
        was_active = line.reject_active
    total = line.good_count + line.reject_count
    assert total > 35_000
    assert 0.01 <= line.reject_count / total <= 0.02
    # each reject raises the output for 0.3 s; close rejects merge into one pulse
    assert 0.5 * line.reject_count < pulses <= line.reject_count


def test_stop_halts_production_and_running_time_but_not_idle_energy() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    line.stop()
    assert line.state is LineState.STOPPED
    run(line, 1.5)
    assert line.filler_speed == 0.0
    assert not (line.infeed_running or line.machines_running)
    counts = (line.good_count, line.reject_count)
    runtime = line.runtime_s
    energy = line.energy_kwh
    run(line, 60.0)
    assert (line.good_count, line.reject_count) == counts
    assert line.runtime_s == runtime
    assert line.energy_kwh == pytest.approx(energy + 4.0 / 60.0)  # 4 kW idle for a minute
    assert line.capper_torque == 0.0
    assert line.infeed_speed_pct == 0.0
    assert line.start()
    run(line, 10.0)
    assert line.good_count > counts[0]
    assert line.runtime_s == pytest.approx(runtime + 10.0)


def test_fault_reset_start_cycle() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    line.force_fault(FaultCode.CAPPER_OVERTORQUE)
    assert line.state is LineState.FAULTED
    assert line.fault_code is FaultCode.CAPPER_OVERTORQUE
    assert line.filler_speed == 0.0
    assert not line.start()  # a fault must be reset first
    line.stop()
    assert line.state is LineState.FAULTED
    good = line.good_count
    run(line, 5.0)
    assert line.good_count == good
    assert line.reset_fault()
    assert (line.state, line.fault_code) == (LineState.STOPPED, FaultCode.NONE)
    assert not line.reset_fault()
    assert line.start()
    assert line.state is LineState.RUNNING
    with pytest.raises(ValueError, match="non-zero code"):
        line.force_fault(FaultCode.NONE)


@pytest.mark.parametrize(
    ("code", "machine"),
    [
        (FaultCode.BOTTLE_DOWN_INFEED, "infeed"),
        (FaultCode.FILLER_JAM, "filler"),
        (FaultCode.CAPPER_OVERTORQUE, "capper"),
        (FaultCode.LABELLER_WEB_BREAK, "labeller"),
        (FaultCode.EMERGENCY_STOP, None),
    ],
)
def test_each_fault_belongs_to_its_machine_until_reset(
    code: FaultCode, machine: str | None
) -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    assert not any(line.machine_faulted(m) for m in MACHINES)
    line.force_fault(code)
    assert [m for m in MACHINES if line.machine_faulted(m)] == ([machine] if machine else [])
    line.reset_fault()
    assert not any(line.machine_faulted(m) for m in MACHINES)
    with pytest.raises(ValueError, match="unknown machine 'pump'"):
        line.machine_faulted("pump")


def test_capper_and_labeller_run_in_step_with_the_filler() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 2.0)  # still ramping up
    assert 0.0 < line.machine_speed == line.filler_speed < 300.0
    line.stop()
    run(line, 5.0)
    assert line.machine_speed == 0.0


def test_random_faults_about_every_ten_minutes_of_running() -> None:
    line = BottlingLine(seed=11, params=BottlingParams(mean_time_between_starvation_s=1e12))
    faults: list[FaultCode] = []
    for _ in range(10 * 36_000):  # ten hours at 10 Hz, operator resets and restarts at once
        line.step(0.1)
        if line.state is LineState.FAULTED:
            faults.append(line.fault_code)
            line.reset_fault()
            line.start()
    assert 35 <= len(faults) <= 100  # ~60 expected
    assert len(set(faults)) >= 3


def test_starvation_stops_infeed_and_recovers() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    line.force_starvation(10.0)
    assert line.state is LineState.STARVED
    assert not line.infeed_running and line.infeed_speed_pct == 0.0
    run(line, 2.0)
    assert line.filler_speed == 0.0 and not line.machines_running
    run(line, 8.1)
    assert line.state is LineState.RUNNING
    # stop while starved, start while upstream is still empty -> starved again
    line.force_starvation(5.0)
    line.stop()
    assert line.state is LineState.STOPPED
    assert line.start()
    assert line.state is LineState.STARVED
    run(line, 5.1)
    assert line.state is LineState.RUNNING


def test_random_starvation_happens() -> None:
    line = BottlingLine(seed=3, params=BottlingParams(mtbf_s=1e12))
    starved = 0
    for _ in range(36_000):
        line.step(0.1)
        starved += line.state is LineState.STARVED
    assert starved > 0


def test_tank_level_hysteresis() -> None:
    line = BottlingLine(params=QUIET)
    line.set_setpoint(600.0)
    levels: list[float] = []
    opened_at: list[float] = []
    closed_at: list[float] = []
    was_open = line.valve_open
    for _ in range(20_000):
        line.step(0.1)
        levels.append(line.tank_level)
        if line.valve_open != was_open:
            (opened_at if line.valve_open else closed_at).append(line.tank_level)
        was_open = line.valve_open
    assert opened_at and closed_at
    assert all(29.0 < lvl < 30.0 for lvl in opened_at)
    assert all(lvl >= 85.0 for lvl in closed_at)
    assert min(levels) >= 0.0 and max(levels) <= 100.0
    assert min(levels) > 28.0 and max(levels) < 87.0


def test_temperature_drifts_within_band() -> None:
    line = BottlingLine(seed=9, params=QUIET)
    temps = []
    for _ in range(36_000):
        line.step(0.1)
        temps.append(line.temperature)
    assert all(4.0 <= t <= 6.0 for t in temps)
    assert max(temps) - min(temps) > 0.3
    assert max(abs(b - a) for a, b in itertools.pairwise(temps)) < 0.1  # slow


def test_capper_torque_and_labeller_stock() -> None:
    line = BottlingLine(params=QUIET)
    run(line, 10.0)
    torques = []
    stocks = []
    for _ in range(12_000):  # 20 minutes at 300 bpm: 6000 labels, more than one reel
        line.step(0.1)
        torques.append(line.capper_torque)
        stocks.append(line.label_stock)
    assert 5.5 < sum(torques) / len(torques) < 6.5
    assert all(0.0 <= t <= 10.0 for t in torques)
    assert min(stocks) >= 5.0 - 0.02 and max(stocks) <= 100.0
    assert any(b > a + 50 for a, b in itertools.pairwise(stocks))  # reel changed


def test_same_seed_same_run() -> None:
    a, b = BottlingLine(seed=42), BottlingLine(seed=42)
    run(a, 600.0)
    run(b, 600.0)
    assert (a.state, a.good_count, a.reject_count, a.temperature, a.tank_level) == (
        b.state,
        b.good_count,
        b.reject_count,
        b.temperature,
        b.tank_level,
    )


def test_negative_time_step_is_refused() -> None:
    line = BottlingLine()
    with pytest.raises(ValueError, match="time step must be >= 0"):
        line.step(-0.1)
    line.step(0.0)
    assert line.time_s == 0.0
