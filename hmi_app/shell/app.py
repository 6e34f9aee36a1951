"""Starts the operator GUI: Qt application, qasync loop, project, runtime and main window.

One asyncio loop runs on the GUI thread (qasync); the runtime's drivers live on it. One 20 ms
QTimer hands the tag bus's values to the visible widgets, spread over five ticks per 100 ms so that
the painting never comes in one long burst. Closing the window stops the runtime cleanly.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import sys
from importlib import resources
from pathlib import Path

import qasync
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QMessageBox

from hmi_app.core.deadlines import wait_set
from hmi_app.core.project.loader import Project, demo_project_dir, load_project
from hmi_app.core.project.production_model import project_data_dir
from hmi_app.core.project.yamlio import ProjectLoadError
from hmi_app.runtime.bus import FlushPacer
from hmi_app.runtime.runtime import Runtime
from hmi_app.shell.design_mode import enable_design_mode
from hmi_app.shell.gc_policy import GuiThreadCollector
from hmi_app.shell.live_tags import engine_applier
from hmi_app.shell.screenset import load_screen_set
from hmi_app.shell.tag_browser import TagBrowser
from hmi_app.shell.trend_specs import gap_threshold
from hmi_app.shell.trend_window import show_trend_window
from hmi_app.shell.window import MainWindow
from widgets import theme

log = logging.getLogger(__name__)

FLUSH_MS = 100
"""The screen's cycle: a value reaching the bus is on screen within about this long."""
FLUSH_SLICES = 5
"""Timer ticks per period (20 ms each)."""
SPREAD_TICKS = FLUSH_SLICES - 1
"""Ticks a burst of values is spread over (see ``FlushPacer``): 80 ms, so the values of one
100 ms scan are all shown before the next scan's arrive and none is overwritten unseen."""
WINDOW_SIZE = (1280, 800)


def qt_event_loop(app: QApplication) -> asyncio.AbstractEventLoop:
    """The asyncio loop on Qt's event loop: a selector loop everywhere, because psycopg's async
    connections and aiomqtt need ``add_reader``, which qasync's Windows default (IOCP) lacks."""
    if sys.platform == "win32":
        return qasync.QSelectorEventLoop(app)
    return qasync.QEventLoop(app)


def stylesheet() -> str:
    """The shell's ISA-101 stylesheet from ``resources/themes``."""
    return (resources.files("resources") / "themes" / "isa101.qss").read_text(encoding="utf-8")


def build_window(project: Project, runtime: Runtime) -> MainWindow:
    """The main window for ``project``, bound to the runtime's tag bus, listening to links; with
    the runtime's sync (if the project has production counting) in the header chip and window."""
    info = project.model.project
    screen_set = load_screen_set(project)
    configs = {tag.name: tag for tag in project.model.runtime_tags}
    window = MainWindow(
        plant=info.plant or info.name,
        line=info.line,
        title=f"{info.name} - hmi-app",
        source=runtime.bus,
        screens=screen_set.screens,
        templates=screen_set.library,
        start_screen=info.start_screen,
        link_states=runtime.engine.link_states(),
        connections=list(project.model.connections),
        sync=runtime.sync,
        sync_export_dir=project_data_dir(info.name) / "quarantine",
        history=runtime.historian,
        history_gap=lambda tag: gap_threshold([tag], configs.get, project.model.historian),
    )
    runtime.engine.add_link_listener(window.set_link)
    window.trend_requested.connect(
        lambda request: show_trend_window(window, project, runtime.historian, request)
    )
    window.tags_requested.connect(lambda: show_tag_browser(window, project, runtime))
    window.design_mode = enable_design_mode(
        window, project, runtime.bus, engine_applier(runtime, window.after_tags_applied)
    )
    return window


