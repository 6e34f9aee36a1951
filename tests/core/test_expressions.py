"""Safe expressions: what parses, what is refused (and where), what they evaluate to."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hmi_app.core.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    compile_expression,
    is_tag_reference,
)


def refused(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    return info.value


# ---- tag references ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["line1.filler.speed", "speed", "_x.y_2", "tank.in"])
def test_plain_dotted_names_are_tag_references(text: str) -> None:
    assert is_tag_reference(text)


@pytest.mark.parametrize(
    "text", ["line1.speed > 0", " line1.speed", "line1..speed", "1line", "a.b()", "True", ""]
)
def test_anything_else_is_not_a_tag_reference(text: str) -> None:
    assert not is_tag_reference(text)


# ---- parsing: tags and result kinds -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tags", "kind"),
    [
        ("line1.filler.speed > 0", ("line1.filler.speed",), "bool"),
        ("line1.state == 2 or line1.fault_code != 0", ("line1.state", "line1.fault_code"), "bool"),
        ("line1.tank.level * 10", ("line1.tank.level",), "number"),
        ("not line1.running", ("line1.running",), "bool"),
        ("(a.b + c.d) / 2", ("a.b", "c.d"), "number"),
        ("min(a.x, 100)", ("a.x",), "number"),
        ("line1.state in (1, 3)", ("line1.state",), "bool"),
        ("0 < a.x <= 10", ("a.x",), "bool"),
        ("line1.filler.speed", ("line1.filler.speed",), "any"),
        ("'running'", (), "string"),
        ("str(a.x) + ' rpm'", ("a.x",), "string"),
        ("-a.x", ("a.x",), "number"),
        ("bool(a.x)", ("a.x",), "bool"),
        ("1 if a.x else 0", ("a.x",), "number"),
        ("'on' if a.x else 0", ("a.x",), "any"),
        ("'on' if a.x else b.y", ("a.x", "b.y"), "string"),
        ("b.y if a.x else c.z", ("b.y", "a.x", "c.z"), "any"),
        ("max(a.x, b.y)", ("a.x", "b.y"), "any"),
        ("True", (), "bool"),
    ],
)
def test_tags_in_first_use_order_and_result_kind(
    text: str, tags: tuple[str, ...], kind: str
) -> None:
    expression = compile_expression(text)
    assert expression.text == text
    assert expression.tags == tags
    assert expression.result_kind == kind


def test_tags_are_listed_once_in_text_order_even_for_if_else() -> None:
    # ast visits the condition first; the text has the value first
    expression = compile_expression("a.x if b.y else a.x + c.z")
    assert expression.tags == ("a.x", "b.y", "c.z")


def test_a_lone_tag_even_in_brackets_is_a_single_tag() -> None:
    assert compile_expression("(line1.speed)").single_tag == "line1.speed"
    assert compile_expression("line1.speed + 0").single_tag is None


def test_keywords_as_parts_of_a_tag_name_are_one_tag() -> None:
    expression = compile_expression("tank.in > tank.out and pump.if.x")
    assert expression.tags == ("tank.in", "tank.out", "pump.if.x")
    assert expression.evaluate({"tank.in": 3, "tank.out": 2, "pump.if.x": 1}) is True


# ---- refusals, with the place --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "offset", "words"),
    [
        ("a.b.upper()", 0, "method calls"),
        ("x + a[1]", 4, "indexing"),
        ("lambda: 1", 0, "lambda"),
        ("[x for x in y]", 0, "comprehensions"),
        ("a.__class__", 0, "'__class__'"),
        ("__import__('os')", 0, "unknown function '__import__'"),
        ("open('f')", 0, "unknown function 'open'"),
        ("a ** 2", 2, "**"),
        ("(a + b) ** 99", 8, "**"),
        ("a & 1", 2, "&"),
        ("~a", 0, "~"),
        ("1 < a is None", 6, "'is'"),
        ("x in y", 5, "literal tuple"),
        ("x in (1, y)", 9, "only constants"),
        ("(x := 1)", 1, ":="),
        ("f'{a}'", 0, "f-strings"),
        ("None", 0, "None"),
        ("1j", 0, "1j"),
        ("(1, 2)", 0, "tuples"),
        ("{1: 2}", 0, "dictionaries"),
        ("round(x, ndigits=2)", 9, "keyword arguments"),
        ("abs(1, 2)", 0, "abs() takes 1 argument, not 2"),
        ("min()", 0, "at least 1"),
        ("y + int", 4, "'int' needs (...)"),
        ("'x'.join(a)", 0, "method calls"),
        ("  a.b[0]", 2, "indexing"),
        ("'°C°' + a[0]", 8, "indexing"),
    ],
)
def test_refused_constructs_name_what_and_where(text: str, offset: int, words: str) -> None:
    error = refused(text)
    assert words in str(error)
    assert error.offset == offset
    assert f"at character {offset + 1}" in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("a +", 3), ("a.b > > 1", 6), ("(a + b", 0), ("'°C' + ** 2", 7), ("  a b", 4), ("a.1", 1)],
)
def test_syntax_errors_give_the_position(text: str, offset: int) -> None:
    error = refused(text)
    assert error.offset == offset, str(error)
    assert f"at character {offset + 1}" in str(error)


def test_empty_text_is_refused() -> None:
    assert "empty" in str(refused("   "))


def test_long_text_is_refused() -> None:
    text = " + ".join(["a.b"] * 200)
    assert len(text) > MAX_LENGTH
    error = refused(text)
    assert error.offset == MAX_LENGTH
    assert str(MAX_LENGTH) in str(error)


def test_deep_nesting_is_refused() -> None:
    text = "-" * (MAX_DEPTH + 5) + "a"
    error = refused(text)
    assert "nested too deeply" in str(error)
    assert 0 < error.offset < len(text)
    compile_expression("-" * (MAX_DEPTH - 1) + "a")  # just within the limit


def test_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)


# ---- evaluation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "values", "result"),
    [
        ("line1.filler.speed > 0", {"line1.filler.speed": 12.5}, True),
        ("line1.filler.speed > 0", {"line1.filler.speed": 0}, False),
        (
            "line1.state == 2 or line1.fault_code != 0",
            {"line1.state": 1, "line1.fault_code": 7},
            True,
        ),
        (
            "line1.state == 2 or line1.fault_code != 0",
            {"line1.state": 1, "line1.fault_code": 0},
            False,
        ),
        ("line1.tank.level * 10", {"line1.tank.level": 4.5}, 45.0),
        ("not line1.running", {"line1.running": False}, True),
        ("(a.b + c.d) / 2", {"a.b": 3, "c.d": 4}, 3.5),
        ("min(a.x, 100)", {"a.x": 140}, 100),
        ("max(a.x, b.y, 0)", {"a.x": -1, "b.y": -2}, 0),
        ("line1.state in (1, 3)", {"line1.state": 3}, True),
        ("line1.state not in (1, 3)", {"line1.state": 3}, False),
        ("a.x in (-1, 'x')", {"a.x": -1}, True),
        ("a.x // 3 + a.x % 3", {"a.x": 10}, 4),
        ("round(a.x, 1)", {"a.x": 2.345}, 2.3),
        ("round(a.x)", {"a.x": 2.6}, 3),
        ("int(a.x) + float('1.5')", {"a.x": 2.9}, 3.5),
        ("abs(a.x)", {"a.x": -3}, 3),
        ("str(a.x) + ' rpm'", {"a.x": 1500}, "1500 rpm"),
        ("'on' if a.x else 'off'", {"a.x": 0}, "off"),
        ("a.x and b.y", {"a.x": 5, "b.y": 7}, True),  # and/or give True/False, not an operand
        ("a.x or b.y", {"a.x": 0, "b.y": 0}, False),
        ("a.x and b.y and c.z", {"a.x": 1, "b.y": 1, "c.z": 0}, False),
        ("a.x or b.y or c.z", {"a.x": 0, "b.y": 0, "c.z": 2}, True),
        ("min(a.arr)", {"a.arr": (4, 2, 9)}, 2),
        ("tank.in - tank.out", {"tank.in": 5, "tank.out": 3}, 2),
        ("'ab' * 3", {}, "ababab"),
    ],
)
def test_evaluates_like_python(text: str, values: dict[str, Any], result: Any) -> None:
    got = compile_expression(text).evaluate(values)
    assert got == result
    assert type(got) is type(result)


@pytest.mark.parametrize(
    ("value", "result"), [(-1, False), (0, True), (5, True), (10, True), (10.5, False)]
)
def test_chained_comparison(value: float, result: bool) -> None:
    assert compile_expression("0 <= a.x <= 10").evaluate({"a.x": value}) is result


def test_chained_comparison_reads_each_middle_once_and_stops_early() -> None:
    reads: list[str] = []

    class Recording(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            reads.append(key)
            return super().__getitem__(key)

    expression = compile_expression("a.x < b.y < c.z < d.w")
    assert expression.evaluate(Recording({"a.x": 1, "b.y": 5, "c.z": 3, "d.w": 9})) is False
    assert reads == ["a.x", "b.y", "c.z"]  # stopped at 5 < 3, d.w never read


def test_evaluation_is_repeatable_with_new_values() -> None:
    expression = compile_expression("a.x * 2 > b.y")
    assert [expression.evaluate({"a.x": x, "b.y": 5}) for x in (1, 3, 2, 4)] == [
        False,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("text", "values", "words"),
    [
        ("a.x / b.y", {"a.x": 1, "b.y": 0}, "division by zero"),
        ("a.x // b.y", {"a.x": 1, "b.y": 0}, "division by zero"),
        ("a.x % b.y", {"a.x": 1, "b.y": 0}, "division by zero"),
        ("a.x > 0", {"a.x": None}, "'>' not supported"),
        ("a.x + 'rpm'", {"a.x": 1}, "unsupported operand"),
        ("int(a.x)", {"a.x": "abc"}, "invalid literal"),
        ("a.x > 0", {}, "no value for tag 'a.x'"),
        ("a.x", {}, "no value for tag 'a.x'"),
        ("a.x * 100000", {"a.x": "long"}, "longer than"),
        ("a.x % 2", {"a.x": "%s"}, "formatting"),
        ("round(a.x, 10000000)", {"a.x": 5}, "round() digits"),
        ("int(a.x)", {"a.x": math.inf}, "infinity"),
    ],
)
def test_runtime_errors_are_expression_errors(
    text: str, values: dict[str, Any], words: str
) -> None:
    expression = compile_expression(text)
    with pytest.raises(ExpressionError) as info:
        expression.evaluate(values)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_runtime_error_points_at_the_failing_part() -> None:
    expression = compile_expression("a.x + b.y / c.z")
    with pytest.raises(ExpressionError) as info:
        expression.evaluate({"a.x": 1, "b.y": 2, "c.z": 0})
    assert info.value.offset == 6
    assert "b.y / c.z" in str(info.value)


def test_no_python_escapes_through_names() -> None:
    # names are tag names looked up in the given values, never Python globals or builtins
    expression = compile_expression("print")
    assert expression.tags == ("print",)
    assert expression.evaluate({"print": 3}) == 3
    with pytest.raises(ExpressionError):
        expression.evaluate({})
