"""Link supervision of the Modbus driver core: the transports of one device and their lifecycle.

``ModbusLink`` connects the transports a driver makes, reports every state change, waits until
one is lost (a drop the transport reports, an error, or ``LINK_TIMEOUTS`` timeouts in a row),
tells the scanner to publish the outage, and reconnects with ``drivers.backoff.Backoff``. Each
connection is a new *generation*; a reply or error from an older one is never acted on
(``current``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from drivers.backoff import Backoff
from drivers.base import LinkState
from drivers.linkstate import LinkReporter
from drivers.modbus.errors import LinkError
from hmi_app.core.quality import Reason

LINK_TIMEOUTS = 3  # timeouts in a row on one connection that count as a lost link


class ModbusTransport(Protocol):
    """One way to a Modbus device, as the driver core uses it.

    Requests raise ``LinkError`` (link down or lost while waiting), ``ExceptionReply``,
    ``ProtocolError`` (a reply that does not fit the request) or ``TimeoutError``. A transport
    calls the ``on_lost`` callback it was made with when the link drops by itself.
    """

    async def connect(self) -> None:
        """Open the link; raise LinkError with a reason for the user."""
        ...

    def close(self) -> None:
        """Close the link; pending requests fail with LinkError."""
        ...

    async def wait_closed(self) -> None:
        """Wait until whatever ``close`` set in motion (a polling task, say) has ended."""
        ...

    async def read_registers(self, unit: int, function: int, address: int, count: int) -> bytes:
        """Function 3 or 4: the ``count`` registers as ``2 * count`` big-endian bytes."""
        ...

    async def read_bits(self, unit: int, function: int, address: int, count: int) -> list[bool]:
        """Function 1 or 2: ``count`` coils or discrete inputs."""
        ...

    async def write_register(self, unit: int, address: int, value: int) -> None:
        """Function 6."""
        ...

    async def write_registers(self, unit: int, address: int, values: list[int]) -> None:
        """Function 16."""
        ...

    async def write_coil(self, unit: int, address: int, value: bool) -> None:
        """Function 5."""
        ...


TransportFactory = Callable[[Callable[[str], None]], list[ModbusTransport]]


class ModbusLink:
    """The transports of one Modbus device: connect, watch, lose, back off, reconnect.

    ``on_up`` is called once a generation is connected (after ``CONNECTED`` is reported),
    ``on_down(reason)`` once per failed attempt or lost link (before ``DISCONNECTED``).
    """

    def __init__(
        self,
        name: str,
        backoff: Backoff,
        new_transports: TransportFactory,
        target: Callable[[], str],
        no_reply_text: Callable[[], str],
        on_up: Callable[[], None],
        on_down: Callable[[str], None],
    ) -> None:
        self.name = name
        self._backoff = backoff
        self._new_transports = new_transports
        self._target = target
        self._no_reply_text = no_reply_text
        self._on_up = on_up
        self._on_down = on_down
        self.report = LinkReporter(name)
        self.clients: list[ModbusTransport] = []
        self.generation = 0
        self.connected = False
        self.down_reason = ""  # why the link is down, while it is ("" when up or stopped)
        self.timeouts_in_row = 0
        self._lost = asyncio.Event()
        self._lost_reason = ""

    def reset(self) -> None:
        """Prepare for ``run`` on the running event loop (at every driver start)."""
        self._lost = asyncio.Event()

    async def run(self) -> None:
        """The supervisor task: connect, wait for a loss, back off, forever (until cancelled)."""
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            self.report.set(LinkState.CONNECTING, f"connecting to {self._target()}")
            generation = self.generation + 1
            try:
                clients = await self._connect_all(generation)
            except ConnectionError as exc:
                reason = f"{Reason.COMM_FAILURE}: {exc}"
            else:
                self.clients, self.generation, self.connected = clients, generation, True
                self.down_reason = ""
                self._lost.clear()
                up_since = loop.time()
                self.timeouts_in_row = 0
                self.report.set(LinkState.CONNECTED, self._target())
                self._on_up()
                await self._lost.wait()
                reason = self._lost_reason
                self.connected = False
                self.close_clients()
                if loop.time() - up_since >= self._backoff.stable_s:
                    attempt = 0
            delay = self._backoff.delay(attempt)
            attempt += 1
            self.down_reason = reason
            self._on_down(reason)
            self.report.set(LinkState.DISCONNECTED, f"{reason}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _connect_all(self, generation: int) -> list[ModbusTransport]:
        clients = self._new_transports(self._loss_callback(generation))
        try:
            for client in clients:
                await client.connect()
        except LinkError as exc:
            _close(clients)
            raise ConnectionError(str(exc)) from None
        except BaseException:
            _close(clients)
            raise
        return clients

    def _loss_callback(self, generation: int) -> Callable[[str], None]:
        def lost(reason: str) -> None:
            self.lose(generation, f"{Reason.COMM_FAILURE}: {reason}")

        return lost

    def lose(self, generation: int, reason: str) -> None:
        """Generation ``generation`` is lost (ignored if it is not the current one)."""
        if generation == self.generation and self.connected:
            self.connected = False
            self._lost_reason = reason
            self._lost.set()

    def current(self, generation: int) -> bool:
        """Whether ``generation`` is the connected one (its replies may be published)."""
        return self.connected and generation == self.generation

    def count_timeout(self, generation: int) -> None:
        """One more request unanswered; ``LINK_TIMEOUTS`` in a row lose the link."""
        self.timeouts_in_row += 1
        if self.timeouts_in_row >= LINK_TIMEOUTS:
            self.lose(generation, f"{Reason.COMM_FAILURE}: {self._no_reply_text()}")

    def close_clients(self) -> None:
        """Close the transports of the current generation."""
        clients, self.clients = self.clients, []
        _close(clients)

    async def shut(self) -> None:
        """Close the transports and wait until they have ended (the driver is stopping)."""
        clients = self.clients
        self.close_clients()
        for client in clients:
            await client.wait_closed()
        self.connected = False


def _close(clients: list[ModbusTransport]) -> None:
    for client in clients:
        client.close()


def timeout_reason(timeout_ms: int) -> str:
    """The reason published or raised for a request that got no reply in time."""
    return f"{Reason.TIMEOUT}: no reply within {timeout_ms} ms"
