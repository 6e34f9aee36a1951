"""Small helpers shared by test packages: real servers on loopback (an encrypted OPC UA server
with a password, a cpppo Logix simulator, a socat serial pair with a Modbus RTU server).

They depend on no driver internals, so tests that use them survive refactoring of ``drivers/``.
"""
