"""REST sink: outbox records POSTed as JSON batches to a receiver (an ERP/MES endpoint).

Each request carries ``{"records": [{"key", "kind", "created", "payload"}, ...]}`` with
``created`` in ISO 8601 UTC. The receiver must dedupe on ``key``: a batch whose answer was lost
is sent again. The ``Idempotency-Key`` header is the record key for a one-record request and
``batch-<sha256 of the keys in order>`` for a larger one, so a repeated batch repeats its header.

Answers: any 2xx confirms the whole batch, unless its JSON body lists per-record results
(``{"results": [{"key": ..., "status": 422, "error": "..."}]}``, as with 207 Multi-Status), in
which case a 4xx result rejects that record. A 4xx for the request rejects a one-record request
for good; a larger batch is split in halves and resent until the refused records are found, so
the others still flow. 5xx, timeouts, connection errors and the 4xx codes that are about the
client rather than the record (401, 403, 404, 405, 407, 408, 425, 429) raise
``TransientSinkError``: the batch is retried later and nothing is quarantined for a wrong URL or
token.

Configuration (``sync_targets:`` in the project)::

    erp:
      kind: rest
      url: https://erp.example.com/api/production
      token_env: ERP_TOKEN            # or token_keyring: hmi-app/erp, or username + password_env
      verify: true                    # default; a CA bundle path, or false (logged as a warning)
      timeout_s: 10
      headers: {X-Plant: north}
"""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from hmi_app.core.secrets import SecretRef, resolve
from hmi_app.runtime.outbox import OutboxRecord, iso_utc
from hmi_app.runtime.sinks.base import TransientSinkError

__all__ = ["CLIENT_SIDE_4XX", "RestSink"]

log = logging.getLogger(__name__)

# 4xx answers about the client or the moment, not about a record: retried, never quarantined.
CLIENT_SIDE_4XX = frozenset({401, 403, 404, 405, 407, 408, 425, 429})
MAX_REASON = 300
SETTINGS = frozenset(
    {
        "kind",
        "url",
        "token_env",
        "token_keyring",
        "username",
        "password_env",
        "password_keyring",
        "verify",
        "timeout_s",
        "headers",
    }
)


