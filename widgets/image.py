"""Image: a static picture (PNG, JPG or SVG) from the screen's folder or the app's resources.

``path`` is relative to the folder of the screen file (the screen calls ``set_resource_dir``), or
absolute, or ``resources:<path>`` for a file shipped in the app's ``resources`` package (e.g.
``resources:symbols/pump.svg``; symbol SVGs are shown in their calm "normal" grey). The file is
read once; the picture is rendered once per size into a pixmap, SVG as vectors at that size so it
stays sharp. A file that is missing or unreadable never breaks the screen: a grey placeholder shows
its name, and the tooltip says why.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import ClassVar, Literal

from pydantic import Field, field_validator
from PySide6.QtCore import QByteArray, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QImage, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgRenderer

from widgets import theme
from widgets.base import HmiWidget, WidgetExample, WidgetProps
from widgets.svg_symbols import (
    ACCENT_SENTINEL,
    FILL_SENTINEL,
    LINE_SENTINEL,
    STATE_COLOURS,
)

RESOURCE_PREFIX = "resources:"
SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".bmp", ".gif")


class ImageProps(WidgetProps):
    """Static properties of an image."""

    path: str = Field(
        description=(
            "PNG, JPG or SVG file, relative to the screen's folder, or 'resources:<path>' "
            "for a file shipped with the app (e.g. resources:symbols/pump.svg)"
        )
    )
    fit: Literal["contain", "cover", "stretch"] = Field(
        default="contain",
        description="contain: whole image, aspect kept; cover: fills, edges cut; stretch: fills",
    )

    @field_validator("path")
    @classmethod
    def _image_file(cls, value: str) -> str:
        text = value.strip()
        if not text or text == RESOURCE_PREFIX:
            raise ValueError("path must name an image file")
        if not text.lower().endswith(SUFFIXES):
            raise ValueError(f"path {text!r} must end in one of {', '.join(SUFFIXES)}")
        if text.startswith(RESOURCE_PREFIX):
            inner = PurePosixPath(text[len(RESOURCE_PREFIX) :])
            if inner.is_absolute() or ".." in inner.parts:
                raise ValueError(f"path {text!r} must stay inside the app's resources")
        return text


class ImageError(Exception):
    """Why an image cannot be shown (the message goes into the tooltip)."""


class Image(HmiWidget):
    """A static image scaled to the widget (contain, cover or stretch)."""

    TYPE_KEY: ClassVar[str] = "image"
    Props: ClassVar[type[WidgetProps]] = ImageProps
    BINDABLE: ClassVar[tuple[str, ...]] = ()
    EXAMPLE: ClassVar[WidgetExample | None] = WidgetExample(
        (96, 96), {"path": "resources:symbols/pump.svg"}
    )

    props: ImageProps

    def __init__(self, props: WidgetProps) -> None:
        super().__init__(props)
        self._folder: Path | None = None
        self._source: QImage | QSvgRenderer | None = None
        self._error: str | None = None
        self._loaded = False
        self._pixmap: QPixmap | None = None
        self._pixmap_key: Hashable = None
        self.loads = 0
        """How often the file was read (tests prove painting does not re-read it)."""

    # ---- source ----------------------------------------------------------------------------
    def set_resource_dir(self, folder: Path) -> None:
        if folder != self._folder:
            self._folder = folder
            self._loaded = False
            self._pixmap = None
            self.update()

    def error(self) -> str | None:
        """Why the image cannot be shown, or None when it can."""
        self._ensure_loaded()
        return self._error

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self.loads += 1
        try:
            self._source = self._load()
            self._error = None
        except ImageError as exc:
            self._source = None
            self._error = str(exc)

    def _read(self) -> bytes:
        path = self.props.path
        if path.startswith(RESOURCE_PREFIX):
            inner = path[len(RESOURCE_PREFIX) :]
            entry = resources.files("resources").joinpath(*PurePosixPath(inner).parts)
            if not entry.is_file():
                raise ImageError(f"not found in the app's resources: {inner}")
            try:
                return entry.read_bytes()
            except OSError as exc:
                raise ImageError(f"cannot read {inner}: {exc.strerror or exc}") from exc
        file = Path(path)
        if not file.is_absolute():
            if self._folder is None:
                raise ImageError("relative path, but no screen folder is known to look in")
            file = self._folder / file
        if not file.exists():
            raise ImageError(f"file not found: {file}")
        if not file.is_file():
            raise ImageError(f"not a file: {file}")
        try:
            return file.read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {file}: {exc.strerror or exc}") from exc

    def _load(self) -> QImage | QSvgRenderer:
        data = self._read()
        if self.props.path.lower().endswith(".svg"):
            text = data.decode("utf-8", errors="replace")
            if re.search(FILL_SENTINEL + "|" + LINE_SENTINEL + "|" + ACCENT_SENTINEL, text, re.I):
                text = _recolour(text)  # a process symbol: its calm normal colours
            renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
            if not renderer.isValid():
                raise ImageError("not a valid SVG file (Qt could not parse it)")
            return renderer
        image = QImage.fromData(data)
        if image.isNull():
            raise ImageError("not an image Qt can read (damaged, or not PNG/JPG as named)")
        return image

    # ---- display ---------------------------------------------------------------------------
    def display_state(self) -> Hashable:
        return self.props.path, self._folder

    def tooltip_text(self) -> str:
        error = self.error()
        return f"image {self.props.path}: {error}" if error else ""

    def scale_changed(self) -> None:
        self._pixmap = None

    def target_rect(self, source: QSizeF) -> QRectF:
        """Where the picture goes in the widget for ``fit`` (may overflow for ``cover``)."""
        r = QRectF(self.rect())
        if self.props.fit == "stretch" or source.width() <= 0 or source.height() <= 0:
            return r
        ratio = source.width() / source.height()
        if (self.props.fit == "contain") == (r.width() / max(r.height(), 1e-9) > ratio):
            w, h = r.height() * ratio, r.height()
        else:
            w, h = r.width(), r.width() / ratio
        return QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h)

    def paint(self, painter: QPainter) -> None:
        self._ensure_loaded()
        if self._source is None:
            self._paint_placeholder(painter)
            return
        painter.drawPixmap(QPointF(0, 0), self._picture(painter))

    def _picture(self, painter: QPainter) -> QPixmap:
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        key = (self.width(), self.height(), dpr)
        if self._pixmap is not None and self._pixmap_key == key:
            return self._pixmap
        pixmap = QPixmap(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        source = self._source
        p = QPainter(pixmap)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.setClipRect(QRectF(self.rect()))
            if isinstance(source, QSvgRenderer):
                size = source.defaultSize()
                source.setAspectRatioMode(Qt.AspectRatioMode.IgnoreAspectRatio)
                source.render(p, self.target_rect(QSizeF(size)))
            elif isinstance(source, QImage):
                target = self.target_rect(QSizeF(source.size()))
                p.drawImage(target, source)
        finally:
            p.end()
        self._pixmap, self._pixmap_key = pixmap, key
        return pixmap

    def _paint_placeholder(self, painter: QPainter) -> None:
        s = self.scale
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(theme.FIELD_BG)
        pen = QPen(theme.STALE_EDGE, max(1.0, 1.0 * s), Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(r)
        # a small picture-frame icon with a diagonal stroke: "image missing"
        font = theme.font(theme.CAPTION_PX, s)
        text_h = theme.metrics(font).height()
        icon = min(r.width() * 0.5, r.height() - text_h - 8 * s, 32 * s)
        if icon >= 14 * s:
            box = QRectF(
                r.center().x() - icon / 2, r.center().y() - (icon + text_h) / 2, icon, icon * 0.8
            )
            painter.setPen(QPen(theme.TEXT_STALE, max(1.0, 1.5 * s)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box)
            painter.drawPolyline(
                [
                    QPointF(box.left() + icon * 0.12, box.bottom() - icon * 0.12),
                    QPointF(box.left() + icon * 0.38, box.top() + icon * 0.38),
                    QPointF(box.left() + icon * 0.58, box.top() + icon * 0.55),
                    QPointF(box.left() + icon * 0.72, box.top() + icon * 0.42),
                    QPointF(box.right() - icon * 0.1, box.bottom() - icon * 0.12),
                ]
            )
            painter.drawLine(box.bottomLeft(), box.topRight())
            text_top = box.bottom() + 4 * s
        else:
            text_top = r.center().y() - text_h / 2
        name = PurePosixPath(self.props.path.removeprefix(RESOURCE_PREFIX)).name
        painter.setFont(font)
        painter.setPen(theme.TEXT_MUTED)
        width = r.width() - 6 * s
        elided = theme.metrics(font).elidedText(name, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(
            QRectF(r.left() + 3 * s, text_top, width, text_h),
            int(Qt.AlignmentFlag.AlignCenter),
            elided,
        )


def _recolour(svg: str) -> str:
    """A process symbol's sentinel colours replaced by its "normal" state colours."""
    colours = STATE_COLOURS["normal"]
    for sentinel, colour in (
        (FILL_SENTINEL, colours.fill),
        (LINE_SENTINEL, colours.line),
        (ACCENT_SENTINEL, colours.accent),
    ):
        svg = re.sub(re.escape(sentinel), str(colour), svg, flags=re.IGNORECASE)
    return svg
