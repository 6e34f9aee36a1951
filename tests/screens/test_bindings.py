"""Expression bindings over a real MemoryTagSource: inputs, quality, change-only callbacks,
cancelling, and the display metadata of a binding."""

from __future__ import annotations

import pytest

from hmi_app.core.datatypes import DataType
from hmi_app.core.expressions import ExpressionError, compile_expression
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import TagMeta
from screens.bindings import ExpressionBinding, bind_source, binding_meta, result_meta
from screens.memory_source import MemoryTagSource

METAS = [
    TagMeta("line1.state", DataType.INT16),
    TagMeta("line1.fault_code", DataType.UINT16),
    TagMeta("line1.running", DataType.BOOL),
    TagMeta("line1.name", DataType.STRING),
    TagMeta("line1.tank.level", DataType.FLOAT32, units="m", display_format=".2f"),
    TagMeta("line1.filler.speed", DataType.FLOAT32, units="bpm", display_format=".1f"),
]


@pytest.fixture
def source() -> MemoryTagSource:
    return MemoryTagSource(METAS)


class Received(list[TagValue]):
    """Callback that keeps what it was given."""

    def __call__(self, value: TagValue) -> None:
        self.append(value)

    @property
    def values(self) -> list[object]:
        return [record.value for record in self]


def test_result_follows_the_inputs(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.state == 2 or line1.fault_code != 0", source, got)
    assert got == []  # nothing known yet: nothing to say (like a plain subscription)
    source.set("line1.state", 1)
    source.set("line1.fault_code", 0)
    source.flush()
    # the source hands on one tag after the other: for a moment only line1.state is known
    assert [(r.value, r.quality, r.reason) for r in got] == [
        (None, Quality.BAD, Reason.WAITING),
        (False, Quality.GOOD, ""),
    ]
    source.set("line1.fault_code", 5)
    source.flush()
    assert got.values[1:] == [False, True]
    source.set("line1.fault_code", 0)
    source.set("line1.state", 2)
    source.flush()
    assert got.values[-1] is True


def test_current_values_give_a_first_result_when_subscribing(source: MemoryTagSource) -> None:
    source.set("line1.tank.level", 2.5)
    source.flush()
    got = Received()
    ExpressionBinding("line1.tank.level * 10", source, got)
    assert got.values == [25.0]


def test_missing_input_is_bad_waiting(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.state + line1.fault_code", source, got)
    source.set("line1.state", 1)
    source.flush()
    assert len(got) == 1
    assert got[0].value is None
    assert got[0].quality is Quality.BAD
    assert got[0].reason == Reason.WAITING
    source.set("line1.fault_code", 4)
    source.flush()
    assert got[-1] == TagValue(5, Quality.GOOD, got[-1].source_ts, got[-1].recv_ts, "")


def test_quality_is_the_worst_input_quality_with_its_reason(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.tank.level + line1.filler.speed", source, got)
    source.set("line1.tank.level", 1.0)
    source.set("line1.filler.speed", 2.0)
    source.flush()
    assert (got[-1].value, got[-1].quality) == (3.0, Quality.GOOD)
    source.set("line1.filler.speed", 2.0, Quality.STALE, Reason.NO_UPDATE)
    source.flush()
    assert (got[-1].value, got[-1].quality, got[-1].reason) == (3.0, Quality.STALE, "no update")
    source.set("line1.tank.level", 1.0, Quality.UNCERTAIN, "sensor drift")
    source.flush()
    assert got[-1].quality is Quality.STALE  # still the worst of the two
    source.set("line1.tank.level", 1.0, Quality.BAD, f"{Reason.COMM_FAILURE}: link down")
    source.flush()
    # a BAD input makes the result BAD with its reason (the last values are still computed)
    assert got[-1].quality is Quality.BAD
    assert got[-1].reason == "comm failure: link down"
    source.set("line1.tank.level", 1.5)
    source.set("line1.filler.speed", 2.0)
    source.flush()
    assert (got[-1].value, got[-1].quality, got[-1].reason) == (3.5, Quality.GOOD, "")


def test_bad_input_without_a_usable_value_keeps_its_reason(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.state > 0", source, got)
    source.set("line1.state", None, Quality.BAD, Reason.NOT_CONNECTED)
    source.flush()
    assert (got[-1].value, got[-1].quality, got[-1].reason) == (
        None,
        Quality.BAD,
        Reason.NOT_CONNECTED,
    )


def test_evaluation_error_is_bad_config_error(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.tank.level / line1.state", source, got)
    source.set("line1.tank.level", 3.0)
    source.set("line1.state", 0)
    source.flush()
    assert got[-1].quality is Quality.BAD
    assert got[-1].value is None
    assert got[-1].reason.startswith(f"{Reason.CONFIG_ERROR}: division by zero")
    source.set("line1.state", 2)
    source.flush()
    assert (got[-1].value, got[-1].quality) == (1.5, Quality.GOOD)


def test_timestamps_are_the_newest_input_timestamps(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.state + line1.fault_code", source, got)
    source.set("line1.state", 1)
    source.set("line1.fault_code", 1)
    source.flush()
    newest = max(
        record.source_ts
        for record in (source.current("line1.state"), source.current("line1.fault_code"))
        if record is not None
    )
    assert got[-1].source_ts == newest
    source.set("line1.state", 2)
    source.flush()
    state = source.current("line1.state")
    assert state is not None
    assert got[-1].source_ts == state.source_ts
    assert got[-1].recv_ts == state.recv_ts


def test_calls_back_only_when_the_result_changes(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.filler.speed > 0", source, got)
    for speed in (10.0, 12.0, 15.0, 0.0, 0.0, 3.0, 4.0):
        source.set("line1.filler.speed", speed)
        source.flush()
    assert got.values == [True, False, True]
    source.set("line1.filler.speed", 4.0, Quality.UNCERTAIN, "manual value")
    source.flush()
    source.set("line1.filler.speed", 5.0, Quality.UNCERTAIN, "manual value")
    source.flush()
    assert [(r.value, r.quality) for r in got[-1:]] == [(True, Quality.UNCERTAIN)]
    assert len(got) == 4  # the reason changing the quality is news; the same again is not


def test_a_result_of_another_type_is_a_change(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("1 if line1.state else True", source, got)
    source.set("line1.state", 1)
    source.flush()
    source.set("line1.state", 0)
    source.flush()
    assert got.values == [1, True]  # equal by ==, yet a widget shows them differently


def test_nan_results_are_not_repeated(source: MemoryTagSource) -> None:
    got = Received()
    ExpressionBinding("line1.tank.level * 1", source, got)
    for _ in range(3):
        source.set("line1.tank.level", float("nan"))
        source.flush()
    assert len(got) == 1


def test_cancel_drops_every_inner_subscription(source: MemoryTagSource) -> None:
    got = Received()
    before = source.listener_count()
    binding = ExpressionBinding(
        "(line1.tank.level + line1.filler.speed) / 2 if line1.running else 0", source, got
    )
    assert source.listener_count() == before + 3
    assert source.listener_count("line1.running") == 1
    binding.cancel()
    assert source.listener_count() == before
    source.set("line1.running", True)
    source.flush()
    assert got == []
    binding.cancel()  # twice is harmless


def test_unknown_tag_raises_and_leaves_no_subscription(source: MemoryTagSource) -> None:
    with pytest.raises(KeyError):
        ExpressionBinding("line1.state + line1.nothing", source, Received())
    assert source.listener_count() == 0


def test_invalid_expression_raises_before_subscribing(source: MemoryTagSource) -> None:
    with pytest.raises(ExpressionError):
        ExpressionBinding("line1.state ** 2", source, Received())
    assert source.listener_count() == 0


def test_constant_expression_gives_one_value(source: MemoryTagSource) -> None:
    got = Received()
    binding = ExpressionBinding("2 * 21", source, got)
    source.flush()
    assert got.values == [42]
    assert got[0].quality is Quality.GOOD
    binding.cancel()


def test_compiled_expression_is_accepted(source: MemoryTagSource) -> None:
    got = Received()
    source.set("line1.state", 3)
    binding = ExpressionBinding(compile_expression("line1.state in (1, 3)"), source, got)
    assert binding.expression.tags == ("line1.state",)
    assert got.values == [True]


# ---- bind_source -----------------------------------------------------------------------------
def test_bind_source_subscribes_a_plain_tag_directly(source: MemoryTagSource) -> None:
    got = Received()
    sub = bind_source("line1.state", source, got)
    assert not isinstance(sub, ExpressionBinding)
    source.set("line1.state", 7, Quality.STALE, "no update")
    source.flush()
    assert (got[-1].value, got[-1].quality) == (7, Quality.STALE)
    sub.cancel()
    assert source.listener_count() == 0


def test_bind_source_binds_an_expression(source: MemoryTagSource) -> None:
    got = Received()
    sub = bind_source("not line1.running", source, got)
    assert isinstance(sub, ExpressionBinding)
    source.set("line1.running", False)
    source.flush()
    assert got.values == [True]
    sub.cancel()
    assert source.listener_count() == 0


# ---- metadata ---------------------------------------------------------------------------------
def test_meta_of_a_lone_tag_is_that_tags_meta(source: MemoryTagSource) -> None:
    assert binding_meta("line1.tank.level", source) == METAS[4]
    assert result_meta("(line1.tank.level)", source) == METAS[4]


def test_meta_of_a_bool_result(source: MemoryTagSource) -> None:
    meta = binding_meta("line1.tank.level > 2", source)
    assert meta == TagMeta("line1.tank.level > 2", DataType.BOOL)


def test_meta_of_a_number_takes_format_and_units_of_the_first_numeric_tag(
    source: MemoryTagSource,
) -> None:
    meta = result_meta(compile_expression("line1.running * line1.filler.speed * 2"), source)
    assert meta.name == "line1.running * line1.filler.speed * 2"
    assert meta.data_type is DataType.FLOAT64
    assert (meta.units, meta.display_format) == ("bpm", ".1f")
    assert meta.format_value(12.345) == "12.3"
    assert not meta.writable


def test_meta_of_a_number_without_numeric_tags(source: MemoryTagSource) -> None:
    meta = binding_meta("abs(-4)", source)
    assert (meta.data_type, meta.units, meta.display_format) == (DataType.FLOAT64, "", "")


def test_meta_of_a_string_result(source: MemoryTagSource) -> None:
    meta = binding_meta("str(line1.state) + ' bottles'", source)
    assert meta == TagMeta("str(line1.state) + ' bottles'", DataType.STRING)


def test_meta_of_an_any_result_follows_the_first_tag(source: MemoryTagSource) -> None:
    text = "line1.name if line1.running else line1.state"
    assert compile_expression(text).result_kind == "any"
    meta = binding_meta(text, source)
    assert (meta.name, meta.data_type) == (text, DataType.STRING)


def test_meta_of_unknown_tag_or_bad_text_raises(source: MemoryTagSource) -> None:
    with pytest.raises(KeyError):
        binding_meta("line1.nothing > 0", source)
    with pytest.raises(KeyError):
        binding_meta("line1.nothing", source)
    with pytest.raises(ExpressionError):
        binding_meta("line1.state[0]", source)
