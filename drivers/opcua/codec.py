"""Values between OPC UA variants and tag values, and status codes as quality.

* ``decode`` turns a value the server sent into the tag's type (an Int32 node read by a float64
  tag gives a float; a value outside an integer tag's range is a decode error, never clipped).
* ``encode`` turns a tag value into a ``ua.Variant`` of the node's own built-in type, refusing
  what does not fit (1e6 for an Int16 node) with a message naming the node's type and range.
* ``quality_of`` maps a status code to our quality and a reason carrying the code's name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from asyncua import ua

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason

VARIANT_OF: dict[DataType, ua.VariantType] = {
    DataType.BOOL: ua.VariantType.Boolean,
    DataType.INT8: ua.VariantType.SByte,
    DataType.UINT8: ua.VariantType.Byte,
    DataType.INT16: ua.VariantType.Int16,
    DataType.UINT16: ua.VariantType.UInt16,
    DataType.INT32: ua.VariantType.Int32,
    DataType.UINT32: ua.VariantType.UInt32,
    DataType.INT64: ua.VariantType.Int64,
    DataType.UINT64: ua.VariantType.UInt64,
    DataType.FLOAT32: ua.VariantType.Float,
    DataType.FLOAT64: ua.VariantType.Double,
    DataType.STRING: ua.VariantType.String,
    DataType.DATETIME: ua.VariantType.DateTime,
}
DATA_TYPE_OF: dict[ua.VariantType, DataType] = {v: k for k, v in VARIANT_OF.items()}
DATA_TYPE_OF[ua.VariantType.LocalizedText] = DataType.STRING

_INT_RANGES: dict[ua.VariantType, tuple[int, int]] = {
    ua.VariantType.SByte: (-(2**7), 2**7 - 1),
    ua.VariantType.Byte: (0, 2**8 - 1),
    ua.VariantType.Int16: (-(2**15), 2**15 - 1),
    ua.VariantType.UInt16: (0, 2**16 - 1),
    ua.VariantType.Int32: (-(2**31), 2**31 - 1),
    ua.VariantType.UInt32: (0, 2**32 - 1),
    ua.VariantType.Int64: (-(2**63), 2**63 - 1),
    ua.VariantType.UInt64: (0, 2**64 - 1),
    ua.VariantType.StatusCode: (0, 2**32 - 1),
}
_FLOAT32_MAX = 3.4028234663852886e38
_NUMERIC = {*_INT_RANGES, ua.VariantType.Float, ua.VariantType.Double, ua.VariantType.Boolean}
_TEXT = {ua.VariantType.String, ua.VariantType.LocalizedText, ua.VariantType.QualifiedName}

# Bad codes that say the value is missing because a link (server to device, or to us) is down
COMM_CODES = frozenset(
    {
        "BadNoCommunication",
        "BadNotConnected",
        "BadServerNotConnected",
        "BadCommunicationError",
        "BadConnectionClosed",
        "BadConnectionRejected",
        "BadDisconnect",
        "BadTimeout",
        "BadRequestTimeout",
        "BadShutdown",
        "BadServerHalted",
        "BadSecureChannelClosed",
        "BadSessionClosed",
        "BadSessionIdInvalid",
        "BadDeviceFailure",
        "BadSensorFailure",
        "BadOutOfService",
    }
)


class DecodeError(ValueError):
    """A value the server sent that does not fit the tag."""


class EncodeError(ValueError):
    """A value that does not fit the node's data type."""


def status_name(code: ua.StatusCode | int) -> str:
    """The symbolic name of a status code (``BadOutOfRange``), or its hex value if unknown."""
    status = code if isinstance(code, ua.StatusCode) else ua.StatusCode(cast(Any, code))
    try:
        name = str(status.name)
    except Exception:
        name = ""
    if name in ("", "Good", "Uncertain", "Bad"):  # a code asyncua does not know by name
        return f"{name or 'status'} 0x{int(status.value):08X}"
    return name


def quality_of(status: ua.StatusCode | None) -> tuple[Quality, str]:
    """Quality and reason for a value's status code (None counts as Good)."""
    if status is None or status.is_good():
        return Quality.GOOD, ""
    name = status_name(status)
    if status.is_uncertain():
        return Quality.UNCERTAIN, f"uncertain: {name}"
    if name == "BadWaitingForInitialData":
        return Quality.BAD, f"{Reason.WAITING}: {name}"
    if name in COMM_CODES:
        return Quality.BAD, f"{Reason.COMM_FAILURE}: {name}"
    return Quality.BAD, f"{Reason.DEVICE_EXCEPTION}: {name}"


