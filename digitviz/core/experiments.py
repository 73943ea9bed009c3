"""The lesson's experiments, as plain NumPy: reading one gradient, random labels, many minima, mistakes.

Everything the experiments views show is computed here, and ``benchmarks/lesson_claims.py`` runs the
same functions headlessly. Long runs are generators: they yield progress records between steps and
take an optional ``stop`` callable checked at every step, so a GUI worker can stream progress and end
a run early, keeping what it has. Nothing here prints, starts threads or knows about Qt.

- Gradient of one step: :func:`top_components`, :func:`cumulative_shares`, :func:`gradient_edge_values`,
  :func:`output_nudges`, :func:`plain_name`.
- Structure against random labels (Zhang et al. 2017; Arpit et al. 2017): :func:`compare_labels`,
  :class:`LabelsRun`.
- Many minima, roughly equal: :func:`train_seeds`, :func:`line_barrier` (with landscape's ``line_costs``),
  :func:`pair_lines`.
- Where it goes wrong: :func:`~digitviz.core.history.evaluate` (its ``outputs``), :func:`confusion_examples`,
  :func:`mistakes`.
- What training did to the first layer: :func:`init_correlation`, :func:`row_correlations`.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from .data import Dataset
from .history import Evaluation, evaluate
from .landscape import line_costs
from .network import Layout, Network, one_hot
from .series import frozen_copy
from .training import TrainConfig, Trainer

LABEL_COPIES = ("true", "shuffled")
LABEL_METRICS = ("cost", "train_acc", "test_acc")


def _trainer(data: Dataset, config: TrainConfig, net: Network | None = None) -> Trainer:
    tr = Trainer(data, config, net=net)
    tr.history.path_stride = 1 << 62  # these runs need no descent path: keep no theta copies
    return tr


def _advance(tr: Trainer, n: int) -> None:
    """Exactly ``n`` steps of ``tr`` on its engine (fused by default), across epoch ends."""
    while n > 0:
        n -= len(tr.run_steps(n)[0])


def _stopped(stop: Callable[[], bool] | None) -> bool:
    return stop is not None and bool(stop())


def subset(data: Dataset, n_train: int | None = None, n_test: int | None = None) -> Dataset:
    """The first ``n_train`` training and ``n_test`` test examples of ``data`` (views, no copies).

    ``None`` keeps a split whole. Handy to make an experiment fast (a small run memorises random
    labels sooner) and for tests. It shares ``data``'s converted images (:meth:`Dataset.subset`).
    """
    return data.subset(n_train, n_test)


# ---------------------------------------------------------------------------------------------------
# The gradient of one step


class Component(NamedTuple):
    """One component of a gradient, as the lesson reads it.

    Attributes
    ----------
    index : int
        Flat parameter index into ``theta``.
    name : str
        ``layout.describe(index)``, e.g. ``"w1[3,407]"`` or ``"b3[5]"``.
    value : float
        The component of the NEGATIVE gradient, ``-dC/dtheta_k``: its sign says which way the step
        nudges this parameter (positive: up), its size how much.
    share : float
        ``grad[k]**2 / |grad|**2``: how much of the gradient's squared length this one nudge carries,
        i.e. how much that nudge matters compared with all the others.
    """

    # the field shadows tuple.index on purpose: the lesson's name for a flat parameter index
    index: int  # type: ignore[assignment]
    name: str
    value: float
    share: float


def top_components(grad: np.ndarray, layout: Layout, k: int = 20) -> tuple[list[Component], float]:
    """The ``k`` components of ``grad`` with the largest magnitude, largest first.

    Parameters
    ----------
    grad : ndarray, shape (P,)
        A gradient laid out like ``theta``.
    layout : Layout
    k : int

    Returns
    -------
    components : list of Component
        At most ``k`` rows, sorted by decreasing ``share`` (ties: lower index first).
    total_share : float
        The sum of their shares: the fraction of ``|grad|**2`` these ``k`` parameters carry
        (0 for a zero gradient).
    """
    g = np.asarray(grad, np.float64)
    if g.shape != (layout.size,):
        raise ValueError(f"expected a gradient of {layout.size} components, got shape {g.shape}")
    k = int(min(max(k, 0), g.size))
    if k == 0:
        return [], 0.0
    sq = g * g
    total = float(sq.sum())
    part = np.argpartition(-sq, k - 1)[:k] if k < g.size else np.arange(g.size)
    order = part[np.lexsort((part, -sq[part]))]
    comps = [
        Component(int(i), layout.describe(int(i)), float(-g[i]), float(sq[i] / total) if total > 0 else 0.0)
        for i in order
    ]
    return comps, float(sum(c.share for c in comps))


def cumulative_shares(grad: np.ndarray, n_points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """How concentrated a gradient is: the share of ``|grad|**2`` carried by its ``r`` largest components.

    Parameters
    ----------
    grad : ndarray, shape (P,)
    n_points : int
        About this many ranks, spaced evenly on a log scale from 1 to P.

    Returns
    -------
    ranks : ndarray of int, shape (m,)
    shares : ndarray, shape (m,)
        Non-decreasing, ending at 1 (all 0 for a zero gradient).
    """
    g = np.asarray(grad, np.float64)
    sq = np.sort(g * g)[::-1]
    cum = np.cumsum(sq)
    total = cum[-1] if cum.size else 0.0
    ranks = np.unique(np.geomspace(1, g.size, int(n_points)).astype(np.int64))
    shares = cum[ranks - 1] / total if total > 0 else np.zeros(ranks.size)
    return ranks, shares


def gradient_edge_values(layout: Layout, grad: np.ndarray) -> list[np.ndarray]:
    """Each layer's component of the negative gradient, shaped like that layer's ``W``.

    Returns
    -------
    list of ndarray
        ``[-dC/dW1, -dC/dW2, ...]``, each a new array of shape ``(n_out, n_in)``: positive where the
        step strengthens the connection, negative where it weakens it (the diagram's edge colours).
    """
    return [np.negative(gw) for gw, _ in layout.views(np.asarray(grad))]


def output_nudges(net: Network, X: np.ndarray, Y: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
    """Which way, and how much, a batch asks each output neuron to move, averaged over the batch.

    Quadratic cost: ``-mean_x dC_x/da = mean_x 2 (y - a)``. Softmax cross-entropy: the nudge of the
    output's weighted input, ``mean_x (y - a)`` (``-dC_x/da = y/a`` is unbounded and hard to read).

    Parameters
    ----------
    net : Network
    X : ndarray, shape (N, n_in)
    Y : ndarray, shape (N, n_out)
    theta : ndarray, optional
        Parameters to use (default: the network's own).

    Returns
    -------
    ndarray, shape (n_out,)
    """
    A = net.feedforward(X, theta).astype(np.float64)
    d = np.asarray(Y, np.float64) - A
    if net.cost_name == "quadratic":
        d *= 2.0
    return d.mean(axis=0)


def plain_name(layout: Layout, k: int) -> str:
    """What parameter ``k`` connects, in words, e.g. ``"pixel (row 14, col 15) -> hidden 1 #3"``."""
    L = layout.n_layers

    def unit(layer: int, i: int) -> str:  # layer counts from 0 (the input)
        if layer == 0:
            side = int(round(layout.sizes[0] ** 0.5))
            if side * side == layout.sizes[0]:
                return f"pixel (row {i // side}, col {i % side})"
            return f"input {i}"
        if layer == L:
            return f"output {i}"
        return f"hidden {layer} #{i}" if L > 2 else f"hidden #{i}"

    layer, kind, i, j = layout.locate(k)
    if kind == "w" and j is not None:  # a weight always has a column j
        return f"{unit(layer, j)} \u2192 {unit(layer + 1, i)}"
    return f"bias of {unit(layer + 1, i)}"


# ---------------------------------------------------------------------------------------------------
# Structure against random labels


@dataclass(frozen=True)
class Probe:
    """One copy's state at a probe: training cost and accuracy on a fixed subsample of the labels it
    trains on, and test accuracy (on a fixed test subsample, or the whole test set)."""

    cost: float
    train_acc: float
    test_acc: float


@dataclass(frozen=True)
class LabelsProgress:
    """A record yielded by :func:`compare_labels`.

    Attributes
    ----------
    step, steps : int
        Steps taken by each copy so far, and planned.
    epoch : float
        Passes over the training set so far (``step * batch / n_train``).
    true, shuffled : Probe
    final : bool
        True on the last record (end of the run, or stopped).
    """

    step: int
    steps: int
    epoch: float
    true: Probe
    shuffled: Probe
    final: bool = False

    def get(self, copy: str) -> Probe:
        return self.true if copy == "true" else self.shuffled


def _probe(net: Network, X: np.ndarray, labels: np.ndarray, Xt: np.ndarray, test_labels: np.ndarray) -> Probe:
    tr = evaluate(net, X, labels)
    te = evaluate(net, Xt, test_labels)
    return Probe(float(tr.cost), tr.accuracy, te.accuracy)


def compare_labels(
    data: Dataset,
    config: TrainConfig,
    steps: int,
    every: int = 100,
    n_probe: int | None = 2000,
    n_test_probe: int | None = 2000,
    rng: np.random.Generator | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[LabelsProgress]:
    """Train two copies of one network, on the true labels and on shuffled labels, interleaved.

    Both copies start from the same initial weights (one network is built, then copied) and see the
    training images in the same order; only the labels differ (the shuffled copy trains on
    ``config.seed``'s permutation of them, as ``TrainConfig(random_labels=True)`` does).

    Parameters
    ----------
    data : Dataset
    config : TrainConfig
        Settings of both copies (its ``random_labels`` is ignored).
    steps : int
        Mini-batch steps per copy.
    every : int
        Yield a record every ``every`` steps, at step 0 and at the end, and also at steps 1, 2, 4, 8, ...
        below ``every``, so that a logarithmic step axis shows the first, fiddling phase.
    n_probe, n_test_probe : int or None
        Size of the fixed random subsample of the training set (each copy against ITS labels) and of
        the test set on which the records measure cost and accuracy; ``None``: all of it.
    rng : numpy.random.Generator, optional
        Picks the probe subsamples (default: seeded from ``config.seed``).
    stop : callable, optional
        Checked at every step; when it returns True the run ends with a final record.

    Yields
    ------
    LabelsProgress
    """
    rng = np.random.default_rng([config.seed, 7]) if rng is None else rng
    true_tr = _trainer(data, replace(config, random_labels=False))
    rand_tr = _trainer(data, replace(config, random_labels=True), net=true_tr.net.copy())
    assert true_tr.X_train is not None and true_tr.X_test is not None  # both built from ``data``
    n, m = true_tr.n_train, len(true_tr.X_test)
    pi = np.sort(rng.choice(n, n_probe, replace=False)) if n_probe is not None and n_probe < n else np.arange(n)
    ti = (
        np.sort(rng.choice(m, n_test_probe, replace=False))
        if n_test_probe is not None and n_test_probe < m
        else np.arange(m)
    )
    Xp, Xt = true_tr.X_train[pi], true_tr.X_test[ti]
    labels = {"true": true_tr.train_labels[pi], "shuffled": rand_tr.train_labels[pi]}
    test_labels = true_tr.test_labels[ti]
    every = max(1, int(every))

    def record(step: int, final: bool = False) -> LabelsProgress:
        return LabelsProgress(
            step,
            steps,
            step * config.batch_size / n,
            _probe(true_tr.net, Xp, labels["true"], Xt, test_labels),
            _probe(rand_tr.net, Xp, labels["shuffled"], Xt, test_labels),
            final,
        )

    yield record(0, final=steps <= 0)
    step = 0
    while step < steps:
        if _stopped(stop):
            break
        true_tr.step()  # one step at a time: ``stop`` is honoured between any two steps
        rand_tr.step()
        step += 1
        if (step % every == 0 or (step < every and step & (step - 1) == 0)) and step < steps:
            yield record(step)
    if steps > 0:
        yield record(step, final=True)


@dataclass
class LabelsRun:
    """The curves of one random-labels run, accumulated from :class:`LabelsProgress` records.

    Attributes
    ----------
    config : TrainConfig
    n_train : int
        Training examples used.
    name : str
    steps : list of int
    curves : dict
        ``curves[copy][metric]`` lists, copy in ``LABEL_COPIES``, metric in ``LABEL_METRICS``.
    finished : bool
        Set once the final record arrived (completed or stopped).
    """

    config: TrainConfig
    n_train: int
    name: str = ""
    steps: list = field(default_factory=list)
    curves: dict = field(default_factory=lambda: {c: {m: [] for m in LABEL_METRICS} for c in LABEL_COPIES})
    finished: bool = False

    def add(self, rec: LabelsProgress) -> None:
        if self.steps and rec.step == self.steps[-1]:
            return
        self.steps.append(rec.step)
        for c in LABEL_COPIES:
            p = rec.get(c)
            for m in LABEL_METRICS:
                self.curves[c][m].append(getattr(p, m))
        self.finished = self.finished or rec.final

    def series(self, copy: str, metric: str, x: str = "steps") -> tuple[np.ndarray, np.ndarray]:
        """``(x, values)`` as arrays; ``x`` is ``"steps"`` or ``"epochs"`` (passes over its training digits)."""
        xs = np.asarray(self.steps, np.float64)
        if x == "epochs":
            xs = xs * (self.config.batch_size / self.n_train)
        elif x != "steps":
            raise ValueError(f"x must be 'steps' or 'epochs', got {x!r}")
        return xs, np.asarray(self.curves[copy][metric], np.float64)

    def last(self, copy: str, metric: str) -> float:
        v = self.curves[copy][metric]
        return v[-1] if v else float("nan")


# ---------------------------------------------------------------------------------------------------
# Many minima, roughly equal


@dataclass(frozen=True)
class SeedProgress:
    """Yielded by :func:`train_seeds` while a seed trains."""

    seed: int
    index: int
    step: int
    steps: int


@dataclass(frozen=True)
class SeedResult:
    """One trained network of :func:`train_seeds`.

    Attributes
    ----------
    seed : int
    theta0, theta : ndarray, shape (P,), read-only copies
        Initial and trained parameters.
    test_acc, test_cost, train_cost : float
        Test accuracy and cost, and the cost on the whole training set, after training.
    """

    seed: int
    index: int
    theta0: np.ndarray
    theta: np.ndarray
    test_acc: float
    test_cost: float
    train_cost: float


def train_seeds(
    data: Dataset,
    config: TrainConfig,
    seeds: Sequence[int],
    epochs: float,
    every: int = 200,
    stop: Callable[[], bool] | None = None,
) -> Iterator[SeedProgress | SeedResult]:
    """Train the same network from several seeds, one after the other.

    Each seed changes the initial weights and the order of the examples; everything else is
    ``config``.

    Parameters
    ----------
    data : Dataset
    config : TrainConfig
    seeds : sequence of int
    epochs : float
        Passes over the training set per seed (fractions allowed).
    every : int
        Yield a :class:`SeedProgress` every ``every`` steps.
    stop : callable, optional
        Checked at every step; a stopped seed yields no result and the generator ends.

    Yields
    ------
    SeedProgress or SeedResult
        Progress records while training; one :class:`SeedResult` when a seed is done.
    """
    every = max(1, int(every))
    for index, seed in enumerate(seeds):
        tr = _trainer(data, replace(config, seed=int(seed)))
        steps = int(round(epochs * tr.steps_per_epoch))
        step = 0
        while step < steps:
            if _stopped(stop):
                return
            nxt = min(steps, (step // every + 1) * every)
            _advance(tr, nxt - step)
            step = nxt
            if step % every == 0:
                yield SeedProgress(int(seed), index, step, steps)
        test = tr.evaluate("test")
        train = tr.evaluate("train")
        yield SeedResult(
            int(seed),
            index,
            frozen_copy(tr.theta0),
            frozen_copy(tr.net.theta),
            test.accuracy,
            float(test.cost),
            float(train.cost),
        )


@dataclass(frozen=True)
class LineCost:
    """The cost along the straight line ``theta(t) = (1 - t) theta_a + t theta_b``.

    Attributes
    ----------
    t : ndarray, shape (n,)
        From 0 (network a) to 1 (network b).
    costs : ndarray, shape (n,)
    barrier : float
        Highest cost on the line minus the mean of its two ends: above 0 there is a hill between the
        two minima.
    """

    t: np.ndarray
    costs: np.ndarray
    barrier: float


def line_barrier(
    net: Network, theta_a: np.ndarray, theta_b: np.ndarray, X: np.ndarray, labels: np.ndarray, n: int = 51
) -> LineCost:
    """The cost along the line between two trained networks, and the height of the hill on it.

    Parameters
    ----------
    net : Network
        Any network of the right shape, cost and activation (its own theta is not used).
    theta_a, theta_b : ndarray, shape (P,)
    X : ndarray, shape (N, n_in)
    labels : ndarray, shape (N,)
        Digit labels.
    n : int
        Points on the line, ends included.
    """
    Y = one_hot(labels, net.sizes[-1], net.dtype)
    t, costs = line_costs(net, theta_a, theta_b, X, Y, n)
    return LineCost(t, costs, float(costs.max() - 0.5 * (costs[0] + costs[-1])))


@dataclass(frozen=True)
class PairLine:
    """The line between the networks of two seeds (indices into the results list)."""

    a: int
    b: int
    seed_a: int
    seed_b: int
    line: LineCost


def pair_lines(
    config: TrainConfig,
    results: Sequence[SeedResult],
    X: np.ndarray,
    labels: np.ndarray,
    n: int = 51,
    stop: Callable[[], bool] | None = None,
) -> Iterator[PairLine]:
    """:func:`line_barrier` between every pair of :class:`SeedResult` s, first pair first.

    Yields
    ------
    PairLine
    """
    net = Network.from_config(config)
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            if _stopped(stop):
                return
            ra, rb = results[i], results[j]
            yield PairLine(i, j, ra.seed, rb.seed, line_barrier(net, ra.theta, rb.theta, X, labels, n))


# ---------------------------------------------------------------------------------------------------
# Where it goes wrong


def confusion_examples(evaluation: Evaluation, labels: np.ndarray, true: int, pred: int) -> np.ndarray:
    """Indices of the examples in confusion cell ``[true, pred]`` (ascending)."""
    labels = np.asarray(labels)
    return np.flatnonzero((labels == true) & (evaluation.predictions == pred))


def mistakes(evaluation: Evaluation, labels: np.ndarray, outputs: np.ndarray | None = None) -> np.ndarray:
    """Indices of the misclassified examples.

    With ``outputs`` (M, n_out), the most confident mistakes come first (by the wrong answer's
    output); otherwise in index order.
    """
    labels = np.asarray(labels)
    idx = np.flatnonzero(evaluation.predictions != labels)
    if outputs is not None and idx.size:
        conf = np.asarray(outputs)[idx, evaluation.predictions[idx]]
        idx = idx[np.argsort(-conf, kind="stable")]
    return idx


# ---------------------------------------------------------------------------------------------------
# What training did to the first layer


def row_correlations(W0: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``W`` with the same row of ``W0`` (shape ``(n_out,)``).

    A row is one neuron's incoming weights; a constant row gives NaN.
    """
    A = np.asarray(W0, np.float64)
    B = np.asarray(W, np.float64)
    if A.shape != B.shape or A.ndim != 2:
        raise ValueError(f"expected two matrices of the same shape, got {A.shape} and {B.shape}")
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (A * B).sum(axis=1) / np.sqrt((A * A).sum(axis=1) * (B * B).sum(axis=1))


def init_correlation(W0: np.ndarray, W: np.ndarray) -> float:
    """Mean over neurons of the correlation between trained and initial incoming weights.

    Near 1: training left the weights mostly where the random start put them.
    """
    return float(np.nanmean(row_correlations(W0, W)))
