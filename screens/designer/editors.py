"""Typed editors for widget properties, chosen from a pydantic field's annotation and name.

``make_editor`` picks: a spin box for ``int``/``float`` (with the field's ``ge``/``le`` bounds;
an optional number has a "default" step below its range), a check box for ``bool`` (a three-way
list for ``bool | None``), a list for ``Literal``/``Enum``, a line edit for ``str``, a colour button
with a hex entry for fields named like colours, a symbol list with previews for ``symbol``, a file
picker for paths, and a YAML entry for everything else (lists of states, nested models, values of
several types). Every editor has ``value()`` (``ValueError`` with a message when the text cannot be
read), ``set_value()`` (no signal) and ``changed`` (a user edit to commit).
"""

from __future__ import annotations

import enum
import io
import re
import types
import typing
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from widgets.svg_symbols import SymbolColours, symbol_image, symbol_names

DEFAULT_TEXT = "(default)"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
NUMBER_LIMIT = 1e9
RESOURCE_PREFIX = "resources:"
_PREVIEW = SymbolColours("#e6e6e6", "#4d4d4d", "#4d4d4d")


def optional_inner(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` was allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
        return inner, optional
    return annotation, False


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for item in info.metadata:
        for attr, is_low in (("ge", True), ("gt", True), ("le", False), ("lt", False)):
            value = getattr(item, attr, None)
            if value is None:
                continue
            if is_low:
                low = value
            else:
                high = value
    return low, high


class FieldEditor(QWidget):
    """Base of the typed editors: ``changed`` when the user made an edit to commit."""

    changed = Signal()
    typing = Signal()
    """The text changed (for a check as you type); not yet an edit to commit."""

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_error(self, error: bool) -> None:
        """Red frame while the entry is wrong."""
        self.setStyleSheet(
            "QLineEdit, QPlainTextEdit, QAbstractSpinBox, QComboBox { border: 2px solid #c0392b; }"
            if error
            else ""
        )

    def _row(self) -> QHBoxLayout:
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        return layout


class _Spin(QDoubleSpinBox):
    """A spin box showing numbers as written (no trailing zeros), with a "default" step."""

    def textFromValue(self, value: float) -> str:
        if not self.decimals():
            return str(round(value))
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".")


class NumberEditor(FieldEditor):
    """``int``/``float``: a spin box within the field's bounds; optional ones have "default"."""

    def __init__(
        self,
        *,
        integer: bool,
        optional: bool,
        low: float | None,
        high: float | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.integer = integer
        self.optional = optional
        self.spin = _Spin()
        self.spin.setDecimals(0 if integer else 6)
        self.spin.setKeyboardTracking(True)
        low = -NUMBER_LIMIT if low is None else low
        high = NUMBER_LIMIT if high is None else high
        step = 1.0
        self._floor = low - step if optional else low
        self.spin.setRange(self._floor, high)
        if optional:
            self.spin.setSpecialValueText(DEFAULT_TEXT)
        self.spin.setAccelerated(True)
        self.spin.editingFinished.connect(self.changed)
        self.spin.valueChanged.connect(self.typing)
        self._row().addWidget(self.spin)

    def value(self) -> Any:
        number = self.spin.value()
        if self.optional and number <= self._floor:
            return None
        if self.integer or number == int(number):
            return round(number)
        return number

    def set_value(self, value: Any) -> None:
        """Show ``value``; ValueError for one that is not a number (e.g. a template's
        ``{max}``), which is left as written."""
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{value!r} is not a number; edit it in the screen file")
        with QSignalBlocker(self.spin):
            self.spin.setValue(self._floor if value is None else float(value))


class BoolEditor(FieldEditor):
    """``bool``: a check box (commits at once)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self.changed)
        self._row().addWidget(self.box)

    def value(self) -> Any:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.box):
            self.box.setChecked(bool(value))


class ChoiceEditor(FieldEditor):
    """``Literal``, ``Enum`` and ``bool | None``: a list of the allowed values (commits at once)."""

    def __init__(self, choices: list[tuple[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        for text, data in choices:
            self.combo.addItem(text, data)
        self._values = [data for _text, data in choices]
        self.combo.activated.connect(lambda _index: self.changed.emit())
        self._row().addWidget(self.combo)

    def value(self) -> Any:
        return self._values[self.combo.currentIndex()]

    def set_value(self, value: Any) -> None:
        index = next(
            (i for i, v in enumerate(self._values) if v == value and type(v) is type(value)), -1
        )
        with QSignalBlocker(self.combo):
            if index < 0:  # a value the list does not offer (a template's placeholder): shown
                self.combo.addItem(str(value), value)
                self._values.append(value)
                index = len(self._values) - 1
            self.combo.setCurrentIndex(index)


class TextEditor(FieldEditor):
    """``str``: a line edit; for ``str | None`` an empty entry means the default."""

    def __init__(self, optional: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.optional = optional
        self.edit = QLineEdit()
        if optional:
            self.edit.setPlaceholderText(DEFAULT_TEXT)
        self.edit.editingFinished.connect(self.changed)
        self.edit.textEdited.connect(self.typing)
        self.layout_row = self._row()
        self.layout_row.addWidget(self.edit, 1)

    def value(self) -> Any:
        text = self.edit.text()
        return None if self.optional and not text else text

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.edit):
            self.edit.setText("" if value is None else str(value))


class ColourEditor(TextEditor):
    """A colour: a swatch button opening the colour dialog, and the ``#rrggbb`` entry."""

    def __init__(self, optional: bool, parent: QWidget | None = None) -> None:
        super().__init__(optional, parent)
        self.edit.setPlaceholderText("#rrggbb")
        self.swatch = QPushButton()
        self.swatch.setFixedSize(QSize(28, 22))
        self.swatch.setToolTip("choose a colour")
        self.swatch.clicked.connect(self.open_dialog)
        self.layout_row.insertWidget(0, self.swatch)
        self.edit.textChanged.connect(self._paint_swatch)
        self.dialog: QColorDialog | None = None

    def value(self) -> Any:
        text = self.edit.text().strip()
        if not text and self.optional:
            return None
        if not COLOUR.match(text):
            raise ValueError(f"{text!r} is not a colour like '#4d4d4d'")
        return text.lower()

    def _paint_swatch(self, text: str) -> None:
        colour = text if COLOUR.match(text.strip()) else "transparent"
        self.swatch.setStyleSheet(f"background: {colour}; border: 1px solid #8c8c8c;")

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        self._paint_swatch(self.edit.text())

    def open_dialog(self) -> QColorDialog:
        """The colour dialog, non-modal; a chosen colour is committed."""
        dialog = QColorDialog(QColor(self.edit.text() or "#808080"), self)
        dialog.colorSelected.connect(self._chosen)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _chosen(self, colour: QColor) -> None:
        self.edit.setText(colour.name(QColor.NameFormat.HexRgb))
        self.changed.emit()


class SymbolEditor(ChoiceEditor):
    """The symbol of a process symbol: the names of ``resources/symbols`` with previews."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__([(name, name) for name in symbol_names()], parent)
        self.combo.setIconSize(QSize(28, 28))
        for index, name in enumerate(symbol_names()):
            image = symbol_image(name, _PREVIEW, 28, 28)
            self.combo.setItemIcon(index, QIcon(QPixmap.fromImage(image)))


class PathEditor(TextEditor):
    """A file (image) path: entry and "…" opening a file dialog in the screen's folder; a file
    there becomes a relative path, one of the app's resources ``resources:<path>``."""

    def __init__(self, optional: bool, parent: QWidget | None = None) -> None:
        super().__init__(optional, parent)
        self.folder: Path | None = None
        self.browse = QToolButton()
        self.browse.setText("…")
        self.browse.setToolTip("choose a file")
        self.browse.clicked.connect(self.open_dialog)
        self.layout_row.addWidget(self.browse)
        self.dialog: QFileDialog | None = None

    def open_dialog(self) -> QFileDialog:
        dialog = QFileDialog(self, "Choose a file", str(self.folder or Path.cwd()))
        dialog.setNameFilter("Images (*.png *.jpg *.jpeg *.svg *.bmp *.gif);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.choose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def choose(self, name: str) -> None:
        """Take ``name`` (an absolute path) as the new value, written relative where it can."""
        self.edit.setText(relative_path(Path(name), self.folder))
        self.changed.emit()


def relative_path(path: Path, folder: Path | None) -> str:
    """``path`` relative to ``folder`` (posix), ``resources:<p>`` inside the app's resources,
    else as given."""
    import resources

    path = path.resolve()
    if folder is not None and path.is_relative_to(folder.resolve()):
        return PurePosixPath(path.relative_to(folder.resolve())).as_posix()
    shipped = Path(str(resources.__path__[0])).resolve()
    if path.is_relative_to(shipped):
        return RESOURCE_PREFIX + PurePosixPath(path.relative_to(shipped)).as_posix()
    return path.as_posix()


def dump_yaml(value: Any) -> str:
    """``value`` as compact YAML: one line per item of a list of mappings."""
    yaml = YAML(typ="rt")  # keeps the key order (value, text, style), unlike the safe dumper
    yaml.default_flow_style = None
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(value, out)
    text = out.getvalue()
    return text.removesuffix("\n...\n").rstrip("\n")


def load_yaml(text: str) -> Any:
    """Parse YAML text; ValueError with the line of a syntax error."""
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"YAML {where}{problem}") from None


class YamlEditor(FieldEditor):
    """Anything else (lists, nested models, several types): YAML text, checked as you type.

    One-line values commit on Enter; a multi-line value commits with its "Apply" button.
    """

    def __init__(self, multiline: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.multiline = multiline
        self.text_edit: QPlainTextEdit | None = None
        self.line_edit: QLineEdit | None = None
        if multiline:
            column = QVBoxLayout(self)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(4)
            self.text_edit = QPlainTextEdit()
            self.text_edit.setTabChangesFocus(True)
            self.text_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.text_edit.textChanged.connect(self.typing)
            self.apply = QPushButton("Apply")
            self.apply.setToolTip("apply the YAML above")
            self.apply.clicked.connect(self.changed)
            column.addWidget(self.text_edit)
            column.addWidget(self.apply, 0, Qt.AlignmentFlag.AlignRight)
        else:
            self.line_edit = QLineEdit()
            self.line_edit.setPlaceholderText(DEFAULT_TEXT)
            self.line_edit.editingFinished.connect(self.changed)
            self.line_edit.textEdited.connect(self.typing)
            self._row().addWidget(self.line_edit, 1)

    def text(self) -> str:
        if self.text_edit is not None:
            return self.text_edit.toPlainText()
        assert self.line_edit is not None
        return self.line_edit.text()

    def value(self) -> Any:
        text = self.text()
        return None if not text.strip() else load_yaml(text)

    def set_value(self, value: Any) -> None:
        text = "" if value is None else dump_yaml(value)
        if self.text_edit is not None:
            with QSignalBlocker(self.text_edit):
                self.text_edit.setPlainText(text)
            lines = min(8, max(3, text.count("\n") + 2))
            height = self.text_edit.fontMetrics().lineSpacing() * lines + 12
            self.text_edit.setFixedHeight(height)
        elif self.line_edit is not None:
            with QSignalBlocker(self.line_edit):
                self.line_edit.setText(text)


def _is_colour(name: str) -> bool:
    return bool(re.search(r"colou?r", name, re.IGNORECASE))


def _is_path(name: str) -> bool:
    return name in ("path", "file", "image") or name.endswith(("_path", "_file", "_image"))


def make_editor(name: str, info: FieldInfo) -> FieldEditor:
    """The editor for field ``name`` of a props model."""
    inner, optional = optional_inner(info.annotation)
    origin = typing.get_origin(inner)
    if origin is Literal:
        choices = [(str(v), v) for v in typing.get_args(inner)]
        return ChoiceEditor(([(DEFAULT_TEXT, None)] if optional else []) + choices)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        members = [(str(m.value), m.value) for m in inner]
        return ChoiceEditor(([(DEFAULT_TEXT, None)] if optional else []) + members)
    if inner is bool:
        if optional:
            return ChoiceEditor([(DEFAULT_TEXT, None), ("yes", True), ("no", False)])
        return BoolEditor()
    if inner in (int, float):
        low, high = _bounds(info)
        return NumberEditor(integer=inner is int, optional=optional, low=low, high=high)
    if inner is str:
        if _is_colour(name):
            return ColourEditor(optional)
        if name == "symbol":
            return SymbolEditor()
        if _is_path(name):
            return PathEditor(optional)
        return TextEditor(optional)
    if isinstance(inner, type) and _is_colour(inner.__name__):  # a colour type, e.g. Color
        return ColourEditor(optional)
    # imported here: the table editor builds on this module's FieldEditor
    from screens.designer.editors_table import ListTableEditor, table_item_model

    item = table_item_model(inner)
    if item is not None:
        return ListTableEditor(item)
    return YamlEditor(_structured(inner))


def _structured(annotation: Any) -> bool:
    """Whether values of ``annotation`` hold mappings (one item per line), not only scalars."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    return any(_structured(arg) for arg in typing.get_args(annotation))


def default_value(info: FieldInfo) -> Any:
    """The field's default as plain data, as YAML would hold it (None when it has none)."""
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if value is None:
        return None
    return TypeAdapter(info.annotation or Any).dump_python(value, mode="json")
