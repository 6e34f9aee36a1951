"""One property row of the inspector (split from ``inspector``): its label with the field
description as tooltip, the typed editor, "reset to default" and the message line; and the wording
of a props model's validation errors for one field.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from PySide6.QtWidgets import QLabel, QToolButton

from screens.designer.editors import FieldEditor, default_value


def humanise(name: str) -> str:
    """A field name as a label: ``label_width`` -> ``label width``."""
    return name.replace("_", " ")


def first_line(doc: str | None) -> str:
    """The first line of a docstring, as plain text."""
    return (doc or "").strip().splitlines()[0].rstrip(".").replace("``", "") if doc else ""


def field_errors(exc: ValidationError, name: str) -> list[str]:
    """Messages of ``exc`` about field ``name`` or about the model as a whole."""
    found: list[str] = []
    for err in exc.errors():
        loc = err["loc"]
        if loc and loc[0] != name:
            continue
        where = ".".join(str(p) for p in loc[1:] if not str(p).startswith("function-"))
        message = str(err["msg"]).removeprefix("Value error, ")
        found.append(f"{where}: {message}" if where else message)
    return found


class PropRow:
    """One property: label, typed editor, reset button and message line."""

    def __init__(self, name: str, info: FieldInfo, editor: FieldEditor) -> None:
        self.name = name
        self.info = info
        self.default = default_value(info)
        self.editor = editor
        self.label = QLabel(humanise(name))
        self.label.setProperty("field", True)
        tip = f"{name}: {info.description}" if info.description else name
        self.label.setToolTip(tip)
        editor.setToolTip(tip)
        editor.setObjectName(f"prop_{name}")
        self.reset = QToolButton()
        self.reset.setObjectName(f"reset_{name}")
        self.reset.setText("↺")
        self.reset.setToolTip("reset to the default" if not info.is_required() else "required")
        self.reset.setAutoRaise(True)
        self.message = QLabel("")
        self.message.setObjectName(f"message_{name}")
        self.message.setProperty("message", True)
        self.message.setWordWrap(True)
        self.message.hide()

    def show_error(self, error: str) -> None:
        if error == self.message.text():
            return  # restyling costs more than everything else a refresh does
        self.message.setText(error)
        self.message.setVisible(bool(error))
        self.editor.set_error(bool(error))
