"""Turning what an operator or script typed into a value of a tag's type, with clear refusals."""

from __future__ import annotations

import math
from typing import Any

from hmi_app.core.datatypes import DataType
from hmi_app.core.tagsource import WriteRefused

_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}


def coerce(value: Any, data_type: DataType, length: int = 0) -> Any:
    """``value`` as a value of ``data_type`` in engineering units; WriteRefused if it is not."""
    if data_type is DataType.BOOL:
        return _to_bool(value)
    if data_type is DataType.STRING:
        text = str(value)
        if length and len(text) > length:
            raise WriteRefused(f"text is {len(text)} characters long; at most {length} fit")
        return text
    number = _to_number(value)
    if data_type.is_integer:
        if isinstance(number, float) and not number.is_integer():
            raise WriteRefused(f"{value!r} is not a whole number")
        return int(number)
    return float(number)


def check_integer_range(raw: float, data_type: DataType) -> int:
    """Round a raw value for an integer device type and check it fits the type."""
    low, high = data_type.integer_range()
    rounded = round(raw)
    if not low <= rounded <= high:
        raise WriteRefused(
            f"{rounded} does not fit the device type {data_type.value} ({low}..{high})"
        )
    return rounded


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise WriteRefused(f"{value!r} is not a boolean (use 1/0, true/false, on/off)")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        number: int | float = value
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise WriteRefused(f"{value!r} is not a number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise WriteRefused(f"{value!r} is not a finite number")
    return number
