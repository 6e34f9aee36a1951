"""Opening an OPC UA session: endpoint choice, security, credentials, limits and loss watch.

``Connector.connect`` makes a fresh ``asyncua.Client`` per attempt, picks the endpoint of the
configured mode and policy, checks the server certificate against the PKI folder (see
``security.py``), logs in (anonymous, user and password, or user certificate) and connects.
asyncua's watchdog probes the server every ``watchdog_ms``; its auto-reconnect is off (the
driver's supervisor recovers). ``max_message_size`` and ``max_chunk_count`` are sent in Hello
and enforced on replies. Every failure is a ``LinkDown`` whose message is the reason given to
the points (``config error: ...`` for what a person must fix, ``comm failure: ...`` otherwise).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto import security_policies
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from drivers.opcua import codec
from drivers.opcua import security as pki
from drivers.opcua.disposal import dispose
from drivers.opcua.model import DriverContext, LinkDown, describe
from drivers.opcua.settings import Policy, Security
from hmi_app.core.deadlines import within
from hmi_app.core.quality import Reason
from hmi_app.core.secrets import SecretError, resolve_password

_T = TypeVar("_T")

_POLICIES: dict[Policy, type[security_policies.SecurityPolicy]] = {
    Policy.BASIC256SHA256: security_policies.SecurityPolicyBasic256Sha256,
    Policy.AES128_SHA256_RSAOAEP: security_policies.SecurityPolicyAes128Sha256RsaOaep,
    Policy.AES256_SHA256_RSAPSS: security_policies.SecurityPolicyAes256Sha256RsaPss,
    Policy.BASIC128RSA15: security_policies.SecurityPolicyBasic128Rsa15,
    Policy.BASIC256: security_policies.SecurityPolicyBasic256,
}
_MODES = {
    Security.NONE: ua.MessageSecurityMode.None_,
    Security.SIGN: ua.MessageSecurityMode.Sign,
    Security.SIGN_AND_ENCRYPT: ua.MessageSecurityMode.SignAndEncrypt,
}
_LOGIN_REFUSED = (
    "BadUserAccessDenied",
    "BadIdentityTokenRejected",
    "BadIdentityTokenInvalid",
    "BadUserSignatureInvalid",
)


def application_uri() -> str:
    """This application's URI (also in its certificate): one per host, shared by connections."""
    return f"urn:{socket.gethostname()}:hmi-app"


class Connector:
    """Opens sessions for one driver; a lost connection is reported to ``ctx.link_lost``."""

    def __init__(self, ctx: DriverContext) -> None:
        self._ctx = ctx

    async def connect(self, gen: int) -> Client:
        """A connected client for connection ``gen``; LinkDown (with the reason) if not."""
        ctx = self._ctx
        s = ctx.settings
        client = Client(s.url, timeout=ctx.timeout_s, watchdog_intervall=s.watchdog_ms / 1000)
        client.application_uri = application_uri()
        client.name = client.description = f"hmi-app {ctx.name}"
        client.product_uri = "urn:hmi-app"
        client.session_timeout = s.session_timeout_ms
        client.max_messagesize = s.max_message_size
        client.max_chunkcount = s.max_chunk_count
        try:
            await within(self._prepare(client), s.connect_timeout_ms / 1000)

            async def lost(exc: Exception) -> None:
                ctx.link_lost(gen, f"{Reason.COMM_FAILURE}: connection lost ({describe(exc)})")

            client.connection_lost_callback = lost
            await within(client.connect(), s.connect_timeout_ms / 1000)
            _enforce_limits(client, s.max_message_size, s.max_chunk_count)
            self._watch_protocol(client, gen)
        except LinkDown:
            await dispose(client, graceful=False)
            raise
        except (pki.SecuritySetupError, SecretError) as exc:
            await dispose(client, graceful=False)
            raise LinkDown(f"{Reason.CONFIG_ERROR}: {exc}") from None
        except TimeoutError:
            await dispose(client, graceful=False)
            raise LinkDown(
                f"{Reason.COMM_FAILURE}: no answer from {ctx.url} within"
                f" {s.connect_timeout_ms / 1000:g} s"
            ) from None
        except UaStatusCodeError as exc:
            await dispose(client, graceful=False)
            raise LinkDown(self._refusal(exc)) from None
        except (OSError, ConnectionError, UaError, ValueError) as exc:
            await dispose(client, graceful=False)
            raise LinkDown(f"{Reason.COMM_FAILURE}: {ctx.url}: {describe(exc)}") from None
        except BaseException:
            await dispose(client, graceful=False)
            raise
        return client

    def _watch_protocol(self, client: Client, gen: int) -> None:
        """Learn why asyncua drops the connection when it is a status it found in a reply
        (a message above our limits, a broken secure channel) rather than a closed socket."""
        protocol = client.uaclient.protocol
        original = getattr(protocol, "_fail_all_pending", None)
        if original is None:
            return
        ctx = self._ctx

        def fail_all_pending(exc: Exception) -> None:
            if isinstance(exc, UaStatusCodeError):
                name = codec.status_name(exc.code)
                if name == "BadRequestTooLarge":
                    why = (
                        "the server sent a reply larger than max_message_size or"
                        f" max_chunk_count allow ({name})"
                    )
                else:
                    why = f"the server sent {name}"
                ctx.link_lost(gen, f"{Reason.COMM_FAILURE}: {why}")
            original(exc)

        setattr(protocol, "_fail_all_pending", fail_all_pending)  # noqa: B010 (typed as a method)

    def _refusal(self, exc: UaStatusCodeError) -> str:
        s = self._ctx.settings
        name = codec.status_name(exc.code)
        if name in _LOGIN_REFUSED:
            who = s.user or ("certificate user" if s.user_certificate else "anonymous")
            return f"{Reason.CONFIG_ERROR}: the server refused the login of {who}: {name}"
        if name.startswith("BadSecurity") or name.startswith("BadCertificate"):
            return f"{Reason.CONFIG_ERROR}: the server refused our security settings: {name}"
        return f"{Reason.COMM_FAILURE}: {self._ctx.url}: {name}"

    async def _prepare(self, client: Client) -> None:
        """Security, certificates and credentials, before ``connect``."""
        s = self._ctx.settings
        url = self._ctx.url
        mode = _MODES[s.security]
        policy = s.effective_policy
        endpoints = await client.connect_and_get_server_endpoints()
        offered = [
            (ep.SecurityMode, ep.SecurityPolicyUri.rpartition("#")[2])
            for ep in endpoints
            if ep.EndpointUrl.startswith("opc.tcp")
        ]
        if policy is None:
            if not any(m == ua.MessageSecurityMode.None_ for m, _p in offered):
                raise LinkDown(
                    f"{Reason.CONFIG_ERROR}: {url} offers no unsecured endpoint (it offers"
                    f" {_offers(offered)}): set security and pki_dir"
                )
        else:
            policy_cls = _POLICIES[policy]
            endpoint = next(
                (
                    ep
                    for ep in endpoints
                    if ep.SecurityMode == mode and ep.SecurityPolicyUri == policy_cls.URI
                ),
                None,
            )
            if endpoint is None:
                raise LinkDown(
                    f"{Reason.CONFIG_ERROR}: {url} offers no {policy.value} {s.security.value}"
                    f" endpoint (it offers {_offers(offered)})"
                )
            server_der = _first_certificate(endpoint.ServerCertificate or b"")
            assert s.pki_dir is not None
            pki_dir = Path(s.pki_dir)
            server_name = endpoint.Server.ApplicationName.Text or url
            own = await _in_thread(
                _check_pki, pki_dir, server_der, f"{server_name} at {url}", application_uri()
            )
            await client.set_security(
                policy_cls,
                _cert_props(own.cert_der, "der"),
                _cert_props(own.key_pem, "pem"),
                server_certificate=_cert_props(server_der, "der"),
                mode=mode,
            )
        if s.user is not None:
            password = await _in_thread(resolve_password, s.password_env, s.password_keyring)
            client.set_user(s.user)
            client.set_password(password)
        elif s.user_certificate is not None and s.user_private_key is not None:
            cert, key = await _in_thread(
                _load_user_identity, s.user_certificate, s.user_private_key
            )
            client.user_certificate = cert
            client.user_private_key = key


