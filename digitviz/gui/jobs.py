"""The one way to run work off the GUI thread (besides the training worker): ``JobRunner.submit``.

A *job* runs a pure function on a pool thread and reports back to the GUI thread by queued signals
(the pattern of Qt's Mandelbrot example and superqt's workers, in miniature)::

    runner = JobRunner(self)                       # owned by a panel or the window
    job = runner.submit(fn, a, b, channel="surface", on_done=self._show, on_progress=self._tick)

* **Copies in.** ``fn(control, *args)`` gets only what ``submit`` was given: pass frozen snapshots,
  read-only arrays or plain values; the function builds its own networks and never touches a widget.
* **Progress.** If ``fn`` is a generator, everything it yields is progress; ``control.report(item)``
  does the same from inside callbacks. Items reach ``on_progress(list)`` in batches, at most every
  ``interval`` seconds, so a fast loop cannot flood the event loop. ``fn``'s return value (a
  generator's ``return`` value) reaches ``on_done(value)``; an exception reaches ``on_failed(str)``
  (first line ``Type: message``, then the traceback).
* **Cancel.** ``control()`` is True once the job is stopped, cancelled, superseded or the runner shuts
  down; the function checks it between steps and returns (or raises). ``job.stop()`` lets the result
  through (a run stopped early keeps its curves); ``job.cancel()`` discards it: ``on_cancelled()``
  runs instead of ``on_done``/``on_failed``. An exception after a stop or cancel counts as cancelled.
* **Newer supersedes older.** Jobs submitted on one ``channel`` cancel the one before them. Every job
  has a request id (``job.id``); what decides delivery is checked on the GUI thread, where the
  callbacks run, so once ``cancel()`` has returned nothing of that job is ever delivered: a stale
  result is never drawn.
* **Shutdown.** :meth:`JobRunner.shutdown` cancels every job and waits (1 s by default) for the
  threads; every runner also does so when the application is about to quit.

BLAS: one thread for the whole process, set once by :func:`pin_blas` (``digitviz.gui`` calls it when
imported, so panels built in tests or scripts compute the same bits as in the app). Jobs never set
limits of their own: threadpoolctl's limits are process-wide, and a ``with`` block ending in one
thread would restore two threads under another's feet.

Imports: QtCore (and shiboken6) and threadpoolctl only.
"""

from __future__ import annotations

import atexit
import functools
import gc
import inspect
import itertools
import threading
import time
import traceback
import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, QTimer, Signal, Slot
from threadpoolctl import threadpool_limits

_PINNED = False


def pin_blas():
    """Limit BLAS to one thread for the whole process (idempotent).

    The networks' matrices are small: a second BLAS thread never helps them and fights the GUI thread
    and the training thread for the machine's other core.
    """
    global _PINNED
    if not _PINNED:
        threadpool_limits(1)
        _PINNED = True


_COLLECTOR: QTimer | None = None


def collect_on_gui_thread(interval: float = 0.25) -> None:
    """Run Python's cyclic garbage collector only on the GUI thread, from a timer (idempotent).

    Left automatic, the collector runs in whichever thread happens to allocate: the training worker, a
    job or the compiler's warm-up thread. A cycle there that holds a Qt object (a closed window's widget,
    a pyqtgraph item) is then destroyed off the GUI thread, which can deadlock against the GUI thread
    for the GIL (seen: a test window hung in ``QObject::~QObject`` under ``gc_collect_main`` on the
    worker thread) or crash. As pyqtgraph's ``GarbageCollector``: automatic collection off, and the GUI
    thread collects each generation when its count passes the threshold automatic collection used.
    Call it on the GUI thread, with the application created, before starting a thread.
    """
    global _COLLECTOR
    if _COLLECTOR is not None and shiboken6.isValid(_COLLECTOR):
        return
    app = QCoreApplication.instance()
    if app is None:
        return
    threshold = gc.get_threshold()

    def collect():
        c0, c1, c2 = gc.get_count()
        if c0 > threshold[0]:
            gc.collect(2 if c1 > threshold[1] and c2 > threshold[2] else 1 if c1 > threshold[1] else 0)

    timer = QTimer(app)
    timer.timeout.connect(collect)
    timer.start(int(interval * 1000))
    gc.disable()
    _COLLECTOR = timer


