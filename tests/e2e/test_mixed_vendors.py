"""Issue 3's check, end to end: a project with one OPC UA server (Basic256Sha256 SignAndEncrypt,
user and password, the password from the environment), one Logix controller (cpppo) and one
Modbus RTU device (pymodbus behind a socat serial pair) shows all three on one screen of the real
operator window on a real runtime. Pulling each link in turn greys only that device's widgets (and
turns only its header chip red) while the other two stay good; restored, it comes back by itself.

Screenshots of every stage go to ``$HMI_E2E_SHOTS`` (see conftest.py).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.core.project.loader import Project, load_project
from hmi_app.core.quality import Quality
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.app import FLUSH_MS, build_window
from hmi_app.shell.window import MainWindow
from screens.renderer import ScreenView
from tests.support.cpppo_sim import CpppoServer
from tests.support.opcua_server import CertPair, SecureUaServer
from tests.support.serial_rtu import BAUD, PARITY, RtuUnitServer, SerialPair
from widgets.base import HmiWidget
from widgets.numeric import NumericDisplay
from widgets.quality_look import BAD_PLACEHOLDER

pytestmark = pytest.mark.e2e

PASSWORD_ENV = "HMI_E2E_UA_PASSWORD"
PASSWORD = "e2e-op-secret"
CONNECTIONS = ("line2_ua", "press_plc", "meter")

PROJECT = """\
# Line 2: three vendors side by side
schema_version: 1
project: {{name: Mixed vendors, plant: Plant B, line: Line 2, start_screen: mixed}}
scan_classes: {{fast: 200, normal: 1000, slow: 10000}}
connections:
  line2_ua:
    driver: opcua
    url: {ua_url}
    security: sign_and_encrypt
    policy: Basic256Sha256
    pki_dir: pki
    user: operator
    password_env: {password_env}
    watchdog_ms: 500
    timeout_ms: 2000
    connect_timeout_ms: 4000
  press_plc:
    {{driver: logix, host: 127.0.0.1, port: {logix_port}, init_tags: false, timeout_ms: 1000}}
  meter:
    driver: modbus-rtu
    port: {rtu_port}
    baudrate: {baud}
    parity: {parity}
    unit_id: 1
    timeout_ms: 200
tags:
  - {{name: line2.speed, connection: line2_ua,
     address: "nsu=urn:hmi-app:support-plant;s=Line2.Speed", type: float64, units: m/min,
     format: ".1f", scan: fast}}
  - {{name: line2.count, connection: line2_ua, address: "ns=2;s=Line2.Counter", type: uint32,
     scan: fast}}
  - {{name: line2.running, connection: line2_ua, address: "ns=2;s=Line2.Running", type: bool,
     scan: fast}}
  - {{name: press.count, connection: press_plc, address: PartCount, type: int32, scan: fast}}
  - {{name: press.oven_temp, connection: press_plc, address: OvenTemp, type: float32, units: °C,
     format: ".1f", access: read_write, limits: {{min: 0, max: 300}}, scan: fast}}
  - {{name: press.mode, connection: press_plc, address: Mode, type: int32, access: read_write,
     scan: fast}}
  - {{name: meter.power, connection: meter, address: IR0, type: float32, units: kW, format: ".2f",
     scan: fast}}
  - name: meter.frequency
    connection: meter
    address: HR10
    type: uint16
    scaling: {{raw_min: 0, raw_max: 10000, eu_min: 0, eu_max: 100}}
    units: Hz
    format: ".2f"
    scan: fast
  - {{name: meter.breaker, connection: meter, address: CO0, type: bool, scan: fast}}
screens:
  - screens/mixed.yaml
