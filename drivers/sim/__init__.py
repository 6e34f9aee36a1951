"""Simulated signals (sine, ramp, random walk, counter, square, step) for connections without
a PLC: ``drivers.sim.driver.SimDriver``."""
