"""Encoding and decoding of typed values to and from 16-bit Modbus registers.

Byte and word order follow the usual PLC names. For the big-endian bytes ``A B C D`` of a 32-bit
value (``A`` most significant):

=========== =========== ============= ===========
byte order  word order  registers     common name
=========== =========== ============= ===========
big         big         ``AB`` ``CD`` ABCD
big         little      ``CD`` ``AB`` CDAB (word swap)
little      big         ``BA`` ``DC`` BADC (byte swap)
little      little      ``DC`` ``BA`` DCBA
=========== =========== ============= ===========

Strings hold ``length`` characters, two per register in register order; ``ByteOrder.BIG`` puts the
first character in the high byte. They are padded with NUL on write; on read NULs are removed and
bytes that are not UTF-8 become U+FFFD. ``bool`` in a register is ``register != 0`` (written as 1 or
0); a bit in a register is ``(register >> bit) & 1``. NaN and infinities are ordinary float values.

``BlockDecoder`` decodes every value of one read block at once: the block's registers are packed
once into bytes (and once more byte-swapped, if any point needs it) and one precompiled
``struct.Struct`` per byte layout unpacks all values of that layout in a single call.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hmi_app.core.datatypes import ByteOrder, DataType, WordOrder

SUPPORTED = frozenset(
    {
        DataType.BOOL,
        DataType.STRING,
        DataType.INT16,
        DataType.UINT16,
        DataType.INT32,
        DataType.UINT32,
        DataType.INT64,
        DataType.UINT64,
        DataType.FLOAT32,
        DataType.FLOAT64,
    }
)
"""The data types that have a register layout."""


class CodecError(ValueError):
    """A value that cannot be encoded as the given type (out of range, wrong kind, too long)."""


_CODES: dict[DataType, str] = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.INT64: "q",
    DataType.UINT64: "Q",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One value inside a block of registers: its register offset from the block start and type."""

    offset: int
    data_type: DataType
    byte_order: ByteOrder = ByteOrder.BIG
    word_order: WordOrder = WordOrder.BIG
    length: int = 0
    bit: int | None = None

    @property
    def registers(self) -> int:
        return 1 if self.bit is not None else self.data_type.register_count(self.length)


def _layout(spec: FieldSpec) -> tuple[bool, str]:
    """(use the byte-swapped buffer, struct prefix) that reads this field's bytes directly.

    The plain buffer holds each register high byte first. Reading it big-endian gives ABCD, reading
    it little-endian gives DCBA; the byte-swapped buffer (low byte first) read big-endian gives BADC
    and read little-endian CDAB.
    """
    kind = spec.data_type
    if kind is DataType.STRING:
        return spec.byte_order is ByteOrder.LITTLE, ">"
    if spec.bit is not None or kind is DataType.BOOL:
        return False, ">"
    if spec.registers == 1:
        return spec.byte_order is ByteOrder.LITTLE, ">"
    swapped = spec.byte_order.value != spec.word_order.value
    little_read = spec.word_order is WordOrder.LITTLE
    return swapped, "<" if little_read else ">"


def _code(spec: FieldSpec) -> str:
    if spec.data_type is DataType.STRING:
        return f"{spec.length}s"
    if spec.bit is not None or spec.data_type is DataType.BOOL:
        return "H"
    return _CODES[spec.data_type]


def decode_string(raw: bytes) -> str:
    """Text of a string read from registers: NULs removed, invalid UTF-8 replaced."""
    return raw.replace(b"\x00", b"").decode("utf-8", errors="replace")


def _post(spec: FieldSpec) -> Callable[[Any], Any] | None:
    if spec.data_type is DataType.STRING:
        return decode_string
    if spec.bit is not None:
        mask = 1 << spec.bit
        return lambda word: bool(word & mask)
    if spec.data_type is DataType.BOOL:
        return bool
    return None


