"""The descent path's bookkeeping (:class:`PathMixin`): a new run, the path's buffers, the plane it is projected on.

Path points are kept by reference (read-only copies made by the worker) in a bounded list; their steps,
coordinates on the plane, distances from it and costs live in arrays of the same capacity.

Imports: NumPy, :mod:`digitviz.core` and this package's constants.
"""

from __future__ import annotations

import numpy as np

from digitviz.core import landscape as ls
from digitviz.core.network import Layout

from .constants import PATH_BYTES


class PathMixin:
    """Run and path bookkeeping of :class:`~digitviz.gui.panels.landscape.LandscapePanel`."""

    def _new_run(self, snap, arch):
        self.jobs.cancel()
        self._surface_job = None
        self._path_job = None
        self._end_progress()
        self._generation = snap.generation
        if arch != self._arch:
            if self._arch is not None:
                self._params = None  # another architecture: the picked indices mean something else
            self._arch = arch
            self._layout_obj = Layout(snap.config.sizes)
            if self._params is not None and max(self._params) >= self._layout_obj.size:
                self._params = None
            self._update_params_label()
        self._pinned = None
        self._grad = None
        self._grad_step = -1
        self._grad_from_report = False
        self._was_running = False
        self._drawn_step = None
        itemsize = np.dtype(snap.config.dtype).itemsize
        cap = int(min(1024, max(16, PATH_BYTES // (self._layout_obj.size * itemsize))))
        self._reset_path(cap)
        self._clear_surface()

    def _reset_path(self, cap):
        self._cap = cap
        self._n = 0
        self._thetas: list = []
        self._steps = np.zeros(cap, np.int64)
        self._coords = np.full((cap, 2), np.nan)
        self._dist = np.full(cap, np.nan)
        self._true = np.full(cap, np.nan)
        self._on_plane = np.full(cap, np.nan)
        self._path_dirty = True

    def _append_path(self, fresh):
        for step, theta in fresh:
            if self._n == self._cap:
                self._decimate()
            k = self._n
            self._thetas.append(theta)  # read-only copies made by the worker: kept by reference
            self._steps[k] = step
            self._coords[k] = np.nan
            self._dist[k] = np.nan
            self._true[k] = np.nan
            self._on_plane[k] = np.nan
            self._n += 1
            if self.plane is not None:
                self._coords[k], self._dist[k] = self._project(theta)
        self._path_dirty = True

    def _decimate(self):
        """Full: keep every other point (the first, the initial weights, always stays)."""
        keep = np.arange(0, self._n, 2)
        m = len(keep)
        self._thetas = [self._thetas[i] for i in keep]
        for arr in (self._steps, self._coords, self._dist, self._true, self._on_plane):
            arr[:m] = arr[keep]
            arr[m:] = 0 if arr.dtype.kind == "i" else np.nan
        self._n = m

    def _project(self, theta):
        """``(a, b)`` and the distance from the plane of one parameter vector (core ``project``)."""
        coords, distance = ls.project(self.plane, theta)
        return coords[0], float(distance[0])

    def _set_plane(self, plane, res=None):
        """Make ``plane`` current; the path's coordinates come from the job ``res`` that projected it,
        and only points added since are projected here."""
        if plane is self.plane:
            return
        self.plane = plane
        if plane.kind == "params":
            i, j = self._params_of(plane)
            self._offset = np.array([plane.centre[i], plane.centre[j]])
        else:
            self._offset = np.zeros(2)
        self._on_plane[:] = np.nan
        n = self._n
        todo = np.ones(n, bool)
        if res is not None and len(res.steps):
            k, ok = self._match(res.steps)
            self._coords[k[ok]] = res.coords[ok]
            self._dist[k[ok]] = res.distance[ok]
            todo[k[ok]] = False
        todo = np.flatnonzero(todo)
        if len(todo):
            self._coords[todo], self._dist[todo] = ls.project(plane, np.stack([self._thetas[k] for k in todo]))
        self._drawn_step = None
        self._path_dirty = True

    def _match(self, steps):
        """Indices into the path of ``steps`` (sorted), and which of them the path still holds."""
        n = self._n
        k = np.searchsorted(self._steps[:n], steps)
        ok = k < n
        ok[ok] = self._steps[k[ok]] == np.asarray(steps)[ok]
        return k, ok

    @staticmethod
    def _params_of(plane):
        return int(np.argmax(plane.d1)), int(np.argmax(plane.d2))

    def _invalidate_costs(self):
        """The sample changed: every cost (and a gradient measured on the sample) must be recomputed."""
        self._true[:] = np.nan
        self._on_plane[:] = np.nan
        if not self._grad_from_report:
            self._grad, self._grad_step = None, -1
        self._path_dirty = True
