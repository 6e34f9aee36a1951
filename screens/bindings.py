"""Bindings of a widget property to a tag or to an expression over tags.

A binding text is either a plain tag name (``line1.filler.speed``: subscribed as it is) or an
expression (``line1.filler.speed > 0``, see ``hmi_app.core.expressions``): an
``ExpressionBinding`` subscribes to every tag the expression reads and hands on one ``TagValue``
of the result, with the worst quality of its inputs, only when the result changes.
"""

from __future__ import annotations

import math
import time
from typing import Any

from hmi_app.core.datatypes import DataType
from hmi_app.core.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    is_tag_reference,
)
from hmi_app.core.quality import Quality, Reason, TagValue
from hmi_app.core.tagsource import Subscription, TagCallback, TagMeta, TagSource

__all__ = [
    "ExpressionBinding",
    "bind_source",
    "binding_meta",
    "result_meta",
]


def _same(a: Any, b: Any) -> bool:
    """Whether a new result equals the last one handed on (NaN equals NaN, 1 differs from True)."""
    if type(a) is not type(b):
        return False
    if a == b:
        return True
    return isinstance(a, float) and math.isnan(a) and math.isnan(b)


class ExpressionBinding:
    """Live result of an expression over a ``TagSource``; itself a ``Subscription``.

    Calls ``callback`` with a ``TagValue`` of the result: its quality is the worst quality of the
    inputs; a BAD or missing input (no value yet: ``Reason.WAITING``) makes the result BAD with
    that input's reason; an evaluation error makes it BAD with ``"config error: <message>"``.
    ``source_ts``/``recv_ts`` are the newest of the inputs'. The callback runs only when the
    value, quality or reason changed, and first when subscribing if any input already has a value
    (or the expression reads no tags).
    """

    __slots__ = ("_callback", "_expression", "_inputs", "_last", "_live", "_subs", "_values")

    def __init__(
        self, expression: Expression | str, source: TagSource, callback: TagCallback
    ) -> None:
        """Subscribe to every tag of ``expression`` (ExpressionError if the text is not valid;
        KeyError from the source for an unknown tag, after cancelling what was subscribed)."""
        self._expression = (
            expression if isinstance(expression, Expression) else compile_expression(expression)
        )
        self._callback = callback
        self._inputs: dict[str, TagValue] = {}
        self._values: dict[str, Any] = {}
        self._last: tuple[Any, Quality, str] | None = None
        self._subs: list[Subscription] = []
        self._live = False  # off while subscribing: sources call back from inside subscribe()
        try:
            for tag in self._expression.tags:
                self._subs.append(source.subscribe(tag, self._receiver(tag)))
        except BaseException:
            self.cancel()
            raise
        self._live = True
        if self._inputs or not self._expression.tags:
            self._update()

    @property
    def expression(self) -> Expression:
        return self._expression

    def _receiver(self, tag: str) -> TagCallback:
        def receive(value: TagValue) -> None:
            self._inputs[tag] = value
            self._values[tag] = value.value
            if self._live:
                self._update()

        return receive

    def result(self) -> TagValue:
        """The result for the inputs received so far."""
        inputs = self._inputs
        quality = Quality.GOOD
        reason = ""
        source_ts = recv_ts = 0.0
        missing = False
        for tag in self._expression.tags:
            record = inputs.get(tag)
            if record is None:
                if quality is not Quality.BAD:
                    quality, reason = Quality.BAD, Reason.WAITING
                missing = True
                continue
            if record.quality > quality:
                quality, reason = record.quality, record.reason
            source_ts = max(source_ts, record.source_ts)
            recv_ts = max(recv_ts, record.recv_ts)
        if not self._expression.tags:
            source_ts = recv_ts = time.time()
        if missing:
            return TagValue(None, quality, source_ts, recv_ts, reason)
        try:
            value = self._expression.evaluate(self._values)
        except ExpressionError as exc:
            # a BAD input explains a failure (e.g. None from a broken link) better than the error
            if quality is not Quality.BAD:
                quality, reason = Quality.BAD, f"{Reason.CONFIG_ERROR}: {exc}"
            return TagValue(None, quality, source_ts, recv_ts, reason)
        return TagValue(value, quality, source_ts, recv_ts, reason)

    def _update(self) -> None:
        result = self.result()
        last = self._last
        if (
            last is not None
            and last[1] is result.quality
            and last[2] == result.reason
            and _same(last[0], result.value)
        ):
            return
        self._last = (result.value, result.quality, result.reason)
        self._callback(result)

    def cancel(self) -> None:
        """Cancel every inner subscription; no callback after this."""
        self._live = False
        subs, self._subs = self._subs, []
        for sub in subs:
            sub.cancel()


def result_meta(expression: Expression | str, source: TagSource) -> TagMeta:
    """Display metadata of an expression's result, named after the expression text.

    A lone tag reference keeps that tag's metadata; a bool result is BOOL; a number is FLOAT64
    shown with the format and units of the first numeric tag it reads; a string is STRING;
    anything else takes the type, format and units of the first tag it reads. KeyError for an
    unknown tag.
    """
    if not isinstance(expression, Expression):
        expression = compile_expression(expression)
    if expression.single_tag is not None:
        return source.meta(expression.single_tag)
    metas = [source.meta(tag) for tag in expression.tags]
    name = expression.text.strip()
    kind = expression.result_kind
    if kind == "bool":
        return TagMeta(name, DataType.BOOL)
    if kind == "string":
        return TagMeta(name, DataType.STRING)
    if kind == "number":
        numeric = next((meta for meta in metas if meta.data_type.is_numeric), None)
        if numeric is None:
            return TagMeta(name, DataType.FLOAT64)
        return TagMeta(
            name, DataType.FLOAT64, units=numeric.units, display_format=numeric.display_format
        )
    if metas:
        first = metas[0]
        return TagMeta(
            name, first.data_type, units=first.units, display_format=first.display_format
        )
    return TagMeta(name, DataType.STRING)


def bind_source(text: str, source: TagSource, callback: TagCallback) -> Subscription:
    """Subscribe ``callback`` to a binding text: a plain ``source.subscribe`` for a tag name, an
    ``ExpressionBinding`` for an expression (ExpressionError if it is not valid)."""
    if is_tag_reference(text):
        return source.subscribe(text, callback)
    return ExpressionBinding(text, source, callback)


def binding_meta(text: str, source: TagSource) -> TagMeta:
    """Display metadata for a binding text (tag name or expression); KeyError for an unknown tag,
    ExpressionError for an invalid expression."""
    if is_tag_reference(text):
        return source.meta(text)
    return result_meta(compile_expression(text), source)
