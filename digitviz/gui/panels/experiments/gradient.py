"""Tab "Gradient of one step": what the negative gradient of one mini-batch asked for.

After "Step one mini-batch" the snapshot carries a :class:`~digitviz.core.snapshot.StepReport`. This
tab shows, for that batch, each output neuron's nudge (up or down, how much), the 20 weights and
biases with the largest components of the negative gradient with their share of ``|grad C|^2``, and
how concentrated the whole gradient is. The lesson's reading: each component says which way to
nudge that parameter, and its size says how much that nudge matters.

Imports: NumPy, PySide6, pyqtgraph, digitviz.core.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from digitviz.core import experiments as ex
from digitviz.core.network import Layout

from .common import FOREGROUND, MUTED, NEGATIVE, POSITIVE, SHORT, DockTab, FoldingNote, digit_pixmap, style_plot

TOP_K = 20
UP, DOWN = "\u2191", "\u2193"
HEADERS = (
    "#",
    "parameter",
    "connects",
    "nudge\n\u2212\u2202C/\u2202\u03b8",
    "share of\n|\u2207C|\u00b2",
    "running\ntotal",
)
NO_STEP = (
    "<b>No single step yet.</b> Press <i>Step one mini-batch</i>: this tab then shows what that "
    "step's negative gradient asked of the network."
)


class GradientTab(DockTab):
    """Reads one step's gradient.

    Signals
    -------
    gradient_shown(list)
        Emitted when a new step is shown: per layer, the component of the negative gradient shaped
        like that layer's ``W`` (:func:`digitviz.core.experiments.gradient_edge_values`), for a
        diagram that colours its connections by it.

    Attributes
    ----------
    shown_step : int or None
        The step whose gradient is on screen.
    components : list of Component
        The rows of the table.
    total_share : float
    """

    gradient_shown = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.shown_step: int | None = None
        self._shown_report = None
        self._generation = None
        self.components: list = []
        self.total_share = 0.0
        self.edge_values: list | None = None

        self.thumb = QLabel()
        self.thumb.setFixedSize(40, 40)
        self.header = QLabel(NO_STEP)
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.RichText)
        self.moved_on = QLabel("")
        self.moved_on.setStyleSheet(f"color: {MUTED};")
        self.moved_on.setWordWrap(True)
        self._note = FoldingNote(
            "The lesson's reading of the gradient: each component of \u2212\u2207C says which way to nudge one "
            "weight or bias (\u2191 up, \u2193 down), and its size says how much that nudge matters. "
            "Its share is its square over |\u2207C|\u00b2; the shares of all 13,002 add up to 100%."
        )
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.thumb, 0, Qt.AlignTop)
        htext = QVBoxLayout()
        htext.setSpacing(0)
        htext.addWidget(self.header)
        htext.addWidget(self.moved_on)
        top.addLayout(htext, 1)
        top.addWidget(self._note.info, 0, Qt.AlignTop)

        # output nudges: one bar per output neuron, blue up, orange down
        self.nudge_plot = pg.PlotWidget()
        p = self.nudge_plot.getPlotItem()
        style_plot(p, "What the batch asks of each output neuron", "nudge (batch mean)", "output neuron (digit)")
        p.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        p.getAxis("left").enableAutoSIPrefix(False)
        p.setMouseEnabled(False, False)
        p.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(MUTED, width=1)))
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7, brush=POSITIVE, pen=None)
        p.addItem(self.bars)
        p.setXRange(-0.6, 9.6, padding=0)
        p.setYRange(-1, 1)

        # concentration: share of |grad|^2 in the k largest components
        self.cum_plot = pg.PlotWidget()
        c = self.cum_plot.getPlotItem()
        style_plot(
            c, "How concentrated is the step?", "share of |\u2207C|\u00b2", "the k largest components (log scale)"
        )
        c.setLogMode(x=True, y=False)
        c.setYRange(0, 1.02, padding=0)
        c.setMouseEnabled(False, False)
        self.cum_curve = c.plot([1, 2], [0, 0], pen=pg.mkPen(FOREGROUND, width=2))
        self.cum_marker = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(POSITIVE), pen=None)
        c.addItem(self.cum_marker)
        # in the bottom-right corner, below the rising curve, where the plot is always empty: next to the
        # marker it ran past a narrow plot's right edge
        self.cum_label = pg.TextItem("", color=POSITIVE, anchor=(1, 1))
        c.addItem(self.cum_label)

        self.table = QTableWidget(TOP_K, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.setFocusPolicy(Qt.NoFocus)
        hh = self.table.horizontalHeader()
        for i in range(len(HEADERS)):
            hh.setSectionResizeMode(i, QHeaderView.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(21)
        self.table.setAlternatingRowColors(True)
        self.table.setStyleSheet("QTableWidget { alternate-background-color: #181b21; }")
        self._items = [[QTableWidgetItem("") for _ in HEADERS] for _ in range(TOP_K)]
        for r, row in enumerate(self._items):
            for col, it in enumerate(row):
                if col in (0, 3, 4, 5):
                    it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, col, it)
        self.footer = QLabel("")
        self.footer.setWordWrap(True)

        for w in (self.nudge_plot, self.cum_plot):
            w.setMinimumSize(150, 120)
        self.table.setMinimumHeight(90)
        # the two plots: side by side in a short tab (a bottom dock), one above the other in a tall one
        self._plots = QBoxLayout(QBoxLayout.LeftToRight)
        self._plots.setContentsMargins(0, 0, 0, 0)
        self._plots.addWidget(self.nudge_plot, 4)
        self._plots.addWidget(self.cum_plot, 3)
        right = QVBoxLayout()
        right.setSpacing(2)
        right.addWidget(QLabel(f"<b>The {TOP_K} weights and biases the step nudges most</b>"))
        right.addWidget(self.table, 1)
        right.addWidget(self.footer)
        body = self._body = QHBoxLayout()
        body.addLayout(self._plots, 4)
        body.addLayout(right, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addLayout(body, 1)
        lay.addWidget(self._note.label)
        self._set_empty()

    def resizeEvent(self, ev):
        short = ev.size().height() < SHORT
        if short != getattr(self, "_short", None):
            self._short = short
            self._plots.setDirection(QBoxLayout.LeftToRight if short else QBoxLayout.TopToBottom)
            self._plots.setStretch(0, 4 if short else 3)
            self._plots.setStretch(1, 3 if short else 2)
            self._body.setStretch(0, 1 if short else 2)  # plots : table
            self._body.setStretch(1, 1 if short else 3)
            # a plot's title does not shrink with it: shorter words where the plots are side by side
            nudge = self.nudge_plot.getPlotItem()
            nudge.setTitle(
                "Asked of each output" if short else "What the batch asks of each output neuron",
                color=FOREGROUND,
                size="10pt",
            )
            nudge.setLabel("bottom", "output neuron" if short else "output neuron (digit)", color=MUTED)
            cum = self.cum_plot.getPlotItem()
            cum.setTitle("Concentration" if short else "How concentrated is the step?", color=FOREGROUND, size="10pt")
            cum.setLabel("bottom", "k largest (log)" if short else "the k largest components (log scale)", color=MUTED)
        self._note.fit(ev.size().height())
        super().resizeEvent(ev)

    # contract

    def on_snapshot(self, snap):
        if snap.generation != self._generation:
            self._generation = snap.generation
            if snap.step_report is None:
                self._set_empty()
        rep = snap.step_report
        if rep is not None and rep is not self._shown_report:
            self.show_report(snap)
        elif self.shown_step is not None:
            self._update_moved_on(snap.step)

    # drawing

    def show_report(self, snap):
        """Show the step report carried by ``snap`` (the snapshot published right after the step)."""
        rep = snap.step_report
        layout = Layout(snap.config.sizes)
        self._shown_report = rep
        self.shown_step = snap.step
        self.components, self.total_share = ex.top_components(rep.grad, layout, TOP_K)
        self.edge_values = ex.gradient_edge_values(layout, rep.grad)

        B = snap.config.batch_size
        self.header.setText(
            f"<b>Step {snap.step:,}</b> (epoch {snap.epoch + 1}): one mini-batch of {B} digit{'s' * (B != 1)}"
            f" \u00b7 batch cost {rep.cost_before:.4g} \u2192 {rep.cost_after:.4g} after the step "
            f"(<span style='color:{POSITIVE if rep.cost_after <= rep.cost_before else NEGATIVE}'>"
            f"{rep.cost_after - rep.cost_before:+.3g}</span>) \u00b7 |\u2207C| = {rep.grad_norm:.3g}"
            f" \u00b7 learning rate {rep.lr:g} \u00b7 step length {rep.step_norm:.3g}"
        )
        if snap.example is not None:
            self.thumb.setPixmap(digit_pixmap(snap.example, 40))
            self.thumb.setToolTip(f"The batch's first digit (label {snap.example_label})")
        self._update_moved_on(snap.step)

        n = np.asarray(rep.output_nudges, np.float64)
        brushes = [pg.mkBrush(POSITIVE if v >= 0 else NEGATIVE) for v in n]
        self.bars.setOpts(x=np.arange(n.size), height=n, brushes=brushes)
        top = float(np.max(np.abs(n))) if n.size else 1.0
        top = top * 1.15 if top > 0 else 1.0
        self.nudge_plot.getPlotItem().setYRange(-top, top, padding=0)
        self.nudge_plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i, f"{i}\n{UP if v >= 0 else DOWN}") for i, v in enumerate(n)]]
        )

        ranks, shares = ex.cumulative_shares(rep.grad)
        self.cum_curve.setData(ranks, shares)
        k = min(TOP_K, layout.size)
        self.cum_marker.setData([np.log10(k)], [self.total_share])
        self.cum_label.setText(f"top {k}:\n{self.total_share:.1%}")
        self.cum_label.setPos(np.log10(layout.size), 0.03)
        self.cum_plot.getPlotItem().setXRange(0, np.log10(layout.size), padding=0.02)

        # one model update for the whole table, not one per cell (each would re-measure the columns)
        model = self.table.model()
        model.blockSignals(True)
        running = 0.0
        for r in range(TOP_K):
            row = self._items[r]
            if r >= len(self.components):
                for it in row:
                    it.setText("")
                continue
            comp = self.components[r]
            running += comp.share
            up = comp.value >= 0
            row[0].setText(str(r + 1))
            row[1].setText(comp.name)
            row[2].setText(ex.plain_name(layout, comp.index))
            row[2].setToolTip(row[2].text())  # the column is narrow in a short dock
            row[3].setText(f"{UP if up else DOWN} {comp.value:+.3g}")
            row[3].setForeground(QBrush(QColor(POSITIVE if up else NEGATIVE)))
            row[4].setText(f"{comp.share:.2%}")
            row[5].setText(f"{running:.1%}")
        model.blockSignals(False)
        model.dataChanged.emit(model.index(0, 0), model.index(TOP_K - 1, len(HEADERS) - 1))
        P = layout.size
        self.footer.setText(
            f"These {len(self.components)} of {P:,} weights and biases carry <b>{self.total_share:.1%}</b> of "
            f"|\u2207C|\u00b2; the other {P - len(self.components):,} share the remaining "
            f"{1 - self.total_share:.1%}."
        )
        self.gradient_shown.emit(self.edge_values)

    def _update_moved_on(self, step):
        if self.shown_step is None or step == self.shown_step:
            self.moved_on.setText("")
        else:
            self.moved_on.setText(
                f"Shown: the gradient of step {self.shown_step:,}. Training has moved on to step "
                f"{step:,}; step one mini-batch again to read a fresh one."
            )

    def _set_empty(self):
        self._shown_report = None
        self.shown_step = None
        self.components, self.total_share, self.edge_values = [], 0.0, None
        self.header.setText(NO_STEP)
        self.moved_on.setText("")
        self.thumb.clear()
        self.bars.setOpts(height=np.zeros(10), brushes=[pg.mkBrush(POSITIVE)] * 10)
        self.cum_curve.setData([1, 2], [0, 0])
        self.cum_marker.setData([], [])
        self.cum_label.setText("")
        for row in self._items:
            for it in row:
                it.setText("")
        self.footer.setText("")
