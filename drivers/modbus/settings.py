"""Settings every Modbus connection has, whatever its transport (TCP and RTU extend them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from drivers.modbus.scan import Limits


class ModbusSettings(BaseModel):
    """Settings every Modbus connection has, whatever its transport."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_ms: int = Field(default=1000, ge=10, le=60000)
    max_gap_registers: int = Field(default=8, ge=0, le=124)
    max_gap_bits: int = Field(default=32, ge=0, le=1999)
    max_block_registers: int = Field(default=125, ge=1, le=125)
    max_block_bits: int = Field(default=2000, ge=1, le=2000)

    @property
    def limits(self) -> Limits:
        """The block planner's limits (gaps and block sizes)."""
        return Limits(
            self.max_gap_registers, self.max_gap_bits, self.max_block_registers, self.max_block_bits
        )
