"""Run every benchmark and print its table: ``python -m benchmarks`` from the repository root."""

from __future__ import annotations

from benchmarks import (
    count_latency,
    logix_reads,
    modbus_scan,
    opcua_subscription,
    screen_updates,
    sync_drain,
)


def main() -> None:
    modbus_scan.main()
    logix_reads.main()
    opcua_subscription.main()
    screen_updates.main([])
    sync_drain.main([])
    count_latency.main([])


if __name__ == "__main__":
    main()