class JobControl:
    """What a job's function gets first: call it to ask "should I stop?"; ``report(item)`` sends progress."""

    def __init__(self, interval: float, send: Callable):
        self._stop = threading.Event()
        self._interval = interval
        self._send = send
        self._pending: list = []
        self._last = -float("inf")

    def __call__(self) -> bool:
        return self._stop.is_set()

    def report(self, item):
        """Queue ``item`` for ``on_progress`` (sent at once if nothing was sent in the last interval)."""
        self._pending.append(item)
        now = time.perf_counter()
        if now - self._last >= self._interval:
            self.flush()
            self._last = now

    def flush(self):
        if self._pending:
            items, self._pending = self._pending, []
            self._send("progress", items)


class Job(QObject):
    """One submitted computation, seen from the GUI thread. Created by :meth:`JobRunner.submit`.

    Signals (all on the GUI thread)
    -------------------------------
    progress(list), done(object), failed(str), cancelled()
        As the ``on_*`` callbacks of :meth:`JobRunner.submit`; at most one of the last three.
    finished()
        Always last: nothing more comes from this job (``runner.running`` says when its thread is free).

    Attributes
    ----------
    id : int
        The request id (increasing per runner).
    channel : str or None
    stopped : bool
        A stop (or cancel) was requested before the job ended.
    """

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()
    _report = Signal(str, object)  # from the pool thread; queued to this object's (the GUI) thread

    def __init__(self, job_id: int, channel, fn, args, interval: float):
        super().__init__()
        self.id = job_id
        self.channel = channel
        self._fn, self._args = fn, args
        self._discard = False
        self.ended = False
        self.control = JobControl(interval, self._report.emit)
        self._report.connect(self._deliver, Qt.QueuedConnection)

    @property
    def stopped(self) -> bool:
        return self.control()

    def stop(self):
        """Ask the function to stop at its next check; what it returns is still delivered."""
        self.control._stop.set()

    def cancel(self):
        """Stop, and deliver nothing more of this job (``cancelled`` is emitted when it ends)."""
        self._discard = True
        self.control._stop.set()

    # pool thread

    def _run(self):
        c = self.control
        try:
            if c():
                raise _NotStarted()
            result = self._fn(c, *self._args)
            if inspect.isgenerator(result):
                result = _drain(result, c.report)
            c.flush()
            self._report.emit("done", result)
        except Exception as e:  # noqa: BLE001 - reported to the GUI, never lost in a thread
            c.flush()
            self._report.emit("failed", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}")
        finally:
            self._fn = self._args = None  # the inputs (snapshots, arrays) are not kept once the work is done

    # GUI thread

    @Slot(str, object)
    def _deliver(self, kind, payload):
        if self.ended:
            return
        if kind == "progress":
            if not self._discard:
                self.progress.emit(payload)
            return
        self.ended = True
        if self._discard or (kind == "failed" and self.stopped):
            self.cancelled.emit()
        elif kind == "done":
            self.done.emit(payload)
        else:
            self.failed.emit(payload)
        self.finished.emit()


class _NotStarted(Exception):
    """A job cancelled before its thread picked it up."""


def _drain(gen, report) -> object:
    """Drain generator ``gen``, passing each item to ``report``; return its return value."""
    while True:
        try:
            report(next(gen))
        except StopIteration as e:
            return e.value


def _run_task(job: Job, runner: JobRunner):  # pool thread
    try:
        job._run()
    finally:
        runner._task_ended()


_RUNNERS: weakref.WeakSet[JobRunner] = weakref.WeakSet()


