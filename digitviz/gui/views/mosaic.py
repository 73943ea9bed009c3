"""A mosaic of weight tiles: one ``ImageItem`` for the whole grid, a colour bar, tile numbers, a highlight.

The view draws what it is given and knows nothing of networks: :meth:`MosaicView.set_grid` lays out
``n`` tiles of ``tile_shape`` in a ``(rows, cols)`` grid (as :func:`digitviz.core.diagram.mosaic_grid`
gives), :meth:`set_image` shows a mosaic image (as :func:`digitviz.core.diagram.weight_mosaic` builds)
on a symmetric scale ``±scale`` with the diverging colour map, and :meth:`set_highlight` frames one tile.
A frame costs one ``setImage``.

Signals
-------
tile_clicked(int)
    A left click on tile ``i``.
tile_hovered(int)
    The mouse moved over tile ``i``.

Imports: PySide6, pyqtgraph, :mod:`digitviz.core.diagram` (tile geometry) and :mod:`digitviz.gui.colors`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QSizePolicy

from digitviz.core.diagram import tile_at, tile_origin

from .. import colors

MAX_NUMBERED = 64  # tiles get their number when there are at most this many
GRID_COLOR = "#2a2e36"  # shows through the NaN padding: a grid between tiles


class MosaicView(pg.GraphicsLayoutWidget):
    """Tiles on one shared diverging scale, with a colour bar; clicks and hovers name a tile.

    Attributes
    ----------
    vb : pyqtgraph.ViewBox
    image : pyqtgraph.ImageItem
        The whole mosaic, row-major.
    bar : pyqtgraph.ColorBarItem
    highlight : QGraphicsRectItem
        The frame around the selected tile.
    numbers : list of pyqtgraph.TextItem
        Tile numbers (empty beyond ``MAX_NUMBERED`` tiles).
    n, grid, tile_shape
        The layout set by :meth:`set_grid`.
    """

    tile_clicked = Signal(int)
    tile_hovered = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.n = 0
        self.grid = (1, 1)
        self.tile_shape = (28, 28)
        # room above and below for the colour bar's end tick labels, centred on the bar's ends
        self.ci.setContentsMargins(0, 6, 0, 6)
        self.vb = self.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.01)
        self.vb.setMouseEnabled(False, False)
        self.vb.setBackgroundColor(GRID_COLOR)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(colors.diverging_lut())
        self.vb.addItem(self.image)
        self.bar = pg.ColorBarItem(
            values=(-1.0, 1.0),
            colorMap=colors.DIVERGING_CMAP,
            interactive=False,
            width=12,
            rounding=1e-6,
            colorMapMenu=False,
        )
        self.addItem(self.bar, row=0, col=1)
        self.highlight = QGraphicsRectItem()
        pen = QPen(QColor(colors.HIGHLIGHT))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        self.highlight.setPen(pen)
        self.highlight.setZValue(10)
        self.highlight.setVisible(False)
        self.vb.addItem(self.highlight)
        self.numbers: list = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.scene().sigMouseMoved.connect(self._on_moved)

    def set_grid(self, n: int, grid: tuple[int, int], tile_shape: tuple[int, int]):
        """Lay out ``n`` tiles of ``tile_shape`` (h, w) in ``grid`` (rows, cols); numbers them if few."""
        self.n, self.grid, self.tile_shape = int(n), tuple(grid), tuple(tile_shape)
        for t in self.numbers:
            self.vb.removeItem(t)
        self.numbers = []
        if self.n <= MAX_NUMBERED:
            for i in range(self.n):
                t = pg.TextItem(anchor=(0, 0))
                t.setHtml(f'<span style="color:{colors.MUTED};font-size:7pt">{i}</span>')
                x0, y0 = tile_origin(i, self.grid[1], self.tile_shape)
                t.setPos(x0, y0)
                t.setZValue(5)
                self.vb.addItem(t)
                self.numbers.append(t)
        h, w = self.tile_shape
        rows, cols = self.grid
        self.vb.setRange(xRange=(0, cols * (w + 1) - 1), yRange=(0, rows * (h + 1) - 1), padding=0.01)

    def set_image(self, image: np.ndarray, scale: float):
        """Show a mosaic ``image`` (2-D, NaN between tiles) on the symmetric scale ``±scale``."""
        self.image.setImage(image, levels=(-scale, scale), autoLevels=False)
        self.bar.setLevels((-scale, scale), update_items=False)

    def set_highlight(self, i: int):
        """Frame tile ``i``; -1 (or no tiles) hides the frame."""
        if i < 0 or self.n == 0:
            self.highlight.setVisible(False)
            return
        h, w = self.tile_shape
        x0, y0 = tile_origin(i, self.grid[1], self.tile_shape)
        self.highlight.setRect(QRectF(x0 - 0.5, y0 - 0.5, w + 1.0, h + 1.0))
        self.highlight.setVisible(True)

    def tile_under(self, scene_pos) -> int:
        """The tile under a scene position, or -1."""
        if self.n == 0:
            return -1
        p = self.vb.mapSceneToView(scene_pos)
        return tile_at(p.x(), p.y(), self.n, self.grid[1], self.tile_shape)

    def _on_clicked(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        i = self.tile_under(ev.scenePos())
        if i < 0:
            return
        ev.accept()
        self.tile_clicked.emit(i)

    def _on_moved(self, scene_pos):
        i = self.tile_under(scene_pos)
        if i >= 0:
            self.tile_hovered.emit(i)
