"""The "Server certificates" dialog: review the OPC UA server certificates a connection rejected
and trust one explicitly (a supervisor action).

The OPC UA driver saves an unknown server certificate to ``<pki_dir>/rejected/`` and refuses the
connection. This dialog lists those files with what a person needs to decide (subject and
application URI, issuer, validity, SHA-256 fingerprint to compare with the server's own), and its
*Trust* button, after a confirmation, moves the file to ``trusted/`` with
``drivers.opcua.security.trust_rejected_certificate``. The driver's reconnect loop (backoff up to
30 s) then connects by itself. Every file read and move runs in a worker thread
(``asyncio.to_thread``) from a named task; the action is logged to ``hmi.audit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from drivers.opcua.security import rejected_certificates, trust_rejected_certificate
from widgets.theme import FONT_FAMILIES

audit = logging.getLogger("hmi.audit")

RETRY_NOTE = "The connection retries within 30 s and connects by itself."
CONFIRM_TEXT = (
    "Trust this server certificate? Anyone holding its private key can then serve this "
    "connection, read what the HMI reads and receive what it writes."
)

STYLE = """
#certificateDialog { background: #e6e6e6; }
#certificateDialog QLabel { color: #262626; font-size: 14px; }
#certificateDialog #certTitle { font-size: 18px; font-weight: bold; }
#certificateDialog #certIntro, #certificateDialog #certFile { color: #5c5c5c; font-size: 13px; }
#certificateDialog #certStatus { font-size: 13px; }
#certificateDialog QScrollArea { border: none; background: transparent; }
#certList { background: transparent; }
#certCard { background: #f2f2f2; border: 1px solid #b3b3b3; border-radius: 3px; }
#certCard QLabel { background: transparent; }
#certCard #certName { font-size: 16px; font-weight: bold; }
#certCard #certKey { color: #5c5c5c; font-size: 13px; }
#certCard #certExpired { color: #a01d14; font-weight: bold; }
#certificateDialog QPushButton {
    background: #ececec; color: #262626; border: 1px solid #a6a6a6; border-radius: 3px;
    padding: 5px 16px; font-size: 14px; min-height: 22px;
}
#certificateDialog QPushButton:hover { background: #f5f5f5; }
#certificateDialog QPushButton:disabled {
    color: #9a9a9a; background: #dedede; border-color: #c4c4c4;
}
#certificateDialog #trust { background: #4d4d4d; color: #ffffff; border-color: #4d4d4d;
    font-weight: bold; }
#certificateDialog #trust:disabled { background: #a6a6a6; color: #e6e6e6; border-color: #a6a6a6; }
"""


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What the dialog shows of one rejected certificate file (``error`` if unreadable)."""

    path: Path
    common_name: str = ""
    application_uri: str = ""
    issuer: str = ""
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    sha256: str = ""
    error: str = ""

    @property
    def expired(self) -> bool:
        return self.not_after is not None and self.not_after < dt.datetime.now(dt.UTC)


def read_certificate(path: Path) -> CertificateInfo:
    """Read one certificate file (DER or PEM); blocking, run it in a worker thread."""
    try:
        data = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        return CertificateInfo(path, error=f"not a readable certificate: {exc}")
    der = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        uris = []
    return CertificateInfo(
        path,
        common_name=_name(cert.subject),
        application_uri=", ".join(uris),
        issuer=_name(cert.issuer),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    )


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string() or "(no name)"


def load_rejected(pki_dir: Path) -> list[CertificateInfo]:
    """Every certificate waiting in ``pki_dir/rejected``, newest first; blocking."""
    return [read_certificate(path) for path in rejected_certificates(pki_dir)]


