"""Link chips keep their width when a connection's state changes, so the header does not jump."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.shell.header import HeaderBar


def test_chips_do_not_shift_when_one_link_drops(qtbot: QtBot) -> None:
    header = HeaderBar("Plant", "Line", ["line1_plc", "utilities"])
    qtbot.addWidget(header)
    header.resize(1280, 44)
    header.show()
    for name in header.chips:
        header.set_link(name, LinkState.CONNECTED, "")
    qtbot.wait(10)
    before = {name: chip.geometry() for name, chip in header.chips.items()}
    header.set_link("line1_plc", LinkState.DISCONNECTED, "comm failure: refused")
    qtbot.wait(10)
    after = {name: chip.geometry() for name, chip in header.chips.items()}
    assert after == before