def _offers(offered: list[tuple[ua.MessageSecurityMode, str]]) -> str:
    names = {
        ua.MessageSecurityMode.None_: "none",
        ua.MessageSecurityMode.Sign: "sign",
        ua.MessageSecurityMode.SignAndEncrypt: "sign_and_encrypt",
    }
    return ", ".join(sorted({f"{p} {names.get(m, str(m))}" for m, p in offered})) or "nothing"


def _first_certificate(der: bytes) -> bytes:
    if len(der) < 4:
        return der
    length = int.from_bytes(der[2:4], "big") + 4
    return der[:length]


def _cert_props(content: bytes, extension: str) -> Any:
    from asyncua.crypto.uacrypto import CertProperties

    return CertProperties(content, extension=extension)


def _check_pki(pki_dir: Path, server_der: bytes, server: str, app_uri: str) -> pki.OwnCertificate:
    own = pki.ensure_own_certificate(pki_dir, app_uri)
    pki.check_server_certificate(pki_dir, server_der, server)
    return own


def _load_user_identity(cert_path: str, key_path: str) -> tuple[Any, Any]:
    try:
        cert_data, key_data = Path(cert_path).read_bytes(), Path(key_path).read_bytes()
    except OSError as exc:
        raise pki.SecuritySetupError(f"cannot read the user certificate or key: {exc}") from None
    try:
        if b"-----BEGIN" in cert_data:
            cert = x509.load_pem_x509_certificate(cert_data)
        else:
            cert = x509.load_der_x509_certificate(cert_data)
        if b"-----BEGIN" in key_data:
            key = serialization.load_pem_private_key(key_data, password=None)
        else:
            key = serialization.load_der_private_key(key_data, password=None)
    except (ValueError, TypeError) as exc:
        raise pki.SecuritySetupError(f"the user certificate or key is unreadable: {exc}") from None
    return cert, key


def _enforce_limits(client: Client, max_message_size: int, max_chunk_count: int) -> None:
    """Make asyncua refuse replies above our limits, not only ask the server to keep to them:
    it checks incoming messages against the limits of the server's Acknowledge, which a server
    may set as high as it likes. A reply too large then fails its request with
    BadRequestTooLarge and closes the connection."""
    protocol = client.uaclient.protocol
    limits = getattr(getattr(protocol, "_connection", None), "_limits", None)
    if limits is None:
        return
    for name, ours in (
        ("max_message_size", max_message_size),
        ("max_chunk_count", max_chunk_count),
    ):
        theirs = int(getattr(limits, name, 0) or 0)
        setattr(limits, name, ours if theirs <= 0 else min(theirs, ours))


async def _in_thread(fn: Callable[..., _T], *args: Any) -> _T:
    """Run blocking ``fn`` in a short-lived thread of its own (no pool left behind)."""
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="opcua-blocking")
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
    finally:
        executor.shutdown(wait=False)
