"""The overconfidence probe panel: how sure is the network about noise, compared with real digits?

One button feeds 1,000 noise images and 1,000 test digits through the current network
(:func:`digitviz.core.probe.probe`, off the GUI thread) and shows, side by side, the histograms of
the top output for both, the share above 0.9, and which digits the noise is taken for. The
previous run (or a pinned one) stays on screen, so after training with "Teach it to doubt" the
same probe -- same seed, same noise, same test digits -- shows the difference, together with
the test accuracy each network had: the cost of doubting.

Threads: the probe is a job (:mod:`digitviz.gui.jobs`) that gets copies only (the snapshot's
read-only theta, the read-only test set) and builds its own Network; its result comes back by a
queued signal. No widget is touched off the GUI thread.

Imports: NumPy, PySide6, pyqtgraph, :mod:`digitviz.core` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import datasets
from digitviz.core.confidence import sure_as_text
from digitviz.core.network import Network
from digitviz.core.probe import ProbeResult, probe

from .. import colors, shortcuts
from ..fit import fit_plot_text
from ..flow import flow_row
from ..jobs import JobRunner
from ..style import ERROR, style_panel, text_style

N_BINS = 20
NOW_NOISE = colors.NEGATIVE  # orange: noise
NOW_DIGITS = colors.POSITIVE  # blue: real digits
BEFORE = "#9aa0ab"


@dataclass(frozen=True, eq=False)
class ProbeRun:
    """One probe of one network: the result and what the network was.

    Attributes
    ----------
    result : ProbeResult
    step, epoch, generation : int
        Of the snapshot probed.
    config : TrainConfig
    seconds : float
        Wall time of the probe in the worker thread.
    """

    result: ProbeResult
    step: int
    epoch: int
    generation: int
    config: object
    seconds: float

    @property
    def title(self) -> str:
        return f"step {self.step:,} · doubt {self.config.doubt:.0%}"


def _probe_work(_control, snap, test_X, test_labels, seed, n, kind, threshold) -> ProbeRun:
    """On a job thread: :func:`probe` of the snapshot's network (built here from its read-only theta)."""
    t0 = time.perf_counter()
    cfg = snap.config
    net = Network.from_config(cfg, snap.theta)
    res = probe(net, test_X, test_labels, np.random.default_rng(seed), n, kind, threshold)
    return ProbeRun(res, snap.step, snap.epoch, snap.generation, cfg, time.perf_counter() - t0)


def _plot(title):
    w = pg.PlotWidget()
    w.setMenuEnabled(False)
    w.setMouseEnabled(False, False)
    w.hideButtons()
    w.setTitle(title, color=colors.FOREGROUND, size="10pt")
    w.setMinimumSize(90, 150)  # the panel decides the columns by its width (ProbePanel.PLOT_MIN_WIDTH)
    w.getPlotItem().setContentsMargins(2, 2, 6, 2)
    w.getAxis("left").enableAutoSIPrefix(False)
    fit_plot_text(w.getPlotItem())
    return w


def _big(color, pt, bold=True):
    lab = QLabel("–")
    lab.setStyleSheet(text_style(color, pt, bold))
    lab.setAlignment(Qt.AlignCenter)
    return lab


def _pct(v):
    return "–" if v is None else f"{v:.1%}"


