"""Training: the settings and presets of a run, mini-batch stochastic gradient descent, and the Trainer.

``SGD.step(X, Y)`` is one step of gradient descent on one mini-batch. ``Trainer`` walks the
training set in seeded random order, one mini-batch at a time, and keeps a ``History``.
No threads, no Qt, no prints: the CLI and the app's training worker drive it.

The divergence rules (``Diverged``, ``DivergenceWatch`` and their thresholds) live in
:mod:`digitviz.core.divergence`; evaluation and the run's records (``evaluate``, ``EpochRecord``,
``History``) in :mod:`digitviz.core.history`. Both are re-exported here (see ``__all__``), so
``from digitviz.core.training import Diverged`` keeps working.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from .data import Dataset, ScaledImages
from .divergence import (
    BLOWUP,
    COLLAPSE_PINNED,
    COLLAPSE_SAME,
    COST_ALPHA,
    PINNED,
    PROBE_EVERY_EXAMPLES,
    PROBE_SIZE,
    RISE,
    RISE_STEPS,
    Diverged,
    Divergence,
    DivergenceWatch,
    divergence_text,
    format_lr,
)
from .history import EpochRecord, Evaluation, History, evaluate
from .inputs import noise
from .network import ACTIVATIONS, COSTS, Network
from .transforms import Augmenter

__all__ = [
    # this module
    "ENGINES",
    "PRESET_BLURBS",
    "PRESET_TARGETS",
    "PRESETS",
    "SGD",
    "StepResult",
    "TrainConfig",
    "Trainer",
    "default_engine",
    "preset_of",
    "training_labels",
    # re-exported from .divergence
    "BLOWUP",
    "COLLAPSE_PINNED",
    "COLLAPSE_SAME",
    "COST_ALPHA",
    "PINNED",
    "PROBE_EVERY_EXAMPLES",
    "PROBE_SIZE",
    "RISE",
    "RISE_STEPS",
    "Diverged",
    "Divergence",
    "DivergenceWatch",
    "divergence_text",
    "format_lr",
    # re-exported from .history
    "EpochRecord",
    "Evaluation",
    "History",
    "evaluate",
]

# Presets. Measured on this project's 2-core machine (see README and benchmarks/train_speed.py).
# Our quadratic cost has no factor 1/2, so lr 1.5 here is the book's eta = 3.0.


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run.

    Attributes
    ----------
    sizes : tuple of int
        Layer sizes, input first.
    activation, cost : str
        See :class:`digitviz.core.network.Network`.
    lr : float
        Learning rate eta at epoch 0.
    lr_decay : float
        Learning rate multiplier per finished epoch (1.0: constant).
    batch_size : int
    momentum : float
        Heavy-ball momentum mu (0: plain gradient descent).
    l2 : float
        L2 penalty lambda on the weights (not biases): adds ``lambda * W`` to their gradient.
    epochs : int
        Epochs for headless runs (the app ignores it).
    seed : int
        Seeds the initial weights, the order of examples, label shuffling and noise.
    random_labels : bool
        Train on the training labels permuted with the seed (Zhang et al. 2017).
    doubt : float
        "Teach it to doubt": this fraction of each mini-batch is replaced by uniform-noise images
        whose desired output is "no digit" (all zeros for the quadratic cost, uniform for softmax).
    dtype : str
        "float32" or "float64".
    init : str
        Weight initialisation, "scaled" or "standard" (see Network).
    shift_px : int
        "Train on moved digits": each training image of a mini-batch is shifted by a random whole number
        of pixels in -shift_px..shift_px, horizontally and vertically (0: off).
    rotate_deg : float
        ... and rotated by a random angle in [-rotate_deg, rotate_deg] degrees (0: off).
    """

    sizes: tuple = (784, 16, 16, 10)
    activation: str = "sigmoid"
    cost: str = "quadratic"
    lr: float = 1.5
    lr_decay: float = 1.0
    batch_size: int = 10
    momentum: float = 0.0
    l2: float = 0.0
    epochs: int = 30
    seed: int = 0
    random_labels: bool = False
    doubt: float = 0.0
    dtype: str = "float32"
    init: str = "scaled"
    shift_px: int = 0
    rotate_deg: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        problems = []
        if not (self.lr > 0 and math.isfinite(self.lr)):
            problems.append(f"learning rate must be a positive number, got {self.lr}")
        if not (0 < self.lr_decay <= 1):
            problems.append(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.batch_size < 1:
            problems.append(f"batch size must be at least 1, got {self.batch_size}")
        if not (0 <= self.momentum < 1):
            problems.append(f"momentum must be in [0, 1), got {self.momentum}")
        if self.l2 < 0:
            problems.append(f"L2 must be >= 0, got {self.l2}")
        if not (0 <= self.doubt < 1):
            problems.append(f"doubt fraction must be in [0, 1), got {self.doubt}")
        if not (0 <= self.shift_px <= 14) or self.shift_px != int(self.shift_px):
            problems.append(f"shift must be a whole number of pixels in 0..14, got {self.shift_px}")
        if not (0 <= self.rotate_deg <= 180):
            problems.append(f"rotation must be in 0..180 degrees, got {self.rotate_deg}")
        if self.dtype not in ("float32", "float64"):
            problems.append(f"dtype must be float32 or float64, got {self.dtype}")
        if not math.isfinite(self.l2):
            problems.append(f"L2 must be a finite number, got {self.l2}")
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            problems.append(f"layer sizes must be positive, got {'-'.join(map(str, self.sizes))}")
        if self.epochs < 1:
            problems.append(f"epochs must be at least 1, got {self.epochs}")
        if not 0 <= self.seed < 2**32:
            problems.append(f"seed must be in 0 to {2**32 - 1}, got {self.seed}")
        if self.activation not in ACTIVATIONS or self.cost not in COSTS or self.init not in ("scaled", "standard"):
            problems.append(f"unknown activation, cost or init: {self.activation}, {self.cost}, {self.init}")
        if problems:
            raise ValueError("; ".join(problems))

    def network(self) -> Network:
        """A freshly initialised network for these settings (seeded): ``Network.from_config(self)``."""
        return Network.from_config(self)

    @property
    def arch_key(self) -> tuple:
        """``(sizes, activation, cost, dtype)``: equal keys mean the same kind of network, so one theta
        fits both (equal to ``Network.arch_key`` of the network this config builds)."""
        return (self.sizes, self.activation, self.cost, np.dtype(self.dtype).name)

    def lr_at(self, epoch: int) -> float:
        """The effective learning rate during epoch ``epoch`` (from 0): ``lr * lr_decay ** epoch``."""
        return self.lr * self.lr_decay**epoch

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def needs_reset(self, other: TrainConfig) -> bool:
        """True when switching to ``other`` needs new weights or labels (architecture, init, seed, labels)."""
        return (self.arch_key, self.init, self.seed, self.random_labels) != (
            other.arch_key,
            other.init,
            other.seed,
            other.random_labels,
        )


PRESETS = {
    # The lesson's network and cost, plain SGD at mini-batch 10 (book: eta 3.0 with cost/2).
    "lesson": TrainConfig(),
    # The video's network as trained with the book's code (network.py): the same recipe, but weights and
    # biases drawn from N(0, 1) (the lesson preset scales the weights by 1/sqrt(n_in)).
    "book": TrainConfig(init="standard"),
    # Same 784-16-16-10 shape, with ReLU + softmax cross-entropy and a decaying rate (momentum did
    # not help this small network in our sweeps).
    "tweaked": TrainConfig(activation="relu", cost="cross_entropy", lr=0.05, lr_decay=0.85, batch_size=10, epochs=15),
    # A wider network that reaches 98% in seconds.
    "wide": TrainConfig(
        sizes=(784, 256, 10),
        activation="relu",
        cost="cross_entropy",
        lr=0.1,
        momentum=0.9,
        lr_decay=0.8,
        batch_size=100,
        epochs=15,
    ),
}


def preset_of(config: TrainConfig) -> str:
    """The preset name whose settings ``config`` matches (epochs aside), or "" (custom)."""
    for name, p in PRESETS.items():
        if replace(config, epochs=p.epochs) == p:
            return name
    return ""


PRESET_TARGETS = {"lesson": 0.94, "book": 0.93, "tweaked": 0.96, "wide": 0.98}
PRESET_BLURBS = {
    "lesson": "The lesson's network: 784-16-16-10, sigmoid, quadratic cost, plain SGD. Levels off at 94-95%.",
    "book": "The video's recipe, from the book's code: the lesson's network with N(0, 1) weights and biases,"
    " sigmoid, quadratic cost, learning rate 3 on half the cost, mini-batch 10, 30 epochs.",
    "tweaked": "Same 784-16-16-10 shape with ReLU, softmax cross-entropy and a decaying learning rate: ~96%.",
    "wide": "A wider 784-256-10 ReLU network with cross-entropy and momentum: ~98% in seconds.",
}


@dataclass
class StepResult:
    """What one step of gradient descent did.

    Attributes
    ----------
    cost : float
        The batch's average cost before the step.
    grad_norm : float
        Euclidean norm of the gradient (before L2 and momentum).
    step_norm : float
        Norm of the change applied to theta.
    lr : float
        Learning rate used.
    """

    cost: float
    grad_norm: float
    step_norm: float
    lr: float


class SGD:
    """Mini-batch gradient descent with optional momentum and L2, updating ``net.theta`` in place.

    Parameters
    ----------
    net : Network
    lr, momentum, l2 : float
    keep_grad : bool
        Keep a copy of each step's gradient in ``last_grad`` (the app's gradient view needs it).
    """

    def __init__(
        self, net: Network, lr: float = 1.5, momentum: float = 0.0, l2: float = 0.0, keep_grad: bool = False
    ) -> None:
        self.net = net
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.l2 = float(l2)
        self.keep_grad = keep_grad
        self.last_grad: np.ndarray | None = None
        self.velocity = np.zeros_like(net.theta)
        self._w_views = net.weights

    def reset_state(self) -> None:
        self.velocity[...] = 0.0
        self.last_grad = None

    def step(self, X: np.ndarray, Y: np.ndarray, max_cost: float = math.inf) -> StepResult:
        """One step on the batch ``X`` (N, n_in) with desired outputs ``Y`` (N, n_out).

        Raises :class:`Diverged` (and leaves theta unchanged) when the cost or gradient is not
        finite, or the batch cost exceeds ``max_cost``.
        """
        net = self.net
        cost, g = net.backprop(X, Y)
        gnorm = math.sqrt(float(np.vdot(g, g)))
        if not (math.isfinite(cost) and math.isfinite(gnorm)):
            inf = math.isinf(cost) or (math.isinf(gnorm) and not math.isnan(cost))
            raise Diverged(Divergence.INF if inf else Divergence.NAN, cost, self.lr)
        if cost > max_cost:
            raise Diverged(Divergence.BLOWUP, cost, self.lr, reference=max_cost / BLOWUP)
        if self.keep_grad:
            self.last_grad = g.copy()
        if self.l2:
            for w, (gw, _) in zip(self._w_views, net.workspace(X.shape[0]).grad_views):
                gw += self.l2 * w
        if self.momentum:
            v = self.velocity
            v *= self.momentum
            g *= self.lr
            v -= g
            net.theta += v
            step_norm = math.sqrt(float(np.vdot(v, v)))
        else:
            g *= self.lr
            net.theta -= g
            step_norm = math.sqrt(float(np.vdot(g, g)))
        return StepResult(cost, gnorm, step_norm, self.lr)


ENGINES = ("fused", "numpy")


def default_engine() -> str:
    """``$DIGITVIZ_ENGINE`` when it names an engine (``digitviz --engine`` sets it), else ``"fused"``
    when Numba can be imported, else ``"numpy"``."""
    from . import fused

    wanted = os.environ.get("DIGITVIZ_ENGINE", "")
    if wanted == "numpy" or (wanted == "fused" and fused.available()):
        return wanted
    return "fused" if fused.available() else "numpy"


def _fused_available() -> bool:
    from . import fused

    return fused.available()


def training_labels(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The labels a run trains on: ``labels`` themselves, or with ``config.random_labels`` the same
    labels permuted by a generator seeded from ``config.seed`` (Zhang et al. 2017)."""
    labels = np.asarray(labels, np.intp)
    if not config.random_labels:
        return labels
    return np.random.default_rng([config.seed, 2]).permutation(labels)


class Trainer:
    """Runs SGD over a dataset in seeded random order, one mini-batch at a time.

    Parameters
    ----------
    data : Dataset or None
        From :func:`digitviz.core.data.load_mnist`. With ``None`` the trainer can still be built
        (the app without data), but cannot step.
    config : TrainConfig
    net : Network, optional
        An existing network to continue training (default: ``Network.from_config(config)``).
    engine : {"fused", "numpy"}, optional
        What :meth:`run_steps` and :meth:`run_epoch` train with: the compiled, GIL-free kernel of
        :mod:`digitviz.core.fused` (default when Numba imports) or this module's NumPy code (the
        reference; :meth:`step` always uses it). Both give the same batches and parameters.
    """

    def __init__(
        self,
        data: Dataset | None,
        config: TrainConfig = TrainConfig(),
        net: Network | None = None,
        keep_grad: bool = False,
        engine: str | None = None,
        path_points: int = 1024,
    ) -> None:
        self.engine = default_engine() if engine is None else engine
        self.path_points = int(path_points)  # History.path_points of every run
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose from {', '.join(ENGINES)}")
        if self.engine == "fused" and default_engine() == "numpy" and not _fused_available():
            raise ValueError("the fused engine needs numba, which cannot be imported here: use engine 'numpy'")
        self.config = config
        self.net = net if net is not None else Network.from_config(config)
        self.dtype = self.net.dtype
        self.opt = SGD(self.net, config.lr, config.momentum, config.l2, keep_grad=keep_grad)
        self.data = data
        self.n_out = self.net.sizes[-1]
        self._eye = np.eye(self.n_out, dtype=self.dtype)
        self.theta0 = self.net.theta.copy()
        self._set_data(data)
        self._reset_counters()

    # setup

    def _set_data(self, data):
        self.X_train = self.X_test = None
        if data is None:
            return
        self.U_train = np.asarray(data.train_images)
        self.X_train = ScaledImages(self.U_train, self.dtype)  # floats on demand: batches come from U_train
        self.X_test = data.images_as("test", self.dtype)
        self.true_train_labels = np.asarray(data.train_labels, np.intp)
        self.test_labels = np.asarray(data.test_labels, np.intp)
        self.train_labels = training_labels(self.true_train_labels, self.config)

    def _reset_counters(self):
        c = self.config
        self.step_count = 0
        self.epoch = 0
        self.examples_seen = 0
        self._pos = 0
        self._order_rng = np.random.default_rng([c.seed, 1])
        self._noise_rng = np.random.default_rng([c.seed, 3])
        self._augmenter = None  # built from [seed, 4] at the first moved batch
        self._order = None if self.X_train is None else self._order_rng.permutation(len(self.X_train))
        self.history = History(self.net.n_params, self.net.dtype.itemsize, path_points=self.path_points)
        self.history.record_theta(0, self.net.theta)
        probe = slice(0, PROBE_SIZE)
        self.watch = DivergenceWatch(
            self.net.theta,
            None if self.X_train is None else self.X_train[probe],
            None if self.X_train is None else self.train_labels[probe],
        )
        self.test_acc = math.nan  # test accuracy last measured of the weights in the network now
        self.good_acc = math.nan  # test accuracy of watch.good_theta, measured when the run diverged
        self.opt.lr = c.lr_at(0)
        self.opt.reset_state()
        self.train_seconds = 0.0
        self.last_batch: tuple | None = None
        self._first_cost = math.inf
        self._buffers = {}

    @property
    def has_data(self) -> bool:
        return self.X_train is not None

    @property
    def n_train(self) -> int:
        return 0 if self.X_train is None else len(self.X_train)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.config.batch_size)

    def reset(self, config: TrainConfig | None = None) -> None:
        """New random weights from the seed (and optionally new settings); the history restarts."""
        config = config or self.config
        rebuild = config.needs_reset(self.config)
        if config.arch_key != self.config.arch_key:
            self.net = Network.from_config(config)
            self.dtype = self.net.dtype
            self._eye = np.eye(self.net.sizes[-1], dtype=self.dtype)
            self.opt = SGD(self.net, config.lr, config.momentum, config.l2, keep_grad=self.opt.keep_grad)
        else:
            self.net.initialize(np.random.default_rng(config.seed), config.init)
        self.config = config
        if rebuild:
            self._set_data(self.data)
        self.opt.momentum, self.opt.l2 = config.momentum, config.l2
        self.theta0 = self.net.theta.copy()
        self._reset_counters()

    def update_config(self, **changes: Any) -> None:
        """Change settings that do not need new weights (lr, batch size, momentum, L2, decay, doubt)."""
        new = replace(self.config, **changes)
        if new.needs_reset(self.config):
            raise ValueError("changing the architecture, seed or labels needs a reset")
        self.config = new
        self.opt.lr = new.lr_at(self.epoch)
        self.opt.momentum = new.momentum
        self.opt.l2 = new.l2

    def set_data(self, data: Dataset | None) -> None:
        """Use another dataset (e.g. after the app finished loading it); counters restart."""
        self.data = data
        self._set_data(data)
        self._reset_counters()

    # stepping

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The next mini-batch: ``(X (B, n_in), Y (B, n_out), labels (B,), indices (B,))``.

        Labels of "doubt" noise rows are -1 and their indices -1.
        """
        if self.X_train is None:
            raise RuntimeError("no training data loaded")
        B = self.config.batch_size
        assert self._order is not None  # set with X_train (_set_data, _new_epoch)
        if self._pos >= len(self._order):
            self._new_epoch()
        idx = self._order[self._pos : self._pos + B]
        self._pos += len(idx)
        # gather into reused buffers: a fresh (B, 784) array each step costs more than the copy
        X, Y, U = self._batch_buffers(len(idx))
        # gather the uint8 rows (4x less memory to touch than the float copy), then scale exactly
        # as Dataset.images_as does
        np.take(self.U_train, idx, axis=0, out=U)
        np.divide(U, self.dtype.type(255), out=X)
        if self.config.shift_px or self.config.rotate_deg:
            self._move(X)
        labels = self.train_labels[idx]
        np.take(self._eye, labels, axis=0, out=Y)
        if self.config.doubt > 0:
            k = self._noise_rng.binomial(len(idx), self.config.doubt)
            if k:
                X[:k] = noise(self._noise_rng, "uniform", k, X.shape[1], self.dtype)
                Y[:k] = 0.0 if self.net.cost_name == "quadratic" else 1.0 / self.n_out
                labels = labels.copy()
                labels[:k] = -1
                idx = idx.copy()
                idx[:k] = -1
        return X, Y, labels, idx

    def _move(self, X):
        """Train on moved digits: shift and rotate the batch ``X`` in place at random
        (``TrainConfig.shift_px``, ``rotate_deg``; see :class:`digitviz.core.transforms.Augmenter`)."""
        self.augmenter()(X, out=X)

    def augmenter(self) -> Augmenter:
        """The run's :class:`~digitviz.core.transforms.Augmenter` for the current settings (built from
        ``[seed, 4]`` at the first moved batch; a change of range keeps its generator)."""
        c, aug = self.config, self._augmenter
        if aug is None or (aug.shift_px, aug.rotate_deg) != (c.shift_px, c.rotate_deg):
            rng = aug.rng if aug is not None else np.random.default_rng([c.seed, 4])
            aug = self._augmenter = Augmenter(c.shift_px, c.rotate_deg, rng)
        return aug

    def upcoming_example(self) -> tuple[np.ndarray | None, int]:
        """``(x (n_in,), label)`` of the first example the next step will train on, before any step
        of this run (so a fresh network is shown a digit, not a blank); ``(None, -1)`` without data."""
        if self.X_train is None or self._order is None or self._pos >= len(self._order):
            return None, -1
        i = self._order[self._pos]
        return np.array(self.X_train[i]), int(self.train_labels[i])

    def _batch_buffers(self, n):
        """Two alternating (X, Y, uint8 X) buffer sets per batch size, so ``last_batch`` stays valid for one
        more step (the worker reads it after the step)."""
        key = (n, self.dtype)
        pairs = self._buffers.get(key)
        if pairs is None:
            if len(self._buffers) > 4:
                self._buffers.clear()
            assert self.X_train is not None  # callers check for data first
            n_in = self.X_train.shape[1]
            pairs = self._buffers[key] = [
                (np.empty((n, n_in), self.dtype), np.empty((n, self.n_out), self.dtype), np.empty((n, n_in), np.uint8))
                for _ in range(2)
            ]
        pairs.reverse()
        return pairs[0]

    def _new_epoch(self):
        self.epoch += 1
        self._pos = 0
        assert self.X_train is not None  # an epoch only starts with data
        self._order = self._order_rng.permutation(len(self.X_train))
        self.opt.lr = self.config.lr_at(self.epoch)

    def step(self) -> StepResult:
        """One step of gradient descent on the next mini-batch."""
        X, Y, labels, idx = self.next_batch()
        t = time.perf_counter()
        # softmax and the clipped sigmoid keep the cost finite even when a too-large step throws the
        # weights far away, so "blew up" also means: far above where the run started
        try:
            res = self.opt.step(X, Y, max_cost=BLOWUP * self._first_cost)
        except Diverged as e:
            self._diverged(e)
            raise
        if self.step_count == 0 or self._first_cost == math.inf:
            self._first_cost = max(res.cost, 0.1)
        self.train_seconds += time.perf_counter() - t
        self.step_count += 1
        self.examples_seen += len(labels)
        self.last_batch = (X, Y, labels, idx)
        self.history.record_step(self.step_count, res.cost, res.grad_norm, self.net.theta)
        try:
            self.watch.observe(self.step_count, self.examples_seen, res.cost, self.net, res.lr)
        except Diverged as e:
            self._diverged(e)
            raise
        return res

    def _diverged(self, exc: Diverged) -> None:
        """Name the decay, measure what is left and the good copy (so nobody shows an accuracy of weights
        no longer there)."""
        exc.decayed_from(self.config.lr, self.epoch)
        if self.X_test is None:
            return
        self.test_acc = self.evaluate("test").accuracy
        self.good_acc = self.evaluate("test", theta=self.watch.good_theta).accuracy

    @property
    def good_step(self) -> int:
        """Step of the recent good copy of theta (see :class:`DivergenceWatch`)."""
        return self.watch.good_step

    def restore_good(self) -> None:
        """Put the recent good copy of theta back, exactly; momentum restarts from rest.

        The step counter keeps counting (the steps were taken); the path gets a point at this step.
        """
        self.net.set_theta(self.watch.good_theta)
        self.opt.reset_state()
        self.watch.restored()
        self.test_acc = self.good_acc
        self.history.record_theta(self.step_count, self.net.theta)

    def run_steps(
        self, n: int, keep_at: np.ndarray | None = None, keep_out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``n`` steps on this trainer's engine, stopping early at the end of an epoch.

        The same batches, records and :class:`Diverged` as ``n`` calls of :meth:`step`; returns the
        steps' batch costs and gradient norms, two arrays of shape ``(k,)``, ``k <= n``.

        ``keep_at`` (int array, shape (K,), increasing steps after :attr:`step_count`) asks for copies of
        ``theta``: after step ``keep_at[j]``, into ``keep_out[j]`` (shape (K, P)); the rows of steps not
        reached are left as they were. The fused kernel copies them as it trains, so a caller that keeps
        ``theta`` at many steps (the app's timeline) need not end its calls there.
        """
        if n < 1:
            return np.zeros(0), np.zeros(0)
        if self.engine == "fused" and not self.opt.keep_grad:
            from . import fused

            fused.warm_up(self.dtype)
            if fused.available():  # (False only if Numba failed to import after all)
                return fused.run_steps(self, n, keep_at, keep_out)
        at = np.zeros(0, np.int64) if keep_at is None else np.asarray(keep_at, np.int64)
        j = int(np.searchsorted(at, self.step_count, "right"))
        res: list[StepResult] = []
        while not res or (len(res) < n and not self.epoch_done):
            res.append(self.step())
            if j < len(at) and at[j] == self.step_count:
                assert keep_out is not None
                keep_out[j] = self.net.theta
                j += 1
        return np.array([r.cost for r in res]), np.array([r.grad_norm for r in res])

    @property
    def epoch_done(self) -> bool:
        return self._order is not None and self._pos >= len(self._order)

    def run_epoch(self, on_step: Callable[[StepResult], object] | None = None) -> EpochRecord:
        """Steps to the end of the current epoch, then evaluates; returns the epoch's record."""
        t0 = time.perf_counter()
        n0 = self.examples_seen
        costs: list[float] = []
        while self.engine == "fused" and on_step is None:
            costs.extend(self.run_steps(1 << 30)[0])
            if self.epoch_done:
                break
        while not (costs and self.epoch_done):
            res = self.step()
            costs.append(res.cost)
            if on_step is not None:
                on_step(res)
        return self.end_epoch(
            seconds=time.perf_counter() - t0, examples=self.examples_seen - n0, train_cost=float(np.mean(costs))
        )

    def end_epoch(
        self, seconds: float = float("nan"), examples: int = 0, train_cost: float = float("nan")
    ) -> EpochRecord:
        """Evaluate on the training and test sets and append the epoch's record to the history.

        On the fused engine (once compiled) the evaluation is the kernel's
        (:func:`digitviz.core.fused.evaluate_images`: one call without the GIL, from the uint8 images);
        else :func:`evaluate`. Both give the same accuracies (measured: not one answer of 420,000 differed)
        and costs to float32 rounding.
        """
        test_acc, test_cost = self._accuracy_and_cost("test")
        train_acc, _ = self._accuracy_and_cost("train")
        rec = EpochRecord(
            epoch=self.epoch + 1 if self.epoch_done else self.epoch,
            step=self.step_count,
            train_cost=float(train_cost),
            train_acc=train_acc,
            test_acc=test_acc,
            test_cost=float(test_cost),
            seconds=float(seconds),
            examples_per_s=examples / seconds if seconds and seconds > 0 else float("nan"),
        )
        self.test_acc = test_acc
        self.history.epochs.append(rec)
        self.history.record_theta(self.step_count, self.net.theta)
        return rec

    def _accuracy_and_cost(self, which: str) -> tuple[float, float]:
        """The epoch's evaluation on one split (see :meth:`end_epoch`)."""
        if self.engine == "fused" and self.data is not None:
            from . import fused

            if fused.available() and fused.is_ready(self.dtype):
                if which == "test":
                    images, labels = self.data.test_images, self.test_labels
                else:
                    images, labels = self.U_train, self.train_labels
                net = self.net
                return fused.evaluate_images(net.theta, net.layout, net.activation, net.cost_name, images, labels)
        ev = self.evaluate(which)
        return ev.accuracy, float(ev.cost)

    def evaluate(self, which: str = "test", theta: np.ndarray | None = None) -> Evaluation:
        """Evaluate on the test set or on the training set (with the labels it trains on)."""
        if self.X_train is None:
            raise RuntimeError("no data loaded")
        if which == "test":
            assert self.X_test is not None  # loaded with X_train
            return evaluate(self.net, self.X_test, self.test_labels, theta)
        return evaluate(self.net, self.X_train, self.train_labels, theta)
