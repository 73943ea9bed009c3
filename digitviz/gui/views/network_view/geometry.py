"""Where everything sits (:class:`GeometryMixin` of the diagram): built once per architecture, again on resize.

``_place`` computes every position from the architecture, the widget's aspect ratio and the pixel sizes of
the texts; ``_on_transform_changed`` follows the zoom (pixel-mode sizes).

Imports: NumPy, PySide6, pyqtgraph, digitviz.core and the package's own modules.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ....core.diagram import input_shape
from ....core.network import Layout
from ... import colors
from .constants import (
    BOTTOM,
    GAP_MAX,
    GAP_MIN,
    GLOW_SIZE,
    HEIGHT,
    LABEL_PAD_PX,
    LABEL_ROOM,
    LEGEND_Y,
    MAX_ROWS,
    TOP,
    X0,
)
from .items import _NO_PEN, _cached, _drop_atlas


class GeometryMixin:
    """Building (once per architecture, and on resize): the items' places.

    A mixin of :class:`~digitviz.gui.views.network_view.view.NetworkView` (it uses the view's items and state).
    """

    def _on_transform_changed(self):
        """Follow the zoom: pixel-mode sizes, and the thickening copies one screen pixel apart."""
        px = self._vb.viewPixelSize()[1]
        ppu = round(2.0 / px) / 2.0  # pixel-mode sizes in half pixels: few distinct atlas entries
        self._px = px
        if self._sizes is not None:
            self._place_labels()
        if ppu != self._ppu and self._sizes is not None:
            self._ppu = ppu
            self._neurons.setSize(self._diam * ppu)
            self._glow.setSize(self._diam * GLOW_SIZE * ppu)
            if self._state is not None:
                self._render_edges(self._state)
                self._render_rings(self._state)
            for item in (self._glow, self._neurons, self._rings):
                _drop_atlas(item)  # after the new sizes are set: the atlas keeps only those

    def _frame_item(self, color):
        r = QGraphicsRectItem()
        pen = QPen(QColor(color))
        pen.setCosmetic(True)
        pen.setWidthF(self._lw(1.0))
        r.setPen(pen)
        r.setBrush(Qt.BrushStyle.NoBrush)
        r.setZValue(32)
        self._vb.addItem(r)
        return r

    def _build(self, sizes):
        """Create the per-architecture text items and lay the diagram out."""
        self._sizes = tuple(sizes)
        self._layout = Layout(sizes)
        for t in self._titles + self._labels + self._values:
            self._vb.removeItem(t)
        L = len(sizes) - 1
        self._titles = []
        names = ["input"] + [f"hidden {l}" for l in range(1, L)] + ["output"]
        self._title_names = [(name, "h" + name[7:] if name.startswith("hidden ") else name) for name in names]
        self._title_key = None
        for name in names:
            title, sub = _cached(pg.TextItem(anchor=(0.5, 0))), _cached(pg.TextItem(anchor=(0.5, 0)))
            title.setHtml(self._h(name, size=11, bold=True))
            self._titles.append((title, sub))
        self._titles = [t for pair in self._titles for t in pair]
        for t in self._titles:
            self._vb.addItem(t)
        n_out = sizes[-1]
        n_lab = n_out if n_out <= MAX_ROWS else 0
        self._labels = [_cached(pg.TextItem(anchor=(0, 0.5))) for _ in range(n_lab)]
        self._values = [_cached(pg.TextItem(anchor=(0, 0.5))) for _ in range(n_lab)]
        self._label_answer = [None] * n_lab
        self._value_key = [None] * n_lab
        font = QFont()
        font.setPointSizeF(self._pt(9))
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            t.setHtml(self._h(self._class_label(d), colors.FOREGROUND, 12, bold=True))
            v.setFont(font)
            v.setText("0.00", color=colors.MUTED)
            self._vb.addItem(t)
            self._vb.addItem(v)
        self._selected = (-1, -1)
        self._hover = (-1, -1)
        self._pending_param = -1
        self._place()

    def _place(self):
        """Positions of everything, from the architecture and the widget's aspect ratio."""
        sizes = self._sizes
        L = len(sizes) - 1
        ih, iw = input_shape(sizes[0])
        if ih == 1:  # not an image: draw the inputs as a column of cells
            ih, iw = iw, 1
        self._input_grid = (ih, iw)
        cell = min(28.0 / max(ih, iw), (BOTTOM - TOP) / ih, 3.4)
        img_w, img_h = iw * cell, ih * cell

        blocks = []  # per layer: rows, cols, spacing
        for n in sizes[1:]:
            cols = math.ceil(n / MAX_ROWS)
            rows = math.ceil(n / cols)
            sp = min(3.5 * self._font_scale, (BOTTOM - TOP) / rows)  # rows apart enough for larger labels
            blocks.append((rows, cols, sp))
        widths = [(c - 1) * sp for _, c, sp in blocks]
        units = (L - 1) + 1.25  # gaps: input -> first layer is 1.25 gaps wide
        base = X0 + img_w + sum(widths) + 2.0
        W, H = self._vb.width(), self._vb.height()
        text_px = self._label_text_px()
        sized = text_px > 0 and W >= 10 and H >= 10
        if sized:
            self._aspect = W / H
            base += blocks[-1][2] * 0.78 / 2 + 1.2  # output neuron radius + the gap before its digit
            text_px = min(text_px, 0.6 * W)
        gap_min = GAP_MIN * (1.0 if self._font_scale <= 1 else 0.9)  # larger text, same screen: columns closer

        def columns(height):
            """``(width, gap, offset, units per pixel)`` of a diagram ``height`` units tall."""
            if sized:
                # the labels are text of a fixed size in pixels: their room in scene units depends on the
                # scale, which depends on the diagram's width (once it is wider than the widget's aspect)
                width = height * self._aspect
                upp = height / H  # scene units per pixel while the height sets the scale
                if (width - base - text_px * upp) / units < gap_min:  # too narrow: the width sets the scale
                    upp = (base + units * gap_min) / (1.0 - text_px / W) / W
                fixed = base + text_px * upp
            else:
                fixed = base + (LABEL_ROOM if self._labels else 2.0)
                width = height * self._aspect
                upp = height / max(H, 1.0)
            gap = min(GAP_MAX, max(gap_min, (width - fixed) / units))
            content = fixed + units * gap
            width = max(width, content)
            return width, gap, (width - content) / 2, max(upp, width / max(W, 1.0))

        # the legend and the hover line under the neurons are text of a size in pixels too: a short view gets
        # more units of height, so that they fit below the neurons (twice: the room depends on the scale)
        height = HEIGHT
        width, gap, off, upp = columns(height)
        if W >= 10 and H >= 10:
            for _ in range(2):
                bx = self._bottom_start(off, width, upp)
                need = min(self._bottom_need((width - bx) / upp - 2, upp), 0.5 * H)
                height = max(HEIGHT, LEGEND_Y * H / (H - need))
                width, gap, off, upp = columns(height)
        self._height = height
        self._placed_h = H
        self._width = width

        mid = (TOP + BOTTOM) / 2
        ix0 = off + X0
        iy0 = mid - img_h / 2 - (7.0 if ih == 28 else 0.0)  # lift the image to leave room for the inset
        self._img_rect = QRectF(ix0, iy0, img_w, img_h)
        self._cell = cell
        rr, cc = np.divmod(np.arange(sizes[0]), iw)
        layer_pos = [np.column_stack([ix0 + (cc + 0.5) * cell, iy0 + (rr + 0.5) * cell])]
        diam = []
        x = ix0 + img_w + 1.25 * gap
        self._col_x = []
        for (rows, cols, sp), w, n in zip(blocks, widths, sizes[1:]):
            i = np.arange(n)
            c, r = np.divmod(i, rows)
            n_rows_here = np.minimum(rows, n - c * rows)  # the last column may be shorter: centre it
            ys = mid + (r - (n_rows_here - 1) / 2) * sp
            xs = x + c * sp
            layer_pos.append(np.column_stack([xs, ys]))
            diam.append(np.full(n, sp * (0.78 if cols == 1 else 0.86)))
            self._col_x.append(x + w / 2)
            x += w + gap
        self._layer_pos = layer_pos
        self._pos = np.concatenate(layer_pos[1:])
        self._diam = np.concatenate(diam)
        self._layer_of = np.concatenate([np.full(n, l + 1) for l, n in enumerate(sizes[1:])])
        self._index_of = np.concatenate([np.arange(n) for n in sizes[1:]])
        self._offsets = np.concatenate([[0], np.cumsum(sizes[1:])])

        # an ImageItem can only be placed once it holds an image of the right shape
        self._image.setImage(np.zeros((ih, iw), np.float32), levels=(0.0, 1.0), autoLevels=False)
        self._inset.setImage(np.zeros((ih, iw), np.float32), levels=(-1.0, 1.0), autoLevels=False)
        self._image.setRect(self._img_rect)
        self._image_frame.setRect(self._img_rect.adjusted(-0.15, -0.15, 0.15, 0.15))
        inset = 15.0
        self._inset_rect = QRectF(ix0, self._img_rect.bottom() + 3.0, inset, inset)
        self._inset.setRect(self._inset_rect)
        self._inset_frame.setRect(self._inset_rect.adjusted(-0.15, -0.15, 0.15, 0.15))
        self._inset_caption.setPos(self._inset_rect.right() + 1.0, self._inset_rect.top())

        self._title_x = [self._img_rect.center().x()] + self._col_x
        for l, x in enumerate(self._title_x):
            title, sub = self._titles[2 * l], self._titles[2 * l + 1]
            title.setPos(x, 0.6)
            sub.setPos(x, 3.6)
        self._title_key = None
        self._place_labels()
        self._bottom_x = self._bottom_start(off, width, max(upp, 1e-9)) if W >= 10 and H >= 10 else off + X0

        self._neurons.setData(
            pos=self._pos,
            size=self._diam * self._ppu,
            symbol="o",
            pen=self._neuron_pen,
            brush=colors.ACTIVATION_BRUSHES[0],
        )
        self._glow.setData(
            pos=self._pos, size=self._diam * GLOW_SIZE * self._ppu, symbol="o", pen=_NO_PEN, brush=self._glow_table[0]
        )
        self._vb.setRange(xRange=(0, width), yRange=(0, height), padding=0)
        for it in (self._edges, self._focus_lines):
            it.set_bounds(QRectF(0, 0, width, height))
        self._on_transform_changed()

    def _label_text_px(self):
        """Width in pixels of "7 0.93 ◀ label" as _place_labels lays it out, plus a margin; 0 without labels."""
        if not self._labels:
            return 0.0
        digit_w = max(t.textItem.boundingRect().width() for t in self._labels)
        value_w = self._values[0].textItem.boundingRect().width()
        return digit_w - 2 + value_w + self._truth.textItem.boundingRect().width() + LABEL_PAD_PX

    def _on_resized(self):
        w, h = self._vb.width(), self._vb.height()
        if w < 10 or h < 10:
            return
        aspect = w / h
        placed_h = getattr(self, "_placed_h", 0.0)
        if abs(aspect - self._aspect) > 0.02 or abs(h - placed_h) > 0.03 * h:
            self._aspect = aspect
            if self._sizes is not None:
                self._place()
                self._render()
