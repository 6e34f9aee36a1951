"""Writes of the Logix driver: check and convert the value, check the tag against the tag list
(or declare it when there is none), write it on the controller's thread, map errors for the user.
"""

from __future__ import annotations

from typing import Any

from drivers.base import AddressError, DriverWriteError, PointSpec
from drivers.logix import address as addr
from drivers.logix.link import LogixLink
from drivers.logix.plc import CommFailure
from drivers.logix.scanner import Scanner
from drivers.logix.values import to_device
from hmi_app.core.quality import Reason


async def write(
    link: LogixLink, scanner: Scanner, timeout_ms: int, point: PointSpec, value: Any
) -> None:
    """Write ``value`` to ``point``; DriverWriteError says why it was not written."""
    try:
        where = addr.validate(point)
    except AddressError as exc:
        raise DriverWriteError(str(exc)) from None
    device_value = to_device(value, point)
    if not link.connected:
        raise DriverWriteError(
            f"{Reason.NOT_CONNECTED}: {link.down_reason or 'no connection to the controller'}"
        )
    controller = link.controller
    table = controller.table
    if table is not None:
        try:
            addr.resolve(where, point, table)
        except AddressError as exc:
            raise DriverWriteError(f"{Reason.CONFIG_ERROR}: {exc}") from None
    else:
        parsed = scanner.declarable()
        if point.key not in scanner.points:
            parsed.append((point, where))
        declared, errors = addr.declare(parsed)
        if point.key in errors:
            raise DriverWriteError(f"{Reason.CONFIG_ERROR}: {errors[point.key]}")
        await link.call(controller.declare, declared)  # a superset: harmless
    generation = link.generation
    request = where.request(addr.elements(point))
    try:
        error = await link.call(controller.write, request, device_value)
    except CommFailure as exc:
        link.lose(generation, f"{Reason.COMM_FAILURE}: {exc}")
        raise DriverWriteError(f"{point.address}: {Reason.COMM_FAILURE}: {exc}") from None
    except TimeoutError:
        raise DriverWriteError(
            f"{point.address}: {Reason.TIMEOUT}: no reply within {timeout_ms} ms"
        ) from None
    if error is not None:
        raise DriverWriteError(f"{point.address}: {Reason.DEVICE_EXCEPTION}: {error}")
