"""The tag browser driven with mouse and keyboard: on the demo runtime (real embedded Modbus plant
and simulator driver) it browses a connection, searches, adds two items as tags into a copy of the
demo project (comments kept, project still valid); on a real asyncua server through the OPC UA
driver it walks the address space and adds variables with their types; on a nested address space
it loads children lazily, shows "loading…" and inline errors, retries, and never blocks. Its CSV
actions are tested in test_tag_browser_csv.py."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QApplication, QLineEdit, QTreeView
from pytestqt.qtbot import QtBot

from drivers.base import BrowseNode, LinkState, LinkStateFn, PointSpec, PublishFn
from hmi_app.check import check_project
from hmi_app.core.datatypes import DataType
from hmi_app.core.project.loader import demo_project_dir, load_project
from hmi_app.core.quality import Quality, TagValue
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell import tag_browser as tb
from hmi_app.shell.add_tags_dialog import AddTagsDialog, propose_names, sanitise
from hmi_app.shell.app import build_window
from hmi_app.shell.gc_policy import GuiThreadCollector
from hmi_app.shell.tag_browser import LOADING, TagBrowser
from tests.support.waiting import wait_until


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(demo_project_dir(), folder)
    return folder


@pytest.fixture(autouse=True)
def _keep_loop_running(qapp: QApplication) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # closing the browser must not end the qasync loop


def _click_row(
    qtbot: QtBot,
    tree: QTreeView,
    index: QModelIndex,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    rect = tree.visualRect(index)
    assert rect.isValid(), "row not visible"
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _child_index(browser: TagBrowser, parent: QModelIndex, name: str) -> QModelIndex:
    for row in range(browser.proxy.rowCount(parent)):
        index = browser.proxy.index(row, 0, parent)
        if index.data() == name:
            return index
    raise AssertionError(f"{name!r} is not shown under {parent.data()!r}")


def _shown(browser: TagBrowser, parent: QModelIndex) -> list[str]:
    return [browser.proxy.index(r, 0, parent).data() for r in range(browser.proxy.rowCount(parent))]


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_browse_search_and_add_two_items_on_the_demo_runtime(
    qtbot: QtBot, qloop: qasync.QEventLoop, demo: Path
) -> None:
    project_file = demo / "project.yaml"
    before = project_file.read_text(encoding="utf-8")
    project = load_project(demo)
    runtime = Runtime(project)

    async def scenario() -> None:
        await runtime.start()
        window = build_window(project, runtime)
        qtbot.addWidget(window)
        try:
            window.resize(1280, 800)
            window.show()
            qtbot.mouseClick(window.tags_button, Qt.MouseButton.LeftButton)
            browser = window.tag_browser
            assert browser is not None and browser.isVisible()
            assert browser.row_texts() == ["line1_plc", "utilities"]
            assert not browser.add_button.isEnabled()
            tree = browser.tree
            utilities = browser.proxy_index(browser.connection_rows["utilities"])
            _click_row(qtbot, tree, utilities)
            qtbot.keyClick(tree, Qt.Key.Key_Right)  # expand the selected connection
            assert tree.isExpanded(utilities)
            assert browser.row_texts(browser.connection_rows["utilities"]) == [LOADING]
            await wait_until(lambda: not browser.loading(), 5, "the simulator's signals")
            names = browser.row_texts(browser.connection_rows["utilities"])
            assert names == ["sine", "ramp", "random_walk", "counter", "square", "step"]
            # search: only what matches (name, address or description) stays, connections stay
            qtbot.keyClicks(browser.search, "walk")
            assert _shown(browser, utilities) == ["random_walk"]
            assert _shown(browser, QModelIndex()) == ["line1_plc", "utilities"]
            qtbot.keyClicks(browser.search, "x")
            assert _shown(browser, utilities) == []
            browser.search.selectAll()
            qtbot.keyClick(browser.search, Qt.Key.Key_Backspace)
            assert len(_shown(browser, utilities)) == 6
            # pick two items with the mouse (click, then ctrl+click)
            _click_row(qtbot, tree, _child_index(browser, utilities, "sine"))
            _click_row(
                qtbot,
                tree,
                _child_index(browser, utilities, "ramp"),
                modifier=Qt.KeyboardModifier.ControlModifier,
            )
            assert [c.node.name for c in browser.selected_candidates()] == ["sine", "ramp"]
            assert browser.add_button.isEnabled()
            qtbot.mouseClick(browser.add_button, Qt.MouseButton.LeftButton)
            dialog = browser.add_dialog
            assert isinstance(dialog, AddTagsDialog) and dialog.isVisible()
            assert dialog.tag_names() == ["utilities.sine", "utilities.ramp"]
            dialog.prefix.selectAll()
            qtbot.keyClicks(dialog.prefix, "utilities.test.")
            assert dialog.tag_names() == ["utilities.test.sine", "utilities.test.ramp"]
            qtbot.keyClicks(dialog.scan, "fast")
            assert dialog.scan.currentText() == "fast"
            qtbot.keyClicks(dialog.access, "read_")
            assert dialog.access.currentText() == "read_write"
            assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Add 2 tags"
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert not dialog.isVisible() and len(dialog.saved) == 2
            assert "2 new tags live now." in browser.message.text()  # no restart needed
            assert browser.project.tag("utilities.test.ramp").scan == "fast"
            # the running engine reads them from the simulator as soon as they are subscribed
            seen: list[TagValue] = []
            subscription = runtime.engine.subscribe("utilities.test.sine", seen.append)
            await wait_until(
                lambda: any(v.quality is Quality.GOOD and v.value is not None for v in seen),
                5,
                "the new tag's first live value",
            )
            subscription.cancel()
            assert runtime.engine.config("utilities.test.sine").access == "read_write"
            # closed and opened again: a fresh browser on the project as saved
            qtbot.mouseClick(browser.close_button, Qt.MouseButton.LeftButton)
            assert not browser.isVisible()
            qtbot.mouseClick(window.tags_button, Qt.MouseButton.LeftButton)
            again = window.tag_browser
            assert again is not None and again is not browser and again.isVisible()
            assert again.project.tag("utilities.test.sine").access == "read_write"
            shortcuts = [s.key().toString() for s in window.findChildren(QShortcut)]
            assert "Ctrl+T" in shortcuts
        finally:
            if window.tag_browser is not None:
                await window.close_tools()
            window.release_screens()
            await runtime.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 40))
    after = project_file.read_text(encoding="utf-8")
    assert _comments(after) == _comments(before)
    assert after.startswith(before[: before.index("  # ---- operator entries")])
    checked, issues = check_project(demo)
    assert checked is not None, issues
    sine = checked.tag("utilities.test.sine")
    assert (sine.connection, sine.address, sine.type) == (
        "utilities",
        "sine:period=60,min=0,max=100,phase=0",
        DataType.FLOAT64,
    )
    assert (sine.scan, sine.access) == ("fast", "read_write")
    backups = list((demo / ".backups").iterdir())
    assert [b.read_text(encoding="utf-8") for b in backups] == [before]


class NestedDriver:
    """A device with a nested address space (as OPC UA and Logix browse): folders expand to
    children; ``Slow`` answers after the browser's timeout the first time, ``Broken`` fails."""

    name = "cell"
    link_state = LinkState.CONNECTED

    def __init__(self) -> None:
        self.browsed: list[str] = []
        self.slow_s = 5.0

    def validate(self, point: PointSpec) -> None:
        return None

    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        return None

    async def stop(self) -> None:
        return None

    def subscribe(self, points: Iterable[PointSpec]) -> None:
        return None

    def unsubscribe(self, keys: Iterable[str]) -> None:
        return None

    async def write(self, point: PointSpec, value: Any) -> None:
        return None

    async def browse(self, path: str = "") -> list[BrowseNode]:
        self.browsed.append(path)
        await asyncio.sleep(0.05)  # a device answers later: the GUI must not wait
        if path == "":
            return [
                BrowseNode("Line1", "Line1", expandable=True, description="line 1 objects"),
                BrowseNode("Slow", "Slow", expandable=True),
                BrowseNode("Broken", "Broken", expandable=True),
            ]
        if path == "Line1":
            return [
                BrowseNode("Motor 1 (rpm)", "sine:period=10", DataType.FLOAT32),
                BrowseNode("Filler", "Line1.Filler", expandable=True),
                BrowseNode("9 count", "counter:step=1", DataType.UINT32, description="counts"),
                BrowseNode(  # a subtree given at once: shown without asking again
                    "Valves",
                    "Line1.Valves",
                    children=(BrowseNode("V1", "square:period=2", DataType.BOOL),),
                ),
            ]
        if path == "Line1.Filler":
            return [BrowseNode("Level", "Line1/Filler/Level", DataType.FLOAT32)]
        if path == "Slow":
            await asyncio.sleep(self.slow_s)
            return [BrowseNode("Late", "ramp:period=5", DataType.FLOAT64)]
        raise ConnectionError("BadNoCommunication")


