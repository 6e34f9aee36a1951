"""What operators and scripts type, turned into tag values (or refused with a reason)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hmi_app.core.datatypes import DataType
from hmi_app.core.tagsource import WriteRefused
from hmi_app.runtime.coercion import coerce


def test_scalars() -> None:
    assert coerce("on", DataType.BOOL) is True
    assert coerce("12", DataType.INT8) == 12
    assert coerce("2.5", DataType.FLOAT32) == 2.5
    assert coerce(2**63, DataType.UINT64) == 2**63
    with pytest.raises(WriteRefused, match="not a whole number"):
        coerce("2.5", DataType.INT64)


def test_arrays_take_lists_or_json_text() -> None:
    assert coerce([1, "2", 3], DataType.INT16, array_length=3) == (1, 2, 3)
    assert coerce("[0.5, 1]", DataType.FLOAT64, array_length=2) == (0.5, 1.0)
    with pytest.raises(WriteRefused, match="2 values given; the array holds 3"):
        coerce([1, 2], DataType.INT16, array_length=3)
    with pytest.raises(WriteRefused, match="not a list of values"):
        coerce("7", DataType.INT16, array_length=3)


def test_datetimes_are_timezone_aware() -> None:
    assert coerce("2026-11-21T08:30:00Z", DataType.DATETIME) == datetime(
        2026, 11, 21, 8, 30, tzinfo=UTC
    )
    assert coerce("2026-11-21 08:30", DataType.DATETIME).tzinfo is UTC
    with pytest.raises(WriteRefused, match="not a date and time"):
        coerce("yesterday", DataType.DATETIME)
