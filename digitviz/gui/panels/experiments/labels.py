"""Tab "Random labels": structure against random labels (Zhang et al. 2017; Arpit et al. 2017).

One action trains two copies of the same network from the same initial weights, one on the true
labels and one on shuffled labels, interleaved, on a background thread
(:func:`digitviz.core.experiments.compare_labels`), and overlays their training cost, training
accuracy and test accuracy against steps. The run can be stopped at any time; its curves are kept.
Every run is kept in a list with its settings: tick a run to overlay it, untick or remove it.

Imports: NumPy, PySide6, pyqtgraph, digitviz.core.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from digitviz.core import experiments as ex

from .common import (
    FOREGROUND,
    MUTED,
    SHORT,
    FoldingNote,
    TrainingTab,
    chance_line,
    chosen_config,
    column,
    dashed,
    describe_config,
    job_progress,
    network_combo,
    row,
    run_color,
    size_combo,
    solid,
    style_plot,
)

PLOTS = (
    ("cost", "Training cost", "average cost"),
    ("train_acc", "Training accuracy, on the labels it trains on", "accuracy"),
    ("test_acc", "Test accuracy (dotted: chance, 10%)", "accuracy"),
)
X_LABELS = {"steps": "steps (mini-batches per copy)", "epochs": "epochs (passes over its training digits)"}
SHORT_TITLES = {"cost": "Training cost", "train_acc": "Training accuracy", "test_acc": "Test accuracy"}
POINTS_PER_RUN = 200  # records per run, whatever its length
COPY_NAMES = {"true": "true labels", "shuffled": "shuffled labels"}


class _RunView:
    """One run's curves in the three plots, created once and updated with setData."""

    def __init__(self, run: ex.LabelsRun, number: int):
        self.run = run
        self.number = number
        self.color = run_color(number - 1)
        self.curves = {}
        for metric, _, _ in PLOTS:
            for copy in ex.LABEL_COPIES:
                pen = solid(self.color) if copy == "true" else dashed(self.color)
                self.curves[metric, copy] = pg.PlotDataItem(pen=pen, name=f"run {number}: {COPY_NAMES[copy]}")
        self.shown = False
        self.item: QListWidgetItem | None = None

    def update(self, x_mode="steps", log_x=False):
        for (metric, copy), curve in self.curves.items():
            x, y = self.run.series(copy, metric, x_mode)
            if log_x:  # step 0 has no logarithm
                keep = x > 0
                x, y = x[keep], y[keep]
            curve.setData(x, y)


