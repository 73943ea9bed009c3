"""The lesson's last claims, on the user's own network: "ask it to draw" and "only centred digits".

Two tabs:

* **Ask it to draw**: gradient descent on the 784 pixels of an image, the network's weights fixed
  (:func:`digitviz.core.drawing.iter_draw`), from a blank image, noise or the current example. The image
  evolves live here and in the diagram (``input_changed``); when it ends it is sent to the input panel
  (``send_to_input``). Beside it: the outputs it reaches, the average training image of the digit, how
  sure the network is compared with real digits (:func:`digitviz.core.confidence.sure_as_share`), and
  what a second network (same settings, another seed, trained for one epoch in the background the first
  time) answers for the same image.
* **Robustness**: test accuracy of the current network with every test digit shifted by 0..8 pixels or
  rotated by 0..45 degrees (:mod:`digitviz.core.transforms`), as two curves; earlier runs (e.g. the
  same network trained on moved digits) stay overlaid.

Threads: all work goes through a :class:`digitviz.gui.jobs.JobRunner` with copies (the snapshot's read-only
theta, the dataset's read-only arrays); each job builds its own networks.

Imports: NumPy, PySide6, pyqtgraph, :mod:`digitviz.core` and :mod:`digitviz.gui`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from digitviz.core.confidence import sure_as_share
from digitviz.core.drawing import DrawStep, correlation, iter_draw, mean_digit_images
from digitviz.core.network import Network
from digitviz.core.training import Trainer
from digitviz.core.transforms import iter_rotation_curve, iter_shift_curve

from .. import colors
from ..fit import fit_label, fit_plot_text
from ..flow import flow_row
from ..jobs import JobRunner
from ..style import style_panel

SHIFTS = tuple(range(9))
ANGLES = tuple(range(0, 46, 5))
RUN_COLORS = ("#61afef", "#e5c07b", "#c678dd", "#98c379", "#e06c75")
MAX_RUNS = 5


def _network(config, theta) -> Network:
    net = Network(config.sizes, config.activation, config.cost, np.dtype(config.dtype), seed=None, init=None)
    net.set_theta(theta)
    return net


def _describe(config) -> str:
    moved = []
    if config.shift_px:
        moved.append(f"±{config.shift_px} px")
    if config.rotate_deg:
        moved.append(f"±{config.rotate_deg:g}°")
    return "trained on moved digits " + ", ".join(moved) if moved else "trained on centred digits"


def _image_box(title: str):
    """A square view box holding one 28x28 image item, with a title label above."""
    w = pg.GraphicsLayoutWidget()
    w.setMinimumSize(90, 130)
    w.ci.setContentsMargins(2, 2, 2, 2)
    label = w.addLabel(title, color=colors.FOREGROUND, size="9pt")
    w.nextRow()
    vb = w.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
    vb.sigResized.connect(lambda *_: fit_label(label, w.viewport().width()))  # the caption shrinks, then elides
    img = pg.ImageItem(np.zeros((28, 28)), levels=(0, 1))
    vb.addItem(img)
    vb.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)
    return w, img, label


@dataclass(frozen=True, eq=False)
class RobustnessRun:
    """One measurement: the curves and which network they belong to."""

    step: int
    generation: int
    config: object
    shift_acc: np.ndarray
    rotation_acc: np.ndarray

    @property
    def title(self) -> str:
        return f"step {self.step:,}, {_describe(self.config)}"


class _JobTab(QWidget):
    """A tab that runs one job at a time from its button: ``self.job`` while it runs, ``start()`` to begin."""

    job = None

    @property
    def running(self) -> bool:
        return self.job is not None

    def toggle(self):
        if self.job is not None:
            self.job.stop()
        else:
            self.start()

    def start(self) -> bool:  # pragma: no cover - each tab defines it
        raise NotImplementedError


class DrawTab(_JobTab):
    """Asks the network to draw a digit (see the module docstring)."""

    input_changed = Signal(object, int)
    send_to_input = Signal(object, int)
    drawing_finished = Signal(object)  # the last DrawStep
    ROW_PX = 420  # narrower than this (or taller than wide): two rows of views

    def _arrange_views(self, two_rows: bool):
        if two_rows == self._two_rows:
            return
        self._two_rows = two_rows
        g = self._views
        for v in (self.drawn_view, self.out_plot, self.mean_view):
            g.removeWidget(v)
        if two_rows:
            g.addWidget(self.drawn_view, 0, 0)
            g.addWidget(self.mean_view, 0, 1)
            g.addWidget(self.out_plot, 1, 0, 1, 2)
            stretch = {0: 1, 1: 1, 2: 0}
        else:
            for col, v in enumerate((self.drawn_view, self.out_plot, self.mean_view)):
                g.addWidget(v, 0, col)
            stretch = {0: 1, 1: 1, 2: 1}
        for col, st in stretch.items():
            g.setColumnStretch(col, st)
        g.setRowStretch(0, 1)  # the images are capped near square (resizeEvent): the outputs get the rest
        g.setRowStretch(1, 1 if two_rows else 0)

    def hasHeightForWidth(self):
        """No height-for-width: the dock's scroll area would then ask for the preferred height of every part
        (the outputs plot's is tall) and scroll, with the outputs' digits below the fold; the status line
        wraps within the height the tab gets."""
        return False

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # two rows in a narrow dock, and in a tall one (three tall thin columns would leave the images small
        # and the outputs' ten bars squeezed)
        two = self.width() < self.ROW_PX or self.height() > 0.8 * self.width()
        self._arrange_views(two)
        # two rows: each image about square (its caption above), the outputs take the rest of the height
        cap = self.width() // 2 + 24 if two else 16777215
        for v in (self.drawn_view, self.mean_view):
            if v.maximumHeight() != cap:
                v.setMaximumHeight(cap)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job = None
        self.jobs = JobRunner(self)
        self.data = None
        self._snap = None
        self._means = None
        self._digits_top = {}  # (generation, step) -> top outputs on the test digits
        self._second = {}  # generation -> (seed, theta) of the second network
        self.last: DrawStep | None = None
        self.second_answer: int | None = None
        self.input_image: np.ndarray | None = None  # the input panel's current image (its input_changed)
        self._build()
        self._update_enabled()

    def _build(self):
        self.digit = QComboBox()
        for k in range(10):
            self.digit.addItem(f"digit {k}", k)
        self.start_box = QComboBox()
        self.start_box.addItem("from a blank image", "blank")
        self.start_box.addItem("from noise", "noise")
        self.start_box.addItem("from the current example", "example")
        self.start_box.addItem("from the input panel's image", "input")
        self.start_box.setToolTip(
            "Where gradient descent on the pixels starts; the input panel's image is the "
            "digit, noise or drawing it shows now (moved, if you moved it)"
        )
        self.objective = QComboBox()
        self.objective.addItem("lowering the cost", "cost")
        self.objective.addItem("raising output k", "output")
        self.objective.setToolTip("Lower the lesson's cost against the one-hot target k, or simply raise output k")
        self.draw_button = QPushButton("Ask it to draw")
        self.draw_button.setObjectName("primary")
        self.draw_button.setToolTip(
            "300 steps of gradient descent on the 784 pixels (kept in [0, 1]); the network's weights do not change"
        )
        self.draw_button.clicked.connect(self.toggle)
        top = QVBoxLayout()  # one wrapping row: the controls take two lines in a narrow dock
        top.addWidget(flow_row(self.draw_button, self.digit, self.start_box, self.objective))

        self.drawn_view, self.drawn_img, self.drawn_title = _image_box("its drawing")
        self.mean_view, self.mean_img, self.mean_title = _image_box("average training image")
        self.out_plot = pg.PlotWidget()
        self.out_plot.setMenuEnabled(False)
        self.out_plot.setMouseEnabled(False, False)
        self.out_plot.hideButtons()
        self.out_plot.setTitle("its outputs", color=colors.FOREGROUND, size="9pt")
        self.out_plot.setYRange(0, 1, padding=0.02)
        self.out_plot.setXRange(-0.6, 9.9, padding=0)  # room right of the last bar for its "9"
        self.out_plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)], []])
        self.out_plot.setMinimumSize(100, 130)
        self.out_plot.getPlotItem().setContentsMargins(2, 2, 8, 2)  # room for the "9" under the last bar
        fit_plot_text(self.out_plot.getPlotItem())
        self.bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=pg.mkBrush(colors.POSITIVE), pen=pg.mkPen(None)
        )
        self.out_plot.addItem(self.bars)
        # three in a row when there is room; in a narrow dock the two images above, the outputs below at
        # the full width (ten bars and their digits need more than a third of a narrow dock)
        views = self._views = QGridLayout()
        self._two_rows = None
        self._arrange_views(False)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.RichText)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(views, 1)
        lay.addWidget(self.status)
        self.status.setText(
            "The lesson: the network “has no idea how to draw digits”. Ask it, and see what "
            "gradient descent on the pixels makes of it."
        )

    # panel contract (forwarded)

    def on_snapshot(self, snap):
        if self._snap is not None and snap.generation != self._snap.generation:
            self._second.clear()
        self._snap = snap
        self._update_enabled()

    def set_dataset(self, ds):
        self.data = ds
        self._means = None if ds is None else mean_digit_images(ds.scaled("train"), ds.train_labels)
        self._update_enabled()

    # drawing

    def start(self, k: int | None = None, start: str | None = None, steps: int = 300) -> bool:
        """Start drawing digit ``k`` (default: the chosen one) in a job; False if it cannot run."""
        if self.job is not None or self._snap is None:
            return False
        snap = self._snap
        k = self.digit.currentData() if k is None else int(k)
        start = start or self.start_box.currentData()
        if start == "example":
            start = None if snap.example is None else np.array(snap.example, np.float32)
            if start is None:
                start = "blank"
        elif start == "input":
            start = "blank" if self.input_image is None else self.input_image.copy()
        objective = self.objective.currentData()
        key = (snap.generation, snap.step)
        digits_top = self._digits_top.get(key)
        test_X = None if self.data is None else self.data.images_as("test")
        second = self._second.get(snap.generation)
        data = self.data
        self.last = None
        self.second_answer = None
        if self._means is not None:
            self.mean_img.setImage(self._means[k].reshape(28, 28), levels=(0, 1))
            self.mean_title.setText(f"average training {k}")
        self.drawn_title.setText(f"its drawing of {k}")

        def work(
            stop,
            snap=snap,
            k=k,
            start=start,
            objective=objective,
            steps=steps,
            digits_top=digits_top,
            test_X=test_X,
            second=second,
            data=data,
        ):
            net = _network(snap.config, snap.theta)
            rng = np.random.default_rng([snap.step, k])
            last = None
            for last in iter_draw(net, k, start, steps=steps, rng=rng, objective=objective, every=5, stop=stop):
                yield ("step", last)
            if digits_top is None and test_X is not None:
                digits_top = net.feedforward(test_X).max(axis=1).astype(np.float64)
                yield ("digits_top", (snap.generation, snap.step), digits_top)
            if stop() or data is None:
                return last
            if second is None:
                seed = snap.config.seed + 1
                tr = Trainer(data, replace(snap.config, seed=seed, shift_px=0, rotate_deg=0.0))
                tr.history.path_stride = 1 << 62
                n = tr.steps_per_epoch
                for i in range(n):
                    if stop():
                        return last
                    tr.step()
                    if i % 500 == 0:
                        yield ("training", i / n)
                second = (seed, tr.net.theta.copy())
                yield ("second", snap.generation, second)
            other = _network(snap.config, second[1])
            yield ("answer", second[0], int(other.predict(last.images)[0]))
            return last

        job = self.jobs.submit(
            work,
            channel="draw",
            on_progress=self._on_progress,
            on_failed=self._on_failed,
            on_finished=self._on_finished,
        )
        ref = weakref.ref(job)  # not the job itself: a connection holding its sender is a cycle
        job.done.connect(lambda last, ref=ref: self._on_done(last, ref().stopped))
        self.job = job
        self.status.setText(f"Drawing {k}…")
        self._update_enabled()
        return True

    def _on_progress(self, items):
        steps = [it[1] for it in items if it[0] == "step"]
        if steps:
            self._show_step(steps[-1])
            self.input_changed.emit(steps[-1].images[0].copy(), -1)
        for it in items:
            if it[0] == "digits_top":
                self._digits_top = {it[1]: it[2]}
            elif it[0] == "second":
                self._second[it[1]] = it[2]
            elif it[0] == "training":
                self.status.setText(
                    self._summary() + f" Training a second network (another seed) to compare: {it[1]:.0%}…"
                )
            elif it[0] == "answer":
                self.second_answer = it[2]
                self._second_seed = it[1]
        if self.last is not None:
            self.status.setText(self._summary())

    def _show_step(self, d: DrawStep):
        self.last = d
        self.drawn_img.setImage(d.images[0].reshape(28, 28), levels=(0, 1))
        out = d.outputs[0]
        brushes = [pg.mkBrush(colors.HIGHLIGHT if i == int(d.k[0]) else colors.POSITIVE) for i in range(10)]
        self.bars.setOpts(height=np.clip(out, 0, 1), brushes=brushes)

    def _summary(self) -> str:
        d = self.last
        if d is None:
            return ""
        k = int(d.k[0])
        out = d.outputs[0]
        s = f"After {d.step} steps: output {k} is <b>{out[k]:.2f}</b>, its top answer {int(out.argmax())}."
        top = self._digits_top.get((self._snap.generation, self._snap.step)) if self._snap else None
        if top is not None:
            s += f" As sure as for {sure_as_share(float(out.max()), top):.0%} of real test digits."
        if self._means is not None:
            s += f" Correlation with the average training {k}: {correlation(d.images[0], self._means[k])[0]:.2f}."
        if self.second_answer is not None:
            s += f" A second network (seed {self._second_seed}, one epoch) calls it <b>{self.second_answer}</b>."
        return s

    def _on_done(self, last, stopped):
        if last is not None:
            self._show_step(last)
            self.send_to_input.emit(last.images[0].copy(), -1)
            self.drawing_finished.emit(last)
        self.status.setText(self._summary() + (" (stopped)" if stopped else ""))

    def _on_failed(self, message):
        self.status.setText(f"Drawing failed: {message.splitlines()[0]}")

    def _on_finished(self):
        self.job = None
        self._update_enabled()

    def _update_enabled(self):
        self.draw_button.setEnabled(self._snap is not None)
        self.draw_button.setText("Stop" if self.job is not None else "Ask it to draw")

    def shutdown(self):
        self.jobs.shutdown()


class RobustnessTab(_JobTab):
    """Accuracy on moved test digits, as two curves (see the module docstring)."""

    measured = Signal(object)  # a RobustnessRun

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job = None
        self.jobs = JobRunner(self)
        self.data = None
        self._snap = None
        self.runs: list[RobustnessRun] = []
        self._partial = None
        self._build()
        self._update_enabled()

    def _build(self):
        self.button = QPushButton("Measure robustness")
        self.button.setObjectName("primary")
        self.button.setToolTip(
            "Test accuracy of the current network with every test digit shifted by 0-8 pixels "
            "(random direction, fixed seed) and rotated by 0-45 degrees"
        )
        self.button.clicked.connect(self.toggle)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        top = QHBoxLayout()
        top.addWidget(self.button)
        top.addWidget(self.clear_button)
        top.addStretch(1)
        self.shift_plot = self._plot("Accuracy on shifted test digits", "shift (pixels)")
        self.rot_plot = self._plot("Accuracy on rotated test digits", "rotation (degrees)")
        self.shift_plot.setXRange(0, 8, padding=0.03)
        self.rot_plot.setXRange(0, 45, padding=0.03)
        self.shift_items, self.rot_items = [], []
        for i in range(MAX_RUNS + 1):
            color = RUN_COLORS[i % len(RUN_COLORS)]
            for plot, items in ((self.shift_plot, self.shift_items), (self.rot_plot, self.rot_items)):
                item = pg.PlotDataItem(
                    pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None
                )
                plot.addItem(item)
                items.append(item)
        plots = QHBoxLayout()
        plots.addWidget(self.shift_plot, 1)
        plots.addWidget(self.rot_plot, 1)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setWordWrap(True)
        self.status = QLabel(
            "The lesson: it only ever saw centred, unmoving digits. Measure how it copes with "
            "moved ones; train with “moved digits” (digitviz train --shift-px 3) and measure "
            "again: both runs stay on the plots."
        )
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(plots, 1)
        lay.addWidget(self.legend)
        lay.addWidget(self.status)

    @staticmethod
    def _plot(title, bottom):
        w = pg.PlotWidget()
        w.setMenuEnabled(False)
        w.setMouseEnabled(False, False)
        w.hideButtons()
        w.setTitle(title, color=colors.FOREGROUND, size="9pt")
        w.setLabel("bottom", bottom, color=colors.MUTED)
        w.setLabel("left", "test accuracy", color=colors.MUTED)
        w.setYRange(0, 1, padding=0.02)
        w.showGrid(x=True, y=True, alpha=0.12)
        w.setMinimumSize(120, 150)
        fit_plot_text(w.getPlotItem())
        return w

    def on_snapshot(self, snap):
        self._snap = snap
        self._update_enabled()

    def set_dataset(self, ds):
        self.data = ds
        self._update_enabled()

    def start(self, n_test: int | None = None) -> bool:
        """Measure the latest snapshot's network in a job (``n_test`` limits the test digits, for tests)."""
        if self.job is not None or self._snap is None or self.data is None:
            return False
        snap = self._snap
        X = self.data.images_as("test", np.dtype(snap.config.dtype))
        y = np.asarray(self.data.test_labels)
        if n_test is not None:
            X, y = X[:n_test], y[:n_test]
        self._partial = {"shift": [], "rotation": [], "snap": snap}

        def work(stop, snap=snap, X=X, y=y):
            net = _network(snap.config, snap.theta)
            shift = []
            for s, acc in iter_shift_curve(net, X, y, SHIFTS, seed=0, stop=stop):
                shift.append(acc)
                yield ("shift", s, acc)
            rot = []
            for a, acc in iter_rotation_curve(net, X, y, ANGLES, seed=0, stop=stop):
                rot.append(acc)
                yield ("rotation", a, acc)
            if len(shift) < len(SHIFTS) or len(rot) < len(ANGLES):
                return None
            return RobustnessRun(snap.step, snap.generation, snap.config, np.array(shift), np.array(rot))

        job = self.jobs.submit(
            work,
            channel="robustness",
            on_progress=self._on_progress,
            on_finished=self._on_finished,
            on_failed=lambda m: self.status.setText(f"Measuring failed: {m.splitlines()[0]}"),
        )
        ref = weakref.ref(job)
        job.done.connect(lambda run, ref=ref: self._on_done(run, ref().stopped))
        self.job = job
        self.status.setText(f"Measuring step {snap.step:,} on {len(y):,} test digits…")
        self._update_enabled()
        return True

    def _on_progress(self, items):
        for kind, _, acc in items:
            self._partial[kind].append(acc)
        i = len(self.runs)
        s, r = self._partial["shift"], self._partial["rotation"]
        self.shift_items[i].setData(SHIFTS[: len(s)], s)
        self.rot_items[i].setData(ANGLES[: len(r)], r)

    def _on_done(self, run, stopped):
        if run is None:
            self.status.setText("Stopped.")
            self._redraw()
            return
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]
        self._redraw()
        at = dict(zip(SHIFTS, run.shift_acc))
        self.status.setText(
            f"Centred {at[0]:.1%}; shifted 3 px {at[3]:.1%}, 4 px {at[4]:.1%}; rotated 30° "
            f"{run.rotation_acc[ANGLES.index(30)]:.1%}."
        )
        self.measured.emit(run)

    def _on_finished(self):
        self.job = None
        self._update_enabled()

    def _redraw(self):
        parts = []
        for i in range(MAX_RUNS + 1):
            run = self.runs[i] if i < len(self.runs) else None
            self.shift_items[i].setData([] if run is None else SHIFTS, [] if run is None else run.shift_acc)
            self.rot_items[i].setData([] if run is None else ANGLES, [] if run is None else run.rotation_acc)
            if run is not None:
                parts.append(f"<span style='color:{RUN_COLORS[i % len(RUN_COLORS)]}'>━ {run.title}</span>")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def clear(self):
        self.runs.clear()
        self._redraw()

    def _update_enabled(self):
        self.button.setEnabled(self._snap is not None and self.data is not None)
        self.button.setText("Stop" if self.job is not None else "Measure robustness")

    def shutdown(self):
        self.jobs.shutdown()


