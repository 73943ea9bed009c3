"""The cost-landscape panel's computing thread: surfaces, path costs and gradients off the GUI thread.

The panel hands over immutable jobs built from snapshot copies (read-only ``theta`` arrays, a frozen
:class:`~digitviz.core.landscape.Plane`, the read-only dataset); :class:`LandscapeWorker` computes them
and emits plain results (numpy arrays, floats). Each job carries a request id; the panel drops results
whose id is not the one it is waiting for, so a superseded job can never paint over a newer one.

Two kinds of job share one thread, one at a time:

* :class:`SurfaceJob` -- fit (or keep) the plane, project the path, the cost over a coarse then a fine
  grid, the exact cost at the path's projections and the 1-D line from the initial weights. Cancellable
  (cost_grid polls the cancel flag between chunks of grid points); a newer surface job cancels it.
* :class:`PathJob` -- the true cost of new path points (and of their projections on the current plane)
  and the gradient at the current weights, all on the same sample. Small and quick; it goes first.

The thread runs only while there is work: it starts on :meth:`LandscapeWorker.submit` and returns when
the queue is empty, so an idle panel holds no running thread (nothing to stop when the app exits).
BLAS is pinned to one thread while it runs: the other core trains.

Imports: QtCore only (no widgets, no pyqtgraph), threadpoolctl and :mod:`digitviz.core`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QThread, Signal
from threadpoolctl import threadpool_limits

from digitviz.core import landscape as ls
from digitviz.core.network import Network, one_hot
from digitviz.core.snapshot import frozen_copy
from digitviz.core.training import TrainConfig, training_labels

SOURCES = ("train", "test")
LINE_EXTEND = 0.2  # the 1-D view runs over t in [-0.2, 1.2]
LINE_POINTS = 57   # every 0.025 in t
_SAMPLE_SALT = 7   # seeds the sample's permutation: rng([config.seed, 7]) (the Trainer uses 1, 2, 3)


def sample_indices(n_total: int, n: int, seed: int) -> np.ndarray:
    """The first ``n`` of a seeded permutation of ``range(n_total)``: one fixed sample per run."""
    perm = np.random.default_rng([int(seed), _SAMPLE_SALT]).permutation(n_total)
    return perm[: max(1, min(int(n), n_total))]


def make_sample(data, config: TrainConfig, n: int, source: str = "train"):
    """``(X (n, 784), Y (n, n_out))`` in the network's dtype: the examples every job of a run uses.

    Training examples carry the labels the run trains on (permuted when ``config.random_labels``,
    exactly as :class:`~digitviz.core.training.Trainer` does), so the surface is the cost being descended.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    images = data.train_images if source == "train" else data.test_images
    labels = np.asarray(data.train_labels if source == "train" else data.test_labels, np.intp)
    if source == "train":
        labels = training_labels(labels, config)
    idx = sample_indices(len(images), n, config.seed)
    dtype = np.dtype(config.dtype)
    X = images[idx].astype(dtype)
    X /= dtype.type(255)  # as Dataset.images_as: 255 maps to exactly 1.0
    Y = one_hot(labels[idx], config.sizes[-1], dtype)
    X.flags.writeable = False
    Y.flags.writeable = False
    return X, Y


@dataclass(frozen=True, eq=False)
class _RunSample:
    """Which run a job belongs to and which examples its costs are averaged over."""

    id: int
    generation: int
    config: TrainConfig
    data: object
    sample_size: int
    source: str


@dataclass(frozen=True, eq=False)
class SurfaceJob(_RunSample):
    """Everything a surface needs, as immutable copies.

    Attributes
    ----------
    id, generation : int
    config : TrainConfig
    data : Dataset
    sample_size : int; source : {"train", "test"}
    mode : {"pca", "random", "params"}
    centre : ndarray (P,)
        The plane's centre (read-only).
    current : ndarray (P,)
        The current weights (end of the 1-D line; included in the grid's range).
    path : tuple of ndarray (P,)
        The recorded path, oldest first (read-only arrays; PCA and projections).
    steps : tuple of int
        The path points' training steps.
    seed : int
        Random directions' seed. ``params``: two flat indices for the "params" mode.
    plane : Plane or None
        Keep this plane (no refit): only the grid and the path's costs are recomputed.
    resolution, coarse : int
        Points per axis of the fine and the first, coarse grid.
    """

    mode: str
    centre: np.ndarray
    current: np.ndarray
    path: tuple = ()
    steps: tuple = ()
    seed: int = 0
    params: tuple | None = None
    plane: ls.Plane | None = None
    resolution: int = 41
    coarse: int = 11
    margin: float = 0.25
    kind: str = field(default="surface", init=False)