class ProbePanel(QWidget):
    """Feeds noise and test digits through the current network and compares its confidence on both.

    Follows the panel contract of docs/architecture.md.

    Parameters
    ----------
    seed : int
        Seed of every probe (the same noise images and test digits each time, so two runs differ
        only by the network).
    n : int
        Noise images and test digits per probe.
    threshold : float
        "Confident" means a top output above this.

    Signals
    -------
    probe_finished(object)
        A :class:`ProbeRun`, after it is shown.

    Attributes
    ----------
    current, before : ProbeRun or None
        The latest run and the one it is compared with (the previous run, or the pinned one).
    pinned : bool
    """

    probe_finished = Signal(object)

    def __init__(self, seed: int = 0, n: int = 1000, threshold: float = 0.9, parent=None):
        super().__init__(parent)
        self.seed = seed
        self.n = n
        self.threshold = threshold
        self.current: ProbeRun | None = None
        self.before: ProbeRun | None = None
        self.pinned = False
        self._snap = None
        self._test_X = None
        self._test_labels = None
        self._job = None
        self._hint = ""
        self.jobs = JobRunner(self)
        style_panel(self)
        self._build()
        self._update_enabled()
        self._show()

    # construction

    def _build(self):
        self.probe_button = QPushButton("Probe overconfidence")
        self.probe_button.setObjectName("primary")
        self.probe_button.setToolTip(
            f"Feed {self.n:,} noise images and {self.n:,} test digits through the "
            "current network and compare how sure it is of each (P)"
        )
        self.probe_button.clicked.connect(self.probe_now)
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("uniform noise", "uniform")
        self.kind_combo.addItem("Gaussian noise", "gaussian")
        self.kind_combo.setToolTip(
            "Uniform: every pixel uniform in [0, 1], as in the lesson. Gaussian: mean 0.5, sd 0.25, clipped to [0, 1]."
        )
        self.pin_button = QPushButton("Pin as “before”")
        self.pin_button.setCheckable(True)
        self.pin_button.setToolTip(
            "Keep the current run as the one later runs are compared with (e.g. "
            "before training with “Teach it to doubt”). Unpinned: compare with the "
            "previous run."
        )
        self.pin_button.toggled.connect(self._on_pin)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet(f"color: {colors.MUTED};")
        self.status_label.setWordWrap(True)
        top = QVBoxLayout()
        top.addWidget(flow_row(self.probe_button, self.kind_combo, self.pin_button))  # wraps when narrow
        top.addWidget(self.status_label)

        # the big numbers: rows now / before, columns noise > t, digits > t, test accuracy
        nums = QGridLayout()
        nums.setHorizontalSpacing(14)
        nums.setVerticalSpacing(0)
        heads = (f"noise answered > {self.threshold:g}", f"test digits > {self.threshold:g}", "test accuracy")
        tips = (
            "Share of noise images whose top output is above the threshold: confident answers to "
            "images that are not digits.",
            "Share of real test digits answered with a top output above the threshold.",
            "Accuracy on all 10,000 test digits: what doubting costs, if anything.",
        )
        for j, (h, tip) in enumerate(zip(heads, tips)):
            lab = QLabel(h)
            lab.setWordWrap(True)
            lab.setAlignment(Qt.AlignCenter)
            lab.setStyleSheet(f"color: {colors.MUTED};")
            lab.setToolTip(tip)
            nums.addWidget(lab, 0, j + 1)
        self.now_title = QLabel("now")
        self.before_title = QLabel("before")
        self.before_title.setStyleSheet(f"color: {BEFORE};")
        for t in (self.now_title, self.before_title):
            t.setWordWrap(True)
            t.setMinimumWidth(48)
        nums.addWidget(self.now_title, 1, 0)
        nums.addWidget(self.before_title, 2, 0)
        self.now_values = [_big(c, 24) for c in (NOW_NOISE, NOW_DIGITS, colors.FOREGROUND)]
        self.before_values = [_big(BEFORE, 14, bold=False) for _ in range(3)]
        for j, (a, b) in enumerate(zip(self.now_values, self.before_values)):
            nums.addWidget(a, 1, j + 1)
            nums.addWidget(b, 2, j + 1)
        nums.setColumnStretch(1, 1)
        nums.setColumnStretch(2, 1)
        nums.setColumnStretch(3, 1)

        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)

        # histograms of the top output, side by side
        self.noise_plot = _plot("Noise images: top output")
        self.digits_plot = _plot("Test digits: top output")
        self.curves = {}
        for key, plot, color in (("noise", self.noise_plot, NOW_NOISE), ("digits", self.digits_plot, NOW_DIGITS)):
            plot.setXRange(0, 1, padding=0.02)
            plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0)], []])
            plot.setLabel("left", "share of images")
            fill = pg.mkColor(color)
            fill.setAlpha(150)
            before = pg.PlotDataItem(stepMode="center", pen=pg.mkPen(BEFORE, width=1.5, style=Qt.DashLine))
            now = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(color, width=1.5))
            plot.addItem(now)
            plot.addItem(before)
            line = pg.InfiniteLine(
                self.threshold,
                angle=90,
                pen=pg.mkPen(colors.HIGHLIGHT, width=1, style=Qt.DashLine),
                label=f"{self.threshold:g}",
                labelOpts=dict(position=0.93, color=colors.HIGHLIGHT, anchors=[(1, 0), (1, 0)]),
            )
            plot.addItem(line)
            self.curves[key] = (now, before)

        # which digits the noise is taken for
        self.answers_plot = _plot("Noise taken for digit…")
        self.answers_plot.setLabel("left", "share of noise")
        ax = self.answers_plot.getPlotItem().getAxis("bottom")
        ax.setTicks([[(i, str(i)) for i in range(10)], []])
        self.answers_plot.setXRange(-0.6, 9.6, padding=0)
        x = np.arange(10)
        nb = pg.mkColor(NOW_NOISE)
        nb.setAlpha(210)
        self.answers_now = pg.BarGraphItem(x=x - 0.19, height=np.zeros(10), width=0.38, brush=nb, pen=pg.mkPen(None))
        self.answers_before = pg.BarGraphItem(
            x=x + 0.19, height=np.zeros(10), width=0.38, brush=pg.mkBrush(BEFORE + "80"), pen=pg.mkPen(None)
        )
        self.answers_plot.addItem(self.answers_now)
        self.answers_plot.addItem(self.answers_before)

        self.legend_label = QLabel("")
        self.legend_label.setTextFormat(Qt.RichText)

        # the three plots side by side when there is room, else two and one, else one column
        plots = self.plots_grid = QGridLayout()
        plots.setSpacing(6)
        self._plot_cols = 0
        self._place_plots(3)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addLayout(nums)
        lay.addWidget(self.legend_label)
        lay.addLayout(plots, 1)
        lay.addWidget(self.summary_label)

        self.shortcut_actions = shortcuts.install(self, "probe")  # P: window-wide in the main window

    PLOT_MIN_WIDTH = 200  # below this a histogram's title and ticks no longer fit: fewer columns

    def _place_plots(self, cols: int):
        if cols == self._plot_cols:
            return
        self._plot_cols = cols
        plots = (self.noise_plot, self.digits_plot, self.answers_plot)
        for w in plots:
            self.plots_grid.removeWidget(w)
        for k, w in enumerate(plots):
            self.plots_grid.addWidget(w, k // cols, k % cols)
        for c in range(3):
            self.plots_grid.setColumnStretch(c, 1 if c < cols else 0)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_plots(max(1, min(3, (event.size().width() - 12) // self.PLOT_MIN_WIDTH)))

    # panel contract

    def on_snapshot(self, snap):
        """Remember the latest snapshot (O(1)); the probe runs only when asked."""
        self._snap = snap
        self._update_enabled()

    def set_dataset(self, ds):
        info = datasets.of(ds) if ds is not None else datasets.MNIST
        self.answers_plot.getPlotItem().getAxis("bottom").setTicks([list(enumerate(info.short_names)), []])
        self.answers_plot.setTitle(
            "Noise taken for digit…" if info.digits else "Noise taken for class…", color=colors.FOREGROUND, size="10pt"
        )
        if ds is None:
            self._test_X = self._test_labels = None
        else:
            self._test_X = ds.images_as("test", np.float32)
            self._test_labels = np.asarray(ds.test_labels, np.intp)
        self._update_enabled()

    # probing

    @property
    def running(self) -> bool:
        return self._job is not None

    def probe_now(self) -> bool:
        """Start a probe of the latest snapshot's network as a job; False if it cannot run."""
        if self.running or self._snap is None or self._test_X is None:
            return False
        self._job = self.jobs.submit(
            _probe_work,
            self._snap,
            self._test_X,
            self._test_labels,
            self.seed,
            self.n,
            self.kind_combo.currentData(),
            self.threshold,
            channel="probe",
            on_done=self._on_done,
            on_failed=self._on_failed,
        )
        if self._job is None:  # shut down
            return False
        ref = weakref.ref(self._job)  # not the job itself: a connection holding its sender is a cycle
        self._job.finished.connect(lambda ref=ref: self._on_finished(ref()))
        self.status_label.setText(f"probing step {self._snap.step:,}…")
        self._update_enabled()
        return True

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no probe job is running (for closing and scripts)."""
        return self.jobs.wait(timeout)

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Cancel the probe and stop for good (the window is closing)."""
        return self.jobs.shutdown(timeout)

    def _on_finished(self, job):
        if job is self._job:  # ended without a result (cancelled)
            self._job = None
            self._update_enabled()

    def _on_done(self, run):
        self._job = None
        if self.current is not None and not self.pinned:
            self.before = self.current  # "last two runs"; when pinned, the pinned run stays "before"
        self.current = run
        self.status_label.setText(f"probed in {run.seconds * 1000:.0f} ms (seed {self.seed}, {run.result.kind} noise)")
        self._update_enabled()
        self._show()
        self.probe_finished.emit(run)

    def _on_failed(self, message):
        self._job = None
        self.status_label.setText(f"<span style='color:{ERROR}'>probe failed: {message.splitlines()[0]}</span>")
        self._update_enabled()

    def _on_pin(self, on):
        self.pinned = bool(on)
        if on and self.current is not None:
            self.before = self.current
        self._show()

    def clear_results(self):
        self.current = self.before = None
        self.pin_button.setChecked(False)
        self._show()

    # display

    def _update_enabled(self):
        ready = self._snap is not None and self._test_X is not None
        self.probe_button.setEnabled(ready and not self.running)
        self.pin_button.setEnabled(self.current is not None)
        if not ready and not self.running:
            self._hint = (
                "needs a network and the MNIST test digits" if self._test_X is None else "waiting for a network"
            )
            self.status_label.setText(self._hint)
        elif ready and self._hint and self.status_label.text() == self._hint:
            self.status_label.setText("")  # the "needs ..." hint no longer applies

    def _show(self):
        cur, bef = self.current, self.before
        if bef is cur:
            bef = None
        edges = np.linspace(0, 1, N_BINS + 1)
        for key in ("noise", "digits"):
            now_item, before_item = self.curves[key]
            for run, item in ((cur, now_item), (bef, before_item)):
                if run is None:
                    item.setData([], [])
                    continue
                top = run.result.noise_top if key == "noise" else run.result.digits_top
                counts, _ = np.histogram(np.clip(top, 0, 1), bins=edges)
                item.setData(edges, counts / max(len(top), 1))
        for run, bars in ((cur, self.answers_now), (bef, self.answers_before)):
            h = np.zeros(10) if run is None else run.result.noise_answers / max(run.result.noise_answers.sum(), 1)
            bars.setOpts(height=h)

        def fill(labels, run):
            vals = (
                (None, None, None)
                if run is None
                else (run.result.noise_confident_share, run.result.digits_confident_share, run.result.test_acc)
            )
            for lab, v in zip(labels, vals):
                lab.setText(_pct(v))

        fill(self.now_values, cur)
        fill(self.before_values, bef)
        self.now_title.setText("now" if cur is None else f"now\n{cur.title}")
        self.before_title.setText(("pinned" if self.pinned else "before") + ("" if bef is None else f"\n{bef.title}"))
        self.legend_label.setText(self._legend(cur, bef))
        self.summary_label.setText(self._summary(cur, bef))

    def _legend(self, cur, bef):
        if cur is None:
            return f"<span style='color:{colors.MUTED}'>Press “Probe overconfidence” (P).</span>"
        parts = [f"<span style='color:{NOW_NOISE}'>■</span><span style='color:{NOW_DIGITS}'>■</span> now"]
        if bef is not None:
            parts.append(f"<span style='color:{BEFORE}'>┅ {'pinned' if self.pinned else 'before'}</span>")
        parts.append(f"<span style='color:{colors.HIGHLIGHT}'>┆ threshold {self.threshold:g}</span>")
        return "&nbsp;&nbsp;&nbsp;".join(parts)

    def _summary(self, cur, bef):
        if cur is None:
            return (
                f"The lesson's point: a network trained only on digits still answers a noise image, often "
                f"as confidently as a real digit. The probe feeds {self.n:,} noise images and {self.n:,} test "
                "digits through the current network and compares."
            )
        r = cur.result
        fav = int(r.noise_answers.argmax())
        fav_share = r.noise_answers[fav] / max(r.noise_answers.sum(), 1)
        med = float(np.median(r.noise_top))
        s = (
            f"Every noise image still gets an answer, {fav_share:.0%} of them “{fav}”; "
            f"{r.noise_confident_share:.0%} get a top output above {r.threshold:g} "
            f"(real digits: {r.digits_confident_share:.0%}). Median top output on noise: {med:.2f}, "
            f"{sure_as_text(med, r.digits_top)}."
        )
        if cur.config.cost != "cross_entropy":
            s += " Sigmoid outputs are separate yes/no answers, not probabilities."
        if bef is not None:
            b = bef.result
            s += (
                f" Compared with {('the pinned run' if self.pinned else 'before')}: confident on noise "
                f"{b.noise_confident_share:.0%} → {r.noise_confident_share:.0%}, test accuracy "
                f"{b.test_acc:.1%} → {r.test_acc:.1%}."
            )
        return s
