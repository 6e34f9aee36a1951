"""The inspector's "On click" section and its screen-name picker (split from ``inspector``).

A click does nothing, navigates to a screen picked from the project's list, or opens a template
(faceplate) with parameters written as a YAML mapping (``{equipment: line1.filler}``). The action is
checked with the screen model's own ``ClickAction`` before it leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QLineEdit, QWidget

from screens.designer.editors import FieldEditor, dump_yaml, load_yaml
from screens.model import ClickAction

TARGETS = tuple(
    name for name, info in ClickAction.model_fields.items() if name not in ("params", "confirm")
)
"""The kinds of click target (navigate, faceplate, trend...), as the screen model has them."""
KINDS = ("none", *TARGETS)


class ClickActionEdit(QWidget):
    """What clicking the widget does; ``committed`` carries a valid action mapping or None."""

    committed = Signal(object)

    def __init__(self, screens: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets: dict[str, list[str]] = {kind: list(screens) for kind in TARGETS}
        self.targets["trend"] = []
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, 90)
        self.kind = QComboBox()
        self.kind.setObjectName("click_kind")
        self.kind.addItems(list(KINDS))
        self.target = QComboBox()
        self.target.setObjectName("click_target")
        self.target.setEditable(True)
        self.params = QLineEdit()
        self.params.setObjectName("click_params")
        self.params.setPlaceholderText("{equipment: line1.filler}")
        self.params.setToolTip("template parameters, as a YAML mapping")
        self.message = QLabel("")
        self.message.setObjectName("click_message")
        self.message.setProperty("message", True)
        self.message.setWordWrap(True)
        self.message.hide()
        rows = (("action", self.kind), ("target", self.target), ("params", self.params))
        for row, (text, widget) in enumerate(rows):
            label = QLabel(text)
            label.setProperty("field", True)
            grid.addWidget(label, row, 0)
            grid.addWidget(widget, row, 1)
        grid.addWidget(self.message, 3, 1)
        self.kind.activated.connect(lambda _i: self._kind_chosen())
        self.target.activated.connect(lambda _i: self._commit())
        target_line = self.target.lineEdit()
        if target_line is not None:
            target_line.editingFinished.connect(self._commit)
        self.params.editingFinished.connect(self._commit)
        self._last: dict[str, Any] | None = None

    def set_targets(self, kind: str, names: Sequence[str]) -> None:
        """What a ``kind`` of action may open (screens for navigate and faceplate, saved trends
        for trend)."""
        self.targets[kind] = list(names)

    def _fill_targets(self, kind: str, current: str) -> None:
        with QSignalBlocker(self.target):
            self.target.clear()
            self.target.addItems(self.targets.get(kind, []))
            if current and self.target.findText(current) < 0:
                self.target.addItem(current)
            if current:
                self.target.setCurrentText(current)
            else:
                self.target.setCurrentIndex(-1)

    def _kind_chosen(self) -> None:
        self._fill_targets(self.kind.currentText(), "")
        self._commit()

    def set_action(self, action: Mapping[str, Any] | None) -> None:
        """Show ``action`` (no signal)."""
        self._last = dict(action) if action else None
        kind, target = "none", ""
        params: Mapping[str, Any] = {}
        if action:
            kind = next((k for k in TARGETS if action.get(k)), "none")
            target = str(action.get(kind) or "")
            params = action.get("params") or {}
        with QSignalBlocker(self.kind):
            self.kind.setCurrentText(kind)
        self._fill_targets(kind, target)
        self.params.setText(dump_yaml(dict(params)) if params else "")
        self._enable()
        self.message.hide()

    def _enable(self) -> None:
        kind = self.kind.currentText()
        self.target.setEnabled(kind != "none")
        self.params.setEnabled(kind == "faceplate")

    def action(self) -> tuple[dict[str, Any] | None, str]:
        """The action the section describes, or why it is not valid."""
        kind = self.kind.currentText()
        self._enable()
        if kind == "none":
            return None, ""
        target = self.target.currentText().strip()
        if not target:
            return None, f"pick what {kind} opens"
        action: dict[str, Any] = {kind: target}
        if kind == "faceplate" and self.params.text().strip():
            try:
                params = load_yaml(self.params.text())
            except ValueError as exc:
                return None, str(exc)
            if not isinstance(params, dict):
                return None, "params must be a mapping like {equipment: line1.filler}"
            action["params"] = {str(k): str(v) for k, v in params.items()}
        try:
            ClickAction.model_validate(action)
        except ValidationError as exc:
            errors = (str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            return None, "; ".join(errors)
        return action, ""

    def _commit(self) -> None:
        action, error = self.action()
        self.message.setText(error)
        self.message.setVisible(bool(error))
        if not error and action != self._last:
            self._last = action
            self.committed.emit(action)


class ScreenEditor(FieldEditor):
    """A prop named ``screen`` (a navigation target): an editable list of the project's screens."""

    def __init__(self, screens: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(list(screens))
        self.combo.activated.connect(lambda _i: self.changed.emit())
        line = self.combo.lineEdit()
        assert line is not None
        line.editingFinished.connect(self.changed)
        line.textEdited.connect(self.typing)
        self._row().addWidget(self.combo)

    def value(self) -> Any:
        return self.combo.currentText().strip()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            text = "" if value is None else str(value)
            if text and self.combo.findText(text) < 0:
                self.combo.addItem(text)
            self.combo.setCurrentText(text)