"""


def _column(x: int, title: str, prefix: str, rows: list[tuple[str, str, str]]) -> str:
    lines = [
        f"  - {{id: {prefix}_panel, type: panel, geometry: [{x}, 16, 400, 228],"
        f" props: {{title: '{title}'}}}}"
    ]
    for number, (kind, tag, props) in enumerate(rows):
        y = 64 + 56 * number
        lines.append(
            f"  - {{id: {prefix}_{tag.split('.')[-1]}, type: {kind},"
            f" geometry: [{x + 16}, {y}, 368, 44], props: {props}, bind: {{value: {tag}}}}}"
        )
    return "\n".join(lines)


RUN_STATES = (
    "[{value: true, text: RUNNING, style: running}, {value: false, text: STOPPED, style: stopped}]"
)
SCREEN = "\n".join(
    [
        "schema_version: 1",
        "name: mixed",
        "title: Line 2 - three vendors",
        "size: [1280, 720]",
        "widgets:",
        _column(
            16,
            "Filler (OPC UA, encrypted)",
            "ua",
            [
                ("numeric", "line2.speed", "{label: Speed}"),
                ("numeric", "line2.count", "{label: Bottles}"),
                ("state", "line2.running", f"{{label: Filler, states: {RUN_STATES}}}"),
            ],
        ),
        _column(
            440,
            "Press (Logix)",
            "logix",
            [
                ("numeric", "press.count", "{label: Parts}"),
                ("numeric", "press.oven_temp", "{label: Oven}"),
                (
                    "state",
                    "press.mode",
                    "{label: Mode, states: [{value: 0, text: STOPPED, style: stopped},"
                    " {value: 1, text: AUTO, style: running}, {value: 2, text: MANUAL}]}",
                ),
            ],
        ),
        _column(
            864,
            "Power meter (Modbus RTU)",
            "rtu",
            [
                ("numeric", "meter.power", "{label: Power}"),
                ("numeric", "meter.frequency", "{label: Frequency}"),
                (
                    "state",
                    "meter.breaker",
                    "{label: Breaker, states: [{value: true, text: CLOSED,"
                    " style: running}, {value: false, text: OPEN, style: stopped}]}",
                ),
            ],
        ),
        "",
    ]
)


def write_project(
    folder: Path, ua: SecureUaServer, ua_cert: CertPair, logix: CpppoServer, pair: SerialPair
) -> Path:
    """The project folder a new user would write: project.yaml, one screen, a PKI folder that
    trusts the server's certificate."""
    (folder / "screens").mkdir(parents=True)
    trusted = folder / "pki" / "trusted"
    trusted.mkdir(parents=True)
    shutil.copy(ua_cert.cert_path, trusted)
    (folder / "project.yaml").write_text(
        PROJECT.format(
            ua_url=ua.url,
            password_env=PASSWORD_ENV,
            logix_port=logix.port,
            rtu_port=pair.b,
            baud=BAUD,
            parity=PARITY,
        ),
        encoding="utf-8",
    )
    (folder / "screens" / "mixed.yaml").write_text(SCREEN, encoding="utf-8")
    return folder


def widgets_by_connection(project: Project, view: ScreenView) -> dict[str, dict[str, HmiWidget]]:
    """Each bound widget of ``view`` under the connection of the tags it shows."""
    connection_of = {tag.name: tag.connection for tag in project.model.tags}
    out: dict[str, dict[str, HmiWidget]] = {name: {} for name in CONNECTIONS}
    for placed in view.definition.widgets:
        for tag in placed.config.bind.values():
            out[str(connection_of[tag])][placed.config.id] = view.widgets[placed.config.id]
    return out


def shows_bad(widget: HmiWidget) -> bool:
    if widget.worst_quality() is not Quality.BAD:
        return False
    if isinstance(widget, NumericDisplay):
        shown = widget.value_shown()
        return shown is not None and shown.text == BAD_PLACEHOLDER
    return True


@dataclass
class Watch:
    """Polls the window while waiting: fails if a device that should stay good ever shows
    anything but GOOD, or its header chip leaves CONNECTED."""

    window: MainWindow
    groups: dict[str, dict[str, HmiWidget]]
    steady: tuple[str, ...] = ()
    glitches: list[str] = field(default_factory=list)

    def check_steady(self) -> None:
        for connection in self.steady:
            chip = self.window.header.chips[connection]
            if chip.state is not LinkState.CONNECTED:
                self.glitches.append(f"{connection} chip {chip.state.name}: {chip.toolTip()}")
            for wid, widget in self.groups[connection].items():
                if widget.worst_quality() is not Quality.GOOD:
                    self.glitches.append(f"{wid} {widget.worst_quality().name}")

    def good(self, connection: str) -> bool:
        return self.window.header.chips[connection].state is LinkState.CONNECTED and all(
            w.worst_quality() is Quality.GOOD for w in self.groups[connection].values()
        )

    def bad(self, connection: str, *, retrying: bool = False) -> bool:
        """Every widget of ``connection`` BAD and its chip red (or, with ``retrying``, amber
        while the driver tries again: a reconnect attempt shows as *connecting*)."""
        down = {LinkState.DISCONNECTED}
        if retrying:
            down.add(LinkState.CONNECTING)
        return self.window.header.chips[connection].state in down and all(
            shows_bad(w) for w in self.groups[connection].values()
        )

    def describe(self) -> str:
        parts = []
        for connection, group in self.groups.items():
            chip = self.window.header.chips[connection]
            shown = {wid: w.worst_quality().name for wid, w in group.items()}
            parts.append(f"{connection}: chip {chip.state.name} ({chip.toolTip()!r}) {shown}")
        return "; ".join(parts)

    async def until(self, condition: Callable[[], bool], within: float, what: str) -> float:
        start = time.monotonic()
        while True:
            self.check_steady()
            assert not self.glitches, f"while waiting for {what}: {self.glitches[:5]}"
            if condition():
                return time.monotonic() - start
            if time.monotonic() - start > within:
                raise AssertionError(f"{what}: not within {within} s; {self.describe()}")
            await asyncio.sleep(0.05)


@dataclass
class Link:
    """One device link the test pulls and puts back."""

    connection: str
    pull: Callable[[], Awaitable[None]]
    restore: Callable[[], Awaitable[None]]


