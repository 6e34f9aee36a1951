"""Turning what an operator or script typed into a value of a tag's type, with clear refusals."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from hmi_app.core.datatypes import DataType
from hmi_app.core.tagsource import WriteRefused

_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}


def coerce(value: Any, data_type: DataType, length: int = 0, array_length: int = 0) -> Any:
    """``value`` as a value of ``data_type`` in engineering units; WriteRefused if it is not.

    An array tag takes a list or tuple (or its JSON text, ``[1, 2, 3]``) of ``array_length``
    elements and becomes a tuple.
    """
    if array_length:
        items = _to_sequence(value)
        if len(items) != array_length:
            raise WriteRefused(f"{len(items)} values given; the array holds {array_length}")
        return tuple(coerce(item, data_type, length) for item in items)
    if data_type is DataType.DATETIME:
        return _to_datetime(value)
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


def _to_sequence(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    raise WriteRefused(f"{value!r} is not a list of values (e.g. [1, 2, 3])")


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise WriteRefused(
                f"{value!r} is not a date and time (e.g. 2026-11-21T08:30:00Z)"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
