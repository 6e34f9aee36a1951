"""Widget registry: type key (as written in screen files) -> widget class.

Each widget lives in its own module of the ``widgets`` package and declares ``TYPE_KEY``,
``Props`` and ``BINDABLE``; the registry finds them by importing every module of the package, so
adding a widget means adding a module. The screen loader validates screen files against the
registry and the designer builds its palette and property grid from it.
"""

from __future__ import annotations

import importlib
import pkgutil

import widgets
from widgets.base import HmiWidget


def _discover() -> dict[str, type[HmiWidget]]:
    registry: dict[str, type[HmiWidget]] = {}
    for info in sorted(pkgutil.iter_modules(widgets.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"widgets.{info.name}")
        for value in vars(module).values():
            if (
                not isinstance(value, type)
                or not issubclass(value, HmiWidget)
                or value.__module__ != module.__name__
                or not value.TYPE_KEY
            ):
                continue
            other = registry.get(value.TYPE_KEY)
            if other is not None:
                raise TypeError(
                    f"type key {value.TYPE_KEY!r} used by {other.__name__} and {value.__name__}"
                )
            registry[value.TYPE_KEY] = value
    return dict(sorted(registry.items()))


WIDGET_TYPES: dict[str, type[HmiWidget]] = _discover()


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
