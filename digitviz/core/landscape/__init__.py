"""The cost landscape: the network's cost on a 2-D plane (or a 1-D line) through parameter space.

A :class:`Plane` is a centre ``theta`` and two directions ``d1, d2``; the surface is
``C(centre + a*d1 + b*d2)`` over a grid of ``(a, b)`` (tomgoldstein/loss-landscape, Li et al. 2018).
Directions come from the recorded descent path (PCA), from random filter-normalised vectors, or from
two single parameters. Snapshots are projected onto the plane by least squares, and the 1-D cost along
the straight line between two parameter vectors gives Goodfellow et al.'s (2015) linear interpolation.

How the grid is made fast is told in :mod:`.engine`.

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
    "Cancelled",
    "coarse_to_fine",
    "cost_grid",
    "cost_grid_loop",
    "costs_at",
    "line_costs",
    "plane_costs",
    "PathJob",
    "PathResult",
    "compute_path",
    "PLANE_KINDS",
    "Plane",
    "grid_axes",
    "in_plane_share",
    "parameter_directions",
    "pca_directions",
    "project",
    "projected_gradient",
    "random_directions",
    "surface_slope",
    "SOURCES",
    "RunSample",
    "make_sample",
    "sample_indices",
    "LINE_EXTEND",
    "LINE_POINTS",
    "SurfaceJob",
    "SurfaceResult",
    "compute_surface",
    "fit_plane",
]