def test_three_vendors_on_one_screen_each_link_pulled_alone(
    qtbot: QtBot,
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ua_cert: CertPair,
    logix_sim: CpppoServer,
    serial_pair: SerialPair,
    shots_dir: Path,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    ua = SecureUaServer(ua_cert, {"operator": PASSWORD})
    rtu = RtuUnitServer(serial_pair.a)
    rtu.ir.values[0:2] = [0x4245, 0x8000]  # 49.375 kW as float32, big endian words
    rtu.hr.values[10] = 5000  # 50.00 Hz
    rtu.co.values[0] = True
    folder = write_project(tmp_path / "line2", ua, ua_cert, logix_sim, serial_pair)
    project = load_project(folder)
    runtime = Runtime(project)
    timings: dict[str, float] = {}

    async def pull_ua() -> None:
        await ua.stop()

    async def restore_ua() -> None:
        await ua.start()

    async def pull_logix() -> None:
        logix_sim.kill()

    async def restore_logix() -> None:
        await asyncio.to_thread(logix_sim.start)

    async def pull_rtu() -> None:
        serial_pair.kill()  # the USB adapter is pulled out
        await rtu.stop()

    async def restore_rtu() -> None:
        serial_pair.start()
        await rtu.start()

    links = [
        Link("line2_ua", pull_ua, restore_ua),
        Link("press_plc", pull_logix, restore_logix),
        Link("meter", pull_rtu, restore_rtu),
    ]

    async def scenario() -> None:
        await ua.start()
        await rtu.start()
        await runtime.start()
        window = build_window(project, runtime)
        qtbot.addWidget(window)

        def tick() -> None:
            runtime.bus.flush()
            window.tick()

        timer = QTimer()
        timer.setInterval(FLUSH_MS)
        timer.timeout.connect(tick)

        def shot(name: str) -> None:
            tick()
            window.grab().save(str(shots_dir / f"{name}.png"))

        try:
            window.resize(1280, 800)
            window.show()
            timer.start()
            view = window.page("mixed")
            assert isinstance(view, ScreenView)
            groups = widgets_by_connection(project, view)
            assert all(len(group) == 3 for group in groups.values()), groups
            watch = Watch(window, groups)
            start = time.monotonic()
            await watch.until(
                lambda: all(watch.good(c) for c in CONNECTIONS), 20, "all three devices good"
            )
            timings["all good"] = time.monotonic() - start
            await runtime.engine.write("press.oven_temp", 71.5, user="e2e")
            await runtime.engine.write("press.mode", 1, user="e2e")
            await watch.until(
                lambda: groups["press_plc"]["logix_mode"].state()[0] == "AUTO",
                5,
                "the written Logix mode on screen",
            )
            count = groups["line2_ua"]["ua_count"]
            assert isinstance(count, NumericDisplay)
            first = count.value_shown()
            await watch.until(lambda: count.value_shown() != first, 5, "the OPC UA counter")
            power = groups["meter"]["rtu_power"]
            assert isinstance(power, NumericDisplay)
            assert (shown := power.value_shown()) is not None and shown.text == "49.38"
            shot("0-all-good")
            # the application certificate was made in the project's pki folder on first use and
            # the server's was accepted from pki/trusted/ (nothing rejected)
            assert (folder / "pki" / "own" / "cert.der").is_file()
            assert not any((folder / "pki" / "rejected").glob("*"))

            for number, link in enumerate(links, start=1):
                others = tuple(c for c in CONNECTIONS if c != link.connection)
                watch.steady = others
                await link.pull()
                took = await watch.until(
                    lambda c=link.connection: watch.bad(c), 10, f"{link.connection} pulled: bad"
                )
                timings[f"{link.connection} bad"] = took
                shot(f"{number}-{link.connection}-pulled")
                await asyncio.sleep(0.5)  # the others stay good a while longer (watched)
                await watch.until(
                    lambda c=link.connection: watch.bad(c, retrying=True), 1, "still bad"
                )
                await link.restore()
                took = await watch.until(
                    lambda c=link.connection: watch.good(c), 15, f"{link.connection} back"
                )
                timings[f"{link.connection} back"] = took
            watch.steady = CONNECTIONS
            await watch.until(lambda: True, 1, "all good at the end")
            shot("4-all-back")
        finally:
            timer.stop()
            window.release_screens()
            await window.wait_writes()
            await window.close_tools()
            await runtime.stop()
            await rtu.stop()
            await ua.stop()
        current = asyncio.current_task()
        for _ in range(50):
            leaked = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
            if not leaked:
                break
            await asyncio.sleep(0.02)
        assert not leaked, f"leaked asyncio tasks: {[t.get_name() for t in leaked]}"

    async def within_time() -> None:
        async with asyncio.timeout(55):
            await scenario()

    qloop.run_until_complete(within_time())
    print("timings (s):", {k: round(v, 2) for k, v in timings.items()})
