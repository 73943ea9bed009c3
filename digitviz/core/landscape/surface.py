"""A surface job: fit (or keep) a plane, then the cost over a coarse and a fine grid, the path's costs
on the plane and the 1-D line from the initial weights, as immutable results.

Imports: NumPy and :mod:`digitviz.core`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digitviz.core.network import Network

from .engine import coarse_to_fine, line_costs, plane_costs
from .plane import (
    Plane,
    grid_axes,
    parameter_directions,
    pca_directions,
    project,
    random_directions,
)
from .sample import RunSample

LINE_EXTEND = 0.2  # the 1-D view runs over t in [-0.2, 1.2]
LINE_POINTS = 57  # every 0.025 in t


@dataclass(frozen=True, eq=False)
class SurfaceJob(RunSample):
    """Everything a surface needs, as immutable copies.

    Attributes
    ----------
    id, generation, config, data, sample_size, source
        As :class:`~.sample.RunSample`.
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
    params: tuple[int, int] | None = None
    plane: Plane | None = None
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
    plane: Plane
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


def fit_plane(job: SurfaceJob, net: Network, path: np.ndarray) -> Plane:
    """The job's plane: kept, or fitted to the path (PCA), random (seeded), or two parameters."""
    centre = np.asarray(job.centre, np.float64)
    if job.plane is not None:
        return job.plane
    if job.mode == "pca":
        return pca_directions(path, centre, rng=np.random.default_rng(job.seed))
    if job.mode == "random":
        return random_directions(net, centre, np.random.default_rng(job.seed))
    if job.mode == "params":
        if job.params is None:
            raise ValueError('plane mode "params" needs params: two flat parameter indices')
        return parameter_directions(net, centre, *job.params)
    raise ValueError(f"unknown plane mode {job.mode!r}")


def compute_surface(
    job: SurfaceJob,
    net: Network,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    emit: Callable[[SurfaceResult], object] | None = None,
    progress: Callable[[int, int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> SurfaceResult:
    """Run a surface job; ``emit(SurfaceResult)`` gets the coarse pass, the final one is returned.

    The grid's two passes come from :func:`~.engine.coarse_to_fine`; between them the path's costs on
    the plane and the 1-D line are computed, so the side plots fill while the map sharpens.
    ``progress(done, total)`` counts the work units of all stages together.
    Raises :class:`~digitviz.core.landscape.Cancelled` when ``cancel()`` turns True.
    """
    seconds = {}
    t0 = time.perf_counter()
    path = np.stack(job.path) if job.path else np.asarray(job.centre, np.float64)[None, :]
    plane = fit_plane(job, net, path)
    coords, distance = project(plane, path)
    now = project(plane, job.current)[0]
    alphas, betas = grid_axes(np.vstack([coords, now]), job.resolution, job.margin)
    seconds["plane"] = time.perf_counter() - t0

    nA, nB = len(alphas), len(betas)
    has_coarse = job.coarse < nA or job.coarse < nB  # as coarse_to_fine decides
    n_coarse = min(job.coarse, nA) * min(job.coarse, nB) if has_coarse else 0
    n_side = len(coords) + LINE_POINTS  # computed between the two passes
    total = n_coarse + n_side + nA * nB

    def tick(base: int) -> Callable[[int, int], object] | None:
        return None if progress is None else (lambda d, _t: progress(base + d, total))

    # coarse_to_fine counts the points of its two passes together
    grid_tick = None if progress is None else (lambda d, _t: progress(d if d <= n_coarse else d + n_side, total))
    passes = coarse_to_fine(net, plane, X, Y, alphas, betas, coarse=job.coarse, progress=grid_tick, cancel=cancel)
    base: dict[str, Any] = dict(
        id=job.id,
        generation=job.generation,
        plane=plane,
        coords=coords,
        distance=distance,
        steps=np.asarray(job.steps, np.int64),
        sample_size=job.sample_size,
        source=job.source,
    )
    if has_coarse:
        t = time.perf_counter()
        ca, cb, Zc = next(passes)
        seconds["coarse"] = time.perf_counter() - t
        if emit is not None:
            emit(SurfaceResult(final=False, alphas=ca, betas=cb, Z=Zc, seconds=dict(seconds), **base))
    t = time.perf_counter()
    on_plane = plane_costs(net, plane, coords, X, Y, progress=tick(n_coarse), cancel=cancel)
    seconds["path"] = time.perf_counter() - t
    t = time.perf_counter()
    line_t, line_c = line_costs(
        net,
        path[0],
        job.current,
        X,
        Y,
        n=LINE_POINTS,
        extend=LINE_EXTEND,
        progress=tick(n_coarse + len(coords)),
        cancel=cancel,
    )
    seconds["line"] = time.perf_counter() - t
    t = time.perf_counter()
    _, _, Z = next(passes)
    passes.close()
    seconds["fine"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    return SurfaceResult(
        final=True,
        alphas=alphas,
        betas=betas,
        Z=Z,
        plane_costs=on_plane,
        line_t=line_t,
        line_costs=line_c,
        seconds=seconds,
        **base,
    )