def test_nested_address_space_loads_lazily_with_errors_inline(
    qtbot: QtBot, qloop: qasync.QEventLoop, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tb, "BROWSE_TIMEOUT_S", 0.3)
    text = (demo / "project.yaml").read_text(encoding="utf-8")
    (demo / "project.yaml").write_text(
        text.replace(
            "  utilities:\n    driver: sim\n",
            "  utilities:\n    driver: sim\n  cell:\n    driver: sim\n",
        ),
        encoding="utf-8",
    )
    project = load_project(demo)
    driver = NestedDriver()
    browser = TagBrowser(project, {"cell": driver})  # line1_plc and utilities: not running
    qtbot.addWidget(browser)
    browser.resize(1280, 800)
    browser.show()
    tree = browser.tree

    async def scenario() -> None:
        try:
            cell = browser.proxy_index(browser.connection_rows["cell"])
            tree.expand(cell)
            assert browser.row_texts(browser.connection_rows["cell"]) == [LOADING]
            started = time.monotonic()
            await wait_until(lambda: not browser.loading(), 3, "the root of the cell")
            assert time.monotonic() - started >= 0.04  # answered later, the loop kept running
            assert _shown(browser, cell) == ["Line1", "Slow", "Broken"]
            assert driver.browsed == [""]  # nothing below was asked for yet
            # a connection without a running driver says so instead of waiting
            plc = browser.proxy_index(browser.connection_rows["line1_plc"])
            tree.expand(plc)
            assert _shown(browser, plc) == [
                "not running: start the runtime to browse this connection"
            ]
            line1 = _child_index(browser, cell, "Line1")
            slow = _child_index(browser, cell, "Slow")
            broken = _child_index(browser, cell, "Broken")
            for index in (line1, slow, broken):
                _click_row(qtbot, tree, index)
                qtbot.keyClick(tree, Qt.Key.Key_Right)
            assert {_shown(browser, i)[0] for i in (line1, slow, broken)} == {LOADING}
            await wait_until(lambda: not browser.loading(), 3, "three browses")
            assert _shown(browser, broken) == ["browse failed: BadNoCommunication"]
            assert _shown(browser, slow) == ["browse failed: timeout"]
            assert _shown(browser, line1) == ["Motor 1 (rpm)", "Filler", "9 count", "Valves"]
            valves = _child_index(browser, line1, "Valves")
            tree.expand(valves)
            assert _shown(browser, valves) == ["V1"] and not browser.loading()
            filler = _child_index(browser, line1, "Filler")
            assert not tree.isExpanded(filler) and "Line1.Filler" not in driver.browsed
            # a failed branch is tried again when expanded again
            driver.slow_s = 0.0
            tree.collapse(slow)
            tree.expand(slow)
            await wait_until(lambda: not browser.loading(), 3, "the retry")
            assert _shown(browser, slow) == ["Late"]
            # search covers what is loaded and never starts a browse
            count = len(driver.browsed)
            qtbot.keyClicks(browser.search, "count")
            assert _shown(browser, cell) == ["Line1"]
            assert _shown(browser, _child_index(browser, cell, "Line1")) == ["9 count"]
            assert len(driver.browsed) == count and not browser.loading()
            browser.search.clear()
            # add a nested item: the proposed address is not a simulator address, so the form
            # says so and waits until it is fixed
            line1 = _child_index(browser, cell, "Line1")
            _click_row(qtbot, tree, line1)  # a folder: not a tag
            assert browser.selected_candidates() == []
            tree.expand(_child_index(browser, line1, "Filler"))
            await wait_until(lambda: not browser.loading(), 3, "the filler")
            level = _child_index(browser, _child_index(browser, line1, "Filler"), "Level")
            _click_row(qtbot, tree, level)
            _click_row(
                qtbot,
                tree,
                _child_index(browser, line1, "Motor 1 (rpm)"),
                modifier=Qt.KeyboardModifier.ControlModifier,
            )
            _click_row(
                qtbot,
                tree,
                _child_index(browser, line1, "9 count"),
                modifier=Qt.KeyboardModifier.ControlModifier,
            )
            dialog = browser.open_add_dialog()
            assert dialog is not None
            assert dialog.tag_names() == ["cell.Motor_1_rpm", "cell.Level", "cell._9_count"]
            assert not dialog.ok_button.isEnabled()
            problem = dialog.table.item(1, 3).text()
            assert "Line1/Filler/Level" in problem, problem
            address = dialog.table.item(1, 1)
            rect = dialog.table.visualItemRect(address)
            qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            qtbot.keyClick(dialog.table, Qt.Key.Key_F2)  # edit the current cell
            editor = dialog.table.viewport().findChild(QLineEdit)
            assert editor is not None and editor.text() == "Line1/Filler/Level"
            editor.selectAll()
            qtbot.keyClicks(editor, "square:period=4")
            qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next turn
            await wait_until(
                lambda: dialog.table.item(1, 1).text() == "square:period=4", 2, "the edit"
            )
            assert dialog.table.item(1, 3).text() == ""
            assert dialog.ok_button.isEnabled()
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert [t.name for t in dialog.saved] == [
                "cell.Motor_1_rpm",
                "cell.Level",
                "cell._9_count",
            ]
        finally:
            await browser.aclose()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 30))
    project = load_project(demo)
    level = project.tag("cell.Level")
    assert (level.address, level.type, level.connection) == (
        "square:period=4",
        DataType.FLOAT32,
        "cell",
    )
    assert project.tag("cell._9_count").description == "counts"


