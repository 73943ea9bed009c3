"""Background jobs for the experiments panel: run a core generator on a QThread, stream what it yields.

A :class:`Job` wraps one short-lived :class:`GeneratorWorker` and its QThread (Qt's Mandelbrot and
superqt's GeneratorWorker, in miniature). The job's function runs on the worker thread with BLAS
pinned to one thread; it gets a ``stop`` callable to check between steps. Every value it yields is
queued to the GUI thread in batches, at most every ``interval`` seconds, so a fast generator cannot
flood the event loop. Only copies and plain values cross threads: the function must build its own
networks and never touch widgets.

Imports: QtCore only (no widgets, no pyqtgraph), threadpoolctl.
"""

from __future__ import annotations

import atexit
import inspect
import threading
import time
import traceback
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from threadpoolctl import threadpool_limits

_LIVE: set["Job"] = set()  # running jobs keep themselves alive until their thread has finished
_HOOKED = False


class GeneratorWorker(QObject):
    """Calls ``fn(stop)`` on whichever thread runs :meth:`run`.

    If ``fn`` returns a generator, its items are emitted through ``progress`` (as lists) and its
    return value through ``done``; otherwise ``fn``'s return value goes to ``done``.

    Signals
    -------
    progress(list)
        Items yielded since the previous emission.
    done(object, bool)
        ``(result, stopped)``: the generator's return value (or the function's), and whether a stop
        was requested before it ended.
    failed(str)
        An exception escaped ``fn``; the message, with its type.
    finished()
        :meth:`run` returned (always, after ``done`` or ``failed``).
    """

    progress = Signal(object)
    done = Signal(object, bool)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, fn: Callable, interval: float = 0.03):
        super().__init__()
        self._fn = fn
        self._interval = float(interval)
        self._stop = threading.Event()

    def request_stop(self):
        """Thread-safe: the function sees ``stop() == True`` from now on."""
        self._stop.set()

    @Slot()
    def run(self):
        try:
            with threadpool_limits(limits=1):
                result = self._fn(self._stop.is_set)
                if inspect.isgenerator(result):
                    result = self._drain(result)
            self.done.emit(result, self._stop.is_set())
        except Exception as e:  # noqa: BLE001 - reported to the GUI, never lost in a thread
            self.failed.emit(f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}")
        finally:
            self.finished.emit()
            # End the thread's event loop from here: a connection finished -> thread.quit would be queued
            # to the GUI thread, so a GUI thread blocked in wait() (shutdown) would wait for ever.
            QThread.currentThread().quit()

    def _drain(self, gen):
        pending, last = [], time.perf_counter()
        while True:
            try:
                item = next(gen)
            except StopIteration as e:
                if pending:
                    self.progress.emit(pending)
                return e.value
            pending.append(item)
            now = time.perf_counter()
            if now - last >= self._interval:
                self.progress.emit(pending)
                pending, last = [], now


class Job(QObject):
    """One background computation: ``Job(fn).start()``; connect the signals first.

    Lives on the GUI thread; its signals are delivered there (queued from the worker thread).

    Signals
    -------
    progress(list), done(object, bool), failed(str)
        As :class:`GeneratorWorker`'s.
    finished()
        The thread has ended; the job may be dropped.
    """

    progress = Signal(object)
    done = Signal(object, bool)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, fn: Callable, name: str = "digitviz-experiment", interval: float = 0.03):
        super().__init__()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = GeneratorWorker(fn, interval)  # no parent: it moves to the thread
        self.worker.moveToThread(self.thread)
        self.worker.progress.connect(self.progress)
        self.worker.done.connect(self.done)
        self.worker.failed.connect(self.failed)
        self.thread.started.connect(self.worker.run)
        self.thread.finished.connect(self._on_thread_finished)
        self._started = False

    def start(self):
        _hook_quit()
        _LIVE.add(self)
        self._started = True
        self.thread.start()

    def stop(self):
        """Ask the function to stop at its next check (returns at once)."""
        self.worker.request_stop()

    def wait(self, timeout_ms: int = 2000) -> bool:
        """Block until the thread ended (for shutdown only). True when it did."""
        return self.thread.wait(timeout_ms) if self.thread.isRunning() else True

    @property
    def running(self) -> bool:
        return self._started and not self.thread.isFinished()

    @Slot()
    def _on_thread_finished(self):
        _LIVE.discard(self)
        self.finished.emit()


def stop_all(timeout_ms: int = 2000):
    """Stop every running job and wait for their threads (application shutdown)."""
    for job in list(_LIVE):
        job.stop()
    for job in list(_LIVE):
        job.wait(timeout_ms)


def _hook_quit():
    global _HOOKED
    app = QCoreApplication.instance()
    if not _HOOKED and app is not None:
        app.aboutToQuit.connect(stop_all)
        _HOOKED = True


atexit.register(stop_all)  # a script that never ran app.exec(): no "QThread destroyed while running"
