"""The fused training engine: many SGD steps per call, compiled with Numba, without the GIL.

:class:`~digitviz.core.training.Trainer` walks the data and keeps the records; this module only does the
arithmetic of a *chunk* of consecutive mini-batches in one compiled call: forward pass, cost, backprop,
the divergence checks, L2, momentum and the update of ``theta``, for every activation and cost of
:mod:`digitviz.core.network`, any layer sizes, any batch size, float32 or float64. The NumPy code in
``network.py`` / ``training.py`` is the reference; ``tests/core/test_fused.py`` runs both from the same
seed and asserts the same batches and the same parameters.

Why it is faster than the NumPy path: no Python between the layers or the steps (a NumPy step is ~40
small calls), no temporaries, and the two big products of every step (the first layer's forward
``X @ W1.T`` and its weight gradient ``delta1.T @ X``) are register-blocked over four examples, so each
weight row is loaded once per four examples; from mini-batch 32 the narrow layers after the input are stored
feature-major, so their loops run over the batch, not over 16 neurons (see ``FM_MIN_BATCH`` in the kernels'
module). It releases the GIL (``nogil=True``), so the GUI thread runs
while a chunk trains, and it is cached on disk (``cache=True``), so only the very first run compiles.

Layout (the same as :class:`~digitviz.core.network.Layout`): ``theta`` is flat; layer ``l``'s ``W`` of shape
``(n_out, n_in)`` sits row-major at ``w_off[l]``, its ``b`` at ``b_off[l]``. Batches are batch-major and
flat: row ``b`` of an ``(nb, n)`` buffer starts at ``b * n`` (feature-major layers: ``a[i, b]`` at ``i * nb + b``).

Imports: NumPy and the standard library; the kernels (:mod:`digitviz.core._fused_kernels`, Numba) are
imported by :func:`warm_up` only, so importing this module stays cheap. Numba is a dependency, but
without it :func:`available` is False and the trainer uses NumPy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .divergence import (
    BLOWUP,
    COLLAPSE_PINNED,
    COLLAPSE_SAME,
    COST_ALPHA,
    PINNED,
    PROBE_EVERY_EXAMPLES,
    RISE,
    RISE_STEPS,
    Diverged,
    Divergence,
    DivergenceWatch,
)

if TYPE_CHECKING:  # training imports this module
    from digitviz.core.network import Layout
    from digitviz.core.training import Trainer

ACT_CODES = {"sigmoid": 0, "relu": 1, "tanh": 2}
COST_CODES = {"quadratic": 0, "cross_entropy": 1}
# BLAS or loops for the big products. With SciPy installed, Numba's np.dot calls SciPy's OpenBLAS from
# compiled code. Measured here (2 shared cores, one thread, 784-16-16-10, float32, whole epochs): with
# 4x1 tiles the loops were as fast as BLAS at mini-batch 10 and ~15% faster at 100; the 4x4 tiles now
# used ran the forward product at ~100 GFLOP/s alone against ~70 for BLAS; and they need no SciPy. So the
# loops are the default; set True to measure BLAS (editing this file invalidates Numba's cache). A module
# constant: Numba prunes the disabled branch before typing, so SciPy is never needed when False.
HAVE_BLAS = False and importlib.util.find_spec("scipy") is not None
BLAS_MIN = 2048  # products with fewer weights than this stay in loops (a BLAS call costs ~0.3 us)
# status codes returned by the kernel
OK, NOT_FINITE, BLEW_UP, ROSE, COLLAPSED = 0, 1, 2, 3, 4

# Reassociation lets LLVM vectorise the dot products; no "nnan"/"ninf": the divergence checks need them.
# No "arcp" either: the images are divided by 255 exactly as NumPy does (not multiplied by 1/255).
_FASTMATH = {"reassoc", "contract", "nsz"}


_HAVE_NUMBA = importlib.util.find_spec("numba") is not None  # without importing it (half a second)
_broken: list = []  # the ImportError, when the kernels could not be imported after all


def available() -> bool:
    """True when Numba is installed (the fused engine can run); False after it failed to import."""
    return _HAVE_NUMBA and not _broken


_k = None


def kernels():
    """The compiled kernels' module (:mod:`digitviz.core._fused_kernels`), imported on first use.

    Numba's first compilation (or load from its cache) of any kernel loads SciPy's BLAS when SciPy is
    installed (``numba.np.arraymath``): it is loaded here, and pinned to one thread, before any kernel runs.
    """
    global _k
    if _k is None:
        before = _blas_libraries()
        from . import _fused_kernels

        with contextlib.suppress(ImportError):
            import numba.np.arraymath  # noqa: F401
        _one_thread_for_new_blas(before)
        _k = _fused_kernels
    return _k


# driving a Trainer

_compile_lock = threading.Lock()
_ready = {np.dtype(np.float32): threading.Event(), np.dtype(np.float64): threading.Event()}  # compiled, per dtype
_layouts: dict = {}


def _layout_arrays(layout):
    key = layout.sizes
    arrs = _layouts.get(key)
    if arrs is None:
        arrs = _layouts[key] = (
            np.array(layout.sizes, np.int64),
            np.array([w.start for w, _ in layout.slices], np.int64),
            np.array([b.start for _, b in layout.slices], np.int64),
        )
    return arrs


def _call(
    theta,
    velocity,
    layout,
    act,
    cost,
    U,
    Xf,
    labels,
    idx,
    batch,
    n_steps,
    hp,
    noise_k,
    noise,
    noise_y,
    step0,
    first_cost,
    blowup,
    wst,
    seen0=0,
    Xp=None,
    yp=None,
    good=None,
    pst=None,
    snaps=None,
    snap_at=None,
):
    sizes, w_off, b_off = _layout_arrays(layout)
    costs = np.empty(n_steps)
    gnorms = np.empty(n_steps)
    if Xp is None:  # no probe checks
        Xp, yp, good = _frozen(np.zeros(0, theta.dtype)), np.zeros(0, np.intp), np.zeros_like(theta)
    if pst is None:
        pst = np.array([np.inf, -1.0, 0.0, -1.0, np.nan])
    if snaps is None:
        snaps, snap_at = np.zeros((0, theta.shape[0]), theta.dtype), np.zeros(0, np.int64)
    done, status = kernels().train_chunk(
        theta,
        velocity,
        sizes,
        w_off,
        b_off,
        ACT_CODES[act],
        COST_CODES[cost],
        U,
        Xf,
        labels,
        idx,
        int(batch),
        int(n_steps),
        hp,
        noise_k,
        noise,
        float(noise_y),
        int(step0),
        first_cost,
        float(blowup),
        wst,
        _watch_constants(),
        int(seen0),
        Xp,
        yp,
        good,
        pst,
        snaps,
        snap_at,
        costs,
        gnorms,
    )
    return int(done), int(status), costs, gnorms


def probe_outputs(theta, layout, act, cost, X):
    """Output activations ``(n, n_out)`` of the batch ``X`` ``(n, n_in)``, like ``Network.feedforward``
    (to rounding), compiled; the fused engine's probe checks use it."""
    sizes, w_off, b_off = _layout_arrays(layout)
    n = X.shape[0]
    out = np.empty(n * sizes[-1], theta.dtype)
    kernels().feed_forward(
        theta,
        sizes,
        w_off,
        b_off,
        ACT_CODES[act],
        COST_CODES[cost],
        np.ascontiguousarray(X, theta.dtype).reshape(-1),
        n,
        out,
    )
    return out.reshape(n, sizes[-1])


