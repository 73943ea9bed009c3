"""Tab "Mistakes": where the network goes wrong on the test set.

A confusion matrix of the test set (rows: the true digit, columns: the network's answer; click a
cell to see the digits in it), the accuracy per digit, and a gallery of misclassified test digits,
the most confident mistakes first, with the network's answer and the true label. Clicking a digit
emits ``send_to_input(image (784,), true label)`` so the input panel can show it.

The evaluation runs on a background thread from the latest snapshot's copy of theta; while the tab
is visible it follows training, at most about once a second.

Imports: NumPy, PySide6, pyqtgraph, digitviz.core.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import datasets
from digitviz.core import experiments as ex
from digitviz.core.network import Network
from digitviz.core.training import evaluate

from ...colors import BACKGROUND, HIGHLIGHT, TRUTH
from .common import FOREGROUND, NEGATIVE, POSITIVE, SHORT, DockTab, digit_icon, note, style_plot

GALLERY_MAX = 300  # thumbnails shown at once
GALLERY_CHUNK = 50  # thumbnails added per event-loop turn
FOLLOW_INTERVAL = 1.0  # seconds between automatic evaluations while training runs
ICON = 56


@dataclass(frozen=True)
class MistakesResult:
    """An evaluation of one snapshot on the test set (built on the worker thread)."""

    step: int
    generation: int
    evaluation: object  # digitviz.core.training.Evaluation
    outputs: np.ndarray  # (M, 10)


def _evaluate(stop, config, theta, X, labels, step, generation):
    ev = evaluate(Network.from_config(config, theta), X, labels)
    return MistakesResult(step, generation, ev, ev.outputs)


def _mix(c, t):
    """Blend the background towards colour ``c`` by ``t`` in [0, 1] (arrays ok)."""
    bg = np.array(pg.mkColor(BACKGROUND).getRgb()[:3], np.float64)
    fg = np.array(pg.mkColor(c).getRgb()[:3], np.float64)
    t = np.clip(np.asarray(t, np.float64), 0, 1)[..., None]
    return bg + (fg - bg) * t


def confusion_rgba(confusion) -> np.ndarray:
    """Cell colours: the diagonal green by the share answered right, the rest orange by
    ``sqrt(count / largest off-diagonal count)``, so that rare confusions still show."""
    cm = np.asarray(confusion, np.float64)
    k = cm.shape[0]
    totals = np.maximum(cm.sum(axis=1, keepdims=True), 1)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    top = off.max() if off.max() > 0 else 1.0
    rgb = _mix(NEGATIVE, 0.08 + 0.92 * np.sqrt(off / top) * (off > 0))
    rgb[off == 0] = _mix(BACKGROUND, 0)[None, :]
    diag = np.diag(cm) / totals[:, 0]
    rgb[np.arange(k), np.arange(k)] = _mix(TRUTH, 0.25 + 0.55 * diag)
    out = np.empty((k, k, 4), np.uint8)
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = 255
    return out


class MistakesTab(DockTab):
    """Confusion matrix, per-digit accuracy and a gallery of mistakes.

    Signals
    -------
    send_to_input(object, int)
        ``(image (784,) float32 in [0, 1], true label)`` of a clicked digit.
    evaluated(MistakesResult)
        A new evaluation is on screen.

    Attributes
    ----------
    result : MistakesResult or None
    selected_cell : tuple of (int, int) or None
        ``(true, answer)`` of the clicked cell; None while the gallery shows all mistakes.
    gallery_indices : ndarray
        Test-set indices of the digits in the gallery, in order.
    """

    send_to_input = Signal(object, int)
    evaluated = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = None
        self._X = self._labels = None
        self.latest = None
        self.result: MistakesResult | None = None
        self.job = None  # the running background Job, if any
        self.selected_cell = None
        self.gallery_indices = np.zeros(0, np.intp)
        self._last_request = -1e9
        self._pending = False
        self._fill_token = 0
        # the trailing edge of following: a snapshot that came too soon is evaluated when the interval
        # is up, so the last one of a run (an epoch's end) is never left out
        self._trailing = QTimer(self)
        self._trailing.setSingleShot(True)
        self._trailing.timeout.connect(self._maybe_refresh)

        self.follow = QCheckBox("Follow training")
        self.follow.setChecked(True)
        self.follow.setToolTip("Re-evaluate the test set about once a second while this tab is visible")
        self.refresh_button = QPushButton("Evaluate now")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.follow)
        top.addWidget(self.refresh_button)

        # confusion matrix
        self.cm_widget = pg.PlotWidget()
        p = self.cm_plot = self.cm_widget.getPlotItem()
        style_plot(p, "Confusion matrix of the test set (click a cell)", "true digit", "network's answer")
        p.showGrid(x=False, y=False)
        p.setMouseEnabled(False, False)
        p.getViewBox().invertY(True)
        p.setAspectLocked(True)
        ticks = [[(i + 0.5, str(i)) for i in range(10)]]
        p.getAxis("bottom").setTicks(ticks)
        p.getAxis("left").setTicks(ticks)
        self.cm_image = pg.ImageItem(axisOrder="row-major")
        self.cm_image.setRect(QRectF(0, 0, 10, 10))
        p.addItem(self.cm_image)
        self.cm_text = []
        for t in range(10):
            row = []
            for a in range(10):
                ti = pg.TextItem("", color=FOREGROUND, anchor=(0.5, 0.5))
                ti.setPos(a + 0.5, t + 0.5)
                p.addItem(ti)
                row.append(ti)
            self.cm_text.append(row)
        self.cm_select = QGraphicsRectItem(0, 0, 1, 1)
        pen = pg.mkPen(HIGHLIGHT, width=2.5)
        pen.setCosmetic(True)
        self.cm_select.setPen(pen)
        self.cm_select.hide()
        p.addItem(self.cm_select)
        p.setRange(xRange=(0, 10), yRange=(0, 10), padding=0.01)
        self.cm_widget.scene().sigMouseClicked.connect(self._on_scene_click)
        p.vb.sigResized.connect(lambda *_: self._fit_texts())

        # per-class accuracy
        self.acc_widget = pg.PlotWidget()
        a = self.acc_plot = self.acc_widget.getPlotItem()
        style_plot(a, "Accuracy per digit", "share right", "true digit")
        a.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        a.setMouseEnabled(False, False)
        self.acc_bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush=POSITIVE, pen=None)
        a.addItem(self.acc_bars)
        self.acc_text = []
        for _ in range(10):
            ti = pg.TextItem("", color=FOREGROUND, anchor=(0.5, 1.0))
            a.addItem(ti)
            self.acc_text.append(ti)
        a.setXRange(-0.6, 9.6, padding=0)
        a.setYRange(0, 1.05, padding=0)
        a.vb.sigResized.connect(lambda *_: self._fit_texts())

        # gallery
        self.gallery_title = QLabel("")
        self.gallery_title.setWordWrap(True)
        self.all_button = QPushButton("All mistakes")
        self.all_button.setToolTip("Back to every misclassified test digit, most confident first")
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setIconSize(QSize(ICON, ICON))
        self.gallery.setGridSize(QSize(ICON + 40, ICON + 30))
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setMovement(QListView.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setWordWrap(True)
        self.gallery.setSpacing(2)
        self.gallery.setStyleSheet(f"QListWidget {{ background: {BACKGROUND}; }}")
        self.gallery.itemClicked.connect(self._on_gallery_click)
        gtop = QHBoxLayout()
        gtop.addWidget(self.gallery_title, 1)
        gtop.addWidget(self.all_button)
        gal = QWidget()
        gl = QVBoxLayout(gal)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addLayout(gtop)
        gl.addWidget(self.gallery, 1)
        gl.addWidget(note("Click a digit to show it in the input panel, with its true label."))

        self.cm_widget.setMinimumSize(130, 130)
        self.acc_widget.setMinimumSize(130, 90)
        self.gallery.setMinimumHeight(ICON + 34)
        # confusion matrix above the accuracies in a tall tab, beside them in a short one
        self.left = QSplitter(Qt.Vertical)
        self.left.addWidget(self.cm_widget)
        self.left.addWidget(self.acc_widget)
        self.left.setSizes([520, 220])
        self.split = QSplitter(Qt.Horizontal)
        self.split.addWidget(self.left)
        self.split.addWidget(gal)
        self.split.setSizes([520, 700])

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.split, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.all_button.clicked.connect(self.show_all_mistakes)
        self._update_status()

    def _show_gallery_title(self):
        """The whole title in a tall tab; in a short one its bold part and its count (the rest as tooltip), so
        that it fits the narrow gallery column beside the button."""
        full = getattr(self, "_gallery_title", "")
        head, sep, rest = full.partition("</b>")
        count = re.search(r"\(([\d,]+)\)|(\d[\d,]*) test image", rest)
        short_text = head + sep + (f" ({count.group(1) or count.group(2)})" if count else "")
        short = getattr(self, "_short_gallery", False) and sep
        self.gallery_title.setText(short_text if short else full)
        self.gallery_title.setToolTip(re.sub(r"<[^>]+>", "", full) if short else "")

    def resizeEvent(self, ev):
        short = ev.size().height() < SHORT
        if short != getattr(self, "_short_gallery", None):
            self._short_gallery = short
            self._show_gallery_title()
        orient = Qt.Horizontal if short else Qt.Vertical
        if self.left.orientation() != orient:
            self.left.setOrientation(orient)
            w = max(1, self.split.width())
            if short:  # square matrix, accuracies, gallery
                self.left.setSizes([3, 2])
                self.split.setSizes([w * 3 // 5, w * 2 // 5])
            else:
                self.left.setSizes([520, 220])
                self.split.setSizes([520, 700])
            # a short title (the counts' font follows the cells' size: _fit_texts)
            self.cm_plot.setTitle(
                "Confusion matrix (click a cell)" if short else "Confusion matrix of the test set (click a cell)",
                color=FOREGROUND,
                size="10pt",
            )
        super().resizeEvent(ev)

    # contract (forwarded by the panel)

    def set_dataset(self, ds):
        self.data = ds
        self._set_class_names(ds)
        if ds is None:
            self._X = self._labels = None
        else:
            self._X = ds.images_as("test")
            self._labels = np.asarray(ds.test_labels, np.intp)
        self.result = None
        self._update_status()
        self._maybe_refresh(force=True)

    def on_snapshot(self, snap):
        self.latest = snap
        self._maybe_refresh()

    def showEvent(self, event):
        super().showEvent(event)
        self._maybe_refresh()

    # evaluation

    @property
    def stale(self) -> bool:
        s, r = self.latest, self.result
        return s is not None and (r is None or r.step != s.step or r.generation != s.generation)

    def refresh(self):
        """Evaluate the latest snapshot now (in the background)."""
        if self.latest is None or self._X is None:
            return
        if self.job is not None:
            self._pending = True
            return
        s = self.latest
        self._last_request = time.perf_counter()
        self._pending = False
        self.start_job(
            lambda stop, s=s, X=self._X, y=self._labels: _evaluate(stop, s.config, s.theta, X, y, s.step, s.generation)
        )

    def _maybe_refresh(self, force=False):
        if not self.stale or self._X is None:
            return
        if self.result is None or force:
            self.refresh()
        elif self.follow.isChecked() and self.isVisible():
            wait = FOLLOW_INTERVAL - (time.perf_counter() - self._last_request)
            if wait <= 0 or not self.latest.running:
                self.refresh()  # training stopped (an epoch ended, Pause): its final weights at once
            elif not self._trailing.isActive():
                self._trailing.start(max(1, int(wait * 1000)))

    def _on_done(self, result, _stopped):
        if result is None or self._labels is None or len(result.outputs) != len(self._labels):
            return
        self.result = result
        self._draw()
        self.evaluated.emit(result)

    def _on_job_finished(self):
        self.job = None
        if self._pending:
            self.refresh()

    def _on_failed(self, message):
        self.status.setText(f"Evaluation failed: {message.splitlines()[0]}")

    # drawing

    def _update_status(self):
        if self.data is None:
            self.status.setText("Load MNIST to see where the network goes wrong.")
        elif self.result is None:
            self.status.setText(
                "Evaluating the test set\u2026" if self.latest is not None else "Waiting for the network\u2026"
            )

    def _draw(self):
        r = self.result
        ev = r.evaluation
        cm = ev.confusion
        n, right = int(cm.sum()), int(np.trace(cm))
        self.status.setText(
            f"<b>Test set, {n:,} digits</b>, network at step {r.step:,}: {right:,} right ({ev.accuracy:.2%}), "
            f"<b>{n - right:,} mistakes</b>. Rows: the true digit; columns: the network's answer."
        )
        self.cm_image.setImage(confusion_rgba(cm), levels=None, autoLevels=False)
        self.cm_image.setRect(QRectF(0, 0, 10, 10))
        for t in range(10):
            for a in range(10):
                c = int(cm[t, a])
                self.cm_text[t][a].setText(str(c) if c else "")
                self.cm_text[t][a].setColor(FOREGROUND if t != a else "#0d0f12")
        pc = np.nan_to_num(ev.per_class, nan=0.0)
        worst = int(np.argmin(pc))
        brushes = [pg.mkBrush(NEGATIVE if i == worst else POSITIVE) for i in range(10)]
        self.acc_bars.setOpts(height=pc, brushes=brushes)
        self._acc_lo = max(0.0, float(pc.min()) - 0.08)
        for i, ti in enumerate(self.acc_text):
            ti.setText(f"{pc[i]:.0%}" if pc[i] < 0.995 else f"{pc[i]:.1%}")
            ti.setPos(i, pc[i])
        self._fit_texts()
        if self.selected_cell is None:
            self.show_all_mistakes()
        else:
            self.select_cell(*self.selected_cell)

    def _fit_texts(self):
        """Counts and percentages sized to their cells (never wider than a cell: "1135" never becomes "11:");
        hidden when even a small font would not fit; head room above the bars for their labels."""
        if not hasattr(self, "acc_text"):
            return  # still building
        for texts, vb, cells_x, cells_y in (
            (sum(self.cm_text, []), self.cm_plot.vb, 10.0, 10.0),
            (self.acc_text, self.acc_plot.vb, 10.2, None),
        ):
            w, h = vb.width(), vb.height()
            if w <= 0 or h <= 0:
                continue
            n = max((len(t.textItem.toPlainText()) for t in texts), default=1) or 1
            cell_w = w / cells_x
            px = min(13.0, cell_w / (0.6 * n + 0.3))
            if cells_y is not None:
                px = min(px, 0.7 * h / cells_y)
            font = QFont()
            font.setPixelSize(max(1, int(px)))
            for t in texts:
                t.setFont(font)
                t.setVisible(px >= 6)  # the colours still tell; the tooltip and a click give the numbers
        lo = getattr(self, "_acc_lo", 0.0)
        text_px = self.acc_text[0].textItem.font().pixelSize()
        frac = min(0.45, 1.6 * (text_px if text_px > 0 else 12) / max(1.0, self.acc_plot.vb.height()))
        self.acc_plot.setYRange(lo, (1.0 - frac * lo) / (1.0 - frac), padding=0)  # room for the labels of 100%

    def _on_scene_click(self, event):
        if self.result is None:
            return
        vb = self.cm_plot.getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        a, t = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= a < 10 and 0 <= t < 10:
            self.select_cell(t, a)
            event.accept()

    def cell_center_scene(self, true: int, answer: int):
        """Scene position of a cell's centre (for tests and tooling)."""
        return self.cm_plot.getViewBox().mapViewToScene(pg.Point(answer + 0.5, true + 0.5))

    def _set_class_names(self, ds):
        """Axis ticks and gallery text in the dataset's class names (core.datasets)."""
        self.names = datasets.class_names(ds)
        short = datasets.short_names(ds)
        ticks = [[(i + 0.5, n) for i, n in enumerate(short)]]
        self.cm_plot.getAxis("bottom").setTicks(ticks)
        self.cm_plot.getAxis("left").setTicks(ticks)
        self.acc_plot.getAxis("bottom").setTicks([list(enumerate(short))])

    def _name(self, k: int) -> str:
        names = getattr(self, "names", None)
        return str(k) if names is None else names[k]

    def select_cell(self, true: int, answer: int):
        """Show the test digits of confusion cell ``[true, answer]`` in the gallery."""
        self.selected_cell = (int(true), int(answer))
        self.cm_select.setRect(answer, true, 1, 1)
        self.cm_select.show()
        if self.result is None:
            return
        idx = ex.confusion_examples(self.result.evaluation, self._labels, true, answer)
        what = "right" if true == answer else "mistaken"
        self._fill_gallery(
            idx,
            f"<b>True {self._name(true)}, answered {self._name(answer)}</b>: "
            f"{len(idx):,} test image"
            f"{'s' * (len(idx) != 1)} ({what})",
        )

    def show_all_mistakes(self):
        self.selected_cell = None
        self.cm_select.hide()
        if self.result is None:
            return
        idx = ex.mistakes(self.result.evaluation, self._labels, self.result.outputs)
        self._fill_gallery(idx, f"<b>Misclassified test digits</b>, the most confident mistakes first ({len(idx):,})")

    def _fill_gallery(self, idx, title):
        """Show test digits ``idx``; thumbnails are added in chunks, one per event-loop turn, so the
        GUI never stalls for long (see :attr:`gallery_complete`)."""
        self.gallery_indices = np.asarray(idx[:GALLERY_MAX])
        shown = f"; showing the first {GALLERY_MAX}" if len(idx) > GALLERY_MAX else ""
        self._gallery_title = title + shown
        self._show_gallery_title()
        self.gallery.clear()
        self._fill_token += 1
        self._fill_chunk(self._fill_token, 0)

    @property
    def gallery_complete(self) -> bool:
        return self.gallery.count() == len(self.gallery_indices)

    def _fill_chunk(self, token, start):
        if token != self._fill_token or self.result is None:
            return  # a newer fill has started
        pred = self.result.evaluation.predictions
        out = self.result.outputs
        stop = min(start + GALLERY_CHUNK, len(self.gallery_indices))
        for i in self.gallery_indices[start:stop]:
            t, a = int(self._labels[i]), int(pred[i])
            item = QListWidgetItem(digit_icon(self._X[i], ICON), f"is {self._name(t)} \u00b7 said {self._name(a)}")
            item.setData(Qt.UserRole, int(i))
            item.setForeground(pg.mkColor(TRUTH if t == a else FOREGROUND))
            item.setToolTip(
                f"Test image #{i}: true label {self._name(t)}, the network answered {self._name(a)} "
                f"(output {out[i, a]:.2f}). Click: show it in the input panel."
            )
            self.gallery.addItem(item)
        if stop < len(self.gallery_indices):
            QTimer.singleShot(0, lambda: self._fill_chunk(token, stop))

    def _on_gallery_click(self, item):
        i = int(item.data(Qt.UserRole))
        x = np.array(self._X[i], np.float32)  # a copy: the input panel may keep it
        self.send_to_input.emit(x, int(self._labels[i]))
