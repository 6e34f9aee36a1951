"""Logix tag addresses as a project writes them, checked without and with the tag list.

Syntax (pycomm3's, which is Studio 5000's): ``Tag``, ``Tag[3]``, ``Tag[1,2]``, ``Udt.Member``,
``Udt.Arr[2].X``, ``Program:Main.Tag``, a bit of an integer ``Tag.5``, and an element count
``Tag[2]{5}`` (five elements from index 2). A whole array is a point with ``array_length`` N on
``Tag`` (read as ``Tag{N}``); ``array_length`` N on ``Tag[2]`` reads the slice ``Tag[2]{N}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import AddressError, PointSpec
from drivers.logix.tags import DATATYPE_TO_LOGIX, LOGIX_TO_DATATYPE, TagInfo, TagTable
from hmi_app.core.datatypes import DataType

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SEGMENT = re.compile(rf"^({_NAME})(?:\[(\d+(?:,\d+){{0,2}})\])?$")
_PROGRAM = re.compile(rf"^Program:{_NAME}$")
_COUNT = re.compile(r"^(.*)\{(\d+)\}$")
EXAMPLES = "e.g. Speed, Recipe[3], Line.Motor.Amps, Program:Main.Count, Status.5, Buffer[2]{5}"


@dataclass(frozen=True, slots=True)
class Segment:
    """One name of an address with its array index, if any."""

    name: str
    index: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LogixAddress:
    """A parsed address: base tag (``Program:P.Tag`` for program scope), members, bit, count."""

    text: str  # the address without the ``{N}`` count
    base: Segment
    members: tuple[Segment, ...] = ()
    bit: int | None = None
    count: int | None = None

    @property
    def base_name(self) -> str:
        return self.base.name

    @property
    def indexed(self) -> bool:
        """The last named segment carries an index: an element or the start of a slice."""
        last = self.members[-1] if self.members else self.base
        return bool(last.index)

    def request(self, elements: int) -> str:
        """What pycomm3 is asked for: ``Tag``, ``Tag[2]{5}``, ``Tag{10}``."""
        return f"{self.text}{{{elements}}}" if elements > 1 else self.text


def parse(text: str) -> LogixAddress:
    """Parse an address; AddressError says what is wrong in the user's terms."""
    raw = text.strip()
    if not raw:
        raise AddressError(f"empty Logix address ({EXAMPLES})")
    count: int | None = None
    match = _COUNT.match(raw)
    if match:
        raw, count = match.group(1), int(match.group(2))
        if count < 1:
            raise AddressError(f"{text!r}: the element count {{{count}}} must be at least 1")
    parts = raw.split(".")
    base_text = parts.pop(0)
    if base_text.startswith("Program:"):
        if not _PROGRAM.match(base_text) or not parts:
            raise AddressError(
                f"{text!r}: a program-scope tag is written Program:<program>.<tag> ({EXAMPLES})"
            )
        base_text = f"{base_text}.{parts.pop(0)}"
    bit: int | None = None
    if parts and parts[-1].isdigit():
        bit = int(parts.pop())
        if bit > 63:
            raise AddressError(f"{text!r}: bit {bit} is beyond 63")
        if count is not None:
            raise AddressError(f"{text!r}: a bit address takes no element count")
    base = _segment(base_text, text, program=base_text.startswith("Program:"))
    members = tuple(_segment(part, text) for part in parts)
    return LogixAddress(raw, base, members, bit, count)


def _segment(part: str, text: str, *, program: bool = False) -> Segment:
    if program:
        prefix, _, rest = part.rpartition(".")
        seg = _segment(rest, text)
        return Segment(f"{prefix}.{seg.name}", seg.index)
    match = _SEGMENT.match(part)
    if not match:
        raise AddressError(f"{text!r}: {part!r} is not a tag or member name ({EXAMPLES})")
    index = tuple(int(i) for i in match.group(2).split(",")) if match.group(2) else ()
    return Segment(match.group(1), index)


def validate(point: PointSpec) -> LogixAddress:
    """Check ``point`` without the controller: syntax, type and element count."""
    where = parse(point.address)
    if point.data_type not in DATATYPE_TO_LOGIX:
        known = ", ".join(sorted(t.value for t in DATATYPE_TO_LOGIX))
        raise AddressError(
            f"{point.address!r}: Logix tags have no {point.data_type.value} type (use {known})"
        )
    if where.bit is not None and (point.data_type is not DataType.BOOL or point.array_length):
        raise AddressError(f"{point.address!r}: a bit of an integer is a scalar bool")
    if where.count is not None and where.count != max(1, point.array_length):
        raise AddressError(
            f"{point.address!r}: the element count {{{where.count}}} does not match"
            f" array_length {point.array_length}"
        )
    return where


def elements(point: PointSpec) -> int:
    """Elements one read of ``point`` returns (1 for a scalar)."""
    return max(1, point.array_length)


