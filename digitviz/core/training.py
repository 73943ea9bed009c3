"""Training: mini-batch stochastic gradient descent, evaluation, presets and a bounded history.

``SGD.step(X, Y)`` is one step of gradient descent on one mini-batch. ``Trainer`` walks the
training set in seeded random order, one mini-batch at a time, and keeps a ``History``.
No threads, no Qt, no prints: the CLI and the app's training worker drive it.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from .network import Network, one_hot

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

    def __post_init__(self):
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
        if self.dtype not in ("float32", "float64"):
            problems.append(f"dtype must be float32 or float64, got {self.dtype}")
        if problems:
            raise ValueError("; ".join(problems))

    def network(self) -> Network:
        """A freshly initialised network for these settings (seeded)."""
        return Network(self.sizes, self.activation, self.cost, np.dtype(self.dtype), seed=self.seed,
                       init=self.init)

    def lr_at(self, epoch: int) -> float:
        return self.lr * self.lr_decay ** epoch

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def architecture_differs(self, other: "TrainConfig") -> bool:
        """True when switching to ``other`` needs new weights (shape, activation, cost, dtype, seed)."""
        keys = ("sizes", "activation", "cost", "dtype", "init", "seed")
        return any(getattr(self, k) != getattr(other, k) for k in keys)


PRESETS = {
    # The lesson's network and cost, plain SGD at mini-batch 10 (book: eta 3.0 with cost/2).
    "lesson": TrainConfig(),
    # Same 784-16-16-10 shape, with ReLU + softmax cross-entropy and a decaying rate (momentum did
    # not help this small network in our sweeps).
    "tweaked": TrainConfig(activation="relu", cost="cross_entropy", lr=0.05, lr_decay=0.85, batch_size=10,
                           epochs=15),
    # A wider network that reaches 98% in seconds.
    "wide": TrainConfig(sizes=(784, 256, 10), activation="relu", cost="cross_entropy", lr=0.1,
                        momentum=0.9, lr_decay=0.8, batch_size=100, epochs=15),
}
def preset_of(config: TrainConfig) -> str:
    """The preset name whose settings ``config`` matches (epochs aside), or "" (custom)."""
    for name, p in PRESETS.items():
        if replace(config, epochs=p.epochs) == p:
            return name
    return ""


PRESET_TARGETS = {"lesson": 0.94, "tweaked": 0.96, "wide": 0.98}
PRESET_BLURBS = {
    "lesson": "The lesson's network: 784-16-16-10, sigmoid, quadratic cost, plain SGD. Levels off at 94-95%.",
    "tweaked": "Same 784-16-16-10 shape with ReLU, softmax cross-entropy and a decaying learning rate: ~96%.",
    "wide": "A wider 784-256-10 ReLU network with cross-entropy and momentum: ~98% in seconds.",
}


BLOWUP = 10  # a batch cost this many times the run's first batch cost counts as diverged


class Diverged(ArithmeticError):
    """Training produced a non-finite cost or gradient; the parameters were left as they were."""


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

    def __init__(self, net: Network, lr=1.5, momentum=0.0, l2=0.0, keep_grad=False):
        self.net = net
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.l2 = float(l2)
        self.keep_grad = keep_grad
        self.last_grad: np.ndarray | None = None
        self.velocity = np.zeros_like(net.theta)
        self._w_views = net.weights

    def reset_state(self):
        self.velocity[...] = 0.0
        self.last_grad = None

    def step(self, X, Y, max_cost=math.inf) -> StepResult:
        """One step on the batch ``X`` (N, n_in) with desired outputs ``Y`` (N, n_out).

        Raises :class:`Diverged` (and leaves theta unchanged) when the cost or gradient is not
        finite, or the batch cost exceeds ``max_cost``.
        """
        net = self.net
        cost, g = net.backprop(X, Y)
        gnorm = math.sqrt(float(np.vdot(g, g)))
        if not (math.isfinite(cost) and math.isfinite(gnorm)):
            raise Diverged(
                f"the cost became {'infinite' if math.isinf(cost) else 'not a number'}: "
                f"learning rate {self.lr:g} is too large for this network and cost")
        if cost > max_cost:
            raise Diverged(
                f"the cost blew up to {cost:.3g}, more than {BLOWUP}x where this run started: "
                f"learning rate {self.lr:g} is too large for this network and cost")
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


@dataclass
class Evaluation:
    """A network's results on a labelled set.

    Attributes
    ----------
    accuracy : float
        Share of examples whose brightest output is the label.
    cost : float
        Average cost.
    per_class : ndarray, shape (10,)
        Accuracy per true digit (NaN for a digit absent from the set).
    predictions : ndarray, shape (M,)
    confusion : ndarray, shape (10, 10)
        ``confusion[true, predicted]`` counts.
    """

    accuracy: float
    cost: float
    per_class: np.ndarray
    predictions: np.ndarray
    confusion: np.ndarray


def evaluate(net: Network, X, labels, theta=None) -> Evaluation:
    """Accuracy, cost, per-class accuracy, predictions and confusion matrix on ``(X, labels)``."""
    labels = np.asarray(labels).astype(np.intp)
    out = net.feedforward(X, theta)
    pred = np.argmax(out, axis=1)
    k = out.shape[1]
    confusion = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / totals
    cost = net.cost_of(out, one_hot(labels, k, out.dtype))
    return Evaluation(float(np.mean(pred == labels)), cost, per_class, pred, confusion)


class _Series:
    """An append-only float series with bounded memory: when full, pairs are averaged and the
    stride doubles, so a run of any length keeps at most ``capacity`` points."""

    def __init__(self, capacity=1 << 18):
        self.capacity = capacity
        self.values = np.empty(capacity, np.float64)
        self.n = 0
        self.stride = 1  # raw steps per stored point
        self._acc = 0.0
        self._acc_n = 0

    def append(self, v: float):
        self._acc += v
        self._acc_n += 1
        if self._acc_n < self.stride:
            return
        if self.n == self.capacity:
            half = self.capacity // 2
            self.values[:half] = self.values[:2 * half].reshape(half, 2).mean(axis=1)
            self.n = half
            self.stride *= 2
            return  # the pending bucket is half full at the new stride: keep accumulating
        self.values[self.n] = self._acc / self._acc_n
        self.n += 1
        self._acc = 0.0
        self._acc_n = 0

    def steps(self):
        """The step number (1-based, at the end of each stored bucket) of each stored point."""
        return (np.arange(self.n) + 1) * self.stride

    def array(self):
        return self.values[:self.n]


@dataclass
class History:
    """A run's record, bounded in memory.

    - ``costs`` / ``grad_norms``: per step; past 262,144 points pairs are averaged (stride doubles),
      so they never exceed 2 x 2 MiB.
    - ``epochs``: one dict per finished epoch (epoch, step, train_acc, test_acc, test_cost, seconds).
    - ``path``: parameter snapshots every ``path_stride`` steps, for the descent path. At most
      ``path_capacity`` are kept (capacity = 64 MiB / bytes per theta, at least 16, at most 1024);
      when full every other one is dropped and the stride doubles, so the path always spans the run.
    """

    n_params: int
    itemsize: int = 4
    path_stride: int = 100
    costs: _Series = field(default_factory=_Series)
    grad_norms: _Series = field(default_factory=_Series)
    epochs: list = field(default_factory=list)
    path_steps: list = field(default_factory=list)
    path_thetas: list = field(default_factory=list)

    def __post_init__(self):
        self.path_capacity = int(min(1024, max(16, (64 << 20) // (self.n_params * self.itemsize))))

    def record_step(self, step: int, cost: float, grad_norm: float, theta):
        self.costs.append(cost)
        self.grad_norms.append(grad_norm)
        if step % self.path_stride == 0:
            self.record_theta(step, theta)

    def record_theta(self, step: int, theta):
        if self.path_steps and self.path_steps[-1] == step:
            return
        if len(self.path_thetas) >= self.path_capacity:
            self.path_steps = self.path_steps[::2]
            self.path_thetas = self.path_thetas[::2]
            self.path_stride *= 2
        self.path_steps.append(step)
        self.path_thetas.append(np.array(theta, copy=True))

    def path(self):
        """``(steps (K,), thetas (K, P))`` of the recorded descent path."""
        if not self.path_thetas:
            return np.zeros(0, np.int64), np.zeros((0, self.n_params))
        return np.array(self.path_steps), np.stack(self.path_thetas)


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


def training_labels(labels, config: TrainConfig):
    """The labels a run trains on: ``labels`` themselves, or with ``config.random_labels`` the same
    labels permuted by a generator seeded from ``config.seed`` (Zhang et al. 2017)."""
    labels = np.asarray(labels, np.intp)
    if not config.random_labels:
        return labels
    return np.random.default_rng([config.seed, 2]).permutation(labels)


def uniform_noise(rng: np.random.Generator, n: int, n_in=784, dtype=np.float32):
    """``n`` images of independent uniform random pixels in [0, 1] (the lesson's noise)."""
    return rng.random((n, n_in), dtype=np.float32).astype(dtype, copy=False)


class Trainer:
    """Runs SGD over a dataset in seeded random order, one mini-batch at a time.

    Parameters
    ----------
    data : Dataset or None
        From :func:`digitviz.core.data.load_mnist`. With ``None`` the trainer can still be built
        (the app without data), but cannot step.
    config : TrainConfig
    net : Network, optional
        An existing network to continue training (default: ``config.network()``).
    engine : {"fused", "numpy"}, optional
        What :meth:`run_steps` and :meth:`run_epoch` train with: the compiled, GIL-free kernel of
        :mod:`digitviz.core.fused` (default when Numba imports) or this module's NumPy code (the
        reference; :meth:`step` always uses it). Both give the same batches and parameters.
    """

    def __init__(self, data, config: TrainConfig = TrainConfig(), net: Network | None = None,
                 keep_grad=False, engine: str | None = None):
        self.engine = default_engine() if engine is None else engine
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose from {', '.join(ENGINES)}")
        if self.engine == "fused" and default_engine() == "numpy" and not _fused_available():
            raise ValueError("the fused engine needs numba, which cannot be imported here: use engine 'numpy'")
        self.config = config
        self.net = net if net is not None else config.network()
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
        self.X_train = data.images_as("train", self.dtype)
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
        self._order = None if self.X_train is None else self._order_rng.permutation(len(self.X_train))
        self.history = History(self.net.n_params, self.net.dtype.itemsize)
        self.history.record_theta(0, self.net.theta)
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

    def reset(self, config: TrainConfig | None = None):
        """New random weights from the seed (and optionally new settings); the history restarts."""
        config = config or self.config
        rebuild = config.architecture_differs(self.config) or config.random_labels != self.config.random_labels
        if config.sizes != self.config.sizes or config.activation != self.config.activation \
                or config.cost != self.config.cost or config.dtype != self.config.dtype:
            self.net = config.network()
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

    def update_config(self, **changes):
        """Change settings that do not need new weights (lr, batch size, momentum, L2, decay, doubt)."""
        new = replace(self.config, **changes)
        if new.architecture_differs(self.config) or new.random_labels != self.config.random_labels:
            raise ValueError("changing the architecture, seed or labels needs a reset")
        self.config = new
        self.opt.lr = new.lr_at(self.epoch)
        self.opt.momentum = new.momentum
        self.opt.l2 = new.l2

    def set_data(self, data):
        """Use another dataset (e.g. after the app finished loading it); counters restart."""
        self.data = data
        self._set_data(data)
        self._reset_counters()

    # stepping

    def next_batch(self):
        """The next mini-batch: ``(X (B, n_in), Y (B, n_out), labels (B,), indices (B,))``.

        Labels of "doubt" noise rows are -1 and their indices -1.
        """
        if self.X_train is None:
            raise RuntimeError("no training data loaded")
        B = self.config.batch_size
        if self._pos >= len(self._order):
            self._new_epoch()
        idx = self._order[self._pos:self._pos + B]
        self._pos += len(idx)
        # gather into reused buffers: a fresh (B, 784) array each step costs more than the copy
        X, Y, U = self._batch_buffers(len(idx))
        # gather the uint8 rows (4x less memory to touch than the float copy), then scale exactly
        # as Dataset.images_as does
        np.take(self.U_train, idx, axis=0, out=U)
        np.divide(U, self.dtype.type(255), out=X)
        labels = self.train_labels[idx]
        np.take(self._eye, labels, axis=0, out=Y)
        if self.config.doubt > 0:
            k = self._noise_rng.binomial(len(idx), self.config.doubt)
            if k:
                X[:k] = uniform_noise(self._noise_rng, k, X.shape[1], self.dtype)
                Y[:k] = 0.0 if self.net.cost_name == "quadratic" else 1.0 / self.n_out
                labels = labels.copy()
                labels[:k] = -1
                idx = idx.copy()
                idx[:k] = -1
        return X, Y, labels, idx

    def upcoming_example(self):
        """``(x (n_in,), label)`` of the first example the next step will train on, before any step
        of this run (so a fresh network is shown a digit, not a blank); ``(None, -1)`` without data."""
        if self.X_train is None or self._pos >= len(self._order):
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
            n_in = self.X_train.shape[1]
            pairs = self._buffers[key] = [
                (np.empty((n, n_in), self.dtype), np.empty((n, self.n_out), self.dtype), np.empty((n, n_in), np.uint8))
                for _ in range(2)]
        pairs.reverse()
        return pairs[0]

    def _new_epoch(self):
        self.epoch += 1
        self._pos = 0
        self._order = self._order_rng.permutation(len(self.X_train))
        self.opt.lr = self.config.lr_at(self.epoch)

    def step(self) -> StepResult:
        """One step of gradient descent on the next mini-batch."""
        X, Y, labels, idx = self.next_batch()
        t = time.perf_counter()
        # softmax and the clipped sigmoid keep the cost finite even when a too-large step throws the
        # weights far away, so "blew up" also means: far above where the run started
        res = self.opt.step(X, Y, max_cost=BLOWUP * self._first_cost)
        if self.step_count == 0 or self._first_cost == math.inf:
            self._first_cost = max(res.cost, 0.1)
        self.train_seconds += time.perf_counter() - t
        self.step_count += 1
        self.examples_seen += len(labels)
        self.last_batch = (X, Y, labels, idx)
        self.history.record_step(self.step_count, res.cost, res.grad_norm, self.net.theta)
        return res

    def run_steps(self, n: int):
        """Up to ``n`` steps on this trainer's engine, stopping early at the end of an epoch.

        The same batches, records and :class:`Diverged` as ``n`` calls of :meth:`step`; returns the
        steps' batch costs and gradient norms, two arrays of shape ``(k,)``, ``k <= n``.
        """
        if n < 1:
            return np.zeros(0), np.zeros(0)
        if self.engine == "fused" and not self.opt.keep_grad:
            from . import fused

            return fused.run_steps(self, n)
        res = [self.step()]
        while len(res) < n and not self.epoch_done:
            res.append(self.step())
        return np.array([r.cost for r in res]), np.array([r.grad_norm for r in res])

    @property
    def epoch_done(self) -> bool:
        return self._order is not None and self._pos >= len(self._order)

    def run_epoch(self, on_step=None) -> dict:
        """Steps to the end of the current epoch, then evaluates; returns the epoch's record."""
        t0 = time.perf_counter()
        n0 = self.examples_seen
        costs = []
        while self.engine == "fused" and on_step is None:
            costs.extend(self.run_steps(1 << 30)[0])
            if self.epoch_done:
                break
        while not (costs and self.epoch_done):
            res = self.step()
            costs.append(res.cost)
            if on_step is not None:
                on_step(res)
        return self.end_epoch(seconds=time.perf_counter() - t0, examples=self.examples_seen - n0,
                              train_cost=float(np.mean(costs)))

    def end_epoch(self, seconds=float("nan"), examples=0, train_cost=float("nan")) -> dict:
        """Evaluate on the training and test sets and append the epoch's record to the history."""
        test = self.evaluate("test")
        train = self.evaluate("train")
        rec = dict(epoch=self.epoch + 1 if self.epoch_done else self.epoch, step=self.step_count,
                   train_cost=train_cost, train_acc=train.accuracy, test_acc=test.accuracy,
                   test_cost=test.cost, seconds=seconds,
                   examples_per_s=examples / seconds if seconds and seconds > 0 else float("nan"))
        self.history.epochs.append(rec)
        self.history.record_theta(self.step_count, self.net.theta)
        return rec

    def evaluate(self, which="test", theta=None) -> Evaluation:
        """Evaluate on the test set or on the training set (with the labels it trains on)."""
        if self.X_train is None:
            raise RuntimeError("no data loaded")
        if which == "test":
            return evaluate(self.net, self.X_test, self.test_labels, theta)
        return evaluate(self.net, self.X_train, self.train_labels, theta)
