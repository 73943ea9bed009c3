"""The cost-landscape panel: an honest 2-D slice of the ~13,000-dimensional cost, with the descent path on it.

The lesson pictures gradient descent as rolling downhill on the cost as a function of all the weights
and biases. This panel draws the cost on a plane ``centre + a*d1 + b*d2`` through parameter space
(Li et al. 2018) as a heat map with contour lines, and the path training actually took, projected onto
that plane. Because a plane is a tiny slice of ~13,000 dimensions, the panel also shows how far the
picture can be trusted:

* path points are coloured by their TRUE cost on the map's colour scale: where a point's colour differs
  from the map beneath it, the path is not where the map suggests;
* beside the map, step by step, the true cost along the path, the cost at the path's projection on
  the plane (computed exactly, not read off the grid), and each point's distance from the plane;
* the arrow is the negative gradient projected onto the plane, with the share of the gradient that lies
  in the plane;
* a 1-D view: the cost along the straight line from the initial weights to the current ones
  (Goodfellow et al. 2015), for t in [-0.2, 1.2].

Planes: PCA of the recorded path (fixed while training runs, refitted when training pauses, on a click,
or on the chosen interval, so the surface does not jump under the user's eyes), two random
filter-normalised directions (seeded), or two single parameters picked in the network diagram
(:meth:`LandscapePanel.use_parameters`).

All heavy work runs as jobs (:mod:`digitviz.gui.jobs`) of the pure functions in
:mod:`digitviz.core.landscape` (``compute_surface`` on channel "surface", ``compute_path`` on channel
"path"), started from snapshot copies; a newer request on a channel supersedes the older one.
:meth:`LandscapePanel.on_snapshot` only appends path points, projects the new ones
(:func:`~digitviz.core.landscape.project`) and updates existing pyqtgraph items.

Imports: PySide6, pyqtgraph, :mod:`digitviz.core`, this package's colours and :mod:`digitviz.gui.jobs`.
"""

from __future__ import annotations

import bisect
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import landscape as ls
from digitviz.core.landscape import LINE_EXTEND, PathJob, SurfaceJob
from digitviz.core.network import Layout

from ... import colors
from ...fit import fit_plot_text
from ...jobs import JobRunner

MODES = (("pca", "PCA of the path"), ("random", "Random directions"), ("params", "Two parameters"))
CENTRES = (("current", "Current weights"), ("pinned", "Pinned"))
SCALES = (("log", "Log scale"), ("linear", "Linear scale"))
SCHEDULES = (("paused", "Refit when paused"), ("5s", "Refit every 5 s"), ("manual", "Refit manually"))
SOURCES = (("train", "training examples"), ("test", "test examples"))

CMAP = pg.colormap.get("viridis")
N_CONTOURS = 9
REFIT_INTERVAL_S = 5.0
EXTEND_INTERVAL_S = 5.0  # at most this often, widen the grid (same plane) when the path leaves it
PATH_JOB_INTERVAL_S = 1.0  # at most this often, path costs / gradient while training (the jobs share 2 cores with it)
ARROW_FRACTION = 0.14  # the gradient arrow's length, as a share of the grid's width
PATH_BYTES = 64 << 20  # the panel's own path copy stays under this (as training.History)
MIN_COST = 1e-12  # floor before log10
COLOR_TRUE = "#e8eaef"
COLOR_PLANE = colors.POSITIVE
COLOR_DIST = colors.NEGATIVE
COLOR_NOW = colors.HIGHLIGHT
COLOR_ARROW = "#ff6b6b"
COLOR_START = "#ffffff"

# layout, for a wide and short bottom dock (about 880 x 300 at a 1280 x 800 window): controls in a narrow
# left column, the square map with its colour bar over the full height, the small plots stacked on the right
CONTROL_WIDTH = 188  # the controls' column
SIDE_MIN_WIDTH = 230  # the small plots keep at least this much when the map grows (a tall panel)
MAP_MIN_WIDTH = 250


