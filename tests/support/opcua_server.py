"""A small OPC UA server (asyncua) on a free loopback port that only speaks Basic256Sha256
SignAndEncrypt and only lets known users in with their password; ``stop`` and ``start`` again
keep its port and certificate, as a server that is restarted does.

Address space (namespace ``urn:hmi-app:support-plant``, string node ids):
``Line2.Speed`` (Double), ``Line2.Counter`` (UInt32, +1 every 100 ms while the server runs) and
``Line2.Running`` (Boolean).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

NS_URI = "urn:hmi-app:support-plant"


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class CertPair:
    """A self-signed application certificate (DER) and its key (PEM), also as files."""

    cert_der: bytes
    key_pem: bytes
    cert_path: Path
    key_path: Path


def make_cert(folder: Path, name: str, uri: str, server: bool = True) -> CertPair:
    """A new key pair and certificate for application ``uri``, saved as ``name``.der/.pem."""
    key = cert_gen.generate_private_key()
    usage = [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {},
        [
            x509.UniformResourceIdentifier(uri),
            x509.DNSName("localhost"),
            x509.DNSName(socket.gethostname()),
        ],
        extended=usage,
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.der", folder / f"{name}.pem"
    cert_path.write_bytes(der)
    key_path.write_bytes(pem)
    return CertPair(der, pem, cert_path, key_path)


class _PasswordUsers:
    """Users with passwords; anonymous logins are refused."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self.passwords = passwords

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None or self.passwords.get(username) != password:
            return None
        return User(role=UserRole.User, name=username)


class SecureUaServer:
    """The server; ``url`` stays the same over restarts."""

    def __init__(self, cert: CertPair, passwords: dict[str, str]) -> None:
        self.cert = cert
        self.passwords = passwords
        self.port = free_port()
        self.server: Server | None = None
        self.ns = 2
        self._counter: asyncio.Task[None] | None = None
        self.values: dict[str, tuple[Any, ua.VariantType]] = {
            "Line2.Speed": (12.5, ua.VariantType.Double),
            "Line2.Counter": (0, ua.VariantType.UInt32),
            "Line2.Running": (True, ua.VariantType.Boolean),
        }

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/plant"

    @property
    def running(self) -> bool:
        return self.server is not None

    async def start(self) -> None:
        server = Server(user_manager=_PasswordUsers(self.passwords))
        server.disable_clock()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("Support Plant Server")
        await server.set_application_uri("urn:hmi-app:test-server")
        await server.load_certificate(self.cert.cert_der, format="der")
        await server.load_private_key(self.cert.key_pem, format="pem")
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        self.ns = await server.register_namespace(NS_URI)
        line = await server.nodes.objects.add_object(
            ua.NodeId("Line2", self.ns), ua.QualifiedName("Line2", self.ns)
        )
        for ident, (value, vtype) in self.values.items():
            await line.add_variable(
                ua.NodeId(ident, self.ns),
                ua.QualifiedName(ident.split(".")[-1], self.ns),
                ua.Variant(value, vtype),
            )
        await server.start()
        self.server = server
        self._counter = asyncio.create_task(self._count(), name="support-opcua-counter")

    async def stop(self) -> None:
        """Stop serving: connected clients see their connection closed."""
        task, self._counter = self._counter, None
        server, self.server = self.server, None
        await shut_down(server, task)

    async def _count(self) -> None:
        assert self.server is not None
        node = self.server.get_node(ua.NodeId("Line2.Counter", self.ns))
        value = int(self.values["Line2.Counter"][0])
        while True:
            await asyncio.sleep(0.1)
            value += 1
            self.values["Line2.Counter"] = (value, ua.VariantType.UInt32)  # kept over restarts
            await node.write_value(ua.Variant(value, ua.VariantType.UInt32))


async def shut_down(server: Server | None, counter: asyncio.Task[None] | None) -> None:
    """End a test server's value-changing task ``counter``, then the server and what it leaves
    running (either may be None: not started)."""
    if counter is not None:
        counter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counter
    if server is not None:
        await server.stop()
        await cancel_server_tasks()


async def cancel_server_tasks() -> None:
    """asyncua's ``Server.stop`` leaves the session loops of connected clients running; end them
    as a server process would by exiting."""
    leftovers = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and "asyncua/server" in code.co_filename.replace("\\", "/"):
            task.cancel()
            leftovers.append(task)
    if leftovers:
        await asyncio.wait(leftovers, timeout=2)
