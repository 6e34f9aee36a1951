"""Disposal of an asyncua client so that none of its tasks outlives it.

asyncua keeps a supervisor, a watchdog, a channel-renewal and a publish task in private
attributes; ``Client.disconnect`` waits for the server and leaves some of them running when the
link is already gone. ``dispose`` closes the socket and cancels and awaits every one of them
(looked up defensively, as the attribute names differ between asyncua versions).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from asyncua.client.client import Client

from hmi_app.core.deadlines import within

__all__ = ["dispose"]


async def dispose(client: Client, graceful: bool) -> None:
    """Close ``client`` and make sure none of its tasks outlives it.

    ``graceful`` first asks the server to close the session (at most 1.5 s).
    """
    client.connection_lost_callback = None
    if graceful:
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await within(client.disconnect(), 1.5)
    uaclient = client.uaclient
    uaclient.request_disconnect()
    # asyncua's own tasks (private attributes: looked up defensively across versions)
    tasks: list[asyncio.Task[Any] | None] = [
        getattr(client, "_supervisor_task", None),
        getattr(client, "_stale_watchdog_task", None),
        getattr(client, "_renew_channel_task", None),
        getattr(getattr(uaclient, "session", None), "_publish_task", None),
    ]
    with contextlib.suppress(Exception):
        uaclient.disconnect_socket()
    live = [t for t in tasks if t is not None and not t.done() and t is not asyncio.current_task()]
    for task in live:
        task.cancel()
    if live:
        await asyncio.wait(live, timeout=2.0)
