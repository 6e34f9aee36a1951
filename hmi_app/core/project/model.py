"""Schema of ``project.yaml`` (pydantic). Driver-specific settings are validated by the drivers."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hmi_app.core.datatypes import ByteOrder, DataType, WordOrder
from hmi_app.core.project.designer_model import DesignerConfig
from hmi_app.core.project.history_model import HistorianConfig, TagHistory
from hmi_app.core.project.production_model import ProductionConfig
from hmi_app.core.project.production_tags import derived_tag_configs
from hmi_app.core.project.sync_targets import SyncTarget
from hmi_app.core.tagsource import TagMeta

SCHEMA_VERSION = 1
MEMORY = "memory"
TAG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Strict(BaseModel):
    """Base for project models: unknown keys are errors, so typos are caught at load time."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Scaling(Strict):
    """Linear scaling from raw device units to engineering units."""

    raw_min: float
    raw_max: float
    eu_min: float
    eu_max: float

    @model_validator(mode="after")
    def _spans(self) -> Scaling:
        if self.raw_min == self.raw_max:
            raise ValueError("raw_min and raw_max must differ")
        return self

    def to_eu(self, raw: float) -> float:
        return self.eu_min + (raw - self.raw_min) * (self.eu_max - self.eu_min) / (
            self.raw_max - self.raw_min
        )

    def to_raw(self, eu: float) -> float:
        return self.raw_min + (eu - self.eu_min) * (self.raw_max - self.raw_min) / (
            self.eu_max - self.eu_min
        )


class Limits(Strict):
    """Inclusive limits on values an operator may write (engineering units)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class TagConfig(Strict):
    """One tag: where it comes from, its type, how it is shown and whether it may be written."""

    name: str
    connection: str = MEMORY
    address: str = ""
    type: DataType = DataType.FLOAT32
    byte_order: ByteOrder = ByteOrder.BIG
    word_order: WordOrder = WordOrder.BIG
    length: int = Field(default=0, ge=0, le=246, description="characters, for strings")
    array_length: int = Field(
        default=0, ge=0, le=10_000, description="0: a scalar; N: a whole array (a tuple of N)"
    )
    scaling: Scaling | None = None
    units: str = ""
    format: str = ""
    deadband: float = Field(default=0.0, ge=0)
    access: Literal["read", "read_write"] = "read"
    limits: Limits | None = None
    scan: str = "normal"
    initial: Any = None
    description: str = ""
    history: TagHistory | bool = Field(
        default=False, description="record in the historian: true, or {deadband, max_interval}"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not TAG_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a tag name: use letters, digits and _ in dot-separated parts"
            )
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        data_type = info.data.get("type", DataType.FLOAT32)
        # a scaled integer tag shows a float; an unscaled integer tag shows an int
        sample: object = 1 if data_type.is_integer and info.data.get("scaling") is None else 1.5
        if data_type is DataType.STRING:
            sample = "text"
        try:
            format(sample, value)
        except ValueError:
            raise ValueError(
                f"{value!r} does not fit a {data_type.value} value "
                "(e.g. '.1f' for numbers, 'd' for unscaled integers)"
            ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TagConfig:
        if self.connection != MEMORY and not self.address:
            raise ValueError(f"a tag on connection {self.connection!r} needs an address")
        if self.type is DataType.STRING and self.length == 0:
            raise ValueError("a string tag needs a length (characters)")
        if self.scaling is not None and not self.type.is_numeric:
            raise ValueError(f"scaling applies to numbers, not {self.type.value}")
        if self.deadband and not self.type.is_numeric:
            raise ValueError(f"a deadband applies to numbers, not {self.type.value}")
        if self.array_length and (self.scaling or self.deadband or self.limits):
            raise ValueError("scaling, deadband and limits apply to scalars, not arrays")
        return self

    @property
    def is_memory(self) -> bool:
        return self.connection == MEMORY

    def meta(self) -> TagMeta:
        """What a display needs to know about this tag besides its value."""
        limits = self.limits
        return TagMeta(
            name=self.name,
            data_type=self.type,
            units=self.units,
            display_format=self.format,
            description=self.description,
            writable=self.writable,
            min_value=limits.min if limits else None,
            max_value=limits.max if limits else None,
            array_length=self.array_length,
        )

    @property
    def writable(self) -> bool:
        return self.access == "read_write"


class ConnectionConfig(BaseModel):
    """A device connection. ``driver`` picks the driver, which validates the other keys."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: str
    simulated_plant: str | None = Field(
        default=None,
        description="name of a simulated plant served inside the app; host and port come from it",
    )

    def driver_settings(self) -> dict[str, Any]:
        """The keys meant for the driver."""
        return dict(self.model_extra or {})


class ProjectInfo(Strict):
    """Names shown in the header."""

    name: str
    plant: str = ""
    line: str = ""
    start_screen: str = ""


def _default_scan_classes() -> dict[str, int]:
    return {"fast": 100, "normal": 1000, "slow": 10000}


class ProjectModel(Strict):
    """All of ``project.yaml``."""

    schema_version: int = Field(ge=1, le=SCHEMA_VERSION)
    project: ProjectInfo
    scan_classes: dict[str, int] = Field(default_factory=_default_scan_classes)
    connections: dict[str, ConnectionConfig] = Field(default_factory=dict)
    tags: list[TagConfig] = Field(default_factory=list)
    screens: list[str] = Field(default_factory=list, description="screen files, in menu order")
    production: ProductionConfig | None = Field(
        default=None, description="counting, shift calendar and OEE (production_model.py)"
    )
    sync_targets: dict[str, SyncTarget] = Field(
        default_factory=dict, description="receivers of the counts, by name (sync_targets.py)"
    )
    historian: HistorianConfig = Field(
        default_factory=HistorianConfig, description="retention of recorded tags (history_model.py)"
    )
    designer: DesignerConfig = Field(
        default_factory=DesignerConfig, description="design-mode access (designer_model.py)"
    )

    @property
    def runtime_tags(self) -> list[TagConfig]:
        """``tags`` plus the memory tags the production service publishes (``L.production.*``).

        What the engine runs, screens may bind and the screen check knows; ``tags`` stays what
        the project file holds (CSV export, editing). A derived name the project already uses
        for a tag of its own is left out (the project's tag wins; the service will not write it).
        """
        if self.production is None:
            return list(self.tags)
        taken = {tag.name for tag in self.tags}
        derived = derived_tag_configs(self.production)
        return [*self.tags, *(tag for tag in derived if tag.name not in taken)]

    @field_validator("sync_targets")
    @classmethod
    def _target_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", name):
                raise ValueError(f"{name!r} is not a target name: use letters, digits, _ and -")
        return value

    @field_validator("scan_classes")
    @classmethod
    def _periods(cls, value: dict[str, int]) -> dict[str, int]:
        for name, period in value.items():
            if not 10 <= period <= 3_600_000:
                raise ValueError(f"scan class {name!r}: {period} ms is outside 10..3600000")
        return value
