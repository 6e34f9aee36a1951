"""Device drivers: one subpackage per protocol, all satisfying ``drivers.base.Driver``. No Qt here."""