class _Stack:
    """Non-overlapping fields collected into one struct format while building a decoder."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.fields: list[int] = []
        self.codes: list[str] = []


@dataclass(slots=True)
class _Layer:
    swapped: bool
    unpack_from: Callable[[bytes, int], tuple[Any, ...]]
    start: int  # byte offset of the first field in the buffer
    fields: list[int]  # indexes of the fields, in unpack order


class BlockDecoder:
    """Decodes the registers of one block into values of its fields, in ``order``.

    Build once per planned block; ``decode(registers)`` then costs a pack of the block and one
    ``unpack_from`` per layout, plus a small fix-up for bools and strings.
    ``order[i]`` is the index (into the ``fields`` given) of the i-th value returned.
    """

    def __init__(self, count: int, fields: Sequence[FieldSpec]) -> None:
        if count < 1:
            raise ValueError("a block has at least one register")
        for spec in fields:
            if spec.offset < 0 or spec.offset + spec.registers > count:
                raise ValueError(f"field at offset {spec.offset} does not fit in {count} registers")
        self.count = count
        self._pack = struct.Struct(f">{count}H").pack
        groups: dict[tuple[bool, str], list[int]] = {}
        for index, spec in enumerate(fields):
            groups.setdefault(_layout(spec), []).append(index)
        layers: list[_Layer] = []
        for (swapped, prefix), members in groups.items():
            members.sort(key=lambda i: (fields[i].offset, fields[i].registers))
            # Fields that overlap an earlier one go to another layer, so each layer is one
            # struct format of non-overlapping fields separated by pad bytes.
            stacks: list[_Stack] = []
            for index in members:
                spec = fields[index]
                begin = spec.offset * 2
                stack = next((s for s in stacks if s.end <= begin), None)
                if stack is None:
                    stack = _Stack(begin)
                    stacks.append(stack)
                if begin > stack.end:
                    stack.codes.append(f"{begin - stack.end}x")
                code = _code(spec)
                stack.fields.append(index)
                stack.codes.append(code)
                stack.end = begin + struct.calcsize(">" + code)  # an odd string ends mid-register
            for stack in stacks:
                fmt = struct.Struct(prefix + "".join(stack.codes))
                layers.append(_Layer(swapped, fmt.unpack_from, stack.start, stack.fields))
        self._layers = layers
        self._needs_swapped = any(layer.swapped for layer in layers)
        self.order: list[int] = [i for layer in layers for i in layer.fields]
        self._fixups: list[tuple[int, Callable[[Any], Any]]] = []
        for position, index in enumerate(self.order):
            post = _post(fields[index])
            if post is not None:
                self._fixups.append((position, post))

    def decode(self, registers: Sequence[int]) -> list[Any]:
        """Values of the fields, in ``order``; ``registers`` must hold exactly ``count`` words."""
        if len(registers) != self.count:
            raise ValueError(f"expected {self.count} registers, got {len(registers)}")
        return self.decode_bytes(self._pack(*registers))

    def decode_bytes(self, data: bytes) -> list[Any]:
        """Like ``decode``, from the registers as received: ``2 * count`` big-endian bytes."""
        if len(data) != 2 * self.count:
            raise ValueError(f"expected {2 * self.count} bytes, got {len(data)}")
        swapped = b""
        if self._needs_swapped:
            flipped = bytearray(len(data))
            flipped[0::2], flipped[1::2] = data[1::2], data[0::2]
            swapped = bytes(flipped)
        layers = self._layers
        if len(layers) == 1:
            layer = layers[0]
            values = list(layer.unpack_from(swapped if layer.swapped else data, layer.start))
        else:
            values = []
            for layer in layers:
                values.extend(layer.unpack_from(swapped if layer.swapped else data, layer.start))
        for position, post in self._fixups:
            values[position] = post(values[position])
        return values


def decode(
    registers: Sequence[int],
    data_type: DataType,
    byte_order: ByteOrder = ByteOrder.BIG,
    word_order: WordOrder = WordOrder.BIG,
    length: int = 0,
    bit: int | None = None,
) -> Any:
    """Decode one value from its registers (convenience for single values; blocks use
    ``BlockDecoder``)."""
    spec = FieldSpec(0, data_type, byte_order, word_order, length, bit)
    return BlockDecoder(spec.registers, [spec]).decode(list(registers)[: spec.registers])[0]


def encode(
    value: Any,
    data_type: DataType,
    byte_order: ByteOrder = ByteOrder.BIG,
    word_order: WordOrder = WordOrder.BIG,
    length: int = 0,
) -> list[int]:
    """Registers that hold ``value`` as ``data_type``; CodecError if it does not fit the type."""
    if data_type is DataType.BOOL:
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise CodecError(f"{value!r} is not a bool")
        return [1 if value else 0]
    if data_type is DataType.STRING:
        if not isinstance(value, str):
            raise CodecError(f"{value!r} is not a string")
        raw = value.encode("utf-8")
        if len(raw) > length:
            raise CodecError(
                f"{value!r} takes {len(raw)} bytes; the tag holds at most {length} characters"
            )
        raw = raw.ljust(_even(length), b"\x00")
        fmt = "<" if byte_order is ByteOrder.LITTLE else ">"
        return list(struct.unpack(f"{fmt}{len(raw) // 2}H", raw))
    number = _number(value, data_type)
    spec = FieldSpec(0, data_type, byte_order, word_order, length)
    swapped, prefix = _layout(spec)
    try:
        raw = struct.pack(prefix + _CODES[data_type], number)
    except (struct.error, OverflowError):
        raise CodecError(f"{value!r} is out of range for {data_type.value}") from None
    count = len(raw) // 2
    return list(struct.unpack(f"{'<' if swapped else '>'}{count}H", raw))


def _even(length: int) -> int:
    return length + (length & 1)


def _number(value: Any, data_type: DataType) -> int | float:
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | float):
        raise CodecError(f"{value!r} is not a number")
    if data_type.is_integer:
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise CodecError(f"{value!r} is not a whole number, as {data_type.value} needs")
            value = int(value)
        low, high = data_type.integer_range()
        if not low <= value <= high:
            raise CodecError(f"{value!r} is out of range for {data_type.value} ({low}..{high})")
        return int(value)
    return float(value)