@dataclass(frozen=True, eq=False)
class SurfaceResult:
    """One pass of a surface job (``final`` False: the coarse preview).

    Attributes
    ----------
    plane : Plane
    alphas, betas : ndarray (nA,), (nB,);  Z : ndarray (nB, nA) float64, ``Z[j, i]`` at (alphas[i], betas[j])
    coords : ndarray (K, 2); distance : ndarray (K,); steps : ndarray (K,)
        The job's path projected on the plane, each point's distance from it, and its step.
    plane_costs : ndarray (K,) or None
        Exact cost at each projection ``centre + a_k d1 + b_k d2`` (final pass only).
    line_t, line_costs : ndarray or None
        Cost along ``path[0] + t (current - path[0])`` (final pass only).
    seconds : dict
        Wall-clock seconds per stage ("plane", "coarse", "fine", "path", "line").
    """

    id: int
    generation: int
    final: bool
    plane: ls.Plane
    alphas: np.ndarray
    betas: np.ndarray
    Z: np.ndarray
    coords: np.ndarray
    distance: np.ndarray
    steps: np.ndarray
    sample_size: int
    source: str
    plane_costs: np.ndarray | None = None
    line_t: np.ndarray | None = None
    line_costs: np.ndarray | None = None
    seconds: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class PathJob(_RunSample):
    """True costs of path points, their projections' costs on ``plane``, and a gradient.

    ``thetas`` (read-only) pair with ``steps``; ``grad_theta`` (or None) is where to compute the
    gradient of the sample's cost, reported with ``grad_step``.
    """

    steps: tuple = ()
    thetas: tuple = ()
    plane: ls.Plane | None = None
    grad_theta: np.ndarray | None = None
    grad_step: int = -1
    kind: str = field(default="path", init=False)


@dataclass(frozen=True, eq=False)
class PathResult:
    id: int
    generation: int
    sample_size: int
    source: str
    steps: np.ndarray
    true_costs: np.ndarray
    plane: ls.Plane | None
    plane_costs: np.ndarray | None
    grad: np.ndarray | None
    grad_step: int
    seconds: float


