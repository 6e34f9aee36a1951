"""MQTT target: each record published as JSON (QoS 1 by default) to a unified-namespace topic.

Topics follow the unified namespace (ISA-95 levels, one topic per kind of record)::

    {topic_root}/{line}/production/{kind}      e.g. acme/dortmund/bottling/line1/production/count

``topic_root`` is the enterprise/site/area prefix from the project; ``line`` is the record's own
``line`` payload field (one project, several lines), and the level is left out for records
without one (``acme/dortmund/bottling/production/shift_summary``). The message is the record as
JSON (``key``, ``kind``, ``created`` in ISO 8601 UTC, ``payload``); with QoS 1 a record counts as
confirmed when the broker's PUBACK arrived (QoS 2: PUBCOMP; QoS 0: handed to the socket). After a
lost connection the batch is sent again, so a record can arrive twice: receivers dedupe on
``key``.

One client connection is kept open across batches and opened again when it was lost; a broker
that is down or does not acknowledge the batch within ``timeout_s`` raises ``TransientSinkError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hmi_app.core import secrets
from hmi_app.core.deadlines import within
from hmi_app.runtime.outbox import OutboxRecord
from hmi_app.runtime.sinks.base import TransientSinkError, sink_password
from hmi_app.runtime.sinks.file import json_line

__all__ = ["MqttSink", "MqttSinkConfig"]

# unacknowledged messages on the link: enough to keep a batch flowing on a LAN, few enough that
# a broker's receive limits (Mosquitto's max_inflight_messages per client) are not a problem
_MAX_INFLIGHT = 100
_MAX_BATCH = 10_000  # the project's largest batch_size
_LEVEL_BAD = re.compile(r"[/+#\x00]")


def _level(text: str) -> str:
    """``text`` made safe as one topic level (no separator, wildcard or leading $)."""
    return _LEVEL_BAD.sub("_", text).lstrip("$") or "_"


def _check_level(name: str, value: str) -> None:
    if not value or _LEVEL_BAD.search(value) or value.startswith("$"):
        raise ValueError(
            f"{name} {value!r} cannot be a topic level: it must be non-empty, without / + # and"
            " not start with $"
        )


class MqttSinkConfig(BaseModel):
    """``sync_targets: {name: {kind: mqtt, ...}}`` settings of an MQTT broker target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["mqtt"] = "mqtt"
    host: str
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = None
    password_keyring: str | None = None
    tls: bool = Field(default=False, description="TLS, the broker checked against the OS CAs")
    topic_root: str = Field(description="enterprise/site/area; the line and kind follow it")
    qos: Literal[0, 1, 2] = 1
    client_id: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=600, description="connect, and per batch")

    @model_validator(mode="after")
    def _check(self) -> MqttSinkConfig:
        if not self.host.strip() or "/" in self.host:
            raise ValueError(f"{self.host!r} is not a host name or address")
        for level in self.topic_root.split("/"):
            _check_level("topic_root level", level)
        if self.password_env is not None and self.password_keyring is not None:
            raise ValueError("give password_env or password_keyring, not both")
        if (self.password_env or self.password_keyring) and not self.username:
            raise ValueError("a password needs a username")
        if self.password_env is not None:
            secrets.check_env_name(self.password_env)
        if self.password_keyring is not None:
            secrets.split_keyring_ref(self.password_keyring)
        return self


