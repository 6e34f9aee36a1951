"""Values to 16-bit Modbus registers, the way a PLC lays them out.

Bytes inside a register are big-endian (high byte first); multi-register values put the most
significant word first unless ``word_order="little"``. Written independently of the drivers' codecs
so the simulated plant is a second opinion on them, not a mirror.
"""

from __future__ import annotations

import struct
from typing import Literal

WordOrder = Literal["big", "little"]


def _words(data: bytes, word_order: WordOrder) -> list[int]:
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if word_order == "little":
        words.reverse()
    return words


def uint16(value: int) -> list[int]:
    """One register; ValueError outside 0..65535."""
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{value} does not fit a uint16")
    return [value]


def int16(value: int) -> list[int]:
    """One register in two's complement; ValueError outside -32768..32767."""
    return _words(struct.pack(">h", value), "big")


def uint32(value: int, word_order: WordOrder = "big") -> list[int]:
    """Two registers; counters wrap modulo 2**32 like a PLC's DINT totals."""
    return _words(struct.pack(">I", value % 2**32), word_order)


def float32(value: float, word_order: WordOrder = "big") -> list[int]:
    """Two registers holding an IEEE 754 single."""
    return _words(struct.pack(">f", value), word_order)


def float64(value: float, word_order: WordOrder = "big") -> list[int]:
    """Four registers holding an IEEE 754 double."""
    return _words(struct.pack(">d", value), word_order)


def string(text: str, length: int) -> list[int]:
    """``length`` ASCII characters, two per register (first character in the high byte),
    padded with NUL; ValueError if the text is longer or not ASCII."""
    data = text.encode("ascii")
    if len(data) > length:
        raise ValueError(f"{text!r} is longer than {length} characters")
    data = data.ljust(length + (length % 2), b"\0")
    return _words(data, "big")


def to_float32(words: list[int], word_order: WordOrder = "big") -> float:
    """The single held in two registers."""
    if len(words) != 2:
        raise ValueError(f"a float32 takes 2 registers, got {len(words)}")
    ordered = list(reversed(words)) if word_order == "little" else words
    value: float = struct.unpack(">f", b"".join(w.to_bytes(2, "big") for w in ordered))[0]
    return value
