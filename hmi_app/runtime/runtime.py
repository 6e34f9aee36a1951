"""The runtime of one project: simulated plants, drivers, tag engine and tag bus, started together.

With a ``production:`` section it also opens the production database (in the project's data
folder), its outbox, the production service and one sender per enabled sync target. With tags
marked ``history`` it opens the historian (also in the data folder) and records them. It never
imports Qt, so the same object runs behind the operator window and headless as a service.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers import registry
from drivers.base import Driver
from hmi_app.core.project.loader import Project
from hmi_app.core.project.model import ConnectionConfig, ProjectModel
from hmi_app.core.project.production_model import project_data_dir
from hmi_app.core.project.production_tags import derived_tag_configs
from hmi_app.core.project.sync_targets import FileTarget
from hmi_app.core.quality import Quality
from hmi_app.plant.registry import SimulatedPlant, create_plant
from hmi_app.runtime.bus import TagBus
from hmi_app.runtime.engine import TagEngine
from hmi_app.runtime.historian import Historian, HistorianSettings
from hmi_app.runtime.historian_recorder import Recorder, record_specs
from hmi_app.runtime.historian_retention import RetentionKeeper
from hmi_app.runtime.outbox import Outbox
from hmi_app.runtime.production import ProductionService
from hmi_app.runtime.sinks import create_sink
from hmi_app.runtime.sinks.base import Sink
from hmi_app.runtime.store import Database
from hmi_app.runtime.sync import SenderOptions, SyncService

log = logging.getLogger(__name__)

PRODUCTION_BY_DEFAULT = True
"""Counting and sync run with the runtime; a one-shot ``read``/``write`` turns them off."""


class Runtime:
    """Owns everything that runs for a project; ``start`` and ``stop`` bracket its life."""

    def __init__(
        self,
        project: Project,
        *,
        clock: Callable[[], float] = time.time,
        production: bool = PRODUCTION_BY_DEFAULT,
        history: bool = True,
    ) -> None:
        """``clock`` is the production service's time (shifts, hours); tests may shift it.
        ``production``: start counting and sync for a project with a ``production:`` section
        (off, its figures read bad; meant for a one-shot ``read`` or ``write``).
        ``history``: record the tags marked ``history`` (off for a one-shot read or write, which
        must not record beside a running app)."""
        self.project = project
        self.engine = TagEngine(project.model)
        self.bus = TagBus(self.engine)
        self.plants: dict[str, SimulatedPlant] = {}
        self.drivers: dict[str, Driver] = {}
        self.database: Database | None = None
        self.outbox: Outbox | None = None
        self.production: ProductionService | None = None
        self.sync: SyncService | None = None
        self.historian: Historian | None = None
        self.recorder: Recorder | None = None
        self.retention: RetentionKeeper | None = None
        self._clock = clock
        self._with_history = history
        self._with_production = production
        self._started = False
        self._applying: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Serve the simulated plants the project names, then connect every driver."""
        if self._started:
            return
        self._started = True
        try:
            production = self.project.model.production
            if production is not None and self._with_production:
                await self._start_production()
            elif production is not None:
                for tag in derived_tag_configs(production):
                    if self.engine.config(tag.name) == tag:  # not a project tag of that name
                        self.engine.publish(tag.name, None, Quality.BAD, "counting is off")
            if self._with_history:
                await self._start_history()
            for name, connection in self.project.model.connections.items():
                self.drivers[name] = await self._make_driver(name, connection)
            await self.engine.start(self.drivers)
        except BaseException:
            await self.stop()
            raise

    async def _make_driver(self, name: str, connection: ConnectionConfig) -> Driver:
        """The driver for ``connection`` (its simulated plant served first, once)."""
        settings = driver_settings(connection, self.project.folder)
        plant_name = connection.simulated_plant
        if plant_name:
            plant = self.plants.get(plant_name)
            if plant is None:
                plant = self.plants[plant_name] = create_plant(plant_name)
                address = await plant.start()
                log.info("simulated plant %s serving on %s:%d", plant_name, *address)
            settings["host"], settings["port"] = plant.address
        return registry.create(connection.driver, name, settings)

    # ---- a project saved while running -----------------------------------------------------
    def apply_saved(
        self,
        model: ProjectModel,
        added_tags: Iterable[str],
        connections: Iterable[str],
        updated_tags: Iterable[str] = (),
    ) -> AppliedEdits:
        """Take what a save made while running can take without a restart: the tags it added
        join the engine now, those it changed take their new settings (limits, scaling,
        address…); the connections it added or whose settings it changed restart with them in
        the background (``wait_applied``). Renamed or removed connections, removed tags and
        tags moved to another connection wait for a restart."""
        tags = self.engine.add_tags(model, added_tags)
        updated = self.engine.update_tags(model, updated_tags)
        restarted: list[str] = []
        for name in connections:
            connection = model.connections.get(name)
            if connection is None or not self._started:
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the runtime's loop: nothing can restart from here
                break
            restarted.append(name)
            task = loop.create_task(
                self._restart_connection(name, connection), name=f"restart connection {name}"
            )
            self._applying.add(task)
            task.add_done_callback(self._applying.discard)
        return AppliedEdits(tags, restarted, updated)

    async def _restart_connection(self, name: str, connection: ConnectionConfig) -> None:
        try:
            driver = await self._make_driver(name, connection)
        except Exception as exc:  # settings a driver refuses: the old driver keeps running
            log.error("connection %s not restarted: %s", name, exc)
            return
        self.drivers[name] = driver
        await self.engine.replace_driver(name, driver)

    async def wait_applied(self) -> None:
        """Wait for connections restarting after a save (tests, stop)."""
        while self._applying:
            await asyncio.gather(*list(self._applying), return_exceptions=True)

    async def _start_production(self) -> None:
        """Database, outbox, senders, then the service (before the drivers: no value missed)."""
        model = self.project.model
        assert model.production is not None
        data_folder = project_data_dir(model.project.name)
        path = model.production.database_path(data_folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.database = await Database.open(path)
        sinks, options = await build_sinks(model, data_folder, self.project.folder)
        self.outbox = Outbox(self.database, list(sinks), model.production.outbox_capacity)
        self.sync = SyncService(self.outbox, sinks, options=options)
        try:
            await self.sync.start()
        except BaseException:
            await _close_sinks(sinks.values())
            self.sync = None
            raise
        self.production = ProductionService(
            model, self.engine, self.database, self.outbox, clock=self._clock
        )
        await self.production.start()

    async def _start_history(self) -> None:
        """Open the historian and start recording (before the drivers: no first value missed).

        Nothing is opened when no tag is marked ``history``: no empty file for such projects.
        """
        model = self.project.model
        settings = HistorianSettings.from_config(model.historian)
        specs = record_specs(model, settings)
        if not specs:
            return
        path = model.historian.file_path(project_data_dir(model.project.name))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.historian = await Historian.open(path, settings)
        self.recorder = Recorder(self.engine, self.historian, specs)
        self.recorder.start()
        self.retention = RetentionKeeper(self.historian)
        self.retention.start()

    async def _stop_history(self) -> None:
        """Stop purging, store what the recorder holds (the stop's own marks too), close."""
        retention, self.retention = self.retention, None
        recorder, self.recorder = self.recorder, None
        historian, self.historian = self.historian, None
        try:
            if retention is not None:
                await retention.stop()
            if recorder is not None:
                await recorder.stop()
        except Exception:
            log.exception("history recording did not stop cleanly")
        if historian is not None:
            try:
                await historian.close()
            except Exception:
                log.exception("history file did not close cleanly")

    async def stop(self) -> None:
        """Stop the production service, drivers, plants, history, senders and sinks, then the
        database; safe to call more than once."""
        await self.wait_applied()
        production, self.production = self.production, None
        if production is not None:
            try:
                await production.stop()
            except Exception:
                log.exception("production service did not stop cleanly")
        await self.engine.stop()
        plants, self.plants = self.plants, {}
        for plant in plants.values():
            try:
                await plant.stop()
            except Exception:
                log.exception("simulated plant did not stop cleanly")
        self.drivers = {}
        await self._stop_history()
        sync, self.sync = self.sync, None
        if sync is not None:
            try:
                await sync.stop()
            except Exception:
                log.exception("sync did not stop cleanly")
        database, self.database = self.database, None
        self.outbox = None
        if database is not None:
            try:
                await database.close()
            except Exception:
                log.exception("production database did not close cleanly")
        self._started = False

    def subscribe_all(self) -> None:
        """Read every device tag (for headless runs, where no screen picks tags)."""
        for name in self.engine.tag_names():
            self.engine.subscribe(name, _ignore)


def _ignore(_value: object) -> None:
    return None


@dataclass(frozen=True)
class AppliedEdits:
    """What a save made while running took effect at once: tags now live, connections being
    restarted with their new settings, tags running with their changed settings."""

    tags: list[str]
    connections: list[str]
    updated: list[str] = field(default_factory=list)


async def build_sinks(
    model: ProjectModel, data_folder: Path, project_folder: Path
) -> tuple[dict[str, Sink], dict[str, SenderOptions]]:
    """A sink and sender options per enabled sync target.

    A file drop's relative folder is in the project's data folder (as the project file says),
    other relative paths (a CA bundle) in the project folder.
    """
    sinks: dict[str, Sink] = {}
    options: dict[str, SenderOptions] = {}
    try:
        for name, target in model.sync_targets.items():
            if not target.enabled:
                log.info("sync target %s is disabled", name)
                continue
            settings = target.settings()
            if isinstance(target, FileTarget):
                settings["folder"] = str(target.folder_path(data_folder, name))
            options[name] = SenderOptions.from_settings(settings)
            sinks[name] = create_sink(name, settings, project_folder)
    except BaseException:
        await _close_sinks(sinks.values())  # those made so far may hold threads or connections
        raise
    return sinks, options


async def _close_sinks(sinks: Iterable[Sink]) -> None:
    for sink in sinks:
        try:
            await sink.close()
        except Exception:
            log.exception("sync target %s did not close cleanly", sink.name)


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
