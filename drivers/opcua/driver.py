"""OPC UA client driver on asyncua.

How it works:

* **Link.** One supervisor task (``opcua:<name>:link``) connects a fresh ``asyncua.Client`` per
  connection attempt, reports ``on_link`` on every change, and on loss publishes every point BAD
  (``comm failure: ...``) at once, disposes the client (its tasks included) and reconnects with
  exponential backoff and jitter (0.5 s doubling to 30 s, ±20 %). asyncua's own watchdog probes
  the server every ``watchdog_ms``; a closed socket is noticed at once. asyncua's auto-reconnect
  is off: recovery is ours, so its behaviour is the same for every server.
* **Resolution.** On each connection, browse paths are translated to node ids, ``nsu=`` URIs to
  namespace indexes, and each node's DataType and ValueRank are read once (in batches of
  ``max_nodes_per_request``): the tag's type is checked against the node's and writes use the
  node's own built-in type. ``ns=2;s=Arr[3]`` reads element 3 of ``Arr`` (IndexRange); should
  ``Arr`` not exist but ``Arr[3]`` does, the whole text is taken as the node id.
* **Scan classes.** One subscription per scan period, publishing interval = sampling interval =
  the period, one monitored item per point (optional absolute/percent deadband). A server that
  refuses subscriptions, or ``mode: poll``, makes that scan class read its nodes every period
  instead (overruns skip polls). Each publish response is handled in the next loop turn (so
  asyncua asks for the next one at once) and delivered as one ``GoodBlock`` per distinct source
  timestamp (a ``Sample`` list for small groups and non-good values). A subscription silent for
  longer than its keep-alive promise (deleted or expired on the server) is made again.
* **Limits.** ``max_message_size`` and ``max_chunk_count`` are sent in Hello and enforced on
  replies: a larger reply drops the link with ``BadRequestTooLarge`` named in the reason.
* **Timestamps and duplicates.** ``source_ts`` is the SourceTimestamp, else the ServerTimestamp,
  else the receive time. A value whose quality, value and source timestamp equal those last
  published for the point is not published again (a re-created subscription's initial values,
  unchanged polls); after an outage the first value is published once, restoring GOOD quality
  with the server's original timestamp.
* **Security.** See ``security.py`` for the PKI folder; the server certificate offered by the
  chosen endpoint must be in ``pki_dir/trusted``, otherwise it is saved to ``rejected/`` and the
  link reports why (``config error: server certificate of ... is not trusted ...``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from drivers.backoff import Backoff
from drivers.base import (
    AddressError,
    BrowseNode,
    DriverWriteError,
    GoodBlock,
    LinkState,
    LinkStateFn,
    PointSpec,
    PublishFn,
    Sample,
)
from drivers.opcua import address as addr
from drivers.opcua import codec
from drivers.opcua import security as pki
from drivers.opcua.disposal import dispose
from drivers.opcua.settings import OpcUaSettings, Policy, Security
from hmi_app.core.datatypes import DataType
from hmi_app.core.quality import Quality, Reason
from hmi_app.core.secrets import SecretError, resolve_password

__all__ = ["Backoff", "LinkDown", "OpcUaDriver", "application_uri"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
GOOD_BLOCK_MIN = 8  # a timestamp bucket this big is published as one GoodBlock
_FILTER_ERRORS = frozenset(
    {
        "BadFilterNotAllowed",
        "BadMonitoredItemFilterInvalid",
        "BadMonitoredItemFilterUnsupported",
        "BadDeadbandFilterInvalid",
    }
)
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


class LinkDown(Exception):
    """The connection failed or was lost; the message is the reason given to the points."""


@dataclass(slots=True, eq=False)
class _Point:
    """A subscribed point and what is known about its node on the current connection."""

    spec: PointSpec
    address: addr.OpcAddress | None
    error: str = ""  # config error (address, or the node on this connection)
    gen: int = 0  # connection the fields below belong to
    node_id: ua.NodeId | None = None
    index_range: str | None = None
    variant: ua.VariantType | None = None
    type_name: str = ""
    node_is_array: bool = False
    handle: int = 0
    item_id: int | None = None


@dataclass(slots=True, eq=False)
class _Group:
    """Points sampled at one period: their subscription, or their poll task."""

    scan_ms: int
    keys: set[str] = field(default_factory=set)
    sub_id: int | None = None
    gen: int = 0
    polling: bool = False
    poll_task: asyncio.Task[None] | None = None
    doomed_items: list[int] = field(default_factory=list)
    last_publish: float = 0.0  # loop time of the last publish response (data or keep-alive)
    stale_after: float = 0.0  # seconds without a response after which it is made again
    dropped_sub: int | None = None  # a subscription given up on, to delete on the server


@dataclass(slots=True, eq=False)
class _Connection:
    """One live asyncua client and its generation number."""

    client: Client
    gen: int
    handles: dict[int, _Point] = field(default_factory=dict)
    write_targets: dict[PointSpec, _Point] = field(default_factory=dict)
    variant_cache: dict[ua.NodeId, ua.VariantType] = field(default_factory=dict)

    @property
    def session(self) -> Any:
        return self.client.uaclient.session


class OpcUaDriver:
    """A ``drivers.base.Driver`` for one OPC UA server endpoint."""

    Settings = OpcUaSettings

    def __init__(
        self, name: str, settings: OpcUaSettings, *, backoff: Backoff | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self._backoff = backoff or Backoff()
        self._timeout_s = settings.timeout_ms / 1000
        self._points: dict[str, _Point] = {}
        self._groups: dict[int, _Group] = {}
        self._last: dict[str, tuple[Quality, Any, float, str]] = {}
        self._told_down: set[str] = set()
        self._publish: PublishFn | None = None
        self._on_link: LinkStateFn | None = None
        self._state = LinkState.STOPPED
        self._conn: _Connection | None = None
        self._gen = 0
        self._next_handle = 1
        self._down_reason = ""
        self._lost_gen = -1
        self._lost_reason = ""
        self._wake = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._running = False
        self.notifications = 0  # data change notifications received (benchmarks)

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_settings(cls, name: str, settings: Mapping[str, Any]) -> OpcUaDriver:
        """A driver for connection ``name``; pydantic.ValidationError for bad settings."""
        return cls(name, OpcUaSettings.model_validate(dict(settings)))

    @property
    def link_state(self) -> LinkState:
        return self._state

    @property
    def url(self) -> str:
        return self.settings.url

    def validate(self, point: PointSpec) -> None:
        """Raise AddressError if ``point`` cannot be read (no connection needed)."""
        addr.validate(point)

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self, publish: PublishFn, on_link: LinkStateFn) -> None:
        """Start connecting and subscribing in the background; returns at once."""
        if self._running:
            raise RuntimeError(f"driver {self.name!r} is already running")
        self._publish, self._on_link = publish, on_link
        self._running = True
        self._wake = asyncio.Event()
        self._tell_invalid(list(self._points.values()))
        self._supervisor = asyncio.create_task(self._supervise(), name=f"opcua:{self.name}:link")

    async def stop(self) -> None:
        """Cancel every task, close the session and report STOPPED."""
        if not self._running:
            return
        self._running = False
        tasks = [t for t in [self._supervisor, *self._poll_tasks()] if t is not None]
        self._supervisor = None
        for task in tasks:
            task.cancel()
        pending = {t for t in tasks if not t.done()}
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=3.0)
            for task in pending:
                task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            await dispose(conn.client, graceful=False)
        for group in self._groups.values():
            group.poll_task, group.sub_id = None, None
        self._set_state(LinkState.STOPPED, "stopped")

    def _poll_tasks(self) -> list[asyncio.Task[None]]:
        return [g.poll_task for g in self._groups.values() if g.poll_task is not None]

    # ---- points ---------------------------------------------------------------------------
    def subscribe(self, points: Iterable[PointSpec]) -> None:
        """Add points (idempotent per key; a changed spec replaces the old one).

        A point with an unusable address is published BAD with ``config error: ...``.
        """
        added: list[_Point] = []
        for spec in points:
            old = self._points.get(spec.key)
            if old is not None:
                if old.spec == spec:
                    continue
                self._drop(spec.key)
            try:
                parsed: addr.OpcAddress | None = addr.validate(spec)
                error = ""
            except AddressError as exc:
                parsed, error = None, f"{Reason.CONFIG_ERROR}: {exc}"
            point = self._points[spec.key] = _Point(spec, parsed, error)
            group = self._groups.get(spec.scan_ms)
            if group is None:
                group = self._groups[spec.scan_ms] = _Group(max(1, spec.scan_ms))
            group.keys.add(spec.key)
            added.append(point)
        if not added or not self._running:
            return
        self._tell_invalid(added)
        if self._conn is None and self._down_reason:
            self._publish_down(self._down_reason)
        self._wake.set()

    def unsubscribe(self, keys: Iterable[str]) -> None:
        """Stop reading these points (their monitored items are deleted on the next sync)."""
        for key in keys:
            self._drop(key)
        self._wake.set()

    def _drop(self, key: str) -> None:
        point = self._points.pop(key, None)
        self._last.pop(key, None)
        self._told_down.discard(key)
        if point is None:
            return
        group = self._groups.get(max(1, point.spec.scan_ms))
        if group is None:
            return
        group.keys.discard(key)
        conn = self._conn
        if conn is not None:
            conn.handles.pop(point.handle, None)
            if point.item_id is not None and point.gen == conn.gen and group.gen == conn.gen:
                group.doomed_items.append(point.item_id)

    def _tell_invalid(self, points: Sequence[_Point]) -> None:
        now = time.time()
        self._deliver([(p.spec.key, Quality.BAD, None, now, p.error) for p in points if p.error])

    # ---- link supervision -----------------------------------------------------------------
    def _set_state(self, state: LinkState, detail: str) -> None:
        if state is self._state and state is not LinkState.DISCONNECTED:
            return
        self._state = state
        if self._on_link is not None:
            try:
                self._on_link(state, detail)
            except Exception:
                log.exception("%s: link listener failed", self.name)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            self._set_state(LinkState.CONNECTING, f"connecting to {self.url}")
            gen = self._gen + 1
            try:
                client = await self._connect(gen)
            except LinkDown as exc:
                reason = str(exc)
            else:
                conn = self._conn = _Connection(client, gen)
                self._gen = gen
                self._down_reason = ""
                self._told_down.clear()
                up_since = loop.time()
                self._set_state(LinkState.CONNECTED, self.url)
                try:
                    reason = await self._run_connected(conn)
                finally:
                    self._conn = None
                    self._stop_polls()
                    for group in self._groups.values():
                        group.sub_id, group.doomed_items = None, []
                    await dispose(client, graceful=self._lost_gen != gen)
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            if reason != self._down_reason:  # tell the points the new cause, once
                self._told_down.clear()
            self._down_reason = reason
            self._publish_down(reason)
            self._set_state(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    def _link_lost(self, gen: int, reason: str) -> None:
        if gen == self._gen and self._lost_gen != gen:
            self._lost_gen, self._lost_reason = gen, reason
            self._wake.set()

    def _is_lost(self, gen: int) -> bool:
        return self._lost_gen == gen

    async def _run_connected(self, conn: _Connection) -> str:
        """Keep subscriptions in step with the points until the link is lost; the reason."""
        while True:
            self._wake.clear()
            try:
                await self._sync(conn)
            except LinkDown as exc:
                self._link_lost(conn.gen, str(exc))
            except UaStatusCodeError as exc:  # a service fault (the server forgot our session...)
                name = codec.status_name(exc.code)
                self._link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {name}")
            except Exception as exc:  # never let the supervisor die: reconnect and say why
                log.exception("%s: keeping the subscriptions in step failed", self.name)
                self._link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {_describe(exc)}")
            if self._is_lost(conn.gen):
                return self._lost_reason
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.5)
            self._check_subscriptions(conn)

    def _check_subscriptions(self, conn: _Connection) -> None:
        """A subscription that sent nothing, not even a keep-alive, for longer than it promised
        is gone on the server (deleted, expired) or stuck: make it again."""
        now = asyncio.get_running_loop().time()
        for group in self._groups.values():
            if group.sub_id is None or group.gen != conn.gen or group.polling:
                continue
            if now - group.last_publish > group.stale_after:
                log.warning(
                    "%s: the %d ms subscription sent nothing for %.1f s; making it again",
                    self.name,
                    group.scan_ms,
                    now - group.last_publish,
                )
                self._drop_subscription(group)
                self._wake.set()

    def _drop_subscription(self, group: _Group) -> None:
        group.dropped_sub, group.sub_id, group.doomed_items = group.sub_id, None, []
        for key in group.keys:
            point = self._points.get(key)
            if point is not None:
                point.item_id = None

    def _stop_polls(self) -> None:
        for group in self._groups.values():
            if group.poll_task is not None:
                group.poll_task.cancel()
                group.poll_task = None

    # ---- connecting -----------------------------------------------------------------------
    async def _connect(self, gen: int) -> Client:
        s = self.settings
        client = Client(s.url, timeout=self._timeout_s, watchdog_intervall=s.watchdog_ms / 1000)
        client.application_uri = application_uri()
        client.name = client.description = f"hmi-app {self.name}"
        client.product_uri = "urn:hmi-app"
        client.session_timeout = s.session_timeout_ms
        client.max_messagesize = s.max_message_size
        client.max_chunkcount = s.max_chunk_count
        try:
            await asyncio.wait_for(self._prepare(client), s.connect_timeout_ms / 1000)

            async def lost(exc: Exception) -> None:
                self._link_lost(gen, f"{Reason.COMM_FAILURE}: connection lost ({_describe(exc)})")

            client.connection_lost_callback = lost
            await asyncio.wait_for(client.connect(), s.connect_timeout_ms / 1000)
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
                f"{Reason.COMM_FAILURE}: no answer from {self.url} within"
                f" {s.connect_timeout_ms / 1000:g} s"
            ) from None
        except UaStatusCodeError as exc:
            await dispose(client, graceful=False)
            raise LinkDown(self._refusal(exc)) from None
        except (OSError, ConnectionError, UaError, ValueError) as exc:
            await dispose(client, graceful=False)
            raise LinkDown(f"{Reason.COMM_FAILURE}: {self.url}: {_describe(exc)}") from None
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
                self._link_lost(gen, f"{Reason.COMM_FAILURE}: {why}")
            original(exc)

        setattr(protocol, "_fail_all_pending", fail_all_pending)  # noqa: B010 (typed as a method)

    def _refusal(self, exc: UaStatusCodeError) -> str:
        name = codec.status_name(exc.code)
        if name in (
            "BadUserAccessDenied",
            "BadIdentityTokenRejected",
            "BadIdentityTokenInvalid",
            "BadUserSignatureInvalid",
        ):
            who = self.settings.user or (
                "certificate user" if self.settings.user_certificate else "anonymous"
            )
            return f"{Reason.CONFIG_ERROR}: the server refused the login of {who}: {name}"
        if name.startswith("BadSecurity") or name.startswith("BadCertificate"):
            return f"{Reason.CONFIG_ERROR}: the server refused our security settings: {name}"
        return f"{Reason.COMM_FAILURE}: {self.url}: {name}"

    async def _prepare(self, client: Client) -> None:
        """Security, certificates and credentials, before ``connect``."""
        s = self.settings
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
                    f"{Reason.CONFIG_ERROR}: {self.url} offers no unsecured endpoint (it offers"
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
                    f"{Reason.CONFIG_ERROR}: {self.url} offers no {policy.value} {s.security.value}"
                    f" endpoint (it offers {_offers(offered)})"
                )
            server_der = _first_certificate(endpoint.ServerCertificate or b"")
            assert s.pki_dir is not None
            pki_dir = Path(s.pki_dir)
            server_name = endpoint.Server.ApplicationName.Text or self.url
            own = await _in_thread(
                _check_pki, pki_dir, server_der, f"{server_name} at {self.url}", application_uri()
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

    # ---- keeping the server in step -------------------------------------------------------
    async def _timed(self, awaitable: Awaitable[_T], what: str) -> _T:
        try:
            return await asyncio.wait_for(awaitable, self._timeout_s)
        except TimeoutError:
            raise LinkDown(
                f"{Reason.COMM_FAILURE}: no answer to {what} within {self._timeout_s:g} s"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise LinkDown(f"{Reason.COMM_FAILURE}: {what}: {_describe(exc)}") from None

    async def _sync(self, conn: _Connection) -> None:
        gen = conn.gen
        stale = [p for p in self._points.values() if p.gen != gen and p.address is not None]
        if stale:
            await self._resolve(conn, stale)
            bad = [p for p in stale if p.error]
            if bad:
                self._tell_invalid(bad)
        for scan_ms, group in list(self._groups.items()):
            if self._is_lost(gen):
                return
            if not group.keys:
                await self._retire(conn, group)
                if not group.keys:  # no point joined while the server answered
                    self._groups.pop(scan_ms, None)
                continue
            if self.settings.mode == "poll" or group.polling:
                self._ensure_poll(conn, group)
                continue
            await self._sync_subscription(conn, group)

    async def _retire(self, conn: _Connection, group: _Group) -> None:
        if group.poll_task is not None:
            group.poll_task.cancel()
            group.poll_task = None
        if group.sub_id is not None and group.gen == conn.gen:
            sub_id, group.sub_id = group.sub_id, None
            with contextlib.suppress(UaStatusCodeError):
                await self._timed(
                    conn.session.delete_subscriptions([sub_id]), "DeleteSubscriptions"
                )

    async def _resolve(self, conn: _Connection, points: list[_Point]) -> None:
        """Node id, built-in type and array-ness of each point's node, for this connection."""
        gen = conn.gen
        for point in points:
            point.gen, point.error, point.node_id, point.item_id = gen, "", None, None
            assert point.address is not None
            point.index_range = point.address.index_range
        uris = [p for p in points if p.address is not None and p.address.namespace_uri]
        if uris:
            namespaces = await self._timed(conn.client.get_namespace_array(), "read NamespaceArray")
            for point in uris:
                self._apply_uri(point, namespaces)
        for point in points:
            assert point.address is not None
            if point.address.node_id is not None and point.address.namespace_uri is None:
                point.node_id = point.address.node_id
        paths = [p for p in points if p.address is not None and p.address.is_path]
        for chunk in _chunks(paths, self.settings.max_nodes_per_request):
            await self._translate(conn, chunk)
        todo = [p for p in points if p.node_id is not None and not p.error]
        for chunk in _chunks(todo, self.settings.max_nodes_per_request):
            await self._read_node_types(conn, chunk)

    def _apply_uri(self, point: _Point, namespaces: Sequence[str]) -> None:
        assert point.address is not None and point.address.node_id is not None
        uri = point.address.namespace_uri
        if uri not in namespaces:
            point.error = f"{Reason.CONFIG_ERROR}: the server has no namespace {uri!r}"
            return
        base = point.address.node_id
        index: Any = namespaces.index(uri or "")
        point.node_id = ua.NodeId(base.Identifier, index, base.NodeIdType)

    async def _translate(self, conn: _Connection, points: list[_Point]) -> None:
        paths = []
        for point in points:
            assert point.address is not None
            elements = [
                ua.RelativePathElement(
                    ReferenceTypeId=_std(ObjectIds.HierarchicalReferences),
                    IsInverse=_FALSE,
                    IncludeSubtypes=_TRUE,
                    TargetName=ua.QualifiedName(name, ns),
                )
                for ns, name in point.address.path
            ]
            paths.append(
                ua.BrowsePath(
                    StartingNode=_std(ObjectIds.RootFolder),
                    RelativePath=ua.RelativePath(Elements=elements),
                )
            )
        results = await self._timed(
            conn.session.translate_browsepaths_to_nodeids(paths), "TranslateBrowsePaths"
        )
        for point, result in zip(points, results, strict=False):
            if result.StatusCode.is_good() and result.Targets:
                target = result.Targets[0].TargetId
                point.node_id = ua.NodeId(
                    target.Identifier, target.NamespaceIndex, target.NodeIdType
                )
            else:
                assert point.address is not None
                point.error = (
                    f"{Reason.CONFIG_ERROR}: browse path {point.address.node_text} not found"
                    f" ({codec.status_name(result.StatusCode)})"
                )

    async def _read_node_types(self, conn: _Connection, points: list[_Point]) -> None:
        nodes = []
        for point in points:
            assert point.node_id is not None
            nodes += [
                ua.ReadValueId(NodeId=point.node_id, AttributeId=AttributeIds.DataType),
                ua.ReadValueId(NodeId=point.node_id, AttributeId=AttributeIds.ValueRank),
            ]
        values = await self._timed(conn.session.read(ua.ReadParameters(NodesToRead=nodes)), "Read")
        retry: list[_Point] = []
        for i, point in enumerate(points):
            dtype, rank = values[2 * i], values[2 * i + 1]
            status = dtype.StatusCode
            if status is not None and not status.is_good():
                literal = point.address.literal if point.address is not None else None
                if literal is not None and point.node_id != literal.node_id:
                    point.node_id, point.index_range = literal.node_id, None
                    retry.append(point)
                    continue
                point.error = (
                    f"{Reason.CONFIG_ERROR}: node {_node_text(point)} is not usable:"
                    f" {codec.status_name(status)}"
                )
                continue
            value_rank = (
                int(rank.Value.Value)
                if rank.Value is not None and rank.Value.Value is not None
                else -2
            )
            await self._apply_type(
                conn, point, dtype.Value.Value if dtype.Value else None, value_rank
            )
        if retry:
            await self._read_node_types(conn, retry)

    async def _apply_type(
        self, conn: _Connection, point: _Point, type_id: Any, value_rank: int
    ) -> None:
        spec = point.spec
        variant = await self._variant_of(conn, type_id) if isinstance(type_id, ua.NodeId) else None
        if variant is None and isinstance(type_id, ua.NodeId) and _is_abstract(type_id):
            # BaseDataType, Number, Integer...: the value may be of any type; read what comes
            # and write as the tag's own type
            variant = codec.VARIANT_OF[spec.data_type]
        if variant is None:
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {_node_text(point)} has a data type"
                " hmi-app cannot read"
            )
            return
        point.variant, point.type_name = variant, str(variant.name)
        point.node_is_array = value_rank >= 0
        indexed = point.index_range is not None
        if not codec.compatible(spec.data_type, variant):
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {_node_text(point)} is {variant.name};"
                f" a {spec.data_type.value} tag cannot show it"
            )
        elif value_rank == -1 and (indexed or spec.array_length):
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {_node_text(point)} holds one {variant.name},"
                " not an array: remove the [index] and array_length"
            )
        elif value_rank >= 1 and not indexed and not spec.array_length:
            point.error = (
                f"{Reason.CONFIG_ERROR}: node {_node_text(point)} is an array of {variant.name}:"
                " set array_length, or read one element with [index]"
            )

    async def _variant_of(self, conn: _Connection, type_id: ua.NodeId) -> ua.VariantType | None:
        variant = codec.variant_type_of(type_id)
        if variant is not None and variant not in (
            ua.VariantType.Variant,
            ua.VariantType.ExtensionObject,
        ):
            return variant
        cached = conn.variant_cache.get(type_id)
        if cached is not None:
            return cached
        from asyncua.common.ua_utils import data_type_to_variant_type

        try:
            found = await self._timed(
                data_type_to_variant_type(conn.client.get_node(type_id)), "browse of a data type"
            )
        except (UaError, ValueError):
            return None
        if found in (ua.VariantType.Variant, ua.VariantType.ExtensionObject, ua.VariantType.Null):
            return None
        conn.variant_cache[type_id] = found
        return found

    # ---- subscriptions --------------------------------------------------------------------
    async def _sync_subscription(self, conn: _Connection, group: _Group) -> None:
        session = conn.session
        if group.dropped_sub is not None:
            dropped, group.dropped_sub = group.dropped_sub, None
            if group.gen == conn.gen:
                with contextlib.suppress(UaStatusCodeError):
                    await self._timed(
                        session.delete_subscriptions([dropped]), "DeleteSubscriptions"
                    )
        if group.sub_id is None or group.gen != conn.gen:
            group.doomed_items = []
            params = _subscription_parameters(group.scan_ms, self.settings.keepalive_ms)
            try:
                result = await self._timed(
                    session.create_subscription(params, self._callback(conn.gen, group)),
                    "CreateSubscription",
                )
            except UaStatusCodeError as exc:
                log.warning(
                    "%s: the server refused a subscription (%s); polling every %d ms instead",
                    self.name,
                    codec.status_name(exc.code),
                    group.scan_ms,
                )
                group.polling = True
                self._ensure_poll(conn, group)
                return
            group.sub_id, group.gen = result.SubscriptionId, conn.gen
            promised = result.RevisedPublishingInterval * result.RevisedMaxKeepAliveCount / 1000
            group.stale_after = 1.5 * max(promised, group.scan_ms / 1000) + 1.0
            group.last_publish = asyncio.get_running_loop().time()
            session.ensure_publish_loop()  # asyncua's loop ends on BadNoSubscription
        if group.doomed_items:
            doomed, group.doomed_items = group.doomed_items, []
            for ids in _chunks(doomed, self.settings.max_nodes_per_request):
                deletion = ua.DeleteMonitoredItemsParameters(
                    SubscriptionId=group.sub_id, MonitoredItemIds=ids
                )
                with contextlib.suppress(UaStatusCodeError):
                    await self._timed(
                        session.delete_monitored_items(deletion), "DeleteMonitoredItems"
                    )
        new = [
            self._points[k]
            for k in sorted(group.keys)
            if k in self._points
            and self._points[k].item_id is None
            and not self._points[k].error
            and self._points[k].gen == conn.gen
        ]
        for chunk in _chunks(new, self.settings.max_nodes_per_request):
            await self._create_items(conn, group, chunk, with_filter=True)

    def _callback(self, gen: int, group: _Group) -> Callable[[ua.PublishResult], None]:
        """The publish-response handler: decoding and publishing run in the next loop turn,
        so asyncua's publish loop acknowledges and asks for the next response at once."""

        def handle(result: ua.PublishResult) -> None:
            try:
                self._on_publish(gen, group, result)
            except Exception:
                log.exception("%s: handling a publish response failed", self.name)

        def on_publish(result: ua.PublishResult) -> None:
            loop = asyncio.get_running_loop()
            if result.SubscriptionId == group.sub_id:
                group.last_publish = loop.time()
            loop.call_soon(handle, result)

        return on_publish

    async def _create_items(
        self, conn: _Connection, group: _Group, points: list[_Point], with_filter: bool
    ) -> None:
        requests = []
        for point in points:
            if point.handle == 0 or point.handle not in conn.handles:
                point.handle = self._next_handle
                self._next_handle += 1
            conn.handles[point.handle] = point
            parameters = ua.MonitoringParameters(
                ClientHandle=point.handle,
                SamplingInterval=float(group.scan_ms),
                QueueSize=self.settings.queue_size,
                DiscardOldest=True,
            )
            mfilter = self._filter(point) if with_filter else None
            if mfilter is not None:
                parameters.Filter = mfilter
            requests.append(
                ua.MonitoredItemCreateRequest(
                    ItemToMonitor=_read_value_id(point),
                    MonitoringMode=ua.MonitoringMode.Reporting,
                    RequestedParameters=parameters,
                )
            )
        params = ua.CreateMonitoredItemsParameters(
            SubscriptionId=group.sub_id,
            ItemsToCreate=requests,
            TimestampsToReturn=ua.TimestampsToReturn.Both,
        )
        try:
            results = await self._timed(
                conn.session.create_monitored_items(params), "CreateMonitoredItems"
            )
        except UaStatusCodeError as exc:
            now, name = time.time(), codec.status_name(exc.code)
            self._deliver(
                [
                    (p.spec.key, Quality.BAD, None, now, f"{Reason.DEVICE_EXCEPTION}: {name}")
                    for p in points
                ]
            )
            for point in points:
                point.error = f"{Reason.DEVICE_EXCEPTION}: {name}"
            return
        unfiltered: list[_Point] = []
        failed: list[tuple[str, Quality, Any, float, str]] = []
        now = time.time()
        for point, result in zip(points, results, strict=False):
            if result.StatusCode.is_good():
                point.item_id = result.MonitoredItemId
                continue
            name = codec.status_name(result.StatusCode)
            if with_filter and name in _FILTER_ERRORS:
                unfiltered.append(point)
                continue
            conn.handles.pop(point.handle, None)
            quality, reason = codec.quality_of(result.StatusCode)
            point.error = reason
            failed.append((point.spec.key, quality, None, now, reason))
        self._deliver(failed)
        if unfiltered:
            await self._create_items(conn, group, unfiltered, with_filter=False)

    def _filter(self, point: _Point) -> ua.DataChangeFilter | None:
        s = self.settings
        spec = point.spec
        if s.deadband_type == "none" or not spec.data_type.is_numeric or spec.array_length:
            return None
        return ua.DataChangeFilter(
            Trigger=ua.DataChangeTrigger.StatusValue,
            DeadbandType=1 if s.deadband_type == "absolute" else 2,
            DeadbandValue=s.deadband_value,
        )

    def _on_publish(self, gen: int, group: _Group, result: ua.PublishResult) -> None:
        conn = self._conn
        if conn is None or conn.gen != gen or self._is_lost(gen):
            return
        data = result.NotificationMessage.NotificationData
        if not data:
            return
        now = time.time()
        out: list[tuple[str, Quality, Any, float, str]] = []
        handles = conn.handles
        for notification in data:
            if isinstance(notification, ua.DataChangeNotification):
                for item in notification.MonitoredItems:
                    point = handles.get(item.ClientHandle)
                    if point is not None and point.spec.key in self._points:
                        out.append(self._value_of(point, item.Value, now))
                self.notifications += len(notification.MonitoredItems)
            elif isinstance(notification, ua.StatusChangeNotification):
                self._status_change(conn, group, notification.Status)
        self._deliver(out)

    def _status_change(self, conn: _Connection, group: _Group, status: ua.StatusCode) -> None:
        name = codec.status_name(status)
        if status.is_good():
            return
        if name in ("BadShutdown", "BadServerHalted", "BadSessionClosed", "BadConnectionClosed"):
            self._link_lost(conn.gen, f"{Reason.COMM_FAILURE}: {name}")
            return
        # BadTimeout: the server dropped the subscription; make a new one
        log.info(
            "%s: subscription of %d ms lost (%s); re-creating it", self.name, group.scan_ms, name
        )
        self._drop_subscription(group)
        self._wake.set()

    def _value_of(
        self, point: _Point, value: ua.DataValue | None, now: float
    ) -> tuple[str, Quality, Any, float, str]:
        key = point.spec.key
        if value is None:
            return key, Quality.BAD, None, now, f"{Reason.DECODE_ERROR}: no value"
        quality, reason = codec.quality_of(value.StatusCode)
        ts = codec.to_posix(value.SourceTimestamp) or codec.to_posix(value.ServerTimestamp) or now
        if quality is Quality.BAD:
            return key, quality, None, ts, reason
        raw = value.Value.Value if value.Value is not None else None
        if point.index_range is not None and isinstance(raw, list):
            raw = _select(raw, point)
        try:
            decoded = codec.decode(raw, point.spec.data_type, point.spec.array_length)
        except codec.DecodeError as exc:
            return key, Quality.BAD, None, ts, f"{Reason.DECODE_ERROR}: {exc}"
        return key, quality, decoded, ts, reason

    # ---- polling --------------------------------------------------------------------------
    def _ensure_poll(self, conn: _Connection, group: _Group) -> None:
        if group.poll_task is None or group.poll_task.done():
            group.poll_task = asyncio.create_task(
                self._poll_loop(conn, group), name=f"opcua:{self.name}:poll{group.scan_ms}ms"
            )

    async def _poll_loop(self, conn: _Connection, group: _Group) -> None:
        loop = asyncio.get_running_loop()
        period = group.scan_ms / 1000
        deadline = loop.time()
        while not self._is_lost(conn.gen):
            points = [
                self._points[k]
                for k in sorted(group.keys)
                if k in self._points
                and not self._points[k].error
                and self._points[k].gen == conn.gen
            ]
            try:
                for chunk in _chunks(points, self.settings.max_nodes_per_request):
                    await self._poll(conn, chunk)
            except LinkDown as exc:
                self._link_lost(conn.gen, str(exc))
                return
            except UaStatusCodeError as exc:
                now = time.time()
                quality, reason = codec.quality_of(ua.StatusCode(exc.code))
                self._deliver([(p.spec.key, quality, None, now, reason) for p in points])
            except Exception:  # a bug must not stop the scan class
                log.exception("%s: poll of %d ms failed", self.name, group.scan_ms)
            deadline += period
            now_l = loop.time()
            if now_l >= deadline:
                deadline += (int((now_l - deadline) // period) + 1) * period
            await asyncio.sleep(deadline - now_l)

    async def _poll(self, conn: _Connection, points: list[_Point]) -> None:
        params = ua.ReadParameters(
            NodesToRead=[_read_value_id(p) for p in points],
            TimestampsToReturn=ua.TimestampsToReturn.Both,
        )
        values = await self._timed(conn.session.read(params), "Read")
        if self._is_lost(conn.gen):
            return
        now = time.time()
        self._deliver([self._value_of(p, v, now) for p, v in zip(points, values, strict=False)])

    # ---- publishing -----------------------------------------------------------------------
    def _deliver(self, results: Sequence[tuple[str, Quality, Any, float, str]]) -> None:
        """Publish what differs from the last publication of each point, GOOD values in blocks."""
        if not results or self._publish is None:
            return
        last = self._last
        buckets: dict[float, tuple[list[str], list[Any]]] = {}
        others: list[Sample] = []
        for key, quality, value, ts, reason in results:
            record = (quality, value, ts, reason)
            prev = last.get(key)
            if prev is not None and _same(prev, record):
                continue
            last[key] = record
            if quality is Quality.GOOD:
                bucket = buckets.get(ts)
                if bucket is None:
                    bucket = buckets[ts] = ([], [])
                bucket[0].append(key)
                bucket[1].append(value)
            else:
                others.append(Sample(key, value, quality, ts, reason))
        for ts, (keys, values) in buckets.items():
            if len(keys) >= GOOD_BLOCK_MIN:
                self._emit(GoodBlock(tuple(keys), values, ts))
            else:
                others.extend(
                    Sample(k, v, Quality.GOOD, ts) for k, v in zip(keys, values, strict=True)
                )
        if others:
            self._emit(others)

    def _emit(self, samples: Sequence[Sample]) -> None:
        if self._publish is not None:
            try:
                self._publish(samples)
            except Exception:
                log.exception("%s: publish callback failed", self.name)

    def _publish_down(self, reason: str) -> None:
        """Every readable point not yet told during this outage goes BAD."""
        now = time.time()
        keys = [
            k for k, p in self._points.items() if p.address is not None and k not in self._told_down
        ]
        self._told_down.update(keys)
        self._deliver([(k, Quality.BAD, None, now, reason) for k in keys])

    # ---- writes ---------------------------------------------------------------------------
    async def write(self, point: PointSpec, value: Any) -> None:
        """Write ``value`` converted to the node's own data type; DriverWriteError says why not."""
        try:
            parsed = addr.validate(point)
        except AddressError as exc:
            raise DriverWriteError(str(exc)) from None
        conn = self._conn
        if conn is None or self._is_lost(conn.gen):
            raise DriverWriteError(
                f"{Reason.NOT_CONNECTED}: {self._down_reason or 'no connection to ' + self.url}"
            )
        target = self._points.get(point.key)
        if target is None or target.spec != point or target.gen != conn.gen:
            target = conn.write_targets.get(point)
        if target is None:
            target = _Point(point, parsed)
            try:
                await self._resolve(conn, [target])
            except LinkDown as exc:
                self._link_lost(conn.gen, str(exc))
                raise DriverWriteError(f"{point.address}: {exc}") from None
            except UaStatusCodeError as exc:
                name = codec.status_name(exc.code)
                raise DriverWriteError(f"{point.address}: the server refused: {name}") from None
            conn.write_targets[point] = target
        if target.error or target.variant is None or target.node_id is None:
            raise DriverWriteError(f"{point.address}: {target.error or 'node not resolved'}")
        as_array = bool(point.array_length) or (target.index_range is not None)
        payload = value
        if target.index_range is not None and not point.array_length:
            payload = [value]  # an element write carries a one-element array (Part 4, 7.22)
        try:
            variant = codec.encode(payload, target.variant, target.type_name, as_array)
        except codec.EncodeError as exc:
            raise DriverWriteError(f"{point.address}: {exc}") from None
        request = ua.WriteValue(
            NodeId=target.node_id,
            AttributeId=AttributeIds.Value,
            Value=ua.DataValue(variant),
            IndexRange=target.index_range,
        )
        try:
            results = await self._timed(
                conn.session.write(ua.WriteParameters(NodesToWrite=[request])), "Write"
            )
        except LinkDown as exc:
            self._link_lost(conn.gen, str(exc))
            raise DriverWriteError(f"{point.address}: {exc}") from None
        except UaStatusCodeError as exc:
            raise DriverWriteError(
                f"{point.address}: the server refused the write: {codec.status_name(exc.code)}"
            ) from None
        except UaError as exc:
            raise DriverWriteError(f"{point.address}: {_describe(exc)}") from None
        status = results[0]
        if not status.is_good():
            name = codec.status_name(status)
            raise DriverWriteError(
                f"{point.address}: the server refused the write: {name} ({status.doc})"
            )

    # ---- browsing -------------------------------------------------------------------------
    async def browse(self, path: str = "") -> list[BrowseNode]:
        """Objects and variables under ``path`` (a node id; "" is the Objects folder).

        Raises ConnectionError while the server is not connected or when it stops answering,
        AddressError for a path the server does not know.
        """
        try:
            return await self._browse(path)
        except LinkDown as exc:
            raise ConnectionError(f"{self.name}: {exc}") from None
        except UaStatusCodeError as exc:
            name = codec.status_name(exc.code)
            raise AddressError(f"cannot browse {path or 'Objects'}: {name}") from None

    async def _browse(self, path: str) -> list[BrowseNode]:
        conn = self._conn
        if conn is None:
            raise ConnectionError(
                f"{self.name}: not connected to {self.url}"
                + (f" ({self._down_reason})" if self._down_reason else "")
            )
        node_id = _std(ObjectIds.ObjectsFolder)
        if path:
            parsed = addr.parse(path)
            probe = _Point(PointSpec("browse", path, DataType.STRING), parsed)
            if parsed.node_id is not None and parsed.namespace_uri is None:
                node_id = parsed.node_id
            else:
                probe.gen, probe.index_range = conn.gen, None
                if parsed.namespace_uri:
                    ns = await self._timed(conn.client.get_namespace_array(), "read NamespaceArray")
                    self._apply_uri(probe, ns)
                else:
                    await self._translate(conn, [probe])
                if probe.error or probe.node_id is None:
                    raise AddressError(probe.error)
                node_id = probe.node_id
        refs = await self._browse_refs(conn, node_id)
        variables = [r for r in refs if r.NodeClass == ua.NodeClass.Variable]
        details = await self._variable_details(conn, [r.NodeId for r in variables])
        nodes = []
        for ref in refs:
            name = ref.DisplayName.Text or ref.BrowseName.Name or ref.NodeId.to_string()
            text = ref.NodeId.to_string()
            if ref.NodeClass == ua.NodeClass.Variable:
                data_type, described = details.get(text, (None, ""))
                nodes.append(BrowseNode(name, text, data_type, description=described))
            else:
                nodes.append(BrowseNode(name, text, None, expandable=True))
        return nodes

    async def _browse_refs(self, conn: _Connection, node_id: ua.NodeId) -> list[Any]:
        description = ua.BrowseDescription(
            NodeId=node_id,
            BrowseDirection=ua.BrowseDirection.Forward,
            ReferenceTypeId=_std(ObjectIds.HierarchicalReferences),
            IncludeSubtypes=True,
            NodeClassMask=int(ua.NodeClass.Object) | int(ua.NodeClass.Variable),
            ResultMask=int(ua.BrowseResultMask.All),
        )
        params = ua.BrowseParameters(
            NodesToBrowse=[description], RequestedMaxReferencesPerNode=1000
        )
        results = await self._timed(conn.session.browse(params), "Browse")
        result = results[0]
        if not result.StatusCode.is_good():
            raise AddressError(
                f"cannot browse {node_id.to_string()}: {codec.status_name(result.StatusCode)}"
            )
        refs = list(result.References)
        point = result.ContinuationPoint
        while point:
            more = await self._timed(
                conn.session.browse_next(
                    ua.BrowseNextParameters(
                        ContinuationPoints=[point], ReleaseContinuationPoints=False
                    )
                ),
                "BrowseNext",
            )
            refs.extend(more[0].References)
            point = more[0].ContinuationPoint
        return refs

    async def _variable_details(
        self, conn: _Connection, node_ids: list[ua.NodeId]
    ) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        attributes = (
            AttributeIds.DataType,
            AttributeIds.ValueRank,
            AttributeIds.ArrayDimensions,
            AttributeIds.Description,
        )
        for chunk in _chunks(node_ids, max(1, self.settings.max_nodes_per_request // 4)):
            reads = [ua.ReadValueId(NodeId=n, AttributeId=a) for n in chunk for a in attributes]
            values = await self._timed(
                conn.session.read(ua.ReadParameters(NodesToRead=reads)), "Read"
            )
            for i, node in enumerate(chunk):
                dtype, rank, dims, desc = (_plain(v) for v in values[4 * i : 4 * i + 4])
                variant = (
                    await self._variant_of(conn, dtype) if isinstance(dtype, ua.NodeId) else None
                )
                data_type = codec.DATA_TYPE_OF.get(variant) if variant is not None else None
                type_text = (
                    codec.describe_variant(
                        variant, int(rank) if isinstance(rank, int) else -1, dims
                    )
                    if variant is not None
                    else "structure"
                )
                text = desc.Text if isinstance(desc, ua.LocalizedText) and desc.Text else ""
                out[node.to_string()] = (data_type, f"{type_text} - {text}" if text else type_text)
        return out


# ---- helpers ----------------------------------------------------------------------------------
def _std(identifier: int) -> ua.NodeId:
    """A namespace-0 node id (asyncua types its parameters as NewTypes of int)."""
    return ua.NodeId(cast(Any, identifier))


_TRUE: Any = True
_FALSE: Any = False


def application_uri() -> str:
    """This application's URI (also in its certificate): one per host, shared by connections."""
    return f"urn:{socket.gethostname()}:hmi-app"


def _same(a: tuple[Quality, Any, float, str], b: tuple[Quality, Any, float, str]) -> bool:
    return (
        a[0] is b[0] and a[2] == b[2] and a[3] == b[3] and type(a[1]) is type(b[1]) and a[1] == b[1]
    )


_ABSTRACT_TYPES = frozenset({24, 26, 27, 28})  # BaseDataType, Number, Integer, UInteger


def _is_abstract(type_id: ua.NodeId) -> bool:
    return type_id.NamespaceIndex == 0 and type_id.Identifier in _ABSTRACT_TYPES


def _select(values: list[Any], point: _Point) -> Any:
    """The indexed elements of an array value. A conforming server sends just the IndexRange;
    some (asyncua's own) ignore it for monitored items and reads and send the whole array."""
    assert point.address is not None and point.address.index is not None
    first, last = point.address.index
    count = last - first + 1
    if len(values) != count and len(values) > last:
        values = values[first : last + 1]
    if point.spec.array_length:
        return values
    return values[0] if len(values) == 1 else values


def _plain(value: ua.DataValue) -> Any:
    if value.StatusCode is not None and not value.StatusCode.is_good():
        return None
    return value.Value.Value if value.Value is not None else None


def _node_text(point: _Point) -> str:
    if point.node_id is not None:
        return str(point.node_id.to_string())
    return point.spec.address


def _read_value_id(point: _Point) -> ua.ReadValueId:
    return ua.ReadValueId(
        NodeId=point.node_id, AttributeId=AttributeIds.Value, IndexRange=point.index_range
    )


def _subscription_parameters(scan_ms: int, keepalive_ms: int) -> ua.CreateSubscriptionParameters:
    keepalive = max(1, math.ceil(keepalive_ms / scan_ms))
    return ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=float(scan_ms),
        RequestedLifetimeCount=max(3 * keepalive, math.ceil(60_000 / scan_ms)),
        RequestedMaxKeepAliveCount=keepalive,
        MaxNotificationsPerPublish=0,
        PublishingEnabled=True,
        Priority=0,
    )


def _chunks(items: Sequence[_T], size: int) -> list[list[_T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UaStatusCodeError):
        return codec.status_name(exc.code)
    text = str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
