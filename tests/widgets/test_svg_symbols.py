"""SVG process symbols: every symbol renders in every state colour at the sizes screens use, the
colours really follow the state, and painting is a cache hit (same pixmap, bounded cache)."""

from __future__ import annotations

import re
import time
from importlib import resources

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QApplication

from widgets import theme
from widgets.svg_symbols import (
    ACCENT_SENTINEL,
    DEFAULT_CACHE_ENTRIES,
    FILL_SENTINEL,
    LINE_SENTINEL,
    STATE_COLOURS,
    SymbolCache,
    SymbolColours,
    cache_info,
    clear_cache,
    symbol_image,
    symbol_names,
    symbol_pixmap,
)

NAMES = symbol_names()
SENTINELS = {FILL_SENTINEL, LINE_SENTINEL, ACCENT_SENTINEL}
REQUIRED = {"motor", "pump", "valve", "conveyor", "fan", "heater", "tank", "mixer"}
# a point (viewBox units) inside each symbol's body, clear of outlines and accents
BODY_POINT = {
    "motor": (50, 16),
    "pump": (80, 25),
    "valve": (16, 64),
    "fan": (50, 84),
    "conveyor": (30, 45),
    "heater": (20, 70),
    "tank": (50, 50),
    "mixer": (30, 45),
}


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    """QPixmap needs a running Qt application."""


def _rgba(image: QImage | QPixmap) -> np.ndarray:
    """Pixels as an (h, w, 4) RGBA array (not premultiplied)."""
    if isinstance(image, QPixmap):
        image = image.toImage()
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(height, image.bytesPerLine())[:, : width * 4]
    return rows.reshape(height, width, 4).copy()  # the QImage (and its buffer) dies on return


def _share_of(pixels: np.ndarray, colour: QColor | str, tolerance: int = 2) -> float:
    """Share of the pixels that are opaque and within ``tolerance`` of ``colour``."""
    wanted = QColor(colour)
    target = np.array([wanted.red(), wanted.green(), wanted.blue()], dtype=np.int16)
    close = np.all(np.abs(pixels[..., :3].astype(np.int16) - target) <= tolerance, axis=-1)
    return float(np.mean(close & (pixels[..., 3] == 255)))


