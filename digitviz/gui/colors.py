"""Colours shared by every view: one activation colour map, one diverging map, and cached brushes/pens.

- Activation (0 dark .. 1 glowing white): :data:`ACTIVATION_CMAP`; :data:`ACTIVATION_BRUSHES` is a
  256-entry brush table; :func:`activation_brushes` indexes it (no ``mkBrush`` per neuron per frame).
- Signs: blue for positive, orange for negative (a pair that stays distinct with colour-blindness).
- Diverging (orange .. dark .. blue, centred on zero and dark there, so a zero weight looks like the
  background): :data:`DIVERGING_CMAP` and :func:`diverging_lut` for weight images.
- Connections: :func:`edge_pens` gives one cosmetic pen per (sign, magnitude bin).
- Runs: :data:`RUN_COLORS` and :func:`run_color`, one colour per kept or compared run (learning curves,
  experiments), apart from the live run's curve colours.

Imports: NumPy, PySide6 and pyqtgraph.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

BACKGROUND = "#14161a"
FOREGROUND = "#c8ccd4"
MUTED = "#7d8390"
POSITIVE = "#4aa3ff"  # blue
NEGATIVE = "#ff9a3c"  # orange
HIGHLIGHT = "#ffe08a"  # the network's answer, a selected neuron
TRUTH = "#7ee2a8"  # the true label (also marked by a shape, not only by colour)
# One colour per run (kept learning-curve runs, experiment runs and seeds): eight that stay apart from
# each other and from the live run's curves (blue cost, green train, amber test, purple gradient).
RUN_COLORS = ("#ff7b72", "#39c5bb", "#f778ba", "#ffa657", "#a5d6ff", "#d4e157", "#c9d1d9", "#c69c6d")

N_LEVELS = 256

ACTIVATION_CMAP = pg.ColorMap(
    [0.0, 0.35, 0.75, 1.0], [(24, 27, 33), (58, 78, 104), (170, 205, 240), (255, 255, 255)], name="digitviz-activation"
)

DIVERGING_CMAP = pg.ColorMap(
    [0.0, 0.25, 0.5, 0.75, 1.0],
    [(255, 214, 150), (255, 140, 40), (20, 22, 26), (40, 130, 255), (170, 220, 255)],
    name="digitviz-diverging",
)


def run_color(i: int) -> str:
    """The colour of run ``i`` (0-based), cycling through :data:`RUN_COLORS`."""
    return RUN_COLORS[i % len(RUN_COLORS)]


def _brush_table(cmap: pg.ColorMap, n=N_LEVELS):
    lut = cmap.getLookupTable(0.0, 1.0, n, alpha=True)
    table = np.empty(n, dtype=object)
    for i, (r, g, b, a) in enumerate(lut):
        table[i] = pg.mkBrush(int(r), int(g), int(b), int(a))
    return table


ACTIVATION_BRUSHES = _brush_table(ACTIVATION_CMAP)


def levels_index(values, lo=0.0, hi=1.0, n=N_LEVELS):
    """Quantise ``values`` on ``[lo, hi]`` (clipped) to integer levels ``0 .. n-1``."""
    v = (np.asarray(values, dtype=np.float64) - lo) * ((n - 1) / (hi - lo))
    np.nan_to_num(v, copy=False, nan=0.0)
    return np.clip(v, 0, n - 1).astype(np.intp)


def activation_brushes(values, lo=0.0, hi=1.0):
    """Brushes for activations ``values`` mapped linearly from ``[lo, hi]`` (clipped)."""
    return ACTIVATION_BRUSHES[levels_index(values, lo, hi)]


DIVERGING_BRUSHES = _brush_table(DIVERGING_CMAP)


def diverging_brushes(values, scale):
    """Brushes for signed ``values`` on ``[-scale, scale]``: orange negative, dark zero, blue positive
    (the weights' convention)."""
    s = max(float(scale), 1e-12)
    return DIVERGING_BRUSHES[levels_index(values, -s, s)]


def activation_color(value, lo=0.0, hi=1.0) -> QColor:
    return ACTIVATION_BRUSHES[levels_index([value], lo, hi)[0]].color()


@lru_cache(maxsize=4)
def diverging_lut(n=N_LEVELS) -> np.ndarray:
    """An ``(n, 3)`` uint8 lookup table for :meth:`ImageItem.setLookupTable`, zero in the middle."""
    lut = DIVERGING_CMAP.getLookupTable(0.0, 1.0, n, alpha=False)
    lut.flags.writeable = False
    return lut


@lru_cache(maxsize=8)
def edge_pens(n_bins=5, min_alpha=40, max_alpha=255):
    """One cosmetic 1-pixel pen per connection bucket: ``pens[sign][bin]``.

    ``sign`` 0 is positive (blue), 1 negative (orange); ``bin`` 0 is the weakest, and stronger
    bins are more opaque. The pens are 1 pixel wide on purpose: Qt's raster engine draws wider
    lines 5-10x slower (measured: 560 lines 1.7 ms at width 1, 12-50 ms at width 2); the network
    view thickens the strongest bins by drawing them again one pixel apart instead.
    """
    pens = []
    for color in (POSITIVE, NEGATIVE):
        row = []
        for b in range(n_bins):
            t = (b + 1) / n_bins
            c = QColor(color)
            c.setAlpha(int(min_alpha + (max_alpha - min_alpha) * t**1.5))
            pen = pg.mkPen(c, width=1)
            pen.setCosmetic(True)
            row.append(pen)
        pens.append(tuple(row))
    return tuple(pens)
