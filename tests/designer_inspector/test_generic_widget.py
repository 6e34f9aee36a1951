"""A widget the designer has never seen gets a working inspector from its Props alone: colour
fields get a colour button and hex entry (the colour dialog opens without blocking), enums a list,
bounded floats a spin box, nested models and mixed-type values YAML checked as you type, image
paths a file picker writing paths relative to the screen's folder or the app's resources."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from hmi_app.core.datatypes import DataType
from hmi_app.core.tagsource import TagMeta
from screens.designer.editors import (
    ChoiceEditor,
    ColourEditor,
    NumberEditor,
    PathEditor,
    YamlEditor,
)
from screens.designer.entries import WidgetEntry
from screens.designer.inspector import PropertyInspector
from tests.designer_inspector.conftest import Emitted
from widgets import registry
from widgets.base import HmiWidget, WidgetExample, WidgetProps

Fixture = tuple[PropertyInspector, Emitted]


class Shape(enum.Enum):
    ROUND = "round"
    SQUARE = "square"


class Colour(str):
    """A colour type of its own (the editor goes by the type's name)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(cls, handler(str))


class Margin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    left: int = 0
    right: int = 0


class DialProps(WidgetProps):
    """Props of a widget that exists only in this test."""

    needle_colour: str = Field(default="#4d4d4d", description="colour of the needle")
    shape: Shape = Shape.ROUND
    sweep: float = Field(default=270.0, ge=10, le=360, description="degrees the dial spans")
    margin: Margin = Field(default_factory=Margin, description="inner margins")
    marker: bool | int | str | None = Field(default=None, description="a marker value")
    background_image: str | None = Field(default=None, description="image behind the dial")
    rim: Colour = Field(default=Colour("#b3b3b3"), description="a colour-typed field")


class Dial(HmiWidget):
    """A dial that exists only in this test."""

    TYPE_KEY: ClassVar[str] = "test_dial"
    Props: ClassVar[type[WidgetProps]] = DialProps
    BINDABLE: ClassVar[tuple[str, ...]] = ("value",)
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (120, 120), {}, {"value": (TagMeta("x", DataType.FLOAT32), 1.0)}
    )


@pytest.fixture
def dial(
    inspector: Fixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PropertyInspector, Emitted]]:
    monkeypatch.setitem(registry.WIDGET_TYPES, Dial.TYPE_KEY, Dial)
    widget, emitted = inspector
    widget.show_entry(WidgetEntry("dial_1", Dial.TYPE_KEY, (0, 0, 120, 120), {}))
    yield widget, emitted


def _type(qtbot: QtBot, line: QLineEdit, text: str) -> None:
    qtbot.mouseClick(line, Qt.MouseButton.LeftButton)
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_editors_of_an_unknown_widget(dial: Fixture) -> None:
    widget, _ = dial
    assert list(widget.rows) == list(DialProps.model_fields)
    assert isinstance(widget.rows["needle_colour"].editor, ColourEditor)
    assert isinstance(widget.rows["shape"].editor, ChoiceEditor)
    sweep = widget.rows["sweep"].editor
    assert isinstance(sweep, NumberEditor)
    assert (sweep.spin.minimum(), sweep.spin.maximum()) == (10, 360)
    assert isinstance(widget.rows["margin"].editor, YamlEditor)
    assert widget.rows["margin"].editor.multiline
    assert isinstance(widget.rows["marker"].editor, YamlEditor)
    assert isinstance(widget.rows["background_image"].editor, PathEditor)
    assert isinstance(widget.rows["rim"].editor, ColourEditor)
    assert widget.rows["sweep"].label.toolTip() == "sweep: degrees the dial spans"


def test_colour_by_hex_and_by_dialog(qtbot: QtBot, dial: Fixture) -> None:
    widget, emitted = dial
    editor = widget.rows["needle_colour"].editor
    assert isinstance(editor, ColourEditor)
    _type(qtbot, editor.edit, "#12345")
    assert "is not a colour" in widget.rows["needle_colour"].message.text()
    assert emitted.calls == []
    _type(qtbot, editor.edit, "#A01D14")
    assert emitted.of("prop_edited") == [("dial_1", "needle_colour", "#a01d14")]
    qtbot.mouseClick(editor.swatch, Qt.MouseButton.LeftButton)
    dialog = editor.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setCurrentColor(QColor("#336699"))
    dialog.accept()
    assert emitted.of("prop_edited")[-1] == ("dial_1", "needle_colour", "#336699")


def _type_lines(qtbot: QtBot, edit: QPlainTextEdit, text: str) -> None:
    """Replace what ``edit`` holds by typing ``text``, Return between the lines."""
    edit.setFocus()
    edit.selectAll()
    for index, line in enumerate(text.split("\n")):
        if index:
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        qtbot.keyClicks(edit, line)


def test_yaml_values_checked_as_you_type(qtbot: QtBot, dial: Fixture) -> None:
    widget, emitted = dial
    margin = widget.rows["margin"]
    editor = margin.editor
    assert isinstance(editor, YamlEditor) and editor.text_edit is not None
    _type_lines(qtbot, editor.text_edit, "left: [")
    assert "YAML" in margin.message.text()
    _type_lines(qtbot, editor.text_edit, "left: 4\ntop: 2")
    assert "top" in margin.message.text()  # not a field of the model
    qtbot.mouseClick(editor.apply, Qt.MouseButton.LeftButton)
    assert emitted.calls == []
    _type_lines(qtbot, editor.text_edit, "left: 4\nright: 8")
    assert not margin.message.isVisible()
    qtbot.mouseClick(editor.apply, Qt.MouseButton.LeftButton)
    marker = widget.rows["marker"].editor
    assert isinstance(marker, YamlEditor) and marker.line_edit is not None
    _type(qtbot, marker.line_edit, "'2'")
    assert emitted.of("prop_edited") == [
        ("dial_1", "margin", {"left": 4, "right": 8}),
        ("dial_1", "marker", "2"),
    ]


def test_image_path_relative_to_the_screen_folder(dial: Fixture, tmp_path: Path) -> None:
    widget, emitted = dial
    widget.set_resource_dir(tmp_path)
    editor = widget.rows["background_image"].editor
    assert isinstance(editor, PathEditor)
    dialog = editor.open_dialog()
    assert dialog.isVisible() and Path(dialog.directory().absolutePath()) == tmp_path
    (tmp_path / "images").mkdir()
    picture = tmp_path / "images" / "dial.png"
    picture.write_bytes(b"")
    dialog.fileSelected.emit(str(picture))  # what choosing the file in the dialog sends
    dialog.close()
    import resources

    shipped = Path(str(resources.__path__[0])) / "symbols" / "pump.svg"
    editor.choose(str(shipped))
    assert [call[2] for call in emitted.of("prop_edited")] == [
        "images/dial.png",
        "resources:symbols/pump.svg",
    ]
