"""What a driver under test publishes and reports about its link, and the drivers a test started.

Every driver test package (Modbus TCP, Modbus RTU, Logix, OPC UA) hands a driver the same two
callbacks and waits on the same conditions; :class:`Recorder` is that one recorder and
:class:`StartedDrivers` starts drivers on it and stops them all when the test ends. Both speak
only the ``drivers.base`` protocol, so each package's ``make_driver`` fixture keeps only what is
its own: the driver class and its test settings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from drivers.base import Driver, LinkState, PointSpec, Sample
from hmi_app.core.quality import Quality


@dataclass
class Recorder:
    """Collects published samples and link changes; ``wait_for`` polls a condition."""

    samples: list[Sample] = field(default_factory=list)
    batches: list[Sequence[Sample]] = field(default_factory=list)
    links: list[tuple[LinkState, str]] = field(default_factory=list)
    latest: dict[str, Sample] = field(default_factory=dict)
    on_batch: Callable[[], None] | None = None  # called after each batch (to take counts)

    def publish(self, samples: Sequence[Sample]) -> None:
        self.batches.append(samples)
        if self.on_batch is not None:
            self.on_batch()
        for sample in samples:
            self.samples.append(sample)
            self.latest[sample.key] = sample

    def on_link(self, state: LinkState, detail: str) -> None:
        self.links.append((state, detail))

    def of(self, key: str) -> list[Sample]:
        """Every sample published for ``key``, oldest first."""
        return [s for s in self.samples if s.key == key]

    def value(self, key: str) -> Any:
        """The latest value of ``key``, which must be GOOD."""
        sample = self.latest[key]
        assert sample.quality is Quality.GOOD, f"{key}: {sample.quality.name} {sample.reason}"
        return sample.value

    def good(self, *keys: str) -> bool:
        return all(k in self.latest and self.latest[k].quality is Quality.GOOD for k in keys)

    def bad(self, *keys: str) -> bool:
        return all(k in self.latest and self.latest[k].quality is Quality.BAD for k in keys)

    def reset(self) -> None:
        """Forget the samples and batches so far (link changes are kept)."""
        self.samples.clear()
        self.latest.clear()
        self.batches.clear()

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> float:
        """Seconds until ``condition()`` held; fails the test after ``within`` seconds."""
        start = time.monotonic()
        while not condition():
            if time.monotonic() - start > within:
                pytest.fail(
                    f"condition not met within {within} s; latest: {self.latest};"
                    f" links: {self.links[-3:]}"
                )
            await asyncio.sleep(0.01)
        return time.monotonic() - start


D = TypeVar("D", bound=Driver)


class StartedDrivers:
    """Starts drivers publishing to a :class:`Recorder`; ``stop_all`` stops every one of them."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.started: list[Driver] = []

    async def start(
        self,
        driver: D,
        points: Sequence[PointSpec] = (),
        *,
        rec: Recorder | None = None,
        publish: Callable[[Sequence[Sample]], None] | None = None,
    ) -> D:
        """Subscribe ``points`` and start ``driver``, publishing to ``publish`` if given, else to
        ``rec`` or the shared recorder (link changes go to that recorder either way)."""
        target = rec or self.recorder
        driver.subscribe(points)
        self.started.append(driver)
        await driver.start(publish or target.publish, target.on_link)
        return driver

    async def stop_all(self) -> None:
        for driver in self.started:
            await driver.stop()
