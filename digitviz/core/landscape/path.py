"""A path job: the true cost of path points, their projections' costs on a plane, and a gradient.

Imports: NumPy and :mod:`digitviz.core`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from digitviz.core.network import Network
from digitviz.core.snapshot import frozen_copy

from .engine import Cancelled, costs_at, plane_costs
from .plane import Plane, project
from .sample import RunSample


@dataclass(frozen=True, eq=False)
class PathJob(RunSample):
    """True costs of path points, their projections' costs on ``plane``, and a gradient.

    ``thetas`` (read-only) pair with ``steps``; ``grad_theta`` (or None) is where to compute the
    gradient of the sample's cost, reported with ``grad_step``.
    """

    steps: tuple = ()
    thetas: tuple = ()
    plane: Plane | None = None
    grad_theta: np.ndarray | None = None
    grad_step: int = -1
    kind: str = field(default="path", init=False)


@dataclass(frozen=True, eq=False)
class PathResult:
    """What a :class:`PathJob` measured: ``true_costs`` and ``plane_costs`` (K,) pair with ``steps``;
    ``grad`` (P,) float64 read-only, or None."""

    id: int
    generation: int
    sample_size: int
    source: str
    steps: np.ndarray
    true_costs: np.ndarray
    plane: Plane | None
    plane_costs: np.ndarray | None
    grad: np.ndarray | None
    grad_step: int
    seconds: float


def compute_path(
    job: PathJob,
    net: Network,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    cancel: Callable[[], bool] | None = None,
    chunk: int = 64,
) -> PathResult:
    """Run a path job (chunks of ``chunk`` points, ``cancel`` polled between them)."""
    t0 = time.perf_counter()
    K = len(job.thetas)
    true_costs = np.empty(K)
    on_plane = np.empty(K) if job.plane is not None else None
    for s in range(0, K, chunk):
        if cancel is not None and cancel():
            raise Cancelled()
        block = np.stack(job.thetas[s : s + chunk])
        true_costs[s : s + len(block)] = costs_at(net, block, X, Y)
        if job.plane is not None and on_plane is not None:
            coords, _ = project(job.plane, block)
            on_plane[s : s + len(block)] = plane_costs(net, job.plane, coords, X, Y)
    grad = None
    if job.grad_theta is not None:
        net.set_theta(job.grad_theta)
        _, g = net.backprop(X, Y)
        grad = frozen_copy(g.astype(np.float64))  # backprop returns a view of the workspace
    return PathResult(
        id=job.id,
        generation=job.generation,
        sample_size=job.sample_size,
        source=job.source,
        steps=np.asarray(job.steps, np.int64),
        true_costs=true_costs,
        plane=job.plane,
        plane_costs=on_plane,
        grad=grad,
        grad_step=job.grad_step,
        seconds=time.perf_counter() - t0,
    )
