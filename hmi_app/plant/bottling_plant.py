"""The bottling line served over Modbus TCP: the register map of resources/demo/project.yaml.

Holding registers: HR0 float32 speed setpoint (bpm, written by operators), HR10 line state, HR11
fault code, HR20..HR27 line name (16 characters). Coils CO0 start, CO1 stop, CO2 fault reset are
momentary: the plant acts on a set coil and clears it. Discrete inputs: DI0 infeed running, DI1
filler running, DI2 filler valve open, DI3 capper running, DI4 labeller running, DI5 reject active,
DI6..DI9 infeed, filler, capper, labeller faulted (the machine the line's fault code belongs to;
the order of the demo project, which is the contract). Input registers: IR0 infeed speed
0..1000 (= 0..100 %), IR10 filler speed, IR12 tank level, IR14 tank temperature, IR16 capper and
IR18 labeller speed (float32, bpm: every machine has running, faulted and speed), IR20
capper torque int16 0..100 (= 0..10 N·m), IR21 labeller stock %, IR30 good and IR32 reject counts
(uint32, high word first), IR40 running seconds (uint32, LOW word first), IR50 energy kWh (float64).
"""

from __future__ import annotations

from hmi_app.plant import words
from hmi_app.plant.bottling import MACHINES, BottlingLine, BottlingParams
from hmi_app.plant.server import ModbusPlantServer, RegisterImage, Table

LINE_NAME = "LINE 1 BOTTLING"
NAME_LENGTH = 16

# Holding registers
HR_SPEED_SP = 0
HR_STATE = 10
HR_FAULT = 11
HR_NAME = 20
# Coils
CO_START = 0
CO_STOP = 1
CO_RESET = 2
# Discrete inputs
DI_INFEED_RUNNING = 0
DI_FILLER_RUNNING = 1
DI_VALVE_OPEN = 2
DI_CAPPER_RUNNING = 3
DI_LABELLER_RUNNING = 4
DI_REJECT_ACTIVE = 5
DI_FAULTED = {"infeed": 6, "filler": 7, "capper": 8, "labeller": 9}
# Input registers
IR_INFEED_SPEED = 0
IR_FILLER_SPEED = 10
IR_TANK_LEVEL = 12
IR_TANK_TEMP = 14
IR_CAPPER_SPEED = 16
IR_LABELLER_SPEED = 18
IR_CAPPER_TORQUE = 20
IR_LABEL_STOCK = 21
IR_GOOD = 30
IR_REJECT = 32
IR_RUNTIME = 40
IR_ENERGY = 50


class BottlingLinePlant:
    """A simulated bottling line behind a Modbus TCP server (satisfies ``SimulatedPlant``).

    ``model`` is the live line, for tests and demos to force faults or starvation.
    """

    name = "bottling_line"

    def __init__(
        self, seed: int = 1, params: BottlingParams | None = None, period_s: float = 0.1
    ) -> None:
        self.model = BottlingLine(seed=seed, params=params)
        self.image = RegisterImage()
        self._server = ModbusPlantServer(self.name, self.image, self.tick, period_s)
        self._published_sp = self.model.setpoint
        self.image.write(Table.HOLDING, HR_NAME, words.string(LINE_NAME, NAME_LENGTH))
        self.publish()

    # ---- SimulatedPlant ------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self._server.address

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        return await self._server.start(host, port)

    async def stop(self) -> None:
        await self._server.stop()

    async def stop_server(self) -> None:
        await self._server.stop_server()

    async def restart_server(self) -> None:
        await self._server.restart_server()

    # ---- one simulation tick -------------------------------------------------------------

    def tick(self, dt: float) -> None:
        """Take the commands clients wrote, advance the line by ``dt``, publish its values."""
        self.apply_commands()
        self.model.step(dt)
        self.publish()

    def apply_commands(self) -> None:
        """Act on set command coils (then clear them) and on a new speed setpoint."""
        start, stop, reset = self.image.read_bits(Table.COILS, CO_START, 3)
        if stop:
            self.model.stop()
        if reset:
            self.model.reset_fault()
        if start and not stop:
            self.model.start()
        if start or stop or reset:
            self.image.write(Table.COILS, CO_START, [False, False, False])
        written = words.to_float32(self.image.read(Table.HOLDING, HR_SPEED_SP, 2))
        if written != self._published_sp:
            self.model.set_setpoint(written)

    def publish(self) -> None:
        """Write the line's state into the register image."""
        m = self.model
        setpoint = words.float32(m.setpoint)
        if self.image.read(Table.HOLDING, HR_SPEED_SP, 2) != setpoint:
            # a clamped or refused (NaN) setpoint is written back, as a PLC would
            self.image.write(Table.HOLDING, HR_SPEED_SP, setpoint)
        self._published_sp = words.to_float32(setpoint)
        self.image.write(Table.HOLDING, HR_STATE, [int(m.state), int(m.fault_code)])
        running = m.machines_running
        bits = {
            DI_INFEED_RUNNING: m.infeed_running,
            DI_FILLER_RUNNING: running,
            DI_VALVE_OPEN: m.valve_open,
            DI_CAPPER_RUNNING: running,
            DI_LABELLER_RUNNING: running,
            DI_REJECT_ACTIVE: m.reject_active,
        }
        bits.update({DI_FAULTED[machine]: m.machine_faulted(machine) for machine in MACHINES})
        self.image.write(Table.DISCRETE_INPUTS, 0, [int(bits[i]) for i in range(len(bits))])
        self.image.write(Table.INPUT, IR_INFEED_SPEED, [round(m.infeed_speed_pct * 10.0)])
        self.image.write(
            Table.INPUT,
            IR_FILLER_SPEED,
            words.float32(m.filler_speed)
            + words.float32(m.tank_level)
            + words.float32(m.temperature)
            + words.float32(m.machine_speed)
            + words.float32(m.machine_speed),
        )
        self.image.write(
            Table.INPUT,
            IR_CAPPER_TORQUE,
            words.int16(round(m.capper_torque * 10.0)) + words.uint16(int(m.label_stock)),
        )
        self.image.write(
            Table.INPUT, IR_GOOD, words.uint32(m.good_count) + words.uint32(m.reject_count)
        )
        self.image.write(Table.INPUT, IR_RUNTIME, words.uint32(int(m.runtime_s), "little"))
        self.image.write(Table.INPUT, IR_ENERGY, words.float64(m.energy_kwh))
