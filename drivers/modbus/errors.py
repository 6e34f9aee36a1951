"""How a Modbus request can fail, the same for every transport (TCP pipeline, serial RTU).

The driver core (``driver.py``) tells them apart: a ``LinkError`` loses the link, an
``ExceptionReply`` concerns the addresses asked for, a ``ProtocolError`` (a reply that does not
fit its request) fails one read, and ``TimeoutError`` (the built-in) counts towards a silent link.
"""

from __future__ import annotations

from drivers.modbus.scan import exception_text


class ModbusError(Exception):
    """Base of the errors a request can end with."""


class ExceptionReply(ModbusError):
    """The device answered with a Modbus exception code."""

    def __init__(self, function: int, code: int) -> None:
        self.function, self.code = function, code
        super().__init__(exception_text(code))


class ProtocolError(ModbusError):
    """A reply that does not fit its request (wrong function, unit, size or checksum)."""


class LinkError(ModbusError):
    """The connection is down or was closed while the request was pending."""
