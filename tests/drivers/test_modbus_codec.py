"""Register codec: every data type in every byte/word order, strings, bits and block decoding."""

from __future__ import annotations

import itertools
import math
import random
import re
import struct

import pytest

from drivers.modbus.codec import SUPPORTED, BlockDecoder, CodecError, FieldSpec, decode, encode
from hmi_app.core.datatypes import ByteOrder, DataType, WordOrder

ORDERS = list(itertools.product(ByteOrder, WordOrder))

SAMPLES: dict[DataType, list[object]] = {
    DataType.BOOL: [True, False],
    DataType.INT16: [-32768, -1, 0, 1, 12345, 32767],
    DataType.UINT16: [0, 1, 0x1234, 65535],
    DataType.INT32: [-(2**31), -123456, 0, 2**31 - 1],
    DataType.UINT32: [0, 0x12345678, 2**32 - 1],
    DataType.FLOAT32: [0.0, -1.5, 3.140000104904175, float("inf"), -float("inf")],
    DataType.FLOAT64: [0.0, math.pi, -1e300, 5e-324],
    DataType.INT64: [0, -1, 2**63 - 1, -(2**63)],
    DataType.UINT64: [0, 1, 2**64 - 1],
    DataType.STRING: ["", "A", "Line 1", "Größe"],
}


@pytest.mark.parametrize(("byte_order", "word_order"), ORDERS)
@pytest.mark.parametrize("kind", sorted(SUPPORTED))
def test_every_type_round_trips_in_every_order(
    kind: DataType, byte_order: ByteOrder, word_order: WordOrder
) -> None:
    for value in SAMPLES[kind]:
        registers = encode(value, kind, byte_order, word_order, length=8)
        assert len(registers) == kind.register_count(8)
        assert all(0 <= r <= 0xFFFF for r in registers)
        assert decode(registers, kind, byte_order, word_order, length=8) == value


@pytest.mark.parametrize(
    ("byte_order", "word_order", "registers"),
    [
        (ByteOrder.BIG, WordOrder.BIG, [0x4148, 0xF5C3]),  # ABCD
        (ByteOrder.BIG, WordOrder.LITTLE, [0xF5C3, 0x4148]),  # CDAB
        (ByteOrder.LITTLE, WordOrder.BIG, [0x4841, 0xC3F5]),  # BADC
        (ByteOrder.LITTLE, WordOrder.LITTLE, [0xC3F5, 0x4841]),  # DCBA
    ],
)
def test_float32_register_layouts_match_the_plc_names(
    byte_order: ByteOrder, word_order: WordOrder, registers: list[int]
) -> None:
    # 12.56 is 0x4148F5C3 as an IEEE single.
    assert encode(12.56, DataType.FLOAT32, byte_order, word_order) == registers
    assert decode(registers, DataType.FLOAT32, byte_order, word_order) == pytest.approx(12.56)


def test_word_order_puts_the_most_significant_word_first_when_big() -> None:
    assert encode(0x11223344, DataType.UINT32) == [0x1122, 0x3344]
    assert encode(0x11223344, DataType.UINT32, word_order=WordOrder.LITTLE) == [0x3344, 0x1122]
    value = 0x1122334455667788
    assert encode(struct.unpack(">d", value.to_bytes(8, "big"))[0], DataType.FLOAT64) == [
        0x1122,
        0x3344,
        0x5566,
        0x7788,
    ]


def test_strings_two_characters_per_register_high_byte_first() -> None:
    assert encode("ABC", DataType.STRING, length=4) == [0x4142, 0x4300]
    assert encode("ABC", DataType.STRING, ByteOrder.LITTLE, length=4) == [0x4241, 0x0043]
    assert decode([0x4142, 0x4300], DataType.STRING, length=4) == "ABC"
    assert decode([0x4142, 0x4300], DataType.STRING, length=3) == "ABC"


def test_string_decode_drops_nuls_and_replaces_invalid_bytes() -> None:
    assert decode([0x4100, 0x0042], DataType.STRING, length=4) == "AB"
    assert decode([0xFF41, 0x0000], DataType.STRING, length=4) == "\ufffdA"


def test_nan_is_a_value() -> None:
    registers = encode(float("nan"), DataType.FLOAT32)
    assert math.isnan(decode(registers, DataType.FLOAT32))
    assert math.isnan(decode([0x7FF8, 0, 0, 0], DataType.FLOAT64))


def test_bool_in_a_register_is_nonzero_and_bits_are_counted_from_the_lsb() -> None:
    assert decode([0x0100], DataType.BOOL) is True
    assert decode([0], DataType.BOOL) is False
    assert decode([0x8001], DataType.BOOL, bit=0) is True
    assert decode([0x8001], DataType.BOOL, bit=1) is False
    assert decode([0x8001], DataType.BOOL, bit=15) is True


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (32768, DataType.INT16, "out of range for int16 (-32768..32767)"),
        (-1, DataType.UINT16, "out of range for uint16"),
        (2**32, DataType.UINT32, "out of range for uint32"),
        (-(2**31) - 1, DataType.INT32, "out of range for int32"),
        (1.5, DataType.INT16, "not a whole number"),
        (1e39, DataType.FLOAT32, "out of range for float32"),
        ("7", DataType.INT16, "not a number"),
        ("too long", DataType.STRING, "at most 4 characters"),
        (3, DataType.STRING, "not a string"),
        (2, DataType.BOOL, "not a bool"),
    ],
)
def test_encode_refuses_values_that_do_not_fit(value: object, kind: DataType, message: str) -> None:
    with pytest.raises(CodecError, match=re.escape(message)):
        encode(value, kind, length=4)


def test_whole_floats_are_accepted_for_integer_types() -> None:
    assert encode(7.0, DataType.INT16) == [7]
    assert encode(True, DataType.UINT16) == [1]


def test_block_decoder_matches_single_value_decoding_on_random_layouts() -> None:
    rng = random.Random(7)
    kinds = sorted(SUPPORTED)
    for _ in range(200):
        count = rng.randint(4, 40)
        registers = [rng.randrange(0x10000) for _ in range(count)]
        fields: list[FieldSpec] = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(kinds)
            length = rng.randint(1, 9) if kind is DataType.STRING else 0
            bit = rng.choice([None, rng.randrange(16)]) if kind is DataType.BOOL else None
            size = 1 if bit is not None else kind.register_count(length)
            if size > count:
                continue
            offset = rng.randrange(count - size + 1)  # fields may overlap each other
            fields.append(
                FieldSpec(
                    offset,
                    kind,
                    rng.choice(list(ByteOrder)),
                    rng.choice(list(WordOrder)),
                    length,
                    bit,
                )
            )
        if not fields:
            continue
        decoder = BlockDecoder(count, fields)
        values = decoder.decode(registers)
        assert sorted(decoder.order) == list(range(len(fields)))
        for index, value in zip(decoder.order, values, strict=True):
            spec = fields[index]
            words = registers[spec.offset : spec.offset + spec.registers]
            expected = decode(
                words, spec.data_type, spec.byte_order, spec.word_order, spec.length, spec.bit
            )
            if isinstance(expected, float) and math.isnan(expected):
                assert math.isnan(value)
            else:
                assert value == expected, spec


def test_block_decoder_refuses_a_block_of_the_wrong_size() -> None:
    decoder = BlockDecoder(2, [FieldSpec(0, DataType.FLOAT32)])
    with pytest.raises(ValueError, match="expected 2 registers, got 3"):
        decoder.decode([0, 0, 0])
    with pytest.raises(ValueError, match="does not fit"):
        BlockDecoder(2, [FieldSpec(1, DataType.FLOAT32)])
