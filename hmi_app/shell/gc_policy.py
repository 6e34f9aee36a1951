"""Garbage collection on the GUI thread only, while the operator window runs.

Python's cyclic garbage collector runs in whichever thread happens to allocate when a threshold is
crossed. In this app other threads run Python too (asyncio's ``to_thread`` and executors, the Logix
driver's worker threads, asyncua), so a Qt object caught in a reference cycle (a closed dialog
holding a callback to its parent, say) could be destroyed from one of them: Qt objects must die in
their own thread, and the result is a crash inside Qt's timer or event dispatch (seen in the tests:
a segfault in ``QTimerInfoList::activateTimers`` after asyncua filled its address space in a
worker thread). pyqtgraph ships the same remedy (``pyqtgraph.util.garbage_collector``): switch
automatic collection off and collect, generation by generation as the thresholds say, from a
timer on the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 500


class GuiThreadCollector(QObject):
    """Disables automatic collection and collects on a GUI-thread timer until ``stop``."""

    def __init__(self, interval_ms: int = CHECK_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Collect the oldest generation whose threshold is crossed; objects collected."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        generation = -1
        for index in range(3):
            if counts[index] > thresholds[index]:
                generation = index
        return gc.collect(generation) if generation >= 0 else 0

    def freeze_startup(self) -> None:
        """Exempt everything alive now (project, models, widgets: made once at start) from
        later collections, so a full collection walks only what was made since and does not
        stall the GUI for ~100 ms (seen with 1,000 bound widgets)."""
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        """Stop the timer and give collection back to Python (as it was before)."""
        self.timer.stop()
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()