class ClaimsPanel(QWidget):
    """Dock panel: the "Ask it to draw" and "Robustness" tabs. Follows the panel contract."""

    input_changed = Signal(object, int)
    send_to_input = Signal(object, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        style_panel(self)
        self.draw = DrawTab()
        self.robustness = RobustnessTab()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.draw, "Ask it to draw")
        self.tabs.addTab(self.robustness, "Robustness")
        self.draw.input_changed.connect(self.input_changed)
        self.draw.send_to_input.connect(self.send_to_input)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)

    def on_snapshot(self, snap):
        self.draw.on_snapshot(snap)
        self.robustness.on_snapshot(snap)

    def set_input_image(self, x, label=-1):
        """The input panel's current image (wired from its ``input_changed``): a start for drawing."""
        self.draw.input_image = None if x is None else np.clip(np.asarray(x, np.float32).reshape(-1), 0, 1)

    def show_tab(self, tab: str):
        """``"draw"`` or ``"robustness"`` in front (the app driver's ``raise_panel(name, tab)``)."""
        self.tabs.setCurrentWidget(self.robustness if tab == "robustness" else self.draw)

    def ask_to_draw(self, k: int = 3, start: str | None = None) -> bool:
        """Start drawing digit ``k`` (the tour's hook): from the input panel's image when there is one."""
        self.show_tab("draw")
        if self.draw.running:
            return True
        start = start or ("input" if self.draw.input_image is not None else "noise")
        self.draw.digit.setCurrentIndex(int(k))
        self.draw.start_box.setCurrentIndex(self.draw.start_box.findData(start))
        return self.draw.start(int(k), start)

    def measure_robustness(self) -> bool:
        """Measure the robustness curves of the latest network, unless they are being measured."""
        return self.robustness.running or self.robustness.start()

    def set_dataset(self, ds):
        self.draw.set_dataset(ds)
        self.robustness.set_dataset(ds)

    def shutdown(self):
        self.draw.shutdown()
        self.robustness.shutdown()
