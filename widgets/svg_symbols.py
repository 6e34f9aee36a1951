"""Process symbols (motor, pump, valve, ...) drawn from SVG in colours that follow state.

The symbols are hand-written SVG files in ``resources/symbols/`` (viewBox ``0 0 100 100``, flat
ISA-5.1 / ISA-101 shapes, no gradients). Each file paints with up to three *sentinel* colours that
are replaced, textually, by the colours of a :class:`SymbolColours` before rendering:

====================  ===========  =========================================================
sentinel              role         used for
====================  ===========  =========================================================
``#00ff01``           ``fill``     the body: motor/fan housing, pump casing, valve bow-tie,
                                   conveyor belt, heater box, vessel shell
``#00ff02``           ``line``     outlines and structural lines (stems, legs, terminals)
``#00ff03``           ``accent``   what is drawn on the body: the M of the motor, the pump's
                                   delivery triangle, fan blades, conveyor pulleys, heater
                                   coil, mixer agitator (valve and tank have no accent)
====================  ===========  =========================================================

The sentinels are pure greens nobody paints with on an ISA-101 screen, so a symbol that forgets
to use them shows up at once. Colours must be opaque (a state never shows as "half there").

Painting is meant to be a cache hit: :func:`symbol_pixmap` renders a symbol once per
(name, colours, size, rotation, device pixel ratio) and keeps the :class:`QPixmap` in a bounded LRU
cache, so a canvas of 1,000 symbols updating at 10 Hz only calls ``drawPixmap``. The pixmaps are
shared: draw them, never paint on them. Like every ``QPixmap``, use them on the GUI thread only;
:func:`symbol_image` (uncached, a ``QImage``) is safe on any thread.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from widgets import theme

FILL_SENTINEL = "#00ff01"
LINE_SENTINEL = "#00ff02"
ACCENT_SENTINEL = "#00ff03"

DEFAULT_CACHE_ENTRIES = 512
# 512 symbols of 160x160 at a device pixel ratio of 2 would be 200 MB; the byte budget keeps a
# screen with many large or odd sizes from growing the cache past what a plant PC can spare.
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024

_SENTINEL = re.compile(r"#00ff0([123])", re.IGNORECASE)
_SYMBOL_DIR = "symbols"


def _opaque_hex(value: QColor | str, role: str) -> str:
    colour = QColor(value)
    if not colour.isValid():
        raise ValueError(f"symbol {role} colour {value!r} is not a colour")
    if colour.alpha() != 255:
        raise ValueError(f"symbol {role} colour {value!r} must be opaque")
    return colour.name(QColor.NameFormat.HexRgb)


@dataclass(frozen=True)
class SymbolColours:
    """The three colours of a symbol: body ``fill``, ``line`` (outline) and ``accent``.

    Accepts ``QColor`` or any colour string Qt understands; each is stored as ``#rrggbb`` so two
    equal colour sets compare and hash equal (they are part of the cache key).
    """

    fill: QColor | str
    line: QColor | str
    accent: QColor | str

    def __post_init__(self) -> None:
        for role in ("fill", "line", "accent"):
            object.__setattr__(self, role, _opaque_hex(getattr(self, role), role))

    def qcolor(self, role: str) -> QColor:
        """The colour of ``role`` ("fill", "line" or "accent") as a ``QColor``."""
        return QColor(str(getattr(self, role)))


# ISA-101: grey is normal, colour only for abnormal situations. The fills are those of
# state_indicator.LOOKS; outlines are darker there so a 1.6 px line still reads at 40 px.
STATE_COLOURS: dict[str, SymbolColours] = {
    "running": SymbolColours(theme.RUNNING_FILL, theme.TEXT, theme.RUNNING_TEXT),
    "stopped": SymbolColours(theme.STOPPED_FILL, theme.STOPPED_EDGE, theme.STOPPED_EDGE),
    "normal": SymbolColours(theme.PANEL_BG, theme.TEXT_MUTED, theme.TEXT_MUTED),
    "warning": SymbolColours(
        theme.WARNING_FILL, theme.WARNING_FILL.darker(160), theme.WARNING_TEXT
    ),
    "alarm": SymbolColours(theme.ALARM_FILL, theme.ALARM_FILL.darker(160), theme.ALARM_TEXT),
    "unknown": SymbolColours(theme.STOPPED_FILL, theme.UNCERTAIN_EDGE, theme.UNCERTAIN_EDGE),
    "bad": SymbolColours(theme.FIELD_BG, theme.BAD_EDGE, theme.BAD_EDGE),
    "stale": SymbolColours("#e8e8e8", theme.TEXT_STALE, theme.TEXT_STALE),
}


@lru_cache(maxsize=1)
def _known() -> tuple[str, ...]:
    folder = resources.files("resources") / _SYMBOL_DIR
    return tuple(
        sorted(entry.name[:-4] for entry in folder.iterdir() if entry.name.endswith(".svg"))
    )


def symbol_names() -> list[str]:
    """Names of the available symbols, sorted (the SVG files in ``resources/symbols``)."""
    return list(_known())


@lru_cache(maxsize=64)
def _svg_text(name: str) -> str:
    known = _known()
    if name not in known:
        raise KeyError(f"unknown symbol {name!r}; known symbols: {', '.join(known)}")
    return (resources.files("resources") / _SYMBOL_DIR / f"{name}.svg").read_text(encoding="utf-8")


def symbol_svg(name: str, colours: SymbolColours) -> str:
    """The SVG text of symbol ``name`` with its sentinels replaced by ``colours``."""
    by_index = {"1": str(colours.fill), "2": str(colours.line), "3": str(colours.accent)}
    return _SENTINEL.sub(lambda match: by_index[match.group(1)], _svg_text(name))


def _fit(aspect: float, width: float, height: float, rotation: float) -> tuple[float, float]:
    """Largest box of ``aspect`` (w/h) that, turned by ``rotation`` degrees, fits width x height."""
    radians = math.radians(rotation)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    # a box (aspect*h, h) turned spans (aspect*h*cos + h*sin, aspect*h*sin + h*cos)
    box_h = min(width / (aspect * cos + sin), height / (aspect * sin + cos))
    return aspect * box_h, box_h


def _check_size(width: int, height: int, device_pixel_ratio: float) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"symbol size must be positive, got {width}x{height}")
    if not device_pixel_ratio > 0:
        raise ValueError(f"device pixel ratio must be positive, got {device_pixel_ratio}")


def symbol_image(
    name: str,
    colours: SymbolColours,
    width: int,
    height: int,
    rotation: float = 0,
    device_pixel_ratio: float = 1.0,
) -> QImage:
    """Render symbol ``name`` (uncached) into a transparent image of ``width`` x ``height``.

    The symbol keeps its aspect ratio, is centred, and is turned ``rotation`` degrees clockwise
    about the centre, shrunk so that the turned symbol still fits. Sizes are logical pixels; the
    image has ``device_pixel_ratio`` times as many device pixels. Raises ``KeyError`` for an
    unknown name.
    """
    _check_size(width, height, device_pixel_ratio)
    renderer = QSvgRenderer(QByteArray(symbol_svg(name, colours).encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"symbol {name!r}: the SVG file does not parse")
    view = renderer.viewBoxF()
    box_w, box_h = _fit(view.width() / view.height(), width, height, rotation)
    image = QImage(
        max(1, round(width * device_pixel_ratio)),
        max(1, round(height * device_pixel_ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(device_pixel_ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.translate(width / 2, height / 2)
        if rotation:
            painter.rotate(rotation)
        renderer.render(painter, QRectF(-box_w / 2, -box_h / 2, box_w, box_h))
    finally:
        painter.end()
    return image


class CacheInfo(NamedTuple):
    """What a :class:`SymbolCache` holds and how well it works."""

    entries: int
    bytes: int
    hits: int
    misses: int
    max_entries: int
    max_bytes: int


_Key = tuple[str, SymbolColours, int, int, float, float]


class SymbolCache:
    """A bounded LRU cache of rendered symbol pixmaps (by entries and by bytes).

    The newest pixmap is always kept, even if it alone is larger than ``max_bytes``.
    """

    def __init__(
        self, max_entries: int = DEFAULT_CACHE_ENTRIES, max_bytes: int = DEFAULT_CACHE_BYTES
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a symbol cache needs room for at least one pixmap")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._pixmaps: OrderedDict[_Key, tuple[QPixmap, int]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0

    def pixmap(
        self,
        name: str,
        colours: SymbolColours,
        width: int,
        height: int,
        rotation: float = 0,
        device_pixel_ratio: float = 1.0,
    ) -> QPixmap:
        """The pixmap of ``name`` (see :func:`symbol_image`), rendered once and then reused."""
        key = (name, colours, width, height, float(rotation) % 360.0, float(device_pixel_ratio))
        found = self._pixmaps.get(key)
        if found is not None:
            self._pixmaps.move_to_end(key)
            self._hits += 1
            return found[0]
        self._misses += 1
        image = symbol_image(name, colours, width, height, key[4], key[5])
        pixmap = QPixmap.fromImage(image)
        size = image.sizeInBytes()
        self._pixmaps[key] = (pixmap, size)
        self._bytes += size
        while len(self._pixmaps) > 1 and (
            len(self._pixmaps) > self._max_entries or self._bytes > self._max_bytes
        ):
            _, (_, dropped) = self._pixmaps.popitem(last=False)
            self._bytes -= dropped
        return pixmap

    def clear(self) -> None:
        """Drop every pixmap (e.g. after a theme change); the hit and miss counts stay."""
        self._pixmaps.clear()
        self._bytes = 0

    def info(self) -> CacheInfo:
        """Entries, bytes held, hits, misses and the limits."""
        return CacheInfo(
            len(self._pixmaps),
            self._bytes,
            self._hits,
            self._misses,
            self._max_entries,
            self._max_bytes,
        )


_CACHE = SymbolCache()


def symbol_pixmap(
    name: str,
    colours: SymbolColours,
    width: int,
    height: int,
    rotation: float = 0,
    device_pixel_ratio: float = 1.0,
) -> QPixmap:
    """Symbol ``name`` in ``colours`` as a shared, cached pixmap (GUI thread only).

    The same arguments return the same ``QPixmap`` object. Raises ``KeyError`` naming the known
    symbols for an unknown ``name``.
    """
    return _CACHE.pixmap(name, colours, width, height, rotation, device_pixel_ratio)


def cache_info() -> CacheInfo:
    """State of the shared cache behind :func:`symbol_pixmap`."""
    return _CACHE.info()


def clear_cache() -> None:
    """Empty the shared cache behind :func:`symbol_pixmap`."""
    _CACHE.clear()
