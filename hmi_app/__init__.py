"""hmi-app: a desktop HMI / SCADA-lite.

Deliberately free of imports so that the import layers (see ARCHITECTURE.md) have no hidden cycle.
"""

__version__ = "0.1.0"
