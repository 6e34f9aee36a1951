"""Modbus TCP driver: the shared driver core (``driver.py``) on the pipelined client of
``pipeline.py``.

What is specific to TCP: the device is a host and port, replies are matched by transaction id so
``max_in_flight`` requests may be pipelined on each connection, and ``connections`` parallel TCP
connections may share a large scan. Link supervision, scan groups, block planning, stale marking
and writes are the core's; see ``driver.py`` for how they work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from drivers.modbus.driver import (
    LINK_TIMEOUTS,
    STALE_PERIODS,
    Backoff,
    ModbusDriver,
    ModbusSettings,
    ModbusTransport,
)
from drivers.modbus.pipeline import PipelinedClient

__all__ = ["LINK_TIMEOUTS", "STALE_PERIODS", "Backoff", "ModbusTcpDriver"]


class _TcpSettings(ModbusSettings):
    """Connection settings of a ``modbus-tcp`` connection in ``project.yaml``."""

    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    connections: int = Field(default=1, ge=1, le=8)
    max_in_flight: int = Field(
        default=1, ge=1, le=16, description="requests pipelined per connection"
    )


class ModbusTcpDriver(ModbusDriver[_TcpSettings]):
    """A ``drivers.base.Driver`` for one Modbus TCP device (one unit id behind one host/port)."""

    Settings = _TcpSettings

    def __init__(
        self,
        name: str,
        settings: _TcpSettings | None = None,
        *,
        backoff: Backoff | None = None,
        reprobe_s: float = 60.0,
    ) -> None:
        super().__init__(name, settings or _TcpSettings(), backoff=backoff, reprobe_s=reprobe_s)

    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> ModbusTcpDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, _TcpSettings.model_validate(dict(settings)))

    @property
    def target(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def max_in_flight(self) -> int:
        return self.settings.max_in_flight

    def _new_transports(self, on_lost: Callable[[str], None]) -> list[ModbusTransport]:
        s = self.settings
        return [
            PipelinedClient(
                s.host,
                s.port,
                timeout_s=s.timeout_ms / 1000,
                max_in_flight=s.max_in_flight,
                on_lost=on_lost,
            )
            for _ in range(s.connections)
        ]
