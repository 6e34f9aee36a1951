"""Modbus drivers: address syntax, value codec, block planner, the shared driver core
(``driver.py``, composed of ``link.py``, ``scanner.py`` and ``writes.py``) and its two transports,
Modbus TCP (``tcp.py`` on ``pipeline.py``) and Modbus RTU over a serial line (``rtu.py`` on
``serial_rtu.py``, framing in ``rtu_frame.py``).

The registry imports ``drivers.modbus.tcp`` or ``drivers.modbus.rtu`` only when a project has a
connection of that kind (pyserial is not loaded for a TCP-only plant).
"""
