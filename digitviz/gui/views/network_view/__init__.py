"""The network diagram (:class:`NetworkView`), a package: see :mod:`.view`.

Imports: the package's own modules.
"""

from .view import (
    BOTTOM,
    BOTTOM_GAP_PX,
    DENSE_EDGES,
    FOCUS_PX,
    GAP_MAX,
    GAP_MIN,
    GLOW_LEVELS,
    GLOW_SIZE,
    HEIGHT,
    HINT,
    LABEL_PAD_PX,
    LABEL_ROOM,
    LEGEND_STEP,
    LEGEND_Y,
    MAX_ROWS,
    N_BINS,
    THICKEN,
    TITLE_PAD_PX,
    TITLE_STYLES,
    TOP,
    X0,
    NetworkView,
)

__all__ = [
    "BOTTOM",
    "BOTTOM_GAP_PX",
    "DENSE_EDGES",
    "FOCUS_PX",
    "GAP_MAX",
    "GAP_MIN",
    "GLOW_LEVELS",
    "GLOW_SIZE",
    "HEIGHT",
    "HINT",
    "LABEL_PAD_PX",
    "LABEL_ROOM",
    "LEGEND_STEP",
    "LEGEND_Y",
    "MAX_ROWS",
    "N_BINS",
    "THICKEN",
    "TITLE_PAD_PX",
    "TITLE_STYLES",
    "TOP",
    "X0",
    "NetworkView",
]
