"""File ▸ Record…: frames of the diagram (or the whole window) while training, encoded as a job.

On the GUI thread, every ``every`` steps of training (seen through the controller's ``frame`` signal),
:class:`Recorder` grabs the widget (``QWidget.grab``, a few ms), paints the step and the test accuracy
into the corner, copies the pixels into a NumPy array and puts it on a queue. A job on the recorder's
own :class:`~digitviz.gui.jobs.JobRunner` runs :func:`digitviz.core.record.encode_stream`, which encodes
the frames as they come, so memory stays bounded (at most :data:`BACKLOG` frames wait; a frame that would
exceed it is skipped and counted). Stopping puts the end mark on the queue and shows a progress dialog with
Cancel while the encoder drains it; cancelling removes the partial file.

A **replay** of the run's timeline (:meth:`Recorder.start_replay`) is rendered frame by frame on a
zero-interval timer on the GUI thread, so the window stays live: each tick asks the window to show a
kept moment (``render``), grabs it and burns in the caption, for a few moments (:data:`TICK_BUDGET_S`),
then asks the window to put back what it showed (``restore``), so the screen, the user's clicks and the
training state never see the replayed moments. The frames
of :class:`~digitviz.core.replay.ReplayPlan` go to the same encoding job; a held moment is rendered once
and queued as many frames as it is held. The renderer waits while :data:`BACKLOG` frames are queued: a
replay never drops a frame. One progress dialog with Cancel covers rendering and encoding.

:class:`RecordDialog` is File ▸ Record…: live training or a replay, diagram or window, GIF or MP4, and
the speed.

Imports: PySide6, NumPy, :mod:`digitviz.core.record` and :mod:`digitviz.core.replay`.
"""

from __future__ import annotations

import math
import queue
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from digitviz.core import record, replay

from .banners import progress_dialog
from .jobs import JobRunner

BACKLOG = 240  # frames waiting for the encoder at most (1280x800: 3 MB each)
TICK_BUDGET_S = 0.15  # a replay shows and grabs moments for this long a tick, then puts the window back
# (one repaint of the window a tick instead of one a moment; the GUI answers within about this long)
MAX_GRABS_PER_S = 20  # a grab of the 1280x800 window costs ~27 ms of the GUI thread: at most 20 a second
# (at full training speed, frames are then further apart than ``every`` steps)


