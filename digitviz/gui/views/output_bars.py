"""Ten output bars, one per digit, with their values written above them and the true label outlined.

Imports: NumPy, PySide6, pyqtgraph and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from .. import colors


class OutputBars(pg.PlotWidget):
    """Ten bars, one per digit, with their values written above them."""

    def __init__(self, n=10, parent=None):
        super().__init__(parent=parent)
        self.n = n
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMinimumHeight(110)
        pi = self.getPlotItem()
        pi.setContentsMargins(2, 2, 2, 2)
        pi.hideAxis("left")
        ax = pi.getAxis("bottom")
        ax.setTicks([[(i, str(i)) for i in range(n)]])
        ax.setStyle(tickLength=0)
        f = QFont()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        ax.setTickFont(f)
        self.setXRange(-0.6, n - 0.4, padding=0)
        self.setYRange(0, 1.0, padding=0)
        pi.getViewBox().setDefaultPadding(0)
        self._base = pg.mkBrush(74, 110, 150)
        self._top = pg.mkBrush(colors.HIGHLIGHT)
        self._truth_pen = pg.mkPen(colors.TRUTH, width=2)
        self._no_pen = pg.mkPen(None)
        self._bars = pg.BarGraphItem(
            x=np.arange(n), height=np.zeros(n), width=0.72, brush=self._base, pen=pg.mkPen(None)
        )
        self.addItem(self._bars)
        self._texts = []
        for i in range(n):
            t = pg.TextItem("", color=colors.FOREGROUND, anchor=(0.5, 1.0))
            t.setPos(i, 0.02)
            self.addItem(t)
            self._texts.append(t)
        self._truth = pg.TextItem("true", color=colors.TRUTH, anchor=(0.5, 0.0))
        self._truth.setVisible(False)
        self.addItem(self._truth)
        self.values = np.zeros(n)
        self._label = -1
        self._shown = [""] * n

    def set_class_names(self, names) -> None:
        """Tick labels under the bars: the dataset's (short) class names, index = output neuron."""
        names = [str(x) for x in names][: self.n] + [str(i) for i in range(len(names), self.n)]
        ax = self.getPlotItem().getAxis("bottom")
        ax.setTicks([list(enumerate(names))])
        f = ax.style.get("tickFont") or QFont()
        f = QFont(f)
        base = QFont().pointSizeF() * 1.15
        f.setPointSizeF(base if max(map(len, names)) <= 2 else base * 0.75)
        ax.setTickFont(f)

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        if any(getattr(self, "_shown", ())):  # the value labels' placement depends on the height in pixels
            self.set_values(self.values, self._label)

    def set_values(self, values: np.ndarray | None, label: int = -1):
        """Show ``values`` (shape ``(n,)``; None empties the bars); outline the true ``label``."""
        if values is None:
            values = np.zeros(self.n)
            texts = [""] * self.n
        else:
            texts = [f"{v:.2f}" for v in values]
        values = np.asarray(values, dtype=np.float64)
        self.values = values
        self._label = label
        self._shown = texts
        top = int(values.argmax()) if values.any() else -1
        brushes = [self._top if i == top else self._base for i in range(self.n)]
        pens = [self._truth_pen if i == label else self._no_pen for i in range(self.n)]
        self._bars.setOpts(height=np.maximum(values, 0.004), brushes=brushes, pens=pens)
        # A value sits just above its bar; for a tall bar the label goes inside, so it never clips.
        # The view's height in pixels turns the text height into data units.
        h_px = max(self.getPlotItem().getViewBox().height(), 1.0)
        text_h = 20.0 / h_px
        for i, (t, v, s) in enumerate(zip(self._texts, values, texts)):
            v = min(max(float(v), 0.0), 1.0)
            t.setText(s)
            inside = v + text_h > 0.97
            t.setAnchor((0.5, 0.0) if inside else (0.5, 1.0))
            t.setColor(
                colors.BACKGROUND if inside and i == top else colors.HIGHLIGHT if i == top else colors.FOREGROUND
            )
            t.setPos(i, v - 0.01 if inside else v + 0.01)
        if 0 <= label < self.n:
            v = min(max(float(values[label]), 0.0), 1.0)
            inside = v + 2 * text_h > 0.97
            self._truth.setAnchor((0.5, 0.0) if inside else (0.5, 1.0))
            self._truth.setPos(label, (v - text_h) if inside else (v + text_h + 0.01))
            self._truth.setColor(colors.BACKGROUND if inside and label == top else colors.TRUTH)
        self._truth.setVisible(bool(0 <= label < self.n and values.any()))
