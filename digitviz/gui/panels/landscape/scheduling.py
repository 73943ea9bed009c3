"""When the landscape's jobs start and what their results do (:class:`JobsMixin`), on the GUI thread.

Surface jobs are started by :meth:`~digitviz.gui.panels.landscape.LandscapePanel.request_surface`;
path jobs (true and in-plane costs of path points, the gradient) from here. A result older than the
request on screen is dropped.

Imports: NumPy, :mod:`digitviz.core.landscape` and this package's constants and job-thread functions.
"""

from __future__ import annotations

import time

import numpy as np

from digitviz.core import landscape as ls
from digitviz.core.landscape import PathJob

from .constants import EXTEND_INTERVAL_S, PATH_JOB_INTERVAL_S, REFIT_INTERVAL_S
from .work import _path_work


class JobsMixin:
    """Scheduling and worker results of :class:`~digitviz.gui.panels.landscape.LandscapePanel`."""

    # scheduling

    def _schedule(self, snap):
        if self._data is None:
            return
        now = time.perf_counter()
        sched = self.schedule.currentData()
        paused_now = self._was_running and not snap.running
        if paused_now and sched != "manual":
            self.request_surface(refit=True)  # supersedes a job in flight: the pause must not be missed
        elif self._surface_job is None:
            if self.plane is None:
                self.request_surface(refit=True)
            elif snap.running and sched == "5s" and now - self._t_refit >= REFIT_INTERVAL_S:
                self.request_surface(refit=True)
            elif (
                self.plane.kind == "pca"
                and self.plane.explained is not None
                and self.plane.explained[1] == 0.0
                and self._n >= 3
                and self._mode() == "pca"
                and sched != "manual"
                and now - self._t_refit >= 1.0
            ):
                # the plane had fewer than two real path directions: nothing yet to keep still
                self.request_surface(refit=True)
            elif now - self._t_extend >= EXTEND_INTERVAL_S and self._path_outside_grid():
                self.request_surface(refit=False)  # same plane, wider grid: nothing on screen moves
        if self._path_job is None and (not snap.running or now - self._t_path_job >= PATH_JOB_INTERVAL_S):
            self._request_path_job(snap)

    def _path_outside_grid(self) -> bool:
        s = self._shown
        if s is None or self._now_ab is None:
            return False
        a, b = self._now_ab
        return not (s.alphas[0] <= a <= s.alphas[-1] and s.betas[0] <= b <= s.betas[-1])

    def _request_path_job(self, snap):
        n = self._n
        missing = np.isnan(self._true[:n])
        if self.plane is not None:
            missing |= np.isnan(self._on_plane[:n])
        idx = np.flatnonzero(missing)
        want_grad = self._grad_step != snap.step and not (self._grad_from_report and self._grad_step == snap.step)
        if not len(idx) and not want_grad:
            return
        job = PathJob(
            id=self._new_id(),
            generation=self._generation,
            config=snap.config,
            data=self._data,
            sample_size=self.samples.value(),
            source=self.source.currentData(),
            steps=tuple(int(self._steps[i]) for i in idx),
            thetas=tuple(self._thetas[i] for i in idx),
            plane=self.plane,
            grad_theta=snap.theta if want_grad else None,
            grad_step=snap.step,
        )
        self._path_job = job
        self._t_path_job = time.perf_counter()
        self.jobs.submit(
            _path_work,
            job,
            channel="path",
            priority=1,
            on_done=self._on_path_result,
            on_cancelled=lambda jid=job.id: self._on_path_cancelled(jid),
            on_failed=lambda msg, jid=job.id: self._on_failed(jid, msg),
        )

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # worker results (GUI thread)

    def _on_surface_progress(self, items):
        """A batch from the surface job: ``(done, total)`` ticks and the coarse pass (a SurfaceResult)."""
        for item in items:
            if isinstance(item, ls.SurfaceResult):
                self._on_surface(item)
        ticks = [item for item in items if isinstance(item, tuple)]
        if ticks and self._surface_job is not None:
            done, total = ticks[-1]
            self.progress.setValue(int(100 * done / max(1, total)))

    def _on_surface(self, res):
        job = self._surface_job
        if job is None or res.id != job.id or res.generation != self._generation:
            return  # stale: superseded, cancelled, or from an earlier run
        self._show_surface(res)
        if res.final:
            self._surface_job = None
            self.surface = res
            self.timings.append(dict(res.seconds, resolution=len(res.alphas), samples=res.sample_size))
            del self.timings[:-20]
            self._end_progress()
            self._show_message(self._describe(res))
            self._start_follow_up()
            self.surface_applied.emit(res)

    def _show_surface(self, res):
        self._set_plane(res.plane, res)
        if (
            res.plane_costs is not None
            and res.source == self.source.currentData()
            and res.sample_size == self.samples.value()
        ):
            k, ok = self._match(res.steps)
            self._on_plane[k[ok]] = res.plane_costs[ok]
        self._shown = res
        self._draw_surface(res)
        if res.line_costs is not None:
            self._line = (res.line_t, res.line_costs)
            self._draw_line()
        self._update_now()
        self._redraw_path()

    def _restore(self, res):
        if res is None:
            self._clear_surface()
            return
        self._show_surface(res)

    def _on_path_result(self, res):
        if self._path_job is not None and res.id == self._path_job.id:
            self._path_job = None
        if (
            res.generation != self._generation
            or res.sample_size != self.samples.value()
            or res.source != self.source.currentData()
        ):
            return
        if len(res.steps):
            k, ok = self._match(res.steps)
            self._true[k[ok]] = res.true_costs[ok]
            if res.plane is not None and res.plane is self.plane:
                self._on_plane[k[ok]] = res.plane_costs[ok]
        if res.grad is not None and not (self._grad_from_report and self._grad_step >= res.grad_step):
            self._grad, self._grad_step, self._grad_from_report = res.grad, res.grad_step, False
            self._update_now()
        self._redraw_path()
        self._start_follow_up()
        self.path_costs_applied.emit()

    def _start_follow_up(self):
        running = self._snap is not None and self._snap.running
        self._path_timer.start(int(1000 * PATH_JOB_INTERVAL_S) if running else 0)

    def _follow_up(self):
        if self._snap is not None and self._path_job is None and self._data is not None:
            self._request_path_job(self._snap)

    def _on_cancelled(self, job_id):
        if self._surface_job is not None and job_id == self._surface_job.id:
            # cancelled by the worker itself (e.g. stopped): treat like the Cancel button
            self.cancel()
        self.surface_cancelled.emit(job_id)

    def _on_path_cancelled(self, job_id):
        if self._path_job is not None and job_id == self._path_job.id:
            self._path_job = None

    def _on_failed(self, job_id, message):
        message = message.splitlines()[0]
        if self._surface_job is not None and job_id == self._surface_job.id:
            self._surface_job = None
            self._end_progress()
        if self._path_job is not None and job_id == self._path_job.id:
            self._path_job = None
        self._show_message(f"The landscape could not be computed: {message}")
        self.failed.emit(message)
