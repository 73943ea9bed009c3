"""The landscape's jobs: what runs on a job thread (:mod:`digitviz.gui.jobs`), pure core functions on copies.

Imports: :mod:`digitviz.core.landscape` only (no widget is touched here).
"""

from __future__ import annotations

from digitviz.core import landscape as ls
from digitviz.core.landscape import PathJob, SurfaceJob


def _surface_work(control, job: SurfaceJob):
    """On a job thread: the surface; its coarse pass and ``(done, total)`` ticks are progress."""
    net, X, Y = job.inputs()
    return ls.compute_surface(
        job, net, X, Y, emit=control.report, progress=lambda done, total: control.report((done, total)), cancel=control
    )


def _path_work(control, job: PathJob):
    """On a job thread: true and in-plane costs of path points, and the gradient."""
    net, X, Y = job.inputs()
    return ls.compute_path(job, net, X, Y, cancel=control)
