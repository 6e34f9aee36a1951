"""Finds the driver class for a connection's ``driver`` key.

Each driver module defines a class with a pydantic ``Settings`` model and a ``from_settings``
constructor; the table below names where each lives, so a driver is imported only when a project
uses it (pycomm3 or asyncua are not loaded for a Modbus-only plant).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from drivers.base import Driver

_DRIVERS: dict[str, str] = {
    "modbus-tcp": "drivers.modbus.tcp:ModbusTcpDriver",
    "modbus-rtu": "drivers.modbus.rtu:ModbusRtuDriver",
    "opcua": "drivers.opcua.driver:OpcUaDriver",
    "logix": "drivers.logix.driver:LogixDriver",
    "sim": "drivers.sim.driver:SimDriver",
}


class DriverClass(Protocol):
    """What a driver class offers the registry."""

    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> Driver:
        """Build a driver; raise pydantic.ValidationError for bad settings."""
        ...


class UnknownDriver(KeyError):
    """No driver is registered under that key."""


def kinds() -> list[str]:
    """Every registered driver key, sorted."""
    return sorted(_DRIVERS)


def driver_class(kind: str) -> DriverClass:
    """The class registered for ``kind``."""
    try:
        target = _DRIVERS[kind]
    except KeyError:
        raise UnknownDriver(f"unknown driver {kind!r}; known: {', '.join(kinds())}") from None
    module_name, _, attr = target.partition(":")
    cls: DriverClass = getattr(importlib.import_module(module_name), attr)
    return cls


def create(kind: str, name: str, settings: Mapping[str, Any]) -> Driver:
    """A new driver of ``kind`` for the connection ``name``."""
    return driver_class(kind).from_settings(name, settings)
