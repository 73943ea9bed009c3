"""What the hidden neurons look for: every first-hidden-layer neuron's 784 incoming weights as a 28x28 tile.

The lesson hoped the first hidden layer would pick up edges and loops; showing the weights shows
what it actually learns (mostly noisy blobs). The mosaic (built by
:func:`digitviz.core.diagram.weight_mosaic`) is drawn by the dumb view
:class:`digitviz.gui.views.mosaic.MosaicView` with the diverging colour map centred on zero and one
shared symmetric scale, shown by the colour bar. A frame costs one ``setImage``.

Modes: ``"initial"`` (the weights at the first snapshot of the current training run, i.e. of
``snap.generation``), ``"now"``, and ``"change"`` (now - initial: what learning wrote).

Follows the panel contract of docs/architecture.md (``on_snapshot``, ``set_dataset``). Clicking a
tile emits ``neuron_selected(i)``; ``select_neuron(i)`` follows the diagram's clicks.

Imports: NumPy, PySide6, digitviz.core, digitviz.gui.colors and digitviz.gui.views.mosaic.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitviz.core.diagram import input_shape, mosaic_grid, weight_mosaic
from digitviz.core.network import Layout

from .. import colors
from ..flow import FlowLayout
from ..views.mosaic import MosaicView

MODES = ("initial", "now", "change")
MODE_LABELS = {"initial": "Initial", "now": "Now", "change": "Change (now − initial)"}
MODE_TIPS = {
    "initial": "The random weights the network started from (first snapshot of this run)",
    "now": "The weights as they are now",
    "change": "What training has written so far: the weights now minus the initial ones",
}
BIG_LAYER = 64  # more neurons than this: redraw at most every THROTTLE_S (a 256-tile mosaic costs ~5 ms)
THROTTLE_S = 0.1


class WeightsPanel(QWidget):
    """A grid of the first hidden layer's weight images, live.

    Signals
    -------
    neuron_selected(int)
        The user clicked tile ``i`` (first-hidden-layer neuron ``i``).
    """

    neuron_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._mode = "now"
        self._generation = None
        self._initial = None  # theta at the first snapshot of this generation
        self._initial_step = 0
        self._theta = None  # latest theta
        self._sizes = None
        self._drawn = None  # (theta id, mode) last drawn
        self._selected = -1
        self._grid = (1, 1)
        self._tile_shape = (28, 28)
        self._n = 0
        self._scale = 1.0
        self._dataset = None
        self._last_draw = -1e9
        self._later = QTimer(self, singleShot=True)  # the trailing redraw of a throttled update
        self._later.timeout.connect(lambda: self._update(force=True))

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        self.title = QLabel("What the hidden neurons look for")
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        bar = FlowLayout()  # the buttons wrap in a narrow dock instead of being cut off
        self.mode_buttons = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        for m in MODES:
            b = QToolButton(text=MODE_LABELS[m], checkable=True, toolTip=MODE_TIPS[m])
            b.setAutoRaise(True)
            self._group.addButton(b)
            self.mode_buttons[m] = b
            b.clicked.connect(lambda _=False, m=m: self.set_mode(m))
            bar.addWidget(b)
        self.mode_buttons[self._mode].setChecked(True)
        lay.addLayout(bar)

        self.mosaic = MosaicView()
        self.mosaic.tile_clicked.connect(self._on_tile_clicked)
        self.mosaic.tile_hovered.connect(self._show_tile_info)
        lay.addWidget(self.mosaic, 1)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {colors.MUTED};")
        lay.addWidget(self.caption)
        self.info = QLabel("Waiting for the network…")
        self.info.setWordWrap(True)
        self.info.setStyleSheet(f"color: {colors.FOREGROUND};")
        lay.addWidget(self.info)

    # panel contract

    def on_snapshot(self, snap):
        """Take the latest weights; a new ``snap.generation`` (a reset) sets new initial weights."""
        sizes = tuple(snap.config.sizes)
        if snap.generation != self._generation or sizes != self._sizes or self._initial is None:
            self._generation = snap.generation
            self._initial = snap.theta
            self._initial_step = snap.step
            if sizes != self._sizes:
                self._set_architecture(sizes)
            self._theta = snap.theta
            self._update(force=True)
            return
        self._theta = snap.theta
        self._update()

    def set_dataset(self, ds):
        """Not needed to draw weights; kept for the panel contract."""
        self._dataset = ds

    # public

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str):
        """Show ``"initial"``, ``"now"`` or ``"change"`` (now - initial)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._mode = mode
        if not self.mode_buttons[mode].isChecked():
            self.mode_buttons[mode].setChecked(True)
        self._update(force=True)

    def select_neuron(self, i: int):
        """Highlight tile ``i`` (no signal); -1 clears."""
        self._selected = int(i) if 0 <= int(i) < self._n else -1
        self._place_highlight()

    def weights(self, which=None) -> np.ndarray | None:
        """The first layer's ``W`` (n, n_in) shown in mode ``which`` (default: the current one)."""
        which = which or self._mode
        if self._theta is None:
            return None
        now = self._layout.views(self._theta)[0][0]
        if which == "now":
            return now
        init = self._layout.views(self._initial)[0][0]
        return init if which == "initial" else now.astype(np.float64) - init

    # drawing

    def _set_architecture(self, sizes):
        self._sizes = sizes
        self._layout = Layout(sizes)
        self._n = sizes[1] if len(sizes) > 1 else 0
        self._tile_shape = input_shape(sizes[0])
        self._grid = mosaic_grid(self._n)
        self.mosaic.set_grid(self._n, self._grid, self._tile_shape)
        if self._selected >= self._n:
            self._selected = -1
        self._drawn = None
        self._place_highlight()

    def _update(self, force=False):
        if self._theta is None or self._n == 0:
            return
        key = (id(self._theta), id(self._initial), self._mode)
        if key == self._drawn:
            return
        if not force and self._n > BIG_LAYER:
            wait = self._last_draw + THROTTLE_S - time.perf_counter()
            if wait > 0:
                if not self._later.isActive():
                    self._later.start(int(wait * 1000) + 1)
                return
        self._later.stop()
        self._last_draw = time.perf_counter()
        self._drawn = key
        image, scale = weight_mosaic(self.weights(), cols=self._grid[1], tile_shape=self._tile_shape)
        self._scale = scale
        self.mosaic.set_image(image, scale)
        self._update_text()

    def _update_text(self):
        h, w = self._tile_shape
        what = {
            "initial": "the initial (random) weights",
            "now": "the weights now",
            "change": "the change since the start of this run (now − initial)",
        }[self._mode]
        self.caption.setText(
            f"Each tile is one first-hidden-layer neuron's {h * w} incoming weights drawn as a {h}×{w} "
            f"image: {what}. Blue: light at that pixel pushes the neuron on; orange: pushes it off; "
            f"dark: ignored. One shared scale for every tile, ±{self._scale:.3g}."
        )
        if self._mode != "now" and self._initial_step > 0:
            self.info.setText(f"initial = the first weights this panel saw, at step {self._initial_step}")
        elif self._selected >= 0:
            self._show_tile_info(self._selected)
        else:
            self.info.setText("Click a tile to find its neuron in the diagram.")

    def _place_highlight(self):
        self.mosaic.set_highlight(self._selected if self._n else -1)

    def _show_tile_info(self, i):
        W = self.weights()
        if W is None:
            return
        row = W[i]
        self.info.setText(
            f"hidden 1 · neuron {i}: weights from {row.min():+.3f} to {row.max():+.3f}, sum {row.sum():+.2f}"
        )

    # mouse

    def _on_tile_clicked(self, i):
        self.select_neuron(i)
        self._show_tile_info(i)
        self.neuron_selected.emit(i)
