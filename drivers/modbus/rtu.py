"""Modbus RTU driver: the shared driver core (``driver.py``) on a serial bus (``serial_rtu.py``).

Same addresses, block planning, scan classes, stale marking and writes as Modbus TCP. What is
specific to RTU: the device is a unit id on a serial port, one request is on the line at a time
(RS-485 is half duplex; there is no ``max_in_flight`` or ``connections``), and several
connections on the same port (one per unit id) share the port and take turns on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from drivers.modbus.driver import (
    LINK_TIMEOUTS,
    Backoff,
    ModbusDriver,
    ModbusSettings,
    ModbusTransport,
)
from drivers.modbus.serial_rtu import LineSettings, RtuClient

_PARITY_NAMES = {"N": "N", "NONE": "N", "E": "E", "EVEN": "E", "O": "O", "ODD": "O"}


class _RtuSettings(ModbusSettings):
    """Connection settings of a ``modbus-rtu`` connection in ``project.yaml``."""

    port: str = Field(min_length=1, description="serial port, e.g. /dev/ttyUSB0 or COM3")
    baudrate: int = Field(default=19200, ge=300, le=4_000_000)
    bytesize: Literal[8] = Field(
        default=8, description="RTU frames are 8-bit binary (7 bits is Modbus ASCII)"
    )
    parity: Literal["N", "E", "O"] = Field(default="E", description="even, per the Modbus spec")
    stopbits: Literal[1, 2] = 1
    local_echo: bool = Field(
        default=False, description="the adapter echoes what it sends (2-wire, no echo cancel)"
    )
    unit_id: int = Field(default=1, ge=1, le=247, description="slave address on the bus")

    @field_validator("parity", mode="before")
    @classmethod
    def _parity_name(cls, value: object) -> object:
        if isinstance(value, str):
            return _PARITY_NAMES.get(value.strip().upper(), value)
        return value

    @property
    def line(self) -> LineSettings:
        return LineSettings(
            self.port, self.baudrate, self.bytesize, self.parity, self.stopbits, self.local_echo
        )


class ModbusRtuDriver(ModbusDriver[_RtuSettings]):
    """A ``drivers.base.Driver`` for one Modbus RTU device (one unit id on one serial port)."""

    Settings = _RtuSettings
    # Every reply garbled is what a wrong baud rate or parity looks like: the link is not fine.
    GARBLED_LOSES_LINK = True

    def __init__(
        self,
        name: str,
        settings: _RtuSettings,
        *,
        backoff: Backoff | None = None,
        reprobe_s: float = 60.0,
    ) -> None:
        super().__init__(name, settings, backoff=backoff, reprobe_s=reprobe_s)

    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> ModbusRtuDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, _RtuSettings.model_validate(dict(settings)))

    @property
    def target(self) -> str:
        s = self.settings
        return f"unit {s.unit_id} on {s.port} ({s.line.describe()})"

    @property
    def no_reply_text(self) -> str:
        return (
            f"{LINK_TIMEOUTS} requests in a row without a valid reply"
            " (device off, or the wrong unit id, baud rate or parity?)"
        )

    def _new_transports(self, on_lost: Callable[[str], None]) -> list[ModbusTransport]:
        s = self.settings
        return [RtuClient(s.line, timeout_s=s.timeout_ms / 1000, on_lost=on_lost)]