class LabelsTab(TrainingTab):
    """Train true-label and shuffled-label copies side by side; keep and compare runs.

    Signals
    -------
    run_finished(LabelsRun)
        A run ended (completed or stopped); its curves stay.

    Attributes
    ----------
    runs : list of LabelsRun
        Every run still in the list, oldest first.
    job : Job or None
        The running job.
    """

    run_finished = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job = None  # the running background Job, if any
        self.views: list[_RunView] = []
        self._live: _RunView | None = None
        self._count = 0

        self.network = network_combo()
        self.n_train_box = size_combo(60_000)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(3)
        self.epochs.setSuffix(" epochs")
        self.epochs.setToolTip("Passes over the training digits for each copy")
        self.x_mode = QComboBox()
        self.x_mode.addItems(list(X_LABELS))
        self.x_mode.setToolTip(
            "Horizontal axis: steps, or passes over the training digits (compares runs of\ndifferent sizes)"
        )
        self.log_x = QCheckBox("log scale")
        self.log_x.setToolTip("A logarithmic step axis shows the first, fiddling phase")
        self.start_button = QPushButton("Train true vs shuffled labels")
        self.start_button.setToolTip(
            "Two copies of one network, same initial weights and example order;\n"
            "one learns the true labels, the other a fixed shuffle of them"
        )
        self.start_button.setObjectName("primary")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress, self.status = job_progress()
        self._note = FoldingNote(
            "Solid: true labels; dashed: the same network on shuffled labels. The lesson's claim: with true "
            "labels the cost falls quickly after an initial fiddling phase; with random labels it descends "
            "slowly (memorising, if it can), and the test accuracy stays at chance: there is nothing to "
            "generalise. A small network cannot memorise 60,000 random labels; try 500 digits and 'wide'."
        )
        # the controls: a column at the left, so the plots get the whole height of a bottom dock
        controls = column(
            self.network,
            self.n_train_box,
            row(self.epochs, self.stop_button),
            self.start_button,
            row(QLabel("x axis:"), self.x_mode, self.log_x),
            self.progress,
            self.status,
            self._note.info,
            width=230,
        )

        self.plots = {}
        self._short = False
        self.legend = None
        plots_row = QWidget()
        pr = QHBoxLayout(plots_row)
        pr.setContentsMargins(0, 0, 0, 0)
        for metric, title, left in PLOTS:
            w = pg.PlotWidget()
            w.setMinimumSize(100, 120)  # three of them and the controls fit a 1024 px window's bottom dock
            w.setToolTip(title)
            p = w.getPlotItem()
            style_plot(p, title, left, X_LABELS["steps"])
            p.getAxis("left").enableAutoSIPrefix(False)
            if metric != "cost":
                p.setYRange(0, 1.0, padding=0.02)
                chance_line(p, text=None)
            self.plots[metric] = p
            pr.addWidget(w)
        # opaque, so it stays readable over curves; drag it aside if it covers one
        self.legend = self.plots["cost"].addLegend(
            offset=(-10, 10), labelTextColor=MUTED, brush=pg.mkBrush(20, 22, 26, 235), pen=pg.mkPen("#2e333d")
        )

        self.run_list = QListWidget()
        self.run_list.setSelectionMode(QAbstractItemView.SingleSelection)
        self.run_list.itemChanged.connect(self._on_item_changed)
        self.run_list.currentRowChanged.connect(self._update_buttons)
        self.remove_button = QPushButton("Remove run")
        self.remove_button.setEnabled(False)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        runs_title = QLabel("<b>Runs</b> (tick to overlay)")
        runs_title.setWordWrap(True)
        sl.addWidget(runs_title)
        sl.addWidget(self.run_list, 1)
        sl.addWidget(self.remove_button)

        self.run_list.setMinimumHeight(60)
        # at least 120 px for the list; the column's minimum is its content's, so at a projector's font the
        # "Remove run" button keeps its full width (a fixed 120 px on the column cut it)
        self.run_list.setMinimumWidth(120)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(plots_row)
        split.addWidget(side)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 200])

        body = QHBoxLayout()
        body.addWidget(controls)
        body.addWidget(split, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        lay.addLayout(body, 1)
        lay.addWidget(self._note.label)

        self.x_mode.currentIndexChanged.connect(self._redraw_all)
        self.log_x.toggled.connect(self._redraw_all)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.remove_button.clicked.connect(self.remove_selected)
        self._update_buttons()

    def resizeEvent(self, ev):
        self._note.fit(ev.size().height())
        short = ev.size().height() < SHORT
        if short != self._short:
            self._short = short
            # narrow plots side by side in a short tab: short titles (the long ones stay as tooltips)
            for metric, title, _ in PLOTS:
                p = self.plots[metric]
                p.setTitle(SHORT_TITLES[metric] if short else title, color=FOREGROUND, size="10pt")
                p.setLabel("bottom", self._x_label())
        super().resizeEvent(ev)

    def _x_label(self):
        mode = self.x_mode.currentText()
        return mode if self._short else X_LABELS[mode]

    # contract (forwarded by the panel)

    # runs

    @property
    def runs(self) -> list:
        return [v.run for v in self.views]

    def start(self, config=None, n_train: int | None = None, epochs: float | None = None, n_test: int | None = None):
        """Start a run (arguments override the controls; ``n_test`` limits the test set, for tests)."""
        if self.data is None or self.job is not None:
            return
        name, cfg = chosen_config(self.network, self.current_config)
        cfg = config or cfg
        n_train = int(n_train or self.n_train_box.currentData())
        n_train = min(n_train, len(self.data.train_labels))
        epochs = float(epochs or self.epochs.value())
        data = ex.subset(self.data, n_train, n_test)
        steps = max(1, int(round(epochs * -(-n_train // cfg.batch_size))))
        every = max(1, steps // POINTS_PER_RUN)
        self._count += 1
        run = ex.LabelsRun(cfg, n_train, name=f"Run {self._count}: {name}, {n_train:,} digits, {epochs:g} ep")
        view = _RunView(run, self._count)
        self._add_view(view)
        self._live = view
        self.status.setText(f"Training two copies of {describe_config(cfg)} for {steps:,} steps each\u2026")
        self.progress.setValue(0)

        def work(stop, data=data, cfg=cfg, steps=steps, every=every):
            return ex.compare_labels(data, cfg, steps, every=every, stop=stop)

        self.start_job(work)
        self._update_buttons()

    def stop(self):
        """Stop the running copies at the next step; the curves so far are kept."""
        if self.job is not None:
            self.job.stop()
            self.status.setText("Stopping\u2026")

    def remove_selected(self):
        row = self.run_list.currentRow()
        if 0 <= row < len(self.views) and self.views[row] is not self._live:
            self.remove_run(row)

    def remove_run(self, index: int):
        view = self.views.pop(index)
        self._show(view, False)
        self.run_list.takeItem(index)
        self._update_buttons()

    # job signals

    def _on_progress(self, records):
        view = self._live
        if view is None:
            return
        for rec in records:
            view.run.add(rec)
        self._redraw(view)
        rec = records[-1]
        self.progress.setValue(int(1000 * rec.step / max(1, rec.steps)))
        self.status.setText(
            f"Step {rec.step:,} of {rec.steps:,} (epoch {rec.epoch:.2f}). Training accuracy: true labels "
            f"{rec.true.train_acc:.1%}, shuffled {rec.shuffled.train_acc:.1%}; test accuracy: "
            f"{rec.true.test_acc:.1%} vs {rec.shuffled.test_acc:.1%}."
        )

    def _on_done(self, _result, stopped):
        view = self._live
        if view is None:
            return
        run = view.run
        run.finished = True
        r = run
        verb = "Stopped" if stopped else "Finished"
        self.status.setText(
            f"{verb} at step {r.steps[-1] if r.steps else 0:,}. Training accuracy: true labels "
            f"{r.last('true', 'train_acc'):.1%}, shuffled {r.last('shuffled', 'train_acc'):.1%}; test accuracy "
            f"{r.last('true', 'test_acc'):.1%} vs {r.last('shuffled', 'test_acc'):.1%} (chance: 10%)."
        )
        self._label_item(view)
        self.run_finished.emit(run)

    def _on_failed(self, message):
        self.status.setText(f"The run failed: {message.splitlines()[0]}")

    def _on_job_finished(self):
        if self._live is not None:
            self._live.run.finished = True
            self._label_item(self._live)
        self._live = None
        self.job = None
        self.progress.setValue(self.progress.maximum())
        self._update_buttons()

    # list and plots

    def _add_view(self, view: _RunView):
        self.views.append(view)
        item = QListWidgetItem()
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked)
        view.item = item
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self._label_item(view)
        self._show(view, True)

    def _label_item(self, view: _RunView):
        r = view.run
        item = view.item
        text = r.name
        if r.steps:
            text += (
                f"\n  train acc {r.last('true', 'train_acc'):.0%} vs {r.last('shuffled', 'train_acc'):.0%}, "
                f"test {r.last('true', 'test_acc'):.0%} vs {r.last('shuffled', 'test_acc'):.0%}"
            )
        if not r.finished:
            text += "  (running)"
        self.run_list.blockSignals(True)
        item.setText(text)
        item.setForeground(pg.mkColor(view.color))
        item.setToolTip(describe_config(r.config) + f"; {r.n_train:,} training digits")
        self.run_list.blockSignals(False)

    def _on_item_changed(self, item):
        for view in self.views:
            if view.item is item:
                self._show(view, item.checkState() == Qt.Checked)

    def _show(self, view: _RunView, on: bool):
        if on == view.shown:
            return
        view.shown = on
        for (metric, _copy), curve in view.curves.items():
            plot = self.plots[metric]
            if on:
                plot.addItem(curve)  # the cost plot's legend picks up named items
            else:
                plot.removeItem(curve)
        if on:
            self._redraw(view)

    def _redraw(self, view: _RunView):
        view.update(self.x_mode.currentText(), self.log_x.isChecked())

    def _redraw_all(self, *_):
        log = self.log_x.isChecked()
        for p in self.plots.values():
            p.setXRange(0, 1, padding=0)  # otherwise the old range, read as exponents, overflows
            p.setLogMode(x=log, y=False)
            p.enableAutoRange(axis="x")
            p.setLabel("bottom", self._x_label())
        for view in self.views:
            if view.shown:
                self._redraw(view)

    def _update_buttons(self, *_):
        busy = self.job is not None
        self.start_button.setEnabled(self.data is not None and not busy)
        self.stop_button.setEnabled(busy)
        row = self.run_list.currentRow()
        self.remove_button.setEnabled(0 <= row < len(self.views) and self.views[row] is not self._live)
        if self.data is None and not busy:
            self.status.setText("Load MNIST to run this experiment.")
        elif self.status.text() == "Load MNIST to run this experiment.":
            self.status.setText("")
