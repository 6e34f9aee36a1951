"""Run every benchmark and print its table: ``python -m benchmarks`` from the repository root."""

from __future__ import annotations

from benchmarks import modbus_scan


def main() -> None:
    modbus_scan.main()


if __name__ == "__main__":
    main()
