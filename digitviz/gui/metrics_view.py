"""Live learning curves: cost per step (raw and smoothed), accuracy per epoch, gradient norm.

Per-step records arrive in batches with every snapshot (``new_steps``/``new_costs``/``new_grad_norms``)
and are appended to preallocated arrays that double when full. Past ``MAX_POINTS`` points, pairs are
averaged and the stride doubles, so memory and drawing time stay bounded however long a run is.
Drawing reuses the same items (``setData`` only), decimated to about one min/max pair per pixel
column, at most ``DRAW_HZ`` times a second while training: curves need not move at the diagram's rate.

Imports: PySide6, pyqtgraph and NumPy.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from digitviz.core.training import PRESET_TARGETS

from .settings_panel import preset_of

MAX_POINTS = 1 << 18
DRAW_HZ = 3  # while training; curves need no more, and every redraw holds the GIL the worker needs
EMA_ALPHA = 0.01  # smoothing of the cost curve: about the last 100 steps
COST_PEN = pg.mkPen("#5aa9e6", width=1)
RAW_PEN = pg.mkPen((90, 169, 230, 40), width=1)
TEST_COLOR, TRAIN_COLOR = "#f0b429", "#8fbf73"
GRAD_PEN = pg.mkPen("#c678dd", width=1)
GRAD_RAW_PEN = pg.mkPen((198, 120, 221, 30), width=1)


def _nice_ceil(v: float) -> float:
    """The smallest "round" number >= v, from 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k (ranges change rarely)."""
    if not v > 0 or not math.isfinite(v):
        return 1.0
    e = 10.0 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def peak_decimate(x, y, n):
    """At most ~``2 n`` points that keep every bucket's minimum and maximum (the noise band stays visible).

    Drawing 260,000 points costs far more than computing this; one bucket per pixel column looks the same.
    """
    k = len(x) // n
    if k < 2:
        return x, y
    m = k * (len(x) // k)
    yb = y[:m].reshape(-1, k)
    xs = np.repeat(x[:m:k], 2)
    ys = np.column_stack([yb.min(axis=1), yb.max(axis=1)]).ravel()
    return np.concatenate([xs, x[m:]]), np.concatenate([ys, y[m:]])


def subsample(x, y, n):
    """Every k-th point of a smooth curve (at most ~``n``), and the last one."""
    k = len(x) // n
    if k < 2:
        return x, y
    return np.append(x[::k], x[-1]), np.append(y[::k], y[-1])


def _ema(values, start):
    """Exponential moving average of ``values`` continuing from ``start`` (NaN: start at the first value)."""
    out = np.empty_like(values)
    e, a = start, EMA_ALPHA
    for i, v in enumerate(values.tolist()):
        e = v if e != e else e + a * (v - e)  # e != e: NaN, the very first step
        out[i] = e
    return out, e


class Series:
    """Growable ``(x, y...)`` columns: preallocated, doubling when full, pair-averaged past a cap.

    Parameters
    ----------
    columns : int
        Number of y columns.
    capacity : int
        Initial allocation.
    max_points : int
        Beyond this many points, pairs are averaged (stride doubles).
    """

    def __init__(self, columns=1, capacity=4096, max_points=MAX_POINTS):
        self.data = np.empty((1 + columns, capacity), np.float64)
        self.n = 0
        self.max_points = max_points
        self.stride = 1
        self._pending = np.empty((1 + columns, 0))

    def clear(self):
        self.n = 0
        self.stride = 1
        self._pending = self._pending[:, :0]

    def append(self, x, *ys):
        """Append equal-length arrays ``x`` and one array per y column."""
        block = np.vstack([np.asarray(x, np.float64)] + [np.asarray(y, np.float64) for y in ys])
        if self.stride > 1:  # bucket-average into groups of `stride` raw points
            block = np.hstack([self._pending, block])
            whole = block.shape[1] // self.stride * self.stride
            self._pending = block[:, whole:]
            if not whole:
                return
            block = block[:, :whole].reshape(block.shape[0], -1, self.stride).mean(axis=2)
        k = block.shape[1]
        while self.n + k > self.data.shape[1]:
            if self.data.shape[1] >= self.max_points:
                self._halve()
            else:
                grown = np.empty((self.data.shape[0], self.data.shape[1] * 2))
                grown[:, :self.n] = self.data[:, :self.n]
                self.data = grown
        self.data[:, self.n:self.n + k] = block
        self.n += k

    def _halve(self):
        h = self.n // 2
        self.data[:, :h] = self.data[:, :2 * h].reshape(self.data.shape[0], h, 2).mean(axis=2)
        if self.n % 2:
            self._pending = np.hstack([self.data[:, 2 * h:self.n], self._pending])
        self.n = h
        self.stride *= 2

    def column(self, i):
        return self.data[i, :self.n]


class MetricsPanel(QWidget):
    """Three live plots side by side: cost per step, accuracy per epoch, |gradient| per step.

    Follows the panel contract (``on_snapshot``, ``set_dataset``). ``always_feed = True`` asks the
    main window to call ``on_snapshot`` even while the dock is hidden, so that no step is missed; the
    panel then only records and draws when it is shown again.
    """

    always_feed = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("MetricsPanel")
        self.steps = Series(columns=4)  # cost, smoothed cost, gradient norm, smoothed gradient norm
        self.epochs = np.zeros((0, 3))  # step, train accuracy, test accuracy
        self._ema = math.nan
        self._gema = math.nan
        self._generation = None
        self._dirty = False
        self._drawn_at = 0.0

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.ci.setContentsMargins(2, 2, 2, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.glw)

        self.cost_plot = self.glw.addPlot(title="Cost of each mini-batch")
        self.acc_plot = self.glw.addPlot(title="Accuracy after each epoch")
        self.grad_plot = self.glw.addPlot(title="Gradient size |∇C|")
        for p in (self.cost_plot, self.grad_plot):
            p.setLabel("bottom", "step")
            p.showGrid(x=True, y=True, alpha=0.15)
            p.disableAutoRange()  # ranges move in coarse steps (see redraw): axes are redrawn rarely
            p.setMouseEnabled(x=False, y=False)
        # Axis text is the costliest thing to paint; cache each axis and title as a pixmap, redrawn only
        # when its range changes.
        for p in (self.cost_plot, self.acc_plot, self.grad_plot):
            for side in ("left", "bottom"):
                p.getAxis(side).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
            p.titleLabel.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self._ranges = {}
        self._initial_ranges()
        self.acc_plot.setLabel("bottom", "epoch")
        self.acc_plot.showGrid(x=True, y=True, alpha=0.15)
        self.acc_plot.setMouseEnabled(x=False, y=False)
        self.acc_plot.getAxis("left").setLabel("%")
        self.grad_plot.setLogMode(y=True)

        self.raw_curve = self.cost_plot.plot(pen=RAW_PEN, name="each batch")
        self.ema_curve = self.cost_plot.plot(pen=COST_PEN, name="smoothed")
        self.cost_plot.addLegend(offset=(-8, 8), labelTextSize="8pt").setZValue(10)
        legend = self.cost_plot.legend
        legend.addItem(self.raw_curve, "each batch")
        legend.addItem(self.ema_curve, "smoothed")
        self.train_curve = self.acc_plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=2), symbol="o", symbolSize=5,
                                              symbolBrush=TRAIN_COLOR, symbolPen=pg.mkPen(TRAIN_COLOR))
        self.test_curve = self.acc_plot.plot(pen=pg.mkPen(TEST_COLOR, width=2), symbol="o", symbolSize=5,
                                             symbolBrush=TEST_COLOR, symbolPen=pg.mkPen(TEST_COLOR))
        acc_legend = self.acc_plot.addLegend(offset=(-8, -8), labelTextSize="8pt")
        acc_legend.addItem(self.train_curve, "train")
        acc_legend.addItem(self.test_curve, "test")
        self.target_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#6b7280", style=pg.QtCore.Qt.DashLine))
        self.target_line.setVisible(False)
        self.acc_plot.addItem(self.target_line)
        self.grad_curve = self.grad_plot.plot(pen=GRAD_RAW_PEN)
        self.grad_ema_curve = self.grad_plot.plot(pen=GRAD_PEN)
        self.setToolTip("")
        self.cost_plot.setToolTip("The cost of each mini-batch the network just trained on (faint) and its\n"
                                  "moving average (bright): gradient descent pushes it down, noisily")
        self.acc_plot.setToolTip("Share of the 60,000 training and 10,000 test images the network gets right\n"
                                 "after each full pass (dashed: where this preset levels off)")
        self.grad_plot.setToolTip("Length of the gradient of each step, on a log scale")

    # the contract

    def set_dataset(self, ds):
        pass

    def on_snapshot(self, snap):
        if snap.generation != self._generation:
            self._generation = snap.generation
            self.steps.clear()
            self._ema = self._gema = math.nan
            self.epochs = np.zeros((0, 3))
            self._initial_ranges()
            target = PRESET_TARGETS.get(preset_of(snap.config))
            self.target_line.setVisible(target is not None)
            if target is not None:
                self.target_line.setValue(100 * target)
            self._dirty = True
        if len(snap.new_steps):
            costs = np.asarray(snap.new_costs, np.float64)
            gnorms = np.maximum(np.asarray(snap.new_grad_norms, np.float64), 1e-12)
            ema, self._ema = _ema(costs, self._ema)
            # the gradient is smoothed on the log scale it is drawn on (a geometric moving average)
            gema, self._gema = _ema(np.log(gnorms), self._gema)
            self.steps.append(snap.new_steps, costs, ema, gnorms, np.exp(gema))
            self._dirty = True
        if len(snap.epochs) != len(self.epochs):
            self.epochs = np.array([(e["epoch"], 100 * e["train_acc"], 100 * e["test_acc"]) for e in snap.epochs],
                                   np.float64).reshape(-1, 3)
            self._dirty = True
        now = time.perf_counter()
        if self._dirty and self.isVisible() and (not snap.running or now - self._drawn_at >= 1 / DRAW_HZ):
            self.redraw()

    def redraw(self):
        self._drawn_at = time.perf_counter()
        self._dirty = False
        s = self.steps
        x = s.column(0)
        n = int(max(200, self.cost_plot.vb.width()))  # about one bucket per pixel column
        raw_x, raw_y = peak_decimate(x, s.column(1), n)
        if s.n:
            xmax = _nice_ceil(x[-1])
            self._set_range(self.cost_plot, "x", (0, xmax))
            self._set_range(self.grad_plot, "x", (0, xmax))
            # the first few steps' cost can be 20x the rest: scale to the 98th percentile, not the maximum
            top = float(np.nanmax(raw_y)) if len(raw_y) < 400 else float(np.nanpercentile(raw_y, 98))
            self._set_range(self.cost_plot, "y", (0, _nice_ceil(top)))
            g = s.column(3)
            self._set_range(self.grad_plot, "y", (math.floor(math.log10(float(g.min()))),
                                                  math.ceil(math.log10(float(g.max())) + 1e-9)))
        self.raw_curve.setData(raw_x, raw_y, skipFiniteCheck=True)
        self.ema_curve.setData(*subsample(x, s.column(2), n), skipFiniteCheck=True)
        self.grad_curve.setData(*peak_decimate(x, s.column(3), n), skipFiniteCheck=True)
        self.grad_ema_curve.setData(*subsample(x, s.column(4), n), skipFiniteCheck=True)
        if len(self.epochs):
            last = max(5, self.epochs[-1, 0])
            self._set_range(self.acc_plot, "x", (0.5, last + 0.5))
            spacing = next(m * 10 ** e for e in range(7) for m in (1, 2, 5) if m * 10 ** e >= last / 8)
            self.acc_plot.getAxis("bottom").setTickSpacing(spacing, spacing)
            low = float(np.min(self.epochs[:, 1:]))
            self._set_range(self.acc_plot, "y", (max(0, 10 * math.floor((low - 3) / 10)), 100))
            self.train_curve.setData(self.epochs[:, 0], self.epochs[:, 1])
            self.test_curve.setData(self.epochs[:, 0], self.epochs[:, 2])
        else:
            self.train_curve.setData([], [])
            self.test_curve.setData([], [])

    def _initial_ranges(self):
        self._set_range(self.acc_plot, "x", (0.5, 5.5))
        self._set_range(self.acc_plot, "y", (0, 100))
        self.acc_plot.getAxis("bottom").setTickSpacing(1, 1)
        for p in (self.cost_plot, self.grad_plot):
            self._set_range(p, "x", (0, 1000))
        self._set_range(self.cost_plot, "y", (0, 1))
        self._set_range(self.grad_plot, "y", (-3, 1))  # log10 units

    def _set_range(self, plot, axis, rng):
        key = (id(plot), axis)
        if self._ranges.get(key) != rng:
            self._ranges[key] = rng
            if axis == "x":
                plot.setXRange(*rng, padding=0.02)
            else:
                plot.setYRange(*rng, padding=0.02)

    def showEvent(self, event):
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    @property
    def test_accuracy(self) -> float:
        return float(self.epochs[-1, 2]) / 100 if len(self.epochs) else math.nan
