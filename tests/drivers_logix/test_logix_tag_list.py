"""The tag list upload path: definitions from the controller, checks of the project against
them, browsing, and a program download seen on a live connection (the tag list read again).

cpppo has no tag list upload, so ``tag_list_proxy.py`` answers that one service in front of it
(atomic tags, no UDT templates) and passes everything else to cpppo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from drivers.base import LinkState, PointSpec
from hmi_app.core.datatypes import DataType

if TYPE_CHECKING:
    from conftest import MakeDriver, TagListProxy

    from tests.support.cpppo_sim import CpppoServer
    from tests.support.recording import Recorder

D = DataType
Tags = dict[str, tuple[str, list[int]]]
PROGRAM_1: Tags = {
    "Speed": ("REAL", []),
    "Count": ("DINT", []),
    "Old": ("DINT", []),
    "Arr": ("DINT", [5]),
    "Program:Main.Step": ("INT", []),
}
PROGRAM_2: Tags = {k: v for k, v in PROGRAM_1.items() if k != "Old"} | {"New": ("DINT", [])}


def cpppo_tags(tags: Tags) -> list[str]:
    return [f"{n}={t}[{d[0]}]" if d else f"{n}={t}" for n, (t, d) in tags.items()]


def point(key: str, address: str, kind: DataType, **kw: int) -> PointSpec:
    return PointSpec(key, address, kind, scan_ms=50, **kw)


async def test_tag_list_upload_checks_points_browses_and_follows_a_download(
    recorder: Recorder,
    make_driver: MakeDriver,
    tag_list_proxy: TagListProxy,
    cpppo_factory: Callable[[Sequence[str]], CpppoServer],
) -> None:
    first = cpppo_factory(cpppo_tags(PROGRAM_1))
    second = cpppo_factory(cpppo_tags(PROGRAM_2))
    tag_list_proxy.set(first, PROGRAM_1)
    tag_list_proxy.start()
    points = [
        point("speed", "Speed", D.FLOAT32),
        point("count", "Count", D.INT32),
        point("old", "Old", D.INT32),
        point("new", "New", D.INT32),
        point("arr", "Arr", D.INT32, array_length=5),
        point("step", "Program:Main.Step", D.INT16),
        point("wrong_type", "Count", D.FLOAT32),
        point("too_long", "Arr", D.INT32, array_length=6),
    ]
    driver = await make_driver(tag_list_proxy, points, init_tags=True)  # type: ignore[arg-type]
    await recorder.wait_for(lambda: recorder.good("speed", "count", "old", "arr", "step"))
    await recorder.wait_for(lambda: recorder.bad("new", "wrong_type", "too_long"))
    assert recorder.latest["new"].reason == (
        "config error: 'New' is not in the controller's tag list"
    )
    assert recorder.latest["wrong_type"].reason == (
        "config error: Count is DINT (int32) in the controller; the project says float32"
    )
    assert "fewer than 6" in recorder.latest["too_long"].reason
    connected = [d for s, d in recorder.links if s is LinkState.CONNECTED]
    assert connected[-1].endswith("tag list: 5 tags")
    table = driver.tag_table()
    assert table is not None and table.programs() == ["Main"]

    root = {n.name: n for n in await driver.browse()}
    assert set(root) == {"Speed", "Count", "Old", "Arr", "Main"}
    assert root["Arr"].description == "DINT[5]" and root["Arr"].data_type is D.INT32
    assert root["Main"].expandable and root["Main"].address == "Program:Main"
    main = await driver.browse("Program:Main")
    assert [(n.name, n.address, n.data_type) for n in main] == [
        ("Step", "Program:Main.Step", D.INT16)
    ]

    await driver.write(points[1], 99)
    await recorder.wait_for(lambda: recorder.latest["count"].value == 99)

    # A program download: "Old" is gone, "New" exists; the connection stays up.
    opened = driver.controller.opened
    tag_list_proxy.set(second, PROGRAM_2)
    await recorder.wait_for(lambda: recorder.good("new"), within=10)
    await recorder.wait_for(lambda: recorder.bad("old"))
    assert recorder.latest["old"].reason == (
        "config error: 'Old' is not in the controller's tag list"
    )
    assert driver.reuploads == 1
    assert driver.controller.opened == opened  # read again on the same connection
    assert recorder.good("speed", "count", "arr", "step")
    assert {n.name for n in await driver.browse()} == {"Speed", "Count", "New", "Arr", "Main"}
