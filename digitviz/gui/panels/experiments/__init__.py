"""The experiments panel: the lesson's experiments, one tab each, following the panel contract.

Tabs: "Gradient of one step", "Random labels", "Many minima", "Mistakes" (see
:mod:`digitviz.gui.experiments`). The maths is in :mod:`digitviz.core.experiments`; heavy work runs on
jobs (:mod:`digitviz.gui.jobs`) started from copies, so ``on_snapshot`` stays cheap.

Imports: PySide6 and the tab modules.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from .gradient import GradientTab
from .labels import LabelsTab
from .minima import MinimaTab
from .mistakes import MistakesTab

TABS = ("gradient", "labels", "minima", "mistakes")


class ExperimentsPanel(QWidget):
    """A dock panel with the lesson's experiments.

    Signals
    -------
    send_to_input(object, int)
        ``(image (784,) float32 in [0, 1], true label)``: a test digit clicked in the Mistakes tab.
    gradient_shown(list)
        Per layer, the negative gradient's component for each connection (shaped like ``W``), when a
        new single step is shown; for a diagram that colours its connections by it.

    Attributes
    ----------
    tabs : QTabWidget
    gradient, labels, minima, mistakes : the tab widgets
    """

    send_to_input = Signal(object, int)
    gradient_shown = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.gradient = GradientTab()
        self.labels = LabelsTab()
        self.minima = MinimaTab()
        self.mistakes = MistakesTab()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.gradient, "Gradient of one step")
        self.tabs.addTab(self.labels, "Random labels")
        self.tabs.addTab(self.minima, "Many minima")
        self.tabs.addTab(self.mistakes, "Mistakes")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tabs)
        self.mistakes.send_to_input.connect(self.send_to_input)
        self.gradient.gradient_shown.connect(self.gradient_shown)

    # contract

    def on_snapshot(self, snap):
        """Cheap: the gradient tab redraws only for a new step report; the others store the snapshot."""
        self.gradient.on_snapshot(snap)
        self.labels.on_snapshot(snap)
        self.minima.on_snapshot(snap)
        self.mistakes.on_snapshot(snap)

    def set_dataset(self, ds):
        for tab in (self.labels, self.minima, self.mistakes):
            tab.set_dataset(ds)

    def show_tab(self, name: str):
        """Bring tab ``name`` (one of ``TABS``) to the front."""
        self.tabs.setCurrentIndex(TABS.index(name))

    def shutdown(self):
        """Stop the background runs and wait for their threads (closing, quitting)."""
        for tab in (self.labels, self.minima, self.mistakes):
            tab.shutdown()

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)
