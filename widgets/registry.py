"""Widget registry: type key (as written in screen files) -> widget class.

Each widget class declares ``TYPE_KEY``, ``Props`` and ``BINDABLE``; the screen loader validates
screen files against them and the designer (later) builds its palette and property grid from them.
"""

from __future__ import annotations

from widgets.base import HmiWidget
from widgets.command_button import CommandButton
from widgets.flow_line import FlowLine
from widgets.level_bar import LevelBar
from widgets.numeric import NumericDisplay
from widgets.panel import Panel
from widgets.state_indicator import StateIndicator
from widgets.text_label import TextLabel

_CLASSES: tuple[type[HmiWidget], ...] = (
    NumericDisplay,
    StateIndicator,
    TextLabel,
    LevelBar,
    CommandButton,
    Panel,
    FlowLine,
)


def _build() -> dict[str, type[HmiWidget]]:
    registry: dict[str, type[HmiWidget]] = {}
    for cls in _CLASSES:
        if not cls.TYPE_KEY:
            raise TypeError(f"{cls.__name__} declares no TYPE_KEY")
        if cls.TYPE_KEY in registry:
            raise TypeError(f"type key {cls.TYPE_KEY!r} used by two widgets")
        registry[cls.TYPE_KEY] = cls
    return registry


WIDGET_TYPES: dict[str, type[HmiWidget]] = _build()


def widget_class(type_key: str) -> type[HmiWidget]:
    """The widget class for ``type_key``; KeyError naming the known keys otherwise."""
    try:
        return WIDGET_TYPES[type_key]
    except KeyError:
        known = ", ".join(sorted(WIDGET_TYPES))
        raise KeyError(f"unknown widget type {type_key!r} (known: {known})") from None


def type_keys() -> list[str]:
    """Registered type keys, sorted."""
    return sorted(WIDGET_TYPES)
