"""The training worker: owns the live Trainer on its own thread and publishes Snapshots.

The worker alone touches the live parameter vector. The GUI talks to it only through a thread-safe
inbox (:class:`queue.SimpleQueue`) that the run loop reads between mini-batches; queued Qt slots would
not be delivered while the loop runs. When there is nothing to do the loop blocks on the inbox (no
spinning); at a limited speed it waits on the inbox with a timeout, so commands still act at once.

While running it publishes a :class:`~digitviz.core.snapshot.Snapshot` at most every
``publish_interval`` seconds (by time, not per batch, so drawing never slows training), and
immediately after every command that changes state.

Imports: QtCore only (no widgets, no pyqtgraph), threadpoolctl and :mod:`digitviz.core`.
"""

from __future__ import annotations

import math
import queue
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from digitviz.core import fused
from digitviz.core.experiments import output_nudges
from digitviz.core.snapshot import Event, Snapshot, StepReport, frozen_copy
from digitviz.core.timeline import Timeline
from digitviz.core.training import Diverged, TrainConfig, Trainer

PUBLISH_INTERVAL = 0.03  # seconds between snapshots while running
PATH_CAPACITY = 512  # descent-path points the GUI keeps (TrainingController.path_series)
# Going back in time: 32 MiB of kept thetas (645 of the lesson's), half of them every step from the start
TIMELINE = {"max_bytes": 32 << 20, "head_share": 0.5}
TIMELINE_BLOCK = 96  # staged rows: 5 MB for the lesson's network, above malloc's mmap threshold (4 MiB)
CHUNK_SECONDS = 0.015  # the fused engine trains this long (CPU time) per call, then the loop reads the inbox
_EMPTY_I = frozen_copy(np.zeros(0, np.int64), copy=False)
_EMPTY_F = frozen_copy(np.zeros(0), copy=False)
NO_DATA = "No training data yet: download MNIST or open a folder that holds it."


class StepRecords:
    """The per-step records (step, batch cost, gradient norm) not yet published, in reused NumPy buffers.

    A chunk of the fused engine is hundreds of steps: kept as Python lists of floats, every step cost
    objects made and freed with the GIL held, on the thread that must give the GIL back to the GUI.
    Here a chunk is one slice assignment; :meth:`take` hands out frozen copies (the buffers stay).
    """

    def __init__(self, capacity: int = 1024):
        self.steps = np.empty(capacity, np.int64)
        self.costs = np.empty(capacity)
        self.gnorms = np.empty(capacity)
        self.n = 0

    def add(self, first_step: int, costs, gnorms) -> None:
        """The records of consecutive steps ``first_step, first_step + 1, ...`` (``costs``, ``gnorms``: shape (k,))."""
        k = len(costs)
        need = self.n + k
        if need > len(self.steps):
            cap = max(need, 2 * len(self.steps))
            for name in ("steps", "costs", "gnorms"):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        i = slice(self.n, need)
        self.steps[i] = np.arange(first_step, first_step + k)
        self.costs[i] = costs
        self.gnorms[i] = gnorms
        self.n = need

    def take(self) -> tuple:
        """``(steps, costs, gnorms)``: read-only copies of the records so far, which are then forgotten."""
        n, self.n = self.n, 0
        if not n:
            return _EMPTY_I, _EMPTY_F, _EMPTY_F
        return frozen_copy(self.steps[:n]), frozen_copy(self.costs[:n]), frozen_copy(self.gnorms[:n])

    def __len__(self) -> int:
        return self.n


def divergence_message(exc: Diverged, step: int, good_step: int | None = None, good_acc: float = float("nan")) -> str:
    """Plain words for a :class:`Diverged` run: what happened (its kind, with the effective learning rate
    the step used), when, and what to do."""
    text = str(exc)
    back = ""
    if good_step is not None and good_step < step:
        acc = "" if math.isnan(good_acc) else f" ({good_acc:.1%})"
        back = f", or go back to the weights of step {good_step:,}{acc}"
    return f"Training blew up at step {step:,}: {text}. Training paused: lower the learning rate{back}, or reset."


