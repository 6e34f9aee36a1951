"""Library-neutral tag definitions of a Logix controller and the mapping of Logix atomic types
to our data types.

A ``TagInfo`` describes one tag or one member of a structure as the controller's tag list upload
(or the project, when the upload is unavailable) defines it; ``TagTable`` looks addresses up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hmi_app.core.datatypes import DataType

# Logix atomic type name -> our data type.
LOGIX_TO_DATATYPE: dict[str, DataType] = {
    "BOOL": DataType.BOOL,
    "SINT": DataType.INT8,
    "INT": DataType.INT16,
    "DINT": DataType.INT32,
    "LINT": DataType.INT64,
    "USINT": DataType.UINT8,
    "UINT": DataType.UINT16,
    "UDINT": DataType.UINT32,
    "ULINT": DataType.UINT64,
    "REAL": DataType.FLOAT32,
    "LREAL": DataType.FLOAT64,
    "STRING": DataType.STRING,
}
DATATYPE_TO_LOGIX: dict[DataType, str] = {v: k for k, v in LOGIX_TO_DATATYPE.items()}

STRING_CHARS = 82  # characters of the Logix built-in STRING


@dataclass(frozen=True, slots=True)
class TagInfo:
    """One tag or structure member: its type name, array dimensions and members (structures)."""

    name: str
    type_name: str
    dims: tuple[int, ...] = ()
    members: Mapping[str, TagInfo] = field(default_factory=dict)
    is_struct: bool = False
    description: str = ""

    @property
    def data_type(self) -> DataType | None:
        """Our data type for an atomic type or a string; None for other structures."""
        return LOGIX_TO_DATATYPE.get(self.type_name)

    @property
    def elements(self) -> int:
        """Number of elements of an array (1 for a scalar)."""
        total = 1
        for dim in self.dims:
            total *= dim
        return total

    @property
    def expandable(self) -> bool:
        """A structure (other than a string) has members to browse."""
        return bool(self.members) and self.data_type is None

    def type_text(self) -> str:
        """``DINT``, ``REAL[10]``, ``MyUdt[2,3]``."""
        if not self.dims:
            return self.type_name
        return f"{self.type_name}[{','.join(str(d) for d in self.dims)}]"


@dataclass(slots=True)
class TagTable:
    """Tags by name: controller scope as ``Name``, program scope as ``Program:Prog.Name``."""

    tags: dict[str, TagInfo] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tags)

    def __iter__(self) -> Iterator[TagInfo]:
        return iter(self.tags.values())

    def get(self, name: str) -> TagInfo | None:
        return self.tags.get(name)

    def programs(self) -> list[str]:
        """Names of the programs that have tags (``Main`` for ``Program:Main.X``)."""
        found = {
            name.split(".", 1)[0].removeprefix("Program:")
            for name in self.tags
            if name.startswith("Program:")
        }
        return sorted(found)

    def controller_tags(self) -> list[TagInfo]:
        return [t for n, t in sorted(self.tags.items()) if not n.startswith("Program:")]

    def program_tags(self, program: str) -> list[TagInfo]:
        prefix = f"Program:{program}."
        return [t for n, t in sorted(self.tags.items()) if n.startswith(prefix)]