def test_closing_the_browser_cancels_browses_in_flight(
    qtbot: QtBot, qloop: qasync.QEventLoop, demo: Path
) -> None:
    text = (demo / "project.yaml").read_text(encoding="utf-8")
    (demo / "project.yaml").write_text(
        text.replace("  utilities:\n", "  cell:\n    driver: sim\n  utilities:\n"),
        encoding="utf-8",
    )
    driver = NestedDriver()
    browser = TagBrowser(load_project(demo), {"cell": driver})
    qtbot.addWidget(browser)
    browser.show()

    async def scenario() -> None:
        cell = browser.proxy_index(browser.connection_rows["cell"])
        browser.tree.expand(cell)
        await wait_until(lambda: not browser.loading(), 3, "the root")
        browser.tree.expand(_child_index(browser, cell, "Slow"))  # 5 s answer
        assert browser.loading()
        await browser.aclose()
        assert not browser.loading() and not browser.isVisible()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 10))


def test_the_demo_project_itself_is_read_only(qtbot: QtBot) -> None:
    browser = TagBrowser(load_project(demo_project_dir()), {})
    qtbot.addWidget(browser)
    assert browser.read_only
    assert not browser.import_button.isEnabled()
    assert not browser.add_button.isEnabled()
    assert "read-only" in browser.message.text()
    assert browser.export_button.isEnabled()


