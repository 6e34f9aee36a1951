"""The RTU driver against a responder on the serial pair that misbehaves on purpose.

Whatever it does wrong (bad CRC, garbage, another unit answering, the wrong function or size,
a cut-off frame, silence, a reply so late that the next request is already waiting), no value is
ever credited to the wrong point: every register holds a value derived from its own address, so
a misplaced reply would show up as a GOOD sample with the wrong value. Once the responder
behaves again, the points come back by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import struct
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import serial

from drivers.base import LinkState, PointSpec
from drivers.modbus import serial_rtu
from drivers.modbus.serial_rtu import crc16, crc_ok, with_crc
from hmi_app.core.quality import Quality
from tests.support.modbus_tables import (
    EXPECTED,
    POINTS,
    assert_nothing_misplaced,
    holding,
    inputs,
)

if TYPE_CHECKING:  # fixture types, from tests/drivers_rtu/conftest.py
    from conftest import MakeDriver

    from tests.support.recording import Recorder
    from tests.support.serial_rtu import SerialPair

TIMEOUT_MS = 200


class Responder:
    """A small RTU slave (functions 3, 4 and 6) on one end of the pair; ``mode`` picks how it
    misbehaves. Requests with a bad CRC are counted and ignored, as a real slave does."""

    def __init__(self, port: str) -> None:
        self.mode = "good"
        self.requests = 0
        self.bad_requests = 0
        self._serial = serial.Serial(port, baudrate=115200, timeout=0)
        self._fd = self._serial.fileno()
        self._buffer = bytearray()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self._readable)
        self._timers: set[asyncio.TimerHandle] = set()
        self.delay_s = 0.0  # answer after this long (a slow device)
        self.busy = 0  # replies not yet sent
        self.overlaps = 0  # requests that arrived while a reply was still due: never on RS-485
        self.units: list[int] = []
        self.echo = False
        self.silences: list[float] = []  # from the end of each reply to the next request
        self._last_sent = 0.0

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._loop.remove_reader(self._fd)
        self._serial.close()

    def _readable(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._buffer += os.read(self._fd, 4096)
        while len(self._buffer) >= 8:
            frame, self._buffer = bytes(self._buffer[:8]), self._buffer[8:]
            if not crc_ok(frame):
                self.bad_requests += 1
                self._buffer.clear()
                continue
            self.requests += 1
            if self._last_sent:
                self.silences.append(self._loop.time() - self._last_sent)
            unit, function, address, count = struct.unpack(">BBHH", frame[:6])
            self.units.append(unit)
            if self.busy:
                self.overlaps += 1
            # function 6 (write one register) is answered with the request itself
            reply = frame if function == 6 else self._reply(unit, function, address, count)
            if reply is None:
                continue
            if self.echo:  # as a 2-wire adapter without echo cancelling does
                self._send(frame)
            if self.mode == "late" and address == 0:
                # answer HR0 only after the driver gave up on it and moved on
                timer = self._loop.call_later(TIMEOUT_MS / 1000 * 1.3, self._send, reply)
                self._timers.add(timer)
                continue
            if self.delay_s:
                self.busy += 1
                self._timers.add(self._loop.call_later(self.delay_s, self._send_late, reply))
                continue
            self._send(reply)

    def _send_late(self, data: bytes) -> None:
        self.busy -= 1
        self._send(data)

    def _send(self, data: bytes) -> None:
        if self._serial.is_open:
            os.write(self._fd, data)
            self._last_sent = self._loop.time()

    def _reply(self, unit: int, function: int, address: int, count: int) -> bytes | None:
        value = holding if function == 3 else inputs
        registers = [value(address + i) for i in range(count)]
        mode = self.mode
        if mode == "silent":
            return None
        if mode == "wrong_count":
            registers.append(value(address + count))
        if mode == "wrong_function":
            function = 4 if function == 3 else 3
        if mode == "wrong_unit":
            unit += 1
        body = struct.pack(f">BBB{len(registers)}H", unit, function, 2 * len(registers), *registers)
        frame = with_crc(body)
        if mode == "bad_crc":
            return frame[:-1] + bytes((frame[-1] ^ 0x5A,))
        if mode == "short":
            return frame[:-3]
        if mode == "garbage":
            noise = bytes((unit, function, 200)) + os.urandom(len(frame))
            return noise if not crc_ok(noise) else noise + b"\x00"
        if mode == "noise_after":
            return frame + b"\xff\x00\x13"
        if mode == "glitch_before":
            return b"\x00\xff" + frame
        return frame


@pytest.fixture
async def responder(serial_pair: SerialPair) -> AsyncIterator[Responder]:
    device = Responder(serial_pair.a)
    try:
        yield device
    finally:
        device.close()


TIMEOUT = ("timeout: no reply within 200 ms",)
# Three requests in a row without a valid reply (silence or garbage) count as a lost link: every
# reply garbled is what a wrong baud rate or parity looks like.
LOST = ("comm failure: 3 requests in a row without a valid reply",)
CRC = ("comm failure: bad CRC in a reply of 7 bytes: dropped",)
GARBLED = ("comm failure: garbled reply (", "comm failure: bad CRC in a reply of ")
WRONG = "comm failure: reply of the wrong "


@pytest.mark.parametrize(
    ("mode", "reasons"),
    [
        ("bad_crc", {"hr0": CRC, "ir0": LOST}),
        ("garbage", {"hr0": GARBLED, "hr100": GARBLED, "ir0": LOST}),
        ("wrong_unit", {"hr0": ("comm failure: reply from unit 2, asked unit 1",), "ir0": LOST}),
        ("wrong_function", {"hr0": (f"{WRONG}kind (function 4, asked 3)",), "ir0": LOST}),
        ("wrong_count", {"hr0": (f"{WRONG}size (4 bytes, asked 2)",), "ir0": LOST}),
        ("short", {"hr0": ("comm failure: garbled reply (4 bytes, bad CRC): dropped",)}),
        ("silent", {"hr0": TIMEOUT, "hr100": TIMEOUT, "ir0": LOST}),
        ("late", {"hr0": TIMEOUT}),
    ],
)
async def test_misbehaving_responder_never_credits_a_wrong_value(
    responder: Responder,
    recorder: Recorder,
    make_driver: MakeDriver,
    mode: str,
    reasons: dict[str, tuple[str, ...]],
) -> None:
    driver = await make_driver(POINTS, timeout_ms=TIMEOUT_MS)
    await recorder.wait_for(lambda: recorder.good(*EXPECTED))
    assert_nothing_misplaced(recorder)

    responder.mode = mode
    for key, reason in reasons.items():  # seen at least once (a lost link may follow)
        await recorder.wait_for(
            lambda k=key, r=reason: any(
                s.key == k and s.quality is Quality.BAD and s.reason.startswith(r)
                for s in recorder.samples
            ),
            within=3.0,
        )
    await asyncio.sleep(0.5)  # let it misbehave for a while (and the driver reconnect)
    assert_nothing_misplaced(recorder)
    if mode == "late":  # the late replies arrived while the line had to be quiet: dropped
        assert serial_rtu.bus_of(driver.settings.port).dropped_bytes > 0

    responder.mode = "good"
    await recorder.wait_for(lambda: recorder.good(*EXPECTED), within=5.0)
    await recorder.wait_for(lambda: driver.link_state is LinkState.CONNECTED)
    assert_nothing_misplaced(recorder)
    assert {k: recorder.value(k) for k in EXPECTED} == EXPECTED
    assert responder.bad_requests == 0  # every request the driver sent had a good CRC


@pytest.mark.parametrize("mode", ["noise_after", "glitch_before"])
async def test_line_noise_around_a_good_frame_is_dropped(
    responder: Responder, recorder: Recorder, make_driver: MakeDriver, mode: str
) -> None:
    responder.mode = mode
    await make_driver(POINTS, timeout_ms=TIMEOUT_MS)
    await recorder.wait_for(lambda: recorder.good(*EXPECTED))
    await asyncio.sleep(0.3)
    assert_nothing_misplaced(recorder)
    assert all(s.quality is Quality.GOOD for s in recorder.samples)


async def test_units_on_one_port_take_turns_on_the_line(
    responder: Responder, recorder: Recorder, make_driver: MakeDriver
) -> None:
    responder.delay_s = 0.01  # a slow device: a request would overlap if anything pipelined
    for unit in (1, 2):
        points = [
            PointSpec(f"u{unit}.{p.key}", p.address, p.data_type, scan_ms=100) for p in POINTS
        ]
        await make_driver(points, name=f"unit{unit}", unit_id=unit, timeout_ms=TIMEOUT_MS)
    keys = [f"u{unit}.{key}" for unit in (1, 2) for key in EXPECTED]
    await recorder.wait_for(lambda: recorder.good(*keys))
    await asyncio.sleep(0.5)
    assert responder.overlaps == 0 and responder.requests > 20
    assert set(responder.units) == {1, 2}
    for sample in recorder.samples:
        assert sample.quality is Quality.GOOD and sample.value == EXPECTED[sample.key[3:]]


async def test_the_line_is_quiet_for_three_and_a_half_characters_between_frames(
    responder: Responder, recorder: Recorder, make_driver: MakeDriver
) -> None:
    # At 1200 baud 8N1 a character takes 8.3 ms, so the silence is 29 ms. The pty does not slow
    # the bytes down, so the responder answers only after the request would have taken on a
    # real line (67 ms); the driver keeps the line quiet by the clock.
    responder.delay_s = 0.1
    points = [dataclasses.replace(p, scan_ms=1000) for p in POINTS]
    await make_driver(points, timeout_ms=TIMEOUT_MS, baudrate=1200)
    await recorder.wait_for(lambda: recorder.good(*EXPECTED))
    assert len(responder.silences) >= 3  # back-to-back requests of one scan pass
    assert min(responder.silences) >= 3.5 * 10 / 1200 - 0.001


async def test_an_adapter_that_echoes_what_it_sends(
    responder: Responder, recorder: Recorder, make_driver: MakeDriver
) -> None:
    responder.echo = True
    unaware = await make_driver(POINTS, timeout_ms=TIMEOUT_MS)  # takes the echo for the reply
    await recorder.wait_for(
        lambda: recorder.bad("hr0") and "bad CRC" in recorder.latest["hr0"].reason
    )
    await unaware.stop()
    assert_nothing_misplaced(recorder)
    recorder.samples.clear()
    driver = await make_driver(POINTS, timeout_ms=TIMEOUT_MS, local_echo=True)
    await recorder.wait_for(lambda: recorder.good(*EXPECTED))
    await driver.write(POINTS[0], 5)  # a write's reply is its own echo: still told apart
    await asyncio.sleep(0.2)
    assert_nothing_misplaced(recorder)
    assert all(s.quality is Quality.GOOD for s in recorder.samples)
    assert serial_rtu.bus_of(driver.settings.port).dropped_bytes == 0


async def test_stopping_during_a_request_is_quick_and_leaves_nothing(
    responder: Responder, recorder: Recorder, make_driver: MakeDriver
) -> None:
    responder.delay_s = 0.3
    driver = await make_driver(POINTS[:2], timeout_ms=1000)
    await recorder.wait_for(lambda: responder.busy > 0)  # a request is on the line
    loop = asyncio.get_running_loop()
    started = loop.time()
    await driver.stop()
    assert loop.time() - started < 0.1
    assert not serial_rtu._BUSES
    assert [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("modbus")] == []


def test_crc16_matches_the_specification() -> None:
    # Read 10 holding registers from address 0 of unit 1: the textbook frame 01 03 00 00 00 0A C5 CD
    assert with_crc(bytes.fromhex("01030000000A")).hex() == "01030000000ac5cd"
    assert crc16(b"123456789") == 0x4B37  # the CRC-16/MODBUS check value
    assert crc_ok(bytes.fromhex("01030000000AC5CD"))
    assert not crc_ok(bytes.fromhex("01030000000AC5CE"))
    assert not crc_ok(b"\x01\x03")
