"""Snapshots: immutable copies of the training state, safe to hand from one thread to another.

The training worker alone owns the live parameter vector. At a bounded rate it builds a
:class:`Snapshot` (copies, read-only) and publishes it; views draw the latest one.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .series import frozen_copy
from .training import TrainConfig

__all__ = ["Event", "Snapshot", "StepReport", "frozen_copy", "merge_snapshots"]


class Event(enum.Enum):
    """What a snapshot's ``message`` is about, so a view decides by kind, never by the words."""

    DIVERGED = "diverged"  # training paused: the run diverged (see Snapshot.restore_point)
    RESTORED = "restored"  # the recent good weights were put back
    NO_DATA = "no data"  # a command needs training data there is not
    SETTING_REJECTED = "setting rejected"  # a live setting was not applied
    RESET_FAILED = "reset failed"


@dataclass(frozen=True)
class StepReport:
    """What a single step did to its own batch: the lesson's "one nudge downhill".

    Attributes
    ----------
    cost_before, cost_after : float
        The batch's average cost before and after the step (same batch, same examples).
    grad_norm : float
        |gradient| for the batch.
    step_norm : float
        |change of theta| (lr x |gradient| without momentum).
    lr : float
    grad : ndarray, shape (P,), read-only
        The batch's gradient (before L2/momentum).
    output_nudges : ndarray, shape (n_out,), read-only
        Minus dC/da of each output neuron averaged over the batch: which way, and how much,
        the batch asks each output to move.
    """

    cost_before: float
    cost_after: float
    grad_norm: float
    step_norm: float
    lr: float
    grad: np.ndarray
    output_nudges: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """The training state at one moment, as copies.

    Attributes
    ----------
    step, epoch, examples_seen : int
        Counters (``epoch`` counts finished passes over the training set).
    theta : ndarray, shape (P,), read-only copy
    config : TrainConfig
    cost, grad_norm : float
        Of the last mini-batch (NaN before any step).
    example : ndarray, shape (n_in,), read-only, or None
        The example being looked at: during training one from the last batch; after a single
        step that batch's first example.
    example_label : int
        Its label (-1 for noise or unknown).
    running : bool
        Whether the worker is playing.
    examples_per_s : float
        Recent training rate.
    new_steps, new_costs, new_grad_norms : ndarray
        Per-step records since the previous snapshot (the curves append them).
    new_path : tuple of (int, ndarray)
        Descent-path points ``(step, theta)`` recorded since the previous snapshot.
    new_timeline : tuple of (int, ndarray)
        Timeline points ``(step, read-only theta)`` admitted since the previous snapshot (the worker's
        :class:`~digitviz.core.timeline.Timeline` twin decided; the GUI's timeline keeps them).
    epochs : tuple of EpochRecord
        All epoch records so far (see :meth:`Trainer.end_epoch`).
    step_report : StepReport or None
        Set on the snapshot published right after a single step.
    message : str
        A plain-words event for the user ("", or e.g. why training paused).
    event : Event or None
        What ``message`` is about (None with no message).
    restore_point : tuple of (int, float) or None
        With ``Event.DIVERGED``: ``(step, test accuracy)`` of the recent good weights the worker can put back.
    accuracy : float
        Test accuracy last measured of the weights the network has now (at the last epoch's end, a
        divergence or a restore); NaN when not measured since they were made (reset, load).
    generation : int
        Increases at every reset; a view clears its history when it changes.
    engine : str
        What trains: ``"fused"`` (compiled, see :mod:`digitviz.core.fused`), ``"numpy"``, or
        ``"numpy (fused compiling)"`` while the fused engine is still being compiled.
    """

    step: int
    epoch: int
    examples_seen: int
    theta: np.ndarray
    config: TrainConfig
    cost: float = float("nan")
    grad_norm: float = float("nan")
    example: np.ndarray | None = None
    example_label: int = -1
    running: bool = False
    examples_per_s: float = float("nan")
    new_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    new_costs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_grad_norms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_path: tuple = ()
    new_timeline: tuple = ()
    epochs: tuple = ()
    step_report: StepReport | None = None
    message: str = ""
    event: Event | None = None
    restore_point: tuple | None = None
    accuracy: float = float("nan")
    generation: int = 0
    engine: str = ""

    @property
    def test_acc(self) -> float:
        """The test accuracy of the weights shown: the last measured, else the last epoch's (NaN: none)."""
        if not math.isnan(self.accuracy):
            return self.accuracy
        return self.epochs[-1].test_acc if self.epochs else float("nan")


def merge_snapshots(old: Snapshot, new: Snapshot) -> Snapshot:
    """``new`` carrying ``old``'s undelivered per-step records, path points, step report and event.

    Both must be of the same generation. Whoever skips delivering a snapshot merges it into the
    next one, so a curve or a path never loses a point, and no event is lost.
    """
    cat = np.concatenate
    changes: dict[str, Any] = {}
    if len(old.new_steps):
        changes.update(
            new_steps=frozen_copy(cat([old.new_steps, new.new_steps]), copy=False),
            new_costs=frozen_copy(cat([old.new_costs, new.new_costs]), copy=False),
            new_grad_norms=frozen_copy(cat([old.new_grad_norms, new.new_grad_norms]), copy=False),
        )
    if old.new_path:
        changes["new_path"] = old.new_path + new.new_path
    if old.new_timeline:
        changes["new_timeline"] = old.new_timeline + new.new_timeline
    if new.step_report is None and old.step_report is not None and old.step == new.step:
        changes["step_report"] = old.step_report
    if not new.message and old.message:
        changes.update(message=old.message, event=old.event, restore_point=old.restore_point)
    return replace(new, **changes) if changes else new