class CertificateDialog(QDialog):
    """Lists one connection's rejected server certificates; *Trust* moves one to ``trusted/``."""

    trusted = Signal(str, str)  # connection, SHA-256 fingerprint

    def __init__(
        self, connection: str, pki_dir: Path, *, user: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("certificateDialog")
        self.setWindowTitle(f"Server certificates - {connection}")
        self.setStyleSheet(STYLE)
        self.setMinimumSize(720, 420)
        self.connection = connection
        self.pki_dir = pki_dir
        self.user = user
        self.certificates: list[CertificateInfo] = []
        self.trust_buttons: dict[str, QPushButton] = {}  # file name -> its Trust button
        self.confirm_box: QMessageBox | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        title = QLabel(f"Rejected server certificates of {connection}")
        title.setObjectName("certTitle")
        layout.addWidget(title)
        intro = QLabel(
            "The server presented these certificates, which are not in "
            f"{pki_dir / 'trusted'}. Compare the SHA-256 fingerprint with the one shown on the "
            "server before trusting it. Moving the file from rejected/ to trusted/ does the same."
        )
        intro.setObjectName("certIntro")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(intro)
        self.list_widget = QWidget()
        self.list_widget.setObjectName("certList")
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(10)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list_widget)
        layout.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("certStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.status, 1)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeCertificates")
        self.close_button.clicked.connect(self.close)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(row)
        self.refresh()

    # ---- listing ------------------------------------------------------------------------------

    def refresh(self, *, announce: bool = True) -> None:
        """Read ``rejected/`` again (in a worker thread) and rebuild the list; ``announce``
        False keeps the status line (the result of a trust) as it is."""
        if announce:
            self._set_status("Reading the rejected certificates…")
        self._start(self._load(announce), f"certificate-dialog:list:{self.connection}")

    async def _load(self, announce: bool) -> None:
        try:
            infos = await asyncio.to_thread(load_rejected, self.pki_dir)
        except OSError as exc:
            if not self._closed:
                self._set_status(f"Cannot read {self.pki_dir / 'rejected'}: {exc}", error=True)
            return
        if self._closed:
            return
        self.certificates = infos
        self._rebuild()
        if not announce:
            return
        if not infos:
            self._set_status("No rejected certificates: nothing waits to be trusted.")
        else:
            count = len(infos)
            self._set_status(f"{count} rejected certificate{'s' if count != 1 else ''}.")

    def _rebuild(self) -> None:
        while self.list_layout.count():
            child = self.list_layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.deleteLater()
        self.trust_buttons = {}
        for info in self.certificates:
            self.list_layout.addWidget(self._card(info))
        self.list_layout.addStretch(1)

    def _card(self, info: CertificateInfo) -> QFrame:
        card = QFrame()
        card.setObjectName("certCard")
        grid = QGridLayout(card)
        grid.setContentsMargins(14, 10, 14, 12)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        name = QLabel(info.common_name or info.path.name)
        name.setObjectName("certName")
        grid.addWidget(name, 0, 0, 1, 2)
        trust = QPushButton("Trust…")
        trust.setObjectName("trust")
        trust.setEnabled(not info.error)
        trust.clicked.connect(lambda _checked=False, info=info: self.ask_trust(info))
        self.trust_buttons[info.path.name] = trust
        grid.addWidget(trust, 0, 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        rows: list[tuple[str, str]]
        if info.error:
            rows = [("Problem", info.error)]
        else:
            assert info.not_before is not None and info.not_after is not None
            self_signed = info.issuer == info.common_name
            valid = f"{info.not_before:%Y-%m-%d %H:%M} to {info.not_after:%Y-%m-%d %H:%M} UTC"
            rows = [
                ("Application URI", info.application_uri or "(none)"),
                ("Issuer", info.issuer + (" (self-signed)" if self_signed else "")),
                ("Valid", valid + ("   EXPIRED" if info.expired else "")),
                ("SHA-256", info.sha256),
            ]
        rows.append(("File", info.path.name))
        mono = QFont()
        mono.setFamilies(["DejaVu Sans Mono", "Consolas", "Courier New", *FONT_FAMILIES])
        mono.setPixelSize(13)
        for line, (key, value) in enumerate(rows, start=1):
            key_label = QLabel(key)
            key_label.setObjectName("certKey")
            value_label = QLabel(value)
            value_label.setObjectName("certExpired" if "EXPIRED" in value else "certValue")
            value_label.setWordWrap(True)
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key == "SHA-256":  # 32 byte pairs: two lines of 16 fit any dialog width
                value_label.setText(value[:47] + "\n" + value[48:])
                value_label.setFont(mono)
                value_label.setObjectName("fingerprint")
            grid.addWidget(key_label, line, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value_label, line, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        return card

    # ---- trusting -----------------------------------------------------------------------------

    def ask_trust(self, info: CertificateInfo) -> QMessageBox:
        """Ask for confirmation (window-modal, non-blocking); *Trust* on the box trusts ``info``."""
        box = QMessageBox(self)
        box.setObjectName("confirmTrust")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Trust server certificate")
        box.setText(CONFIRM_TEXT)
        box.setInformativeText(
            f"{info.common_name} ({info.application_uri or 'no application URI'})\n"
            f"SHA-256 {info.sha256}"
        )
        trust = box.addButton("Trust", QMessageBox.ButtonRole.AcceptRole)
        trust.setObjectName("confirmTrustButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _result: self._confirmed(box, trust, info))
        self.confirm_box = box
        box.open()
        return box

    def _confirmed(self, box: QMessageBox, trust: object, info: CertificateInfo) -> None:
        self.confirm_box = None
        box.deleteLater()
        if box.clickedButton() is not trust or self._closed:
            return
        button = self.trust_buttons.get(info.path.name)
        if button is not None:
            button.setEnabled(False)
        self._start(self._trust(info), f"certificate-dialog:trust:{self.connection}")

    async def _trust(self, info: CertificateInfo) -> None:
        try:
            target = await asyncio.to_thread(
                trust_rejected_certificate, self.pki_dir, info.path.name
            )
        except (OSError, ValueError) as exc:
            if not self._closed:
                self._set_status(f"Not trusted: {exc}", error=True)
                self.refresh(announce=False)
            return
        audit.info(
            "certificate trusted user=%s connection=%s fingerprint=%s subject=%s file=%s",
            self.user,
            self.connection,
            info.sha256,
            info.common_name,
            target,
        )
        if self._closed:
            return
        self._set_status(f"Trusted {info.common_name}. {RETRY_NOTE}")
        self.trusted.emit(self.connection, info.sha256)
        self.refresh(announce=False)

    # ---- tasks, status and closing ------------------------------------------------------------

    def _start(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def busy(self) -> bool:
        """A listing or a trust is in progress."""
        return bool(self._tasks)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {'#a01d14' if error else '#262626'};")

    async def aclose(self) -> None:
        """Close and wait for the tasks in flight (a move already started completes)."""
        self.close()
        tasks = list(self._tasks)
        if tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        if self.confirm_box is not None:
            self.confirm_box.reject()
        super().closeEvent(event)