def resolve(where: LogixAddress, point: PointSpec, table: TagTable) -> TagInfo:
    """The definition ``where`` points at in the controller's tag list; AddressError if the
    address does not exist there or its type differs from the project's."""
    info = table.get(where.base_name)
    if info is None:
        raise AddressError(f"{where.base_name!r} is not in the controller's tag list")
    path = where.base_name
    info = _index(info, where.base, path, point)
    for member in where.members:
        child = info.members.get(member.name)
        if child is None:
            known = ", ".join(sorted(info.members)[:12]) or "none"
            raise AddressError(f"{path} ({info.type_name}) has no member {member.name!r}: {known}")
        path = f"{path}.{member.name}"
        info = _index(child, member, path, point)
    if where.bit is not None:
        kind = info.data_type
        if kind is None or not kind.is_integer or info.dims:
            raise AddressError(f"{path} is {info.type_text()}: only integers have bits")
        return TagInfo(f"{path}.{where.bit}", "BOOL")
    if info.data_type is None:
        members = ", ".join(sorted(info.members)[:12])
        raise AddressError(
            f"{path} is a structure ({info.type_name}): address one of its members ({members})"
        )
    if info.data_type is not point.data_type:
        raise AddressError(
            f"{path} is {info.type_name} ({info.data_type.value}) in the controller;"
            f" the project says {point.data_type.value}"
        )
    if not where.indexed:
        if info.dims and not point.array_length:
            raise AddressError(
                f"{path} is an array ({info.type_text()}): give array_length, or index an element"
            )
        if point.array_length and not info.dims:
            raise AddressError(f"{path} is not an array ({info.type_name})")
        if point.array_length > info.elements:
            raise AddressError(f"{path} is {info.type_text()}: fewer than {point.array_length}")
    return info


def _index(info: TagInfo, segment: Segment, path: str, point: PointSpec) -> TagInfo:
    if not segment.index:
        return info
    if not info.dims:
        raise AddressError(f"{path} is not an array ({info.type_name}): it takes no index")
    if len(segment.index) != len(info.dims):
        raise AddressError(f"{path} is {info.type_text()}: give {len(info.dims)} indices")
    for position, (index, size) in enumerate(zip(segment.index, info.dims, strict=True)):
        extra = max(1, point.array_length) - 1 if position == len(info.dims) - 1 else 0
        if index + extra >= size:
            raise AddressError(f"{path}[{index}] (+{extra}) is beyond {info.type_text()}")
    return TagInfo(info.name, info.type_name, (), info.members, info.is_struct)  # one element


def logix_type(data_type: DataType) -> str:
    """Logix type name of one of our data types (KeyError if it has none)."""
    return DATATYPE_TO_LOGIX[data_type]


__all__ = ["LOGIX_TO_DATATYPE", "LogixAddress", "Segment", "elements", "parse", "resolve"]


class _Node:
    """A declared tag or member while the declarations are merged."""

    __slots__ = ("dims", "members", "type_name")

    def __init__(self, type_name: str, dims: tuple[int, ...]) -> None:
        self.type_name = type_name
        self.dims = dims
        self.members: dict[str, _Node] = {}

    def freeze(self, name: str) -> TagInfo:
        members = {k: v.freeze(k) for k, v in self.members.items()}
        return TagInfo(name, self.type_name, self.dims, members, is_struct=bool(members))


def declare(points: Sequence[tuple[PointSpec, LogixAddress]]) -> tuple[TagTable, dict[str, str]]:
    """Tag definitions made from the project's points, for a controller without a tag list
    upload: the leaf of each address gets the point's type; structures get the members the
    points name. Returns the table and, per point key, why it cannot be declared."""
    roots: dict[str, _Node] = {}
    errors: dict[str, str] = {}
    for point, where in points:
        leaf_type = "DINT" if where.bit is not None else DATATYPE_TO_LOGIX[point.data_type]
        segments = [where.base, *where.members]
        try:
            node = _declare_path(roots, segments, leaf_type, point)
        except AddressError as exc:
            errors[point.key] = str(exc)
            continue
        if where.bit is not None and node.type_name not in ("DINT", "INT", "SINT", "LINT"):
            errors[point.key] = f"{where.text}: bits exist only in integers"
    table = TagTable({name: node.freeze(name) for name, node in roots.items()})
    return table, errors


def _declare_path(
    roots: dict[str, _Node], segments: list[Segment], leaf_type: str, point: PointSpec
) -> _Node:
    level = roots
    node: _Node | None = None
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        dims: tuple[int, ...] = ()
        if segment.index:
            extra = max(1, point.array_length) if last else 1
            dims = (*segment.index[:-1], segment.index[-1] + extra)
            dims = tuple(d + 1 for d in segment.index[:-1]) + dims[-1:]
        elif last and point.array_length:
            dims = (point.array_length,)
        type_name = leaf_type if last else f"{segment.name}_t"
        node = level.get(segment.name)
        if node is None:
            node = level[segment.name] = _Node(type_name, dims)
        else:
            if last and (node.members or node.type_name != leaf_type):
                raise AddressError(
                    f"{point.address!r}: {segment.name} is declared as {node.type_name}"
                    f" by another tag, here as {leaf_type}"
                )
            if not last and not node.members and node.type_name in LOGIX_TO_DATATYPE:
                raise AddressError(
                    f"{point.address!r}: {segment.name} is declared as {node.type_name}"
                    " by another tag, here as a structure"
                )
            if dims:  # grow an array to the highest element any point reads
                size = len(dims)
                old = node.dims + (0,) * (size - len(node.dims))
                node.dims = tuple(max(a, b) for a, b in zip(old[:size], dims, strict=True))
        level = node.members
    assert node is not None
    return node
