"""Modbus address syntax and per-point validation, with the messages a user sees."""

from __future__ import annotations

import pytest

from drivers.base import AddressError, PointSpec
from drivers.modbus.address import ModbusAddress, Table, parse, validate
from drivers.modbus.tcp import ModbusTcpDriver
from hmi_app.core.datatypes import DataType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HR0", ModbusAddress(Table.HOLDING, 0)),
        ("hr100", ModbusAddress(Table.HOLDING, 100)),
        ("Ir7", ModbusAddress(Table.INPUT, 7)),
        ("CO65535", ModbusAddress(Table.COIL, 65535)),
        ("di12", ModbusAddress(Table.DISCRETE, 12)),
        ("HR5.0", ModbusAddress(Table.HOLDING, 5, 0)),
        ("hr5.15", ModbusAddress(Table.HOLDING, 5, 15)),
        (" IR3.7 ", ModbusAddress(Table.INPUT, 3, 7)),
    ],
)
def test_parse_accepts_the_four_tables_any_case(text: str, expected: ModbusAddress) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "XY3",
            "'XY3' is not a Modbus address: use HR, IR, CO or DI followed by a number (e.g. HR100)",
        ),
        ("HR", "'HR' is not a Modbus address"),
        ("HR-1", "'HR-1' is not a Modbus address"),
        ("40001", "'40001' is not a Modbus address"),
        ("HR70000", "'HR70000' is beyond the Modbus range 0..65535"),
        ("HR5.16", "'HR5.16': bit 16 is beyond the register's bits 0..15"),
        ("CO5.1", "'CO5.1': coils and discrete inputs are single bits already; drop the '.1'"),
    ],
)
def test_parse_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(AddressError) as info:
        parse(text)
    assert str(info.value).startswith(message)


def point(address: str, kind: DataType, length: int = 0) -> PointSpec:
    return PointSpec("p", address, kind, length=length)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (point("CO1", DataType.FLOAT32), "'CO1': coils and discrete inputs hold bool, not float32"),
        (point("DI1", DataType.INT16), "'DI1': coils and discrete inputs hold bool, not int16"),
        (point("HR1.3", DataType.INT16), "'HR1.3': a bit in a register is a bool, not int16"),
        (
            point("HR65535", DataType.FLOAT32),
            "'HR65535': float32 (2 registers) runs past the end of the Modbus range 0..65535",
        ),
        (point("IR65533", DataType.FLOAT64), "'IR65533': float64 (4 registers) runs past the end"),
        (
            point("HR65530", DataType.STRING, 20),
            "'HR65530': a string of 20 characters (10 registers) runs past the end",
        ),
        (point("HR1", DataType.STRING, 0), "'HR1': a string needs a length in characters"),
        (
            point("HR1", DataType.STRING, 300),
            "'HR1': a string of 300 characters (150 registers)"
            " does not fit in one request of at most 125 registers",
        ),
    ],
)
def test_validate_rejects_types_that_do_not_fit(spec: PointSpec, message: str) -> None:
    with pytest.raises(AddressError) as info:
        validate(spec)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "spec",
    [
        point("HR65535", DataType.UINT16),
        point("HR65534", DataType.FLOAT32),
        point("IR65532", DataType.FLOAT64),
        point("CO9", DataType.BOOL),
        point("HR9", DataType.BOOL),
        point("HR9.15", DataType.BOOL),
        point("HR0", DataType.STRING, 250),
    ],
)
def test_validate_accepts_values_that_fit(spec: PointSpec) -> None:
    validate(spec)


def test_driver_validates_against_its_block_size() -> None:
    driver = ModbusTcpDriver("plc", ModbusTcpDriver.Settings(max_block_registers=2))
    driver.validate(point("HR0", DataType.FLOAT32))
    with pytest.raises(AddressError, match="max_block_registers"):
        driver.validate(point("HR0", DataType.FLOAT64))


def test_types_without_a_register_layout_and_arrays_are_refused() -> None:
    from drivers.base import AddressError, PointSpec
    from drivers.modbus.address import validate
    from hmi_app.core.datatypes import DataType

    with pytest.raises(AddressError, match="int8 has no Modbus register layout"):
        validate(PointSpec("a", "HR1", DataType.INT8))
    with pytest.raises(AddressError, match="Modbus tags are scalars"):
        validate(PointSpec("a", "HR1", DataType.INT16, array_length=4))
