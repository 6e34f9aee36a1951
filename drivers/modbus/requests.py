"""The Modbus function codes the driver uses, built on one ``request`` call.

TCP (``pipeline.PipelinedClient``) and RTU (``serial_rtu.RtuClient``) differ in how a request
travels and how its reply is checked, not in what the requests are: both inherit these.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod


class ModbusRequests(ABC):
    """Reads and writes of registers and bits, over the transport's ``request``."""

    @abstractmethod
    async def request(
        self, unit: int, function: int, payload: bytes, expected_data: int = -1
    ) -> bytes:
        """Send one request; the reply's data after the function code (checked by size when
        ``expected_data`` is not -1)."""

    async def read_registers(self, unit: int, function: int, address: int, count: int) -> bytes:
        """Function 3 or 4: the ``count`` registers as ``2 * count`` big-endian bytes."""
        data = await self.request(unit, function, struct.pack(">HH", address, count), 2 * count)
        return data[1:]

    async def read_bits(self, unit: int, function: int, address: int, count: int) -> list[bool]:
        """Function 1 or 2: ``count`` coils or discrete inputs."""
        data = await self.request(
            unit, function, struct.pack(">HH", address, count), (count + 7) // 8
        )
        packed = int.from_bytes(data[1:], "little")
        return [bool(packed >> i & 1) for i in range(count)]

    async def write_register(self, unit: int, address: int, value: int) -> None:
        """Function 6."""
        await self.request(unit, 6, struct.pack(">HH", address, value))

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """Function 16."""
        payload = struct.pack(f">HHB{len(values)}H", address, len(values), 2 * len(values), *values)
        await self.request(unit, 16, payload)

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """Function 5."""
        await self.request(unit, 5, struct.pack(">HH", address, 0xFF00 if value else 0))
