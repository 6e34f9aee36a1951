"""OPC UA server for the subscription benchmark, run in its own process.

``python -m benchmarks.opcua_server --tags 10000 --period 1.0`` serves ``ns=2;i=1..N`` (Double),
every one changed each period, on a free loopback port. It prints ``port <n>`` when ready, then
answers ``cpu`` on stdin with ``cpu <seconds of CPU used>`` and ``changes <count>``; end of stdin
stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import socket
import sys
import time

from asyncua import Server, ua


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(tags: int, period: float) -> None:
    port = _free_port()
    server = Server()
    server.disable_clock()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace("urn:hmi-app:bench")
    folder = await server.nodes.objects.add_folder(ua.NodeId("Bench", ns), "Bench")
    ids = []
    for i in range(1, tags + 1):
        node = await folder.add_variable(
            ua.NodeId(i, ns), ua.QualifiedName(f"v{i}", ns), ua.Variant(0.0, ua.VariantType.Double)
        )
        ids.append(node.nodeid)
    await server.start()
    changes = 0

    async def change() -> None:
        nonlocal changes
        step = 0
        next_at = time.monotonic()
        while True:
            step += 1
            now = dt.datetime.now(dt.UTC)
            for n, nodeid in enumerate(ids):
                value = ua.DataValue(
                    ua.Variant(float(step * 10_000 + n), ua.VariantType.Double),
                    SourceTimestamp=now,
                    ServerTimestamp=now,
                )
                await server.write_attribute_value(nodeid, value)
            changes += len(ids)
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    changer = asyncio.create_task(change())
    print(f"port {port}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if line.strip() == "cpu":
                print(f"cpu {time.process_time():.4f} changes {changes}", flush=True)
    finally:
        changer.cancel()
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--period", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_serve(args.tags, args.period))


if __name__ == "__main__":
    main()