class JobRunner(QObject):
    """Runs jobs for its owner (a panel, the window) on its own small thread pool.

    Parameters
    ----------
    parent : QObject, optional
        The owner.
    threads : int
        Jobs that may run at once (default 1: jobs run one after another, by priority, then in order).
    interval : float
        Seconds between progress deliveries of one job.
    """

    def __init__(self, parent=None, threads: int = 1, interval: float = 0.03):
        super().__init__(parent)
        pin_blas()
        collect_on_gui_thread()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(int(threads))
        self._interval = float(interval)
        self._ids = itertools.count(1)
        self._live: dict[int, Job] = {}
        self._channels: dict = {}
        self._running = 0  # tasks submitted whose run() has not returned (pool threads decrement it)
        self._lock = threading.Lock()
        self._closed = False
        _RUNNERS.add(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def submit(
        self,
        fn: Callable,
        *args,
        channel=None,
        priority: int = 0,
        on_done=None,
        on_progress=None,
        on_failed=None,
        on_cancelled=None,
        on_finished=None,
    ) -> Job | None:
        """Run ``fn(control, *args)`` on the pool; returns its :class:`Job` (None after shutdown).

        A job on ``channel`` cancels the previous job on it. Higher ``priority`` starts first.
        The ``on_*`` callables are connected to the job's signals of the same name.
        """
        if self._closed:
            return None
        old = self._channels.get(channel) if channel is not None else None
        if old is not None:
            old.cancel()
        job = Job(next(self._ids), channel, fn, args, self._interval)
        for signal, slot in (
            (job.done, on_done),
            (job.progress, on_progress),
            (job.failed, on_failed),
            (job.cancelled, on_cancelled),
        ):
            if slot is not None:
                signal.connect(slot)
        # by id, not a closure over the job: a connection that holds its own sender is a cycle Python's
        # collector cannot see, and every finished job (with its result) would stay alive
        job.finished.connect(functools.partial(self._job_ended, job.id))
        if on_finished is not None:
            job.finished.connect(on_finished)
        self._live[job.id] = job
        if channel is not None:
            self._channels[channel] = job
        with self._lock:
            self._running += 1
        # a plain callable, not a QRunnable subclass: PySide keeps the wrapper of every finished subclassed
        # runnable in the pool (with what it references), so a long session would pile them up
        self._pool.start(functools.partial(_run_task, job, self), priority)
        return job

    def current(self, channel) -> Job | None:
        """The newest job on ``channel`` that has not ended."""
        job = self._channels.get(channel)
        return job if job is not None and not job.ended else None

    def cancel(self, channel=None):
        """Cancel the job on ``channel`` (every job when None)."""
        jobs = list(self._live.values()) if channel is None else [self.current(channel)]
        for job in jobs:
            if job is not None:
                job.cancel()

    def wait(self, timeout: float = 1.0) -> bool:
        """Block until no job of this runner is running (True) or ``timeout`` seconds passed (False)."""
        return self._pool.waitForDone(int(timeout * 1000))

    @property
    def running(self) -> bool:
        """A thread is still running (or about to run) one of this runner's jobs."""
        with self._lock:
            return self._running > 0

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Cancel every job, refuse new ones, and wait for the threads. True when they all ended."""
        self._closed = True
        self.cancel()
        return self.wait(timeout)

    def _task_ended(self):  # pool thread
        with self._lock:
            self._running -= 1

    def _job_ended(self, job_id: int):
        job = self._live.pop(job_id, None)
        if job is not None and self._channels.get(job.channel) is job:
            del self._channels[job.channel]


def shutdown_all(timeout: float = 1.0) -> bool:
    """Cancel the jobs of every runner in the process and wait for them (True when all ended)."""
    runners = [r for r in list(_RUNNERS) if shiboken6.isValid(r) and shiboken6.isValid(r._pool)]
    for r in runners:
        r._closed = True
        r.cancel()
    deadline = time.perf_counter() + timeout
    return all([r.wait(max(0.0, deadline - time.perf_counter())) for r in runners])  # wait for each


atexit.register(shutdown_all)  # a script or test that never quit the app: no thread left running at exit
