"""Binding entry: a tag name or an expression for one bindable property, checked as you type.

``check_binding`` is the check (no Qt): a plain tag must exist (an unknown one names the closest
tags, as the screen loader does), an expression must parse with ``hmi_app.core.expressions`` and
read only known tags (a template's ``{name}`` placeholders are only checked for syntax), and
where the widget class tells what the property wants the tag must fit:
a control's written property needs a writable tag (not an expression), a property whose palette
example is an array needs an array tag (and the other way round), and a non-control property whose
example is a floating-point number refuses string and date tags. ``BindingEdit`` is the line edit
with its message line and the "…" button that opens the tag picker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QSignalBlocker, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.datatypes import DataType
from hmi_app.core.expressions import ExpressionError, compile_expression, is_tag_reference
from hmi_app.core.tagsource import TagMeta
from screens.model import PLACEHOLDER, placeholders
from screens.model import _unknown_tag as unknown_tag_message  # the loader's own wording
from widgets.base import HmiWidget, HmiWriter

ERROR_STYLE = "color: #a01d14;"
NOTE_STYLE = "color: #5c5c5c;"


@dataclass(frozen=True)
class Expectation:
    """What a bindable property wants of its source, as far as the widget class tells."""

    writes: bool = False
    """The control writes this tag: a plain, writable tag is needed."""
    array: bool | None = None
    """True: an array tag; False: a scalar; None: not known."""
    number: bool = False
    """A number (or bool) is needed: string and date tags are refused."""


def expectation(cls: type[HmiWidget], prop: str) -> Expectation:
    """What ``cls`` wants bound to ``prop``, from its write property and its palette example."""
    writes = issubclass(cls, HmiWriter) and prop == cls.WRITE_PROP
    example = cls.EXAMPLE.values.get(prop) if cls.EXAMPLE is not None else None
    if example is None:
        return Expectation(writes=writes)
    meta = example[0]
    number = (
        not writes
        and meta.data_type in (DataType.FLOAT32, DataType.FLOAT64)
        and not meta.array_length
    )
    return Expectation(writes=writes, array=meta.array_length > 0, number=number)


@dataclass(frozen=True)
class BindingCheck:
    """The outcome of checking a binding text: an error, or a note saying what it reads."""

    error: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def describe_tag(meta: TagMeta) -> str:
    """One line about a tag: type, units, access and description."""
    parts = [meta.data_type.value + (f"[{meta.array_length}]" if meta.array_length else "")]
    if meta.units:
        parts.append(meta.units)
    if meta.writable:
        parts.append("writable")
    if meta.description:
        parts.append(meta.description)
    return " · ".join(parts)


def _fits(meta: TagMeta, prop: str, want: Expectation) -> str:
    if want.array is True and not meta.array_length:
        return f"{prop} shows an array; {meta.name} is a single {meta.data_type.value}"
    if want.array is False and meta.array_length:
        return f"{prop} shows one value; {meta.name} is an array of {meta.array_length}"
    if want.number and meta.data_type in (DataType.STRING, DataType.DATETIME):
        return f"{prop} needs a number; {meta.name} is a {meta.data_type.value} tag"
    if want.writes and not meta.writable:
        return f"{prop} is written by this control; {meta.name} is read-only"
    return ""


def check_binding(
    text: str,
    tags: Mapping[str, TagMeta] | None,
    prop: str = "value",
    want: Expectation | None = None,
) -> BindingCheck:
    """Check a binding text against the project's tags (None: tags not known, syntax only).

    Empty text is fine: it removes the binding.
    """
    want = want or Expectation()
    source = text.strip()
    if not source:
        return BindingCheck(note="not bound")
    names = placeholders(source)
    if names:  # a template's binding: its tags exist only once the template is used
        result = check_binding(PLACEHOLDER.sub("p", source), None, prop, want)
        if result.error:
            return result
        shown = ", ".join(f"{{{name}}}" for name in dict.fromkeys(names))
        return BindingCheck(note=f"template binding ({shown}): tags checked where it is used")
    if is_tag_reference(source) or (tags is not None and source in tags):
        if tags is None:
            return BindingCheck(note="tag")
        meta = tags.get(source)
        if meta is None:
            return BindingCheck(error=unknown_tag_message(source, tags))
        problem = _fits(meta, prop, want)
        return BindingCheck(error=problem) if problem else BindingCheck(note=describe_tag(meta))
    try:
        expression = compile_expression(source)
    except ExpressionError as exc:
        return BindingCheck(error=f"expression: {exc.message}")
    if tags is not None:
        for tag in expression.tags:
            if tag not in tags:
                return BindingCheck(error=f"in the expression: {unknown_tag_message(tag, tags)}")
    if want.writes:
        return BindingCheck(error=f"{prop} is written by this control: bind a tag, not a formula")
    if want.array:
        return BindingCheck(error=f"{prop} shows an array: bind an array tag, not an expression")
    if want.number and expression.result_kind == "string":
        return BindingCheck(error=f"{prop} needs a number; this expression gives text")
    count = len(expression.tags)
    reads = f"reads {count} tag{'s' if count != 1 else ''}" if count else "reads no tag"
    return BindingCheck(note=f"expression ({expression.result_kind}), {reads}")


class BindingEdit(QWidget):
    """Line edit for one binding, its message line and a "…" button for the tag picker.

    ``committed`` carries the new source (None: unbound) when the user finishes an entry that
    checks out and differs from what was shown; an entry with an error turns the frame red, says
    why below, and commits nothing.
    """

    committed = Signal(object)
    pick_requested = Signal()

    def __init__(self, prop: str, want: Expectation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prop = prop
        self.want = want
        self._tags: Mapping[str, TagMeta] | None = None
        self._shown: str | None = None
        self._invalid: bool | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"binding_{prop}")
        self.edit.setPlaceholderText("tag name or expression")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self._recheck)
        self.edit.editingFinished.connect(self._commit)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self.edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(completer)
        self.pick_button = QToolButton()
        self.pick_button.setObjectName(f"pick_{prop}")
        self.pick_button.setText("…")
        self.pick_button.setToolTip("pick a tag from the project's tags")
        self.pick_button.clicked.connect(self.pick_requested)
        row.addWidget(self.edit, 1)
        row.addWidget(self.pick_button)
        layout.addLayout(row)
        self.message = QLabel("")
        self.message.setObjectName(f"binding_message_{prop}")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    def set_tags(self, tags: Mapping[str, TagMeta] | None) -> None:
        """The tags a binding may name (None: unknown, only the syntax is checked)."""
        self._tags = tags
        self._names.setStringList(sorted(tags) if tags else [])
        self._recheck()

    def set_source(self, source: str | None) -> None:
        """Show the current binding (no signal)."""
        self._shown = source
        with QSignalBlocker(self.edit):
            self.edit.setText(source or "")
        self._recheck()

    def check(self) -> BindingCheck:
        return check_binding(self.edit.text(), self._tags, self.prop, self.want)

    def error(self) -> str:
        """What is wrong with the text now ("" when nothing)."""
        return self.check().error

    def pick(self, tag: str) -> None:
        """Put a tag picked in the picker in and commit it."""
        self.edit.setText(tag)
        self._commit()

    def _recheck(self, *_: object) -> None:
        result = self.check()
        self.message.setText(result.error or result.note)
        invalid = bool(result.error)
        if invalid == self._invalid:
            return  # restyling is the costly part of a refresh
        self._invalid = invalid
        self.message.setStyleSheet(ERROR_STYLE if invalid else NOTE_STYLE)
        self.edit.setStyleSheet("QLineEdit { border: 2px solid #c0392b; }" if invalid else "")

    def _commit(self) -> None:
        if self.check().error:
            return
        source = self.edit.text().strip() or None
        if source == self._shown:
            return
        self._shown = source
        self.committed.emit(source)
