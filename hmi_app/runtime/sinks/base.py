"""What every sync target (file drop, REST, SQL, MQTT) promises the outbox's sender.

A sink gets a batch of outbox records in order and answers which of them the receiver refused
for good; every other record of the batch counts as confirmed and leaves the outbox. When the sink
cannot tell (receiver down, timeout, 5xx) it raises ``TransientSinkError`` and the whole batch is
sent again later, so receivers must dedupe on the record key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hmi_app.runtime.outbox import OutboxRecord

__all__ = ["Sink", "TransientSinkError"]


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
