"""Modbus RTU framing, independent of the port: the line's timing (``LineSettings``: character
time and inter-frame silence), the CRC-16, the length of a reply frame as its first bytes tell
it, and the checks a complete frame must pass before its data are taken (``serial_rtu.py`` runs
the port and the bus).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from drivers.modbus.errors import ExceptionReply, ModbusError, ProtocolError

__all__ = [
    "LineSettings",
    "check",
    "crc16",
    "crc_ok",
    "frame_length",
    "unframed_error",
    "with_crc",
]


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray) -> int:
    """The Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF) of ``data``."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def with_crc(adu: bytes) -> bytes:
    """``adu`` followed by its CRC, low byte first, as sent on the line."""
    return adu + struct.pack("<H", crc16(adu))


def crc_ok(frame: bytes | bytearray) -> bool:
    """Whether the last two bytes of ``frame`` are the CRC of the others."""
    return len(frame) >= 4 and crc16(frame[:-2]) == frame[-2] | frame[-1] << 8


@dataclass(frozen=True, slots=True)
class LineSettings:
    """A serial port and how its line is set up."""

    port: str
    baudrate: int = 19200
    bytesize: int = 8
    parity: str = "E"
    stopbits: int = 1
    local_echo: bool = False  # the adapter hands back every byte sent (2-wire, no echo cancel)

    def describe(self) -> str:
        """``19200 8E1`` style."""
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"

    @property
    def char_s(self) -> float:
        """Seconds one character takes on the line (start, data, parity and stop bits)."""
        bits = 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits
        return bits / self.baudrate

    @property
    def gap_s(self) -> float:
        """The inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 baud."""
        return 3.5 * self.char_s if self.baudrate <= 19200 else 0.00175


def frame_length(buffer: bytearray, function: int) -> int | None:
    """Length of the reply frame starting the buffer, or None while it cannot be told (yet)."""
    if len(buffer) < 2:
        return None
    got = buffer[1]
    if got == function | 0x80:
        return 5
    if got != function:
        return None  # not what was asked: the frame ends with silence
    if got <= 4:
        return 5 + buffer[2] if len(buffer) >= 3 else None
    return 8  # writes 5, 6, 15, 16 echo address and value or count


def check(frame: bytes, unit: int, function: int, expected_data: int) -> bytes | ModbusError:
    """The reply's data after the function code, or the error that says why not."""
    if not crc_ok(frame):
        return ProtocolError(f"bad CRC in a reply of {len(frame)} bytes: dropped")
    if frame[0] != unit:
        return ProtocolError(f"reply from unit {frame[0]}, asked unit {unit}")
    if frame[1] == function | 0x80:
        return ExceptionReply(function, frame[2])
    body = frame[2:-2]
    if expected_data >= 0 and body[0] != expected_data:
        return ProtocolError(f"reply of the wrong size ({body[0]} bytes, asked {expected_data})")
    return body


def unframed_error(frame: bytes, unit: int, function: int) -> ProtocolError:
    """Why ``frame``, ended by silence before it had the expected length, is not the reply."""
    if not crc_ok(frame):
        return ProtocolError(f"garbled reply ({len(frame)} bytes, bad CRC): dropped")
    if frame[0] != unit:
        return ProtocolError(f"reply from unit {frame[0]}, asked unit {unit}")
    if frame[1] & 0x7F != function:
        return ProtocolError(f"reply of the wrong kind (function {frame[1]}, asked {function})")
    return ProtocolError(f"reply of the wrong size ({len(frame)} bytes in the frame)")