class TrainWorker(QObject):
    """Runs a :class:`~digitviz.core.training.Trainer` on whichever thread calls :meth:`run`.

    Create it without a parent, ``moveToThread(thread)``, connect ``thread.started`` to :meth:`run`
    and its signals, then start the thread. Every public command method below is thread-safe: it
    only puts a message in the inbox.

    Parameters
    ----------
    data : Dataset or None
        Training data; ``None`` until the app has loaded it (the network can still be shown).
    config : TrainConfig
    publish_interval : float
        Seconds between snapshots while training.

    Signals
    -------
    snapshot(Snapshot)
        A new immutable state (emitted from the worker thread; queued to the receiver).
    finished()
        :meth:`run` returned (after :meth:`stop`).
    """

    snapshot = Signal(object)
    finished = Signal()

    def __init__(self, data=None, config: TrainConfig | None = None, publish_interval=PUBLISH_INTERVAL):
        super().__init__()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stop_event = threading.Event()
        self._initial = (data, config or TrainConfig())
        self.publish_interval = float(publish_interval)
        self.trainer: Trainer | None = None  # built on the worker thread in run()
        self.generation = 0
        # run state (worker thread only)
        self._running = False
        self._remaining = 0  # steps still to do for step(n > 1)
        self._to_epoch_end = False  # step_epoch in progress
        self._interval = 0.0  # seconds per batch; 0 = as fast as it goes
        self._next_due = 0.0
        self._published = 0  # snapshots emitted so far
        self._last_pub = 0.0
        self.timeline_kw = dict(TIMELINE)  # the GUI's timeline (TrainingController) is made with the same
        self._chunk = 8  # fused steps per call, adapted to take about CHUNK_SECONDS

    # commands (any thread)

    def play(self):
        self._inbox.put(("play",))

    def pause(self):
        self._inbox.put(("pause",))

    def step(self, n: int = 1):
        """One mini-batch (with a :class:`StepReport`), or ``n`` of them."""
        self._inbox.put(("step", int(n)))

    def step_epoch(self):
        """Train to the end of the current epoch, then evaluate."""
        self._inbox.put(("epoch",))

    def set_speed(self, batches_per_s: float | None):
        """Limit the rate: ``None`` or 0 means as fast as it goes."""
        self._inbox.put(("speed", batches_per_s))

    def update_config(self, **changes):
        """Change live settings (lr, batch_size, momentum, l2, lr_decay, doubt)."""
        self._inbox.put(("config", changes))

    def reset(self, config: TrainConfig | None = None):
        """New random weights from the (new) config's seed; counters and history restart."""
        self._inbox.put(("reset", config))

    def set_data(self, data):
        self._inbox.put(("data", data))

    def load(self, net, config: TrainConfig, meta: dict | None = None):
        """Continue from a loaded network (its own copy is taken over by the worker); ``meta`` (the file's
        step, epoch, examples_seen) continues its counters, and it is evaluated at once when data is there."""
        self._inbox.put(("load", net, config, dict(meta or {})))

    def restore_good(self):
        """Put back the recent good weights the trainer kept (offered after a divergence)."""
        self._inbox.put(("restore",))

    def request_snapshot(self):
        self._inbox.put(("publish",))

    def stop(self):
        """End :meth:`run` at the next batch boundary (or at once when idle)."""
        self._stop_event.set()
        self._inbox.put(("stop",))

    # the loop (worker thread)

    @Slot()
    def run(self):
        try:
            # One BLAS thread: pinned for the whole process when digitviz.gui was imported (jobs.pin_blas),
            # on the GUI thread. (A `threadpool_limits` block here did nothing: threadpoolctl lets only
            # the thread that first limited OpenBLAS limit it again.)
            self._loop()
        finally:
            self.finished.emit()

    def _loop(self):
        data, config = self._initial
        self._initial = None
        # the History's path holds what the GUI's path series does: its stride doubles when the GUI thins
        self.trainer = Trainer(data, config, path_points=PATH_CAPACITY)
        self._reset_records()
        self._publish()
        inbox = self._inbox
        perf = time.perf_counter
        while not self._stop_event.is_set():
            if not self._busy:
                self._handle(inbox.get())  # idle: block until told something
                continue
            if not inbox.empty():
                self._handle(inbox.get_nowait())
                continue
            if self._interval and not (self._to_epoch_end or self._remaining):  # Epoch, Step n: full speed
                wait = self._next_due - perf()
                if wait > 0:
                    try:
                        self._handle(inbox.get(timeout=wait))
                    except queue.Empty:
                        pass
                    continue
                self._next_due = max(self._next_due + self._interval, perf())
            published = self._published
            self._train_one()
            if self._published == published and (not self._busy or perf() - self._last_pub >= self.publish_interval):
                self._publish()

    @property
    def _busy(self) -> bool:
        return self._running or self._remaining > 0 or self._to_epoch_end

    def _handle(self, msg):
        kind = msg[0]
        tr = self.trainer
        message, event = "", None
        if kind == "stop":
            self._stop_event.set()
            return
        if kind == "publish":
            pass
        elif kind == "play":
            if tr.has_data:
                self._running = True
                self._next_due = time.perf_counter()
                self._mark_rate()
            else:
                message, event = NO_DATA, Event.NO_DATA
        elif kind == "pause":
            self._stop_training()
        elif kind == "step":
            self._stop_training()
            if not tr.has_data:
                message, event = NO_DATA, Event.NO_DATA
            elif msg[1] <= 1:
                report = self._single_step()
                self._publish(step_report=report)
                return
            else:
                self._remaining = msg[1]
                self._mark_rate()
        elif kind == "epoch":
            if not tr.has_data:
                message, event = NO_DATA, Event.NO_DATA
            else:
                self._running = False
                self._remaining = 0
                self._to_epoch_end = True
                self._mark_rate()
        elif kind == "speed":
            bps = msg[1]
            self._interval = 1.0 / bps if bps else 0.0
            self._next_due = time.perf_counter()
            return  # nothing visible changed
        elif kind == "config":
            try:
                tr.update_config(**msg[1])
            except (ValueError, TypeError) as e:
                message, event = f"Setting not applied: {e}", Event.SETTING_REJECTED
        elif kind == "reset":
            self._stop_training()
            try:
                tr.reset(msg[1])
            except (ValueError, TypeError) as e:
                message, event = f"Reset failed: {e}", Event.RESET_FAILED
            self._new_generation()
        elif kind == "data":
            self._stop_training()
            tr.set_data(msg[1])
            self._new_generation()
        elif kind == "load":
            self._stop_training()
            _, net, config, meta = msg
            self.trainer = tr = Trainer(tr.data, config, net=net, path_points=PATH_CAPACITY)
            for name in ("step_count", "epoch", "examples_seen"):  # the file's counters go on
                value = meta.get("step" if name == "step_count" else name)
                if isinstance(value, int) and value >= 0:
                    setattr(tr, name, value)
            tr.opt.lr = config.lr_at(tr.epoch)
            if tr.has_data:
                tr.test_acc = tr.evaluate("test").accuracy  # the status bar shows what it can do now
            self._new_generation()
        elif kind == "restore":
            self._stop_training()
            tr.restore_good()
            acc = "" if math.isnan(tr.test_acc) else f" (test accuracy {tr.test_acc:.1%})"
            message, event = (
                (
                    f"Went back to the weights of step {tr.good_step:,}{acc}. Lower the learning "
                    f"rate before training on."
                ),
                Event.RESTORED,
            )
        self._publish(message=message, event=event)

    def _stop_training(self):
        self._running = False
        self._remaining = 0
        self._to_epoch_end = False

    def _new_generation(self):
        self.generation += 1
        self._reset_records()

    def _reset_records(self):
        tr = self.trainer
        self._records = StepRecords()
        self._path_sent = -1  # last History path step already published
        self._epoch_t0 = tr.train_seconds
        self._epoch_n0 = tr.examples_seen
        self._epoch_cost_sum = 0.0
        self._epoch_cost_n = 0
        self._last_cost = float("nan")
        self._last_gnorm = float("nan")
        self._rate = float("nan")
        self._mark_rate()
        self._start_timeline()

    def _start_timeline(self):
        """Going back in time: a decide-only twin of the GUI's Timeline; the points it admits (frozen
        copies, made once) reach the GUI in ``Snapshot.new_timeline``. Step 0 is the start of the run."""
        theta = self.trainer.net.theta
        self.timeline = Timeline(theta.size, theta.dtype, store=False, **self.timeline_kw)
        self._new_timeline: list = []  # blocks of (steps, read-only (k, P) thetas) not yet published
        self._tl_stage = np.empty((TIMELINE_BLOCK, theta.size), theta.dtype)  # worker-only staging rows
        self._tl_steps: list[int] = []
        self._timeline_step = self.trainer.step_count
        self._admit_timeline()

    def _admit_timeline(self):
        """Offer the current theta at the run's step (steps counted from this run's start)."""
        s = self.trainer.step_count - self._timeline_step
        if s > self.timeline.latest_step and self.timeline.admit(s):
            # staged, then copied to the GUI once per block: one allocation per snapshot, not per point
            # (52 KB copies each freed on the GUI thread left ~60 MB resident in the worker's malloc arena)
            self._tl_stage[len(self._tl_steps)] = self.trainer.net.theta
            self._tl_steps.append(self.trainer.step_count)
            if len(self._tl_steps) == TIMELINE_BLOCK:
                self._flush_timeline()

    def _admit_kept(self, kept):
        """Offer the timeline the kept moments a chunk reached (``kept``: run steps, increasing), whose
        thetas the chunk copied into the staging rows from ``len(self._tl_steps)`` on, in order."""
        base, now = len(self._tl_steps), self.trainer.step_count - self._timeline_step
        for i, s in enumerate(kept[: np.searchsorted(kept, now, "right")]):
            if s > self.timeline.latest_step and self.timeline.admit(int(s)):
                row = len(self._tl_steps)
                if row != base + i:  # (never, while the twin keeps what kept_after said)
                    self._tl_stage[row] = self._tl_stage[base + i]
                self._tl_steps.append(int(s) + self._timeline_step)
        if len(self._tl_steps) == TIMELINE_BLOCK:
            self._flush_timeline()

    def _flush_timeline(self):
        k = len(self._tl_steps)
        if k:
            block = frozen_copy(self._tl_stage[:k])
            self._new_timeline.extend(zip(self._tl_steps, block))
            self._tl_steps = []

    def _take_timeline(self) -> tuple:
        """The admitted points since the last snapshot: ``(step, read-only theta view)`` pairs."""
        self._flush_timeline()
        points, self._new_timeline = tuple(self._new_timeline), []
        return points

    def _mark_rate(self):
        self._rate_t = time.perf_counter()
        self._rate_n = self.trainer.examples_seen if self.trainer else 0

    def _engine(self) -> str:
        if self.trainer.engine != "fused":
            return self.trainer.engine
        return "fused" if fused.is_ready(self.trainer.dtype) else "numpy (fused compiling)"

    def _train_one(self):
        """One mini-batch while playing / stepping n / finishing an epoch; at full speed on the fused
        engine, a chunk of them sized to take about ``CHUNK_SECONDS`` (the kernel frees the GIL)."""
        tr = self.trainer
        if tr.engine == "fused" and not fused.is_ready(tr.dtype):
            # at the first step of training, not at launch: Numba and its kernels take ~140 MB, which a
            # window only looked at never needs. Compiled (or loaded from the disk cache) on its own
            # thread; NumPy trains meanwhile.
            fused.start_warm_up(tr.dtype)
        try:
            if self._interval or self._engine() != "fused":
                res = tr.step()
                self._record(res.cost, res.grad_norm, tr.step_count)
                done = 1
            else:
                target = self._chunk
                n = min(target, self._remaining) if self._remaining > 0 else target
                # the timeline's kept moments in this chunk: the kernel copies theta into the staging rows
                # there (every step of the timeline's dense start is kept: ending each call at the next
                # one made the app's first minutes ~15% slower than training headless)
                free = TIMELINE_BLOCK - len(self._tl_steps)
                kept = self.timeline.kept_after(tr.step_count - self._timeline_step, n, free)
                if len(kept) == free:  # the staging rows are full there: end the call at the last of them
                    n = int(kept[-1]) - (tr.step_count - self._timeline_step)
                # sized by this thread's CPU time: on a busy machine the wall time of a chunk also counts
                # the waits for a core, and chunks sized by it shrank, multiplying the cost between them
                t0 = time.thread_time()
                try:
                    costs, gnorms = tr.run_steps(n, kept + self._timeline_step, self._tl_stage[len(self._tl_steps) :])
                finally:
                    self._admit_kept(kept)
                dt = time.thread_time() - t0
                done = len(costs)
                self._record_chunk(costs, gnorms)
                if done == n and 2 * n >= target and dt > 0:  # (a chunk cut much shorter says little)
                    self._chunk = int(min(max(1, n * CHUNK_SECONDS / dt), 2 * target + 1, 100_000))
        except Diverged as e:
            self._record_chunk(*(e.chunk or ((), ())))  # the steps of the chunk before it
            self._diverged(e)
            return
        if self._remaining > 0:
            self._remaining = max(0, self._remaining - done)
        if tr.epoch_done:
            self._to_epoch_end = False
            self._finish_epoch()

    def _record_chunk(self, costs, gnorms):
        """:meth:`_record` for the steps of a chunk that just ended (in bulk: a chunk can be 1,000 steps)."""
        n = len(costs)
        if not n:
            return
        self._records.add(self.trainer.step_count - n + 1, costs, gnorms)
        self._last_cost, self._last_gnorm = float(costs[-1]), float(gnorms[-1])
        self._epoch_cost_sum += float(np.sum(costs))
        self._epoch_cost_n += n
        self._admit_timeline()  # the chunk's end (its kept moments were offered by _admit_kept)

    def _record(self, cost, grad_norm, step):
        self._records.add(step, (cost,), (grad_norm,))
        self._last_cost, self._last_gnorm = cost, grad_norm
        self._epoch_cost_sum += cost
        self._epoch_cost_n += 1
        self._admit_timeline()

    def _finish_epoch(self):
        tr = self.trainer
        seconds = tr.train_seconds - self._epoch_t0
        n = tr.examples_seen - self._epoch_n0
        tr.end_epoch(seconds=seconds, examples=n, train_cost=self._epoch_cost_sum / max(1, self._epoch_cost_n))
        self._epoch_t0, self._epoch_n0 = tr.train_seconds, tr.examples_seen
        self._epoch_cost_sum, self._epoch_cost_n = 0.0, 0
        self._publish()

    def _diverged(self, exc: Diverged):
        self._stop_training()
        tr = self.trainer
        self._publish(
            message=divergence_message(exc, tr.step_count, tr.good_step, tr.good_acc),
            event=Event.DIVERGED,
            restore_point=(tr.good_step, tr.good_acc),
        )

    def _single_step(self) -> StepReport | None:
        """One step that also reports what it did to its own batch."""
        tr = self.trainer
        net = tr.net
        theta_before = net.theta.copy()
        tr.opt.keep_grad = True
        try:
            res = tr.step()
        except Diverged as e:
            self._diverged(e)
            return None
        finally:
            tr.opt.keep_grad = False
        self._record(res.cost, res.grad_norm, tr.step_count)
        X, Y, _, _ = tr.last_batch
        cost_after = net.cost(X, Y)
        report = StepReport(
            cost_before=float(res.cost),
            cost_after=float(cost_after),
            grad_norm=res.grad_norm,
            step_norm=res.step_norm,
            lr=res.lr,
            grad=frozen_copy(tr.opt.last_grad),
            output_nudges=frozen_copy(output_nudges(net, X, Y, theta_before), copy=False),
        )
        tr.opt.last_grad = None
        if tr.epoch_done:
            self._finish_epoch()
        return report

    def _publish(
        self,
        message: str = "",
        step_report: StepReport | None = None,
        event: Event | None = None,
        restore_point: tuple | None = None,
    ):
        tr = self.trainer
        now = time.perf_counter()
        dn = tr.examples_seen - self._rate_n
        dt = now - self._rate_t
        if self._busy and dt > 0.2:
            rate = dn / dt
            self._rate = rate if math.isnan(self._rate) else 0.5 * self._rate + 0.5 * rate
            self._rate_t, self._rate_n = now, tr.examples_seen
        elif not self._busy and not self._running:
            self._rate_t, self._rate_n = now, tr.examples_seen
        example, label = None, -1
        if tr.last_batch is not None:
            X, _, labels, _ = tr.last_batch
            i = 0 if (step_report is not None or not self._busy) else len(labels) - 1
            example, label = frozen_copy(X[i]), int(labels[i])
        elif tr.has_data:
            x, label = tr.upcoming_example()
            example = frozen_copy(x)
        new_steps, new_costs, new_gnorms = self._records.take()
        h = tr.history
        steps = h.path_steps
        i = int(np.searchsorted(steps, self._path_sent, side="right"))
        # the history keeps read-only copies and never changes one: they are shared, not copied again
        new_path = [(int(s), th) for s, th in zip(steps[i:], h.path_thetas[i:])]
        if new_path:
            self._path_sent = new_path[-1][0]
            # the GUI keeps the path (TrainingController.path_points); keeping it here too would be a
            # second copy of up to 1,024 thetas (53 MB for the lesson's network). The last point stays,
            # so that History.record_theta still sees the step it recorded last.
            h.forget_path()
        snap = Snapshot(
            step=tr.step_count,
            epoch=tr.epoch + (1 if tr.epoch_done else 0),
            examples_seen=tr.examples_seen,
            theta=frozen_copy(tr.net.theta),
            config=tr.config,
            cost=self._last_cost,
            grad_norm=self._last_gnorm,
            example=example,
            example_label=label,
            running=self._busy,
            examples_per_s=self._rate if self._busy else float("nan"),
            new_steps=new_steps,
            new_costs=new_costs,
            new_grad_norms=new_gnorms,
            new_path=tuple(new_path),
            new_timeline=self._take_timeline(),
            epochs=tuple(h.epochs),
            step_report=step_report,
            message=message,
            event=event if message else None,
            restore_point=restore_point,
            accuracy=tr.test_acc,
            generation=self.generation,
            engine=self._engine(),
        )
        self._published += 1
        self._last_pub = now
        self.snapshot.emit(snap)
