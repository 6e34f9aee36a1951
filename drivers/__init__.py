"""Device drivers: one subpackage per protocol, each satisfying ``drivers.base.Driver``; no Qt.

Plumbing the drivers share lives beside ``base.py``: ``backoff`` (reconnect delays),
``linkstate`` (reporting link state changes), ``emitter`` (publishing samples), ``pacing``
(fixed-period scan loops), ``scangroups`` (points grouped by scan period, one task each) and
``tasks`` (cancelling and retiring tasks).
"""
