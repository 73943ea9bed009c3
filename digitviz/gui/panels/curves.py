"""Live learning curves: cost per step (raw and smoothed), accuracy per epoch, gradient norm.

Per-step records arrive in batches with every snapshot (``new_steps``/``new_costs``/``new_grad_norms``)
and are appended to a :class:`~digitviz.core.series.BoundedSeries`: past ``MAX_POINTS`` points, pairs are
averaged and the stride doubles, so memory and drawing time stay bounded however long a run is. The
curve maths (decimation, smoothing, round ranges) and run names are in :mod:`digitviz.core.series` and
:mod:`digitviz.core.runs`.
Drawing reuses the same items (``setData`` only), decimated to about one min/max pair per pixel
column, at most ``DRAW_HZ`` times a second while training: curves need not move at the diagram's rate.

Run comparison: when a new generation starts (reset, new settings, a loaded network) and the run before
it recorded at least one step, the panel keeps that run (:class:`KeptRun`): its settings, its smoothed
cost and gradient curves (subsampled to ``KEEP_POINTS``) and its epoch accuracies. Up to ``MAX_RUNS`` kept
runs are listed in a narrow column beside the plots (a checkbox to overlay or hide each, a colour swatch,
"Remove"); checked runs are drawn as thin dashed lines in their own colour beneath the live run, and named
in each plot's legend. Each kept run's items are made once and only shown, hidden or removed afterwards.

Imports: PySide6, pyqtgraph and NumPy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitviz.core.runs import legend_name, run_name
from digitviz.core.series import BoundedSeries, ema, nice_ceil, peak_decimate, subsample
from digitviz.core.training import PRESET_TARGETS, TrainConfig, preset_of

__all__ = ["MAX_RUNS", "KeptRun", "MetricsPanel", "legend_name", "run_name"]

from ..colors import RUN_COLORS  # kept runs' colours: apart from the live run's blue, green, amber and purple
from ..fit import fit_label

MAX_POINTS = 1 << 18
DRAW_HZ = 3  # while training; curves need no more, and every redraw holds the GIL the worker needs
EMA_ALPHA = 0.01  # smoothing of the cost curve: about the last 100 steps
COST_PEN = pg.mkPen("#5aa9e6", width=1)
RAW_PEN = pg.mkPen((90, 169, 230, 40), width=1)
TEST_COLOR, TRAIN_COLOR = "#f0b429", "#8fbf73"
GRAD_PEN = pg.mkPen("#c678dd", width=1)
GRAD_RAW_PEN = pg.mkPen((198, 120, 221, 30), width=1)

MAX_RUNS = 8  # kept runs; the oldest is dropped beyond this
KEEP_POINTS = 2000  # a kept run's smoothed curves are subsampled to about this many points
RUN_ALPHA = 170
LEGEND_BRUSH = pg.mkBrush(20, 22, 26, 190)  # the plot background, a little see-through: labels stay legible
RUNS_WIDTH = 210  # the kept runs' column, in pixels


def _fmt(v) -> str:
    return f"{v:g}"


def _column(s: BoundedSeries, i: int):
    """Column ``i`` of the per-step series: 0 the steps, 1 cost, 2 smoothed cost, 3 |gradient|, 4 smoothed."""
    return s.steps() if i == 0 else s.values()[:, i - 1]


@dataclass(eq=False)
class KeptRun:
    """A finished run kept for comparison: its settings, curves and plot items (made once)."""

    number: int
    name: str
    config: TrainConfig
    first_config: TrainConfig
    color: str
    cost: tuple  # (x, y): smoothed cost per step
    grad: tuple  # (x, y): smoothed |gradient| per step
    epochs: np.ndarray  # (k, 3): epoch, train %, test %
    extent: dict  # ranges the run needs: xmax, cost_top, glo, ghi (log10), and acc_low, last_epoch if any
    items: dict = field(default_factory=dict)  # "cost", "train", "test", "grad" -> PlotDataItem
    list_item: QListWidgetItem | None = None

    @property
    def checked(self) -> bool:
        return self.list_item is not None and self.list_item.checkState() == Qt.CheckState.Checked


def _swatch(color: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(color))
    return QIcon(pm)


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
        # per step: cost, smoothed cost, gradient norm, smoothed gradient norm
        self.steps = BoundedSeries(MAX_POINTS, width=4, mean=True, initial=4096)
        self.epochs = np.zeros((0, 3))  # step, train accuracy, test accuracy
        self._ema = math.nan
        self._gema = math.nan
        self._ema_n = 0  # steps the averages hold: the first 1 / EMA_ALPHA get the running mean
        self._generation = None
        self._dirty = False
        self._drawn_at = 0.0

        self.runs: list[KeptRun] = []  # kept runs, oldest first
        self._run_number = 1  # the live run's number ("Run 1" is the first run that recorded a step)
        self._config = self._first_config = None  # the live run's latest and first settings
        self._overlay_extent = {}

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.ci.setContentsMargins(2, 2, 2, 2)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self._make_runs_column())

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
        # the titles shrink, then elide, and ask for no width: pyqtgraph makes a title's width its plot's
        # minimum, and three plots beside the kept runs' column at a projector's font were wider than the view.
        # Only the titles: the tick spacing is this panel's own (see redraw and _step_ticks)
        for p in (self.cost_plot, self.acc_plot, self.grad_plot):
            p.fit_text = lambda *_, p=p: fit_label(p.titleLabel, p.vb.width() + 4)  # presentation mode calls it
            p.vb.sigResized.connect(p.fit_text)
            p.fit_text()

        self.raw_curve = self.cost_plot.plot(pen=RAW_PEN, name="each batch")
        self.ema_curve = self.cost_plot.plot(pen=COST_PEN, name="smoothed")
        # legends in a row of their own under the plots: they never cover data
        self.glw.nextRow()
        for p in (self.cost_plot, self.acc_plot, self.grad_plot):
            p.legend = pg.LegendItem(labelTextSize="8pt", colCount=2, verSpacing=-6)
            self.glw.addItem(p.legend)
        legend = self.cost_plot.legend
        legend.addItem(self.raw_curve, "each batch")
        legend.addItem(self.ema_curve, "smoothed")
        self.train_curve = self.acc_plot.plot(
            pen=pg.mkPen(TRAIN_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=TRAIN_COLOR,
            symbolPen=pg.mkPen(TRAIN_COLOR),
        )
        self.test_curve = self.acc_plot.plot(
            pen=pg.mkPen(TEST_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=TEST_COLOR,
            symbolPen=pg.mkPen(TEST_COLOR),
        )
        acc_legend = self.acc_plot.legend
        acc_legend.addItem(self.train_curve, "train")
        acc_legend.addItem(self.test_curve, "test")
        self.target_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#6b7280", style=pg.QtCore.Qt.DashLine))
        self.target_line.setVisible(False)
        self.acc_plot.addItem(self.target_line)
        self.grad_curve = self.grad_plot.plot(pen=GRAD_RAW_PEN)
        self.grad_ema_curve = self.grad_plot.plot(pen=GRAD_PEN)
        # the gradient plot needs a legend only to name kept runs: shown while one is overlaid
        self.grad_legend = self.grad_plot.legend
        self.grad_legend.addItem(self.grad_ema_curve, "this run")
        self.grad_legend.setVisible(False)
        for legend in (self.cost_plot.legend, self.acc_plot.legend, self.grad_legend):
            legend.setBrush(LEGEND_BRUSH)
            legend.sigSampleClicked.connect(self._on_sample_clicked)
        self.setToolTip("")
        self.cost_plot.setToolTip(
            "The cost of each mini-batch the network just trained on (faint) and its\n"
            "moving average (bright): gradient descent pushes it down, noisily"
        )
        self.acc_plot.setToolTip(
            "Share of the 60,000 training and 10,000 test images the network gets right\n"
            "after each full pass (dashed: where this preset levels off)"
        )
        self.grad_plot.setToolTip("Length of the gradient of each step, on a log scale")

    # the contract

    def set_dataset(self, ds):
        pass

    def on_snapshot(self, snap):
        if snap.generation != self._generation:
            if self._generation is not None:
                self._keep_run()
            self._drawn_at = 0.0  # draw the cleared plots at once
            self._generation = snap.generation
            self._config = self._first_config = snap.config
            self._sync_legends()
            self.steps.clear()
            self._ema = self._gema = math.nan
            self._ema_n = 0
            self.epochs = np.zeros((0, 3))
            self._initial_ranges()
            target = PRESET_TARGETS.get(preset_of(snap.config))
            self.target_line.setVisible(target is not None)
            if target is not None:
                self.target_line.setValue(100 * target)
            self._dirty = True
        elif snap.config is not self._config and snap.config != self._config:  # e.g. lr changed live
            self._config = snap.config
            if self.runs:
                self._sync_legends()
        new = np.asarray(snap.new_steps)
        if len(new) and self.steps.n and new[0] <= self.steps.last_step:
            keep = new > self.steps.last_step  # a snapshot fed again (a dock shown): its steps are in
            new = new[keep]
            snap = replace(
                snap,
                new_steps=new,
                new_costs=np.asarray(snap.new_costs)[keep],
                new_grad_norms=np.asarray(snap.new_grad_norms)[keep],
            )
        if len(new):
            costs = np.asarray(snap.new_costs, np.float64)
            gnorms = np.maximum(np.asarray(snap.new_grad_norms, np.float64), 1e-12)
            smooth, self._ema = ema(costs, self._ema, EMA_ALPHA, count=self._ema_n)
            # the gradient is smoothed on the log scale it is drawn on (a geometric moving average)
            gsmooth, self._gema = ema(np.log(gnorms), self._gema, EMA_ALPHA, count=self._ema_n)
            self._ema_n += len(costs)
            self.steps.extend(snap.new_steps, np.column_stack([costs, smooth, gnorms, np.exp(gsmooth)]))
            self._dirty = True
        if len(snap.epochs) != len(self.epochs):
            self.epochs = np.array(
                [(e.epoch, 100 * e.train_acc, 100 * e.test_acc) for e in snap.epochs], np.float64
            ).reshape(-1, 3)
            self._dirty = True
        now = time.perf_counter()
        if self._dirty and self.isVisible() and (not snap.running or now - self._drawn_at >= 1 / DRAW_HZ):
            self.redraw()

    def redraw(self):
        self._drawn_at = time.perf_counter()
        self._dirty = False
        s = self.steps
        x = _column(s, 0)
        n = int(max(200, self.cost_plot.vb.width()))  # about one bucket per pixel column
        raw_x, raw_y = peak_decimate(x, _column(s, 1), n)
        ext = self._overlay_extent  # what the overlaid kept runs need (computed when the overlay changes)
        if s.n:
            xmax = x[-1]
            # the first few steps' cost can be 20x the rest: scale to the 98th percentile, not the maximum
            top = float(np.nanmax(raw_y)) if len(raw_y) < 400 else float(np.nanpercentile(raw_y, 98))
            g = _column(s, 3)
            glo, ghi = math.log10(float(g.min())), math.log10(float(g.max()))
            if ext:
                xmax, top = max(xmax, ext["xmax"]), max(top, ext["cost_top"])
                glo, ghi = min(glo, ext["glo"]), max(ghi, ext["ghi"])
        elif ext:
            xmax, top, glo, ghi = ext["xmax"], ext["cost_top"], ext["glo"], ext["ghi"]
        if s.n or ext:
            xmax = nice_ceil(xmax)
            self._set_range(self.cost_plot, "x", (0, xmax))
            self._set_range(self.grad_plot, "x", (0, xmax))
            for p in (self.cost_plot, self.grad_plot):
                self._step_ticks(p, xmax)
            self._set_range(self.cost_plot, "y", (0, nice_ceil(top)))
            self._set_range(self.grad_plot, "y", (math.floor(glo), math.ceil(ghi + 1e-9)))
        self.raw_curve.setData(raw_x, raw_y, skipFiniteCheck=True)
        self.ema_curve.setData(*subsample(x, _column(s, 2), n), skipFiniteCheck=True)
        self.grad_curve.setData(*peak_decimate(x, _column(s, 3), n), skipFiniteCheck=True)
        self.grad_ema_curve.setData(*subsample(x, _column(s, 4), n), skipFiniteCheck=True)
        if len(self.epochs) or "last_epoch" in ext:
            last, low = 5, math.inf
            if len(self.epochs):
                last, low = max(last, self.epochs[-1, 0]), float(np.min(self.epochs[:, 1:]))
            if "last_epoch" in ext:
                last, low = max(last, ext["last_epoch"]), min(low, ext["acc_low"])
            self._set_range(self.acc_plot, "x", (0.5, last + 0.5))
            spacing = next(m * 10**e for e in range(7) for m in (1, 2, 5) if m * 10**e >= last / 8)
            self.acc_plot.getAxis("bottom").setTickSpacing(spacing, spacing)
            self._set_range(self.acc_plot, "y", (max(0, 10 * math.floor((low - 3) / 10)), 100))
        if len(self.epochs):
            self.train_curve.setData(self.epochs[:, 0], self.epochs[:, 1])
            self.test_curve.setData(self.epochs[:, 0], self.epochs[:, 2])
        else:
            self.train_curve.setData([], [])
            self.test_curve.setData([], [])

    def _step_ticks(self, plot, xmax):
        """Whole steps only, and as many labels as the plot's width holds without running together."""
        axis = plot.getAxis("bottom")
        label_px = QFontMetrics(axis.style.get("tickFont") or axis.font()).horizontalAdvance(f"{xmax:g}") + 18
        room = max(2.0, plot.vb.width() / max(1, label_px))
        major = next(m * 10**e for e in range(12) for m in (1, 2, 5) if m * 10**e >= xmax / room)
        if self._ranges.get((id(plot), "ticks")) != major:
            self._ranges[(id(plot), "ticks")] = major
            axis.setTickSpacing(major, major)

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

    # kept runs

    def _make_runs_column(self):
        self.runs_box = QWidget()
        self.runs_box.setObjectName("MetricsRuns")
        self.runs_box.setFixedWidth(RUNS_WIDTH)
        col = QVBoxLayout(self.runs_box)
        col.setContentsMargins(2, 4, 4, 4)
        col.setSpacing(3)
        title = QLabel("Earlier runs")
        title.setToolTip(
            "Runs kept when training was reset or the settings changed.\n"
            "Ticked runs are drawn dashed in their colour beneath the current run."
        )
        col.addWidget(title)
        self.run_list = QListWidget()
        self.run_list.setWordWrap(True)
        self.run_list.setIconSize(QSize(10, 10))
        self.run_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.run_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.run_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.run_list.setStyleSheet("QListWidget { font-size: 8pt; } QListWidget::item { padding: 2px 0px; }")
        self.run_list.itemChanged.connect(self._on_item_changed)
        self.run_list.currentItemChanged.connect(lambda *_: self._update_remove_button())
        col.addWidget(self.run_list, 1)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the selected run")
        self.remove_button.clicked.connect(self._remove_selected)
        col.addWidget(self.remove_button)
        self._update_remove_button()
        self.runs_box.setVisible(False)  # until a run is kept: the plots get all the room
        return self.runs_box

    def _keep_run(self):
        """Keep the live run (before its history is cleared) if it recorded a step."""
        s = self.steps
        if not s.n or self._config is None:
            return
        x = _column(s, 0)
        cost = [np.array(a) for a in subsample(x, _column(s, 2), KEEP_POINTS)]  # copies: the buffer is reused
        grad = [np.array(a) for a in subsample(x, _column(s, 4), KEEP_POINTS)]
        raw = _column(s, 1)
        finite = raw[np.isfinite(raw)]
        g = _column(s, 3)
        extent = {
            "xmax": float(x[-1]),
            "cost_top": float(np.percentile(finite, 98) if len(finite) >= 400 else finite.max(initial=1.0)),
            "glo": math.log10(float(g.min())),
            "ghi": math.log10(float(g.max())),
        }
        if len(self.epochs):
            extent["last_epoch"] = float(self.epochs[-1, 0])
            extent["acc_low"] = float(np.min(self.epochs[:, 1:]))
        used = {r.color for r in self.runs[-(MAX_RUNS - 1) :]}
        color = next((c for c in RUN_COLORS if c not in used), RUN_COLORS[self._run_number % len(RUN_COLORS)])
        run = KeptRun(
            self._run_number,
            run_name(self._run_number, self._config, self._first_config),
            self._config,
            self._first_config,
            color,
            tuple(cost),
            tuple(grad),
            self.epochs.copy(),
            extent,
        )
        self._run_number += 1
        while len(self.runs) >= MAX_RUNS:
            self.remove_run(self.runs[0], update=False)
        self._add_items(run)
        self.runs.append(run)
        self._overlay_changed(redraw=False)  # on_snapshot clears the live run, then draws

    def _add_items(self, run: KeptRun):
        c = QColor(run.color)
        c.setAlpha(RUN_ALPHA)
        dash = pg.mkPen(c, width=1, style=Qt.PenStyle.DashLine)
        items = run.items
        items["cost"] = pg.PlotDataItem(*run.cost, pen=dash, skipFiniteCheck=True)
        items["grad"] = pg.PlotDataItem(*run.grad, pen=dash, skipFiniteCheck=True)
        ep = run.epochs
        items["test"] = pg.PlotDataItem(
            ep[:, 0], ep[:, 2], pen=dash, symbol="o", symbolSize=4, symbolBrush=c, symbolPen=pg.mkPen(c)
        )
        items["train"] = pg.PlotDataItem(ep[:, 0], ep[:, 1], pen=pg.mkPen(c, width=1, style=Qt.PenStyle.DotLine))
        for key, plot in (
            ("cost", self.cost_plot),
            ("grad", self.grad_plot),
            ("test", self.acc_plot),
            ("train", self.acc_plot),
        ):
            items[key].setZValue(-1)  # beneath the live run
            plot.addItem(items[key])  # (applies the gradient plot's log scale)
        item = QListWidgetItem(_swatch(run.color), run.name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)  # an earlier run is overlaid when the user ticks it
        item.setToolTip(self._run_tooltip(run))
        item.setData(Qt.ItemDataRole.UserRole, run.number)
        run.list_item = item
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        self.run_list.blockSignals(False)

    @staticmethod
    def _run_tooltip(run: KeptRun) -> str:
        cfg = run.config
        lines = [
            run.name,
            "",
            f"network {'-'.join(map(str, cfg.sizes))}, {cfg.activation}, {cfg.cost.replace('_', ' ')} cost, "
            f"{cfg.init} init, {cfg.dtype}",
            f"learning rate {_fmt(cfg.lr)}"
            + (f" (started at {_fmt(run.first_config.lr)})" if run.first_config.lr != cfg.lr else "")
            + f", decay {_fmt(cfg.lr_decay)} per epoch",
            f"mini-batch {cfg.batch_size}, momentum {_fmt(cfg.momentum)}, L2 {_fmt(cfg.l2)}, seed {cfg.seed}",
        ]
        extras = [
            t for t, on in (("random labels", cfg.random_labels), (f"doubt {100 * cfg.doubt:g}%", cfg.doubt)) if on
        ]
        if extras:
            lines.append(", ".join(extras))
        lines.append("")
        lines.append(f"{int(run.extent['xmax']):,} steps, smoothed cost at the end {run.cost[1][-1]:.4g}")
        if len(run.epochs):
            e, tr, te = run.epochs[-1]
            lines.append(f"after epoch {int(e)}: train {tr:.2f}%, test {te:.2f}%")
        else:
            lines.append("no epoch finished")
        return "\n".join(lines)

    def remove_run(self, run: KeptRun, update=True):
        """Forget a kept run: its items leave the plots and legends, its row leaves the list."""
        for key, plot in (
            ("cost", self.cost_plot),
            ("grad", self.grad_plot),
            ("test", self.acc_plot),
            ("train", self.acc_plot),
        ):
            item = run.items.pop(key, None)
            if item is not None:
                for legend in (self.cost_plot.legend, self.acc_plot.legend, self.grad_legend):
                    legend.removeItem(item)
                plot.removeItem(item)
        if run.list_item is not None:
            self.run_list.takeItem(self.run_list.row(run.list_item))
            run.list_item = None
        self.runs.remove(run)
        if update:
            self._overlay_changed()

    def _remove_selected(self):
        item = self.run_list.currentItem()
        run = next((r for r in self.runs if r.list_item is item), None)
        if run is not None:
            self.remove_run(run)

    def _update_remove_button(self):
        self.remove_button.setEnabled(self.run_list.currentItem() is not None)

    def _on_item_changed(self, item):
        if any(r.list_item is item for r in self.runs):
            self._overlay_changed()

    def _overlay_changed(self, redraw=True):
        """Show or hide each kept run's items, name the shown ones in the legends, recompute the ranges."""
        ext = {}
        for run in self.runs:
            on = run.checked
            for item in run.items.values():
                item.setVisible(on)
            if not on:
                continue
            e = run.extent
            if not ext:
                ext = {k: e[k] for k in ("xmax", "cost_top", "glo", "ghi")}
            else:
                ext.update(
                    xmax=max(ext["xmax"], e["xmax"]),
                    cost_top=max(ext["cost_top"], e["cost_top"]),
                    glo=min(ext["glo"], e["glo"]),
                    ghi=max(ext["ghi"], e["ghi"]),
                )
            if "last_epoch" in e:
                ext["last_epoch"] = max(ext.get("last_epoch", 0), e["last_epoch"])
                ext["acc_low"] = min(ext.get("acc_low", 100), e["acc_low"])
        self._overlay_extent = ext
        self._sync_legends()
        self.runs_box.setVisible(bool(self.runs))
        self._update_remove_button()
        if not redraw:
            return
        if not self.steps.n and not ext:  # nothing left to scale to
            self._initial_ranges()
        self._dirty = True
        if self.isVisible():
            self.redraw()

    def _on_sample_clicked(self, item):
        """A click on a kept run's legend sample hides the whole run (its checkbox follows)."""
        for run in self.runs:
            if any(i is item for i in run.items.values()):
                item.setVisible(True)  # the legend toggled only this item; the checkbox decides for all
                run.list_item.setCheckState(Qt.CheckState.Unchecked)
                return

    def _sync_legends(self):
        """The legends name the overlaid runs, in order, by how they differ from the live run."""
        legends = ((self.cost_plot.legend, "cost"), (self.acc_plot.legend, "test"), (self.grad_legend, "grad"))
        for legend, key in legends:
            for run in self.runs:
                if key in run.items:
                    legend.removeItem(run.items[key])
        shown = [r for r in self.runs if r.checked]
        for run in shown:
            label = legend_name(run.number, run.config, self._config, run.first_config)
            for legend, key in legends:
                legend.addItem(run.items[key], label)
        self.grad_legend.setVisible(bool(shown))
        for legend, _ in legends:  # legend text is costly to paint and rarely changes: paint it from pixmaps
            legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            for sample, label in legend.items:
                sample.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def showEvent(self, event):
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    @property
    def test_accuracy(self) -> float:
        return float(self.epochs[-1, 2]) / 100 if len(self.epochs) else math.nan
