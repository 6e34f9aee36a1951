"""Finds the driver class for a connection's ``driver`` key.

Each driver module defines a class with a pydantic ``Settings`` model and a ``from_settings``
constructor; the table below names where each lives, so a driver is imported only when a project
uses it (pycomm3 or asyncua are not loaded for a Modbus-only plant).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

import annotated_types
from pydantic import BaseModel

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


def settings_help(kind: str) -> list[str]:
    """One line per setting of driver ``kind``: ``key = default (min..max): description``
    (for the tag editor's hints; empty for a driver without a settings model)."""
    model = getattr(driver_class(kind), "Settings", None)
    if model is None or not isinstance(model, type) or not issubclass(model, BaseModel):
        return []
    lines = []
    for key, field in model.model_fields.items():
        if field.is_required():
            default = " (required)"
        else:
            default = f" = {field.get_default(call_default_factory=True)}"
        low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
        span = f" ({low}..{high})" if low is not None and high is not None else ""
        about = f": {field.description}" if field.description else ""
        lines.append(f"{key}{default}{span}{about}")
    return lines