def cost_ticks(lo: float, hi: float):
    """Tick levels for an axis that shows log10(cost) over ``[lo, hi]``, labelled in cost.

    Over a decade or more: powers of ten first, then 2x and 5x (pyqtgraph drops a level that
    does not fit). Over a narrower range: evenly spaced round costs, placed at their logarithms.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [[]]
    if hi - lo >= 1.0:
        e0, e1 = math.floor(lo), math.ceil(hi)
        major = [(float(e), f"{10.0**e:g}") for e in range(e0, e1 + 1)]
        minor = [(math.log10(m * 10.0**e), f"{m * 10.0**e:g}") for e in range(e0, e1 + 1) for m in (2, 5)]
        return [major, minor]
    c_lo, c_hi = 10.0**lo, 10.0**hi
    raw = (c_hi - c_lo) / 4
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    values = np.arange(math.ceil(c_lo / step) * step, c_hi + 1e-9 * step, step)
    digits = max(0, -math.floor(math.log10(step)))
    return [[(math.log10(v), f"{v:.{digits}f}") for v in values if v > 0]]


class _StepAxis(pg.AxisItem):
    """Training steps written short (20k, 1.5M), so a narrow plot's tick labels do not run together."""

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            v = v * scale
            a = abs(v)
            if a >= 1e6:
                out.append(f"{v / 1e6:g}M")
            elif a >= 1e3:
                out.append(f"{v / 1e3:g}k")
            else:
                out.append(f"{v:g}")
        return out


def _surface_work(control, job: SurfaceJob):
    """On a job thread: the surface; its coarse pass and ``(done, total)`` ticks are progress."""
    net, X, Y = job.inputs()
    return ls.compute_surface(
        job, net, X, Y, emit=control.report, progress=lambda done, total: control.report((done, total)), cancel=control
    )


def _path_work(control, job: PathJob):
    """On a job thread: true and in-plane costs of path points, and the gradient."""
    net, X, Y = job.inputs()
    return ls.compute_path(job, net, X, Y, cancel=control)


def _brush_table(cmap, n=colors.N_LEVELS):
    lut = cmap.getLookupTable(0.0, 1.0, n, alpha=True)
    return np.array(
        [pg.mkBrush(int(r), int(g), int(b), 255) for r, g, b, _ in lut] + [pg.mkBrush(110, 114, 124)], dtype=object
    )


