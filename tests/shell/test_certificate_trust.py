"""Trusting a rejected OPC UA server certificate from the tag browser, with real mouse clicks.

A project's OPC UA connection (Basic256Sha256 SignAndEncrypt, user and password) points at a real
asyncua server whose certificate is not in ``pki/trusted``: the runtime's link is down with the
"not trusted" message and the certificate lands in ``pki/rejected``. The browser's connection row
gives a hint; "Server certificates…" lists the certificate with its SHA-256 fingerprint; *Trust*,
confirmed on the message box, moves it to ``pki/trusted`` and logs it to ``hmi.audit``; the
driver's own reconnect then connects and a tag reads GOOD. Bad input: an unreadable file cannot be
trusted, Cancel moves nothing, and a certificate that vanished meanwhile gives a clear error.

Set ``HMI_SHOTS`` to a folder to save pictures there (certificate_dialog.png and
tag_browser_untrusted.png).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton, QTreeView, QWidget
from pytestqt.qtbot import QtBot

from drivers.base import LinkState
from hmi_app.core.project.loader import load_project
from hmi_app.core.quality import Quality
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.certificate_dialog import RETRY_NOTE, CertificateDialog
from hmi_app.shell.gc_policy import GuiThreadCollector
from hmi_app.shell.tag_browser import TagBrowser
from tests.support.opcua_server import SecureUaServer, make_cert
from tests.support.waiting import wait_until

PASSWORD_ENV = "HMI_TEST_CERT_UA_PASSWORD"
PASSWORD = "cert-trust-secret"

PROJECT = """\
# one OPC UA server whose certificate nobody trusted yet
schema_version: 1
project: {{name: Untrusted plant}}
scan_classes: {{fast: 200, normal: 1000}}
connections:
  line2_ua:
    driver: opcua
    url: {url}
    security: sign_and_encrypt
    pki_dir: pki
    user: operator
    password_env: {env}
    watchdog_ms: 500
    timeout_ms: 2000
    connect_timeout_ms: 4000
tags:
  - {{name: line2.count, connection: line2_ua, address: "ns=2;s=Line2.Counter", type: uint32,
     scan: fast}}
