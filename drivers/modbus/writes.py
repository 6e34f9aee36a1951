"""Writes of the Modbus driver core: check and encode a value, send it, map errors for the user.

A coil or a bit of a holding register takes a bool (the bit by read-modify-write of its
register); a holding register value is encoded by ``codec.encode``. Every failure raises
``DriverWriteError`` with the reason; a lost link is also reported to the ``ModbusLink``.
"""

from __future__ import annotations

from typing import Any

from drivers.base import AddressError, DriverWriteError, PointSpec
from drivers.modbus import address as addr
from drivers.modbus.codec import CodecError, encode
from drivers.modbus.errors import ExceptionReply, LinkError, ProtocolError
from drivers.modbus.link import ModbusLink, ModbusTransport, timeout_reason
from drivers.modbus.settings import ModbusSettings
from hmi_app.core.quality import Reason


def prepare(
    point: PointSpec, value: Any, settings: ModbusSettings
) -> tuple[addr.ModbusAddress, list[int]]:
    """Where ``point`` is and, for a register value, its registers; DriverWriteError if it
    cannot be written (a bool for a coil or bit: no registers)."""
    try:
        where = addr.validate(point, settings.max_block_registers)
    except AddressError as exc:
        raise DriverWriteError(str(exc)) from None
    if not where.table.writable:
        raise DriverWriteError(
            f"{point.address} is in the {where.table.label}, which are read-only:"
            " only holding registers (HR) and coils (CO) can be written"
        )
    registers: list[int] = []
    if where.table is addr.Table.COIL or where.bit is not None:
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise DriverWriteError(f"cannot write {value!r} to {point.address}: not a bool")
    else:
        try:
            registers = encode(
                value, point.data_type, point.byte_order, point.word_order, point.length
            )
        except CodecError as exc:
            raise DriverWriteError(f"cannot write to {point.address}: {exc}") from None
    return where, registers


async def write(
    link: ModbusLink, settings: ModbusSettings, target: str, point: PointSpec, value: Any
) -> None:
    """Write ``value`` to ``point`` over the link's first transport; DriverWriteError if not."""
    where, registers = prepare(point, value, settings)
    if not link.connected or not link.clients:
        raise DriverWriteError(
            f"{Reason.NOT_CONNECTED}: {link.down_reason or 'no connection to ' + target}"
        )
    client, generation = link.clients[0], link.generation
    unit, offset, text = settings.unit_id, where.offset, point.address
    try:
        if where.table is addr.Table.COIL:
            await client.write_coil(unit, offset, bool(value))
        elif where.bit is not None:
            await _write_bit(client, unit, where, bool(value))
        elif len(registers) == 1:
            await client.write_register(unit, offset, registers[0])
        else:
            await client.write_registers(unit, offset, registers)
    except ExceptionReply as exc:
        raise DriverWriteError(f"{text}: {Reason.DEVICE_EXCEPTION}: {exc}") from None
    except LinkError as exc:
        link.lose(generation, f"{Reason.COMM_FAILURE}: {exc}")
        raise DriverWriteError(f"{text}: {Reason.COMM_FAILURE}: {exc}") from None
    except ProtocolError as exc:
        raise DriverWriteError(f"{text}: {Reason.COMM_FAILURE}: {exc}") from None
    except TimeoutError:
        raise DriverWriteError(f"{text}: {timeout_reason(settings.timeout_ms)}") from None


async def _write_bit(
    client: ModbusTransport, unit: int, where: addr.ModbusAddress, value: bool
) -> None:
    """Read-modify-write of one bit of a holding register (not atomic against the PLC)."""
    raw = await client.read_registers(unit, 3, where.offset, 1)
    assert where.bit is not None
    mask = 1 << where.bit
    word = int.from_bytes(raw, "big")
    word = (word | mask) if value else (word & ~mask)
    await client.write_register(unit, where.offset, word)
