"""The runtime of one project: simulated plants, drivers, tag engine and tag bus, started together.

It never imports Qt, so the same object runs behind the operator window and headless as a service.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from drivers import registry
from drivers.base import Driver
from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import ConnectionConfig
from hmi_app.plant.registry import SimulatedPlant, create_plant
from hmi_app.runtime.bus import TagBus
from hmi_app.runtime.engine import TagEngine

log = logging.getLogger(__name__)


class Runtime:
    """Owns everything that runs for a project; ``start`` and ``stop`` bracket its life."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.engine = TagEngine(project.model)
        self.bus = TagBus(self.engine)
        self.plants: dict[str, SimulatedPlant] = {}
        self.drivers: dict[str, Driver] = {}
        self._started = False

    async def start(self) -> None:
        """Serve the simulated plants the project names, then connect every driver."""
        if self._started:
            return
        self._started = True
        try:
            for name, connection in self.project.model.connections.items():
                settings = driver_settings(connection, self.project.folder)
                plant_name = connection.simulated_plant
                if plant_name:
                    plant = self.plants.get(plant_name)
                    if plant is None:
                        plant = self.plants[plant_name] = create_plant(plant_name)
                        address = await plant.start()
                        log.info("simulated plant %s serving on %s:%d", plant_name, *address)
                    settings["host"], settings["port"] = plant.address
                self.drivers[name] = registry.create(connection.driver, name, settings)
            await self.engine.start(self.drivers)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop drivers, then plants; safe to call more than once."""
        await self.engine.stop()
        plants, self.plants = self.plants, {}
        for plant in plants.values():
            try:
                await plant.stop()
            except Exception:
                log.exception("simulated plant did not stop cleanly")
        self.drivers = {}
        self._started = False

    def subscribe_all(self) -> None:
        """Read every device tag (for headless runs, where no screen picks tags)."""
        for name in self.engine.tag_names():
            self.engine.subscribe(name, _ignore)


def _ignore(_value: object) -> None:
    return None


def driver_settings(connection: ConnectionConfig, project_folder: Path) -> dict[str, Any]:
    """A connection's driver settings, with relative paths resolved against the project folder.

    Settings named ``*_dir``, ``*_file`` or ``*_path`` (an OPC UA PKI folder, a certificate) are
    paths; a relative one means "inside the project", whatever folder the app was started from.
    """
    settings = connection.driver_settings()
    for key, value in settings.items():
        if key.endswith(("_dir", "_file", "_path")) and isinstance(value, str) and value:
            path = Path(value).expanduser()
            settings[key] = str(path if path.is_absolute() else project_folder / path)
    return settings
