"""Modbus TCP driver: address syntax, value codec, block planner and the pymodbus-based driver.

The driver class lives in ``drivers.modbus.tcp`` and is imported by the registry only when a project
uses a ``modbus-tcp`` connection.
"""
