"""The GUI-thread side of training: owns the worker's thread and turns snapshots into frames.

:class:`TrainingController` starts a :class:`~digitviz.gui.worker.TrainWorker` on a QThread,
forwards commands to it, keeps the latest :class:`~digitviz.core.snapshot.Snapshot` (the slot is
O(1): latest wins) and, on a frame timer (at most 60 Hz), emits ``frame(snapshot)`` only when
something changed. Per-step records and path points of snapshots that arrive between two frames
are merged into the newer one, so dropping intermediate snapshots never loses a curve point.

Imports: QtCore only, and :mod:`digitviz.core`.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from digitviz.core.series import BoundedSeries
from digitviz.core.snapshot import Snapshot, merge_snapshots
from digitviz.core.timeline import Timeline
from digitviz.core.training import TrainConfig

from .jobs import collect_on_gui_thread
from .worker import PATH_CAPACITY, TrainWorker

FRAME_MS = 16
MAX_BUSY = 0.15  # while training, the GUI thread may use this share of a core (its CPU time) ...
MAX_FRAME_GAP = 0.5  # ... but frames come at least twice a second
# The fused engine trains without the GIL, but takes it back between chunks and during the epoch's
# evaluation (many short NumPy calls), each time the GUI thread may be holding it. Python hands it over
# only after the switch interval (5 ms by default): the worker then stands idle. 1 ms bounds that wait.
SWITCH_INTERVAL = 0.001


class TrainingController(QObject):
    """Owns the training thread and worker; the main window's only way to talk to training.

    Parameters
    ----------
    data : Dataset or None
    config : TrainConfig, optional
    frame_ms : int
        Frame timer period (16 ms: at most ~60 frames/s).

    Signals
    -------
    frame(Snapshot)
        The latest snapshot, once per timer tick when it changed.
    message(Snapshot)
        A snapshot whose ``message`` (with its typed ``event``) is new, e.g. training diverged; emitted once.
    step_reported(Snapshot)
        A snapshot carrying a single step's :class:`~digitviz.core.snapshot.StepReport`.

    Attributes
    ----------
    latest : Snapshot or None
    snapshots_received, frames_emitted : int
    path : BoundedSeries
        The descent path accumulated from snapshots' ``new_path``: read-only thetas by reference, at most
        ``PATH_CAPACITY`` (every other one dropped when full; cleared on reset).
    """

    frame = Signal(object)
    message = Signal(object)
    step_reported = Signal(object)

    def __init__(self, data=None, config: TrainConfig | None = None, frame_ms=FRAME_MS, parent=None):
        super().__init__(parent)
        collect_on_gui_thread()  # before the worker's thread exists: Qt objects are only ever freed here
        self.worker_config = config or TrainConfig()  # until the first snapshot arrives
        self.latest: Snapshot | None = None
        self._framed: Snapshot | None = None
        self.snapshots_received = 0
        self.frames_emitted = 0
        self.last_rate = float("nan")
        self.path_series = BoundedSeries(PATH_CAPACITY, dtype=object, initial=64)
        self.timeline: Timeline | None = None  # the run as a timeline (going back in time)
        self._timeline_gen = None
        self._timeline_offset = 0
        self._generation = None
        self._stopped = False
        self._switch_before: float | None = None
        self.max_busy = MAX_BUSY
        self._last_emit = 0.0
        self._cpu_at_emit = 0.0

        self.thread = QThread()
        self.thread.setObjectName("digitviz-training")
        self.worker = TrainWorker(data, config)  # no parent: it moves to the thread
        self.worker.moveToThread(self.thread)
        self.worker.snapshot.connect(self._on_snapshot)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)

        self.timer = QTimer(self)
        self.timer.setInterval(int(frame_ms))
        self.timer.timeout.connect(self._tick)

    def start(self):
        """Start the worker thread and the frame timer (connections are all made by now)."""
        if self._switch_before is None:
            self._switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_before, SWITCH_INTERVAL))
        self.thread.start()
        self.timer.start()

    # state

    @property
    def running(self) -> bool:
        return bool(self.latest and self.latest.running)

    @property
    def step(self) -> int:
        return self.latest.step if self.latest else 0

    @property
    def generation(self) -> int:
        return self.latest.generation if self.latest else 0

    @property
    def config(self) -> TrainConfig:
        return self.latest.config if self.latest else self.worker_config

    # commands, forwarded to the worker's inbox

    def play(self):
        self.worker.play()

    def pause(self):
        self.worker.pause()

    def toggle(self):
        (self.pause if self.running else self.play)()

    def step_once(self):
        self.worker.step(1)

    def step_epoch(self):
        self.worker.step_epoch()

    def set_speed(self, batches_per_s):
        self.worker.set_speed(batches_per_s)

    def update_config(self, **changes):
        self.worker.update_config(**changes)

    def reset(self, config: TrainConfig | None = None):
        self.worker.reset(config)

    def set_data(self, data):
        self.worker.set_data(data)

    def load(self, net, config, meta=None):
        self.worker.load(net, config, meta)

    def restore_good(self):
        """Put back the recent good weights (offered with a divergence)."""
        self.worker.restore_good()

    def shutdown(self, timeout_ms=2000) -> bool:
        """Stop the worker and wait for its thread (idempotent). True when the thread ended."""
        self.timer.stop()
        if not self._stopped:
            self._stopped = True
            self.worker.stop()
        self.thread.quit()
        ended = self.thread.wait(timeout_ms) if self.thread.isRunning() else True
        if ended and self._switch_before is not None:
            sys.setswitchinterval(self._switch_before)  # one thread of ours wants the GIL again
            self._switch_before = None
        return ended

    # snapshots

    @Slot(object)
    def _on_snapshot(self, snap: Snapshot):
        self.snapshots_received += 1
        raw, prev = snap, self.latest
        if prev is not None and prev is not self._framed and prev.generation == snap.generation:
            snap = merge_snapshots(prev, snap)  # the previous one was never drawn: keep its records
        self.latest = snap
        if snap.generation != self._generation:
            self._generation = snap.generation
            self.path_series.clear()
        for s, theta in raw.new_path:
            self.path_series.append(s, theta)  # a step already kept is ignored
        if raw.new_timeline:
            self._record_timeline(raw)
        if not math.isnan(snap.examples_per_s):
            self.last_rate = snap.examples_per_s
        if raw.step_report is not None:
            self.step_reported.emit(raw)
        if raw.message:
            self.message.emit(raw)

    def _record_timeline(self, raw: Snapshot):
        """Keep the worker's admitted points: the same Timeline rule, so exactly the same points."""
        first_step, theta0 = raw.new_timeline[0]
        if (
            self.timeline is None
            or raw.generation != self._timeline_gen
            or self.timeline.n_params != theta0.size
            or self.timeline.dtype != theta0.dtype
        ):
            kw = self.worker.timeline_kw  # the worker's twin decides with the same bounds
            if self.timeline is None or self.timeline.n_params != theta0.size or self.timeline.dtype != theta0.dtype:
                self.timeline = None  # free the old store before allocating the new one
                self.timeline = Timeline(theta0.size, theta0.dtype, **kw)
            else:
                self.timeline.clear()
            self._timeline_gen = raw.generation
            self._timeline_offset = first_step
        for step, theta in raw.new_timeline:
            s = step - self._timeline_offset
            if s > self.timeline.latest_step:
                self.timeline.record(s, theta)

    def timeline_steps(self) -> np.ndarray:
        """Training steps (counted like ``snap.step``) kept in the timeline of the current run."""
        if self.timeline is None or self._timeline_gen != self.generation:
            return np.zeros(0, np.int64)
        return self.timeline.steps() + self._timeline_offset

    def theta_at(self, step: int):
        """``(kept step, theta copy)`` of the timeline at or before ``step``; LookupError when empty."""
        if self.timeline is None or self._timeline_gen != self.generation:
            raise LookupError("the timeline is empty")
        s, theta = self.timeline.theta_at(int(step) - self._timeline_offset)
        return s + self._timeline_offset, theta

    def continue_from(self, step: int) -> int:
        """Restore the timeline's weights at ``step`` into the worker as a new run; returns the step used."""
        from digitviz.core.network import Network

        kept, theta = self.theta_at(step)
        config = self.config
        self.load(Network.from_config(config, theta), config)
        return kept

    def path_points(self):
        """The descent path ``(steps (K,) int64, thetas (K,) object array of read-only (P,))``: views, not
        copies, valid until the next snapshot (GUI thread only)."""
        return self.path_series.steps(), self.path_series.values()

    def path(self):
        """``(steps (K,), thetas (K, P))`` of the descent path seen so far."""
        if not len(self.path_series):
            return np.zeros(0, np.int64), None
        return self.path_series.steps().copy(), np.stack(list(self.path_series.values()))

    @Slot()
    def _tick(self):
        """Emit the latest snapshot if it is new, pacing frames while training.

        Python's GIL is shared with the worker, and every Qt call that paints hands it over and takes
        it back: a GUI thread that draws all the time slows training down far more than its own CPU
        time. So while training, a frame waits until the GUI thread's CPU time since the previous
        frame (drawing, panels, everything) is at most ``max_busy`` of the time elapsed. Expensive
        frames come less often (at least every ``MAX_FRAME_GAP`` s); paused, every change shows at once.
        """
        snap = self.latest
        if snap is None or snap is self._framed:
            return
        now = time.perf_counter()
        cpu = time.thread_time()
        if snap.running and now < self._last_emit + min((cpu - self._cpu_at_emit) / self.max_busy, MAX_FRAME_GAP):
            return
        self._last_emit = now
        self._cpu_at_emit = cpu
        self._framed = snap
        self.frames_emitted += 1
        self.frame.emit(snap)

    def refresh(self):
        """Emit the latest snapshot again at the next frame (e.g. a panel became visible)."""
        self._framed = None
