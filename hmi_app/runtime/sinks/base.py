"""What every sync target (file drop, REST, SQL, MQTT) promises the outbox's sender.

A sink gets a batch of outbox records in order and answers which of them the receiver refused
for good; every other record of the batch counts as confirmed and leaves the outbox. When the sink
cannot tell (receiver down, timeout, 5xx) it raises ``TransientSinkError`` and the whole batch is
sent again later, so receivers must dedupe on the record key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from hmi_app.core import secrets
from hmi_app.core.deadlines import within

if TYPE_CHECKING:
    from hmi_app.runtime.outbox import OutboxRecord

__all__ = ["Sink", "TransientSinkError", "sink_password"]


class TransientSinkError(Exception):
    """The receiver is down, timed out or answered 5xx: retry the batch later."""


class Sink(Protocol):
    """A sync target: sends batches of outbox records to one receiver."""

    name: str

    async def send(self, records: Sequence[OutboxRecord]) -> dict[str, str]:
        """``{key: reason}`` for records rejected for good; the rest of the batch is confirmed.

        Raises ``TransientSinkError`` when unsure whether the receiver has the records.
        """
        ...

    async def close(self) -> None:
        """Release connections; the sink is not used afterwards."""
        ...


async def sink_password(
    password_env: str | None, password_keyring: str | None, timeout_s: float
) -> str | None:
    """The password a target names (environment or keyring), or None when it names none."""
    if password_env is not None:
        return secrets.resolve_password(password_env=password_env)
    if password_keyring is not None:
        # the keyring may talk to D-Bus: not on the event loop
        return await within(
            asyncio.to_thread(secrets.resolve_password, None, password_keyring), timeout_s
        )
    return None