EVAL_BLOCK = 1024  # images the epoch's evaluation converts at a time (3 MB of float32 inputs)


def evaluate_images(
    theta: np.ndarray, layout: Layout, act: str, cost: str, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float]:
    """``(accuracy, cost)`` of the network ``theta`` on uint8 ``images`` ``(n, n_in)`` against ``labels``,
    as :func:`~digitviz.core.history.evaluate` gives them (to rounding: the forward pass is the kernel's,
    not NumPy's), in one compiled call without the GIL: the epoch-end evaluation of the fused engine."""
    sizes, w_off, b_off = _layout_arrays(layout)
    U = np.ascontiguousarray(images, np.uint8).reshape(-1)
    if U.flags.writeable:
        U = _frozen(U)
    y = np.ascontiguousarray(labels, np.intp)
    n = len(y)
    if n == 0 or U.shape[0] != n * sizes[0]:
        raise ValueError(f"expected {n} images of {sizes[0]} pixels, got {U.shape[0]} values")
    res = np.zeros(2)
    kernels().evaluate_images(
        theta, sizes, w_off, b_off, ACT_CODES[act], COST_CODES[cost], U, y, n, min(EVAL_BLOCK, n), res
    )
    return float(res[0]) / n, float(res[1]) / n


_WATCH_C = None