def to_posix(moment: datetime | None) -> float | None:
    """POSIX seconds of a UA timestamp (naive means UTC); None for none or the null date."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ts = moment.timestamp()
    return ts if ts > 0 else None


def compatible(data_type: DataType, variant: ua.VariantType) -> bool:
    """Whether a tag of ``data_type`` can show a node of built-in type ``variant``."""
    if data_type is DataType.STRING:
        return True  # anything has a text
    if data_type is DataType.DATETIME:
        return variant is ua.VariantType.DateTime
    return variant in _NUMERIC


def decode(value: Any, data_type: DataType, array_length: int = 0) -> Any:
    """``value`` from the server as a value of the tag's type; DecodeError if it does not fit."""
    if array_length:
        if not isinstance(value, list | tuple):
            raise DecodeError(
                f"the node holds one value, the tag expects an array of {array_length}"
            )
        if len(value) != array_length:
            raise DecodeError(
                f"the node holds {len(value)} elements, the tag expects {array_length}"
                " (set array_length to match, or select elements with [first:last])"
            )
        return tuple(_scalar(item, data_type) for item in value)
    if isinstance(value, list | tuple):
        raise DecodeError(
            f"the node holds an array of {len(value)} values: set array_length: {len(value)}"
            " or select one element with [index]"
        )
    return _scalar(value, data_type)


def _scalar(value: Any, data_type: DataType) -> Any:
    if value is None:
        raise DecodeError("the server sent an empty (null) value")
    if data_type is DataType.STRING:
        return _text(value)
    if data_type is DataType.DATETIME:
        if not isinstance(value, datetime):
            raise DecodeError(f"{value!r} is not a date and time")
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, ua.StatusCode):
        value = int(value.value)
    if not isinstance(value, bool | int | float):
        raise DecodeError(f"{type(value).__name__} value {value!r} is not a number")
    if data_type is DataType.BOOL:
        return bool(value)
    if data_type.is_integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise DecodeError(f"{value!r} is not a whole number for a {data_type.value} tag")
            value = int(value)
        low, high = data_type.integer_range()
        number = int(value)
        if not low <= number <= high:
            raise DecodeError(f"{number} does not fit a {data_type.value} tag ({low}..{high})")
        return number
    return float(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    if isinstance(value, ua.QualifiedName):
        return value.Name or ""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def encode(value: Any, variant: ua.VariantType, type_name: str, array: bool) -> ua.Variant:
    """A variant of the node's type holding ``value``; EncodeError names type and range."""
    if array:
        if not isinstance(value, list | tuple):
            raise EncodeError(f"the node is an array of {type_name}: write a list of values")
        return ua.Variant([_encode_scalar(v, variant, type_name) for v in value], variant)
    if isinstance(value, list | tuple):
        raise EncodeError(f"the node holds one {type_name}, not a list")
    return ua.Variant(_encode_scalar(value, variant, type_name), variant)


def _encode_scalar(value: Any, variant: ua.VariantType, type_name: str) -> Any:
    if variant is ua.VariantType.Boolean:
        if isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1)):
            return bool(value)
        raise EncodeError(f"{value!r} is not a boolean (the node is {type_name})")
    if variant in _INT_RANGES:
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                raise EncodeError(f"{value!r} is not a whole number (the node is {type_name})")
            value = int(value)
        if not isinstance(value, int):
            raise EncodeError(f"{value!r} is not a number (the node is {type_name})")
        low, high = _INT_RANGES[variant]
        if not low <= value <= high:
            raise EncodeError(f"{value} does not fit the node's type {type_name} ({low}..{high})")
        return value
    if variant in (ua.VariantType.Float, ua.VariantType.Double):
        if not isinstance(value, int | float):
            raise EncodeError(f"{value!r} is not a number (the node is {type_name})")
        number = float(value)
        if variant is ua.VariantType.Float and math.isfinite(number) and abs(number) > _FLOAT32_MAX:
            raise EncodeError(f"{value} does not fit the node's type Float (±3.4e38)")
        return number
    if variant is ua.VariantType.String:
        return value if isinstance(value, str) else _text(value)
    if variant is ua.VariantType.LocalizedText:
        return ua.LocalizedText(value if isinstance(value, str) else _text(value))
    if variant is ua.VariantType.DateTime:
        if not isinstance(value, datetime):
            raise EncodeError(f"{value!r} is not a date and time (the node is DateTime)")
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raise EncodeError(f"the node's type {type_name} cannot be written by hmi-app")


def variant_type_of(data_type_id: ua.NodeId) -> ua.VariantType | None:
    """The built-in type of a namespace-0 built-in data type id; None for others."""
    if data_type_id.NamespaceIndex == 0 and isinstance(data_type_id.Identifier, int):
        try:
            return ua.VariantType(data_type_id.Identifier)
        except ValueError:
            return None
    return None


def describe_variant(
    variant: ua.VariantType, value_rank: int, dimensions: Sequence[int] | None
) -> str:
    """``Double``, ``Int16[10]`` or ``Float[]`` for a node's type, for messages and the browser."""
    name = str(variant.name)
    if value_rank >= 1 or value_rank == 0:
        size = "x".join(str(d) for d in dimensions or () if d) if dimensions else ""
        return f"{name}[{size}]"
    return name
