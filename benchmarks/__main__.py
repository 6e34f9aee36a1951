"""Run every benchmark and print its table: ``python -m benchmarks`` from the repository root."""

from __future__ import annotations

from benchmarks import (
    count_latency,
    designer,
    historian,
    logix_reads,
    modbus_scan,
    opcua_subscription,
    screen_updates,
    sync_drain,
    trend_redraw,
)


def main() -> None:
    modbus_scan.main()
    logix_reads.main()
    opcua_subscription.main()
    screen_updates.main([])
    sync_drain.main([])
    count_latency.main([])
    historian.main([])
    trend_redraw.main([])
    designer.main([])


if __name__ == "__main__":
    main()