def _watch_constants():
    """``[COST_ALPHA, RISE, RISE_FLOOR, RISE_STEPS, PROBE_EVERY_EXAMPLES, PINNED, COLLAPSE_PINNED,
    COLLAPSE_SAME]`` of :mod:`digitviz.core.divergence` (read once): the kernel's divergence watch."""
    global _WATCH_C
    if _WATCH_C is None:
        _WATCH_C = np.array(
            [
                COST_ALPHA,
                RISE,
                DivergenceWatch.RISE_FLOOR,
                RISE_STEPS,
                PROBE_EVERY_EXAMPLES,
                PINNED,
                COLLAPSE_PINNED,
                COLLAPSE_SAME,
            ],
            np.float64,
        )
    return _WATCH_C


def _rise_constants():
    """``[COST_ALPHA, RISE, RISE_FLOOR, RISE_STEPS]``: the RISE test's part of :func:`_watch_constants`."""
    return _watch_constants()[:4]


def warm_up(dtype: npt.DTypeLike = np.float32) -> None:
    """Compile (or load from Numba's on-disk cache) the kernels for ``dtype`` (float32, the app's, unless a
    run asks for float64). Idempotent and thread-safe; :func:`is_ready` is True for ``dtype`` afterwards.
    Takes ~0.5 s from the cache and ~20 s a dtype the first time (measured here: 21.7 s float32, 19.0 s
    float64), so a dtype no run uses is never compiled."""
    dtype = np.dtype(dtype)
    ready = _ready[dtype]
    if ready.is_set() or not available():
        return
    from .network import Layout

    with _compile_lock:
        if ready.is_set():
            return
        before = _blas_libraries()
        try:
            kernels()
        except ImportError as e:  # pragma: no cover - a broken Numba install: the trainer stays on NumPy
            _broken.append(e)
            return
        layout = Layout((3, 2, 2))
        U = np.zeros(2 * 3, np.uint8)
        U.flags.writeable = False
        for Xf in (np.zeros(0, dtype), np.zeros(3, dtype)):  # from the images, and from a gathered batch
            theta = np.zeros(layout.size, dtype)
            wst = np.array([np.nan, np.nan, np.inf, 0.0])
            _call(
                theta,
                np.zeros_like(theta),
                layout,
                "sigmoid",
                "quadratic",
                U,
                Xf,
                np.zeros(2, np.intp),
                np.zeros(1, np.int64),
                1,
                1,
                np.zeros(3, dtype),
                np.zeros(1, np.int64),
                np.zeros(3, dtype),
                0.0,
                0,
                np.array([np.inf]),
                10.0,
                wst,
            )
        probe_outputs(theta, layout, "sigmoid", "quadratic", np.zeros((1, 3), dtype))
        evaluate_images(theta, layout, "sigmoid", "quadratic", U[:3], np.zeros(1, np.intp))
        _one_thread_for_new_blas(before)
        global _blas
        if HAVE_BLAS:  # SciPy's BLAS is loaded now: keep a controller to pin it to one thread per chunk
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        ready.set()