def compute_surface(job: SurfaceJob, net: Network, X, Y, *, emit=None, progress=None, cancel=None):
    """Run a surface job; ``emit(SurfaceResult)`` gets the coarse pass, the final one is returned.

    Raises :class:`~digitviz.core.landscape.Cancelled` when ``cancel()`` turns True.
    """
    seconds = {}
    t0 = time.perf_counter()
    centre = np.asarray(job.centre, np.float64)
    path = np.stack(job.path) if job.path else centre[None, :]
    if job.plane is not None:
        plane = job.plane
    elif job.mode == "pca":
        plane = ls.pca_directions(path, centre, rng=np.random.default_rng(job.seed))
    elif job.mode == "random":
        plane = ls.random_directions(net, centre, np.random.default_rng(job.seed))
    elif job.mode == "params":
        plane = ls.parameter_directions(net, centre, *job.params)
    else:
        raise ValueError(f"unknown plane mode {job.mode!r}")
    coords, distance = ls.project(plane, path)
    now = ls.project(plane, job.current)[0]
    alphas, betas = ls.grid_axes(np.vstack([coords, now]), job.resolution, job.margin)
    seconds["plane"] = time.perf_counter() - t0

    n_line = LINE_POINTS
    n_grid = len(alphas) * len(betas)
    n_coarse = min(job.coarse, len(alphas)) * min(job.coarse, len(betas)) if job.coarse < job.resolution else 0
    total = n_coarse + len(coords) + n_line + n_grid
    done = [0]

    def tick(base):
        if progress is None:
            return None
        return lambda d, _t: progress(base + d, total)

    base = dict(id=job.id, generation=job.generation, plane=plane, coords=coords, distance=distance,
                steps=np.asarray(job.steps, np.int64), sample_size=job.sample_size, source=job.source)
    t = time.perf_counter()
    if n_coarse:
        ca = np.linspace(alphas[0], alphas[-1], min(job.coarse, len(alphas)))
        cb = np.linspace(betas[0], betas[-1], min(job.coarse, len(betas)))
        Zc = ls.cost_grid(net, plane, X, Y, ca, cb, progress=tick(0), cancel=cancel)
        seconds["coarse"] = time.perf_counter() - t
        done[0] = n_coarse
        if emit is not None:
            emit(SurfaceResult(final=False, alphas=ca, betas=cb, Z=Zc, seconds=dict(seconds), **base))
    # the path's own numbers before the fine grid: the side plots fill while the map sharpens
    t = time.perf_counter()
    plane_costs = ls.plane_costs(net, plane, coords, X, Y, progress=tick(done[0]), cancel=cancel)
    done[0] += len(coords)
    seconds["path"] = time.perf_counter() - t
    t = time.perf_counter()
    line_t, line_c = ls.line_costs(net, path[0], job.current, X, Y, n=n_line, extend=LINE_EXTEND,
                                   progress=tick(done[0]), cancel=cancel)
    done[0] += n_line
    seconds["line"] = time.perf_counter() - t
    t = time.perf_counter()
    Z = ls.cost_grid(net, plane, X, Y, alphas, betas, progress=tick(done[0]), cancel=cancel)
    seconds["fine"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return SurfaceResult(final=True, alphas=alphas, betas=betas, Z=Z, plane_costs=plane_costs, line_t=line_t,
                         line_costs=line_c, seconds=seconds, **base)


def compute_path(job: PathJob, net: Network, X, Y, *, cancel=None, chunk=64) -> PathResult:
    """Run a path job (chunks of ``chunk`` points, ``cancel`` polled between them)."""
    t0 = time.perf_counter()
    K = len(job.thetas)
    true_costs = np.empty(K)
    plane_costs = np.empty(K) if job.plane is not None else None
    for s in range(0, K, chunk):
        if cancel is not None and cancel():
            raise ls.Cancelled()
        block = np.stack(job.thetas[s:s + chunk])
        true_costs[s:s + len(block)] = ls.costs_at(net, block, X, Y)
        if job.plane is not None:
            coords, _ = ls.project(job.plane, block)
            plane_costs[s:s + len(block)] = ls.plane_costs(net, job.plane, coords, X, Y)
    grad = None
    if job.grad_theta is not None:
        net.set_theta(job.grad_theta)
        _, g = net.backprop(X, Y)
        grad = frozen_copy(g.astype(np.float64))  # backprop returns a view of the workspace
    return PathResult(id=job.id, generation=job.generation, sample_size=job.sample_size, source=job.source,
                      steps=np.asarray(job.steps, np.int64), true_costs=true_costs, plane=job.plane,
                      plane_costs=plane_costs, grad=grad, grad_step=job.grad_step,
                      seconds=time.perf_counter() - t0)


class LandscapeWorker(QThread):
    """One computing thread for the landscape panel, running only while jobs are queued.

    Thread-safe methods (call from the GUI thread): :meth:`submit`, :meth:`cancel`, :meth:`stop`.
    Results arrive through the signals below, queued to the receiver's (GUI) thread.

    Signals
    -------
    progress(int, int, int)
        ``(job id, done, total)`` work units of a surface job.
    surface_ready(SurfaceResult)
        The coarse pass (``final`` False), then the final one.
    path_ready(PathResult)
    cancelled(int)
        A surface job stopped early (cancelled, superseded by a newer one, or the worker stopped).
    failed(int, str)
        A job raised; the message says what went wrong.
    """

    progress = Signal(int, int, int)
    surface_ready = Signal(object)
    path_ready = Signal(object)
    cancelled = Signal(int)
    failed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("digitviz-landscape")
        self._lock = threading.Lock()
        self._pending: dict[str, object] = {}
        self._running_job = None
        self._cancel_flag = threading.Event()
        self._accepting = False  # the run loop will still look at the queue
        self._stopped = False
        # worker-thread state
        self._net: Network | None = None
        self._net_key = None
        self._samples: dict = {}

    # GUI thread

    def submit(self, job):
        """Queue ``job`` (latest of its kind wins); a newer surface job cancels a running one."""
        with self._lock:
            if self._stopped:
                return
            self._pending[job.kind] = job
            if job.kind == "surface" and self._running_job is not None and self._running_job.kind == "surface":
                self._cancel_flag.set()
            start = not self._accepting
            self._accepting = True
        if start:
            self.wait()  # the previous run() has returned or is returning: nothing left for it to do
            self.start()

    def cancel(self) -> bool:
        """Cancel the pending and the running surface job. True if there was one.

        A running job reports ``cancelled`` from the worker thread when it stops; a job that had not
        started yet reports it at once (from the calling thread).
        """
        with self._lock:
            pending = self._pending.pop("surface", None)
            running = self._running_job is not None and self._running_job.kind == "surface"
            if running:
                self._cancel_flag.set()
        if pending is not None:
            self.cancelled.emit(pending.id)
        return running or pending is not None

    def stop(self, timeout_ms=5000, final=True) -> bool:
        """Drop queued jobs, cancel the running one and wait for the thread. True when it ended.

        With ``final`` False the worker accepts jobs again afterwards (e.g. a panel closed and reopened).
        """
        with self._lock:
            self._stopped = True
            self._pending.clear()
            self._cancel_flag.set()
        ended = self.wait(timeout_ms)
        if not final:
            with self._lock:
                self._stopped = False
        return ended

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running_job is not None or bool(self._pending)

    # worker thread

    def run(self):
        while True:
            with self._lock:
                job = self._pending.pop("path", None) or self._pending.pop("surface", None)
                if job is None or self._stopped:
                    self._running_job = None
                    self._accepting = False
                    return
                self._running_job = job
                self._cancel_flag = flag = threading.Event()
            try:
                # One BLAS thread. The limit is process-wide (threadpoolctl sets the library's global),
                # so it is set again for every job: another thread leaving its own limit may have reset
                # it. Measured here: PCA of 300 path points 0.34 s with one thread, 3.8 s with two.
                with threadpool_limits(1):
                    self._do(job, flag)
            except ls.Cancelled:
                self.cancelled.emit(job.id)
            except Exception as e:  # report, never kill the thread silently
                self.failed.emit(job.id, f"{type(e).__name__}: {e}")
            finally:
                with self._lock:
                    self._running_job = None

    def _network(self, config: TrainConfig) -> Network:
        key = (config.sizes, config.activation, config.cost, config.dtype)
        if key != self._net_key:
            self._net = Network(config.sizes, config.activation, config.cost, np.dtype(config.dtype),
                                seed=None, init=None)
            self._net_key = key
            self._samples.clear()
        return self._net

    def _sample(self, job):
        c = job.config
        key = (id(job.data), job.source, job.sample_size, c.seed, c.random_labels)
        got = self._samples.get(key)
        if got is None or got[0] is not job.data:
            if len(self._samples) > 4:
                self._samples.clear()
            got = self._samples[key] = (job.data, *make_sample(job.data, c, job.sample_size, job.source))
        return got[1], got[2]

    def _do(self, job, flag):
        net = self._network(job.config)
        X, Y = self._sample(job)
        if job.kind == "path":
            self.path_ready.emit(compute_path(job, net, X, Y, cancel=flag.is_set))
            return
        last = [-1]

        def progress(done, total):
            pct = 100 * done // max(1, total)
            if pct != last[0]:
                last[0] = pct
                self.progress.emit(job.id, done, total)

        result = compute_surface(job, net, X, Y, emit=self.surface_ready.emit, progress=progress,
                                 cancel=flag.is_set)
        self.surface_ready.emit(result)
