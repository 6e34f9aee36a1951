"""The property inspector driven with keyboard and mouse: built for every registered widget from
its Props and BINDABLE, typed edits emit the typed value, invalid entries emit nothing and say why,
bindings are checked as you type (unknown tags with a suggestion, expression syntax, tag types),
the tag picker filters and picks with a double-click, and a multi-selection edits each widget."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QSpinBox,
    QTableWidget,
)
from pytestqt.qtbot import QtBot

from screens.designer.editors import (
    BoolEditor,
    ChoiceEditor,
    NumberEditor,
    PathEditor,
    SymbolEditor,
    TextEditor,
)
from screens.designer.editors_table import ListTableEditor
from screens.designer.entries import WidgetEntry
from screens.designer.inspector import PropertyInspector
from tests.designer_inspector.conftest import Emitted
from widgets.registry import WIDGET_TYPES
from widgets.svg_symbols import symbol_names

Fixture = tuple[PropertyInspector, Emitted]


def _example(type_key: str, widget_id: str | None = None, **props: object) -> WidgetEntry:
    cls = WIDGET_TYPES[type_key]
    example = cls.EXAMPLE
    assert example is not None, f"{type_key} has no EXAMPLE"
    return WidgetEntry(
        widget_id or f"{type_key}_1",
        type_key,
        (40, 60, *example.size),
        {**example.props, **props},
    )


def _type_into(qtbot: QtBot, line: QLineEdit, text: str, enter: bool = True) -> None:
    """Click into ``line``, select what it holds, type ``text`` (and Enter) as a user would."""
    qtbot.mouseClick(line, Qt.MouseButton.LeftButton)
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    if enter:
        qtbot.keyClick(line, Qt.Key.Key_Return)


def _spin_line(spin: QAbstractSpinBox) -> QLineEdit:
    line = spin.findChild(QLineEdit)
    assert line is not None
    return line


def test_an_inspector_for_every_registered_widget(inspector: Fixture) -> None:
    widget, emitted = inspector
    for type_key, cls in WIDGET_TYPES.items():
        example = cls.EXAMPLE
        assert example is not None, f"{type_key} has no EXAMPLE for the palette"
        bind = {prop: meta.name for prop, (meta, _value) in example.values.items()}
        entry = WidgetEntry(f"{type_key}_1", type_key, (0, 0, *example.size), example.props, bind)
        widget.show_entry(entry)
        assert list(widget.rows) == list(cls.Props.model_fields), type_key
        assert list(widget.bindings) == list(cls.BINDABLE), type_key
        for name, row in widget.rows.items():
            info = cls.Props.model_fields[name]
            if info.description:
                assert info.description in row.label.toolTip()
            assert not row.message.isVisible(), f"{type_key}.{name}: {row.message.text()}"
        for prop, source in bind.items():
            assert widget.bindings[prop].edit.text() == source
        assert widget.geometry_spins["w"].value() == example.size[0]
    assert emitted.calls == [], "showing widgets must not emit edits"
    widget.show_entry(WidgetEntry("odd", "no_such_widget", (0, 0, 10, 10)))
    assert widget.rows == {} and widget.bindings == {}  # says so instead of failing


def test_editors_follow_the_field_types(inspector: Fixture) -> None:
    widget, _ = inspector
    widget.show_entry(_example("numeric"))
    assert isinstance(widget.rows["value_size"].editor, NumberEditor)
    spin = widget.rows["value_size"].editor.spin
    assert (spin.minimum(), spin.maximum()) == (8, 96)  # the field's ge/le
    assert isinstance(widget.rows["label_above"].editor, BoolEditor)
    assert isinstance(widget.rows["display"].editor, ChoiceEditor)
    assert isinstance(widget.rows["label"].editor, TextEditor)
    widget.show_entry(_example("symbol"))
    symbol = widget.rows["symbol"].editor
    assert isinstance(symbol, SymbolEditor)
    assert [symbol.combo.itemText(i) for i in range(symbol.combo.count())] == symbol_names()
    assert not symbol.combo.itemIcon(0).isNull()  # a preview of each symbol
    assert isinstance(widget.rows["states"].editor, ListTableEditor)
    widget.show_entry(_example("image"))
    assert isinstance(widget.rows["path"].editor, PathEditor)


def test_typing_a_number_emits_the_typed_value(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    _type_into(qtbot, _spin_line(widget.rows["value_size"].editor.spin), "30")
    assert emitted.of("prop_edited") == [("numeric_1", "value_size", 30)]
    # a float field keeps the decimals typed
    widget.show_entry(_example("sparkline"))
    emitted.calls.clear()
    _type_into(qtbot, _spin_line(widget.rows["seconds"].editor.spin), "90.5")
    assert emitted.of("prop_edited") == [("sparkline_1", "seconds", 90.5)]


def test_text_and_bool_and_choice_edits(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    _type_into(qtbot, widget.rows["label"].editor.edit, "Filler speed")
    box = widget.rows["label_above"].editor.findChild(QCheckBox)
    assert box is not None
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))
    combo = widget.rows["display"].editor.findChild(QComboBox)
    assert combo is not None
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert emitted.of("prop_edited") == [
        ("numeric_1", "label", "Filler speed"),
        ("numeric_1", "label_above", True),
        ("numeric_1", "display", "duration"),
    ]


def test_invalid_entries_emit_nothing_and_say_why(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("image"))
    row = widget.rows["path"]
    _type_into(qtbot, row.editor.edit, "diagram.txt")
    assert row.message.isVisible()
    assert "must end in one of" in row.message.text()
    assert "border" in row.editor.styleSheet()  # the red frame
    _type_into(qtbot, row.editor.edit, "diagram.png")
    assert not row.message.isVisible()
    assert emitted.of("prop_edited") == [("image_1", "path", "diagram.png")]
    # a value the model's cross-field check refuses: min above the shown max
    widget.show_entry(_example("bar", min=0, max=100))
    emitted.calls.clear()
    minimum = widget.rows["min"]
    _type_into(qtbot, _spin_line(minimum.editor.spin), "150")
    assert "must be below max" in minimum.message.text()
    assert emitted.calls == []
    # a navigation button without a target screen
    widget.show_entry(_example("nav"))
    screen = widget.rows["screen"].editor.findChild(QComboBox)
    assert screen is not None and screen.isEditable()
    assert screen.findText("filler") >= 0  # the project's screens to pick from
    line = screen.lineEdit()
    assert line is not None
    _type_into(qtbot, line, " ")
    assert "needs the name of a screen" in widget.rows["screen"].message.text()
    assert emitted.calls == []


def test_reset_to_default(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric", value_size=40))
    reset = widget.rows["value_size"].reset
    assert reset.isEnabled()
    assert not widget.rows["units"].reset.isEnabled()  # not set: nothing to reset
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    assert emitted.of("prop_edited") == [("numeric_1", "value_size", None)]
    assert widget.rows["value_size"].editor.value() == 22  # the default shows again


def test_states_table_edits_and_duplicate_values(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("symbol"))
    editor = widget.rows["states"].editor
    assert isinstance(editor, ListTableEditor)
    table = editor.findChild(QTableWidget)
    assert table is not None
    text_col = editor.names.index("text")
    rect = table.visualRect(table.model().index(0, text_col))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(table, Qt.Key.Key_F2)  # edit the current cell
    line = table.viewport().findChild(QLineEdit)
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, "PUMPING")
    qtbot.keyClick(line, Qt.Key.Key_Return)  # the table commits the cell queued
    qtbot.waitUntil(lambda: bool(emitted.of("prop_edited")), timeout=2000)
    (edit,) = emitted.of("prop_edited")
    assert edit[:2] == ("symbol_1", "states")
    assert edit[2][0] == {"value": True, "text": "PUMPING", "style": "running"}
    emitted.calls.clear()
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)  # a copy of the last row
    assert "listed twice" in widget.rows["states"].message.text()
    assert emitted.calls == []


def test_binding_checks_as_you_type(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    binding = widget.bindings["value"]
    _type_into(qtbot, binding.edit, "line1.filer.speed")
    message = binding.message.text()
    assert "unknown tag 'line1.filer.speed'" in message
    assert "did you mean line1.filler.speed" in message
    assert emitted.calls == []
    _type_into(qtbot, binding.edit, "line1.filler.speed >", enter=False)
    assert binding.message.text().startswith("expression: ")
    assert "syntax" in binding.message.text()
    qtbot.keyClicks(binding.edit, " 100")
    assert "expression (bool)" in binding.message.text()
    _type_into(qtbot, binding.edit, "line1.name")
    assert "value needs a number; line1.name is a string tag" in binding.message.text()
    assert emitted.calls == []
    _type_into(qtbot, binding.edit, "line1.filler.speed")
    assert "float32" in binding.message.text() and "bpm" in binding.message.text()
    _type_into(qtbot, binding.edit, "line1.filler.speed * 2")
    assert emitted.of("binding_edited") == [
        ("numeric_1", "value", "line1.filler.speed"),
        ("numeric_1", "value", "line1.filler.speed * 2"),
    ]
    # as the document would: the edited widget is shown again, then its binding cleared
    bound = _example("numeric")
    widget.show_entry(
        WidgetEntry(bound.id, bound.type, bound.geometry, bound.props, {"value": "line1.x"})
    )
    _type_into(qtbot, binding.edit, "")
    assert emitted.of("binding_edited")[-1] == ("numeric_1", "value", None)


def test_a_control_needs_a_writable_tag(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("command"))
    binding = widget.bindings["value"]
    _type_into(qtbot, binding.edit, "line1.infeed.running")
    assert "read-only" in binding.message.text()
    _type_into(qtbot, binding.edit, "not line1.start_cmd")
    assert "bind a tag, not a formula" in binding.message.text()
    assert emitted.calls == []
    _type_into(qtbot, binding.edit, "line1.start_cmd")
    assert emitted.of("binding_edited") == [("command_1", "value", "line1.start_cmd")]


def test_tag_picker_filters_and_picks_with_a_double_click(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    qtbot.mouseClick(widget.bindings["value"].pick_button, Qt.MouseButton.LeftButton)
    picker = widget.picker
    assert picker is not None and picker.isVisible() and not picker.isModal()
    qtbot.keyClicks(picker.search, "bpm")
    shown = picker.shown_names()
    assert shown and "line1.filler.speed" in shown
    assert all(picker.model.findItems(name)[0].row() >= 0 for name in shown)
    assert "line1.filler.level" not in shown  # in %
    picker.search.clear()
    qtbot.keyClicks(picker.search, "utilities chiller")  # connection and name words
    assert picker.shown_names() == ["utilities.chiller.running", "utilities.chiller.supply_temp"]
    assert picker.count.text() == f"2 of {picker.model.rowCount()} tags"
    table = picker.table
    rect = table.visualRect(picker.proxy.index(1, 0))
    # a double-click is a click and a second press (QTest sends only the second part)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert emitted.of("binding_edited") == [("numeric_1", "value", "utilities.chiller.supply_temp")]
    assert not picker.isVisible()
    assert widget.bindings["value"].edit.text() == "utilities.chiller.supply_temp"


def test_tag_picker_picks_with_enter(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("symbol"))
    picker = widget.open_picker(widget.bindings["fault"])
    qtbot.keyClicks(picker.search, "capper fault")
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert emitted.of("binding_edited") == [("symbol_1", "fault", "line1.capper.fault")]


def test_geometry_edits(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    _type_into(qtbot, _spin_line(widget.geometry_spins["x"]), "120")
    assert emitted.of("geometry_edited") == [("numeric_1", (120, 60, 260, 40))]


def test_many_selected_edit_each(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    first = _example("numeric", "speed", label="Speed")
    second = WidgetEntry("level", "numeric", (40, 200, 200, 40), {"label": "Level"})
    widget.show_many([first, second])
    x_spin = widget.geometry_spins["x"]
    assert x_spin.value() == 40
    assert isinstance(widget.geometry_spins["y"], QSpinBox)
    assert widget.geometry_spins["y"].text() == "mixed"
    assert widget.rows["label"].label.text() == "label ≠"  # Speed and Level differ
    assert widget.rows["units"].label.text() == "units"
    _type_into(qtbot, widget.rows["units"].editor.edit, "bpm")
    _type_into(qtbot, _spin_line(widget.geometry_spins["y"]), "300")
    assert emitted.of("prop_edited") == [("speed", "units", "bpm"), ("level", "units", "bpm")]
    assert emitted.of("geometry_edited") == [
        ("speed", (40, 300, 260, 40)),
        ("level", (40, 300, 200, 40)),
    ]
    # mixed types: only the fields they share
    widget.show_many([first, _example("gauge")])
    assert "value_size" not in widget.rows and "label" in widget.rows


def test_on_click_navigate_and_faceplate(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("symbol"))
    click = widget.click
    click.kind.setFocus()
    qtbot.keyClick(click.kind, Qt.Key.Key_Down)  # none -> navigate
    assert "pick what navigate opens" in click.message.text()
    click.target.setFocus()
    qtbot.keyClick(click.target, Qt.Key.Key_Down)
    qtbot.keyClick(click.target, Qt.Key.Key_Return)
    assert emitted.of("on_click_edited") == [("symbol_1", {"navigate": "filler"})]
    emitted.calls.clear()
    entry = _example("symbol")
    widget.show_entry(
        WidgetEntry(entry.id, entry.type, entry.geometry, entry.props, {}, {"faceplate": "x"})
    )
    assert click.kind.currentText() == "faceplate"
    _type_into(qtbot, click.params, "{equipment: line1.filler")
    assert "YAML" in click.message.text()
    assert emitted.calls == []
    _type_into(qtbot, click.params, "{equipment: line1.filler}")
    assert emitted.of("on_click_edited") == [
        ("symbol_1", {"faceplate": "x", "params": {"equipment": "line1.filler"}})
    ]


def test_grab_at_a_normal_size(inspector: Fixture, tmp_path: Path) -> None:
    widget, _ = inspector
    for type_key in ("symbol", "numeric"):
        widget.show_entry(_example(type_key))
        QApplication.processEvents()
        image = widget.grab().toImage()
        assert (image.width(), image.height()) == (380, 860)
        assert image.save(str(tmp_path / f"inspector_{type_key}.png"))


def test_a_template_widget(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    entry = WidgetEntry(
        "speed",
        "gauge",
        (-20, 0, 200, 200),
        {"label": "{title}", "max": "{max}"},
        {"value": "{equipment}.speed"},
    )
    widget.show_entry(entry)
    assert widget.geometry_spins["x"].value() == -20  # off-screen is shown as it is
    assert "template binding ({equipment})" in widget.bindings["value"].message.text()
    maximum = widget.rows["max"]
    assert "'{max}' is not a number" in maximum.message.text()
    assert not maximum.editor.isEnabled()
    _type_into(qtbot, widget.bindings["value"].edit, "{equipment}.speed *")
    assert "syntax" in widget.bindings["value"].message.text()
    _type_into(qtbot, widget.bindings["value"].edit, "{equipment}.speed * 60")
    assert emitted.of("binding_edited") == [("speed", "value", "{equipment}.speed * 60")]
    assert emitted.of("prop_edited") == []


def test_a_pick_goes_to_the_widget_selected_when_picking(qtbot: QtBot, inspector: Fixture) -> None:
    widget, emitted = inspector
    widget.show_entry(_example("numeric"))
    picker = widget.open_picker(widget.bindings["value"])
    widget.show_entry(_example("gauge"))  # another type: the editors are rebuilt
    qtbot.keyClicks(picker.search, "filler temperature")
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert emitted.of("binding_edited") == [("gauge_1", "value", "line1.filler.temperature")]
