"""While the operator window runs, cyclic garbage is collected on the GUI thread only."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtWidgets import QApplication, QWidget

from hmi_app.shell.gc_policy import GuiThreadCollector


class _Cycle(QWidget):
    """A widget in a reference cycle, like a dialog holding a callback to its parent."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def test_collection_happens_on_the_gui_thread_only(qapp: QApplication) -> None:
    was_enabled = gc.isenabled()
    gc.collect()
    collector = GuiThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        ref = weakref.ref(_Cycle())
        # a worker thread allocating a lot does not collect the widget
        worker = threading.Thread(target=lambda: [[i] for i in range(200_000)], name="alloc")
        worker.start()
        worker.join()
        assert ref() is not None
        junk = [[] for _ in range(gc.get_threshold()[0] + 10)]  # gen 0 over its threshold
        assert collector.check() > 0  # what the GUI-thread timer does
        assert ref() is None
        del junk
        collector.timer.timeout.emit()  # the timer's slot runs without error
    finally:
        collector.stop()
    assert gc.isenabled() == was_enabled


def test_startup_objects_are_frozen_and_new_cycles_still_collected(qapp: QApplication) -> None:
    collector = GuiThreadCollector(interval_ms=10)
    try:
        collector.freeze_startup()
        assert gc.get_freeze_count() > 0  # full collections no longer walk the start-up heap
        ref = weakref.ref(_Cycle())  # made after the freeze: still collected
        assert ref() is not None
        gc.collect()
        assert ref() is None
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0
