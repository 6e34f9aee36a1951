"""Serve a simulated plant on its own, for testing other Modbus clients against it.

    python -m hmi_app.plant bottling_line --port 5020 [--host 127.0.0.1] [--seed 1]

Runs until Ctrl+C or SIGTERM, then stops cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from hmi_app.plant.registry import UnknownPlant, create_plant, plant_names
from hmi_app.plant.server import PlantServerError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hmi_app.plant", description="Serve a simulated plant over Modbus TCP."
    )
    parser.add_argument("plant", help=f"one of: {', '.join(plant_names())}")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5020, help="TCP port (default 5020, 0: any)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the simulation")
    return parser


async def serve(plant_name: str, host: str, port: int, seed: int) -> None:
    """Serve until SIGINT/SIGTERM (or cancellation), then stop the plant."""
    plant = create_plant(plant_name, seed=seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: no handlers
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        bound_host, bound_port = await plant.start(host, port)
        print(
            f"{plant_name} serving Modbus TCP on {bound_host}:{bound_port} (Ctrl+C to stop)",
            flush=True,
        )
        await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await plant.stop()
        print(f"{plant_name} stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(args.plant, args.host, args.port, args.seed))
    except UnknownPlant as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PlantServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Windows, where Ctrl+C has no loop handler
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
