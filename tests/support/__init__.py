"""Small helpers shared by test packages: real servers on loopback (an encrypted OPC UA server
with a password, a cpppo Logix simulator, a socat serial pair with a Modbus RTU server), the
recorder every driver test publishes to, and the Modbus tables the TCP and RTU tests share.

They depend on no driver internals (only the ``drivers.base`` protocol), so tests that use them
survive refactoring of ``drivers/``.
"""