class RestSink:
    """POSTs batches of outbox records as JSON; see the module docstring for the protocol."""

    kind = "rest"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str = True,  # or a CA bundle file
        timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A sink for target ``name`` posting to ``url`` (http or https)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"sync target {name}: url must start with http:// or https://")
        if token is not None and username is not None:
            raise ValueError(f"sync target {name}: use a token or a user name, not both")
        self.name = name
        self.url = url
        auth: httpx.Auth | None = None
        all_headers = {"User-Agent": "hmi-app", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            auth = httpx.BasicAuth(username, password or "")
        if verify is False:
            log.warning(
                "sync target %s: TLS certificates are NOT verified (verify: false); anyone on the"
                " network path can read and change the records",
                name,
            )
        tls: bool | ssl.SSLContext = (
            verify if isinstance(verify, bool) else _ca_bundle(name, verify)
        )
        self._client = httpx.AsyncClient(
            auth=auth,
            headers=all_headers,
            verify=tls,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
        )

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any], project_folder: Path) -> RestSink:
        """A sink from a ``sync_targets`` entry; secrets come from the environment or keyring.

        A keyring lookup may block briefly: build sinks at start-up, not from a running loop's
        hot path.
        """
        unknown = set(config) - SETTINGS
        if unknown:
            raise ValueError(f"sync target {name}: unknown REST settings {sorted(unknown)}")
        url = config.get("url")
        if not isinstance(url, str) or not url:
            raise ValueError(f"sync target {name}: a REST target needs a url")
        token = _secret(name, "token", config)
        username = config.get("username")
        password = _secret(name, "password", config) if username is not None else None
        verify: bool | str = config.get("verify", True)
        if isinstance(verify, str):  # a CA bundle, relative to the project folder
            verify = str((project_folder / verify).resolve())
        elif not isinstance(verify, bool):
            raise ValueError(f"sync target {name}: verify is true, false or a CA bundle path")
        headers = config.get("headers") or {}
        return cls(
            name,
            url,
            token=token,
            username=None if username is None else str(username),
            password=password,
            verify=verify,
            timeout_s=float(config.get("timeout_s", 10.0)),
            headers={str(k): str(v) for k, v in dict(headers).items()},
        )

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        """POST ``records``; ``{key: reason}`` for the ones refused for good."""
        if not records:
            return {}
        return await self._send(list(records))

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _send(self, records: list[OutboxRecord]) -> dict[str, str]:
        response = await self._post(records)
        status = response.status_code
        if 200 <= status < 300:
            return _per_record_results(response, records)
        if 400 <= status < 500 and status not in CLIENT_SIDE_4XX:
            if len(records) == 1:
                return {records[0].key: f"HTTP {status}: {_reason(response)}"}
            half = len(records) // 2  # find the refused ones; the rest of the batch flows
            refused = await self._send(records[:half])
            refused.update(await self._send(records[half:]))
            return refused
        raise TransientSinkError(f"{self.url} answered HTTP {status}: {_reason(response)}")

    async def _post(self, records: list[OutboxRecord]) -> httpx.Response:
        body = {
            "records": [
                {
                    "key": r.key,
                    "kind": r.kind,
                    "created": iso_utc(r.created),
                    "payload": r.payload,
                }
                for r in records
            ]
        }
        try:
            return await self._client.post(
                self.url,
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers={"Content-Type": "application/json", "Idempotency-Key": _key(records)},
            )
        except httpx.TimeoutException as exc:
            raise TransientSinkError(f"{self.url} did not answer in time ({exc!r})") from exc
        except httpx.HTTPError as exc:  # connection refused, reset, TLS failure, protocol error
            raise TransientSinkError(f"{self.url} unreachable: {exc!r}") from exc


def _key(records: Sequence[OutboxRecord]) -> str:
    if len(records) == 1:
        return records[0].key
    digest = hashlib.sha256("\n".join(r.key for r in records).encode()).hexdigest()
    return f"batch-{digest[:32]}"


def _reason(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return (
        (text[:MAX_REASON] + "...") if len(text) > MAX_REASON else (text or response.reason_phrase)
    )


def _per_record_results(response: httpx.Response, records: list[OutboxRecord]) -> dict[str, str]:
    """Refused keys from a 2xx body with per-record results; ``{}`` when it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        return {}
    sent = {r.key for r in records}
    refused: dict[str, str] = {}
    unsure: list[str] = []
    for item in results:
        if not isinstance(item, dict) or item.get("key") not in sent:
            continue
        status = item.get("status", 200)
        if not isinstance(status, int) or 200 <= status < 300:
            continue
        reason = str(item.get("error") or item.get("reason") or "")[:MAX_REASON]
        if 400 <= status < 500 and status not in CLIENT_SIDE_4XX:
            refused[str(item["key"])] = f"HTTP {status}: {reason}"
        else:
            unsure.append(f"{item['key']} ({status})")
    if unsure:  # the sink protocol has no "retry only these": the batch goes again, deduped
        raise TransientSinkError(f"{len(unsure)} records not accepted yet: {', '.join(unsure[:5])}")
    return refused


def _ca_bundle(name: str, path: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"sync target {name}: CA bundle {path} cannot be used: {exc}") from exc


def _secret(name: str, what: str, config: Mapping[str, Any]) -> str | None:
    env, keyring = config.get(f"{what}_env"), config.get(f"{what}_keyring")
    if env is None and keyring is None:
        return None
    try:
        return resolve(SecretRef(env=env, keyring=keyring))
    except ValueError as exc:
        raise ValueError(f"sync target {name}: {what}: {exc}") from exc
