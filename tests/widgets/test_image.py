"""Image: files relative to the screen's folder and ``resources:`` files load and fit as asked; a
missing or unreadable file shows a grey placeholder with a tooltip saying why, never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from PySide6.QtGui import QColor, QImage, QPainter
from pytestqt.qtbot import QtBot

from widgets import theme
from widgets.canvas import ItemCanvas, host_item
from widgets.image import Image, ImageProps
from widgets.svg_symbols import FILL_SENTINEL, STATE_COLOURS

LEFT = QColor("#404080")
RIGHT = QColor("#c08040")


def _image(qtbot: QtBot, folder: Path | None, size: tuple[int, int], **props: object) -> Image:
    widget = Image(ImageProps.model_validate(props))
    if folder is not None:
        widget.set_resource_dir(folder)
    qtbot.addWidget(host_item(widget, *size))
    return widget


def _pixels(widget: Image) -> np.ndarray:
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).astype(np.int16).copy()


def _is(pixel: np.ndarray, colour: QColor, tolerance: int = 8) -> bool:
    return bool(np.all(np.abs(pixel - [colour.red(), colour.green(), colour.blue()]) <= tolerance))


@pytest.fixture
def screen_dir(tmp_path: Path) -> Path:
    """A screen folder with a 200x100 PNG: left half blue-grey, right half ochre."""
    picture = QImage(200, 100, QImage.Format.Format_RGB32)
    picture.fill(LEFT)
    painter = QPainter(picture)
    painter.fillRect(100, 0, 100, 100, RIGHT)
    painter.end()
    (tmp_path / "pictures").mkdir()
    assert picture.save(str(tmp_path / "pictures" / "wide.png"))
    (tmp_path / "broken.png").write_bytes(b"this is not a PNG")
    return tmp_path


def test_a_png_relative_to_the_screen_folder_is_shown(qtbot: QtBot, screen_dir: Path) -> None:
    widget = _image(qtbot, screen_dir, (200, 100), path="pictures/wide.png")
    pixels = _pixels(widget)
    assert widget.error() is None
    assert widget.tooltip_text() == ""
    assert _is(pixels[50, 50], LEFT)
    assert _is(pixels[50, 150], RIGHT)


def test_fit_contain_cover_and_stretch(qtbot: QtBot, screen_dir: Path) -> None:
    square = (100, 100)
    contain = _pixels(_image(qtbot, screen_dir, square, path="pictures/wide.png"))
    # whole picture, aspect kept: bands of screen above and below, both halves visible
    assert _is(contain[10, 50], theme.SCREEN_BG)
    assert _is(contain[50, 20], LEFT) and _is(contain[50, 80], RIGHT)
    cover = _pixels(_image(qtbot, screen_dir, square, path="pictures/wide.png", fit="cover"))
    # fills the square, the sides cut off: the middle column is where the halves meet
    assert _is(cover[2, 20], LEFT) and _is(cover[97, 80], RIGHT)
    assert _is(cover[50, 2], LEFT)
    stretch = _pixels(_image(qtbot, screen_dir, square, path="pictures/wide.png", fit="stretch"))
    assert _is(stretch[2, 2], LEFT) and _is(stretch[97, 97], RIGHT)
    assert _is(stretch[50, 45], LEFT) and _is(stretch[50, 55], RIGHT)


def test_a_missing_file_shows_a_placeholder_and_says_why(qtbot: QtBot, screen_dir: Path) -> None:
    widget = _image(qtbot, screen_dir, (160, 100), path="pictures/overview.png")
    pixels = _pixels(widget)  # painting must not raise
    error = widget.error()
    assert error is not None and "file not found" in error
    assert str(screen_dir / "pictures" / "overview.png") in widget.tooltip_text()
    assert np.mean(np.all(pixels == [238, 238, 238], axis=-1)) > 0.5  # the grey field
    assert _mask_count(pixels, theme.TEXT_MUTED) > 20  # the file name is written in it


def _mask_count(pixels: np.ndarray, colour: QColor, tolerance: int = 40) -> int:
    target = np.array([colour.red(), colour.green(), colour.blue()], dtype=np.int16)
    return int(np.all(np.abs(pixels - target) <= tolerance, axis=-1).sum())


def test_an_unreadable_file_shows_the_placeholder(qtbot: QtBot, screen_dir: Path) -> None:
    widget = _image(qtbot, screen_dir, (120, 90), path="broken.png")
    _pixels(widget)
    assert "not an image" in widget.tooltip_text()
    folder = _image(qtbot, screen_dir, (120, 90), path="pictures.png")
    (screen_dir / "pictures.png").mkdir()
    assert "not a file" in folder.tooltip_text()


def test_a_relative_path_without_a_screen_folder_says_so(qtbot: QtBot) -> None:
    widget = _image(qtbot, None, (120, 90), path="logo.png")
    _pixels(widget)
    assert "no screen folder" in widget.tooltip_text()


def test_the_screen_folder_can_change(qtbot: QtBot, screen_dir: Path, tmp_path: Path) -> None:
    widget = _image(qtbot, tmp_path / "elsewhere", (200, 100), path="pictures/wide.png")
    assert widget.error() is not None
    widget.set_resource_dir(screen_dir)
    assert _is(_pixels(widget)[50, 50], LEFT)
    assert widget.error() is None


def test_a_resources_path_loads_from_the_app(qtbot: QtBot) -> None:
    widget = _image(qtbot, None, (96, 96), path="resources:symbols/pump.svg")
    pixels = _pixels(widget)
    assert widget.error() is None
    # the symbol is drawn in its calm "normal" colours, never the sentinel green
    assert _mask_count(pixels, STATE_COLOURS["normal"].qcolor("line"), 10) > 100
    assert _mask_count(pixels, QColor(FILL_SENTINEL), 60) == 0
    missing = _image(qtbot, None, (96, 96), path="resources:symbols/nothing.svg")
    _pixels(missing)
    assert "not found in the app's resources: symbols/nothing.svg" in missing.tooltip_text()


def test_the_file_is_read_once_and_the_picture_follows_the_size(
    qtbot: QtBot, screen_dir: Path
) -> None:
    widget = _image(qtbot, screen_dir, (200, 100), path="pictures/wide.png")
    for _ in range(3):
        _pixels(widget)
    canvas = widget.popup_parent()
    assert isinstance(canvas, ItemCanvas)
    canvas.show()
    canvas.resize(300, 150)
    assert widget.scale == pytest.approx(1.5)
    pixels = _pixels(widget)
    assert pixels.shape[:2] == (150, 300)
    assert _is(pixels[75, 140], LEFT) and _is(pixels[75, 160], RIGHT)
    assert widget.loads == 1


def test_bad_props_are_refused() -> None:
    with pytest.raises(ValidationError, match="must end in one of"):
        ImageProps(path="notes.txt")
    with pytest.raises(ValidationError, match="inside the app's resources"):
        ImageProps(path="resources:../pyproject.png")
    with pytest.raises(ValidationError, match="fit"):
        ImageProps.model_validate({"path": "a.png", "fit": "zoom"})
    with pytest.raises(ValidationError, match="path"):
        ImageProps.model_validate({})
