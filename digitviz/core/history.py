"""Evaluation and the records of a run: what a network gets right, epoch by epoch, and the path it took.

:func:`evaluate` measures a network on a labelled set (:class:`Evaluation`); :class:`EpochRecord` is what
one finished epoch measured; :class:`History` is a run's record (per-step costs and gradient norms, the
epochs, the descent path), bounded in memory. The :class:`~digitviz.core.training.Trainer` fills them.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .data import ScaledImages
from .network import Network, one_hot
from .series import BoundedSeries, frozen_copy


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
    outputs : ndarray, shape (M, n_out)
        The output activations (what the network answered, and how sure).
    """

    accuracy: float
    cost: float
    per_class: np.ndarray
    predictions: np.ndarray
    confusion: np.ndarray
    outputs: np.ndarray | None = None


def evaluate(
    net: Network, X: np.ndarray | ScaledImages, labels: np.ndarray, theta: np.ndarray | None = None
) -> Evaluation:
    """Accuracy, cost, per-class accuracy, predictions, confusion matrix and outputs on ``(X, labels)``."""
    labels = np.asarray(labels).astype(np.intp)
    if isinstance(X, ScaledImages):  # converted a chunk at a time, never as one full float copy
        out = np.concatenate([net.feedforward(x, theta) for _, x in X.chunks()])
    else:
        out = net.feedforward(X, theta)
    pred = np.argmax(out, axis=1)
    k = out.shape[1]
    confusion = np.bincount(labels * k + pred, minlength=k * k).reshape(k, k)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.diag(confusion) / totals
    cost = net.cost_of(out, one_hot(labels, k, out.dtype))
    return Evaluation(float(np.mean(pred == labels)), cost, per_class, pred, confusion, out)


@dataclass(frozen=True)
class EpochRecord:
    """What one finished epoch measured (:meth:`Trainer.end_epoch`).

    Attributes
    ----------
    epoch, step : int
        Epochs finished and steps taken when it was measured.
    train_cost : float
        Average batch cost during the epoch.
    train_acc, test_acc, test_cost : float
        Of the weights at the end of the epoch, on the whole training (labels trained on) and test sets.
    seconds, examples_per_s : float
        Training time of the epoch and its rate.
    """

    epoch: int
    step: int
    train_cost: float = math.nan
    train_acc: float = math.nan
    test_acc: float = math.nan
    test_cost: float = math.nan
    seconds: float = math.nan
    examples_per_s: float = math.nan

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    """A run's record, bounded in memory (each series a :class:`~digitviz.core.series.BoundedSeries`).

    - ``costs`` / ``grad_norms``: per step; past 262,144 points pairs are averaged (stride doubles),
      so they never exceed 2 x 2 MiB (4 MiB with their steps).
    - ``epochs``: one :class:`EpochRecord` per finished epoch.
    - ``path``: read-only parameter snapshots every ``path_stride`` steps, for the descent path. At most
      ``path_capacity`` are kept (capacity = 64 MiB / bytes per theta, at least 16, at most ``path_points``,
      1024 by default); when full every other one is dropped and the stride doubles, so the path always spans
      the run. Whoever takes the points and forgets them here (:meth:`forget_path`) and keeps them in a
      :class:`~digitviz.core.series.BoundedSeries` of ``path_points`` (the app's training worker) sees its
      series thin exactly when this stride doubles: both keep ``(n + 1) // 2`` points when full.
    """

    n_params: int
    itemsize: int = 4
    path_stride: int = 100
    costs: BoundedSeries = field(default_factory=lambda: BoundedSeries(1 << 18, mean=True))
    grad_norms: BoundedSeries = field(default_factory=lambda: BoundedSeries(1 << 18, mean=True))
    epochs: list = field(default_factory=list)
    path_points: int = 1024

    def __post_init__(self) -> None:
        self.path_capacity = int(min(self.path_points, max(16, (64 << 20) // (self.n_params * self.itemsize))))
        self._path = BoundedSeries(self.path_capacity, dtype=object, initial=16)
        self._path_held = 0  # points the path would hold had none been forgotten: it sets the stride

    def record_step(self, step: int, cost: float, grad_norm: float, theta: np.ndarray) -> None:
        self.costs.append(step, cost)
        self.grad_norms.append(step, grad_norm)
        if step % self.path_stride == 0:
            self.record_theta(step, theta)

    def record_steps(
        self,
        steps: np.ndarray,
        costs: np.ndarray,
        grad_norms: np.ndarray,
        theta: np.ndarray,
        path_thetas: np.ndarray | None = None,
    ) -> None:
        """:meth:`record_step` for a run of consecutive steps at once (a chunk of the fused engine).

        Parameters
        ----------
        steps : int array, shape (m,)
            Consecutive, ascending steps.
        costs, grad_norms : float arrays, shape (m,)
        theta : ndarray, shape (P,)
            The parameters after the last step: it becomes a path point when that step is at the path
            stride. Without ``path_thetas``, an earlier step at the stride would need its own parameters,
            so it is refused (end chunks at path points).
        path_thetas : ndarray, shape (k, P), optional
            The parameters after each of ``steps`` at the path stride (as it is when called), in order
            (the fused kernel copies them as it trains); each becomes a path point as :meth:`record_step`
            would make it (the stride may double on the way, and then the steps off it are skipped).
        """
        m = len(steps)
        if not m:
            return
        first, last = int(steps[0]), int(steps[-1])
        stride = self.path_stride
        at = range(-(-first // stride) * stride, last + 1, stride)  # the steps at the stride
        if path_thetas is None and len(at) > (last % stride == 0):
            raise ValueError(f"steps {first}..{last} pass a path point before their last step (stride {stride})")
        if path_thetas is not None and len(path_thetas) < len(at):
            raise ValueError(f"steps {first}..{last} pass {len(at)} path points, {len(path_thetas)} given")
        self.costs.extend(steps, costs)
        self.grad_norms.extend(steps, grad_norms)
        if path_thetas is None:
            if last % stride == 0:
                self.record_theta(last, theta)
            return
        for step, th in zip(at, path_thetas):
            if step % self.path_stride == 0:
                self.record_theta(step, th)

    def record_theta(self, step: int, theta: np.ndarray) -> None:
        """Keep a read-only copy of ``theta`` as the path point of ``step`` (once per step)."""
        last = self._path.last_step
        if last is not None and step <= last:
            return
        self._path.append(step, frozen_copy(theta))
        # the stride doubles when a path that kept every point would halve (BoundedSeries' rule), also
        # when the points were handed on and forgotten (forget_path): the rate of copies then falls as
        # the run grows, instead of one every 100 steps forever
        if self._path_held == self._path.capacity:
            self._path_held = (self._path_held + 1) // 2
            self.path_stride *= 2
        self._path_held += 1

    @property
    def path_steps(self) -> np.ndarray:
        """Steps of the kept path points, ascending (a view)."""
        return self._path.steps()

    @property
    def path_thetas(self) -> np.ndarray:
        """The kept path points: an object array of read-only (P,) vectors (a view)."""
        return self._path.values()

    def forget_path(self) -> None:
        """Drop every path point but the last (whoever consumed them keeps them); the stride goes on
        doubling as if they were kept."""
        self._path.keep_last(1)

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        """``(steps (K,), thetas (K, P))`` of the recorded descent path."""
        if not len(self._path):
            return np.zeros(0, np.int64), np.zeros((0, self.n_params))
        return self.path_steps.copy(), np.stack(list(self.path_thetas))
