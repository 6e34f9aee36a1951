"""Data types of tags and how many 16-bit registers each takes on a register-based device."""

from __future__ import annotations

import enum


class DataType(enum.StrEnum):
    """The value types a tag can have."""

    BOOL = "bool"
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"
    DATETIME = "datetime"  # a timezone-aware datetime.datetime (UTC)

    @property
    def is_numeric(self) -> bool:
        return self not in (DataType.BOOL, DataType.STRING, DataType.DATETIME)

    @property
    def is_integer(self) -> bool:
        return self in _INTEGER_RANGES

    def integer_range(self) -> tuple[int, int]:
        """Inclusive range of an integer type; KeyError for others."""
        return _INTEGER_RANGES[self]

    def register_count(self, length: int = 0) -> int:
        """16-bit registers taken by one value (``length`` is the character count of a string);
        KeyError for types that have no register layout (int8, uint8, datetime)."""
        if self is DataType.STRING:
            return max(1, (length + 1) // 2)
        return _REGISTERS[self]


class ByteOrder(enum.StrEnum):
    """Order of the two bytes inside each 16-bit register."""

    BIG = "big"
    LITTLE = "little"


class WordOrder(enum.StrEnum):
    """Order of the registers of a 32/64-bit value: ``big`` puts the most significant word first."""

    BIG = "big"
    LITTLE = "little"


_REGISTERS = {
    DataType.BOOL: 1,
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
}

_INTEGER_RANGES = {
    DataType.INT8: (-(2**7), 2**7 - 1),
    DataType.UINT8: (0, 2**8 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
}
