"""Allen-Bradley ControlLogix/CompactLogix driver (EtherNet/IP, CIP symbolic tag services).

``plc.py`` is the only module that imports pycomm3 (blocking); ``driver.py`` runs it on one
worker thread per controller (``link.py``), scans with ``scanner.py`` and writes with
``writes.py`` (values converted by ``values.py``). ``tags.py`` and ``address.py`` are the
library-neutral vocabulary.
"""