def _blas_libraries():
    """File paths of the BLAS / OpenMP libraries loaded now (empty without threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency of the app
        return None
    return {lib.filepath for lib in ThreadpoolController().lib_controllers}


def _one_thread_for_new_blas(before):
    """Numba's first compilation imports SciPy's BLAS when SciPy is installed (for its np.dot support,
    which this engine does not use). That library arrives after the app pinned BLAS to one thread
    process-wide, with as many threads as cores: pin it too, so every BLAS in the process stays on one
    thread as the app and its tests expect (nothing in digitviz calls it).

    This runs on the warm-up thread, and threadpoolctl (since 3.6) silently ignores OpenBLAS limits set
    from any thread but the first one that set them (the app's GUI thread): for a library nobody has
    limited yet that rule only keeps it on every core, so its own setter is called when the limit did not
    take."""
    if before is None:
        return
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().lib_controllers:
        if lib.filepath not in before:
            lib.set_num_threads(1)
            real = getattr(lib, "_real_set_num_threads", None)  # threadpoolctl's call without that rule
            if lib.num_threads != 1 and real is not None:
                real(1)


_blas = None


def _one_blas_thread():
    """A context that runs BLAS on one thread: the engine is single-threaded by design (the other core is
    the GUI's), and SciPy's OpenBLAS may have been loaded after the caller's own ``threadpool_limits``.
    About 30 us, once per :func:`run_steps`."""
    return _blas.limit(limits=1, user_api="blas") if _blas is not None else contextlib.nullcontext()


def is_ready(dtype: npt.DTypeLike = np.float32) -> bool:
    """True once the kernels for ``dtype`` are compiled or loaded (so a call does not stall on compilation)."""
    return _ready[np.dtype(dtype)].is_set()


_warm_thread: threading.Thread | None = None


def start_warm_up(dtype: npt.DTypeLike = np.float32) -> None:
    """Start :func:`warm_up` of ``dtype`` on a daemon thread (one at a time); returns at once."""
    global _warm_thread
    if not available() or is_ready(dtype) or (_warm_thread is not None and _warm_thread.is_alive()):
        return
    _warm_thread = threading.Thread(target=warm_up, args=(dtype,), name="digitviz-fused-warm-up", daemon=True)
    _warm_thread.start()


def run_steps(
    tr: Trainer, n: int, keep_at: np.ndarray | None = None, keep_out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` steps of the trainer ``tr`` on the fused engine; see :meth:`Trainer.run_steps` (and
    for ``keep_at`` / ``keep_out``, the copies of ``theta`` it is asked for).

    Walks exactly the batches (and draws exactly the doubt noise and the moves of "train on moved
    digits") that ``n`` calls of ``tr.step()`` would, updates its counters, history and
    :class:`~digitviz.core.divergence.DivergenceWatch` the same way, and stops early at the end of an epoch.
    The watch runs in the kernel after every step, with the NumPy path's arithmetic: its RISE test, and at
    each probe check the probe batch's forward pass, the COLLAPSE test and the good copy of ``theta``; the
    kernel also copies the path points. So a chunk need not end at either (each end costs a return to
    Python: at mini-batch 100 the probe checks alone ended 24 chunks an epoch, 12% of its time). A step that
    would be not finite or blow up is handed to ``tr.step()`` (the reference), which raises
    :class:`~digitviz.core.divergence.Diverged` with ``theta`` as it was before that step.

    Returns
    -------
    costs, grad_norms : ndarray, shape (k,)
        Batch cost and gradient norm of each of the ``k <= n`` steps done. A ``Diverged`` raised carries
        the ``(costs, grad_norms)`` of the steps done before it as ``.chunk``.
    """
    warm_up(tr.dtype)
    U = np.ascontiguousarray(tr.U_train).reshape(-1)
    if U.flags.writeable:  # one compiled signature: the kernel only ever sees read-only images
        U = U.view()
        U.flags.writeable = False
    noise_y = 0.0 if tr.net.cost_name == "quadratic" else 1.0 / tr.n_out
    assert tr._order is not None  # the trainer has data (checked by Trainer.run_steps)
    if tr._pos >= len(tr._order):
        tr._new_epoch()
    keep = _Keep(keep_at, keep_out, tr.step_count)
    with _one_blas_thread():
        return _run(tr, n, U, noise_y, keep)


def _draw_noise(tr, m, n_rows, B, n_in, dtype):
    """Doubt: the noise rows of ``m`` steps, drawn as ``m`` calls of :meth:`Trainer.next_batch` draw them."""
    from .inputs import noise as draw

    noise_k = np.zeros(m, np.int64)
    parts = []
    for s in range(m):
        k = tr._noise_rng.binomial(min(B, n_rows - s * B), tr.config.doubt)
        noise_k[s] = k
        if k:
            parts.append(draw(tr._noise_rng, "uniform", k, n_in, dtype).reshape(-1))
    return noise_k, (np.concatenate(parts) if parts else np.zeros(0, dtype))


def _gather_moved(tr, idx, noise_k, noise, B):
    """Moved digits: the chunk's inputs ``(len(idx), n_in)``, gathered and scaled as
    :meth:`Trainer.next_batch` does, moved by the trainer's :class:`~digitviz.core.transforms.Augmenter`,
    doubt's noise rows put in; the moves are the very ones ``next_batch`` would draw, batch after batch.

    Shifts alone are moved a slice of whole batches (at most 4,096 images) at a time: the augmenter draws
    its shifts ahead in blocks of 4,096 whatever the call size up to that, so the draws are the same as
    one call per batch. A rotation draws its angles per call, so rotated batches are moved one by one.
    """
    c = tr.config
    X = np.empty((len(idx), tr.net.sizes[0]), tr.dtype)
    np.divide(tr.U_train[idx], tr.dtype.type(255), out=X)
    aug = tr.augmenter()
    per = B if c.rotate_deg else B * max(1, 4096 // B)
    for lo in range(0, len(idx), per):
        part = X[lo : lo + per]
        aug(part, out=part)
    aug._last = aug._last[-(((len(idx) - 1) % B) + 1) :]  # what last_shifts says after the last batch
    if noise.size:
        n_in = X.shape[1]
        pos = 0
        for s in np.flatnonzero(noise_k):
            k = int(noise_k[s])
            X[s * B : s * B + k] = noise[pos : pos + k * n_in].reshape(k, n_in)
            pos += k * n_in
    return X


class _Keep:
    """The copies of ``theta`` a caller of :func:`run_steps` asked for: after step ``at[j]``, into ``out[j]``."""

    def __init__(self, at, out, step0):
        if at is None:
            at, out = np.zeros(0, np.int64), None
        at = np.asarray(at, np.int64)
        if len(at) and (at[0] <= step0 or np.any(np.diff(at) <= 0)):
            raise ValueError(f"keep_at must increase from after step {step0}")
        if len(at) and (out is None or len(out) < len(at)):
            raise ValueError(f"keep_out needs a row for each of the {len(at)} steps of keep_at")
        self.at, self.out = at, out

    def between(self, lo, hi):
        """The steps asked for in ``lo < t <= hi``."""
        return self.at[np.searchsorted(self.at, lo, "right") : np.searchsorted(self.at, hi, "right")]

    def put(self, steps, thetas):
        """``thetas[i]`` is ``theta`` after ``steps[i]``: keep the rows asked for."""
        if len(self.at) and len(steps):
            j = np.searchsorted(self.at, steps)
            hit = (j < len(self.at)) & (self.at[np.minimum(j, len(self.at) - 1)] == steps)
            self.out[j[hit]] = thetas[hit]


def _run(tr, n, U, noise_y, keep):
    """:func:`_chunks`, then ``tr.last_batch`` of the last step done (gathered once per call, not per chunk)."""
    last: list = []
    try:
        return _chunks(tr, n, U, noise_y, last, keep)
    finally:
        if last:
            tr.last_batch = _batch_of(tr, *last[-1])


_SNAP_BYTES = 16 << 20  # path points a chunk may copy (the lesson's network: 322 of them)
_MOVED_EXAMPLES = 4096  # moved digits: examples a chunk gathers (12.5 MB of float32 inputs)


def _frozen(a):
    """A read-only view of ``a`` (the kernel is compiled for read-only inputs: one signature)."""
    v = a.view()
    v.flags.writeable = False
    return v


def _chunks(tr, n, U, noise_y, last, keep):
    c, net, opt, watch = tr.config, tr.net, tr.opt, tr.watch
    B, dtype, n_in = c.batch_size, tr.dtype, net.sizes[0]
    moved = bool(c.shift_px or c.rotate_deg)
    out_c, out_g = [], []
    done = 0
    empty = np.zeros(0, dtype)
    if watch.X_probe is not None:  # the kernel runs the probe checks
        Xp = _frozen(np.ascontiguousarray(watch.X_probe, dtype).reshape(-1))
        yp = np.ascontiguousarray(watch.labels_probe, np.intp)
    else:
        Xp = yp = None
    P = net.theta.shape[0]
    while done < n and tr._pos < len(tr._order):
        stride = tr.history.path_stride
        left = len(tr._order) - tr._pos
        # path points are copied in the kernel: at most _SNAP_BYTES of them a chunk
        pts = max(1, _SNAP_BYTES // (P * dtype.itemsize))
        m = min(n - done, -(-left // B), (tr.step_count // stride + pts) * stride - tr.step_count)
        if moved:  # the chunk's moved inputs are gathered in NumPy first: keep them a few MB
            m = min(m, max(1, _MOVED_EXAMPLES // B))
        # theta is copied at the path points and at the steps the caller asked for (the timeline's kept moments)
        path_at = np.arange(tr.step_count // stride + 1, (tr.step_count + m) // stride + 1, dtype=np.int64) * stride
        snap_at = np.union1d(path_at, keep.between(tr.step_count, tr.step_count + m))
        snaps = np.empty((len(snap_at), P), dtype)
        idx = np.ascontiguousarray(tr._order[tr._pos : tr._pos + m * B], np.int64)
        if c.doubt > 0:
            rng_state = tr._noise_rng.bit_generator.state
            noise_k, noise = _draw_noise(tr, m, len(idx), B, n_in, dtype)
        else:
            noise_k, noise = np.zeros(m, np.int64), empty
        if moved:
            aug = tr.augmenter()
            aug_state = (aug.rng.bit_generator.state, aug._choices.copy(), aug._last)
            Xf = _gather_moved(tr, idx, noise_k, noise, B).reshape(-1)
        else:
            Xf = empty
        hp = np.array([opt.lr, opt.momentum, opt.l2], dtype)
        first = np.array([tr._first_cost], np.float64)
        wst = watch.rise_state()
        pst = watch.probe_state()
        t0 = time.perf_counter()
        k_done, status, costs, gnorms = _call(
            net.theta,
            opt.velocity,
            net.layout,
            net.activation,
            net.cost_name,
            U,
            Xf,
            tr.train_labels,
            idx,
            B,
            m,
            hp,
            noise_k,
            noise,
            noise_y,
            tr.step_count,
            first,
            BLOWUP,
            wst,
            tr.examples_seen,
            Xp,
            yp,
            watch.good_theta,
            pst,
            snaps,
            snap_at,
        )
        tr.train_seconds += time.perf_counter() - t0
        examples = min(k_done * B, len(idx))
        step0 = tr.step_count
        tr._pos += examples
        tr.examples_seen += examples
        tr.step_count += k_done
        tr._first_cost = float(first[0])
        watch.set_rise_state(wst)
        watch.set_probe_state(pst)
        steps = np.arange(step0 + 1, step0 + k_done + 1)
        done_at = snap_at[: np.searchsorted(snap_at, step0 + k_done, "right")]
        on_path = np.isin(done_at, path_at)
        path_thetas = snaps[: len(done_at)] if on_path.all() else snaps[: len(done_at)][on_path]
        tr.history.record_steps(steps, costs[:k_done], gnorms[:k_done], net.theta, path_thetas=path_thetas)
        keep.put(done_at, snaps[: len(done_at)])
        if k_done:
            last[:] = [(idx, k_done - 1, noise_k, noise, Xf)]
        out_c.append(costs[:k_done])
        out_g.append(gnorms[:k_done])
        done += k_done
        try:
            if status == ROSE:
                raise Diverged(Divergence.RISE, wst[0], opt.lr, reference=watch.rise_reference)
            if status == COLLAPSED:
                cost = float(costs[k_done - 1])
                raise Diverged(Divergence.COLLAPSE, cost, opt.lr, answer=int(pst[3]), share=float(pst[4]))
        except Diverged as e:
            tr._diverged(e)
            e.chunk = (np.concatenate(out_c), np.concatenate(out_g))
            raise
        if status in (NOT_FINITE, BLEW_UP):
            # rewind the draws to just after the steps done; step() then draws its own
            if c.doubt > 0:
                tr._noise_rng.bit_generator.state = rng_state
                _draw_noise(tr, k_done, len(idx), B, n_in, dtype)
            if moved:
                _rewind_moves(tr, aug_state, idx[: k_done * B], B)
            if last:  # step() keeps the last good batch when it raises, as after a NumPy step
                tr.last_batch = _batch_of(tr, *last.pop())
            try:
                res = tr.step()  # raises Diverged unless NumPy's rounding happens to keep it finite
            except Diverged as e:
                e.chunk = (np.concatenate(out_c), np.concatenate(out_g))  # the steps done before it
                raise
            keep.put(np.array([tr.step_count]), net.theta[None])
            out_c.append(np.array([res.cost]))
            out_g.append(np.array([res.grad_norm]))
            done += 1
    if not out_c:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(out_c), np.concatenate(out_g)


def _rewind_moves(tr, state, idx_done, B):
    """Put the augmenter back as if only the batches of ``idx_done`` had been moved."""
    rng_state, choices, last = state
    aug = tr.augmenter()
    aug.rng.bit_generator.state = rng_state
    aug._choices, aug._last = choices, last
    if len(idx_done):  # move them again (only after a divergence): the augmenter then stands where step() expects
        _gather_moved(tr, idx_done, np.zeros(-(-len(idx_done) // B), np.int64), np.zeros(0, tr.dtype), B)


def _batch_of(tr, idx, s, noise_k, noise, Xf):
    """``(X, Y, labels, indices)`` of step ``s`` of a chunk, as :meth:`Trainer.next_batch` gives it."""
    B, n_in = tr.config.batch_size, tr.net.sizes[0]
    rows = idx[s * B : (s + 1) * B].astype(np.intp)
    if Xf.size:
        X = Xf.reshape(-1, n_in)[s * B : s * B + len(rows)].copy()
    else:
        X = tr.X_train[rows]  # a new float array (ScaledImages)
    labels = tr.train_labels[rows]
    Y = tr._eye[labels]
    k = int(noise_k[s])
    if k:
        if not Xf.size:
            start = int(noise_k[:s].sum()) * n_in
            X[:k] = noise[start : start + k * n_in].reshape(k, n_in)
        Y[:k] = 0.0 if tr.net.cost_name == "quadratic" else 1.0 / tr.n_out
        labels = labels.copy()
        labels[:k] = -1
        rows = rows.copy()
        rows[:k] = -1
    return X, Y, labels, rows