def burn_in(image: QImage, text: str) -> QImage:
    """``image`` as RGB888 with ``text`` painted in a dark box at its bottom-left corner."""
    out = image.convertToFormat(QImage.Format_RGB888)
    p = QPainter(out)
    try:
        font = QFont()
        font.setPixelSize(max(12, out.height() // 40))
        font.setBold(True)
        p.setFont(font)
        fm = p.fontMetrics()
        pad = fm.height() // 3
        w, h = fm.horizontalAdvance(text) + 2 * pad, fm.height() + pad
        box = QRectF(pad, out.height() - h - pad, w, h)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(box, pad, pad)
        p.setPen(QColor("#f0f0f0"))
        p.drawText(box, Qt.AlignCenter, text)
    finally:
        p.end()
    return out


def to_array(image: QImage) -> np.ndarray:
    """An RGB888 QImage's pixels as a new ``(H, W, 3)`` uint8 array (a copy: safe to hand to a thread)."""
    image = image.convertToFormat(QImage.Format_RGB888)
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return raw[:, : 3 * w].reshape(h, w, 3).copy()


def caption(snap) -> str:
    acc = "—" if math.isnan(snap.test_acc) else f"{snap.test_acc:.1%}"
    return f"step {snap.step:,}  ·  epoch {snap.epoch}  ·  test accuracy {acc}"


class Recorder(QObject):
    """One recording at a time of ``widget`` while ``controller`` trains.

    Signals: ``finished(str)`` the path written, ``failed(str)`` a one-line message, ``state(bool)``
    recording or not.
    """

    finished = Signal(str)
    failed = Signal(str)
    state = Signal(bool)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.jobs = JobRunner(self)
        self.widget: QWidget | None = None
        self.job = None
        self.frames: queue.Queue | None = None
        self.every = 10
        self.queued = 0
        self.written = 0
        self.skipped = 0
        self._next_step = 0
        self._last_grab = -1e9
        self._started = float("inf")
        self.dialog: QProgressDialog | None = None
        self.path: Path | None = None
        self._replay: _Replay | None = None
        self._timer: QTimer | None = None
        self._fail_message = ""
        self.last_replay: _Replay | None = None  # the last replay ended (its captions, for a look back)
        self.last_result: record.RecordResult | None = None  # of the last file written

    @property
    def recording(self) -> bool:
        """Recording live training (a replay is :attr:`replaying`)."""
        return self.frames is not None and self._replay is None

    def start(self, widget: QWidget, path, every: int = 10, fps: float = 15.0) -> str | None:
        """Start recording; returns None, or a one-line reason it cannot (missing MP4 extra, bad name)."""
        if self.recording or self.job is not None:
            return "a recording is already running"
        try:
            why = record.missing_for(record.format_of(path))
        except record.RecordError as e:
            return str(e)
        if why:
            return why
        self.widget, self.every, self.path = widget, max(1, int(every)), Path(path)
        self.frames = queue.Queue()
        self.queued = self.written = self.skipped = 0
        self._next_step = -1
        self._last_grab = -1e9
        self._started = time.time()
        self.job = self.jobs.submit(
            record.encode_stream,
            self.frames,
            str(path),
            float(fps),
            channel="record",
            on_progress=self._on_progress,
            on_done=self._on_done,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
        )
        self.controller.frame.connect(self.on_frame)
        self.state.emit(True)
        latest = self.controller.latest
        if latest is not None:
            self.on_frame(latest)  # the first frame: where the recording starts
        return None

    # replay of the timeline

    @property
    def replaying(self) -> bool:
        return self._replay is not None

    def start_replay(self, widget: QWidget, path, plan, render, restore) -> str | None:
        """Record a replay of ``plan`` (a :class:`~digitviz.core.replay.ReplayPlan`) of ``widget`` into ``path``.

        ``render(k)`` makes ``widget`` show kept moment ``k`` (an index into ``plan.steps``) and returns
        the caption to burn in; ``restore()`` puts back what the widget showed before the first
        ``render`` since the last ``restore``. Both run on the GUI thread: a tick renders and grabs one
        moment or a few, then restores once (also when ``render`` fails). Returns None, or a one-line
        reason it cannot start.
        """
        if self.recording or self.job is not None:
            return "a recording is already running"
        try:
            why = record.missing_for(record.format_of(path))
        except record.RecordError as e:
            return str(e)
        if why:
            return why
        self.widget, self.path = widget, Path(path)
        self.frames = queue.Queue()
        self.queued = self.written = self.skipped = 0
        self._started = time.time()
        self._replay = _Replay(plan, plan.runs(), render, restore)
        self.job = self.jobs.submit(
            record.encode_stream,
            self.frames,
            str(path),
            float(plan.fps),
            channel="record",
            on_progress=self._on_progress,
            on_done=self._on_done,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
        )
        self.dialog = progress_dialog(
            f"Replaying into {self.path.name}…",
            "Recording a replay",
            plan.frames,
            widget.window(),
            on_cancel=self.cancel,
        )
        self._timer = QTimer(self)
        self._timer.setInterval(0)  # one moment a tick: the event loop runs between them
        self._timer.timeout.connect(self._replay_tick)
        self._timer.start()
        return None

    def _replay_tick(self) -> None:
        """Show, grab and queue moments for up to :data:`TICK_BUDGET_S`, then put the window back once."""
        r = self._replay
        if r is None or self.frames is None or self.widget is None:
            return
        if self.job is None or self.job.stopped:  # cancelled, or every job stopped (the window is closing)
            self._stop_timer()
            self.frames = None
            return
        if self.queued - self.written >= BACKLOG:
            self._timer.setInterval(20)  # the encoder is behind: wait for it, drop nothing
            return
        self._timer.setInterval(0)
        t0 = time.perf_counter()
        first = r.done
        try:
            while r.done < len(r.runs) and self.queued - self.written < BACKLOG:
                k, count = r.runs[r.done]
                text = r.render(k)
                frame = to_array(burn_in(self.widget.grab().toImage(), text))
                r.captions.append(text)
                for _ in range(count):
                    self.frames.put(frame)  # the same read-only pixels: the encoder only reads them
                self.queued += count
                r.done += 1
                r.max_backlog = max(r.max_backlog, self.queued - self.written)
                elapsed = time.perf_counter() - t0
                if elapsed + elapsed / (r.done - first) > TICK_BUDGET_S:
                    break  # one more moment (as long as the mean so far) would pass the tick's budget
        except LookupError as e:  # the run was reset, its timeline is gone
            self._replay_failed(f"the timeline changed during the replay ({e}); nothing was written")
            return
        finally:
            r.restore()  # between ticks the window is as it was: events, clicks and live frames see it so
            r.tick_s.append(time.perf_counter() - t0)
        self._replay_label()
        if r.done == len(r.runs):
            self._stop_timer()
            self.frames.put(record.END)
            self.frames = None

    def _replay_label(self) -> None:
        r = self._replay
        if self.dialog is None or r is None or self.path is None:
            return
        self.dialog.setValue(min(self.written, self.dialog.maximum()))
        self.dialog.setLabelText(
            f"Replaying into {self.path.name}: moment {r.done:,} of {len(r.runs):,} shown, "
            f"frame {self.written:,} of {r.plan.frames:,} encoded"
        )

    def _stop_timer(self) -> None:
        t = getattr(self, "_timer", None)
        if t is not None:
            t.stop()
            t.deleteLater()
            self._timer = None

    def _replay_failed(self, message: str) -> None:
        self._stop_timer()
        self.frames = None
        self._fail_message = message
        if self.job is not None:
            self.job.cancel()

    def on_frame(self, snap) -> None:
        """From the controller's frame timer: grab a frame when ``every`` more steps have passed."""
        if self.frames is None or self.widget is None or snap.step < self._next_step:
            return
        now = time.perf_counter()
        if now - self._last_grab < 1.0 / MAX_GRABS_PER_S:
            return
        self._last_grab = now
        self._next_step = snap.step + self.every
        self.grab(snap)

    def grab(self, snap) -> None:
        if self.frames is None or self.widget is None:
            return
        if self.queued - self.written >= BACKLOG:
            self.skipped += 1  # the encoder is behind: memory stays bounded
            return
        frame = to_array(burn_in(self.widget.grab().toImage(), caption(snap)))
        self.frames.put(frame)
        self.queued += 1

    def stop(self) -> None:
        """End the recording: the encoder writes what is queued (progress dialog, Cancel)."""
        if not self.recording or self.frames is None:
            return
        try:
            self.controller.frame.disconnect(self.on_frame)
        except (RuntimeError, TypeError):
            pass
        self.frames.put(record.END)
        self.frames = None
        self.state.emit(False)
        parent = self.widget.window() if self.widget is not None else None
        if self.job is not None and not self.job.stopped and self.written < self.queued:
            self.dialog = progress_dialog(
                f"Encoding {self.path.name}…", "Recording", self.queued, parent, self.written, self.cancel
            )

    def cancel(self) -> None:
        """Stop recording (or replaying) and discard the file (the encoder sees the cancel before any end mark)."""
        if self._replay is not None:
            self._stop_timer()  # no moment is shown after this: the window is as it was
            self.frames = None
        if self.job is not None:
            self.job.cancel()
        if self.frames is not None:
            self.stop()

    def _on_progress(self, counts) -> None:
        self.written = counts[-1]
        if self._replay is not None:
            self._replay_label()
        elif self.dialog is not None:
            self.dialog.setValue(self.written)
            self.dialog.setLabelText(f"Encoding {self.path.name}… frame {self.written:,} of {self.queued:,}")

    def _end(self):
        self.job = None
        self._stop_timer()
        if self._replay is not None:
            self.last_replay = self._replay
            self._replay = None
            self.frames = None
        if self.frames is not None:
            self.frames = None
            try:
                self.controller.frame.disconnect(self.on_frame)
            except (RuntimeError, TypeError):
                pass
            self.state.emit(False)
        if self.dialog is not None:
            self.dialog.canceled.disconnect()
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _on_done(self, result) -> None:
        self.last_result = result
        self._end()
        self.finished.emit(str(result.path))

    def _on_failed(self, message) -> None:
        self._end()
        line = (message.splitlines() or ["encoding failed"])[0]
        self.failed.emit(line.removeprefix("RecordError: "))

    def _on_cancelled(self) -> None:
        self._end()
        try:  # the cancel came after the file was complete and in place: it is there, say so
            written = self.path.stat().st_mtime >= self._started
        except OSError:
            written = False
        message, self._fail_message = self._fail_message, ""
        if written and not message:
            self.finished.emit(str(self.path))
        else:
            self.failed.emit(message or "recording cancelled; nothing was written")

    def shutdown(self) -> None:
        self.cancel()
        self.jobs.shutdown()


class _Replay:
    """The state of one replay being rendered."""

    def __init__(self, plan, runs, render, restore):
        self.plan, self.runs, self.render, self.restore = plan, runs, render, restore
        self.done = 0  # moments rendered
        self.captions: list[str] = []  # burned in, one per moment rendered
        self.tick_s: list[float] = []  # GUI-thread time of each tick (show and grab moments, put back)
        self.max_backlog = 0  # most frames waiting for the encoder at once


@dataclass(frozen=True)
class RecordChoice:
    """What File ▸ Record… was asked for."""

    replay: bool  # a replay of the timeline (else live training)
    target: str  # "diagram" or "window"
    fmt: str  # "gif" or "mp4"
    every: int  # live: one frame every so many steps
    fps: float
    moments_per_s: float | None  # replay: its speed, one of the two
    duration_s: float | None
    measure: int = 0  # replay: measure each moment's accuracy on so many test images first (0: no)


class RecordDialog(QDialog):
    """File ▸ Record…: live training or a replay of the timeline, the diagram or the window, GIF or MP4,
    how often (live) or how fast (replay); a line says how long the replay will be."""

    def __init__(self, parent, steps, mp4_missing: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Record")
        self.steps = steps
        form = QFormLayout(self)
        self.source = QComboBox()
        self.source.addItems(["Live training", f"A replay of the timeline ({len(steps):,} kept moments)"])
        if not len(steps):
            self.source.model().item(1).setEnabled(False)
        self.source.setToolTip(
            "A replay plays the run's kept moments (the timeline under the diagram) from the first to now, "
            "each on the same test digit; training can go on meanwhile"
        )
        self.what = QComboBox()
        self.what.addItems(["The diagram", "The whole window"])
        self.fmt = QComboBox()
        self.fmt.addItems(["Animated GIF", "MP4 video"])
        if mp4_missing:
            self.fmt.model().item(1).setEnabled(False)
        self.every = QSpinBox()
        self.every.setRange(1, 100_000)
        self.every.setValue(10)
        self.every.setSuffix(" steps")
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(15)
        self.fps.setSuffix(" frames/s")
        self.pace = QComboBox()
        self.pace.addItems(["kept moments a second", "seconds in all"])
        self.speed = QDoubleSpinBox()
        self.speed.setDecimals(1)
        self.speed.setRange(0.1, 1000.0)
        self.speed.setValue(15.0)
        self.measure = QSpinBox()
        self.measure.setRange(0, 10_000)
        self.measure.setSingleStep(500)
        self.measure.setValue(0)
        self.measure.setSpecialValueText("no: the accuracy measured at each epoch's end")
        self.measure.setSuffix(" test images")
        self.measure.setToolTip(
            "Measure each replayed moment's test accuracy on this many test images first (a forward pass "
            "each, off the GUI thread); else a moment shows the accuracy last measured at an epoch's end"
        )
        self.summary = QLabel()
        form.addRow("Record", self.source)
        form.addRow("Of", self.what)
        form.addRow("As", self.fmt)
        if mp4_missing:
            form.addRow("", QLabel(mp4_missing))
        form.addRow("One frame every", self.every)
        form.addRow("Replay speed", self.speed)
        form.addRow("", self.pace)
        form.addRow("Measure accuracy on", self.measure)
        form.addRow("Playback", self.fps)
        form.addRow("", self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._form = form
        self.source.currentIndexChanged.connect(self._update)
        self.pace.currentIndexChanged.connect(self._pace_changed)
        self.speed.valueChanged.connect(self._update)
        self.fps.valueChanged.connect(self._update)
        self._update()

    def _pace_changed(self, i):
        self.speed.setValue(15.0 if i == 0 else 30.0)
        self._update()

    def _speeds(self) -> tuple[float | None, float | None]:
        v = float(self.speed.value())
        return (v, None) if self.pace.currentIndex() == 0 else (None, v)

    def _update(self, *_):
        is_replay = self.source.currentIndex() == 1
        for w, live in ((self.every, True), (self.speed, False), (self.pace, False), (self.measure, False)):
            w.setEnabled(live != is_replay)
        ok = True
        if is_replay:
            rate, seconds = self._speeds()
            try:
                plan = replay.plan_replay(self.steps, float(self.fps.value()), moments_per_s=rate, duration_s=seconds)
                self.summary.setText(
                    f"{len(self.steps):,} kept moments → {plan.frames:,} frames, {plan.seconds:,.1f} s of video"
                )
            except replay.ReplayError as e:
                self.summary.setText(str(e))
                ok = False
        else:
            self.summary.setText("")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(ok)

    def choice(self) -> RecordChoice:
        rate, seconds = self._speeds()
        return RecordChoice(
            replay=self.source.currentIndex() == 1,
            target="window" if self.what.currentIndex() == 1 else "diagram",
            fmt="mp4" if self.fmt.currentIndex() == 1 else "gif",
            every=int(self.every.value()),
            fps=float(self.fps.value()),
            moments_per_s=rate,
            duration_s=seconds,
            measure=int(self.measure.value()),
        )
