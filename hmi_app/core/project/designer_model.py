"""Schema of the ``designer:`` section of ``project.yaml``: who may change screens in the app.

Until user accounts exist, design mode is opened with a PIN whose salted hash (never the PIN)
is kept here (``hmi_app.core.pin``); without one, design mode is not offered.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hmi_app.core.pin import PinError, parse_pin_hash
from hmi_app.core.project.yamlio import ProjectLoadError, read_yaml


class DesignerConfig(BaseModel):
    """The ``designer:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pin_hash: str = Field(
        default="", description="hash of the design-mode PIN (set with `hmi-app set-pin`)"
    )

    @field_validator("pin_hash")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        # a hand-edited or truncated hash is reported with its line, not found at the first PIN
        if value:
            parse_pin_hash(value)
        return value

    @property
    def enabled(self) -> bool:
        """Whether design mode is offered (a PIN is set)."""
        return bool(self.pin_hash)


def read_pin_hash(project_file: Path) -> str | None:
    """The design PIN's hash as ``project_file`` holds it now, when it reads and is well formed
    (None otherwise: the caller keeps the one it has). Lets a running app take a PIN changed
    with ``hmi-app set-pin`` at the next attempt, so a replaced PIN stops opening design mode."""
    try:
        data = read_yaml(project_file).data
    except ProjectLoadError:
        return None
    section = data.get("designer") if isinstance(data, dict) else None
    value = section.get("pin_hash") if isinstance(section, dict) else None
    if not isinstance(value, str) or not value:
        return None
    try:
        parse_pin_hash(value)
    except PinError:
        return None
    return value
