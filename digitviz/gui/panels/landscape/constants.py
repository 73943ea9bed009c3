"""The landscape panel's constants: the choices its combo boxes offer, colours, intervals and layout sizes.

Imports: pyqtgraph (the colour map) and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import pyqtgraph as pg

from ... import colors

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
