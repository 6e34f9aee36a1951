"""Verification of the report that pycomm3 1.2.x sends a single-tag write twice in one packet,
and of the driver's workaround, against the cpppo simulator.

Evidence taken here: the bytes pycomm3 hands to its socket for ``plc.write(("DupTag", 5))``
(the Write Tag service 0x4D with the path of ``DupTag`` appears twice in one encapsulated
packet), what the simulator does with that packet (it refuses the trailing copy and closes the
session, so the write is lost and the next request fails), and the same write through
``drivers.logix.plc.Controller`` (one service in the packet, value written).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from pycomm3 import LogixDriver as StockLogixDriver
from pycomm3.cip.data_types import DataTypes
from pycomm3.exceptions import CommError

from drivers.logix.plc import Controller
from drivers.logix.tags import TagInfo, TagTable

if TYPE_CHECKING:
    from tests.support.cpppo_sim import CpppoServer

# Write Tag (0x4D), request path of 4 words: ANSI extended symbol segment 0x91, 6 chars, "DupTag"
WRITE_DUPTAG = b"\x4d\x04\x91\x06DupTag"
READ_DUPTAG = b"\x4c\x04\x91\x06DupTag"


def _record_sends(plc: Any) -> list[bytes]:
    sent: list[bytes] = []
    sock = plc._sock
    original = sock.send

    def send(message: bytes) -> Any:
        sent.append(bytes(message))
        return original(message)

    sock.send = send
    return sent


@pytest.fixture
def stock_plc(cpppo_server: CpppoServer) -> Iterator[Any]:
    """pycomm3's own LogixDriver, given the definition of DupTag (cpppo cannot upload it)."""
    plc = StockLogixDriver(
        f"127.0.0.1:{cpppo_server.port}", init_tags=False, init_program_tags=False
    )
    plc.socket_timeout = 1.0
    assert plc.open()
    plc._tags = {
        "DupTag": {
            "tag_name": "DupTag",
            "dim": 0,
            "dimensions": [0, 0, 0],
            "data_type": "DINT",
            "data_type_name": "DINT",
            "tag_type": "atomic",
            "alias": False,
            "type_class": DataTypes.get("DINT"),
        }
    }
    try:
        yield plc
    finally:
        plc.close()


@pytest.fixture
def controller(cpppo_server: CpppoServer) -> Iterator[Controller]:
    ctl = Controller(f"127.0.0.1:{cpppo_server.port}", timeout_s=1.0, init_tags=False)
    ctl.declare(TagTable({"DupTag": TagInfo("DupTag", "DINT")}))
    ctl.open()
    try:
        yield ctl
    finally:
        ctl.close()


def test_pycomm3_puts_a_single_write_twice_into_one_packet(
    stock_plc: Any, controller: Controller
) -> None:
    controller.write("DupTag", 1)
    sent = _record_sends(stock_plc)
    try:
        result = stock_plc.write(("DupTag", 5))
        refused = result.error
    except CommError as exc:  # the simulator closed the session instead of answering
        refused = str(exc)
    assert len(sent) == 1  # one encapsulated packet...
    assert sent[0].count(WRITE_DUPTAG) == 2  # ...carrying the Write Tag service twice
    # After the first service comes the sequence count again and the whole service again:
    first = sent[0].index(WRITE_DUPTAG)
    service = sent[0][first : sent[0].index(WRITE_DUPTAG, first + 1) - 2]
    assert sent[0].endswith(service)
    # cpppo refuses the packet: it takes the trailing bytes for more elements and answers
    # "Access beyond end of the object" (ff, 2105), or, for other tag names and values, fails
    # to parse them and ends the session ("EtherNet/IP CIP error at 34 total bytes").
    assert refused
    values, _ts = controller.read(["DupTag"])
    assert values[0].value == 1  # either way the write was lost


def test_the_driver_sends_a_single_write_once(controller: Controller) -> None:
    sent = _record_sends(controller._plc)
    assert controller.write("DupTag", 5) is None
    assert len(sent) == 1 and sent[0].count(WRITE_DUPTAG) == 1
    values, _ts = controller.read(["DupTag"])
    assert values[0].value == 5
    assert sent[1].count(READ_DUPTAG) == 1
    # the session stays usable for writes in a row
    for value in (6, 7, 8):
        assert controller.write("DupTag", value) is None
    assert controller.read(["DupTag"])[0][0].value == 8
    assert [packet.count(WRITE_DUPTAG) for packet in sent if WRITE_DUPTAG in packet] == [1] * 4


def test_multi_tag_writes_were_never_affected(stock_plc: Any) -> None:
    sent = _record_sends(stock_plc)
    results = stock_plc.write(("DupTag", 11), ("DupTag", 12))
    assert [r.error for r in results] == [None, None]
    assert sent[0].count(WRITE_DUPTAG) == 2  # two services asked for, two sent
    assert stock_plc.read("DupTag").value == 12
