"""Start the desktop app: ``main(argv=None, data_dir=None)`` is what ``digitviz`` (no command) calls.

Imports: PySide6, pyqtgraph (through :mod:`digitviz.gui`) and the main window.
"""

from __future__ import annotations

import signal
import socket
import sys

from PySide6.QtCore import QEvent, QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

from ..memory import release_large_allocations
from ..prereq import gui_prerequisite_problem
from .jobs import pin_blas
from .main_window import MainWindow
from .style import icon, stylesheet


def make_app(argv=None) -> QApplication:
    """The QApplication (created once), themed and named so QSettings finds its place."""
    app = QApplication.instance()
    if app is None:
        release_large_allocations()  # large temporaries give their memory back (digitviz.memory)
        app = QApplication(list(sys.argv if argv is None else ["digitviz", *argv]))
    app.setOrganizationName("digitviz")
    app.setApplicationName("digitviz")
    app.setApplicationDisplayName("digitviz")
    app.setWindowIcon(icon("app"))
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    # One BLAS thread for the whole process, once (already done when digitviz.gui was imported;
    # idempotent): jobs and the training thread never set limits of their own (see gui/jobs.py).
    pin_blas()
    return app


class _FirstExpose(QObject):
    """Calls ``callback(window)`` once, when the window is first exposed (painted) on screen."""

    def __init__(self, window, callback):
        super().__init__(window)
        self.window, self.callback = window, callback
        window.installEventFilter(self)

    def eventFilter(self, obj, event):
        if (
            obj is self.window
            and event.type() in (QEvent.Expose, QEvent.Paint, QEvent.Show)
            and self.callback is not None
            and obj.isVisible()
        ):
            cb, self.callback = self.callback, None
            QTimer.singleShot(0, lambda: cb(self.window))
        return False


class QuitOnSignal(QObject):
    """Ctrl+C (SIGINT) and SIGTERM close ``window`` cleanly: settings saved, threads stopped, exit code 0.

    Python runs a signal handler only when the interpreter gets control, which it does not while Qt's
    event loop waits in C++. So the handler's byte goes to a socket (``signal.set_wakeup_fd``) whose
    notifier wakes the event loop, and the window is closed from there, without asking (no one may be
    at the window to answer).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.received: int | None = None
        self._rsock, self._wsock = socket.socketpair()
        for s in (self._rsock, self._wsock):
            s.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._wsock.fileno())
        self._old = {sig: signal.signal(sig, self._handler) for sig in self.SIGNALS}
        self.notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Read, self)
        self.notifier.activated.connect(self._wake)

    def _handler(self, signum, _frame):
        self.received = signum  # runs when the notifier gave the interpreter a turn

    def _wake(self, *_):
        try:
            data = self._rsock.recv(64)  # one byte per signal: its number
        except OSError:
            return
        if data:
            self.received = data[-1]
            QTimer.singleShot(0, self._quit)

    def _quit(self):
        self.window.quit_without_asking()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def uninstall(self):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        signal.set_wakeup_fd(self._old_fd)
        self.notifier.setEnabled(False)
        self._rsock.close()
        self._wsock.close()


def main(argv=None, data_dir=None, on_shown=None, run=None) -> int:
    """Open the main window and run the event loop; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
        Extra Qt arguments (default: ``sys.argv``).
    data_dir : str or Path, optional
        MNIST folder (``--data``); otherwise ``DIGITVIZ_DATA``, the cache folder, or the last one used.
    on_shown : callable(window), optional
        Called once when the window is first on screen (the startup benchmark uses it).
    run : digitviz.core.runfile.RunSettings, optional
        ``digitviz --run FILE``: start with its settings (and its dataset's cache folder, if no ``--data``).

    Returns 2 without starting Qt when the X11 platform plugin's system libraries are missing
    (:mod:`digitviz.prereq`): one line on stderr names them and the ``apt install`` that brings them.
    """
    problem = gui_prerequisite_problem()
    if problem is not None and QApplication.instance() is None:
        print(problem, file=sys.stderr)  # instead of Qt's abort when its xcb plugin cannot load
        return 2
    app = make_app(argv)
    config = None
    if run is not None:
        from digitviz.core.data import DataError, find_data_dir
        from digitviz.core.datasets import info

        config = run.config
        if data_dir is None and run.dataset not in ("mnist", "unknown"):
            try:
                data_dir = find_data_dir(info(run.dataset).cache_dir())  # its own cache folder, if fetched
            except DataError:
                data_dir = None
    window = MainWindow(data_dir=data_dir, config=config)
    if on_shown is not None:
        _FirstExpose(window, on_shown)
    app.aboutToQuit.connect(window.shutdown)  # quitting without closing the window stops threads too
    quitter = QuitOnSignal(window)  # Ctrl+C in the terminal quits as SIGTERM does
    window.show()
    try:
        return app.exec()
    finally:
        quitter.uninstall()
