"""Schema of history in ``project.yaml``: which tags are recorded, and how the historian keeps them.

A tag is recorded when it says ``history: true`` (project defaults) or gives its own settings
(``history: {deadband: 0.5, max_interval: 60}``). The ``historian:`` section sets the file and
retention. Only numbers and bools can be recorded (``hmi_app.check`` refuses the rest).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hmi_app.core.project.production_model import resolve_data_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TagHistory(_Strict):
    """How one tag is recorded."""

    deadband: float | None = Field(
        default=None,
        ge=0,
        description="a change smaller than this (engineering units) is not stored; "
        "unset: the historian's default",
    )
    max_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds: the value is stored at least this often even when unchanged, "
        "so a gap in history means no data; unset: the historian's default",
    )


class HistorianConfig(_Strict):
    """The ``historian:`` section: where samples go and how long they are kept."""

    file: str = Field(default="history.sqlite", description="in the project's data folder")
    retention_days: float = Field(default=90, gt=0, description="older samples are purged")
    max_size_mb: float = Field(
        default=2048, gt=0, description="the oldest samples are purged above this size"
    )
    default_deadband: float = Field(default=0.0, ge=0)
    default_max_interval: float = Field(default=60.0, gt=0, description="seconds")

    def file_path(self, data_folder: Path) -> Path:
        """The history file: ``file`` in the project's data folder (``project_data_dir``), or
        where an absolute ``file`` says."""
        return resolve_data_path(self.file, data_folder)