class LandscapePanel(QWidget):
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

    # construction

    def _build_controls(self):
        def combo(items, tip):
            c = QComboBox()
            for key, text in items:
                c.addItem(text, key)
            c.setToolTip(tip)
            return c

        self.mode = combo(
            MODES,
            "Which plane through parameter space to draw:\n"
            "PCA: the two directions along which the recorded path spreads most\n"
            "(Li et al. 2018);\n"
            "Random: two random directions, each neuron's part scaled to its own weights' size;\n"
            "Two parameters: click connections or neurons in the network diagram.",
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setPrefix("seed ")
        self.seed.setToolTip("Seed of the random directions")
        self.params_label = QLabel("pick two in the diagram")
        self.params_label.setObjectName("paramsLabel")
        self.centre = combo(
            CENTRES,
            "The plane passes through the current weights, or stays pinned where it is\n"
            "(e.g. at the final weights of a finished run) while the path moves on.",
        )
        self.scale = combo(SCALES, "Colour scale of the cost: log shows the shape of the valley floor")
        self.schedule = combo(
            SCHEDULES,
            "While training runs, the plane stays fixed so the picture does not jump;\n"
            "it is refitted to the path when training pauses, every 5 s, or only when\n"
            "you press Recompute.",
        )
        self.resolution = QSpinBox()
        self.resolution.setRange(11, 101)
        self.resolution.setValue(41)
        self.resolution.setSingleStep(10)
        self.resolution.setPrefix("grid ")
        self.resolution.setToolTip("Grid points per axis of the fine pass (a coarse 11 x 11 pass comes first)")
        self.samples = QSpinBox()
        self.samples.setRange(100, 10000)
        self.samples.setSingleStep(500)
        self.samples.setValue(1000)
        self.samples.setToolTip(
            "How many examples the cost is averaged over: the first N of a seeded shuffle,\n"
            "the same for every computation of the run"
        )
        self.source = combo(SOURCES, "Measure the cost on training examples (the cost being descended) or test ones")
        self.recompute_btn = QPushButton("Recompute")
        self.recompute_btn.setToolTip("Refit the plane to the path so far and recompute the surface")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(90)
        self.progress.setMaximumHeight(12)
        self.progress.setVisible(False)
        self.info = QLabel()
        self.info.setObjectName("landscapeInfo")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.PlainText)
        self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.info.setStyleSheet(f"color: {colors.MUTED};")

        for c in (self.mode, self.centre, self.scale, self.source, self.schedule):
            # shrink with the column instead of growing it to the longest item (the popup shows all of it)
            c.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            c.setMinimumContentsLength(6)
            c.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.params_label.setWordWrap(True)
        self.recompute_btn.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.progress.setMinimumWidth(0)
        self.progress.setMaximumWidth(16777215)
        self.progress.setFixedHeight(6)
        keep = self.progress.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the text below does not jump when a job starts or ends
        self.progress.setSizePolicy(keep)
        font = self.info.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1.0))
        self.info.setFont(font)
        self.info.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Minimum)

        # the left column: every control stacked, then the explanation (scrolls by itself if it is long)
        self.controls = QWidget()
        self.controls.setObjectName("landscapeControls")
        self.controls.setFixedWidth(CONTROL_WIDTH)
        col = QVBoxLayout(self.controls)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        for w in (self.mode, self.seed, self.params_label, self.centre, self.scale):
            col.addWidget(w)
        grid_row = QHBoxLayout()
        grid_row.setSpacing(3)
        grid_row.addWidget(self.resolution, 1)
        on = QLabel("on")
        on.setStyleSheet(f"color: {colors.MUTED};")
        grid_row.addWidget(on)
        grid_row.addWidget(self.samples, 1)
        col.addLayout(grid_row)
        col.addWidget(self.source)
        col.addWidget(self.schedule)
        buttons = QHBoxLayout()
        buttons.setSpacing(3)
        buttons.addWidget(self.recompute_btn, 1)
        buttons.addWidget(self.cancel_btn)
        col.addLayout(buttons)
        col.addWidget(self.progress)
        self.info_scroll = QScrollArea()
        self.info_scroll.setObjectName("landscapeInfoScroll")
        self.info_scroll.setWidgetResizable(True)
        self.info_scroll.setFrameShape(QFrame.NoFrame)
        self.info_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.info_scroll.setWidget(self.info)
        self.info_scroll.setMinimumHeight(28)  # two lines at least; the panel's minimum height stays small
        self.info_scroll.viewport().setAutoFillBackground(False)
        self.info.setAutoFillBackground(False)
        self.info_scroll.setStyleSheet("QScrollArea#landscapeInfoScroll { background: transparent; }")
        col.addWidget(self.info_scroll, 1)

        self._layout_box = QHBoxLayout(self)
        self._layout_box.setContentsMargins(4, 4, 4, 4)
        self._layout_box.setSpacing(6)
        self._layout_box.addWidget(self.controls)

        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.seed.valueChanged.connect(self._on_seed_changed)
        self.centre.currentIndexChanged.connect(self._on_centre_changed)
        self.scale.currentIndexChanged.connect(self._on_scale_changed)
        self.resolution.editingFinished.connect(self._on_grid_settings_changed)
        self.samples.editingFinished.connect(self._on_sample_changed)
        self.source.currentIndexChanged.connect(self._on_sample_changed)
        self.recompute_btn.clicked.connect(lambda: self.request_surface(refit=True))
        self.cancel_btn.clicked.connect(self.cancel)

    def _build_plots(self):
        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.view.ci.setSpacing(4)
        self._layout_box.addWidget(self.view, 1)

        mp = self.map_plot = self.view.addPlot(row=0, col=0, rowspan=3)
        mp.setAspectLocked(True)
        mp.showGrid(x=False, y=False)
        mp.setMenuEnabled(False)
        mp.hideButtons()
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        mp.addItem(self.image)
        contour_pen = pg.mkPen(255, 255, 255, 80, width=1)
        self.contours = []
        for _ in range(N_CONTOURS):
            c = pg.IsocurveItem(level=0.0, pen=contour_pen)
            c.setParentItem(self.image)  # drawn in the image's pixel coordinates (pyqtgraph isocurve.py)
            c.setZValue(5)
            self.contours.append(c)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=CMAP, interactive=False, width=14, label="cost", colorMapMenu=False
        )
        self.colorbar.setImageItem(self.image, insert_in=mp)
        self.colorbar.axis.setWidth(62)  # room for labels such as "0.09815" (wider ones are dropped)
        self._brushes = _brush_table(CMAP)
        # the path: a band of points filled with their true cost's colour, a crisp line through them
        self.path_line = pg.PlotCurveItem(pen=pg.mkPen(245, 247, 250, 210, width=1))
        self.path_tail = pg.PlotCurveItem(pen=pg.mkPen(235, 238, 245, 110, width=1, style=Qt.DotLine))
        # no outline: a point's colour is exactly its true cost's, so it vanishes where the map agrees
        self.path_points = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None))
        self.start_marker = pg.ScatterPlotItem(
            size=13, symbol="s", pen=pg.mkPen(COLOR_START, width=2), brush=pg.mkBrush(None)
        )
        self.now_marker = pg.ScatterPlotItem(
            size=17, symbol="star", pen=pg.mkPen("#14161a", width=1), brush=pg.mkBrush(COLOR_NOW)
        )
        self.arrow_line = pg.PlotCurveItem(pen=pg.mkPen(COLOR_ARROW, width=2.5))
        self.arrow_head = pg.ArrowItem(
            angle=0, headLen=13, tipAngle=36, baseAngle=20, pen=pg.mkPen(COLOR_ARROW), brush=pg.mkBrush(COLOR_ARROW)
        )
        self.start_text = pg.TextItem("start", color=COLOR_START, anchor=(0.5, 1.35))
        self.now_text = pg.TextItem("now", color=COLOR_NOW, anchor=(-0.25, 1.1))
        for z, item in enumerate(
            (
                self.path_points,
                self.path_tail,
                self.path_line,
                self.start_marker,
                self.arrow_line,
                self.arrow_head,
                self.now_marker,
                self.start_text,
                self.now_text,
            )
        ):
            item.setZValue(10 + z)
            mp.addItem(item)
        for item in (self.arrow_line, self.arrow_head, self.start_text, self.now_text):
            item.setVisible(False)

        pp = self.path_plot = self.view.addPlot(row=0, col=1, title=None)
        pp.setLabel("left", "cost")
        pp.addLegend(
            offset=(-4, 4), labelTextSize="8pt", verSpacing=-6, brush=pg.mkBrush(20, 22, 27, 190)
        )  # readable over the curves in a short plot
        self.true_curve = pg.PlotCurveItem(pen=pg.mkPen(COLOR_TRUE, width=1.6), name="true cost")
        self.plane_curve = pg.PlotCurveItem(
            pen=pg.mkPen(COLOR_PLANE, width=1.6, style=Qt.DashLine), name="on the plane (exact)"
        )
        pp.addItem(self.true_curve)
        pp.addItem(self.plane_curve)
        dp = self.dist_plot = self.view.addPlot(row=1, col=1, axisItems={"bottom": _StepAxis("bottom")})
        dp.setLabel("left", "off plane")
        dp.setLabel("bottom", "training step")
        dp.setXLink(pp)
        self.dist_curve = pg.PlotCurveItem(
            pen=pg.mkPen(COLOR_DIST, width=1.6), fillLevel=0.0, brush=pg.mkBrush(255, 154, 60, 40)
        )
        dp.addItem(self.dist_curve)
        lp = self.line_plot = self.view.addPlot(row=2, col=1)
        lp.setLabel("left", "cost")
        lp.setLabel("bottom", "t on the line start → now")
        for plot in (mp, pp, dp, lp):
            fit_plot_text(plot)  # titles and axis labels shrink, then elide, in a small plot
        lp.setXRange(-LINE_EXTEND, 1 + LINE_EXTEND, padding=0.02)
        self.line_curve = pg.PlotCurveItem(pen=pg.mkPen(COLOR_TRUE, width=1.6))
        lp.addItem(self.line_curve)
        self.line_marks = pg.ScatterPlotItem(size=10)
        lp.addItem(self.line_marks)
        for t, color in ((0.0, COLOR_START), (1.0, COLOR_NOW)):
            lp.addItem(pg.InfiniteLine(t, angle=90, pen=pg.mkPen(color, width=1, style=Qt.DotLine)))
        for plot in (mp, pp, dp, lp):
            for name in ("left", "bottom"):
                plot.getAxis(name).enableAutoSIPrefix(False)  # no "(x0.001)": the numbers are the units
        for p in (pp, dp, lp):
            p.setMenuEnabled(False)
            p.hideButtons()
            p.showGrid(x=True, y=True, alpha=0.15)
            p.getAxis("left").setWidth(68)  # room for "1.5e-16" or "3.9805" beside the rotated label
        # the small plots share the height; the step plots share the x axis, so only the lower one
        # labels it (the upper keeps its tick marks for the grid)
        pp.getAxis("bottom").setStyle(showValues=False)
        pp.getAxis("bottom").setHeight(6)
        for p in (pp, dp, lp):
            p.setMinimumHeight(0)
        lay = self.view.ci.layout
        lay.setColumnStretchFactor(0, 0)
        lay.setColumnStretchFactor(1, 1)
        lay.setRowStretchFactor(0, 6)  # the legend needs room; the two below carry an axis label each
        lay.setRowStretchFactor(1, 7)
        lay.setRowStretchFactor(2, 7)
        self.view.setMinimumSize(MAP_MIN_WIDTH + SIDE_MIN_WIDTH, 200)
        self.view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.view.installEventFilter(self)
        self._fit_map()

    def eventFilter(self, obj, event):
        if obj is self.view and event.type() == QEvent.Resize:
            self._fit_map(event.size().width(), event.size().height())
        return super().eventFilter(obj, event)

    def _fit_map(self, width=None, height=None):
        """Give the map's column the width that makes its (square, aspect-locked) view fill the height;
        the small plots take the rest, never less than SIDE_MIN_WIDTH."""
        width = self.view.width() if width is None else width
        height = self.view.height() if height is None else height
        mp = self.map_plot
        vb = mp.getViewBox()
        # the map plot's frame around its view box (axes, colour bar), measured once laid out
        chrome_w = mp.width() - vb.width() if vb.width() > 10 else 0.0
        chrome_h = mp.height() - vb.height() if vb.height() > 10 else 0.0
        if not 40 <= chrome_w <= 400:
            chrome_w = 150.0
        if not 10 <= chrome_h <= 200:
            chrome_h = 42.0
        side = height - 8 - chrome_h  # the view box's height at full height
        w = side + chrome_w
        w = max(MAP_MIN_WIDTH, min(w, width - 8 - SIDE_MIN_WIDTH))
        self.view.ci.layout.setColumnFixedWidth(0, w)

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

    # run and path bookkeeping

    def _new_run(self, snap, arch):
        self.jobs.cancel()
        self._surface_job = None
        self._path_job = None
        self._end_progress()
        self._generation = snap.generation
        if arch != self._arch:
            if self._arch is not None:
                self._params = None  # another architecture: the picked indices mean something else
            self._arch = arch
            self._layout_obj = Layout(snap.config.sizes)
            if self._params is not None and max(self._params) >= self._layout_obj.size:
                self._params = None
            self._update_params_label()
        self._pinned = None
        self._grad = None
        self._grad_step = -1
        self._grad_from_report = False
        self._was_running = False
        self._drawn_step = None
        itemsize = np.dtype(snap.config.dtype).itemsize
        cap = int(min(1024, max(16, PATH_BYTES // (self._layout_obj.size * itemsize))))
        self._reset_path(cap)
        self._clear_surface()

    def _reset_path(self, cap):
        self._cap = cap
        self._n = 0
        self._thetas: list = []
        self._steps = np.zeros(cap, np.int64)
        self._coords = np.full((cap, 2), np.nan)
        self._dist = np.full(cap, np.nan)
        self._true = np.full(cap, np.nan)
        self._on_plane = np.full(cap, np.nan)
        self._path_dirty = True

    def _append_path(self, fresh):
        for step, theta in fresh:
            if self._n == self._cap:
                self._decimate()
            k = self._n
            self._thetas.append(theta)  # read-only copies made by the worker: kept by reference
            self._steps[k] = step
            self._coords[k] = np.nan
            self._dist[k] = np.nan
            self._true[k] = np.nan
            self._on_plane[k] = np.nan
            self._n += 1
            if self.plane is not None:
                self._coords[k], self._dist[k] = self._project(theta)
        self._path_dirty = True

    def _decimate(self):
        """Full: keep every other point (the first, the initial weights, always stays)."""
        keep = np.arange(0, self._n, 2)
        m = len(keep)
        self._thetas = [self._thetas[i] for i in keep]
        for arr in (self._steps, self._coords, self._dist, self._true, self._on_plane):
            arr[:m] = arr[keep]
            arr[m:] = 0 if arr.dtype.kind == "i" else np.nan
        self._n = m

    def _project(self, theta):
        """``(a, b)`` and the distance from the plane of one parameter vector (core ``project``)."""
        coords, distance = ls.project(self.plane, theta)
        return coords[0], float(distance[0])

    def _set_plane(self, plane, res=None):
        """Make ``plane`` current; the path's coordinates come from the job ``res`` that projected it,
        and only points added since are projected here."""
        if plane is self.plane:
            return
        self.plane = plane
        if plane.kind == "params":
            i, j = self._params_of(plane)
            self._offset = np.array([plane.centre[i], plane.centre[j]])
        else:
            self._offset = np.zeros(2)
        self._on_plane[:] = np.nan
        n = self._n
        todo = np.ones(n, bool)
        if res is not None and len(res.steps):
            k, ok = self._match(res.steps)
            self._coords[k[ok]] = res.coords[ok]
            self._dist[k[ok]] = res.distance[ok]
            todo[k[ok]] = False
        todo = np.flatnonzero(todo)
        if len(todo):
            self._coords[todo], self._dist[todo] = ls.project(plane, np.stack([self._thetas[k] for k in todo]))
        self._drawn_step = None
        self._path_dirty = True

    def _match(self, steps):
        """Indices into the path of ``steps`` (sorted), and which of them the path still holds."""
        n = self._n
        k = np.searchsorted(self._steps[:n], steps)
        ok = k < n
        ok[ok] = self._steps[k[ok]] == np.asarray(steps)[ok]
        return k, ok

    @staticmethod
    def _params_of(plane):
        return int(np.argmax(plane.d1)), int(np.argmax(plane.d2))

    def _invalidate_costs(self):
        """The sample changed: every cost (and a gradient measured on the sample) must be recomputed."""
        self._true[:] = np.nan
        self._on_plane[:] = np.nan
        if not self._grad_from_report:
            self._grad, self._grad_step = None, -1
        self._path_dirty = True

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

    # drawing

    def _display(self, costs):
        costs = np.asarray(costs, np.float64)
        if self.scale.currentData() == "log":
            with np.errstate(invalid="ignore"):
                return np.log10(np.maximum(costs, MIN_COST))
        return costs

    def _draw_surface(self, res):
        Zd = self._display(res.Z)
        finite = Zd[np.isfinite(Zd)]
        if finite.size == 0:
            return
        # the map's own range: path points beyond it take the end colours (and the side plot tells)
        lo, hi = float(finite.min()), float(finite.max())
        if not hi > lo:
            hi = lo + max(1e-6, abs(lo) * 1e-3)
        self._levels = (lo, hi)
        Zd = np.nan_to_num(Zd, nan=hi, posinf=hi, neginf=lo)
        self.image.setImage(Zd, levels=self._levels)
        a, b = res.alphas, res.betas
        da = (a[-1] - a[0]) / max(1, len(a) - 1) if len(a) > 1 else 1.0
        db = (b[-1] - b[0]) / max(1, len(b) - 1) if len(b) > 1 else 1.0
        ox, oy = self._offset
        self.image.setRect(QRectF(a[0] - da / 2 + ox, b[0] - db / 2 + oy, da * len(a), db * len(b)))
        self.colorbar.setLevels((lo, hi))
        log = self.scale.currentData() == "log"
        self.colorbar.axis.setTicks(cost_ticks(lo, hi) if log else None)
        self.colorbar.getAxis("left").setLabel("cost" + (" (log scale)" if log else ""))
        for level, c in zip(np.linspace(lo, hi, N_CONTOURS + 2)[1:-1], self.contours):
            c.setData(Zd, level)
        plane = res.plane
        self.map_plot.setLabel("bottom", self._axis_label(plane, 0))
        self.map_plot.setLabel("left", self._axis_label(plane, 1))
        self.map_plot.fit_text()  # new labels: fitted to the room they have
        self.map_plot.setRange(xRange=(a[0] + ox, a[-1] + ox), yRange=(b[0] + oy, b[-1] + oy), padding=0.0)

    def _axis_label(self, plane, k):
        name = (plane.label1, plane.label2)[k]
        if plane.kind == "pca" and plane.explained is not None and plane.explained[k] > 0:
            return f"{name} ({100 * plane.explained[k]:.0f}% of the path's spread)"
        if plane.kind == "random":
            return f"{name} (filter-normalised, seed {self.seed.value()})"
        if plane.kind == "params":
            return f"{name} (its value)"
        return name

    def _clear_surface(self):
        self.plane = None
        self._shown = None
        self.surface = None
        self._offset = np.zeros(2)
        self.image.clear()
        for c in self.contours:
            c.setData(None)
        self._line = None
        self._draw_line()
        self.now_marker.setData([], [])
        self._now_ab = None
        for item in (self.arrow_line, self.arrow_head, self.now_text):
            item.setVisible(False)
        self._path_dirty = True
        self._redraw_path()

    def _redraw_path(self):
        self._path_dirty = False
        n = self._n
        steps = self._steps[:n]
        true, on_plane = self._display(self._true[:n]), self._display(self._on_plane[:n])
        self.true_curve.setData(steps, true, connect="finite")
        self.plane_curve.setData(steps, on_plane, connect="finite")
        self._set_cost_ticks(self.path_plot, true, on_plane)
        self.dist_curve.setData(steps, self._dist[:n], connect="finite")
        if self.plane is None or n == 0:
            self.path_line.setData([], [])
            self.path_points.setData([], [])
            self.start_marker.setData([], [])
            self.start_text.setVisible(False)
            return
        xy = self._coords[:n] + self._offset
        self.path_line.setData(xy[:, 0], xy[:, 1])
        self.path_points.setData(pos=xy, brush=self._path_brushes(self._true[:n]))
        self.start_marker.setData(pos=xy[:1])
        self.start_text.setPos(*xy[0])
        self.start_text.setVisible(True)
        self._update_tail()

    def _set_cost_ticks(self, plot, *arrays):
        if self.scale.currentData() != "log":
            plot.getAxis("left").setTicks(None)
            return
        vals = np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
        vals = vals[np.isfinite(vals)]
        if vals.size:
            pad = 0.05 * max(float(np.ptp(vals)), 1e-3)
            plot.getAxis("left").setTicks(cost_ticks(float(vals.min()) - pad, float(vals.max()) + pad))

    def _draw_line(self):
        if self._line is None:
            self.line_curve.setData([], [])
            self.line_marks.setData([], [])
            return
        t, costs = self._line
        y = self._display(costs)
        self.line_curve.setData(t, y)
        self._set_cost_ticks(self.line_plot, y)
        ends = [int(np.argmin(np.abs(t - v))) for v in (0.0, 1.0)]
        self.line_marks.setData(
            t[ends],
            y[ends],
            brush=[pg.mkBrush(COLOR_START), pg.mkBrush(COLOR_NOW)],
            symbol=["s", "star"],
            size=[9, 15],
            pen=pg.mkPen("#14161a"),
        )

    def _path_brushes(self, costs):
        lo, hi = self._levels
        d = self._display(costs)
        idx = np.full(len(d), len(self._brushes) - 1)
        ok = np.isfinite(d)
        idx[ok] = colors.levels_index(d[ok], lo, hi)
        return self._brushes[idx]

    def _update_now(self):
        snap = self._snap
        if snap is None or self.plane is None:
            return
        self._drawn_step = snap.step
        ab, _ = self._project(snap.theta)
        self._now_ab = ab
        x, y = ab + self._offset
        self.now_marker.setData([x], [y])
        self.now_text.setPos(x, y)
        (x0, x1), (y0, y1) = self.map_plot.vb.viewRange()
        # near the right or top edge the label goes to the other side of the star: it stays on the map
        self.now_text.setAnchor(
            (1.25 if x > x0 + 0.75 * (x1 - x0) else -0.25, -0.1 if y > y0 + 0.8 * (y1 - y0) else 1.1)
        )
        self.now_text.setVisible(True)
        self._update_tail()
        self._update_arrow(x, y)

    def _update_tail(self):
        if self._now_ab is None or self._n == 0:
            self.path_tail.setData([], [])
            return
        last = self._coords[self._n - 1] + self._offset
        now = self._now_ab + self._offset
        self.path_tail.setData([last[0], now[0]], [last[1], now[1]])

    def _update_arrow(self, x, y):
        g = self._grad
        s = self._shown
        if g is None or s is None or self.plane is None or g.shape != self.plane.centre.shape:
            for item in (self.arrow_line, self.arrow_head):
                item.setVisible(False)
            return
        key = (id(g), id(self.plane))
        if self._grad_key != key:  # the gradient's components change with the gradient or the plane only
            self._grad_key = key
            self._grad_c = np.array(ls.projected_gradient(self.plane, g))  # least-squares, in the plane
            self._grad_share = ls.in_plane_share(self.plane, g)
        d = -self._grad_c
        norm = float(np.hypot(*d))
        if not norm > 0:
            for item in (self.arrow_line, self.arrow_head):
                item.setVisible(False)
            return
        length = ARROW_FRACTION * (s.alphas[-1] - s.alphas[0])
        tip = np.array([x, y]) + d / norm * length
        self.arrow_line.setData([x, tip[0]], [y, tip[1]])
        self.arrow_head.setPos(*tip)
        # ArrowItem points left at angle 0 and turns clockwise on screen (y down): 180 - theta
        self.arrow_head.setStyle(angle=180.0 - math.degrees(math.atan2(d[1], d[0])))
        for item in (self.arrow_line, self.arrow_head):
            item.setVisible(True)

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