def test_names_are_sanitised_prefixed_and_unique() -> None:
    assert sanitise("Motor 1 (rpm)") == "Motor_1_rpm"
    assert sanitise("Program:Main.Tank[3]") == "Program_Main.Tank_3"
    assert sanitise("Objects/Line1/Speed") == "Objects.Line1.Speed"
    assert sanitise("1st") == "_1st"
    assert sanitise("???") == "tag"
    taken = {"line1.filler.speed"}
    assert propose_names("line1.filler", ["speed", "speed", "Level"], taken) == [
        "line1.filler.speed_2",
        "line1.filler.speed_3",
        "line1.filler.Level",
    ]
    assert propose_names("pre_", ["x"], set()) == ["pre_x"]
    assert propose_names("", ["x y"], set()) == ["x_y"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _opcua_server(port: int) -> Any:
    """A real asyncua server on loopback: Objects/Line1 with a few variables, a Cell folder."""
    from asyncua import Server, ua

    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/plant")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace("urn:hmi-app:browser-test")
    objects = server.nodes.objects
    line = await objects.add_object(ua.NodeId("Line1", ns), ua.QualifiedName("Line1", ns))
    speed = await line.add_variable(
        ua.NodeId("Line1.Speed", ns), ua.QualifiedName("Speed", ns), ua.Variant(1.5)
    )
    await speed.write_attribute(
        ua.AttributeIds.Description, ua.DataValue(ua.Variant(ua.LocalizedText("Line speed")))
    )
    await line.add_variable(
        ua.NodeId("Line1.Count", ns),
        ua.QualifiedName("Count", ns),
        ua.Variant(7, ua.VariantType.UInt32),
    )
    await objects.add_folder(ua.NodeId("Cell", ns), ua.QualifiedName("Cell", ns))
    await server.start()
    return server


async def _stop_opcua_server(server: Any) -> None:
    await server.stop()
    # asyncua's stop() leaves the loops of sessions that were open; a server process would exit
    leftovers = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and "asyncua/server" in code.co_filename.replace("\\", "/"):
            task.cancel()
            leftovers.append(task)
    await asyncio.gather(*leftovers, return_exceptions=True)


def test_opc_ua_address_space_browsed_and_added_through_the_real_driver(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    # as in the app: garbage is collected on the GUI thread only (asyncua fills its address space
    # in a worker thread; Qt objects left by earlier tests must not be destroyed there)
    collector = GuiThreadCollector()
    port = _free_port()
    folder = tmp_path / "opc_plant"
    folder.mkdir()
    (folder / "project.yaml").write_text(
        "# a plant with one OPC UA server\nschema_version: 1\nproject: {name: OPC plant}\n"
        "connections:\n"
        f"  cell_opc: {{driver: opcua, url: 'opc.tcp://127.0.0.1:{port}/plant', security: none}}\n"
        "tags:\n  - {name: memo, type: string, length: 10}  # a memory tag\n",
        encoding="utf-8",
    )

    async def scenario() -> None:
        server = await _opcua_server(port)
        runtime = Runtime(load_project(folder))
        browser: TagBrowser | None = None
        try:
            await runtime.start()
            await wait_until(
                lambda: runtime.engine.link_states()["cell_opc"][0] is LinkState.CONNECTED,
                15,
                "the OPC UA session",
            )
            browser = TagBrowser(
                runtime.project, runtime.drivers, link_states=runtime.engine.link_states()
            )
            qtbot.addWidget(browser)
            browser.resize(1280, 800)
            browser.show()
            tree = browser.tree
            conn = browser.proxy_index(browser.connection_rows["cell_opc"])
            _click_row(qtbot, tree, conn)
            qtbot.keyClick(tree, Qt.Key.Key_Right)
            await wait_until(lambda: not browser.loading(), 10, "the Objects folder")
            assert {"Server", "Line1", "Cell"} <= set(_shown(browser, conn))
            line1 = _child_index(browser, conn, "Line1")
            _click_row(qtbot, tree, line1)
            qtbot.keyClick(tree, Qt.Key.Key_Right)
            await wait_until(lambda: not browser.loading(), 10, "Line1")
            assert _shown(browser, line1) == ["Speed", "Count"]
            _click_row(qtbot, tree, _child_index(browser, line1, "Speed"))
            _click_row(
                qtbot,
                tree,
                _child_index(browser, line1, "Count"),
                Qt.KeyboardModifier.ControlModifier,
            )
            qtbot.mouseClick(browser.add_button, Qt.MouseButton.LeftButton)
            dialog = browser.add_dialog
            dialog.prefix.selectAll()
            qtbot.keyClicks(dialog.prefix, "line1.")
            assert dialog.tag_names() == ["line1.Speed", "line1.Count"]
            assert dialog.ok_button.isEnabled(), dialog.problems.text()
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert len(dialog.saved) == 2
            # the server goes away: a branch not loaded yet says why, inline
            await _stop_opcua_server(server)
            server = None
            await wait_until(
                lambda: runtime.engine.link_states()["cell_opc"][0] is not LinkState.CONNECTED,
                15,
                "the link to drop",
            )
            cell = _child_index(browser, conn, "Cell")
            tree.expand(cell)
            await wait_until(lambda: not browser.loading(), 15, "the failed browse")
            [failure] = _shown(browser, cell)
            assert failure.startswith("browse failed: "), failure
        finally:
            if browser is not None:
                await browser.aclose()
            await runtime.stop()
            if server is not None:
                await _stop_opcua_server(server)

    try:
        qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    finally:
        collector.stop()
    project, issues = check_project(folder)
    assert project is not None, issues
    speed = project.tag("line1.Speed")
    assert (speed.connection, speed.type) == ("cell_opc", DataType.FLOAT64)
    assert "Line speed" in speed.description  # the node's description came along
    assert speed.address.endswith(";s=Line1.Speed")
    assert project.tag("line1.Count").type is DataType.UINT32
    text = (folder / "project.yaml").read_text(encoding="utf-8")
    assert text.startswith("# a plant with one OPC UA server\n")
    assert "  - {name: memo, type: string, length: 10}  # a memory tag\n" in text
