"""The plant's register codecs, checked against pymodbus's own decoder."""

from __future__ import annotations

import math

import pytest
from pymodbus.client import AsyncModbusTcpClient as Client

from hmi_app.plant import words

DT = Client.DATATYPE


def test_float32_big_and_little() -> None:
    assert words.float32(300.0) == [0x4396, 0x0000]
    assert Client.convert_from_registers(words.float32(-12.5), DT.FLOAT32) == -12.5
    regs = words.float32(3.25, "little")
    assert Client.convert_from_registers(regs, DT.FLOAT32, word_order="little") == 3.25
    assert words.to_float32(words.float32(123.4)) == pytest.approx(123.4, rel=1e-6)
    assert words.to_float32(words.float32(7.5, "little"), "little") == 7.5
    assert math.isnan(words.to_float32(words.float32(math.nan)))
    with pytest.raises(ValueError, match="takes 2 registers"):
        words.to_float32([1])


def test_uint32_word_orders_and_wrap() -> None:
    assert words.uint32(70_000) == [0x0001, 0x1170]
    assert words.uint32(70_000, "little") == [0x1170, 0x0001]
    assert (
        Client.convert_from_registers(
            words.uint32(4_000_000_000, "little"), DT.UINT32, word_order="little"
        )
        == 4_000_000_000
    )
    assert words.uint32(2**32 + 5) == [0, 5]


def test_float64_int16_uint16() -> None:
    assert Client.convert_from_registers(words.float64(12345.678), DT.FLOAT64) == 12345.678
    assert words.int16(-1) == [0xFFFF]
    assert words.uint16(65535) == [65535]
    with pytest.raises(ValueError, match="does not fit a uint16"):
        words.uint16(65536)


def test_string_high_byte_first_nul_padded() -> None:
    regs = words.string("LINE 1 BOTTLING", 16)
    assert len(regs) == 8
    assert regs[0] == (ord("L") << 8) | ord("I")
    assert regs[-1] == ord("G") << 8
    assert Client.convert_from_registers(regs, DT.STRING) == "LINE 1 BOTTLING"
    assert len(words.string("ABC", 3)) == 2
    with pytest.raises(ValueError, match="longer than 4"):
        words.string("TOO LONG", 4)
