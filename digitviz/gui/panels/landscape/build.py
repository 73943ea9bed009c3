"""Construction of the landscape panel (:class:`BuildMixin`): the controls' column, the map and the small plots.

Every widget and pyqtgraph item is built here once; the other mixins only update them.

Imports: NumPy, PySide6, pyqtgraph, :mod:`digitviz.core.landscape`, :mod:`digitviz.gui.colors`,
:mod:`digitviz.gui.fit` and this package's constants and ticks.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
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

from digitviz.core.landscape import LINE_EXTEND

from ... import colors
from ...fit import fit_plot_text
from .constants import (
    CENTRES,
    CMAP,
    COLOR_ARROW,
    COLOR_DIST,
    COLOR_NOW,
    COLOR_PLANE,
    COLOR_START,
    COLOR_TRUE,
    CONTROL_WIDTH,
    MAP_MIN_WIDTH,
    MODES,
    N_CONTOURS,
    SCALES,
    SCHEDULES,
    SIDE_MIN_WIDTH,
    SOURCES,
)
from .ticks import _StepAxis


def _brush_table(cmap, n=colors.N_LEVELS):
    lut = cmap.getLookupTable(0.0, 1.0, n, alpha=True)
    return np.array(
        [pg.mkBrush(int(r), int(g), int(b), 255) for r, g, b, _ in lut] + [pg.mkBrush(110, 114, 124)], dtype=object
    )


class BuildMixin:
    """The widgets and plot items of :class:`~digitviz.gui.panels.landscape.LandscapePanel`, built once."""

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