"""


@pytest.fixture(autouse=True)
def _keep_loop_running(qapp: QApplication) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # closing a dialog must not end the qasync loop


def _sha256(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _click_row(qtbot: QtBot, tree: QTreeView, browser: TagBrowser, connection: str) -> None:
    rect = tree.visualRect(browser.proxy_index(browser.connection_rows[connection]))
    assert rect.isValid(), "row not visible"
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _confirm_box() -> QMessageBox:
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox), box
    return box


def _box_button(box: QMessageBox, text: str) -> QPushButton:
    for button in box.findChildren(QPushButton):
        if button.text().replace("&", "") == text:
            return button
    raise AssertionError(f"no {text!r} button on {box.text()!r}")


def _grab(widget: QWidget, name: str) -> None:
    folder = os.environ.get("HMI_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def test_untrusted_server_is_trusted_from_the_browser_and_connects_by_itself(
    qtbot: QtBot,
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector = GuiThreadCollector()  # as in the app (asyncua works in worker threads)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    cert = make_cert(tmp_path / "server-cert", "plant-server", "urn:hmi-app:test-server")
    ua = SecureUaServer(cert, {"operator": PASSWORD})
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "project.yaml").write_text(
        PROJECT.format(url=ua.url, env=PASSWORD_ENV), encoding="utf-8"
    )
    runtime = Runtime(load_project(folder))
    pki = folder / "pki"
    fingerprint = _sha256(cert.cert_der)

    def link() -> tuple[LinkState, str]:
        return runtime.engine.link_states()["line2_ua"]

    async def scenario() -> None:
        browser: TagBrowser | None = None
        dialog: CertificateDialog | None = None
        await ua.start()
        try:
            await runtime.start()
            # a screen shows the counter: the engine subscribes it on the driver
            seen: list[Quality] = []
            watch = runtime.engine.subscribe(
                "line2.count", lambda value: seen.append(value.quality)
            )
            await wait_until(lambda: "not trusted" in link()[1], 15, "the certificate refusal")
            assert link()[0] is not LinkState.CONNECTED
            [rejected] = list((pki / "rejected").iterdir())
            assert not any((pki / "trusted").iterdir())

            browser = TagBrowser(
                runtime.project,
                runtime.drivers,
                link_states=runtime.engine.link_states(),
                user="supervisor",
            )
            runtime.engine.add_link_listener(browser.set_link)
            qtbot.addWidget(browser)
            browser.resize(1280, 800)
            browser.show()
            row = browser.connection_rows["line2_ua"]
            state_text = browser.model.item(row.row(), 3).text()
            assert state_text == "disconnected: untrusted certificate, see “Server certificates…”"
            tooltip = browser.model.item(row.row(), 3).toolTip()
            assert "is not trusted: it was saved to" in tooltip  # the driver's full message
            assert not browser.cert_button.isEnabled()  # nothing selected yet
            _click_row(qtbot, browser.tree, browser, "line2_ua")
            await wait_until(browser.cert_button.isEnabled, 5, "the rejected certificate count")
            _grab(browser, "tag_browser_untrusted.png")

            _click(qtbot, browser.cert_button)
            dialog = browser.certificate_dialog
            assert dialog is not None and dialog.isVisible()
            await wait_until(lambda: not dialog.busy(), 5, "the certificate list")
            [info] = dialog.certificates
            assert (info.path.name, info.sha256) == (rejected.name, fingerprint)
            assert info.common_name == "plant-server"
            assert info.application_uri == "urn:hmi-app:test-server"
            shown = [label.text() for label in dialog.findChildren(QLabel)]
            assert "urn:hmi-app:test-server" in shown
            label = dialog.findChild(QLabel, "fingerprint")
            assert label is not None
            assert label.text().replace("\n", ":") == fingerprint  # on two lines
            _grab(dialog, "certificate_dialog.png")

            with caplog.at_level(logging.INFO, logger="hmi.audit"):
                _click(qtbot, dialog.trust_buttons[rejected.name])
                box = _confirm_box()
                assert box.text().startswith("Trust this server certificate? Anyone holding")
                assert fingerprint in box.informativeText()
                _click(qtbot, _box_button(box, "Trust"))
                await wait_until(lambda: RETRY_NOTE in dialog.status.text(), 5, "the trust")
            assert (pki / "trusted" / rejected.name).read_bytes() == cert.cert_der
            assert not rejected.exists()
            [record] = [r for r in caplog.records if r.name == "hmi.audit"]
            message = record.getMessage()
            assert message.startswith("certificate trusted user=supervisor connection=line2_ua")
            assert f"fingerprint={fingerprint}" in message
            await wait_until(lambda: not dialog.busy(), 5, "the list to refresh")
            assert dialog.certificates == [] and not dialog.trust_buttons
            assert "No rejected" not in dialog.status.text()  # the result stays on show

            # nobody touches anything: the driver's own reconnect gets in
            await wait_until(lambda: link()[0] is LinkState.CONNECTED, 20, "the reconnect")

            def good() -> bool:
                value = runtime.engine.current("line2.count")
                return value is not None and value.quality is Quality.GOOD

            await wait_until(good, 10, "a GOOD counter value")
            assert seen[-1] is Quality.GOOD and Quality.BAD in seen  # bad while untrusted
            watch.cancel()
            await wait_until(lambda: not browser.cert_button.isEnabled(), 5, "the recount")
            assert browser.model.item(row.row(), 3).text() == "connected"
            assert "retries within 30 s" in browser.message.text()
        finally:
            if dialog is not None:
                await dialog.aclose()
            if browser is not None:
                runtime.engine.remove_link_listener(browser.set_link)
                await browser.aclose()
            await runtime.stop()
            await ua.stop()

    try:
        qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    finally:
        collector.stop()


def test_unreadable_cancelled_and_vanished_certificates(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pki = tmp_path / "pki"
    rejected = pki / "rejected"
    cert = make_cert(rejected, "rogue-server", "urn:example:rogue")
    cert.key_path.unlink()  # only the certificate was saved by the driver
    (rejected / "notes.txt").write_text("not a certificate", encoding="utf-8")

    async def scenario() -> None:
        dialog = CertificateDialog("line9_ua", pki, user="supervisor")
        qtbot.addWidget(dialog)
        dialog.show()
        try:
            await wait_until(lambda: not dialog.busy(), 5, "the certificate list")
            by_name = {info.path.name: info for info in dialog.certificates}
            assert set(by_name) == {"rogue-server.der", "notes.txt"}
            assert by_name["notes.txt"].error.startswith("not a readable certificate")
            assert not dialog.trust_buttons["notes.txt"].isEnabled()
            assert dialog.status.text() == "2 rejected certificates."

            with caplog.at_level(logging.INFO, logger="hmi.audit"):
                # Cancel: nothing moves
                _click(qtbot, dialog.trust_buttons["rogue-server.der"])
                _click(qtbot, _box_button(_confirm_box(), "Cancel"))
                await wait_until(lambda: not dialog.busy(), 5, "nothing")
                assert cert.cert_path.is_file() and not (pki / "trusted").exists()

                # the file goes away (someone moved it by hand) before the confirmation
                _click(qtbot, dialog.trust_buttons["rogue-server.der"])
                box = _confirm_box()
                cert.cert_path.unlink()
                _click(qtbot, _box_button(box, "Trust"))
                await wait_until(lambda: not dialog.busy(), 5, "the failed trust")
            assert dialog.status.text().startswith("Not trusted: no rejected certificate")
            assert "rogue-server.der" in dialog.status.text()
            assert [info.path.name for info in dialog.certificates] == ["notes.txt"]
            assert (rejected / "notes.txt").read_text(encoding="utf-8") == "not a certificate"
            assert not [r for r in caplog.records if r.name == "hmi.audit"]
        finally:
            await dialog.aclose()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 20))
