"""Going back in time (:class:`TimelineMixin` of the main window): the timeline bar under the diagram.

The training worker admits moments of the run into a bounded :class:`~digitviz.core.timeline.Timeline`
(the first steps densely, older ones thinned; see the README); the controller keeps their parameters
(``TrainingController.theta_at``). Moving the bar's slider to a past moment pauses training and shows
the network of that moment in the diagram, the input panel (its answer), the weight images and the
landscape's marker: those panels get a *view* of the latest snapshot with that moment's ``theta`` and
step and no new records (``past_view``). "Continue from here" loads those weights into the worker as a
new run (the worker's ``load``): the old run stays in the learning curves' run list.

File ▸ Record… can also record a *replay* of the timeline (:meth:`TimelineMixin.record_replay`): the
kept moments from the first to now, each shown on the same test digit, one grab each, at once put back
(the screen, the moment shown and the training are left as they were; training may go on meanwhile).

Imports: PySide6 (via the view), :mod:`digitviz.core` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from digitviz.core.snapshot import Snapshot, frozen_copy

from .banners import progress_dialog
from .views.timeline import TimelineBar

TIME_PANELS = ("input", "weights", "landscape")  # the panels that show the moment chosen
_EMPTY_I = frozen_copy(np.zeros(0, np.int64), copy=False)
_EMPTY_F = frozen_copy(np.zeros(0), copy=False)


def past_view(snap: Snapshot, step: int, theta) -> Snapshot:
    """``snap`` as it would look with ``theta`` at ``step``: no new records, paused (for the panels)."""
    return replace(
        snap,
        step=int(step),
        theta=theta,
        running=False,
        new_steps=_EMPTY_I,
        new_costs=_EMPTY_F,
        new_grad_norms=_EMPTY_F,
        new_path=(),
        new_timeline=(),
        step_report=None,
        message="",
        event=None,
        restore_point=None,
        accuracy=float("nan"),
    )


class TimelineMixin:
    """The timeline bar and the moment shown, for the main window.

    Attributes
    ----------
    timeline_bar : TimelineBar
    past : tuple of (int, int, ndarray) or None
        ``(generation, step, read-only theta)`` of the moment shown; None: now (the live network).
    last_move_ms : float
        Wall time of the last move to a moment (fetching theta, the diagram and the panels).
    """

    def _build_timeline(self, layout):
        self.past = None
        self._paused_seen = True
        self.last_move_ms = float("nan")
        self._timeline_steps = np.zeros(0, np.int64)
        self.timeline_bar = TimelineBar()
        self.timeline_bar.moved.connect(self.go_to_moment)
        self.timeline_bar.continue_clicked.connect(self.continue_from_here)
        layout.addWidget(self.timeline_bar)

    def _timeline_frame(self, snap):
        """Every frame: follow the new kept moments; playing again (or a new run) returns to now."""
        if self.past is not None:
            if not snap.running:
                self._paused_seen = True  # training has stopped for the moment shown ...
            if (snap.running and self._paused_seen) or snap.generation != self.past[0]:
                self._leave_past()  # ... so running again means Play: back to now
        self._timeline_steps = self.controller.timeline_steps()
        self.timeline_bar.set_points(len(self._timeline_steps))
        if self.past is None:
            n = len(self._timeline_steps)
            self.timeline_bar.set_text(f"now: step {snap.step:,} · {n:,} moments kept")

    def go_to_moment(self, index: int):
        """Show kept moment ``index`` (``len(steps)``, or beyond: now)."""
        t0 = time.perf_counter()
        steps = self._timeline_steps
        snap = self.controller.latest
        if index >= len(steps) or snap is None:
            self._leave_past()
            return
        if self.past is None:
            self._paused_seen = not self.controller.running
        if self.controller.running:
            self.controller.pause()  # frames still running until the worker reads it: not a Play
        kept, theta = self.controller.theta_at(int(steps[max(0, int(index))]))
        theta.flags.writeable = False  # a copy made for us: shared read-only with the panels
        self.past = (snap.generation, kept, theta)
        self.timeline_bar.set_past(True)
        self.timeline_bar.set_text(f"step {kept:,} of {snap.step:,} (moment {index + 1:,} of {len(steps):,})")
        self._show_moment(snap)
        self.last_move_ms = (time.perf_counter() - t0) * 1000

    def _show_moment(self, snap):
        self._refresh_diagram(force=True)
        view = self._time_view(snap)
        for name in TIME_PANELS:
            if name in self.panels:
                self._call(self.panels[name], "on_snapshot", view)

    def _time_view(self, snap):
        """The snapshot the time panels get: the moment shown, or ``snap`` itself (now)."""
        p = self.past
        if p is None or p[0] != snap.generation:
            return snap
        return past_view(snap, p[1], p[2])

    def _past_theta(self, snap):
        """The theta the diagram shows: the moment's, or the snapshot's (now)."""
        p = self.past
        if p is None or snap is None or p[0] != snap.generation:
            return None if snap is None else snap.theta
        return p[2]

    def _leave_past(self):
        was = self.past is not None
        self.past = None
        self.timeline_bar.set_past(False)
        self.timeline_bar.set_index(self.timeline_bar.n_points, emit=False)
        snap = self.controller.latest
        if was and snap is not None:
            self._show_moment(snap)

    def continue_from_here(self):
        """Train on from the moment shown, as a new run (the worker's ``load``)."""
        if self.past is None:
            return
        kept = self.controller.continue_from(self.past[1])
        self.statusBar().showMessage(
            f"Continuing from the weights of step {kept:,} as a new run; the run before stays in the learning curves.",
            8000,
        )
        self._leave_past()

    # a replay of the timeline as a recording (File ▸ Record…)

    def _replay_input(self):
        """The digit every replayed moment answers: the one the diagram shows by choice, else the first
        test digit, else the training example shown now."""
        if self._user_input is not None:
            return self._user_input
        ds = getattr(self, "dataset", None)
        if ds is not None and len(ds.test_labels):
            x = np.array(ds.scaled("test")[0], np.float32).reshape(-1)
            x.flags.writeable = False
            return x, int(ds.test_labels[0])
        snap = self.controller.latest
        if snap is not None and snap.example is not None:
            return snap.example, snap.example_label
        x = np.zeros(784, np.float32)
        x.flags.writeable = False
        return x, -1

    def record_replay(self, path, target="diagram", fps=15.0, moments_per_s=None, duration_s=None, measure=0) -> bool:
        """Record a replay of the timeline of ``target`` ("diagram" or "window") into ``path`` (.gif/.mp4).

        The moments replayed are the kept ones, first to last, then the network of now if it is later
        (the worker keeps a moment only every so many steps); at ``moments_per_s`` moments a second or
        lasting ``duration_s`` seconds, at ``fps`` (see :func:`digitviz.core.replay.plan_replay`). Each
        shows :meth:`_replay_input` and the step and the accuracy known of it
        (:func:`digitviz.core.replay.caption`); with ``measure`` > 0, each moment's accuracy on the first
        ``measure`` test images is measured first, as a job (progress, Cancel). Returns whether it started
        (else one line in the alert)."""
        from digitviz.core import record, replay

        snap = self.controller.latest
        try:
            if snap is None:
                raise replay.ReplayError("the timeline is empty: train a few steps first")
            steps = self.controller.timeline_steps()
            live = len(steps) > 0 and snap.step > steps[-1]  # the network now, past the last kept moment
            if live:
                steps = np.append(steps, snap.step)
            plan = replay.plan_replay(steps, fps, moments_per_s=moments_per_s, duration_s=duration_s)
        except replay.ReplayError as e:
            self._error(f"Cannot record a replay: {e}")
            return False
        ds = getattr(self, "dataset", None)
        if measure and ds is not None and len(ds.test_labels):
            try:
                why = record.missing_for(record.format_of(path))
            except record.RecordError as e:
                why = str(e)
            if why or self._recorder().job is not None:
                self._error(f"Cannot record: {why or 'a recording is already running'}")
                return False
            return self._measure_then_replay(path, target, plan, live, snap, int(measure))
        return self._start_replay(path, target, plan, live, snap)

    def _measure_then_replay(self, path, target, plan, live, snap, n) -> bool:
        """Measure the accuracy of the moments of ``plan`` on ``n`` test images as a job, then replay."""
        from digitviz.core import replay
        from digitviz.core.network import Network

        from .jobs import JobRunner

        ds = self.dataset
        n = min(n, len(ds.test_labels))
        moments = []
        for k, _ in plan.runs():
            if live and k == len(plan.steps) - 1:
                moments.append((snap.step, snap.theta))
            else:
                kept, theta = self.controller.theta_at(int(plan.steps[k]))
                theta.flags.writeable = False
                moments.append((kept, theta))
        X = ds.scaled("test")[:n]
        X.flags.writeable = False
        labels = np.array(ds.test_labels[:n])
        runner = getattr(self, "_measure_jobs", None)
        if runner is None:
            runner = self._measure_jobs = JobRunner(self)
        dlg = progress_dialog(
            f"Measuring the test accuracy of {len(moments):,} moments on {n:,} test images…",
            "Recording a replay",
            len(moments),
            self,
        )
        self.measure_dialog = dlg

        def close():
            dlg.canceled.disconnect()
            dlg.close()
            dlg.deleteLater()
            self.measure_dialog = None

        def done(accs):
            close()
            measured = {s: float(a) for (s, _), a in zip(moments, accs, strict=True)}
            self._start_replay(path, target, plan, live, snap, measured, n)

        def failed(message):
            close()
            self._error(f"Recording: {(message.splitlines() or ['measuring failed'])[0]}")

        def cancelled():
            close()
            self.statusBar().showMessage("Replay cancelled; nothing was written", 6000)

        job = runner.submit(
            replay.measure_accuracies,
            Network.from_config(snap.config),
            tuple(t for _, t in moments),
            X,
            labels,
            channel="measure",
            on_progress=lambda counts: dlg.setValue(counts[-1]),
            on_done=done,
            on_failed=failed,
            on_cancelled=cancelled,
        )
        dlg.canceled.connect(job.cancel)
        return True

    def _start_replay(self, path, target, plan, live, snap, measured=None, sample=0) -> bool:
        from digitviz.core import replay

        x, label = self._replay_input()
        whole = target == "window"
        widget = self if whole else self.diagram
        generation = snap.generation
        saved: list = []

        def render(k: int) -> str:
            now = self.controller.latest
            if now is None or now.generation != generation:
                raise LookupError("the network was reset")
            if live and k == len(plan.steps) - 1:
                kept, theta = snap.step, snap.theta  # "now" when the replay started (read-only)
            else:
                kept, theta = self.controller.theta_at(int(plan.steps[k]))
                theta.flags.writeable = False
            if not saved:  # the first moment of a tick: what to put back, and the time panels on screen
                shown = [n for n in TIME_PANELS if whole and n in self.panels and self._dock_shown(n)]
                saved.append((self.past, self._user_input, self.timeline_bar.state(), shown))
            self.past = (generation, kept, theta)
            self._user_input = (x, label)
            if whole:
                steps = self._timeline_steps
                i = int(np.searchsorted(steps, kept))
                self.timeline_bar.set_index(i, emit=False)
                self.timeline_bar.set_past(True)
                self.timeline_bar.set_text(f"replay: step {kept:,} of {now.step:,}")
                self._refresh_diagram(force=True)
                # a replay is no pause; a panel following training shows the replay's digit too
                view = replace(past_view(now, kept, theta), running=now.running, example=x, example_label=label)
                for name in saved[0][3]:  # a panel behind another tab is not in the picture: left alone
                    self._call(self.panels[name], "on_snapshot", view)
            else:
                self._refresh_diagram(force=True)
            (note,) = replay.accuracy_notes([kept], [(r.step, r.test_acc) for r in now.epochs])
            if measured is not None and kept in measured:
                note = replace(note, accuracy=measured[kept], measured_at=kept, sample=sample)
            return replay.caption(kept, note)

        def restore() -> None:
            if not saved:
                return
            self.past, self._user_input, bar, shown = saved.pop()
            self._refresh_diagram(force=True)
            if whole:
                self.timeline_bar.set_state(bar)
                now = self.controller.latest
                if now is not None:
                    view = self._time_view(now)  # the time panels as they were (now, or the moment chosen)
                    for name in shown:
                        self._call(self.panels[name], "on_snapshot", view)

        why = self._recorder().start_replay(widget, path, plan, render, restore)
        if why:
            self._error(f"Cannot record: {why}")
            return False
        self.statusBar().showMessage(
            f"Recording a replay of {len(plan.steps):,} kept moments into {path}: "
            f"{plan.frames:,} frames, {plan.seconds:,.1f} s",
            8000,
        )
        return True
