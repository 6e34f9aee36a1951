"""Device drivers: one subpackage per protocol, each satisfying ``drivers.base.Driver``; no Qt."""
