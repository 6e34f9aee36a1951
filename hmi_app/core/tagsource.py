"""The one small interface through which screens bind widgets to tags.

The runtime's tag bus implements it; tests may implement it with a dictionary. Widgets and screens
never see drivers, the engine or storage, only this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import TagValue

TagCallback = Callable[[TagValue], None]


@dataclass(frozen=True, slots=True)
class TagMeta:
    """What a display needs to know about a tag besides its value."""

    name: str
    data_type: DataType
    units: str = ""
    display_format: str = ""
    description: str = ""
    writable: bool = False
    min_value: float | None = None
    max_value: float | None = None
    array_length: int = 0

    def format_value(self, value: Any) -> str:
        """Text of ``value`` in the tag's display format (falls back to ``str``)."""
        if value is None:
            return ""
        if isinstance(value, bool) or not self.display_format:
            return str(value)
        try:
            return format(value, self.display_format)
        except (ValueError, TypeError):
            return str(value)


class WriteRefused(Exception):
    """A write that the runtime refused or the device rejected; the message is for the operator."""


class Subscription(Protocol):
    """Handle returned by ``TagSource.subscribe``; cancelling it stops the callbacks."""

    def cancel(self) -> None: ...


class TagSource(Protocol):
    """Latest values, metadata and writes of tags, for whoever displays them."""

    def subscribe(self, tag: str, callback: TagCallback) -> Subscription:
        """Call ``callback`` with the tag's current value (if any) and then with each change."""
        ...

    def current(self, tag: str) -> TagValue | None:
        """The newest value known, or None before the first one."""
        ...

    def meta(self, tag: str) -> TagMeta:
        """Metadata of a tag; KeyError for an unknown tag."""
        ...

    async def write(self, tag: str, value: Any) -> None:
        """Write through the runtime's checks; raises WriteRefused with a message on failure."""
        ...
