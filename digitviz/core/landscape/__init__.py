"""The cost landscape: the network's cost on a 2-D plane (or a 1-D line) through parameter space.

A :class:`Plane` is a centre ``theta`` and two directions ``d1, d2``; the surface is
``C(centre + a*d1 + b*d2)`` over a grid of ``(a, b)`` (tomgoldstein/loss-landscape, Li et al. 2018).
Directions come from the recorded descent path (PCA), from random filter-normalised vectors, or from
two single parameters. Snapshots are projected onto the plane by least squares, and the 1-D cost along
the straight line between two parameter vectors gives Goodfellow et al.'s (2015) linear interpolation.

Why the grid is fast: the first layer dominates (784 x 16 of 13,002 parameters), and its weighted sums
are linear in the parameters, ``X (W + a D + b E)^T = X W^T + a X D^T + b X E^T``. Those three products
are computed once per batch; per grid point the first layer then costs one tiny matrix product. The small
remaining layers of many grid points go through one batched ``np.matmul`` per layer. Inside, the data is
feature-major, ``(G points, features, examples)``, so that reductions over the 10 outputs are fast.
Two algebraic folds remove whole passes over the data (each a textbook identity, applied exactly):

* ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``: the 0.5s are folded into the next layer's weights and bias, so
  a sigmoid layer costs a single ``tanh`` pass, and the quadratic cost becomes
  ``0.25 * sum (tanh(z/2) - (2y - 1))**2``.
* biases ride along as an extra constant row whose activation is exactly 1 (``tanh(20) == 1`` in float32
  and float64, ``relu(1) == 1``), so no separate broadcast add is needed.

The grid is computed in the network's dtype (float32 is fast) and returned as float64. Nothing here reads
or writes ``net.theta``: only the network's layout, activation, cost and dtype are used, so a landscape can
be computed from a snapshot while training continues in another thread.

Modules: :mod:`.plane` (planes, directions, projections), :mod:`.engine` (the fast cost engine and
``coarse_to_fine``), :mod:`.sample` (a run's fixed sample), :mod:`.surface` and :mod:`.path` (the
landscape panel's two kinds of job, as pure functions of immutable inputs). Everything public is
re-exported here: ``from digitviz.core import landscape as ls``.

Imports: NumPy, the standard library and :mod:`digitviz.core`.
"""

from .engine import (
                     Cancelled,
                     coarse_to_fine,
                     cost_grid,
                     cost_grid_loop,
                     costs_at,
                     line_costs,
                     plane_costs,
)
from .path import PathJob, PathResult, compute_path
from .plane import (
                     PLANE_KINDS,
                     Plane,
                     grid_axes,
                     in_plane_share,
                     parameter_directions,
                     pca_directions,
                     project,
                     projected_gradient,
                     random_directions,
                     surface_slope,
)
from .sample import SOURCES, RunSample, make_sample, sample_indices
from .surface import (
                     LINE_EXTEND,
                     LINE_POINTS,
                     SurfaceJob,
                     SurfaceResult,
                     compute_surface,
                     fit_plane,
)

__all__ = [
    "Cancelled", "coarse_to_fine", "cost_grid", "cost_grid_loop", "costs_at", "line_costs", "plane_costs",
    "PathJob", "PathResult", "compute_path",
    "PLANE_KINDS", "Plane", "grid_axes", "in_plane_share", "parameter_directions", "pca_directions", "project",
    "projected_gradient", "random_directions", "surface_slope",
    "SOURCES", "RunSample", "make_sample", "sample_indices",
    "LINE_EXTEND", "LINE_POINTS", "SurfaceJob", "SurfaceResult", "compute_surface", "fit_plane",
]
