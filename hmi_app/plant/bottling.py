"""The bottling line as a pure-Python model: advanced by ``step(dt)``, no I/O, no clock.

An infeed conveyor feeds a filler (fed from a product tank), a capper and a labeller. The line
starts running at 300 bpm so the demo looks alive. Faults and upstream starvation come from a
seeded random generator, so a run with the same seed and steps is reproducible; tests can also
force them. Commands (start, stop, fault reset, setpoint) act as a PLC program would.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass


class LineState(enum.IntEnum):
    """Line state as published in HR10."""

    STOPPED = 0
    RUNNING = 1
    FAULTED = 2
    STARVED = 3


class FaultCode(enum.IntEnum):
    """Fault codes published in HR11 (0 when healthy)."""

    NONE = 0
    FILLER_JAM = 101
    CAPPER_OVERTORQUE = 102
    LABELLER_WEB_BREAK = 103
    BOTTLE_DOWN_INFEED = 104
    EMERGENCY_STOP = 105


#: The machine each fault code belongs to (an E-stop stops the whole line, no single machine).
FAULT_MACHINE: dict[FaultCode, str] = {
    FaultCode.FILLER_JAM: "filler",
    FaultCode.CAPPER_OVERTORQUE: "capper",
    FaultCode.LABELLER_WEB_BREAK: "labeller",
    FaultCode.BOTTLE_DOWN_INFEED: "infeed",
}
MACHINES = ("infeed", "filler", "capper", "labeller")

RANDOM_FAULTS = (
    FaultCode.FILLER_JAM,
    FaultCode.CAPPER_OVERTORQUE,
    FaultCode.LABELLER_WEB_BREAK,
    FaultCode.BOTTLE_DOWN_INFEED,
)


@dataclass(frozen=True, slots=True)
class BottlingParams:
    """Tuning of the simulated line (defaults give a lively but plausible demo)."""

    initial_setpoint: float = 300.0
    max_speed: float = 600.0
    accel_bpm_s: float = 60.0  # run-up towards the setpoint
    decel_bpm_s: float = 200.0  # controlled stop
    reject_ratio: float = 0.015
    reject_pulse_s: float = 0.3
    mtbf_s: float = 600.0  # mean running time between faults
    mean_time_between_starvation_s: float = 420.0
    starvation_s: tuple[float, float] = (8.0, 30.0)
    tank_drain_pct_per_bottle: float = 0.025  # 0.5 l bottles from a 2000 l tank
    tank_fill_pct_s: float = 0.6
    valve_opens_below: float = 30.0
    valve_closes_at: float = 85.0
    temperature_mean: float = 5.0
    temperature_band: tuple[float, float] = (4.0, 6.0)
    torque_mean: float = 6.0
    torque_noise: float = 0.25
    label_pct_per_bottle: float = 0.02  # reels of 5000 labels
    label_reel_change_below: float = 5.0
    idle_kw: float = 4.0
    full_speed_kw: float = 18.0


class BottlingLine:
    """State and behaviour of the line; ``step(dt)`` advances it by ``dt`` seconds."""

    def __init__(
        self, seed: int = 1, params: BottlingParams | None = None, running: bool = True
    ) -> None:
        self.params = p = params or BottlingParams()
        self._rng = random.Random(seed)
        self.time_s = 0.0
        self.state = LineState.RUNNING if running else LineState.STOPPED
        self.fault_code = FaultCode.NONE
        self.setpoint = p.initial_setpoint
        self.filler_speed = 0.0
        self.tank_level = 60.0
        self.valve_open = False
        self.temperature = p.temperature_mean
        self.capper_torque = 0.0
        self.label_stock = 80.0
        self.good_count = 0
        self.reject_count = 0
        self.runtime_s = 0.0
        self.energy_kwh = 0.0
        self._bottle_fraction = 0.0
        self._reject_until = -1.0
        self._upstream_empty_until = -1.0

    # ---- what the line shows -------------------------------------------------------------

    @property
    def machines_running(self) -> bool:
        """Filler, capper and labeller are running (line running, not starved or faulted)."""
        return self.state is LineState.RUNNING

    @property
    def infeed_running(self) -> bool:
        return self.state is LineState.RUNNING

    @property
    def infeed_speed_pct(self) -> float:
        """Infeed conveyor speed, 0..100 %, a little above the filler so bottles queue."""
        if not self.infeed_running:
            return 0.0
        return min(100.0, 102.0 * self.filler_speed / self.params.max_speed)

    @property
    def machine_speed(self) -> float:
        """Capper and labeller speed in bpm: they run up and down in step with the filler."""
        return self.filler_speed

    def machine_faulted(self, machine: str) -> bool:
        """True while the line's fault belongs to ``machine`` (one of ``MACHINES``)."""
        if machine not in MACHINES:
            raise ValueError(f"unknown machine {machine!r}; machines: {', '.join(MACHINES)}")
        return FAULT_MACHINE.get(self.fault_code) == machine

    @property
    def reject_active(self) -> bool:
        return self.time_s < self._reject_until

    @property
    def upstream_empty(self) -> bool:
        return self.time_s < self._upstream_empty_until

    # ---- commands ------------------------------------------------------------------------

    def start(self) -> bool:
        """Start a stopped line (a faulted line needs a reset first); True if it started."""
        if self.state is not LineState.STOPPED:
            return False
        self.state = LineState.STARVED if self.upstream_empty else LineState.RUNNING
        return True

    def stop(self) -> None:
        """Controlled stop of a running or starved line (a fault stays until reset)."""
        if self.state in (LineState.RUNNING, LineState.STARVED):
            self.state = LineState.STOPPED

    def reset_fault(self) -> bool:
        """Clear a fault: the line is then stopped and waits for a start; True if it cleared."""
        if self.state is not LineState.FAULTED:
            return False
        self.state = LineState.STOPPED
        self.fault_code = FaultCode.NONE
        return True

    def set_setpoint(self, bpm: float) -> float:
        """New speed setpoint, clamped to 0..max speed (NaN is ignored); returns the one in use."""
        if not math.isnan(bpm):
            self.setpoint = min(self.params.max_speed, max(0.0, bpm))
        return self.setpoint

    def force_fault(self, code: FaultCode = FaultCode.FILLER_JAM) -> None:
        """Trip the line now (tests, demos); machines stop at once."""
        if code is FaultCode.NONE:
            raise ValueError("a fault needs a non-zero code")
        self.state = LineState.FAULTED
        self.fault_code = code
        self.filler_speed = 0.0

    def force_starvation(self, seconds: float) -> None:
        """Upstream runs dry for ``seconds`` from now (tests, demos)."""
        self._upstream_empty_until = self.time_s + seconds
        if self.state is LineState.RUNNING:
            self.state = LineState.STARVED

    # ---- simulation ----------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance the line by ``dt`` seconds (ValueError if negative)."""
        if dt < 0:
            raise ValueError(f"time step must be >= 0, got {dt}")
        if dt == 0:
            return
        self.time_s += dt
        self._upstream(dt)
        if self.state is LineState.RUNNING and self._rng.random() < dt / self.params.mtbf_s:
            self.force_fault(self._rng.choice(RANDOM_FAULTS))
        self._speed(dt)
        self._production(dt)
        self._tank(dt)
        self._temperature(dt)
        self._capper()
        if self.state is LineState.RUNNING:
            self.runtime_s += dt
        p = self.params
        kw = p.idle_kw + p.full_speed_kw * self.filler_speed / p.max_speed
        self.energy_kwh += kw * dt / 3600.0

    def _upstream(self, dt: float) -> None:
        p = self.params
        if (
            self.state is LineState.RUNNING
            and not self.upstream_empty
            and (self._rng.random() < dt / p.mean_time_between_starvation_s)
        ):
            self.force_starvation(self._rng.uniform(*p.starvation_s))
        if self.state is LineState.STARVED and not self.upstream_empty:
            self.state = LineState.RUNNING

    def _speed(self, dt: float) -> None:
        p = self.params
        if self.state is LineState.RUNNING:
            target = self.setpoint
            rate = p.accel_bpm_s if target > self.filler_speed else p.decel_bpm_s
        else:
            target, rate = 0.0, p.decel_bpm_s
        delta = target - self.filler_speed
        self.filler_speed += max(-rate * dt, min(rate * dt, delta))

    def _production(self, dt: float) -> None:
        p = self.params
        self._bottle_fraction += self.filler_speed / 60.0 * dt
        bottles = int(self._bottle_fraction)
        self._bottle_fraction -= bottles
        for _ in range(bottles):
            if self._rng.random() < p.reject_ratio:
                self.reject_count += 1
                self._reject_until = self.time_s + p.reject_pulse_s
            else:
                self.good_count += 1
            self.tank_level -= p.tank_drain_pct_per_bottle
            self.label_stock -= p.label_pct_per_bottle
            if self.label_stock < p.label_reel_change_below:
                self.label_stock = 100.0  # the operator splices a new reel
        self.tank_level = max(0.0, self.tank_level)

    def _tank(self, dt: float) -> None:
        p = self.params
        if self.valve_open:
            self.tank_level = min(100.0, self.tank_level + p.tank_fill_pct_s * dt)
        if self.tank_level >= p.valve_closes_at:
            self.valve_open = False
        elif self.tank_level < p.valve_opens_below:
            self.valve_open = True

    def _temperature(self, dt: float) -> None:
        p = self.params
        low, high = p.temperature_band
        drift = (p.temperature_mean - self.temperature) * dt / 120.0
        self.temperature += drift + 0.03 * math.sqrt(dt) * self._rng.gauss(0.0, 1.0)
        self.temperature = min(high, max(low, self.temperature))

    def _capper(self) -> None:
        p = self.params
        if self.machines_running and self.filler_speed > 0.5:
            torque = self._rng.gauss(p.torque_mean, p.torque_noise)
            self.capper_torque = min(10.0, max(0.0, torque))
        else:
            self.capper_torque = 0.0
