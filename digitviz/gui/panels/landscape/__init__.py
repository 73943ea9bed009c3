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

The package, by module:

* ``panel.py``: :class:`LandscapePanel` (state, the panel contract, public helpers, the controls' handlers,
  the words); its methods are grouped in mixins:
* ``build.py``: :class:`~.build.BuildMixin`, the controls' column, the map and the small plots, built once;
* ``path.py``: :class:`~.path.PathMixin`, a new run, the path's buffers, the plane and projections;
* ``scheduling.py``: :class:`~.scheduling.JobsMixin`, when jobs start and what their results do;
* ``drawing.py``: :class:`~.drawing.DrawingMixin`, updating the map, the path, the markers and the plots;
* ``work.py``: the functions that run on the job thread; ``ticks.py``: axis ticks (``cost_ticks``,
  ``_StepAxis``); ``constants.py``: choices, colours, intervals and layout sizes.

Imports: PySide6, pyqtgraph, :mod:`digitviz.core`, :mod:`digitviz.gui.colors` and :mod:`digitviz.gui.jobs`
(through the modules above).
"""

from __future__ import annotations

from .build import _brush_table
from .constants import (
    ARROW_FRACTION,
    CENTRES,
    CMAP,
    COLOR_ARROW,
    COLOR_DIST,
    COLOR_NOW,
    COLOR_PLANE,
    COLOR_START,
    COLOR_TRUE,
    CONTROL_WIDTH,
    EXTEND_INTERVAL_S,
    MAP_MIN_WIDTH,
    MIN_COST,
    MODES,
    N_CONTOURS,
    PATH_BYTES,
    PATH_JOB_INTERVAL_S,
    REFIT_INTERVAL_S,
    SCALES,
    SCHEDULES,
    SIDE_MIN_WIDTH,
    SOURCES,
)
from .panel import LandscapePanel
from .ticks import _StepAxis, cost_ticks
from .work import _path_work, _surface_work

__all__ = [
    "ARROW_FRACTION",
    "CENTRES",
    "CMAP",
    "COLOR_ARROW",
    "COLOR_DIST",
    "COLOR_NOW",
    "COLOR_PLANE",
    "COLOR_START",
    "COLOR_TRUE",
    "CONTROL_WIDTH",
    "EXTEND_INTERVAL_S",
    "MAP_MIN_WIDTH",
    "MIN_COST",
    "MODES",
    "N_CONTOURS",
    "PATH_BYTES",
    "PATH_JOB_INTERVAL_S",
    "REFIT_INTERVAL_S",
    "SCALES",
    "SCHEDULES",
    "SIDE_MIN_WIDTH",
    "SOURCES",
    "LandscapePanel",
    "_StepAxis",
    "_brush_table",
    "_path_work",
    "_surface_work",
    "cost_ticks",
]