def test_the_isa_symbol_set_is_there() -> None:
    assert set(NAMES) >= REQUIRED
    assert set(BODY_POINT) == set(NAMES), "a new symbol needs its BODY_POINT"
    assert sorted(NAMES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_svg_files_are_flat_square_and_paint_only_with_sentinels(name: str) -> None:
    text = (resources.files("resources") / "symbols" / f"{name}.svg").read_text(encoding="utf-8")
    assert 'viewBox="0 0 100 100"' in text
    assert "Gradient" not in text
    colours = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", text)}
    assert colours <= SENTINELS, f"{name} paints with fixed colours {colours - SENTINELS}"
    assert {FILL_SENTINEL, LINE_SENTINEL} <= colours
    assert "rgb(" not in text


@pytest.mark.parametrize("name", NAMES)
def test_every_symbol_renders_in_every_state_at_40_and_160_px(name: str) -> None:
    for style, colours in STATE_COLOURS.items():
        for size in (40, 160):
            pixmap = symbol_pixmap(name, colours, size, size)
            assert not pixmap.isNull()
            assert (pixmap.width(), pixmap.height()) == (size, size)
            pixels = _rgba(pixmap)
            # the body really is in the state's fill colour, and nothing is left in sentinel green
            assert _share_of(pixels, colours.fill) > 0.04, (name, style, size)
            x, y = (round(v * size / 100) for v in BODY_POINT[name])
            assert _share_of(pixels[y : y + 1, x : x + 1], colours.fill) == 1.0, (name, style)
            assert _share_of(pixels, colours.line) > 0.01, (name, style, size)
            for sentinel in SENTINELS:
                assert _share_of(pixels, sentinel, tolerance=40) == 0.0, (name, style, sentinel)
            # the symbol fills its box but keeps a transparent surround (corners)
            assert pixels[0, 0, 3] == 0
            assert np.mean(pixels[..., 3] > 0) > 0.15


@pytest.mark.parametrize("name", NAMES)
def test_running_and_stopped_look_different(name: str) -> None:
    running = _rgba(symbol_pixmap(name, STATE_COLOURS["running"], 40, 40))
    stopped = _rgba(symbol_pixmap(name, STATE_COLOURS["stopped"], 40, 40))
    changed = np.any(running != stopped, axis=-1)
    assert np.mean(changed) > 0.1
    assert _share_of(running, theme.RUNNING_FILL) > 0.04
    assert _share_of(stopped, theme.RUNNING_FILL) == 0.0


def test_accent_colour_is_drawn_on_symbols_that_have_one() -> None:
    colours = SymbolColours("#ffffff", "#000000", "#0000ff")
    for name in ("motor", "pump", "fan", "conveyor", "heater", "mixer"):
        assert _share_of(_rgba(symbol_image(name, colours, 160, 160)), "#0000ff") > 0.02, name


def test_state_presets_follow_the_theme() -> None:
    assert set(STATE_COLOURS) == {
        "running",
        "stopped",
        "normal",
        "warning",
        "alarm",
        "unknown",
        "bad",
        "stale",
    }
    assert STATE_COLOURS["running"].fill == theme.RUNNING_FILL.name()
    assert STATE_COLOURS["stopped"].fill == theme.STOPPED_FILL.name()
    assert STATE_COLOURS["stopped"].line == theme.STOPPED_EDGE.name()
    assert STATE_COLOURS["alarm"].fill == theme.ALARM_FILL.name()
    assert STATE_COLOURS["warning"].fill == theme.WARNING_FILL.name()
    assert STATE_COLOURS["bad"].line == theme.BAD_EDGE.name()
    fills = [c.fill for c in STATE_COLOURS.values()]
    looks = {(c.fill, c.line) for c in STATE_COLOURS.values()}
    assert len(looks) == len(STATE_COLOURS), "two states would look the same"
    assert len(set(fills)) >= 6


def test_colours_accept_qcolor_or_text_and_compare_by_value() -> None:
    a = SymbolColours(QColor("#4D4D4D"), "white", QColor(255, 0, 0))
    b = SymbolColours("#4d4d4d", "#ffffff", "#ff0000")
    assert a == b
    assert hash(a) == hash(b)
    assert a.fill == "#4d4d4d"
    assert a.qcolor("accent") == QColor(255, 0, 0)
    with pytest.raises(ValueError, match="not a colour"):
        SymbolColours("nope", "#000000", "#000000")
    with pytest.raises(ValueError, match="opaque"):
        SymbolColours(QColor(0, 0, 0, 128), "#000000", "#000000")


def test_unknown_symbol_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        symbol_pixmap("turbine", STATE_COLOURS["running"], 40, 40)
    message = str(caught.value)
    assert "turbine" in message
    for name in NAMES:
        assert name in message
    with pytest.raises(KeyError):
        symbol_pixmap("../themes/isa101", STATE_COLOURS["running"], 40, 40)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        symbol_pixmap("motor", STATE_COLOURS["running"], 0, 40)
    with pytest.raises(ValueError, match="pixel ratio"):
        symbol_pixmap("motor", STATE_COLOURS["running"], 40, 40, device_pixel_ratio=0)


def test_same_arguments_give_the_same_pixmap() -> None:
    running = STATE_COLOURS["running"]
    first = symbol_pixmap("pump", running, 48, 48)
    again = symbol_pixmap("pump", SymbolColours(running.fill, running.line, running.accent), 48, 48)
    assert again is first
    assert again.cacheKey() == first.cacheKey()
    assert symbol_pixmap("pump", running, 48, 48, rotation=360) is first
    assert symbol_pixmap("pump", STATE_COLOURS["stopped"], 48, 48).cacheKey() != first.cacheKey()
    assert symbol_pixmap("pump", running, 48, 40).cacheKey() != first.cacheKey()
    assert symbol_pixmap("pump", running, 48, 48, rotation=90).cacheKey() != first.cacheKey()
    assert symbol_pixmap("motor", running, 48, 48).cacheKey() != first.cacheKey()


def test_cache_is_lru_and_bounded_by_entries() -> None:
    cache = SymbolCache(max_entries=4)
    colours = STATE_COLOURS["running"]
    pixmaps = [cache.pixmap("motor", colours, size, size) for size in range(10, 20)]
    info = cache.info()
    assert (info.entries, info.misses, info.hits) == (4, 10, 0)
    assert cache.pixmap("motor", colours, 19, 19) is pixmaps[-1]  # newest kept
    assert cache.pixmap("motor", colours, 16, 16) is pixmaps[6]
    assert cache.info().hits == 2
    cache.pixmap("motor", colours, 10, 10)  # oldest was dropped: rendered again
    assert cache.info().misses == 11
    assert cache.info().entries == 4
    # 17 was the least recently used and made room for 10
    cache.pixmap("motor", colours, 17, 17)
    assert cache.info().misses == 12


def test_cache_is_bounded_by_bytes() -> None:
    one = 100 * 100 * 4
    cache = SymbolCache(max_entries=100, max_bytes=3 * one)
    colours = STATE_COLOURS["stopped"]
    for name in NAMES[:5]:
        cache.pixmap(name, colours, 100, 100)
    info = cache.info()
    assert info.entries == 3
    assert info.bytes == 3 * one
    huge = cache.pixmap("tank", colours, 400, 400)  # larger than the budget: kept alone
    assert cache.info().entries == 1
    assert cache.pixmap("tank", colours, 400, 400) is huge
    cache.clear()
    assert cache.info()[:2] == (0, 0)


def test_shared_cache_stays_bounded() -> None:
    clear_cache()
    colours = STATE_COLOURS["normal"]
    for width in range(1, DEFAULT_CACHE_ENTRIES + 40):
        symbol_pixmap("valve", colours, width, 2)
    info = cache_info()
    assert info.max_entries == DEFAULT_CACHE_ENTRIES
    assert info.entries == DEFAULT_CACHE_ENTRIES
    clear_cache()
    assert cache_info().entries == 0


def test_rotation_turns_clockwise_about_the_centre() -> None:
    colours = STATE_COLOURS["running"]
    upright = _rgba(symbol_image("pump", colours, 160, 160))
    turned = _rgba(symbol_image("pump", colours, 160, 160, rotation=90))
    fill = QColor(colours.fill)
    # the discharge nozzle at the top right (viewBox 90, 25) ends up at the bottom right (75, 90)
    assert _share_of(upright[38:42, 142:146], fill) == 1.0
    assert _share_of(turned[142:146, 118:122], fill) == 1.0
    assert _share_of(turned[38:42, 142:146], fill) == 0.0
    # at 45 degrees the symbol shrinks so its corners stay inside the box
    tilted = _rgba(symbol_image("heater", colours, 100, 100, rotation=45))
    edge = np.concatenate([tilted[0], tilted[-1], tilted[:, 0], tilted[:, -1]])
    assert np.all(edge[:, 3] == 0)


def test_aspect_ratio_is_kept_and_the_symbol_centred() -> None:
    pixels = _rgba(symbol_image("motor", STATE_COLOURS["running"], 160, 40))
    opaque_columns = np.nonzero(np.any(pixels[..., 3] > 0, axis=0))[0]
    assert opaque_columns.min() >= 60
    assert opaque_columns.max() <= 100


def test_device_pixel_ratio_gives_sharper_pixmaps_of_the_same_logical_size() -> None:
    pixmap = symbol_pixmap("fan", STATE_COLOURS["alarm"], 40, 40, device_pixel_ratio=2.0)
    assert (pixmap.width(), pixmap.height()) == (80, 80)
    assert pixmap.devicePixelRatio() == 2.0
    size = pixmap.deviceIndependentSize()
    assert (size.width(), size.height()) == (40, 40)
    assert _share_of(_rgba(pixmap), theme.ALARM_FILL) > 0.04


def test_a_cache_hit_is_far_cheaper_than_a_render() -> None:
    cache = SymbolCache()
    colours = STATE_COLOURS["running"]
    start = time.perf_counter()
    for name in NAMES:
        cache.pixmap(name, colours, 40, 40)
    miss = (time.perf_counter() - start) / len(NAMES)
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        for name in NAMES:
            cache.pixmap(name, colours, 40, 40)
    hit = (time.perf_counter() - start) / (rounds * len(NAMES))
    assert cache.info().misses == len(NAMES)
    # measured ~0.3 ms per miss and ~1 us per hit; 1,000 symbols at 10 Hz need hits of < 10 us
    assert hit < miss / 20, (hit, miss)
    assert hit < 50e-6, hit
