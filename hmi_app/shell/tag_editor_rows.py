"""The tag editor's rows: a tag as table cells, cells back to a ``TagConfig``, and each row's check.

A row shows the fields people edit (name, connection, address, type, access, scan, units, format,
write limits, description); the tag the row was made from keeps every other field (scaling, byte
order, deadband, history...) untouched. A row is checked like a CSV import row
(``hmi_app.core.project.tags_csv.plan_import``): the tag model, a known connection and scan class,
limits only on numbers, the driver's address check, and a name no other row uses. The problem is
named in the row's last column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from hmi_app.core.datatypes import DataType
from hmi_app.core.project.model import MEMORY, ProjectModel, TagConfig
from hmi_app.shell.add_tags_dialog import STRING_LENGTH

COLUMNS = (
    "name",
    "connection",
    "address",
    "type",
    "access",
    "scan",
    "units",
    "format",
    "min",
    "max",
    "description",
    "problem",
)
HEADERS = (
    "Name",
    "Connection",
    "Address",
    "Type",
    "Access",
    "Scan",
    "Units",
    "Format",
    "Write min",
    "Write max",
    "Description",
    "Problem",
)
COL = {name: index for index, name in enumerate(COLUMNS)}
COL_PROBLEM = COL["problem"]
ROLE_BASE = Qt.ItemDataRole.UserRole + 1
"""The ``TagConfig`` a row was made from (None for a new row), on the name cell."""

PROBLEM_TEXT = QColor("#a01d14")
PROBLEM_BG = QColor("#f6e3e1")

AddressCheck = Callable[[TagConfig], str | None]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


def tag_cells(tag: TagConfig) -> dict[str, str]:
    """The texts of a tag's row (without the problem)."""
    limits = tag.limits
    return {
        "name": tag.name,
        "connection": tag.connection,
        "address": tag.address,
        "type": tag.type.value,
        "access": tag.access,
        "scan": tag.scan,
        "units": tag.units,
        "format": tag.format,
        "min": _number(limits.min if limits else None),
        "max": _number(limits.max if limits else None),
        "description": tag.description,
    }


def _message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if "input" in err and err["type"] not in ("value_error", "assertion_error", "missing"):
        message = f"{message} (got {err['input']!r})"
    return f"{where}: {message}" if where else message


validation_message = _message
"""The first error of a pydantic ``ValidationError`` as ``where: what (got ...)``."""


def cells_tag(
    cells: dict[str, str], base: TagConfig | None, model: ProjectModel, check_address: AddressCheck
) -> tuple[TagConfig | None, str]:
    """The tag a row describes and what is wrong with it ("" when nothing)."""
    data: dict[str, Any] = base.model_dump() if base is not None else {}
    for key in ("name", "connection", "address", "type", "access", "scan"):
        data[key] = cells[key].strip()
    for key in ("units", "format", "description"):
        data[key] = cells[key]
    data["connection"] = data["connection"] or MEMORY
    low, high = cells["min"].strip(), cells["max"].strip()
    if low or high:
        try:
            data["limits"] = {
                "min": float(low) if low else None,
                "max": float(high) if high else None,
            }
        except ValueError:
            return None, f"limits: {low or high!r} is not a number"
    else:
        data["limits"] = None
    if not data["name"]:
        return None, "name: is required"
    if data["type"] and data["type"] == DataType.STRING.value and not data.get("length"):
        data["length"] = STRING_LENGTH  # as the tag browser proposes; editable in project.yaml
    try:
        tag = TagConfig.model_validate(data)
    except ValidationError as exc:
        return None, _message(exc)
    if tag.connection != MEMORY and tag.connection not in model.connections:
        known = ", ".join(sorted(model.connections)) or "none defined"
        return None, f"unknown connection {tag.connection!r} (known: {known}, or memory)"
    if tag.scan not in model.scan_classes:
        known = ", ".join(sorted(model.scan_classes))
        return None, f"unknown scan class {tag.scan!r} (known: {known})"
    if tag.limits is not None and not tag.type.is_numeric:
        return None, "limits apply to numbers only"
    if not tag.is_memory:
        problem = check_address(tag)
        if problem:
            return None, f"address: {problem}"
    return tag, ""


def duplicates(names: Sequence[str]) -> dict[int, str]:
    """Row -> "name 'x' is also on row N" for every row whose name another row has."""
    first: dict[str, int] = {}
    found: dict[int, str] = {}
    for row, name in enumerate(names):
        if not name:
            continue
        if name in first:
            found[row] = f"name {name!r} is also on row {first[name] + 1}"
            found.setdefault(first[name], f"name {name!r} is also on row {row + 1}")
        else:
            first[name] = row
    return found


class ChoiceDelegate(QStyledItemDelegate):
    """Cells of a column with a fixed set of values edited with a list (connection, type...)."""

    def __init__(self, choices: Callable[[], Sequence[str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = choices

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(list(self.choices()))
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        text = str(index.data() or "")
        if editor.findText(text) < 0:
            editor.addItem(text)
        editor.setCurrentText(text)

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText())