class MqttSink:
    """Publishes batches of outbox records to an MQTT broker with QoS 1 (see module doc)."""

    def __init__(self, name: str, config: MqttSinkConfig) -> None:
        self.name = name
        self.config = config
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any], project_folder: Path) -> MqttSink:
        """An MQTT sink from its project settings (the project folder is not used)."""
        return cls(name, MqttSinkConfig.model_validate(config))

    def topic(self, record: OutboxRecord) -> str:
        """The topic ``record`` is published to."""
        levels = [self.config.topic_root]
        line = record.payload.get("line")
        if line is not None and str(line) != "":
            levels.append(_level(str(line)))
        levels += ["production", _level(record.kind)]
        return "/".join(levels)

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        """Publish the batch (QoS 1); every record is acknowledged, rejected or the call raises."""
        if not records:
            return {}
        rejected: dict[str, str] = {}
        messages: list[tuple[str, str]] = []
        keys: list[str] = []
        for record in records:
            try:
                messages.append((self.topic(record), json_line(record)))
                keys.append(record.key)
            except (TypeError, ValueError) as exc:
                rejected[record.key] = f"payload is not JSON: {exc}"
        if not messages:
            return rejected
        async with self._lock:
            client = await self._connected()
            rejected.update(await self._publish(client, keys, messages))
        return rejected

    async def close(self) -> None:
        """Disconnect from the broker."""
        async with self._lock:
            await self._drop()

    # --- internals -----------------------------------------------------------------------------

    async def _publish(
        self, client: aiomqtt.Client, keys: list[str], messages: list[tuple[str, str]]
    ) -> dict[str, str]:
        timeout = self.config.timeout_s
        qos = self.config.qos
        rejected: dict[str, str] = {}

        # at most _MAX_INFLIGHT publish calls wait at once: aiomqtt's cost per call grows with
        # the number waiting, and paho could not put more on the wire anyway
        window = asyncio.Semaphore(_MAX_INFLIGHT)

        async def one(key: str, topic: str, payload: str) -> None:
            async with window:
                try:
                    await client.publish(topic, payload, qos=qos, timeout=timeout)
                except ValueError as exc:  # paho refuses the topic or payload itself
                    rejected[key] = f"cannot be published: {exc}"

        # tasks start in order, so paho queues the messages in the outbox's order
        tasks = [
            asyncio.ensure_future(one(key, topic, payload))
            for key, (topic, payload) in zip(keys, messages, strict=True)
        ]
        publishes = asyncio.gather(*tasks)
        # aiomqtt sets _disconnected when the link drops; without watching it, the messages in
        # flight would wait their full timeout for a PUBACK that cannot come any more
        lost = client._disconnected
        confirmed = False
        try:
            waiting: set[asyncio.Future[Any]] = {publishes, lost}
            done, _ = await asyncio.wait(
                waiting, timeout=timeout + 1, return_when=asyncio.FIRST_COMPLETED
            )
            if publishes in done:
                publishes.result()  # raises what a publish raised
                confirmed = True
                return rejected
            if lost in done:
                raise TransientSinkError(f"connection to {self._where()} lost: {_reason(lost)}")
            raise TransientSinkError(f"no PUBACK from {self._where()} within {timeout:g} s")
        except aiomqtt.MqttError as exc:
            if "timed out" in str(exc):
                raise TransientSinkError(
                    f"no PUBACK from {self._where()} within {timeout:g} s"
                ) from exc
            raise TransientSinkError(f"publish to {self._where()} failed: {exc}") from exc
        finally:
            if not confirmed:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(publishes, return_exceptions=True)
                await self._drop()

    def _where(self) -> str:
        return f"MQTT broker {self.config.host}:{self.config.port}"

    async def _connected(self) -> aiomqtt.Client:
        client = self._client
        if client is not None and not client._disconnected.done():
            return client
        await self._drop()
        cfg = self.config
        try:
            password = await self._password()
        except secrets.SecretError as exc:
            raise TransientSinkError(f"MQTT target {self.name!r}: {exc}") from None
        tls_context = ssl.create_default_context() if cfg.tls else None
        client = aiomqtt.Client(
            cfg.host,
            self.config.port,
            username=cfg.username,
            password=password,
            identifier=cfg.client_id,
            tls_context=tls_context,
            timeout=cfg.timeout_s,
            max_inflight_messages=_MAX_INFLIGHT,
        )
        client.pending_calls_threshold = _MAX_BATCH  # a batch is meant to be in flight at once
        try:
            await within(client.__aenter__(), cfg.timeout_s + 5)
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            with contextlib.suppress(Exception):
                await within(client.__aexit__(None, None, None), 2)
            reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
            raise TransientSinkError(f"cannot connect to {self._where()}: {reason}") from exc
        self._client = client
        return client

    async def _password(self) -> str | None:
        cfg = self.config
        return await sink_password(cfg.password_env, cfg.password_keyring, cfg.timeout_s)

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        lost = client._disconnected
        if lost.done():
            _reason(lost)  # retrieved, so asyncio does not log it as never retrieved
        with contextlib.suppress(Exception):
            # returns at once when the link is gone; otherwise a DISCONNECT and paho closes
            await within(client.__aexit__(None, None, None), self.config.timeout_s)


def _reason(future: asyncio.Future[None]) -> str:
    if not future.done():
        return "connection open"
    if future.cancelled():
        return "cancelled"
    exc = future.exception()
    return str(exc) if exc is not None else "disconnected"
