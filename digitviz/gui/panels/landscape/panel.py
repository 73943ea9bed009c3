"""The landscape panel itself (:class:`LandscapePanel`): its state, the panel contract, the controls' handlers
and the words under the controls. See the package's docstring for what the panel shows.

Imports: NumPy, PySide6, :mod:`digitviz.core` and this package's modules (and :mod:`digitviz.gui.jobs`).
"""

from __future__ import annotations

import bisect
import math
import time

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

from digitviz.core.landscape import SurfaceJob
from digitviz.core.network import Layout

from ...jobs import JobRunner
from .build import BuildMixin
from .drawing import DrawingMixin
from .path import PathMixin
from .scheduling import JobsMixin
from .work import _surface_work


class LandscapePanel(BuildMixin, PathMixin, JobsMixin, DrawingMixin, QWidget):
    """The cost landscape on a plane through parameter space, with the descent path.

    Panel contract (docs/architecture.md): :meth:`on_snapshot`, :meth:`set_dataset`, plus
    :meth:`use_parameters` (connected to the diagram's ``parameters_picked``).

    Signals
    -------
    surface_applied(SurfaceResult)
        A finished surface (its final, fine pass) is on screen.
    surface_cancelled(int)
        The surface job with this id stopped early (cancelled or superseded); nothing of it stays on screen.
    path_costs_applied()
        True costs (and in-plane costs) of path points arrived.
    failed(str)
        A job failed; the message is also shown in the panel.

    Attributes
    ----------
    plane : Plane or None
        The plane of the surface on screen.
    surface : SurfaceResult or None
        The last finished surface.
    """

    surface_applied = Signal(object)
    surface_cancelled = Signal(int)
    path_costs_applied = Signal()
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("LandscapePanel")
        self._data = None
        self._snap = None
        self._generation = None
        self._arch = None
        self._layout_obj: Layout | None = None
        self._params: tuple[int, int] | None = None
        self._pinned: np.ndarray | None = None
        self.plane = None
        self._offset = np.zeros(2)  # plot coordinates = (a, b) + offset (params mode: the parameters' values)
        self.surface = None  # last final SurfaceResult
        self._shown = None  # SurfaceResult on screen (coarse or final)
        self._levels = (0.0, 1.0)  # in display units (log10 cost or cost)
        self._surface_job = None  # SurfaceJob in flight
        self._path_job = None  # PathJob in flight
        self._next_id = 0
        self._t_refit = -math.inf
        self._t_extend = -math.inf
        self._t_path_job = -math.inf
        self._was_running = False
        self._grad = None
        self._grad_step = -1
        self._grad_from_report = False
        self._drawn_step = None
        self._now_ab = None
        self._grad_share = float("nan")
        self._line = None
        self._grad_key = None
        self._grad_c = np.zeros(2)
        self._path_dirty = False
        self._path_source = None
        self.timings: list[dict] = []  # seconds per stage of finished surface jobs (newest last)
        self._reset_path(1 << 10)

        # follow-up path jobs (costs of points added meanwhile, a fresher gradient): paused training sends
        # no more snapshots, so the panel asks again by itself, at most every PATH_JOB_INTERVAL_S
        self._path_timer = QTimer(self)
        self._path_timer.setSingleShot(True)
        self._path_timer.timeout.connect(self._follow_up)

        self.jobs = JobRunner(self)  # one thread: path jobs (priority) and surface jobs take turns

        self._build_controls()
        self._build_plots()
        self._update_control_visibility()
        self._show_message("Waiting for training data and a network to measure the cost of.")

    # the panel contract

    def on_snapshot(self, snap):
        """Take the latest snapshot: grow the path, move the marker, start jobs when due (cheap)."""
        arch = snap.config.arch_key
        if snap.generation != self._generation or arch != self._arch:
            self._new_run(snap, arch)
        self._snap = snap
        last = self._steps[self._n - 1] if self._n else -1
        if self._path_source is not None:
            # the controller's whole path: points that came while this panel was hidden are not lost
            steps, thetas = self._path_source()
            i = bisect.bisect_right(steps, last)
            fresh = [(int(s), th) for s, th in zip(steps[i:], thetas[i:])]
        else:
            fresh = [(int(s), th) for s, th in snap.new_path if s > last]
        if fresh:
            self._append_path(fresh)
        report = snap.step_report
        if report is not None and report.grad is not None:
            # the step's own batch gradient (taken just before this step): what the step followed
            self._grad, self._grad_step, self._grad_from_report = report.grad, snap.step, True
        if self.plane is not None and (snap.step != self._drawn_step or fresh):
            self._update_now()
        if self._path_dirty:
            self._redraw_path()
        self._schedule(snap)
        self._was_running = snap.running

    def set_path_source(self, source):
        """Take path points from ``source() -> (steps, thetas)`` (ascending steps) instead of from
        each snapshot's ``new_path`` alone."""
        self._path_source = source

    def set_dataset(self, ds):
        """Data became available (or went away); the sample and every cost are recomputed."""
        if ds is self._data:
            return
        self._data = ds
        self._invalidate_costs()
        if ds is None:
            self.jobs.cancel("surface")
            self._surface_job = None
            self._clear_surface()
            self._show_message("No data: the landscape needs examples to measure the cost on.")
        elif self._snap is not None:
            self.request_surface(refit=self.plane is None)

    def use_parameters(self, i: int, j: int):
        """Show the plane of two single parameters (flat indices), e.g. picked in the network diagram."""
        i, j = int(i), int(j)
        if i == j:
            self._show_message("Pick two different parameters for the plane.")
            return
        if self._layout_obj is not None and not (0 <= i < self._layout_obj.size and 0 <= j < self._layout_obj.size):
            self._show_message(f"Parameters {i}, {j} are not in this network.")
            return
        self._params = (i, j)
        self._update_params_label()
        if self._mode() != "params":
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(self.mode.findData("params"))
            self.mode.blockSignals(False)
            self._update_control_visibility()
        self.request_surface(refit=True)

    # public helpers

    def request_surface(self, refit: bool = True) -> int | None:
        """Start a surface job from the latest snapshot; returns its id (None when not possible).

        ``refit`` fits the plane again (PCA to the path so far; random/params re-centred);
        otherwise the plane on screen is kept and only the grid is recomputed to cover the path.
        """
        snap = self._snap
        if snap is None or self._data is None:
            return None
        mode = self._mode()
        keep = self.plane if (not refit and self.plane is not None and self.plane.kind == mode) else None
        if keep is not None:
            centre = keep.centre
        elif self._centre_mode() == "pinned":
            if self._pinned is None:
                self._pinned = self.plane.centre if self.plane is not None else snap.theta
            centre = self._pinned
        else:
            centre = snap.theta
        params = None
        if mode == "params":
            params = self._params or self._default_params()
            if params is None:
                self._show_message("Two parameters: click two connections or neurons in the network diagram.")
                return None
            self._params = params
            self._update_params_label()
        n = self._n
        job = SurfaceJob(
            id=self._new_id(),
            generation=self._generation,
            config=snap.config,
            data=self._data,
            sample_size=self.samples.value(),
            source=self.source.currentData(),
            mode=mode,
            centre=centre,
            current=snap.theta,
            path=tuple(self._thetas[:n]),
            steps=tuple(int(s) for s in self._steps[:n]),
            seed=self.seed.value(),
            params=params,
            plane=keep,
            resolution=self.resolution.value(),
        )
        self._surface_job = job
        self._t_refit = time.perf_counter() if keep is None else self._t_refit
        self._t_extend = time.perf_counter()
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_btn.setEnabled(True)
        self.jobs.submit(
            _surface_work,
            job,
            channel="surface",
            on_progress=self._on_surface_progress,
            on_done=self._on_surface,
            on_cancelled=lambda jid=job.id: self._on_cancelled(jid),
            on_failed=lambda msg, jid=job.id: self._on_failed(jid, msg),
        )
        return job.id

    def cancel(self):
        """Stop the surface being computed; the previous finished surface stays (or comes back)."""
        job = self._surface_job
        if job is None:
            return
        self._surface_job = None  # from now on its results are stale
        self.jobs.cancel("surface")
        self._end_progress()
        if self._shown is not self.surface:
            self._restore(self.surface)
        self._show_message("Cancelled. " + (self._describe(self.surface) if self.surface is not None else ""))

    def set_mode(self, mode: str):
        """Switch the plane's kind ("pca", "random", "params"); recomputes."""
        self.mode.setCurrentIndex(self.mode.findData(mode))

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Cancel the jobs for good (app exit). True when their thread has ended."""
        return self.jobs.shutdown(timeout)

    def closeEvent(self, event):
        self._surface_job = None
        self._path_job = None
        self.jobs.cancel()  # a panel closed and shown again may compute again: the runner stays open
        self.jobs.wait(1.0)
        self._end_progress()
        super().closeEvent(event)

    @property
    def busy(self) -> bool:
        """A surface or path job is in flight."""
        return self._surface_job is not None or self._path_job is not None

    @property
    def path_steps(self) -> np.ndarray:
        return self._steps[: self._n].copy()

    @property
    def path_costs(self) -> np.ndarray:
        """True cost of each path point on the sample (NaN until computed)."""
        return self._true[: self._n].copy()

    # controls

    def _mode(self) -> str:
        return self.mode.currentData()

    def _centre_mode(self) -> str:
        return self.centre.currentData()

    def _update_control_visibility(self):
        mode = self._mode()
        self.seed.setVisible(mode == "random")
        self.params_label.setVisible(mode == "params")

    def _update_params_label(self):
        if self._params is None or self._layout_obj is None:
            self.params_label.setText("pick two in the diagram")
            return
        i, j = self._params
        self.params_label.setText(f"{self._layout_obj.describe(i)} and {self._layout_obj.describe(j)}")

    def _default_params(self):
        """The two parameters that moved most along the path (a sensible plane before any pick)."""
        if self._n < 2 or self._snap is None:
            return None
        moved = np.abs(np.asarray(self._snap.theta, np.float64) - self._thetas[0])
        top = np.argsort(moved)[-2:][::-1]
        return int(top[0]), int(top[1])

    def _on_mode_changed(self, _index):
        self._update_control_visibility()
        self.request_surface(refit=True)

    def _on_seed_changed(self, _value):
        if self._mode() == "random":
            self.request_surface(refit=True)

    def _on_centre_changed(self, _index):
        if self._centre_mode() == "pinned":
            self._pinned = self.plane.centre if self.plane is not None else None
        else:
            self._pinned = None
            self.request_surface(refit=True)

    def _on_scale_changed(self, _index):
        if self._shown is not None:
            self._draw_surface(self._shown)
        self._draw_line()
        self._path_dirty = True
        self._redraw_path()

    def _on_grid_settings_changed(self):
        if self._shown is not None and len(self._shown.alphas) == self.resolution.value():
            return
        self.request_surface(refit=False)

    def _on_sample_changed(self, *_):
        s = self.surface
        if s is not None and s.sample_size == self.samples.value() and s.source == self.source.currentData():
            return
        self._invalidate_costs()
        self._redraw_path()
        self.request_surface(refit=False)

    def _end_progress(self):
        self.progress.setVisible(False)
        self.cancel_btn.setEnabled(False)

    # words

    def _show_message(self, text: str):
        self.info.setText(text)
        self.info_scroll.setToolTip(text)  # the whole text at a glance when the column is too short for it

    def _describe(self, res) -> str:
        if res is None:
            return ""
        plane = res.plane
        n = self._n
        where = "the pinned weights" if self._centre_mode() == "pinned" else "the weights at the last refit"
        if plane.kind == "pca":
            e1, e2 = plane.explained or (0.0, 0.0)
            what = (
                f"Plane of the path's two main directions through {where}; they hold "
                f"{100 * e1:.0f}% + {100 * e2:.0f}% of its spread. Axes: distance in parameter space."
            )
            if e2 == 0.0:
                what = f"Too few path points for two directions yet: {plane.label1} / {plane.label2}."
        elif plane.kind == "random":
            what = (
                f"Two random directions (seed {self.seed.value()}) through {where}; a step of 1 moves "
                f"each neuron's weights by their own size."
            )
        else:
            what = f"Only {plane.label1} and {plane.label2} change; all other weights stay at {where}."
        dist = self._dist[:n]
        dist = dist[np.isfinite(dist)]
        off = ""
        if dist.size and n > 1:
            span = float(np.max(np.ptp(self._coords[:n], axis=0)))
            off = f" The path strays up to {dist.max():.3g} from the plane (it spans {span:.3g} within it)."
        share = self._grad_share
        grad = f" {100 * share:.2g}% of the gradient lies in the plane." if math.isfinite(share) else ""
        src = "training" if res.source == "train" else "test"
        t = res.seconds
        timing = (
            f" Cost on {res.sample_size:,} {src} examples; {len(res.alphas)}×{len(res.betas)} grid "
            f"in {t.get('fine', 0):.2f} s."
        )
        return what + off + grad + timing
