"""Simulated plants by name: a project's connection names one with ``simulated_plant:``.

Each plant is imported only when asked for, like the drivers in ``drivers.registry``.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol


class SimulatedPlant(Protocol):
    """A simulated machine or line serving its signals through a real protocol server."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start the simulation and the server (port 0: a free one); the bound (host, port)."""
        ...

    async def stop(self) -> None:
        """Stop server and simulation, leaving no task behind."""
        ...

    async def stop_server(self) -> None:
        """Close only the server (the simulation keeps running): a link loss for demos."""
        ...

    async def restart_server(self) -> None:
        """Serve again on the same port."""
        ...

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) served; RuntimeError before the first start."""
        ...


class UnknownPlant(KeyError):
    """No simulated plant has that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_PLANTS: dict[str, str] = {
    "bottling_line": "hmi_app.plant.bottling_plant:BottlingLinePlant",
}


def plant_names() -> list[str]:
    """Every simulated plant's name, sorted."""
    return sorted(_PLANTS)


def create_plant(name: str, **options: Any) -> SimulatedPlant:
    """A new, not yet started plant; ``options`` go to its constructor (e.g. ``seed``)."""
    try:
        target = _PLANTS[name]
    except KeyError:
        raise UnknownPlant(
            f"unknown simulated plant {name!r}; known: {', '.join(plant_names())}"
        ) from None
    module_name, _, attr = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    plant: SimulatedPlant = factory(**options)
    return plant
