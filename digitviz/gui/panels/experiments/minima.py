"""Tab "Many minima": the same network trained from 2 or 3 seeds ends in different, equally good places.

One action trains the network from each seed on a background thread
(:func:`digitviz.core.experiments.train_seeds`), then shows their test accuracies and costs side by
side, their first-layer weight images side by side (different weights, same accuracy), and the cost
along the straight line between two of the trained networks (:func:`~digitviz.core.experiments.pair_lines`):
is there a hill between the minima?

Imports: NumPy, PySide6, pyqtgraph, digitviz.core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import experiments as ex
from digitviz.core.diagram import weight_mosaic
from digitviz.core.network import Layout

from ...colors import diverging_lut
from ...fit import fit_label
from .common import (
    FOREGROUND,
    MUTED,
    SHORT,
    FoldingNote,
    TrainingTab,
    chosen_config,
    column,
    dashed,
    describe_config,
    job_progress,
    network_combo,
    row,
    run_color,
    size_combo,
    style_plot,
)

MAX_SEEDS = 3
LINE_EXAMPLES = 10_000
LINE_POINTS = 51
TABLE_HEADERS = ("seed", "test\nacc.", "test\ncost", "train.\ncost")
TABLE_TIPS = ("seed", "test accuracy", "test cost", "training cost")


MOSAIC_CAPTION = (
    "<b>First-layer weights of each trained network</b> (one tile per hidden neuron; "
    "blue positive, orange negative, dark zero; same scale for all)"
)


class MinimaTab(TrainingTab):
    """Train one network from several seeds and compare where they ended.

    Signals
    -------
    finished(list)
        The :class:`~digitviz.core.experiments.SeedResult` s of a completed run.

    Attributes
    ----------
    results : list of SeedResult
    lines : dict
        ``(a, b) -> PairLine`` between results ``a`` and ``b``.
    """

    finished = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.config = None
        self.job = None  # the running background Job, if any
        self.results: list = []
        self.lines: dict = {}
        self._n_seeds = 0

        self.network = network_combo()
        self.n_train_box = size_combo(60_000)
        self.n_seeds = QSpinBox()
        self.n_seeds.setRange(2, MAX_SEEDS)
        self.n_seeds.setValue(3)
        self.n_seeds.setSuffix(" seeds")
        self.first_seed = QSpinBox()
        self.first_seed.setRange(0, 99_999)
        self.first_seed.setPrefix("from seed ")
        self.epochs = QDoubleSpinBox()
        self.epochs.setRange(0.1, 50)
        self.epochs.setSingleStep(0.5)
        self.epochs.setValue(2)
        self.epochs.setDecimals(1)
        self.epochs.setSuffix(" epochs")
        self.start_button = QPushButton("Train from each seed")
        self.start_button.setToolTip(
            "Same network and settings; each seed changes only the random initial\n"
            "weights and the order of the examples"
        )
        self.start_button.setObjectName("primary")
        self.stop_button = QPushButton("Stop")
        self.progress, self.status = job_progress()
        self._note = FoldingNote(
            "The lesson: the local minima a network finds are of roughly equal quality. Different seeds give "
            "different weights (the tiles differ) but about the same accuracy. Between two of them the straight "
            "line usually climbs a hill: the minima are separate valleys, not one (relabelling the hidden "
            "neurons alone gives many equivalent networks far apart)."
        )
        # the controls: a column at the left, so the results get the whole height of a bottom dock
        controls = column(
            self.network,
            self.n_train_box,
            row(self.n_seeds, self.first_seed),
            row(self.epochs, self.stop_button),
            self.start_button,
            self.progress,
            self.status,
            self._note.info,
            width=230,
        )

        # first-layer weight mosaics, side by side, one shared diverging scale centred on 0
        self.mosaics = pg.GraphicsLayoutWidget()
        self.mosaics.ci.setContentsMargins(2, 2, 2, 2)
        self.images, self.titles, self.boxes = [], [], []
        lut = diverging_lut()
        for i in range(MAX_SEEDS):
            title = self.mosaics.addLabel("", row=0, col=i, color=FOREGROUND, size="10pt")
            vb = self.mosaics.addViewBox(row=1, col=i, lockAspect=True, enableMouse=False)
            vb.invertY(True)
            vb.sigResized.connect(lambda *_, t=title, v=vb: fit_label(t, v.width() + 4))  # shrink, then elide
            img = pg.ImageItem(axisOrder="row-major")
            img.setLookupTable(lut)
            vb.addItem(img)
            self.images.append(img)
            self.titles.append(title)
            self.boxes.append(vb)

        self.table = QTableWidget(0, len(TABLE_HEADERS))
        self.table.setHorizontalHeaderLabels(TABLE_HEADERS)
        for i, tip in enumerate(TABLE_TIPS):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        # columns as wide as their headers and numbers, the spare room to the last: in a narrow tab the
        # table scrolls sideways inside itself rather than cutting its headers to "es acc"
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)

        self.pair_box = QComboBox()
        self.pair_box.currentIndexChanged.connect(self._show_line)
        self.line_widget = pg.PlotWidget()
        lp = self.line_widget.getPlotItem()
        style_plot(
            lp,
            "Cost along the straight line<br>between two trained networks",
            "cost",
            "t: (1 \u2212 t) \u00b7 network A + t \u00b7 network B",
        )
        self.line_curve = lp.plot([], [], pen=pg.mkPen(FOREGROUND, width=2))
        self.line_ends = pg.ScatterPlotItem(size=11, pen=None)
        lp.addItem(self.line_ends)
        self.ends_mean = pg.InfiniteLine(angle=0, pen=dashed(MUTED, 1))
        lp.addItem(self.ends_mean, ignoreBounds=True)
        self.ends_mean.hide()
        lp.getAxis("left").enableAutoSIPrefix(False)
        self.peak = pg.ScatterPlotItem(size=9, symbol="t1", pen=None, brush=pg.mkBrush(FOREGROUND))
        lp.addItem(self.peak)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        where = QLabel("<b>Where each seed ended</b>")
        where.setWordWrap(True)  # two lines in a 1024 px window's bottom dock, not a wider tab
        ll.addWidget(where)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.summary)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        pair_row = QHBoxLayout()
        pair_row.addWidget(QLabel("Line between"))
        pair_row.addWidget(self.pair_box, 1)
        rl.addLayout(pair_row)
        rl.addWidget(self.line_widget, 1)
        self.table.setMinimumHeight(70)
        # small enough that the tab fits a 1024 px window's bottom dock (its text then shrinks, its ticks thin out)
        self.line_widget.setMinimumSize(150, 130)
        self.mosaics.setMinimumSize(130, 100)
        caption = self.caption = QLabel(MOSAIC_CAPTION)
        caption.setWordWrap(True)
        caption.setToolTip(MOSAIC_CAPTION)
        mosaic_box = column(caption, stretch=False)
        mosaic_box.layout().addWidget(self.mosaics, 1)
        self.bottom = QSplitter(Qt.Horizontal)
        self.bottom.addWidget(left)
        self.bottom.addWidget(right)
        self.bottom.setSizes([420, 700])
        # weights above the table and the line in a tall tab; all three side by side in a short one
        self.vsplit = QSplitter(Qt.Vertical)
        self.vsplit.addWidget(mosaic_box)
        self.vsplit.addWidget(self.bottom)
        self.vsplit.setSizes([420, 330])

        body = QHBoxLayout()
        body.addWidget(controls)
        body.addWidget(self.vsplit, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        lay.addLayout(body, 1)
        lay.addWidget(self._note.label)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self._clear()
        self._update_buttons()

    def resizeEvent(self, ev):
        h = ev.size().height()
        short = h < SHORT
        orient = Qt.Horizontal if short else Qt.Vertical
        if self.vsplit.orientation() != orient:
            self.vsplit.setOrientation(orient)
            w = max(1, self.vsplit.width())
            self.vsplit.setSizes([w * 3 // 10, w * 7 // 10] if short else [420, 330])
            b = max(1, self.bottom.width())
            self.bottom.setSizes([b // 2, b // 2] if short else [420, 700])
            # a short tab's narrow mosaic column: the caption's title only, the rest in its tooltip
            self.caption.setText(MOSAIC_CAPTION.split("</b>")[0] + "</b>" if short else MOSAIC_CAPTION)
        self._note.fit(h)
        super().resizeEvent(ev)

    # contract (forwarded by the panel)

    def start(
        self,
        config=None,
        n_train: int | None = None,
        epochs: float | None = None,
        n_seeds: int | None = None,
        n_test: int | None = None,
    ):
        """Start a run (arguments override the controls; ``n_test`` limits the test set, for tests)."""
        if self.data is None or self.job is not None:
            return
        name, cfg = chosen_config(self.network, self.current_config)
        cfg = config or cfg
        n_train = min(int(n_train or self.n_train_box.currentData()), len(self.data.train_labels))
        epochs = float(epochs or self.epochs.value())
        n_seeds = int(n_seeds or self.n_seeds.value())
        seeds = [self.first_seed.value() + k for k in range(n_seeds)]
        data = ex.subset(self.data, n_train, n_test)
        self.config = cfg
        self._n_seeds = n_seeds
        self._clear()
        steps = max(1, int(round(epochs * -(-n_train // cfg.batch_size))))
        every = max(1, steps // 100)
        self.status.setText(
            f"Training {describe_config(cfg)} from seeds {', '.join(map(str, seeds))}, "
            f"{epochs:g} epochs on {n_train:,} digits each\u2026"
        )
        n_line = min(LINE_EXAMPLES, n_train)

        def work(stop, data=data, cfg=cfg, seeds=seeds, epochs=epochs, every=every, n_line=n_line):
            results = []
            for r in ex.train_seeds(data, cfg, seeds, epochs, every=every, stop=stop):
                if isinstance(r, ex.SeedResult):
                    results.append(r)
                yield r
            if len(results) == len(seeds):
                X = data.scaled("train", np.dtype(cfg.dtype))[:n_line]  # only these rows as floats
                yield from ex.pair_lines(cfg, results, X, data.train_labels[:n_line], LINE_POINTS, stop=stop)

        self.start_job(work)
        self._update_buttons()

    def stop(self):
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping\u2026")

    # job signals

    def _on_progress(self, items):
        n = max(1, self._n_seeds)
        for it in items:
            if isinstance(it, ex.SeedResult):
                self.results.append(it)
                self._add_result(it)
            elif isinstance(it, ex.PairLine):
                self.lines[it.a, it.b] = it
                self.pair_box.blockSignals(True)
                self.pair_box.addItem(f"seed {it.seed_a} and seed {it.seed_b}", (it.a, it.b))
                self.pair_box.blockSignals(False)
                if self.pair_box.count() == 1:
                    self._show_line()
        last = items[-1]
        if isinstance(last, ex.SeedProgress):
            self.progress.setValue(int(1000 * (last.index + last.step / last.steps) / n * 0.95))
            self.status.setText(f"Seed {last.seed} ({last.index + 1} of {n}): step {last.step:,} of {last.steps:,}")
        elif isinstance(last, ex.SeedResult) and len(self.results) == self._n_seeds:
            self.progress.setValue(950)
            self.status.setText("Measuring the cost along the straight lines between the trained networks\u2026")

    def _on_done(self, _result, stopped):
        if stopped and len(self.lines) < self._n_seeds * (self._n_seeds - 1) // 2:
            self.status.setText(f"Stopped: {len(self.results)} of {self._n_seeds} networks trained.")
            return
        accs = [r.test_acc for r in self.results]
        line = self.lines.get((0, 1))
        self.status.setText(
            f"Done. Test accuracies {', '.join(f'{a:.2%}' for a in accs)}: spread {max(accs) - min(accs):.2%}. "
            + (
                f"Between seeds {line.seed_a} and {line.seed_b} the cost climbs {line.line.barrier:.3g} above the "
                f"mean of the ends."
                if line
                else ""
            )
        )
        self.finished.emit(list(self.results))

    def _on_failed(self, message):
        self.status.setText(f"The run failed: {message.splitlines()[0]}")

    def _on_job_finished(self):
        self.job = None
        self.progress.setValue(self.progress.maximum())
        self._update_buttons()

    # drawing

    def _clear(self):
        self.results, self.lines = [], {}
        self.table.setRowCount(0)
        self.summary.setText("")
        self.pair_box.clear()
        self.line_curve.setData([], [])
        self.line_ends.setData([], [])
        self.ends_mean.hide()
        self.peak.setData([], [])
        n = self._n_seeds or self.n_seeds.value()
        for i, (img, title, vb) in enumerate(zip(self.images, self.titles, self.boxes)):
            img.clear()
            title.setText("seed \u2026" if i < n else "")
            vb.setVisible(i < n)
            fit_label(title, vb.width() + 4)

    def _add_result(self, r):
        layout = Layout(self.config.sizes)
        color = run_color(r.index)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((str(r.seed), f"{r.test_acc:.2%}", f"{r.test_cost:.4f}", f"{r.train_cost:.4f}")):
            it = QTableWidgetItem(text)
            it.setTextAlignment(Qt.AlignCenter)
            if col == 0:
                it.setForeground(pg.mkColor(color))
            self.table.setItem(row, col, it)
        if layout.sizes[0] == 784:
            self._draw_mosaics(layout)
        accs = [x.test_acc for x in self.results]
        if len(accs) > 1:
            self.summary.setText(
                f"Test accuracy spread (best \u2212 worst): <b>{max(accs) - min(accs):.2%}</b>; "
                f"mean {np.mean(accs):.2%}."
            )

    def _draw_mosaics(self, layout):
        mosaics = [weight_mosaic(layout.views(np.asarray(r.theta))[0][0]) for r in self.results]
        scale = max(s for _, s in mosaics)
        for r, (img_data, _) in zip(self.results, mosaics):
            img = self.images[r.index]
            img.setImage(img_data, levels=(-scale, scale))
            self.boxes[r.index].setRange(xRange=(0, img_data.shape[1]), yRange=(0, img_data.shape[0]), padding=0.02)
            self.titles[r.index].setText(
                f"<span style='color:{run_color(r.index)}'>seed {r.seed}</span>: test accuracy {r.test_acc:.2%}"
            )
            fit_label(self.titles[r.index], self.boxes[r.index].width() + 4)

    def _show_line(self, *_):
        key = self.pair_box.currentData()
        pl = self.lines.get(tuple(key)) if key is not None else None
        if pl is None:
            return
        line = pl.line
        self.line_curve.setData(line.t, line.costs)
        self.line_ends.setData(
            [0.0, 1.0],
            [line.costs[0], line.costs[-1]],
            brush=[pg.mkBrush(run_color(pl.a)), pg.mkBrush(run_color(pl.b))],
        )
        mean = 0.5 * (line.costs[0] + line.costs[-1])
        self.ends_mean.setPos(mean)
        self.ends_mean.show()
        k = int(np.argmax(line.costs))
        self.peak.setData([line.t[k]], [line.costs[k]])
        self.line_widget.getPlotItem().setTitle(
            f"Cost on the straight line from seed {pl.seed_a} (t = 0) to seed {pl.seed_b} (t = 1):<br>the highest "
            f"point is {line.barrier:.3g} above the ends' mean (dashed)",
            color=FOREGROUND,
            size="10pt",
        )

    def _update_buttons(self):
        busy = self.job is not None
        self.start_button.setEnabled(self.data is not None and not busy)
        self.stop_button.setEnabled(busy)
        if self.data is None and not busy:
            self.status.setText("Load MNIST to run this experiment.")
        elif self.status.text() == "Load MNIST to run this experiment.":
            self.status.setText("")
