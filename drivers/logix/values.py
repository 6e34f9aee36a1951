"""Value conversion of the Logix driver: pycomm3's values into the point's shape (reads) and
a written value checked and converted for the point's type and range (writes).
"""

from __future__ import annotations

from typing import Any

from drivers.base import DriverWriteError, PointSpec
from drivers.logix.tags import STRING_CHARS
from hmi_app.core.datatypes import DataType


def from_device(value: Any, spec: PointSpec) -> Any:
    """A value as pycomm3 gave it, in the point's shape: arrays as tuples."""
    if spec.array_length:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected {spec.array_length} elements, got {value!r}")
        return tuple(_scalar(v, spec.data_type) for v in value[: spec.array_length])
    return _scalar(value, spec.data_type)


def _scalar(value: Any, data_type: DataType) -> Any:
    if data_type is DataType.BOOL:
        return bool(value)
    if data_type is DataType.STRING:
        return str(value)
    if data_type.is_integer:
        return int(value)
    return float(value)


def to_device(value: Any, point: PointSpec) -> Any:
    """``value`` checked and converted for the point's type; DriverWriteError if it does not
    fit. Arrays become lists of ``array_length`` elements."""
    if point.array_length:
        if not isinstance(value, list | tuple) or len(value) != point.array_length:
            raise DriverWriteError(
                f"cannot write {value!r} to {point.address}:"
                f" give a list of {point.array_length} values"
            )
        return [_scalar_to_device(v, point) for v in value]
    return _scalar_to_device(value, point)


def _scalar_to_device(value: Any, point: PointSpec) -> Any:
    kind = point.data_type
    where = point.address
    if kind is DataType.BOOL:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return bool(value)
        raise DriverWriteError(f"cannot write {value!r} to {where}: not a bool")
    if kind is DataType.STRING:
        if not isinstance(value, str):
            raise DriverWriteError(f"cannot write {value!r} to {where}: not a string")
        limit = min(point.length or STRING_CHARS, STRING_CHARS)
        if len(value) > limit:
            raise DriverWriteError(
                f"cannot write to {where}: {len(value)} characters; at most {limit} fit"
            )
        try:
            value.encode("iso-8859-1")
        except UnicodeEncodeError:
            raise DriverWriteError(f"cannot write to {where}: Logix strings are Latin-1") from None
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DriverWriteError(f"cannot write {value!r} to {where}: not a number")
    if kind.is_integer:
        if isinstance(value, float) and not value.is_integer():
            raise DriverWriteError(f"cannot write {value!r} to {where}: not a whole number")
        low, high = kind.integer_range()
        if not low <= value <= high:
            raise DriverWriteError(
                f"cannot write {value!r} to {where}: outside {kind.value} ({low}..{high})"
            )
        return int(value)
    return float(value)
