"""The property inspector: the selected widget's geometry, properties, bindings and click action.

Everything is built from the widget class (``Props``, its field annotations and descriptions,
``BINDABLE``, ``WRITE_PROP`` and ``EXAMPLE``), so a new widget gets its inspector for free. Each
property row has a typed editor (``editors``), the field description as tooltip, a "reset to
default" button and a message line. An edit is checked against the whole props model before it
leaves: a value that does not validate turns the editor red, says why and emits nothing. Bindings
are checked as you type (``expression_edit``); "…" opens the tag picker.

Only user edits emit (``show_entry`` refreshes without signals). With several widgets selected
(``show_many``) the inspector shows what they have in common, and an edit emits once per widget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hmi_app.core.tagsource import TagMeta
from screens.designer.editors import (
    PathEditor,
    TextEditor,
    YamlEditor,
    make_editor,
)
from screens.designer.editors_table import ListTableEditor
from screens.designer.entries import WidgetEntry
from screens.designer.expression_edit import ERROR_STYLE, BindingEdit, expectation
from screens.designer.inspector_click import ClickActionEdit, ScreenEditor
from screens.designer.inspector_rows import PropRow, field_errors, first_line, humanise
from screens.designer.tag_picker import TagPicker
from widgets.base import HmiWidget
from widgets.registry import WIDGET_TYPES

MIXED = "mixed"
GEOMETRY = ("x", "y", "w", "h")
STYLE = """
QLabel#inspectorTitle { font-size: 15px; font-weight: 600; color: #262626; }
QLabel#inspectorSubtitle { color: #5c5c5c; }
QLabel[section="true"] { color: #404040; font-weight: 600; padding-top: 10px;
    border-bottom: 1px solid #bdbdbd; }
QLabel[field="true"] { color: #262626; }
QLabel[message="true"] { color: #a01d14; }
"""
_MISSING = object()


class PropertyInspector(QWidget):
    """Typed editors built from a widget class's pydantic Props and BINDABLE."""

    prop_edited = Signal(str, str, object)  # widget id, prop name, new value (None = default)
    binding_edited = Signal(str, str, object)  # widget id, bindable prop, tag/expression or None
    geometry_edited = Signal(str, object)  # widget id, (x, y, w, h)
    on_click_edited = Signal(str, object)  # widget id, on_click mapping or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("propertyInspector")
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(300)
        self._entries: list[WidgetEntry] = []
        self._classes: list[type[HmiWidget]] = []
        self._tags: Mapping[str, TagMeta] | None = None
        self._connections: Mapping[str, str] = {}
        self._screens: list[str] = []
        self._trends: list[str] = []
        self._resource_dir: Path | None = None
        self._built_for: tuple[str, ...] | None = None
        self.rows: dict[str, PropRow] = {}
        self.bindings: dict[str, BindingEdit] = {}
        self.geometry_spins: dict[str, QSpinBox] = {}
        self._picking = ""  # the bindable prop the open picker fills
        self.picker: TagPicker | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll_area)
        self.show_none()

    # ---- context ------------------------------------------------------------------------------

    def set_tags(
        self, tags: Mapping[str, TagMeta], connections: Mapping[str, str] | None = None
    ) -> None:
        """The project's tags (bindings are checked against them; the picker lists them) and,
        optionally, each tag's connection (shown and searchable in the picker)."""
        self._tags = dict(tags)
        self._connections = dict(connections or {})
        for edit in self.bindings.values():
            edit.set_tags(self._tags)
        if self.picker is not None:
            self.picker.set_tags(self._tags, self._connections)

    def set_screens(self, names: Sequence[str]) -> None:
        """The project's screens, for navigation and faceplate targets."""
        self._screens = list(names)
        if self._entries:
            self._built_for = None
            self._show(self._entries)

    def set_trends(self, names: Sequence[str]) -> None:
        """The project's saved trends, for "trend" click actions."""
        self._trends = list(names)
        if self._entries:
            self._built_for = None
            self._show(self._entries)

    def set_resource_dir(self, folder: Path | None) -> None:
        """The folder relative file paths (images) are written against: the screen's."""
        self._resource_dir = folder
        for row in self.rows.values():
            if isinstance(row.editor, PathEditor):
                row.editor.folder = folder

    # ---- what is shown ------------------------------------------------------------------------

    def show_none(self) -> None:
        """Nothing selected."""
        self._entries, self._classes, self._built_for = [], [], None
        page = QWidget()
        layout = QVBoxLayout(page)
        hint = QLabel("Select a widget on the canvas to see and edit its properties.")
        hint.setObjectName("inspectorSubtitle")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self._set_page(page)

    def show_entry(self, entry: WidgetEntry) -> None:
        """Show one widget (refreshes the editors; emits nothing)."""
        self._show([entry])

    def show_many(self, entries: Sequence[WidgetEntry]) -> None:
        """Show what several widgets have in common; an edit applies to each of them."""
        if not entries:
            self.show_none()
        else:
            self._show(list(entries))

    def _show(self, entries: list[WidgetEntry]) -> None:
        key = tuple(e.type for e in entries)  # same types: the editors are reused
        self._entries = entries
        self._classes = [WIDGET_TYPES[e.type] for e in entries if e.type in WIDGET_TYPES]
        if key != self._built_for or len(self._classes) != len(entries):
            self._build()
            self._built_for = key
        self._refresh()

    def _set_page(self, page: QWidget) -> None:
        old = self.scroll_area.takeWidget()
        if old is not None:
            old.deleteLater()
        self.scroll_area.setWidget(page)

    # ---- building -----------------------------------------------------------------------------

    def _common_fields(self) -> dict[str, FieldInfo]:
        first = self._classes[0].Props.model_fields
        return {
            name: info
            for name, info in first.items()
            if all(
                name in cls.Props.model_fields
                and cls.Props.model_fields[name].annotation == info.annotation
                for cls in self._classes[1:]
            )
        }

    def _common_bindable(self) -> list[str]:
        return [p for p in self._classes[0].BINDABLE if all(p in c.BINDABLE for c in self._classes)]

    def _build(self) -> None:
        self.rows, self.bindings, self.geometry_spins = {}, {}, {}
        if len(self._classes) != len(self._entries):
            unknown = next(e.type for e in self._entries if e.type not in WIDGET_TYPES)
            page = QWidget()
            layout = QVBoxLayout(page)
            note = QLabel(f"unknown widget type {unknown!r}: nothing to edit")
            note.setStyleSheet(ERROR_STYLE)
            layout.addWidget(note)
            layout.addStretch(1)
            self._set_page(page)
            return
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)
        self._build_title(layout)
        self._build_geometry(layout)
        fields = self._common_fields()
        if fields:
            layout.addWidget(self._section("Properties"))
            grid = self._grid(layout)
            for name, info in fields.items():
                self._add_prop_row(grid, name, info)
        bindable = self._common_bindable()
        if bindable:
            layout.addWidget(self._section("Bindings"))
            grid = self._grid(layout)
            for prop in bindable:
                self._add_binding_row(grid, prop)
        self._build_click(layout)
        layout.addStretch(1)
        self._set_page(page)

    def _build_title(self, layout: QVBoxLayout) -> None:
        if len(self._entries) == 1:
            cls = self._classes[0]
            subtitle = QLabel(f"{cls.TYPE_KEY} · {first_line(cls.__doc__)}")
        else:
            types = sorted({e.type for e in self._entries})
            subtitle = QLabel(", ".join(types) + " · edits apply to each")
        self.title = QLabel("")
        self.title.setObjectName("inspectorTitle")
        subtitle.setObjectName("inspectorSubtitle")
        subtitle.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(subtitle)

    def _section(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("section", True)
        return label

    def _grid(self, layout: QVBoxLayout) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, 90)
        layout.addLayout(grid)
        return grid

    def _build_geometry(self, layout: QVBoxLayout) -> None:
        layout.addWidget(self._section("Geometry"))
        grid = self._grid(layout)
        for index, part in enumerate(GEOMETRY):
            spin = QSpinBox()
            spin.setObjectName(f"geometry_{part}")
            low = -8000 if part in ("x", "y") else 1  # off-screen is the save check's to report
            spin.setRange(low - 1, 8000)  # one below the range: "mixed" in a multi-selection
            spin.setSpecialValueText(MIXED)
            spin.setKeyboardTracking(False)
            spin.editingFinished.connect(lambda part=part: self._geometry_edited(part))
            label = QLabel(part)
            label.setProperty("field", True)
            label.setToolTip({"x": "left", "y": "top", "w": "width", "h": "height"}[part] + " (px)")
            grid.addWidget(label, index // 2, (index % 2) * 2)
            grid.addWidget(spin, index // 2, (index % 2) * 2 + 1)
            self.geometry_spins[part] = spin
        grid.setColumnStretch(3, 1)
        grid.setColumnMinimumWidth(0, 20)

    def _add_prop_row(self, grid: QGridLayout, name: str, info: FieldInfo) -> None:
        editor = make_editor(name, info)
        if name == "screen" and type(editor) is TextEditor:
            editor = ScreenEditor(self._screens)
        if isinstance(editor, PathEditor):
            editor.folder = self._resource_dir
        row = PropRow(name, info, editor)
        editor.changed.connect(lambda row=row: self._commit_prop(row))
        editor.typing.connect(lambda row=row: self._check_prop(row))
        row.reset.clicked.connect(lambda _=False, row=row: self._reset_prop(row))
        at = grid.rowCount()
        tall = isinstance(editor, ListTableEditor) or (
            isinstance(editor, YamlEditor) and editor.multiline
        )
        align = Qt.AlignmentFlag.AlignTop if tall else Qt.AlignmentFlag.AlignVCenter
        grid.addWidget(row.label, at, 0, align)
        grid.addWidget(editor, at, 1)
        grid.addWidget(row.reset, at, 2, align)
        grid.addWidget(row.message, at + 1, 1, 1, 2)
        self.rows[name] = row

    def _add_binding_row(self, grid: QGridLayout, prop: str) -> None:
        want = expectation(self._classes[0], prop)
        edit = BindingEdit(prop, want)
        edit.set_tags(self._tags)
        edit.committed.connect(lambda source, prop=prop: self._commit_binding(prop, source))
        edit.pick_requested.connect(lambda edit=edit: self.open_picker(edit))
        label = QLabel(humanise(prop))
        label.setProperty("field", True)
        label.setToolTip(f"tag or expression shown by {prop}")
        at = grid.rowCount()
        grid.addWidget(label, at, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(edit, at, 1)
        self.bindings[prop] = edit

    def _build_click(self, layout: QVBoxLayout) -> None:
        layout.addWidget(self._section("On click"))
        self.click = ClickActionEdit(self._screens)
        self.click.set_targets("trend", self._trends)
        self.click.committed.connect(self._commit_click)
        layout.addWidget(self.click)

    # ---- refreshing ---------------------------------------------------------------------------

    def _refresh(self) -> None:
        if len(self._classes) != len(self._entries):
            return
        count = len(self._entries)
        self.title.setText(self._entries[0].id if count == 1 else f"{count} widgets")
        for index, part in enumerate(GEOMETRY):
            values = {e.geometry[index] for e in self._entries}
            spin = self.geometry_spins[part]
            with QSignalBlocker(spin):
                spin.setValue(values.pop() if len(values) == 1 else spin.minimum())
        for row in self.rows.values():
            props = [e.props.get(row.name, _MISSING) for e in self._entries]
            shown = props[0]
            if shown is _MISSING:
                shown = row.default
            try:
                row.editor.set_value(shown)
                problem = ""
            except ValueError as exc:
                problem = str(exc)
            row.editor.setEnabled(not problem)
            row.reset.setEnabled(
                not row.info.is_required() and any(v is not _MISSING for v in props)
            )
            differ = any(v != props[0] for v in props[1:])
            row.label.setText(humanise(row.name) + (" ≠" if differ else ""))  # values differ
            row.show_error(problem)
        for prop, edit in self.bindings.items():
            sources = {e.bind.get(prop) for e in self._entries}
            edit.set_source(sources.pop() if len(sources) == 1 else None)
        self._refresh_click()

    def _refresh_click(self) -> None:
        actions = [dict(e.on_click) if e.on_click else None for e in self._entries]
        self.click.set_action(actions[0] if all(a == actions[0] for a in actions) else None)

    # ---- edits --------------------------------------------------------------------------------

    def _validate(self, name: str, value: Any) -> str:
        """Why setting ``name`` to ``value`` (None: default) fails for a shown widget ("")."""
        for entry, cls in zip(self._entries, self._classes, strict=True):
            props = dict(entry.props)
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
            try:
                cls.Props.model_validate(props)
            except ValidationError as exc:
                errors = field_errors(exc, name)
                if errors:
                    return "; ".join(errors)
        return ""

    def _read(self, row: PropRow) -> tuple[Any, str]:
        try:
            value = row.editor.value()
        except ValueError as exc:
            return None, str(exc)
        if value is None and row.info.is_required():
            return None, f"{row.name} is required"
        return value, self._validate(row.name, value)

    def _check_prop(self, row: PropRow) -> None:
        row.show_error(self._read(row)[1])

    def _commit_prop(self, row: PropRow) -> None:
        value, error = self._read(row)
        row.show_error(error)
        if error:
            return
        for entry in self._entries:
            current = entry.props.get(row.name, _MISSING)
            if current is _MISSING and (value is None or value == row.default):
                continue
            if current is not _MISSING and current == value and type(current) is type(value):
                continue
            self.prop_edited.emit(entry.id, row.name, value)
        row.reset.setEnabled(not row.info.is_required() and value is not None)

    def _reset_prop(self, row: PropRow) -> None:
        error = self._validate(row.name, None)
        if error:
            row.show_error(error)
            return
        row.editor.set_value(row.default)
        row.show_error("")
        for entry in self._entries:
            if row.name in entry.props:
                self.prop_edited.emit(entry.id, row.name, None)
        row.reset.setEnabled(False)

    def _commit_binding(self, prop: str, source: str | None) -> None:
        for entry in self._entries:
            if entry.bind.get(prop) != source:
                self.binding_edited.emit(entry.id, prop, source)

    def _geometry_edited(self, part: str) -> None:
        spin = self.geometry_spins[part]
        if spin.value() == spin.minimum():
            return  # still "mixed"
        index = GEOMETRY.index(part)
        for entry in self._entries:
            geometry = list(entry.geometry)
            if geometry[index] == spin.value():
                continue
            geometry[index] = spin.value()
            x, y, w, h = geometry
            self.geometry_edited.emit(entry.id, (x, y, w, h))

    def _commit_click(self, action: dict[str, Any] | None) -> None:
        for entry in self._entries:
            current = dict(entry.on_click) if entry.on_click else None
            if current != action:
                self.on_click_edited.emit(entry.id, action)

    # ---- tag picker ---------------------------------------------------------------------------

    def open_picker(self, edit: BindingEdit) -> TagPicker:
        """Open the (one, non-modal) tag picker for ``edit``; a pick goes into that binding."""
        if self.picker is None:
            self.picker = TagPicker(self)
            self.picker.set_tags(self._tags or {}, self._connections)
            self.picker.tag_picked.connect(self._picked)
        self._picking = edit.prop
        self.picker.open_for(edit.edit.text().strip())
        return self.picker

    def _picked(self, name: str) -> None:
        # by name: the selection may have changed (and the editors been rebuilt) meanwhile
        edit = self.bindings.get(self._picking)
        if edit is not None:
            edit.pick(name)
