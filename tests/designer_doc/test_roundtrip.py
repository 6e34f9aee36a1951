"""Opening a screen file and saving it without edits leaves it byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from screens.designer.document import DocumentError, ScreenDocument

DEMO_SCREENS = sorted(
    (Path(__file__).resolve().parents[2] / "resources" / "demo" / "screens").glob("*.yaml")
)

ODD_FILES = {
    "crlf": (
        "# a Windows file\r\nschema_version: 1\r\nname: crlf\r\nwidgets:\r\n"
        "  - {id: a, type: text, geometry: [0, 0, 10, 10]}\r\n"
        "  - id: b\r\n    type: text\r\n    geometry: [10, 0, 10, 10]   # trailing\r\n"
    ),
    "bom_no_final_newline": (
        "\ufeffschema_version: 1\nname: bom\nwidgets:\n- id: a\n  type: text\n"
        "  geometry: [0, 0, 10, 10]"
    ),
    "dash_alone_and_block_geometry": (
        "schema_version: 1\nname: odd\nwidgets:\n  -\n    id: a\n    type: text\n"
        "    geometry:\n      - 1\n      - 2\n      - 30\n      - 40\n"
        "  # between\n\n  - {id: b,\n     type: text, geometry: [5, 5, 5, 5]}\n"
        "instances: []   # after the widgets\n# the end\n"
    ),
    "empty_flow_list": "schema_version: 1\nname: e\nwidgets: []  # none yet\n",
    "no_widgets_key": "schema_version: 1\nname: n\ntitle: 'No widgets'",
    "null_widgets": "schema_version: 1\nname: n\nwidgets:\nsize: [300, 300]\n",
    "quoted_keys": (
        'schema_version: 1\nname: q\n"widgets":\n  - {"id": "a", type: text, '
        "geometry: [0, 0, 10, 10], props: {'text': \"x: y\"}}\n"
    ),
}


@pytest.mark.parametrize("path", DEMO_SCREENS, ids=lambda p: p.name)
def test_every_demo_screen_reads_back_byte_identical(path: Path, tmp_path: Path) -> None:
    document = ScreenDocument.load(path)
    assert document.text().encode("utf-8") == path.read_bytes()
    assert not document.is_modified()
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    saved = ScreenDocument.load(copy)
    saved.save(force=True)  # no edits: nothing is rewritten, no backup is made
    assert copy.read_bytes() == path.read_bytes()
    assert not (tmp_path / ".backups").exists()


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_unusual_but_valid_layouts_read_back_byte_identical(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(ODD_FILES[name].encode("utf-8"))
    document = ScreenDocument.load(path)
    assert document.text().encode("utf-8") == path.read_bytes()


def test_demo_entries_match_the_file(tmp_path: Path) -> None:
    overview = ScreenDocument.load(
        DEMO_SCREENS[[p.name for p in DEMO_SCREENS].index("overview.yaml")]
    )
    first = overview.entries()[0]
    assert (first.id, first.type, first.geometry) == ("status_panel", "panel", (16, 12, 1248, 96))
    assert first.props == {"title": "Line status"}
    state = overview.entry("line_state")
    assert state.bind == {"value": "line1.state"}
    assert state.props["states"][1] == {"value": 1, "text": "RUNNING", "style": "running"}
    assert overview.size == (1280, 720) and overview.title == "Overview"
    assert overview.name == "overview" and overview.background == "#d9d9d9"


BROKEN = {
    "syntax": ("schema_version: 1\nname: x\nwidgets:\n  - {id: a, type: text\n", 5, "YAML syntax"),
    "not_mapping": ("- just\n- a list\n", 1, "mapping"),
    "flow_list": (
        "schema_version: 1\nname: x\nwidgets: [{id: a, type: text, geometry: [0, 0, 1, 1]}]\n",
        3,
        "block list",
    ),
    "no_geometry": ("name: x\nwidgets:\n  - id: a\n    type: text\n", 3, "geometry"),
    "bad_geometry": (
        "name: x\nwidgets:\n  - id: a\n    type: text\n    geometry: [1, 2, 3]\n",
        5,
        "geometry",
    ),
    "no_id": ("name: x\nwidgets:\n  - type: text\n    geometry: [0, 0, 1, 1]\n", 3, "id"),
    "duplicate_id": (
        "name: x\nwidgets:\n  - {id: a, type: text, geometry: [0, 0, 1, 1]}\n"
        "  - {id: a, type: text, geometry: [0, 0, 1, 1]}\n",
        4,
        "already used",
    ),
    "bind_not_text": (
        "name: x\nwidgets:\n  - id: a\n    type: text\n    geometry: [0, 0, 1, 1]\n"
        "    bind: {text: [1, 2]}\n",
        6,
        "bind",
    ),
    "widget_not_mapping": ("name: x\nwidgets:\n  - just text\n", 3, "mapping"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_file_the_designer_cannot_edit_names_file_and_line(name: str, tmp_path: Path) -> None:
    text, line, words = BROKEN[name]
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        ScreenDocument.load(path)
    message = str(caught.value)
    assert message.startswith(f"broken.yaml:{line}:"), message
    assert words in message
    assert path.read_text(encoding="utf-8") == text  # nothing lost


def test_missing_and_undecodable_files_are_document_errors(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"^gone.yaml: file not found"):
        ScreenDocument.load(tmp_path / "gone.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(DocumentError, match="cannot be read"):
        ScreenDocument.load(latin)
