"""The diagram's helpers and its one item class: no widget.

``_LineSets`` (all connections in one item, a pen per set), the glow's gradient brushes, the pixmap cache
for text items, the symbol-atlas reset, the offsets that thicken a line and the HTML of a text.

Imports: NumPy, PySide6, pyqtgraph and digitviz.gui.colors.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QRadialGradient
from PySide6.QtWidgets import QGraphicsItem

from ... import colors
from .constants import GLOW_LEVELS

# explicit "no pen/brush" objects, made once (rather than None, converted on every paint)
_NO_PEN = QPen(Qt.PenStyle.NoPen)
_NO_BRUSH = QBrush(Qt.BrushStyle.NoBrush)


def _drop_atlas(item: pg.ScatterPlotItem):
    """Forget every symbol ``item`` has rendered; the ones its points use are rendered again.

    pyqtgraph keeps each (symbol, size, pen, brush) it ever drew in the item's atlas until there are
    1,000 of them, so the giant symbols of the first layout pass (a view box a few pixels tall makes
    a 2,700 px glow) and every size of each zoom step stayed in memory: 77 MB of atlas at launch,
    plus its QPixmap. Called when the zoom changes the sizes, the atlas holds only what is drawn.
    """
    item.fragmentAtlas.clear()
    if len(item.data):
        item.data["sourceRect"] = 0  # every point asks the atlas again
        item.updateSpots()


def _glow_brushes(n=GLOW_LEVELS):
    """Radial-gradient brushes (object-bounding, so they fit any spot): a soft halo per activation level."""
    table = np.empty(n, dtype=object)
    for i in range(n):
        t = i / (n - 1)
        g = QRadialGradient(0.5, 0.5, 0.5)
        g.setCoordinateMode(QRadialGradient.CoordinateMode.ObjectBoundingMode)
        g.setColorAt(0.0, QColor(190, 220, 255, int(200 * t)))
        g.setColorAt(0.4, QColor(130, 180, 255, int(110 * t)))
        g.setColorAt(0.7, QColor(90, 150, 255, int(35 * t)))
        g.setColorAt(1.0, QColor(80, 140, 255, 0))
        table[i] = QBrush(g)
    return table


def _cached(item):
    """Cache a ``pg.TextItem``'s text as a pixmap: repaints of unchanged text become a blit.

    The text is drawn by the child ``QGraphicsTextItem``, so that is the item to cache.
    """
    item.textItem.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def _offsets(width: int) -> tuple:
    """Pixel offsets of the copies that make a 1 px line ``width`` px wide: 1, -1, 2, -2, ..."""
    return tuple((k // 2 + 1) * (1 if k % 2 == 0 else -1) for k in range(max(0, int(width) - 1)))


def _html(text, color=colors.FOREGROUND, size=9, bold=False):
    weight = "font-weight:600;" if bold else ""
    return f'<span style="color:{color};font-size:{size}pt;{weight}">{text}</span>'


class _LineSets(pg.GraphicsObject):
    """Sets of straight lines, one pen per set, drawn by one item with ``QPainter.drawLines``.

    It replaces one ``PlotCurveItem(connect="pairs")`` per pen: same drawing calls, but a single
    Python ``paint`` per frame instead of one per bucket (each with its own bounds and pixel
    bookkeeping), which halves the connections' share of a frame.
    """

    def __init__(self, pens):
        super().__init__()
        self._pens = list(pens)
        self._arrays = [PrimitiveArray(QLineF, 4) for _ in self._pens]
        self._counts = [0] * len(self._pens)
        self._bounds = QRectF()

    def set_pens(self, pens):
        self._pens = list(pens)
        self.update()

    def set_lines(self, i, seg):
        """Lines of set ``i``: ``seg`` of shape ``(m, 4)``, rows ``x0, y0, x1, y1`` in scene units."""
        arr = self._arrays[i]
        arr.resize(len(seg))
        if len(seg):
            arr.ndarray()[:] = seg
        self._counts[i] = len(seg)
        self.update()

    def n_lines(self, i=None) -> int:
        return sum(self._counts) if i is None else self._counts[i]

    def set_bounds(self, rect: QRectF):
        self.prepareGeometryChange()
        self._bounds = QRectF(rect)

    def boundingRect(self):
        return self._bounds

    def paint(self, p, *args):
        for pen, arr, n in zip(self._pens, self._arrays, self._counts):
            if n:
                p.setPen(pen)
                p.drawLines(*arr.drawargs())