def show_tag_browser(window: MainWindow, project: Project, runtime: Runtime) -> TagBrowser:
    """Show the tag browser of ``window`` (a new one if it was closed), on the live drivers."""
    browser = window.tag_browser
    if browser is None or not browser.isVisible():
        latest = project
        if browser is not None:  # closed before: start afresh on the project as last saved
            runtime.engine.remove_link_listener(browser.set_link)
            latest = browser.project
            browser.deleteLater()
        browser = TagBrowser(
            latest, runtime.drivers, link_states=runtime.engine.link_states(), parent=window
        )
        browser.apply_saved = engine_applier(runtime, window.after_tags_applied)
        runtime.engine.add_link_listener(browser.set_link)
        browser.resize(*WINDOW_SIZE)
        window.tag_browser = browser
    browser.show()
    browser.raise_()
    browser.activateWindow()
    return browser


def _application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    return app


def show_load_error(folder: Path, details: str) -> None:
    """Tell an operator who started the window (maybe from a desktop icon) why it did not open."""
    _application()
    _report(f"The project in {folder} cannot be loaded", details, interactive=True, echo=False)


def run_gui(
    project_dir: Path | None,
    *,
    for_seconds: float | None = None,
    screenshot: Path | None = None,
) -> int:
    """Run the operator window until it is closed (or for ``for_seconds``); the exit code."""
    app = _application()
    app.setQuitOnLastWindowClosed(False)  # the loop ends when main() has stopped the runtime
    app.setStyleSheet(stylesheet())
    app_font = QFont()
    app_font.setFamilies(theme.FONT_FAMILIES)
    app_font.setPixelSize(15)
    app.setFont(app_font)
    loop = qt_event_loop(app)
    collector = GuiThreadCollector()  # Qt objects in cycles must not die in a worker thread
    try:
        return loop.run_until_complete(_main(project_dir, for_seconds, screenshot, collector))
    finally:
        collector.stop()
        loop.close()


async def _main(
    project_dir: Path | None,
    for_seconds: float | None,
    screenshot: Path | None,
    collector: GuiThreadCollector,
) -> int:
    folder = project_dir if project_dir is not None else demo_project_dir()
    try:
        project = load_project(folder)
    except ProjectLoadError as exc:
        _report(
            f"The project in {folder} cannot be loaded", str(exc), interactive=for_seconds is None
        )
        return 2
    runtime = Runtime(project)
    try:
        await runtime.start()
    except Exception as exc:
        log.exception("runtime did not start")
        _report("The runtime did not start", str(exc), interactive=for_seconds is None)
        return 1
    window = build_window(project, runtime)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    _stop_on_signals(closed)

    pacer = FlushPacer(runtime.bus, SPREAD_TICKS)
    ticks = itertools.count()

    def tick() -> None:
        pacer.tick()
        if next(ticks) % FLUSH_SLICES == 0:
            window.tick()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(FLUSH_MS // FLUSH_SLICES)
    timer.timeout.connect(tick)
    try:
        window.resize(*WINDOW_SIZE)
        window.show()
        collector.freeze_startup()
        timer.start()
        if for_seconds is None:
            await closed.wait()
        else:
            await wait_set(closed, for_seconds)
        if screenshot is not None and not closed.is_set():
            runtime.bus.flush()
            window.tick()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(screenshot))
    finally:
        _restore_signals()
        timer.stop()
        window.release_screens()
        await window.wait_writes()
        await window.close_tools()
        window.close()
        await runtime.stop()
    return 0


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl+C or SIGTERM closes the window like the close button (the runtime stops cleanly).

    Without this, Python raises KeyboardInterrupt inside whichever Qt slot happens to run, which
    prints a traceback and leaves the window open.
    """
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))


def _restore_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        try:
            loop.remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError):
            default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, default)


def _report(title: str, details: str, *, interactive: bool, echo: bool = True) -> None:
    if echo:
        print(f"{title}:\n{details}", file=sys.stderr)
    if interactive:
        box = QMessageBox(QMessageBox.Icon.Critical, "hmi-app", title)
        box.setDetailedText(details)
        box.exec()
