"""What the Modbus TCP and Modbus RTU tests put in a device and expect back, so both transports
are held to the same cases.

* :class:`RefusingBlock`: a pymodbus datastore block with holes in its memory map, and
  :class:`DeviceTables`: the four tables of one device made of them;
* :data:`WRITE_VALUES` and :func:`round_trip_points`: a value per data type and a point per
  data type, byte order and word order (plus register bits and a coil) for write-read round trips;
* :func:`holding`, :func:`inputs`, :data:`POINTS`, :data:`EXPECTED` and
  :func:`assert_nothing_misplaced`: registers whose values derive from their own address, so a
  reply credited to the wrong point shows up as a GOOD sample with the wrong value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock

from drivers.base import PointSpec
from hmi_app.core.datatypes import ByteOrder, DataType, WordOrder
from hmi_app.core.quality import Quality
from tests.support.recording import Recorder


class RefusingBlock(ModbusSequentialDataBlock):
    """A sequential block (indexed by protocol address) that answers ``refusal``
    (ILLEGAL_ADDRESS unless set) for any read touching an address in ``refused``, and
    ILLEGAL_ADDRESS for any write touching one, like a PLC with holes in its memory map."""

    def __init__(self, values: list[int] | list[bool]) -> None:
        # ModbusDeviceContext adds 1 to every protocol address; starting at 1 undoes it.
        super().__init__(1, values)
        self.refused: set[int] = set()
        self.refusal = ExcCodes.ILLEGAL_ADDRESS

    def getValues(self, address: int, count: int = 1) -> list[int] | list[bool] | ExcCodes:
        if self.refused and any(a - 1 in self.refused for a in range(address, address + count)):
            return self.refusal
        return super().getValues(address, count)

    def setValues(self, address: int, values: list[int] | list[bool]) -> ExcCodes | None:
        count = len(values) if isinstance(values, list) else 1
        if self.refused and any(a - 1 in self.refused for a in range(address, address + count)):
            return ExcCodes.ILLEGAL_ADDRESS
        return super().setValues(address, values)


class DeviceTables:
    """The four tables of one Modbus device, ``size`` addresses each (index = protocol address):
    holding registers ``hr``, input registers ``ir``, coils ``co`` and discrete inputs ``di``."""

    def __init__(self, size: int) -> None:
        self.hr = RefusingBlock([0] * size)
        self.ir = RefusingBlock([0] * size)
        self.co = RefusingBlock([False] * size)
        self.di = RefusingBlock([False] * size)

    def as_device(self) -> ModbusDeviceContext:
        """A pymodbus device context serving these tables."""
        return ModbusDeviceContext(hr=self.hr, ir=self.ir, co=self.co, di=self.di)


# ---- write-read round trips --------------------------------------------------------------------
WRITE_VALUES: dict[DataType, object] = {
    DataType.BOOL: True,
    DataType.INT16: -12345,
    DataType.UINT16: 54321,
    DataType.INT32: -1234567890,
    DataType.UINT32: 3456789012,
    DataType.FLOAT32: -1.25,
    DataType.FLOAT64: math.e,
    DataType.INT64: -(2**62) - 5,
    DataType.UINT64: 2**64 - 3,
    DataType.STRING: "Filler 7",
}


def round_trip_points(kinds: Iterable[DataType], scan_ms: int = 50) -> list[PointSpec]:
    """One holding-register point per type of ``kinds`` (the driver's supported types), byte
    order and word order, one unused register apart from HR0 on (strings 9 characters long), then
    the last three: ``bit3`` (HR500.3), ``bit15`` (HR500.15) and ``coil`` (CO7)."""
    points: list[PointSpec] = []
    address = 0
    for kind, (byte_order, word_order) in itertools.product(
        kinds, itertools.product(ByteOrder, WordOrder)
    ):
        length = 9 if kind is DataType.STRING else 0
        key = f"{kind.value}-{byte_order.value}-{word_order.value}"
        points.append(
            PointSpec(key, f"HR{address}", kind, byte_order, word_order, length, scan_ms=scan_ms)
        )
        address += kind.register_count(length) + 1
    return [
        *points,
        PointSpec("bit3", "HR500.3", DataType.BOOL, scan_ms=scan_ms),
        PointSpec("bit15", "HR500.15", DataType.BOOL, scan_ms=scan_ms),
        PointSpec("coil", "CO7", DataType.BOOL, scan_ms=scan_ms),
    ]


# ---- values that name their own address --------------------------------------------------------
def holding(address: int) -> int:
    """The value of holding register ``address``."""
    return (1000 + address * 7) & 0xFFFF


def inputs(address: int) -> int:
    """The value of input register ``address``."""
    return (30000 + address * 3) & 0xFFFF


POINTS = [
    PointSpec("hr0", "HR0", DataType.UINT16, scan_ms=50),
    PointSpec("hr100", "HR100", DataType.UINT16, scan_ms=50),
    PointSpec("hr200", "HR200", DataType.UINT16, scan_ms=50),
    PointSpec("ir0", "IR0", DataType.UINT16, scan_ms=50),
    PointSpec("pair", "HR300", DataType.UINT32, scan_ms=50),
]
EXPECTED = {
    "hr0": holding(0),
    "hr100": holding(100),
    "hr200": holding(200),
    "ir0": inputs(0),
    "pair": holding(300) << 16 | holding(301),
}


def assert_nothing_misplaced(recorder: Recorder) -> None:
    """Every GOOD sample of :data:`POINTS` holds its own address's value."""
    for sample in recorder.samples:
        if sample.quality is Quality.GOOD:
            assert sample.value == EXPECTED[sample.key], sample
