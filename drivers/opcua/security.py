"""The PKI folder of an OPC UA client: its own certificate, trusted and rejected server ones.

Layout of ``pki_dir`` (created on first use)::

    pki_dir/own/cert.der            this application's certificate (self-signed, made on first run)
    pki_dir/own/private/key.pem     its private key (file mode 0600)
    pki_dir/trusted/                server certificates the plant trusts (DER or PEM)
    pki_dir/rejected/               server certificates seen but not trusted, one file each

A server certificate is trusted when a file in ``trusted/`` holds the same certificate. An unknown
one is written to ``rejected/`` (named after its subject and thumbprint) and the connection is
refused with ``UntrustedCertificate``, whose message says how to trust it: move the file to
``trusted/``, or call ``trust_rejected_certificate`` (the tag browser's *Trust* action).

Everything here is blocking file and crypto work: the driver runs it in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OWN_CERT = Path("own") / "cert.der"
OWN_KEY = Path("own") / "private" / "key.pem"
TRUSTED = "trusted"
REJECTED = "rejected"
CERT_DAYS = 5 * 365
_OWN_LOCK = threading.Lock()  # connections sharing a PKI folder must not make two key pairs


class SecuritySetupError(Exception):
    """The PKI folder or a certificate cannot be used; the message says why."""


class UntrustedCertificate(SecuritySetupError):
    """A server presented a certificate that is not in ``trusted/``."""

    def __init__(self, message: str, rejected_file: Path) -> None:
        super().__init__(message)
        self.rejected_file = rejected_file


@dataclass(frozen=True, slots=True)
class OwnCertificate:
    """This application's certificate (DER) and private key (PEM), as bytes."""

    cert_der: bytes
    key_pem: bytes


def ensure_own_certificate(pki_dir: Path, application_uri: str) -> OwnCertificate:
    """The application certificate in ``pki_dir``, created (self-signed) if missing or expired."""
    with _OWN_LOCK:
        return _ensure_own(pki_dir, application_uri)


def _ensure_own(pki_dir: Path, application_uri: str) -> OwnCertificate:
    cert_path, key_path = pki_dir / OWN_CERT, pki_dir / OWN_KEY
    try:
        if cert_path.is_file() and key_path.is_file():
            cert_der, key_pem = cert_path.read_bytes(), key_path.read_bytes()
            cert = x509.load_der_x509_certificate(cert_der)
            if cert.not_valid_after_utc > _now() + dt.timedelta(days=1) and _has_uri(
                cert, application_uri
            ):
                return OwnCertificate(cert_der, key_pem)
        return _create_own(cert_path, key_path, application_uri)
    except OSError as exc:
        raise SecuritySetupError(f"cannot use the PKI folder {pki_dir}: {exc}") from None
    except ValueError as exc:
        raise SecuritySetupError(f"the certificate in {cert_path} is unreadable: {exc}") from None


def _create_own(cert_path: Path, key_path: Path, application_uri: str) -> OwnCertificate:
    from asyncua.crypto import cert_gen

    key = cert_gen.generate_private_key()
    host = socket.gethostname()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        f"hmi-app@{host}",
        {"organizationName": "hmi-app"},
        [x509.UniformResourceIdentifier(application_uri), x509.DNSName(host)],
        extended=[ExtendedKeyUsageOID.CLIENT_AUTH],
        days=CERT_DAYS,
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert_der)
    return OwnCertificate(cert_der, key_pem)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _has_uri(cert: x509.Certificate, uri: str) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return uri in san.value.get_values_for_type(x509.UniformResourceIdentifier)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def thumbprint(der: bytes) -> str:
    """SHA-1 thumbprint in hex, as OPC UA tools show it."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


def subject_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string() or "unnamed"


def check_server_certificate(pki_dir: Path, der: bytes, server: str) -> None:
    """Return if ``der`` is trusted; otherwise save it to ``rejected/`` and raise
    UntrustedCertificate (or SecuritySetupError for an unreadable or expired certificate)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise SecuritySetupError(
            f"the server {server} sent an unreadable certificate: {exc}"
        ) from None
    name = subject_name(cert)
    trusted, rejected = pki_dir / TRUSTED, pki_dir / REJECTED
    try:
        trusted.mkdir(parents=True, exist_ok=True)
        rejected.mkdir(parents=True, exist_ok=True)
        known = _trusted_thumbprints(trusted)
    except OSError as exc:
        raise SecuritySetupError(f"cannot use the PKI folder {pki_dir}: {exc}") from None
    print_ = thumbprint(der)
    now = _now()
    if print_ in known:
        if cert.not_valid_after_utc < now:
            raise SecuritySetupError(
                f"the trusted certificate of {name} (server {server}) expired on"
                f" {cert.not_valid_after_utc:%Y-%m-%d}: the server needs a new certificate"
            )
        return
    target = rejected / f"{_safe(name)} [{print_}].der"
    try:
        target.write_bytes(der)
    except OSError as exc:
        raise SecuritySetupError(
            f"cannot save the server certificate to {rejected}: {exc}"
        ) from None
    raise UntrustedCertificate(
        f"server certificate of {name} ({server}) is not trusted: it was saved to {target};"
        f" move it to {trusted}{os.sep} (or use Trust in the tag browser) to trust it",
        target,
    )


def _trusted_thumbprints(folder: Path) -> set[str]:
    prints: set[str] = set()
    for path in folder.iterdir():
        if not path.is_file():
            continue
        data = path.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                cert = x509.load_pem_x509_certificate(data)
                data = cert.public_bytes(serialization.Encoding.DER)
            else:
                x509.load_der_x509_certificate(data)
        except ValueError:
            continue  # not a certificate: ignore (a README, a CRL...)
        prints.add(thumbprint(data))
    return prints


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@ -]+", "_", name).strip() or "server"


def rejected_certificates(pki_dir: str | Path) -> list[Path]:
    """Certificates waiting in ``rejected/``, newest first (for the UI to offer)."""
    folder = Path(pki_dir) / REJECTED
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def trust_rejected_certificate(pki_dir: str | Path, filename: str) -> Path:
    """Move ``rejected/<filename>`` to ``trusted/`` and return its new path.

    ``filename`` is a plain file name (no folders): FileNotFoundError if it is not in
    ``rejected/``, ValueError if it names a path. The next connection attempt uses it.
    """
    if not filename or Path(filename).name != filename or filename in (".", ".."):
        raise ValueError(f"{filename!r} is not a file name in the rejected folder")
    pki = Path(pki_dir)
    source = pki / REJECTED / filename
    if not source.is_file():
        raise FileNotFoundError(f"no rejected certificate {filename!r} in {pki / REJECTED}")
    x509.load_der_x509_certificate(source.read_bytes())  # ValueError if it is not one
    target_dir = pki / TRUSTED
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / filename
    os.replace(source, target)
    return target
