"""Simulated signal kinds: values at known times, parameters, and address errors."""

from __future__ import annotations

import itertools
import math

import pytest

from drivers.base import AddressError
from drivers.sim.signals import (
    Counter,
    Ramp,
    RandomWalk,
    Sine,
    Square,
    Step,
    parse_address,
)


def test_sine_values_at_quarter_periods() -> None:
    sig = parse_address("sine:period=60,min=5.8,max=6.4")
    assert isinstance(sig, Sine)
    assert sig.value_at(0.0) == pytest.approx(6.1)
    assert sig.value_at(15.0) == pytest.approx(6.4)
    assert sig.value_at(30.0) == pytest.approx(6.1)
    assert sig.value_at(45.0) == pytest.approx(5.8)
    assert sig.value_at(60.0 * 1_000_000 + 15.0) == pytest.approx(6.4)


def test_sine_phase_is_in_degrees() -> None:
    sig = parse_address("sine:period=10,min=-1,max=1,phase=90")
    assert sig.make(0.0)(0.0) == pytest.approx(1.0)  # cos at t=0
    assert sig.make(0.0)(5.0) == pytest.approx(-1.0)


def test_sine_defaults() -> None:
    assert parse_address("sine") == Sine(60.0, 0.0, 1.0, 0.0)


def test_ramp_is_a_sawtooth() -> None:
    sig = parse_address("ramp:period=10,min=0,max=100")
    assert isinstance(sig, Ramp)
    assert sig.value_at(0.0) == pytest.approx(0.0)
    assert sig.value_at(2.5) == pytest.approx(25.0)
    assert sig.value_at(9.9) == pytest.approx(99.0)
    assert sig.value_at(10.0) == pytest.approx(0.0)
    assert sig.value_at(1_700_000_005.0) == pytest.approx(50.0)


def test_square_duty_low_high() -> None:
    sig = parse_address("square:period=4,low=2,high=7,duty=0.25")
    assert isinstance(sig, Square)
    assert [sig.value_at(t) for t in (0.0, 0.9, 1.0, 3.9, 4.0)] == [7, 7, 2, 2, 7]
    assert sig.is_high(0.5) and not sig.is_high(2.0)


def test_step_cycles_values_with_dwell() -> None:
    sig = parse_address("step:values=1|2|3,dwell=5")
    assert isinstance(sig, Step)
    assert [sig.value_at(t) for t in (0.0, 4.99, 5.0, 10.0, 15.0, 20.0)] == [1, 1, 2, 3, 1, 2]
    assert sig.numeric


def test_step_text_values() -> None:
    sig = parse_address("step:values=AUTO|MANUAL|OFF,dwell=1")
    assert isinstance(sig, Step)
    assert not sig.numeric
    assert sig.value_at(1.5) == "MANUAL"


def test_counter_per_second_from_subscription_with_wrap() -> None:
    sig = parse_address("counter:step=2,wrap=10")
    assert isinstance(sig, Counter)
    fn = sig.make(100.0)
    assert [fn(t) for t in (100.0, 100.99, 101.0, 103.5, 104.0, 105.0)] == [0, 0, 2, 6, 8, 0]
    assert fn(99.0) == 0  # clock stepped back: never negative


def test_counter_per_scan_counts_calls() -> None:
    fn = parse_address("counter:step=1,per=scan").make(0.0)
    assert [fn(0.0) for _ in range(5)] == [0, 1, 2, 3, 4]


def test_random_walk_is_seeded_bounded_and_moves_by_at_most_step() -> None:
    sig = parse_address("random_walk:min=18,max=30,step=0.5,seed=7")
    assert isinstance(sig, RandomWalk)
    a, b = sig.make(0.0), sig.make(0.0)
    run_a = [a(float(i)) for i in range(2000)]
    run_b = [b(float(i)) for i in range(2000)]
    assert run_a == run_b
    assert run_a[0] == pytest.approx(24.0)
    assert all(18.0 <= v <= 30.0 for v in run_a)
    assert all(abs(y - x) <= 0.5 + 1e-9 for x, y in itertools.pairwise(run_a))
    assert max(run_a) - min(run_a) > 3.0  # it does wander


def test_random_walk_default_seed_depends_on_address() -> None:
    one = parse_address("random_walk:min=0,max=10,step=1").make(0.0)
    same = parse_address("random_walk:min=0,max=10,step=1").make(0.0)
    other = parse_address("random_walk:min=0,max=10,step=1.0").make(0.0)
    seq = [one(0.0) for _ in range(20)]
    assert seq == [same(0.0) for _ in range(20)]
    assert seq != [other(0.0) for _ in range(20)]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("sine:period=0", "'sine:period=0': period must be > 0"),
        ("foo", "unknown signal 'foo': use sine, ramp, random_walk, counter, square or step"),
        ("foo:x=1", "unknown signal 'foo'"),
        ("", "unknown signal ''"),
        ("sine:period=abc", "'sine:period=abc': period must be a number, got 'abc'"),
        ("sine:period=nan", "period must be a finite number"),
        ("sine:min=5,max=5", "min (5) must be below max (5)"),
        ("ramp:period=-1", "period must be > 0"),
        ("sine:perod=5", "unknown parameter 'perod' for sine; use period, min, max, phase"),
        ("sine:period", "expected param=value, got 'period'"),
        ("sine:period=1,period=2", "period is given twice"),
        ("square:duty=1", "duty must be between 0 and 1"),
        ("square:duty=0", "duty must be between 0 and 1"),
        ("step:dwell=1", "values is required"),
        ("step:values=1||3", "values has an empty entry"),
        ("step:values=1|2,dwell=0", "dwell must be > 0"),
        ("counter:per=minute", "per must be 's' or 'scan', got 'minute'"),
        ("counter:wrap=0", "wrap must be > 0"),
        ("counter:step=0", "step must be > 0"),
        ("random_walk:seed=x", "seed must be an integer, got 'x'"),
        ("random_walk:step=-2", "step must be > 0"),
        ("random_walk:min=10,max=0", "min (10) must be below max (0)"),
    ],
)
def test_address_errors(address: str, message: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_address(address)
    assert message in str(info.value)


def test_whitespace_is_tolerated() -> None:
    sig = parse_address(" sine : period = 30 , min = 1 , max = 2 ")
    assert sig == Sine(30.0, 1.0, 2.0, 0.0)
    assert math.isclose(sig.value_at(7.5), 2.0)
