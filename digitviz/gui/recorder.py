"""File ▸ Record…: frames of the diagram (or the whole window) while training, encoded as a job.

On the GUI thread, every ``every`` steps of training (seen through the controller's ``frame`` signal),
:class:`Recorder` grabs the widget (``QWidget.grab``, a few ms), paints the step and the test accuracy
into the corner, copies the pixels into a NumPy array and puts it on a queue. A job on the recorder's
own :class:`~digitviz.gui.jobs.JobRunner` runs :func:`digitviz.core.record.encode_stream`, which encodes
the frames as they come, so memory stays bounded (at most :data:`BACKLOG` frames wait; a frame that would
exceed it is skipped and counted). Stopping puts the end mark on the queue and shows a progress dialog with
Cancel while the encoder drains it; cancelling removes the partial file.

Imports: PySide6, NumPy and :mod:`digitviz.core.record`.
"""

from __future__ import annotations

import math
import queue
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QProgressDialog, QWidget

from digitviz.core import record

from .jobs import JobRunner

BACKLOG = 240  # frames waiting for the encoder at most (1280x800: 3 MB each)
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

    @property
    def recording(self) -> bool:
        return self.frames is not None

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
        if self.frames is None:
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
            dlg = QProgressDialog(f"Encoding {self.path.name}…", "Cancel", 0, max(1, self.queued), parent)
            dlg.setWindowTitle("Recording")
            dlg.setMinimumDuration(0)
            dlg.setAutoClose(False)
            dlg.setAutoReset(False)
            dlg.setValue(self.written)
            dlg.canceled.connect(self.cancel)
            self.dialog = dlg
            dlg.show()

    def cancel(self) -> None:
        """Stop recording and discard the file (the encoder sees the cancel before any end mark)."""
        if self.job is not None:
            self.job.cancel()
        if self.frames is not None:
            self.stop()

    def _on_progress(self, counts) -> None:
        self.written = counts[-1]
        if self.dialog is not None:
            self.dialog.setValue(self.written)
            self.dialog.setLabelText(f"Encoding {self.path.name}… frame {self.written:,} of {self.queued:,}")

    def _end(self):
        self.job = None
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
        if written:
            self.finished.emit(str(self.path))
        else:
            self.failed.emit("recording cancelled; nothing was written")

    def shutdown(self) -> None:
        self.cancel()
        self.jobs.shutdown()
