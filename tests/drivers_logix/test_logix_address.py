"""Logix addresses: syntax, checks against a tag list, declarations from the project, browsing."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.base import AddressError, PointSpec
from drivers.logix import address as addr
from drivers.logix.browse import browse
from drivers.logix.plc import _tag_info
from drivers.logix.tags import TagInfo, TagTable
from hmi_app.core.datatypes import DataType

D = DataType


def spec(address: str, kind: DataType = D.INT32, **kw: Any) -> PointSpec:
    return PointSpec("k", address, kind, **kw)


@pytest.mark.parametrize(
    ("text", "base", "members", "bit", "count", "prefix"),
    [
        ("Speed", "Speed", (), None, None, "Speed"),
        ("Recipe[3]", "Recipe", (), None, None, "Recipe[3]"),
        ("Grid[1,2]", "Grid", (), None, None, "Grid[1,2]"),
        ("Line.Motor.Amps", "Line", ("Motor", "Amps"), None, None, "Line.Motor.Amps"),
        ("Program:Main.Count", "Program:Main.Count", (), None, None, "Program:Main.Count"),
        ("Program:Main.Udt.X", "Program:Main.Udt", ("X",), None, None, "Program:Main.Udt.X"),
        ("Status.5", "Status", (), 5, None, "Status"),
        ("Buffer[2]{5}", "Buffer", (), None, 5, "Buffer[2]"),
        ("Udt.Arr[4].X", "Udt", ("Arr", "X"), None, None, "Udt.Arr[4].X"),
    ],
)
def test_valid_addresses(
    text: str,
    base: str,
    members: tuple[str, ...],
    bit: int | None,
    count: int | None,
    prefix: str,
) -> None:
    where = addr.parse(text)
    assert where.base_name == base
    assert tuple(m.name for m in where.members) == members
    assert where.bit == bit and where.count == count
    assert where.text.startswith(prefix)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("3abc", "not a tag or member name"),
        ("Tag[", "not a tag or member name"),
        ("Tag[1,2,3,4]", "not a tag or member name"),
        ("Program:Main", "Program:<program>.<tag>"),
        ("Program:.X", "Program:<program>.<tag>"),
        ("Tag.64", "beyond 63"),
        ("Tag{0}", "at least 1"),
        ("Tag.3{2}", "no element count"),
        ("Tag..X", "not a tag or member name"),
        ("Tag-1", "not a tag or member name"),
    ],
)
def test_bad_addresses_say_why(text: str, message: str) -> None:
    with pytest.raises(AddressError, match=message):
        addr.parse(text)


def test_validate_checks_types_counts_and_bits() -> None:
    with pytest.raises(AddressError, match="no datetime type"):
        addr.validate(spec("T", D.DATETIME))
    with pytest.raises(AddressError, match="scalar bool"):
        addr.validate(spec("T.3", D.INT32))
    with pytest.raises(AddressError, match="does not match array_length 4"):
        addr.validate(spec("T{3}", array_length=4))
    with pytest.raises(AddressError, match="does not match array_length 0"):
        addr.validate(spec("T{3}"))
    assert addr.validate(spec("T{4}", array_length=4)).request(4) == "T{4}"
    assert addr.validate(spec("T[2]", array_length=3)).request(3) == "T[2]{3}"
    assert addr.validate(spec("T.7", D.BOOL)).request(1) == "T.7"  # pycomm3 reads the bit


TABLE = TagTable(
    {
        "Speed": TagInfo("Speed", "REAL"),
        "Count": TagInfo("Count", "DINT"),
        "Recipe": TagInfo("Recipe", "DINT", (10,)),
        "Name": TagInfo("Name", "STRING"),
        "Motor": TagInfo(
            "Motor",
            "MotorUdt",
            (),
            {
                "Amps": TagInfo("Amps", "REAL"),
                "Hist": TagInfo("Hist", "INT", (5,)),
                "Cfg": TagInfo("Cfg", "CfgUdt", (), {"Max": TagInfo("Max", "LREAL")}, True),
            },
            True,
        ),
        "Motors": TagInfo("Motors", "MotorUdt", (3,), {"Amps": TagInfo("Amps", "REAL")}, True),
        "Program:Main.Step": TagInfo("Program:Main.Step", "INT"),
        "Program:Fill.Level": TagInfo("Program:Fill.Level", "REAL"),
    }
)


def resolve(address: str, kind: DataType = D.INT32, **kw: Any) -> TagInfo:
    point = spec(address, kind, **kw)
    return addr.resolve(addr.validate(point), point, TABLE)


def test_resolve_against_the_tag_list() -> None:
    assert resolve("Speed", D.FLOAT32).type_name == "REAL"
    assert resolve("Recipe", array_length=10).dims == (10,)
    assert resolve("Recipe[7]").type_name == "DINT"
    assert resolve("Recipe[7]", array_length=3).type_name == "DINT"
    assert resolve("Motor.Amps", D.FLOAT32).type_name == "REAL"
    assert resolve("Motor.Hist[4]", D.INT16).type_name == "INT"
    assert resolve("Motor.Cfg.Max", D.FLOAT64).type_name == "LREAL"
    assert resolve("Motors[2].Amps", D.FLOAT32).type_name == "REAL"
    assert resolve("Program:Main.Step", D.INT16).type_name == "INT"
    assert resolve("Count.31", D.BOOL).type_name == "BOOL"
    assert resolve("Name", D.STRING, length=82).type_name == "STRING"


@pytest.mark.parametrize(
    ("address", "kind", "kw", "message"),
    [
        ("Nope", D.INT32, {}, "'Nope' is not in the controller's tag list"),
        ("Speed", D.INT32, {}, r"Speed is REAL \(float32\) in the controller; the project says"),
        ("Recipe", D.INT32, {}, "is an array \\(DINT\\[10\\]\\): give array_length"),
        ("Recipe", D.INT32, {"array_length": 11}, "fewer than 11"),
        ("Recipe[8]", D.INT32, {"array_length": 3}, "beyond DINT\\[10\\]"),
        ("Recipe[10]", D.INT32, {}, "beyond"),
        ("Count[1]", D.INT32, {}, "not an array"),
        ("Count", D.INT32, {"array_length": 2}, "not an array"),
        ("Motor", D.INT32, {}, "a structure \\(MotorUdt\\): address one of its members"),
        ("Motor.Volts", D.FLOAT32, {}, "has no member 'Volts': Amps, Cfg, Hist"),
        ("Speed.3", D.BOOL, {}, "only integers have bits"),
        ("Program:Other.Step", D.INT16, {}, "not in the controller's tag list"),
    ],
)
def test_resolve_refuses_with_reasons(
    address: str, kind: DataType, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(AddressError, match=message):
        resolve(address, kind, **kw)


def test_declarations_merge_members_and_grow_arrays() -> None:
    points = [
        spec("Motor.Amps", D.FLOAT32),
        spec("Motor.Run", D.BOOL),
        spec("Buf[3]", D.INT16),
        spec("Buf[5]", D.INT16, array_length=4),
        spec("Whole", D.FLOAT64, array_length=6),
        spec("Program:Main.X", D.UINT32),
        spec("Word.4", D.BOOL),
    ]
    table, errors = addr.declare([(p, addr.validate(p)) for p in points])
    assert errors == {}
    motor = table.get("Motor")
    assert motor is not None and motor.is_struct and set(motor.members) == {"Amps", "Run"}
    assert motor.members["Amps"].type_name == "REAL"
    assert table.get("Buf") == TagInfo("Buf", "INT", (9,))
    assert table.get("Whole") == TagInfo("Whole", "LREAL", (6,))
    assert table.get("Program:Main.X") == TagInfo("Program:Main.X", "UDINT")
    assert table.get("Word") == TagInfo("Word", "DINT")


def test_conflicting_declarations_are_refused_for_the_later_point() -> None:
    first = PointSpec("a", "T", D.INT32)
    second = PointSpec("b", "T", D.FLOAT32)
    third = PointSpec("c", "T.Member", D.INT32)
    fourth = PointSpec("d", "S.X", D.INT32)
    fifth = PointSpec("e", "S", D.INT32)
    pairs = [(p, addr.validate(p)) for p in (first, second, third, fourth, fifth)]
    _table, errors = addr.declare(pairs)
    assert set(errors) == {"b", "c", "e"}
    assert "declared as DINT by another tag, here as REAL" in errors["b"]
    assert "here as a structure" in errors["c"]


def test_browse_root_programs_and_members() -> None:
    root = browse(TABLE, "")
    names = [n.name for n in root]
    assert names[:3] == ["Count", "Motor", "Motors"]
    assert names[-2:] == ["Fill", "Main"]  # programs, expandable
    by_name = {n.name: n for n in root}
    assert by_name["Main"].address == "Program:Main" and by_name["Main"].expandable
    assert by_name["Speed"].data_type is D.FLOAT32 and not by_name["Speed"].expandable
    assert by_name["Recipe"].description == "DINT[10]"
    assert by_name["Motor"].expandable and by_name["Motor"].data_type is None
    assert by_name["Motors"].address == "Motors[0]"  # an array of structures opens at [0]
    assert by_name["Name"].data_type is D.STRING
    main = browse(TABLE, "Program:Main")
    assert [(n.name, n.address, n.data_type) for n in main] == [
        ("Step", "Program:Main.Step", D.INT16)
    ]
    members = {n.name: n for n in browse(TABLE, "Motor")}
    assert members["Amps"].address == "Motor.Amps"
    assert members["Hist"].description == "INT[5]"
    assert members["Cfg"].expandable
    assert [n.address for n in browse(TABLE, "Motor.Cfg")] == ["Motor.Cfg.Max"]
    assert [n.address for n in browse(TABLE, "Motors[0]")] == ["Motors[0].Amps"]
    assert browse(TABLE, "Speed") == [] and browse(TABLE, "Nope") == []


def test_uploaded_definitions_become_tag_infos() -> None:
    """The shape pycomm3's tag list upload produces (a UDT with a string, a BOOL bit member,
    an array member and a nested UDT), as TagInfo."""
    string_type = {"name": "STRING", "string": 82, "internal_tags": {}, "attributes": []}
    inner = {
        "name": "Cfg_t",
        "attributes": ["Max"],
        "internal_tags": {"Max": {"data_type_name": "LREAL", "tag_type": "atomic", "array": 0}},
    }
    udt = {
        "name": "Motor_t",
        "attributes": ["Amps", "Run", "Hist", "Label", "Cfg"],
        "internal_tags": {
            "Amps": {"data_type_name": "REAL", "tag_type": "atomic", "array": 0},
            "Run": {"data_type_name": "BOOL", "tag_type": "atomic", "bit": 0},
            "Hist": {"data_type_name": "INT", "tag_type": "atomic", "array": 5},
            "Label": {"data_type_name": "STRING", "tag_type": "struct", "data_type": string_type},
            "Cfg": {"data_type_name": "Cfg_t", "tag_type": "struct", "data_type": inner},
            "ZZZZZZZZZZMotor_t0": {"data_type_name": "SINT", "tag_type": "atomic"},
        },
    }
    raw = {"tag_type": "struct", "data_type": udt, "dim": 1, "dimensions": [4, 0, 0]}
    info = _tag_info("Motors", raw)
    assert info.type_text() == "Motor_t[4]" and info.expandable
    assert list(info.members) == ["Amps", "Run", "Hist", "Label", "Cfg"]
    assert info.members["Hist"].dims == (5,)
    assert info.members["Run"].data_type is D.BOOL and info.members["Run"].dims == ()
    assert info.members["Label"].data_type is D.STRING
    assert info.members["Cfg"].members["Max"].data_type is D.FLOAT64
    text = _tag_info("Name", {"tag_type": "struct", "data_type": string_type, "dim": 0})
    assert text.data_type is D.STRING and not text.expandable
    atomic = _tag_info("Count", {"tag_type": "atomic", "data_type_name": "DINT", "dim": 0})
    assert atomic == TagInfo("Count", "DINT")
    flags = _tag_info(
        "Flags",
        {"tag_type": "atomic", "data_type_name": "DWORD", "dim": 1, "dimensions": [2, 0, 0]},
    )
    assert flags.data_type is D.BOOL and flags.dims == (64,)  # BOOL[64], packed in 2 DWORDs
