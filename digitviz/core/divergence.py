"""Divergence: noticing that a run went wrong, and saying so in plain words.

``Diverged`` (an ``ArithmeticError``) carries a :class:`Divergence` kind, the cost that gave it away and the
learning rate; ``str(exc)`` is :func:`divergence_text`. ``SGD.step`` (:mod:`digitviz.core.training`) raises
NAN, INF and BLOWUP; :class:`DivergenceWatch` raises RISE and COLLAPSE after each step and keeps a recent good
copy of theta. The fused engine (:mod:`digitviz.core.fused`) runs the same tests in its kernel, with the
constants below.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import enum
import math

import numpy as np

from .network import Network

BLOWUP = 10  # a batch cost this many times the run's first batch cost counts as diverged
RISE = 4.0  # ... and so does a smoothed cost that stays this many times above its lowest value so far
RISE_STEPS = 50  # ... for this many steps in a row
COST_ALPHA = 0.02  # smoothing of the cost the rise test watches (about the last 50 steps)
PROBE_SIZE = 256  # a fixed batch of training images, checked every PROBE_EVERY_EXAMPLES examples:
PROBE_EVERY_EXAMPLES = 10 * PROBE_SIZE  # (forward passes on 10% of what training sees: a few % slower)
PINNED = 1e-3  # an output within this of 0 or 1 is pinned; a network whose outputs are (nearly) all
COLLAPSE_PINNED, COLLAPSE_SAME = 0.99, 0.95  # pinned and that gives (nearly) every image the same answer collapsed


def format_lr(lr: float) -> str:
    """A learning rate as the app and its messages write it (4 significant digits: "16.78", "1e+06")."""
    return f"{lr:.4g}"


class Divergence(enum.Enum):
    """How a run went wrong (:attr:`Diverged.kind`)."""

    NAN = "nan"  # the cost or gradient became not-a-number
    INF = "inf"  # ... or infinite
    BLOWUP = "blow-up"  # one batch cost more than BLOWUP x the run's first
    RISE = "rise"  # the smoothed cost rose and stayed RISE x above its lowest
    COLLAPSE = "collapse"  # outputs pinned at 0 or 1, the same answer for almost every image


class Diverged(ArithmeticError):
    """Training went wrong; after NAN, INF and BLOWUP the parameters were left as they were before the step.

    Attributes
    ----------
    kind : Divergence
    cost : float
        The cost that gave it away (the batch's, or the smoothed cost for RISE; NaN/inf as it was).
    lr : float
        The effective learning rate of the step (after any decay).
    reference : float
        What ``cost`` is compared with: the first batch's cost (BLOWUP), the lowest smoothed cost (RISE).
    answer, share : int, float
        COLLAPSE: the answer given, and to what share of the fixed batch.
    set_lr : float
        The learning rate set, when decay made ``lr`` differ from it (NaN otherwise).
    epochs : int
        Epochs of decay between ``set_lr`` and ``lr``.
    chunk : tuple of two ndarrays, or None
        Raised from :meth:`Trainer.run_steps`: ``(costs, grad_norms)`` of the steps that call did before.
    """

    def __init__(
        self,
        kind: Divergence,
        cost: float,
        lr: float,
        reference: float = math.nan,
        answer: int = -1,
        share: float = math.nan,
    ) -> None:
        self.kind, self.cost, self.lr, self.reference = kind, float(cost), float(lr), float(reference)
        self.answer, self.share = int(answer), float(share)
        self.set_lr, self.epochs = math.nan, 0
        self.chunk: tuple | None = None
        super().__init__(divergence_text(self))

    def decayed_from(self, set_lr: float, epochs: int) -> None:
        """Say that ``lr`` is ``set_lr`` after ``epochs`` epochs of decay (the field shows ``set_lr``)."""
        if set_lr != self.lr:
            self.set_lr, self.epochs = float(set_lr), int(epochs)
            self.args = (divergence_text(self),)


def divergence_text(d: Diverged) -> str:
    """What happened, in plain words, e.g. "the cost became infinite: learning rate 100 is too large ..."."""
    k = d.kind
    if k is Divergence.NAN:
        what = "the cost became not-a-number (NaN)"
    elif k is Divergence.INF:
        what = "the cost became infinite"
    elif k is Divergence.BLOWUP:
        what = f"the cost blew up to {d.cost:.3g}, more than {BLOWUP}x where this run started ({d.reference:.3g})"
    elif k is Divergence.RISE:
        what = (
            f"the cost rose to {d.cost:.3g} and stayed there, {d.cost / d.reference:.0f}x its lowest "
            f"({d.reference:.3g})"
        )
    else:
        what = (
            f"the network collapsed (its outputs are pinned at 0 or 1 and it answers {d.answer} "
            f"for {d.share:.0%} of a fixed batch of training images)"
        )
    lr = format_lr(d.lr)
    if not math.isnan(d.set_lr):
        lr += f" (the {format_lr(d.set_lr)} set, after {d.epochs} epoch{'s' * (d.epochs != 1)} of decay)"
    return f"{what}: learning rate {lr} is too large for this network and cost"


class DivergenceWatch:
    """Notices a run going wrong while its cost stays finite, and keeps a recent good copy of theta.

    A sigmoid output with the quadratic cost can never cost more than 10 a example, so "the cost became
    huge" misses the commonest wreck (a too-large learning rate pins every output at 0 or 1). Two tests,
    each relative to the run itself, work for every activation and cost:

    - RISE: the smoothed cost (EMA, ``COST_ALPHA``) stays more than ``RISE`` x its lowest value so far (and
      that lowest at least ``RISE_FLOOR`` x its first, so that noise on a tiny cost never counts) for
      ``RISE_STEPS`` steps in a row.
    - COLLAPSE: on a fixed batch of ``PROBE_SIZE`` training images, checked every ``PROBE_EVERY_EXAMPLES``
      examples, at least 99% of the output values are within ``PINNED`` of 0 or 1 and at least 95% of the
      images get the same answer.

    At each probe check that finds the run healthy (cost not rising, probe accuracy within 2 points of
    its best), theta is copied into ``good_theta`` (one preallocated vector): what :meth:`Trainer.restore_good`
    goes back to.

    Parameters
    ----------
    theta : ndarray, shape (P,)
        The run's first parameters (the first good copy).
    X_probe : ndarray, shape (M, n_in), or None
    labels_probe : ndarray, shape (M,), or None
        The labels trained on, for the probe accuracy.
    """

    RISE_FLOOR = 0.05

    def __init__(
        self, theta: np.ndarray, X_probe: np.ndarray | None = None, labels_probe: np.ndarray | None = None
    ) -> None:
        self.X_probe, self.labels_probe = X_probe, labels_probe
        self.good_theta = np.array(theta, copy=True)
        self.good_step = 0
        self.ema = math.nan
        self.first = math.nan
        self.low = math.inf
        self.high_steps = 0
        self.best = -1.0
        self._next_check = PROBE_EVERY_EXAMPLES

    def observe(self, step: int, examples_seen: int, cost: float, net: Network, lr: float) -> None:
        """After a step: raises :class:`Diverged` (RISE or COLLAPSE), or maybe keeps a good copy."""
        e = self.ema = cost if math.isnan(self.ema) else self.ema + COST_ALPHA * (cost - self.ema)
        if math.isnan(self.first):
            self.first = e
        self.low = min(self.low, e)
        ref = max(self.low, self.RISE_FLOOR * self.first)
        if e > RISE * ref:
            self.high_steps += 1
            if self.high_steps >= RISE_STEPS:
                raise Diverged(Divergence.RISE, e, lr, reference=ref)
        else:
            self.high_steps = 0
        self.probe(step, examples_seen, cost, net, lr)

    @property
    def rise_reference(self) -> float:
        """What the smoothed cost is compared with: its lowest, or ``RISE_FLOOR`` x its first if higher."""
        return max(self.low, self.RISE_FLOOR * self.first)

    def rise_state(self) -> np.ndarray:
        """``[ema, first, low, high_steps]`` as float64 (the fused engine runs the RISE test in its kernel,
        with the same arithmetic, and hands the state back with :meth:`set_rise_state`)."""
        return np.array([self.ema, self.first, self.low, self.high_steps], np.float64)

    def set_rise_state(self, state: np.ndarray) -> None:
        self.ema, self.first, self.low = float(state[0]), float(state[1]), float(state[2])
        self.high_steps = int(state[3])

    def probe_state(self) -> np.ndarray:
        """``[next_check, best, good_step, answer, share]`` as float64 (``next_check`` inf without a probe):
        the fused engine runs the probe checks of :meth:`probe` in its kernel, with the same arithmetic,
        copying ``theta`` into ``good_theta`` itself, and hands the state back with :meth:`set_probe_state`
        (``answer`` and ``share``: of a COLLAPSE it found)."""
        due = math.inf if self.X_probe is None else float(self._next_check)
        return np.array([due, self.best, self.good_step, -1.0, math.nan], np.float64)

    def set_probe_state(self, state: np.ndarray) -> None:
        if self.X_probe is not None:
            self._next_check = int(state[0])
        self.best, self.good_step = float(state[1]), int(state[2])

    @property
    def next_check(self) -> int | None:
        """``examples_seen`` at which the next probe check is due (None without a probe)."""
        return None if self.X_probe is None else self._next_check

    def probe(
        self, step: int, examples_seen: int, cost: float, net: Network, lr: float, outputs: np.ndarray | None = None
    ) -> None:
        """The probe part of :meth:`observe` (COLLAPSE, the good copy); nothing unless a check is due.
        ``outputs``: the network's outputs on ``X_probe`` if the caller computed them (the fused engine)."""
        if self.X_probe is None or examples_seen < self._next_check:
            return
        e, ref = self.ema, self.rise_reference
        self._next_check = examples_seen + PROBE_EVERY_EXAMPLES
        out = net.feedforward(self.X_probe) if outputs is None else outputs
        pred = np.argmax(out, axis=1)
        counts = np.bincount(pred, minlength=out.shape[1])
        answer = int(np.argmax(counts))
        share = counts[answer] / len(pred)
        pinned = float(np.mean((out < PINNED) | (out > 1 - PINNED)))
        if pinned >= COLLAPSE_PINNED and share >= COLLAPSE_SAME:
            raise Diverged(Divergence.COLLAPSE, cost, lr, answer=answer, share=share)
        acc = float(np.mean(pred == self.labels_probe))
        if self.high_steps == 0 and e <= 2 * ref and acc >= self.best - 0.02:
            self.best = max(self.best, acc)
            np.copyto(self.good_theta, net.theta)
            self.good_step = step

    def restored(self) -> None:
        """The good copy was put back: the cost is watched afresh from there."""
        self.ema = math.nan
        self.high_steps = 0
