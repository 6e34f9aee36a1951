"""Fixtures for the OPC UA driver tests: a real asyncua server on a free loopback port.

The server offers an unsecured endpoint and Basic256Sha256 / Aes SignAndEncrypt endpoints, knows
two users (``operator`` and ``admin``, passwords below), and holds a plant-like address space:

* ``ns=2;s=Line1.*``: a writable ``Setpoint`` (Double, EURange 0..100: the server answers
  BadOutOfRange outside it), ``Int16Set`` (Int16, writable), ``ReadOnly`` (BadNotWritable),
  ``AdminOnly`` (writable by admin only: BadUserAccessDenied for others), ``Counter`` (UInt32,
  +1 every 100 ms), ``Fixed`` (a value with a fixed source timestamp), ``Status`` (a value whose
  status code tests set), ``Arr`` (Int32[5]), ``Floats`` (Double[3]) and ``Any`` (DataType
  BaseDataType: any value), ``Big`` (a 20,000 character string);
* ``ns=2;s=Types.<VariantType>`` and ``ns=2;i=1001...``: one node per scalar type;
* ``ns=2;g=...`` and ``ns=2;b=...``: GUID and opaque node ids.

Starting the standard address space takes asyncua ~1.5 s; it is built once per test session and
copied for each server (~50 ms), so a test can start, stop and restart servers freely.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pytest
from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.address_space import AttributeValue, NodeData
from asyncua.server.internal_server import InternalServer
from keyring.backend import KeyringBackend

from drivers.base import PointSpec
from drivers.opcua.driver import Backoff, OpcUaDriver
from drivers.opcua.settings import OpcUaSettings
from hmi_app.core.datatypes import DataType
from tests.support.opcua_server import CertPair, free_port, make_cert, shut_down
from tests.support.recording import Recorder, StartedDrivers

NS_URI = "urn:hmi-app:test-plant"
PASSWORDS = {"operator": "op-secret-1", "admin": "admin-secret-2"}
FIXED_TS = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
GUID = uuid.UUID("09087e75-8e5e-499b-954f-f2a9603db28a")
_INTERNAL = User(role=UserRole.Admin)
FAST_BACKOFF = Backoff(first_s=0.05, max_s=0.3, stable_s=1.0)

SCALARS: list[tuple[str, ua.VariantType, Any, DataType]] = [
    ("Boolean", ua.VariantType.Boolean, True, DataType.BOOL),
    ("SByte", ua.VariantType.SByte, -12, DataType.INT8),
    ("Byte", ua.VariantType.Byte, 250, DataType.UINT8),
    ("Int16", ua.VariantType.Int16, -30000, DataType.INT16),
    ("UInt16", ua.VariantType.UInt16, 65000, DataType.UINT16),
    ("Int32", ua.VariantType.Int32, -2_000_000_000, DataType.INT32),
    ("UInt32", ua.VariantType.UInt32, 4_000_000_000, DataType.UINT32),
    ("Int64", ua.VariantType.Int64, -(2**62), DataType.INT64),
    ("UInt64", ua.VariantType.UInt64, 2**63 + 5, DataType.UINT64),
    ("Float", ua.VariantType.Float, 1.5, DataType.FLOAT32),
    ("Double", ua.VariantType.Double, 3.141592653589793, DataType.FLOAT64),
    ("String", ua.VariantType.String, "LINE 1 BOTTLING", DataType.STRING),
    (
        "DateTime",
        ua.VariantType.DateTime,
        dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
        DataType.DATETIME,
    ),
]


# ---- fast server start ------------------------------------------------------------------------
_TEMPLATE: dict[ua.NodeId, NodeData] | None = None


def _clone(nodes: dict[ua.NodeId, NodeData]) -> dict[ua.NodeId, NodeData]:
    out: dict[ua.NodeId, NodeData] = {}
    for nid, node in nodes.items():
        copy = NodeData.__new__(NodeData)
        copy.nodeid, copy.call, copy.references = nid, node.call, list(node.references)
        attrs = {}
        for key, value in node.attributes.items():
            attr = AttributeValue.__new__(AttributeValue)
            attr.value, attr.value_callback = value.value, value.value_callback
            attr.value_setter, attr.datachange_callbacks = value.value_setter, {}
            attrs[key] = attr
        copy.attributes = attrs
        out[nid] = copy
    return out


class _FastInternalServer(InternalServer):
    """Copies a standard address space built once, instead of building it per server."""

    async def load_standard_address_space(self, shelf_file: Path | None = None) -> None:
        global _TEMPLATE
        if _TEMPLATE is None:
            from asyncua.server.standard_address_space import standard_address_space

            standard_address_space.fill_address_space(self.node_mgt_service)
            _TEMPLATE = _clone(self.aspace._nodes)
        self.aspace._nodes = _clone(_TEMPLATE)


class _Users:
    """Users with passwords; anonymous sessions are plain users."""

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None:
            if PASSWORDS.get(username) != password:
                return None
            role = UserRole.Admin if username == "admin" else UserRole.User
            return User(role=role, name=username)
        # asyncua passes the secure channel's client certificate for anonymous logins too
        return User(role=UserRole.User, name="certificate" if certificate else "anonymous")


# ---- certificates ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertPair]:
    folder = tmp_path_factory.mktemp("certs")
    return {
        "server": make_cert(folder, "test-plant-server", "urn:hmi-app:test-server", server=True),
        "user": make_cert(folder, "engineer", "urn:hmi-app:engineer", server=False),
    }


# ---- the server --------------------------------------------------------------------------------
@dataclass
class PlantServer:
    """An asyncua server with the test address space; ``restart`` keeps the port."""

    cert: CertPair
    port: int = field(default_factory=free_port)
    secure: bool = True
    allow_none: bool = True
    refuse_subscriptions: bool = False
    server: Server | None = None
    ns: int = 2
    counter_task: asyncio.Task[None] | None = None
    nodes: dict[str, Any] = field(default_factory=dict)
    writes: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/plant"

    async def start(self) -> None:
        server = Server(iserver=_FastInternalServer(user_manager=_Users()))
        server.disable_clock()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name("Test Plant Server")
        await server.set_application_uri("urn:hmi-app:test-server")
        policies = [ua.SecurityPolicyType.NoSecurity] if self.allow_none else []
        if self.secure:
            await server.load_certificate(self.cert.cert_der, format="der")
            await server.load_private_key(self.cert.key_pem, format="pem")
            policies += [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Aes128Sha256RsaOaep_SignAndEncrypt,
                ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
            ]
        server.set_security_policy(policies)
        self.ns = await server.register_namespace(NS_URI)
        await self._build(server)
        self._guard_writes(server)
        if self.refuse_subscriptions:
            self._refuse_subscriptions(server)
        await server.start()
        self.server = server
        self.counter_task = asyncio.create_task(self._count(), name="test-opcua-counter")

    async def stop(self) -> None:
        task, self.counter_task = self.counter_task, None
        server, self.server = self.server, None
        await shut_down(server, task)

    async def restart(self, down_s: float = 0.0) -> None:
        await self.stop()
        await asyncio.sleep(down_s)
        await self.start()

    async def _build(self, server: Server) -> None:
        ns = self.ns
        objects = server.nodes.objects
        line = await objects.add_object(ua.NodeId("Line1", ns), ua.QualifiedName("Line1", ns))
        add = self._add_variable
        speed = await add(line, "Line1.Speed", "Speed", 12.5, ua.VariantType.Double)
        await speed.write_attribute(
            ua.AttributeIds.Description, ua.DataValue(ua.Variant(ua.LocalizedText("Line speed")))
        )
        setpoint = await add(
            line, "Line1.Setpoint", "Setpoint", 40.0, ua.VariantType.Double, writable=True
        )
        await setpoint.add_property(ns, "EURange", ua.Range(0.0, 100.0))
        await add(line, "Line1.Int16Set", "Int16Set", 7, ua.VariantType.Int16, writable=True)
        await add(line, "Line1.ReadOnly", "ReadOnly", 99, ua.VariantType.Int32)
        admin_only = await add(line, "Line1.AdminOnly", "AdminOnly", 1, ua.VariantType.Int32)
        await admin_only.write_attribute(
            ua.AttributeIds.AccessLevel, ua.DataValue(ua.Variant(3, ua.VariantType.Byte))
        )
        await admin_only.write_attribute(
            ua.AttributeIds.UserAccessLevel, ua.DataValue(ua.Variant(1, ua.VariantType.Byte))
        )
        await add(line, "Line1.Counter", "Counter", 0, ua.VariantType.UInt32)
        fixed = await add(line, "Line1.Fixed", "Fixed", 5.0, ua.VariantType.Double)
        await fixed.write_value(
            ua.DataValue(ua.Variant(5.0, ua.VariantType.Double), SourceTimestamp=FIXED_TS)
        )
        await add(line, "Line1.Status", "Status", 1.0, ua.VariantType.Double, writable=True)
        await add(
            line, "Line1.Arr", "Arr", [10, 11, 12, 13, 14], ua.VariantType.Int32, writable=True
        )
        await add(line, "Line1.Floats", "Floats", [0.5, 1.5, 2.5], ua.VariantType.Double)
        await add(line, "Line1.Lit[2]", "Literal", 42, ua.VariantType.Int32)
        await add(line, "Line1.Big", "Big", "x" * 20_000, ua.VariantType.String)
        anything = await line.add_variable(
            ua.NodeId("Line1.Any", ns),
            ua.QualifiedName("Any", ns),
            ua.Variant(2.25, ua.VariantType.Double),
            datatype=ua.NodeId(ua.ObjectIds.BaseDataType),
        )
        await anything.set_writable()
        types = await objects.add_folder(ua.NodeId("Types", ns), ua.QualifiedName("Types", ns))
        for number, (name, vtype, value, _dtype) in enumerate(SCALARS):
            await add(types, f"Types.{name}", name, value, vtype, writable=True)
            var = await types.add_variable(
                ua.NodeId(1001 + number, ns),
                ua.QualifiedName(f"N{name}", ns),
                ua.Variant(value, vtype),
            )
            await var.set_writable()
        await types.add_variable(
            ua.NodeId(GUID, ns), ua.QualifiedName("ByGuid", ns), ua.Variant(7, ua.VariantType.Int32)
        )
        await types.add_variable(
            ua.NodeId(b"\x01\x02\x03", ns),
            ua.QualifiedName("Opaque", ns),
            ua.Variant(8, ua.VariantType.Int32),
        )
        self.nodes = {"server": server}

    async def _add_variable(
        self,
        parent: Any,
        ident: str,
        name: str,
        value: Any,
        vtype: ua.VariantType,
        writable: bool = False,
    ) -> Any:
        node = await parent.add_variable(
            ua.NodeId(ident, self.ns), ua.QualifiedName(name, self.ns), ua.Variant(value, vtype)
        )
        if writable:
            await node.set_writable()
        return node

    def _guard_writes(self, server: Server) -> None:
        """Refuse what a real server refuses: out of EURange, and nodes that are not writable."""
        service = server.iserver.attribute_service
        original = service.write
        aspace = server.iserver.aspace
        setpoint = ua.NodeId("Line1.Setpoint", self.ns)

        async def write(params: ua.WriteParameters, user: User = _INTERNAL) -> list[ua.StatusCode]:
            if user.name is None:  # the server's own session (counter, test set-up)
                return await original(params, user)
            results: list[ua.StatusCode | None] = []
            passed = []
            for item in params.NodesToWrite:
                level = aspace.read_attribute_value(item.NodeId, ua.AttributeIds.AccessLevel)
                value = item.Value.Value.Value if item.Value and item.Value.Value else None
                if (
                    level.Value is not None
                    and not level.Value.Value & ua.AccessLevel.CurrentWrite.mask
                ):
                    results.append(ua.StatusCode(ua.StatusCodes.BadNotWritable))
                elif item.NodeId == setpoint and not 0.0 <= float(value) <= 100.0:
                    results.append(ua.StatusCode(ua.StatusCodes.BadOutOfRange))
                else:
                    results.append(None)
                    passed.append(_whole(aspace, item))
                    self.writes.append((str(item.NodeId.Identifier), value))
            done = iter(
                await original(ua.WriteParameters(NodesToWrite=passed), user) if passed else []
            )
            return [r if r is not None else next(done) for r in results]

        service.write = write

    @staticmethod
    def _refuse_subscriptions(server: Server) -> None:
        """Answer CreateSubscription with BadTooManySubscriptions, as a small server may."""
        from asyncua.common.utils import ServiceError

        async def refuse(*_args: Any, **_kwargs: Any) -> ua.CreateSubscriptionResult:
            raise ServiceError(ua.StatusCodes.BadTooManySubscriptions)

        server.iserver.subscription_service.create_subscription = refuse

    async def _count(self) -> None:
        assert self.server is not None
        node = self.server.get_node(ua.NodeId("Line1.Counter", self.ns))
        value = 0
        while True:
            await asyncio.sleep(0.1)
            value += 1
            await node.write_value(ua.Variant(value, ua.VariantType.UInt32))

    async def set(
        self,
        ident: str,
        value: Any,
        vtype: ua.VariantType,
        status: int = 0,
        ts: dt.datetime | None = None,
    ) -> None:
        assert self.server is not None
        node = self.server.get_node(ua.NodeId(ident, self.ns))
        variant = ua.Variant(value, vtype) if status == 0 or value is not None else ua.Variant()
        await node.write_value(
            ua.DataValue(
                variant,
                StatusCode=ua.StatusCode(status),
                SourceTimestamp=ts or dt.datetime.now(dt.UTC),
                ServerTimestamp=dt.datetime.now(dt.UTC),
            )
        )


def _whole(aspace: Any, item: ua.WriteValue) -> ua.WriteValue:
    """An IndexRange write as a write of the whole array (asyncua ignores IndexRange)."""
    if not item.IndexRange:
        return item
    current = aspace.read_attribute_value(item.NodeId, ua.AttributeIds.Value).Value
    first, _sep, last = item.IndexRange.partition(":")
    start, end = int(first), int(last or first)
    values = list(current.Value)
    values[start : end + 1] = item.Value.Value.Value
    return ua.WriteValue(
        NodeId=item.NodeId,
        AttributeId=item.AttributeId,
        Value=ua.DataValue(ua.Variant(values, current.VariantType)),
    )


@pytest.fixture
async def plant(certs: dict[str, CertPair]) -> AsyncIterator[PlantServer]:
    server = PlantServer(certs["server"])
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# ---- driver and recorder -----------------------------------------------------------------------
@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def point(
    key: str,
    address: str,
    data_type: DataType = DataType.FLOAT64,
    scan_ms: int = 100,
    array_length: int = 0,
) -> PointSpec:
    return PointSpec(key, address, data_type, scan_ms=scan_ms, array_length=array_length)


MakeDriver = Callable[..., Awaitable[OpcUaDriver]]


@pytest.fixture
async def make_driver(plant: PlantServer, recorder: Recorder) -> AsyncIterator[MakeDriver]:
    """Starts drivers (fast backoff) against ``plant``; stops them after the test."""
    drivers = StartedDrivers(recorder)

    async def make(
        points: Sequence[PointSpec] = (), *, rec: Recorder | None = None, **settings: Any
    ) -> OpcUaDriver:
        settings.setdefault("url", plant.url)
        settings.setdefault("security", "none")
        settings.setdefault("timeout_ms", 2000)
        settings.setdefault("watchdog_ms", 500)
        driver = OpcUaDriver("plc", OpcUaSettings(**settings), backoff=FAST_BACKOFF)
        return await drivers.start(driver, points, rec=rec)

    yield make
    await drivers.stop_all()


class _MemoryKeyring(KeyringBackend):
    """A keyring backend holding entries in a dict (the OS keyring is not for tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, entries: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.entries = entries

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[dict[tuple[str, str], str]]:
    entries: dict[tuple[str, str], str] = {}
    previous = keyring.get_keyring()
    keyring.set_keyring(_MemoryKeyring(entries))
    try:
        yield entries
    finally:
        keyring.set_keyring(previous)
