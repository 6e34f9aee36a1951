"""Modbus address syntax: ``HR<n>``, ``IR<n>``, ``CO<n>``, ``DI<n>`` and bits ``HR<n>.<bit>``.

``n`` is the 0-based protocol address (0..65535), as sent on the wire; case does not matter.
``HR``/``IR`` are holding and input registers (16 bit), ``CO``/``DI`` coils and discrete inputs
(single bits). ``HR<n>.<bit>`` (or ``IR<n>.<bit>``) is bit 0..15 of a register, bit 0 being the
least significant bit of the register's 16-bit value. ``validate`` checks that a point's data type
fits its table and that a multi-register value ends inside the address space.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from drivers.base import AddressError, PointSpec
from drivers.modbus.codec import SUPPORTED
from hmi_app.core.datatypes import DataType

MAX_ADDRESS = 65535
MAX_READ_REGISTERS = 125
MAX_READ_BITS = 2000
MAX_WRITE_REGISTERS = 123

_PATTERN = re.compile(r"^(HR|IR|CO|DI)(\d+)(?:\.(\d+))?$", re.IGNORECASE)


class Table(enum.StrEnum):
    """The four Modbus data tables, with the function code that reads each."""

    HOLDING = "HR"
    INPUT = "IR"
    COIL = "CO"
    DISCRETE = "DI"

    @property
    def is_bits(self) -> bool:
        """Coils and discrete inputs hold single bits; the others 16-bit registers."""
        return self in (Table.COIL, Table.DISCRETE)

    @property
    def read_function(self) -> int:
        """Function code of the read request for this table."""
        return _READ_FUNCTION[self]

    @property
    def writable(self) -> bool:
        return self in (Table.HOLDING, Table.COIL)

    @property
    def label(self) -> str:
        return _TITLES[self]


_READ_FUNCTION = {Table.COIL: 1, Table.DISCRETE: 2, Table.HOLDING: 3, Table.INPUT: 4}
_TITLES = {
    Table.HOLDING: "holding registers",
    Table.INPUT: "input registers",
    Table.COIL: "coils",
    Table.DISCRETE: "discrete inputs",
}


@dataclass(frozen=True, slots=True)
class ModbusAddress:
    """A parsed address: table, 0-based offset and, for a bit in a register, the bit number."""

    table: Table
    offset: int
    bit: int | None = None

    def __str__(self) -> str:
        text = f"{self.table.value}{self.offset}"
        return text if self.bit is None else f"{text}.{self.bit}"


def parse(text: str) -> ModbusAddress:
    """Parse an address; raise AddressError with a message for the user."""
    cleaned = text.strip()
    match = _PATTERN.match(cleaned)
    if match is None:
        raise AddressError(
            f"{text!r} is not a Modbus address: use HR, IR, CO or DI followed by a number"
            " (e.g. HR100)"
        )
    table = Table(match.group(1).upper())
    offset = int(match.group(2))
    if offset > MAX_ADDRESS:
        raise AddressError(f"{text!r} is beyond the Modbus range 0..{MAX_ADDRESS}")
    bit: int | None = None
    if match.group(3) is not None:
        if table.is_bits:
            raise AddressError(
                f"{text!r}: coils and discrete inputs are single bits already;"
                f" drop the '.{match.group(3)}'"
            )
        bit = int(match.group(3))
        if bit > 15:
            raise AddressError(f"{text!r}: bit {bit} is beyond the register's bits 0..15")
    return ModbusAddress(table, offset, bit)


def register_count(point: PointSpec) -> int:
    """Registers (or bits, for coils and discrete inputs: 1) a point takes."""
    return point.data_type.register_count(point.length)


def validate(point: PointSpec, max_block_registers: int = MAX_READ_REGISTERS) -> ModbusAddress:
    """Check that ``point`` can be read as addressed and typed; return its parsed address.

    ``max_block_registers`` is the connection's largest request: a value that needs more registers
    than one request may read cannot be read at all.
    """
    address = parse(point.address)
    kind = point.data_type
    if kind not in SUPPORTED:
        raise AddressError(
            f"{point.address!r}: {kind.value} has no Modbus register layout"
            " (use bool, int16, uint16, int32, uint32, int64, uint64, float32, float64 or string)"
        )
    if point.array_length:
        raise AddressError(f"{point.address!r}: Modbus tags are scalars; declare one tag per value")
    if address.table.is_bits:
        if kind is not DataType.BOOL:
            raise AddressError(
                f"{point.address!r}: coils and discrete inputs hold bool, not {kind.value}"
            )
        return address
    if address.bit is not None:
        if kind is not DataType.BOOL:
            raise AddressError(
                f"{point.address!r}: a bit in a register is a bool, not {kind.value}"
            )
        return address
    if kind is DataType.STRING and point.length <= 0:
        raise AddressError(f"{point.address!r}: a string needs a length in characters")
    count = register_count(point)
    if address.offset + count - 1 > MAX_ADDRESS:
        raise AddressError(
            f"{point.address!r}: {_describe(point, count)} runs past the end of the Modbus"
            f" range 0..{MAX_ADDRESS}"
        )
    limit = min(max_block_registers, MAX_READ_REGISTERS)
    if count > limit:
        raise AddressError(
            f"{point.address!r}: {_describe(point, count)} does not fit in one request of at most"
            f" {limit} registers"
            + (" (max_block_registers of this connection)" if limit < MAX_READ_REGISTERS else "")
        )
    return address


def _describe(point: PointSpec, count: int) -> str:
    if point.data_type is DataType.STRING:
        return f"a string of {point.length} characters ({count} registers)"
    return f"{point.data_type.value} ({count} registers)"
