"""The Qt side of digitviz: widgets, the training worker and the main window.

Importing this package configures pyqtgraph once for every view: row-major images (array row 0
is the top row of a digit) and no antialiasing (fast redraws, identical offscreen and on screen),
and BLAS once to one thread for the whole process (:func:`digitviz.gui.jobs.pin_blas`).
"""

import pyqtgraph as pg

from .jobs import pin_blas

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="#14161a", foreground="#c8ccd4")
pin_blas()
