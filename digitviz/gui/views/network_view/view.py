"""The network diagram, drawn as in the lesson: the image the network sees, glowing neurons, coloured connections.

``NetworkView`` draws a :class:`digitviz.core.diagram.DiagramState`:

- the input layer as the 28x28 image the network sees (grey, levels fixed to 0..1, upright);
- hidden and output neurons as circles whose brightness is the activation (absolute: 0 dark,
  1 white; a quiet layer looks quiet). ReLU activations are unbounded, so a ReLU layer is drawn on
  the scale ``0 .. max(1, layer max)``, which the legend states;
- the outputs labelled 0-9 with their values, the answer (brightest output) ringed, the true
  label marked;
- connections in blue (positive) or orange (negative), more opaque and wider when stronger
  (relative to the strongest drawn in that layer). For the 784 x n first layer only the ``top_k``
  strongest per neuron are drawn, from the pixel they read to the neuron (they emerge from behind
  the image, and a selected neuron's source pixels are outlined on it). In "gradient" mode the
  colours are the values the state was built with (e.g. minus the gradient) and the legend says so;
- tanh layers are drawn by ``|a|``.

Few items, created once: one line item holding a line set per (sign, strength) bucket, one
pixel-mode scatter for all neurons (brushes from the shared table in :mod:`digitviz.gui.colors`),
one for their glow and one for the rings. Frames only call ``setData``/``setImage``/``setBrush``
and replace line arrays; unchanged text is cached as pixmaps.

Interaction: hover a neuron for its activation, bias and weighted sum; click a neuron to select
it (a first-hidden-layer neuron also shows its 784 incoming weights as an inset image);
right-click (or Ctrl+click) a connection or a neuron to pick its weight or bias for the cost
landscape, twice, which emits ``parameters_picked``.

On a projector (``set_presentation`` / ``set_font_scale``) every text is larger by the presentation's
font scale and the outlines and highlighted connections wider; the diagram lays itself out again for the
larger text (the legend and hover line wrap, stacked in pixels under the neurons, inside the view) and
exactly as before at scale 1.

Imports: NumPy, PySide6, pyqtgraph, digitviz.core, digitviz.gui.colors and digitviz.gui.style.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPen, QRadialGradient, QTextDocument
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QMenu, QVBoxLayout, QWidget

from ....core.diagram import DEFAULT_TOP_K, DiagramState, input_shape, symmetric_scale
from ....core.network import Layout
from ... import colors, style

N_BINS = 5  # connection strength buckets per sign
MAX_ROWS = 32  # a layer with more neurons is drawn as a block of several columns
HEIGHT = 72.0  # diagram height in scene units (one input pixel = one unit)
TOP, BOTTOM = 8.5, 62.0  # where the neurons sit
X0 = 3.0  # left edge of the input image
LABEL_ROOM = 15.0  # right of the output column, for "7  0.93  ◀ label", until the widget has a size
LABEL_PAD_PX = 6.0  # pixels kept free right of the "◀ label" marker
TITLE_PAD_PX = 8.0  # pixels kept between two neighbouring column titles
# column titles, from roomiest to most compact: (short names, title pt, subtitle pt, subtitle with activation)
TITLE_STYLES = (
    (False, 11, 9, True),
    (False, 10, 8, True),
    (True, 10, 8, True),
    (True, 10, 8, False),
    (True, 8, 7, False),
)
GAP_MIN, GAP_MAX = 11.0, 30.0
GLOW_LEVELS = 64
GLOW_SIZE = 2.3  # halo diameter / neuron diameter
DENSE_EDGES = 1000  # more connections than this are drawn fainter and 1 px
THICKEN = {N_BINS - 2: 2, N_BINS - 1: 3}  # strength bin -> line width in pixels (at font scale 1)
FOCUS_PX = 2  # the selected neuron's incoming connections, pixels wide (at font scale 1)
HINT = "hover a neuron: its numbers · click: select it (hidden 1: its weights) · right-click: use for the landscape"
LEGEND_Y = BOTTOM + 2.6  # top of the legend's line box, under the lowest neurons
LEGEND_STEP = 3.0  # the hover line at least this far under the legend's top (units), as in a roomy view
BOTTOM_GAP_PX = 2.0  # pixels between the legend and the hover line, and below the hover line
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


class NetworkView(QWidget):
    """The network diagram.

    Signals
    -------
    neuron_clicked(layer, index)
        A neuron was clicked; layer 1 is the first hidden layer.
    neuron_hovered(layer, index)
        The mouse entered a neuron; ``(-1, -1)`` when it left every neuron.
    parameters_picked(i, j)
        Flat ``theta`` indices of two parameters the user picked (weights or biases).
    """

    neuron_clicked = Signal(int, int)
    neuron_hovered = Signal(int, int)
    parameters_picked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._state: DiagramState | None = None
        self._top_k = DEFAULT_TOP_K
        self._edge_mode: str | None = None
        self._sizes: tuple | None = None
        self._aspect = 1.6
        self._hover = (-1, -1)
        self._selected = (-1, -1)
        self._pending_param = -1
        self._dense = False
        self._glow_table = _glow_brushes()
        # every text size and line width of the diagram times this (presentation mode: style.font_scale())
        self._font_scale = style.font_scale()
        self._placing = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self._gv = pg.GraphicsView()
        self._gv.setMouseTracking(True)
        lay.addWidget(self._gv)
        self._vb = pg.ViewBox(enableMenu=False, lockAspect=True, invertY=True, defaultPadding=0)
        self._vb.setMouseEnabled(False, False)
        self._gv.setCentralItem(self._vb)

        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(25)  # above the connections: they emerge from behind the digit
        self._vb.addItem(self._image)
        self._image_frame = self._frame_item(colors.MUTED)

        pens = colors.edge_pens(N_BINS)
        # one line set per (sign, strength) bucket. The strongest buckets also hold copies of their
        # lines one pixel above/below, which looks like a 2-3 px line at the cost of 1 px ones.
        self._edges = _LineSets([pens[sign][b] for sign in (0, 1) for b in range(N_BINS)])
        self._edges.setZValue(10)
        self._focus_lines = _LineSets([pg.mkPen(colors.HIGHLIGHT, width=1, cosmetic=True)])
        self._focus_lines.setZValue(18)
        for it in (self._edges, self._focus_lines):
            self._vb.addItem(it)
        self._px = 0.1  # scene units per screen pixel (vertical)
        # scatters in pixel mode: each (size, pen, brush) is rendered once into pyqtgraph's symbol
        # atlas and then blitted, ~10x faster than painting antialiased circles and gradients per frame;
        # sizes follow the zoom in _on_transform_changed
        self._focus_px = pg.ScatterPlotItem(pxMode=True, brush=_NO_BRUSH, symbol="s")
        self._focus_px.setZValue(26)
        self._vb.addItem(self._focus_px)

        self._glow = pg.ScatterPlotItem(pxMode=True, pen=_NO_PEN)
        self._glow.setZValue(19)
        self._neurons = pg.ScatterPlotItem(pxMode=True)
        self._neurons.setZValue(20)
        self._rings = pg.ScatterPlotItem(pxMode=True, brush=_NO_BRUSH)
        self._rings.setZValue(21)
        self._make_pens()
        self._ppu = 1.0  # screen pixels per scene unit
        for it in (self._glow, self._neurons, self._rings):
            self._vb.addItem(it)

        self._inset = pg.ImageItem(axisOrder="row-major")
        self._inset.setLookupTable(colors.diverging_lut())
        self._inset.setZValue(30)
        self._vb.addItem(self._inset)
        self._inset_frame = self._frame_item(colors.HIGHLIGHT)
        # on a dark card above the connections (which cross the room right of the inset), under the neurons
        self._inset_caption = _cached(pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(colors.BACKGROUND)))
        self._inset_caption.setZValue(18.5)  # also above the selected neuron's highlighted lines (18)
        self._vb.addItem(self._inset_caption)
        self._set_inset_visible(False)

        self._titles: list = []
        self._title_x: list = []
        self._text_widths: dict = {}  # (text, pt, bold) -> pixels, for choosing the title style
        self._labels: list = []  # output digits "0".."9"
        self._values: list = []  # their activations, plain text (cheaper to update than HTML)
        self._label_answer: list = []
        self._value_key: list = []
        self._legend = _cached(pg.TextItem(anchor=(0, 0)))
        self._info = _cached(pg.TextItem(anchor=(0, 0)))
        self._truth = _cached(pg.TextItem(anchor=(0, 0.5)))
        for t in (self._legend, self._info, self._truth):
            self._vb.addItem(t)
        self._style_texts()

        scene = self._gv.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self._vb.sigResized.connect(self._on_resized)
        self._vb.sigTransformChanged.connect(self._on_transform_changed)
        self._set_info_default()

    # public API

    def set_state(self, state: DiagramState):
        """Draw ``state`` (a forward pass of one input; see :func:`digitviz.core.diagram.diagram_state`)."""
        if state.top_k != self._top_k:
            state = state.with_top_k(self._top_k)
        self._state = state
        if state.sizes != self._sizes:
            self._build(state.sizes)
        self._render()

    def set_top_k(self, k: int):
        """Draw the ``k`` strongest incoming connections of each first-hidden-layer neuron."""
        k = max(1, int(k))
        if k == self._top_k:
            return
        self._top_k = k
        if self._state is not None:
            self.set_state(self._state)

    @property
    def top_k(self) -> int:
        return self._top_k

    def set_edge_mode(self, mode: str):
        """Which colouring the user asked for, ``"weights"`` or ``"gradient"``, for the legend.

        The connections themselves are coloured by the state (``diagram_state(..., edge_values=)``);
        the legend always describes what is drawn, and says so when the gradient was asked for
        but the state has none yet.
        """
        if mode not in ("weights", "gradient"):
            raise ValueError(f"edge mode must be 'weights' or 'gradient', got {mode!r}")
        self._edge_mode = mode
        if self._state is not None:
            self._update_legend()

    def set_wants_mode(self, on: bool):
        """Whether "what each neuron wants" was asked for (the legend says when the state cannot show it)."""
        self._wants_asked = bool(on)
        if self._state is not None:
            self._update_legend()

    def set_font_scale(self, scale: float):
        """Draw every text ``scale`` times its normal size and the outlines and highlights that much wider,
        then lay the diagram out again for the new sizes (1: the normal sizes, exactly as before)."""
        scale = float(scale)
        if scale <= 0 or scale == self._font_scale:
            return
        self._font_scale = scale
        self._make_pens()
        self._style_texts()
        if self._sizes is not None:
            self._place()
            self._render()

    @property
    def font_scale(self) -> float:
        return self._font_scale

    def set_presentation(self, on: bool):
        """Presentation mode (gui/presentation.py) calls this on entering and leaving: the diagram's text and
        lines follow :func:`digitviz.gui.style.font_scale` while presenting, and are normal again after."""
        self.set_font_scale(style.font_scale() if on else 1.0)

    def select_neuron(self, layer: int, index: int):
        """Select a neuron without emitting (e.g. to follow the weights panel); ``(-1, -1)`` clears."""
        self._selected = (int(layer), int(index))
        if self._state is not None:
            self._render()

    def neuron_center(self, layer: int, index: int) -> QPointF:
        """Centre of a neuron in widget coordinates (layer 0: the input pixel ``index``)."""
        if self._sizes is None:
            raise RuntimeError("no state drawn yet: call set_state first")
        x, y = self._layer_pos[layer][index]
        return self._to_widget(QPointF(float(x), float(y)))

    def set_class_names(self, names=None, short=None) -> None:
        """Name the output neurons (None: the digits): ``short`` beside them, ``names`` in the hover text."""
        self._class_names = None if names is None else [str(x) for x in names]
        self._short_names = None if short is None and names is None else [str(x) for x in (short or names)]
        for d, t in enumerate(getattr(self, "_labels", [])):
            t.setHtml(self._h(self._class_label(d), colors.FOREGROUND, 12, bold=True))
        self._label_answer = [None] * len(getattr(self, "_labels", []))
        if getattr(self, "_labels", None):
            self._place_labels()
        if getattr(self, "_state", None) is not None:
            self._render_labels(self._state)

    def _class_label(self, d: int) -> str:
        short = getattr(self, "_short_names", None)
        return escape(short[d]) if short is not None and d < len(short) else str(d)

    def _pt(self, pt: float) -> float:
        """``pt`` at the diagram's font scale."""
        return round(float(pt) * self._font_scale, 1)

    def _lw(self, width: float) -> float:
        """A line width at the diagram's font scale (thicker lines for the larger text)."""
        return float(width) * self._font_scale

    def _h(self, text, color=colors.FOREGROUND, size=9, bold=False):
        """``_html`` at the diagram's font scale."""
        return _html(text, color, self._pt(size), bold)

    def _make_pens(self):
        # pens made once per scale: the symbol atlas keys on the pen object
        self._neuron_pen = pg.mkPen("#6b7280", width=self._lw(1.2))
        self._answer_pen = pg.mkPen(colors.HIGHLIGHT, width=self._lw(2.2))
        self._truth_pen = pg.mkPen(colors.TRUTH, width=self._lw(1.6), style=Qt.PenStyle.DashLine)
        self._selected_pen = pg.mkPen(colors.HIGHLIGHT, width=self._lw(1.4), style=Qt.PenStyle.DotLine)
        for frame in (getattr(self, "_image_frame", None), getattr(self, "_inset_frame", None)):
            if frame is not None:
                pen = QPen(frame.pen())
                pen.setWidthF(self._lw(1.0))
                frame.setPen(pen)
        for item in (getattr(self, "_glow", None), getattr(self, "_neurons", None), getattr(self, "_rings", None)):
            if item is not None:
                _drop_atlas(item)  # symbols of the old pens go

    def _thicken(self, bucket: int) -> tuple:
        """Pixel offsets of the copies that thicken the lines of strength ``bucket`` (none for thin ones)."""
        w = THICKEN.get(bucket % N_BINS)
        return () if w is None or self._dense else _offsets(round(w * self._font_scale))

    def _style_texts(self):
        """(Re)write the fixed texts at the present font scale; the changing ones are rewritten on next use."""
        self._truth.setHtml(self._h("◀ label", colors.TRUTH, 9))
        font = QFont()
        font.setPointSizeF(self._pt(9))
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            t.setHtml(self._h(self._class_label(d), colors.FOREGROUND, 12, bold=True))
            v.setFont(font)
        self._label_answer = [None] * len(self._labels)
        self._value_key = [None] * len(self._labels)
        self._title_key = None
        self._legend_html = None
        self._info_html = None
        self._caption_html = None
        self._caption_set = None
        self._set_info_default()

    def output_center(self, digit: int) -> QPointF:
        """Centre of output neuron ``digit`` in widget coordinates."""
        return self.neuron_center(len(self._layer_pos) - 1, digit)

    # building (once per architecture, and on resize)

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

    def _subtitle(self, l, with_act):
        sizes = self._sizes
        L = len(sizes) - 1
        n = sizes[l]
        if l == 0:
            ih, iw = self._input_grid
            return f"{ih}×{iw}" if iw > 1 else f"{n} values"
        if not with_act:
            return f"{n}"
        act = (
            self._activation_name()
            if l < L
            else ("softmax" if self._state is not None and self._state.cost == "cross_entropy" else "sigmoid")
        )
        return f"{n} · {act}"

    def _place_titles(self):
        """Column titles in the roomiest style in which no two neighbours overlap (widths are in pixels)."""
        xs = list(self._title_x)
        if not xs or len(self._titles) != 2 * len(xs):
            return
        px = self._px if self._px > 0 else 0.1
        title_h = (
            self._titles[-2].textItem.boundingRect().height() - self._titles[-2].textItem.document().documentMargin()
        )
        label = self._labels[0].textItem if self._labels else None
        above = label is not None and (
            0.6 + title_h * px
            <= float(self._layer_pos[-1][0, 1]) - label.boundingRect().height() * label.scale() / 2 * px
        )
        if above and len(xs) >= 2:
            # "output" centred over its neurons and their digits and values (when it clears the top digit):
            # further from its neighbour's title
            x_out = float(self._layer_pos[-1][0, 0])
            f = self._labels[0].textItem.scale()
            text_w = f * (max(t.textItem.boundingRect().width() for t in self._labels) - 2)
            text_w += f * self._values[0].textItem.boundingRect().width()
            left = x_out - float(self._diam[-1]) / 2
            xs[-1] = (left + x_out + float(self._diam[-1]) / 2 + 1.2 + text_w * px) / 2
        for item in self._titles[-2:]:
            if abs(item.pos().x() - xs[-1]) > 1e-9:
                item.setPos(xs[-1], item.pos().y())
        gaps = [(b - a) / px for a, b in zip(xs, xs[1:])]

        cache = self._text_widths

        def width(text, pt, bold):
            w = cache.get((text, pt, bold))
            if w is None:
                f = QFont()
                f.setPointSizeF(pt)
                f.setBold(bold)
                w = cache[(text, pt, bold)] = QFontMetricsF(f).horizontalAdvance(text)
            return w

        for title_style in TITLE_STYLES:
            short, tpt, spt, with_act = title_style
            tpt, spt = self._pt(tpt), self._pt(spt)
            names = [n[1] if short else n[0] for n in self._title_names]
            subs = [self._subtitle(l, with_act) for l in range(len(xs))]
            tw = [width(n, tpt, True) for n in names]
            sw = [width(t, spt, False) for t in subs]
            if all(
                (tw[l] + tw[l + 1]) / 2 + TITLE_PAD_PX <= g and (sw[l] + sw[l + 1]) / 2 + TITLE_PAD_PX <= g
                for l, g in enumerate(gaps)
            ):
                break
        key = (title_style, tuple(subs))
        if key != self._title_key:
            self._title_key = key
            for l, (name, sub) in enumerate(zip(names, subs)):
                self._titles[2 * l].setHtml(_html(name, size=tpt, bold=True))
                self._titles[2 * l + 1].setHtml(_html(sub, colors.MUTED, spt))
                full = self._title_names[l][0]
                self._titles[2 * l].setToolTip(full if name != full else "")
        self._stack_subtitles()

    def _stack_subtitles(self):
        """Each subtitle just under its title, in pixels: a short diagram has fewer pixels per view unit, and
        a fixed offset in view units would put the subtitle over the title."""
        py = self._px  # view units per pixel, vertically (followed in _on_transform_changed)
        if not py or not self._titles:
            return
        t = self._titles[0].textItem
        ink = t.boundingRect().height() - t.document().documentMargin()  # the title's text, less its lower margin
        y = max(3.6, 0.6 + ink * py)
        # no room between the title and the top neurons (a short window): the subtitles give way, their
        # text stays in the title's tooltip
        s0 = self._titles[1].textItem
        sub_ink = (s0.boundingRect().height() - 2 * s0.document().documentMargin()) * py
        radius = float(np.max(self._diam)) / 2 if getattr(self, "_diam", None) is not None and len(self._diam) else 0.0
        room = y + sub_ink <= TOP - radius
        for l in range(len(self._titles) // 2):
            title, sub = self._titles[2 * l], self._titles[2 * l + 1]
            if abs(sub.pos().y() - y) > 1e-6:
                sub.setPos(sub.pos().x(), y)
            if sub.isVisible() != room:
                sub.setVisible(room)
            full = self._title_names[l][0]
            if not room:
                tip = f"{full} · {sub.textItem.toPlainText()}"
            else:
                tip = full if title.textItem.toPlainText() != full else ""
            if title.toolTip() != tip:
                title.setToolTip(tip)

    def _bottom_lines(self):
        """``(margin, ink height)`` in pixels of the legend and of the hover line, as drawn."""
        out = []
        for item in (self._legend, self._info):
            t = item.textItem
            m, f = t.document().documentMargin(), t.scale()
            out.append((m * f, max(0.0, t.boundingRect().height() - 2 * m) * f))
        return out

    def _bottom_offsets(self, upp, lines=None):
        """Where the hover line starts below the legend, and how far below the legend's top the view must
        reach, in view units at ``upp`` units per pixel: the legend's ink, a gap, the hover line's ink, a gap."""
        (lm, lh), (im, ih) = lines or self._bottom_lines()
        below = max(LEGEND_STEP, (lm + lh + BOTTOM_GAP_PX - im) * upp)
        return below, below + (im + ih + BOTTOM_GAP_PX) * upp

    def _text_lines(self, item, html, wrap_px):
        """``(margin, ink height)`` in pixels of ``html`` in ``item``'s font, wrapped as _fit_width would."""
        doc = QTextDocument()
        doc.setDefaultFont(item.textItem.font())
        m = item.textItem.document().documentMargin()
        doc.setDocumentMargin(m)
        doc.setHtml(html)
        if doc.size().width() > wrap_px:
            doc.setTextWidth(max(80.0, wrap_px))
        return m, max(0.0, doc.size().height() - 2 * m)

    def _bottom_start(self, off, width, upp):
        """Where the legend and the hover line start (units): under the image, or at the view's left when
        from there they would wrap (a wide view around a narrower diagram: larger text)."""
        longest = max(self._text_width(self._legend, html) for html in (self._legend_sample(), *self._info_samples()))
        return off + X0 if longest <= (width - off - X0) / upp - 2 else min(off + X0, X0)

    def _text_width(self, item, html):
        doc = QTextDocument()
        doc.setDefaultFont(item.textItem.font())
        doc.setDocumentMargin(item.textItem.document().documentMargin())
        doc.setHtml(html)
        return doc.size().width()

    def _legend_sample(self):
        return getattr(self, "_legend_html", None) or self._h("━━ positive ━━ negative weight", colors.MUTED)

    def _bottom_need(self, wrap_px, upp):
        """Pixels from the legend's top to the view's bottom the legend and the hover line need, wrapped to
        ``wrap_px``: the legend as it is, the hover line as its longest usual text (its text changes as the
        mouse moves; the diagram must not move with it). Only the texts and sizes count, never the past."""
        legend = self._legend_sample()
        self._reserved_legend = legend
        info = max((self._text_lines(self._info, html, wrap_px) for html in self._info_samples()), key=lambda mh: mh[1])
        lines = (self._text_lines(self._legend, legend, wrap_px), info)
        return self._bottom_offsets(upp, lines)[1] / upp

    def _info_samples(self):
        sep = "&nbsp;&nbsp;·&nbsp;&nbsp;"
        return (
            self._info_default_html(),
            self._h(
                f"<b>hidden 2, neuron 15</b>{sep}activation a = 0.000{sep}bias b = +0.000{sep}"
                f"weighted sum z = w·a + b = +0.000",
                colors.FOREGROUND,
            ),
        )

    def _place_bottom(self):
        """The legend under the neurons and the hover line under it, stacked in pixels, both inside the view
        (in a short view the pair moves up rather than leave it)."""
        x = getattr(self, "_bottom_x", None)
        if x is None or self._px <= 0:
            return
        below, need = self._bottom_offsets(self._px)
        y = LEGEND_Y
        visible_bottom = self._vb.viewRange()[1][1]
        y -= max(0.0, y + need - visible_bottom)  # a hover text longer than the room kept: up, not out
        for item, yy in ((self._legend, y), (self._info, y + below)):
            if abs(item.pos().x() - x) > 1e-9 or abs(item.pos().y() - yy) > 1e-9:
                item.setPos(x, yy)

    def _fit_width(self, item):
        """Wrap a bottom line (legend, info) into more lines when it is wider than the diagram, rather than cut
        it or shrink it (its text keeps the size presentation mode gave it); _place_bottom stacks the lines."""
        t = item.textItem
        natural = getattr(item, "natural_width", None)
        if natural is None:  # measured once per text (_set_text), unwrapped
            if t.textWidth() >= 0:
                item.setTextWidth(-1)
            natural = item.natural_width = t.boundingRect().width()
        x = getattr(self, "_bottom_x", item.pos().x())
        avail = (getattr(self, "_width", 0.0) - x) / self._px - 2 if self._px > 0 else natural
        want = -1.0 if natural <= avail else max(80.0, avail)
        if abs(t.textWidth() - want) > 0.5:
            item.setTextWidth(want)

    def _set_text(self, item, html):
        """New HTML for a bottom line: measured unwrapped again, then fitted to the diagram's width."""
        item.natural_width = None
        item.setHtml(html)
        self._fit_width(item)
        self._place_bottom()

    def _fit_caption(self):
        """The inset's caption wraps to the room between the inset and the first hidden layer, and shrinks (a
        short diagram) rather than reach under the neurons or the legend."""
        cap = self._inset_caption
        px = self._px
        if px <= 0 or not cap.isVisible() or getattr(self, "_col_x", None) is None or not self._col_x:
            return
        t = cap.textItem
        x0 = self._inset_rect.right() + 1.0
        x1 = self._col_x[0] - float(np.max(self._diam[: self._sizes[1]])) * 0.7  # clear of hidden 1's circles
        room_w = max(60.0, (x1 - x0) / px)
        room_h = max(20.0, (LEGEND_Y - self._inset_rect.top()) / px)
        texts = getattr(self, "_caption_texts", None)
        if texts is None:
            return
        for html in texts:  # the full caption if it fits (wrapped) at its size, else the compact one
            if html != getattr(self, "_caption_set", None):
                self._caption_set = html
                cap.setHtml(html)
            if t.textWidth() >= 0:
                cap.setTextWidth(-1)
            if t.boundingRect().width() > room_w:
                cap.setTextWidth(room_w)
            h, w = t.boundingRect().height(), t.boundingRect().width()
            f = min(1.0, room_h / h if h > 0 else 1.0, room_w / w if w > 0 else 1.0)
            if f >= 0.95:
                break
        if abs(t.scale() - f) > 1e-3:
            t.setScale(f)
            cap.updateTextPos()
        cap.setPos(x0, self._inset_rect.top())

    def _place_labels(self):
        """Output digit, value and the true-label marker side by side (text widths are in pixels)."""
        self._place_titles()
        self._fit_width(self._legend)
        self._fit_width(self._info)
        self._place_bottom()
        self._fit_caption()
        if not self._labels:
            return
        out = self._layer_pos[-1]
        x = out[0, 0] + self._diam[-1] / 2 + 1.2
        # rows closer than a line of text (a short window, a banner above): the labels shrink to the rows
        row_px = abs(out[1, 1] - out[0, 1]) / self._px if len(out) > 1 and self._px > 0 else math.inf
        t0 = self._labels[0].textItem
        ink = t0.boundingRect().height() - 2 * t0.document().documentMargin()
        f = 1.0 if ink <= 0 else min(1.0, max(0.4, (row_px + 2) / ink))
        for item in (*self._labels, *self._values, self._truth):
            if abs(item.textItem.scale() - f) > 1e-3:
                item.textItem.setScale(f)
        digit_w = f * max(t.textItem.boundingRect().width() for t in self._labels)
        value_w = f * self._values[0].textItem.boundingRect().width()
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            t.setPos(x, out[d, 1])
            v.setPos(x + (digit_w - 2) * self._px, out[d, 1])
        self._truth_x = x + (digit_w + value_w) * self._px

    def _activation_name(self):
        return self._state.activation if self._state is not None else ""

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

    # drawing (every frame)

    def _render(self):
        s = self._state
        if s is None:
            return
        L = len(s.sizes) - 1
        layer, i = self._selected
        if not (1 <= layer <= L and 0 <= i < s.sizes[layer]):
            self._selected = (-1, -1)
        ih, iw = self._input_grid
        self._image.setImage(s.activations[0].reshape(ih, iw), levels=(0.0, 1.0), autoLevels=False)

        # neurons: brightness = activation on a fixed scale per layer
        self._scales = []
        values = []
        for l in range(1, L + 1):
            a = s.activations[l]
            hi = 1.0
            if l < L and s.activation == "relu":
                hi = max(1.0, float(a.max()))
            elif l < L and s.activation == "tanh":
                a = np.abs(a)
            self._scales.append(hi)
            values.append(a / hi)
        v = np.concatenate(values)
        if s.wants is not None:
            # "what each neuron wants": -dC/da as a signed colour, on a symmetric scale per layer
            self.wants_scales = [max(float(np.abs(w).max()), 1e-12) for w in s.wants]
            self.wants_drawn = np.concatenate([w / sc for w, sc in zip(s.wants, self.wants_scales)])
            self._neurons.setBrush(colors.diverging_brushes(self.wants_drawn, 1.0))
            glow_i = np.clip(np.abs(self.wants_drawn) ** 1.5 * (GLOW_LEVELS - 1), 0, GLOW_LEVELS - 1).astype(np.intp)
        else:
            self.wants_drawn = None
            self._neurons.setBrush(colors.activation_brushes(v))
            glow_i = np.clip((v**1.5) * (GLOW_LEVELS - 1), 0, GLOW_LEVELS - 1).astype(np.intp)
        self._glow.setBrush(self._glow_table[glow_i])

        self._render_edges(s)
        self._render_rings(s)
        self._render_labels(s)
        self._place_titles()  # the subtitles name the activation, which a state may change
        self._render_inset(s)
        self._update_legend()
        if self._hover != (-1, -1):
            self._show_neuron_info(*self._hover)

    def _edge_points(self, l, src, dst):
        p0 = self._layer_pos[l][src]
        p1 = self._layer_pos[l + 1][dst]
        return p0, p1

    def _set_density(self, n_edges):
        """Fainter connections when there are many (wide layers), so the picture stays readable."""
        dense = n_edges > DENSE_EDGES
        if dense == self._dense:
            return
        self._dense = dense
        pens = colors.edge_pens(N_BINS, 20, 150) if dense else colors.edge_pens(N_BINS)
        self._edges.set_pens([pens[sign][b] for sign in (0, 1) for b in range(N_BINS)])

    def _render_edges(self, s):
        self._set_density(sum(len(e) for e in s.edges))
        p0s, p1s, keys = [], [], []
        for l, e in enumerate(s.edges):
            if len(e) == 0:
                continue
            p0, p1 = self._edge_points(l, e.src, e.dst)
            mag = np.abs(e.value)
            top = float(mag.max())
            b = (
                np.zeros(len(mag), np.intp)
                if top <= 0
                else np.minimum((mag / top * N_BINS).astype(np.intp), N_BINS - 1)
            )
            keys.append(np.where(e.value >= 0, 0, N_BINS) + b)
            p0s.append(p0)
            p1s.append(p1)
        if not keys:
            for bucket in range(2 * N_BINS):
                self._edges.set_lines(bucket, np.zeros((0, 4)))
            self._edges_xy = np.zeros((0, 4))
            self._render_focus(s)
            return
        key = np.concatenate(keys)
        p0 = np.concatenate(p0s)
        p1 = np.concatenate(p1s)
        self._edges_xy = np.column_stack([p0, p1])
        order = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=2 * N_BINS)
        xy = self._edges_xy[order]
        starts = np.concatenate([[0], np.cumsum(counts)])
        for bucket in range(2 * N_BINS):
            seg = xy[starts[bucket] : starts[bucket + 1]]
            offsets = self._thicken(bucket)
            if offsets and len(seg):
                seg = np.concatenate([seg] + [seg + (0.0, off * self._px, 0.0, off * self._px) for off in offsets])
            self._edges.set_lines(bucket, seg)
        self._render_focus(s)

    def _render_focus(self, s):
        """Draw the selected neuron's drawn incoming connections highlighted."""
        layer, i = self._selected
        if layer < 1 or layer > len(s.edges):
            self._focus_lines.set_lines(0, np.zeros((0, 4)))
            self._focus_px.setData([])
            self._focus_px.setVisible(False)
            return
        e = s.edges[layer - 1]
        m = e.dst == i
        p0, p1 = self._edge_points(layer - 1, e.src[m], e.dst[m])
        seg = np.column_stack([p0, p1])
        widen = _offsets(round(FOCUS_PX * self._font_scale))  # FOCUS_PX wide, more at a larger font scale
        self._focus_lines.set_lines(
            0, np.concatenate([seg] + [seg + (0.0, o * self._px, 0.0, o * self._px) for o in widen])
        )
        if layer == 1:  # outline the pixels this neuron's drawn connections read, in their colours
            pens = colors.edge_pens(N_BINS)
            self._focus_px.setData(
                pos=p0,
                size=self._cell * self._ppu,
                symbol="s",
                brush=_NO_BRUSH,
                pen=[pens[0 if v >= 0 else 1][-1] for v in e.value[m]],
            )
            self._focus_px.setVisible(True)
        else:
            self._focus_px.setData([])
            self._focus_px.setVisible(False)

    def _render_rings(self, s):
        L = len(s.sizes) - 1
        pos, size, pens = [], [], []
        out_d = float(self._diam[-1])
        pos.append(self._layer_pos[L][s.answer])
        size.append(out_d * 1.38)
        pens.append(self._answer_pen)
        if 0 <= s.label < s.sizes[-1] and self._labels:
            pos.append(self._layer_pos[L][s.label])
            size.append(out_d * 1.72)
            pens.append(self._truth_pen)
        layer, i = self._selected
        if 1 <= layer <= L:
            k = self._offsets[layer - 1] + i
            pos.append(self._pos[k])
            size.append(float(self._diam[k]) * 1.38)
            pens.append(self._selected_pen)
        self._rings.setData(pos=np.array(pos), size=np.array(size) * self._ppu, pen=pens, brush=_NO_BRUSH, symbol="o")

    def _render_labels(self, s):
        out = s.activations[-1]
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            is_answer = d == s.answer
            if self._label_answer[d] != is_answer:
                t.setHtml(
                    self._h(self._class_label(d), colors.HIGHLIGHT if is_answer else colors.FOREGROUND, 12, bold=True)
                )
                self._label_answer[d] = is_answer
            key = (f"{out[d]:.2f}", is_answer)
            if key != self._value_key[d]:
                v.setText(key[0], color=colors.HIGHLIGHT if is_answer else colors.MUTED)
                self._value_key[d] = key
        show = 0 <= s.label < len(self._labels)
        self._truth.setVisible(show)
        if show:
            self._truth.setPos(self._truth_x, self._layer_pos[-1][s.label, 1])

    def _render_inset(self, s):
        layer, i = self._selected
        show = layer == 1 and len(s.sizes) > 1 and 0 <= i < s.sizes[1]
        self._set_inset_visible(show)
        if not show:
            return
        ih, iw = self._input_grid
        W = s.weights[0]
        scale = symmetric_scale(W)
        self._inset.setImage(W[i].reshape(ih, iw), levels=(-scale, scale), autoLevels=False)
        html = (
            self._h(f"weights into hidden 1 · #{i}", colors.HIGHLIGHT, 9, bold=True)
            + "<br>"
            + self._h("blue +, orange −, dark 0", colors.MUTED, 8)
            + "<br>"
            + self._h(f"scale ±{scale:.2g}", colors.MUTED, 8)
        )
        compact = (  # for a narrow diagram (presentation mode's): the legend says what the colours are
            self._h(f"hidden 1 #{i}", colors.HIGHLIGHT, 9, bold=True)
            + "<br>"
            + self._h(f"weights in, ±{scale:.2g}", colors.MUTED, 8)
        )
        if html != getattr(self, "_caption_html", None):
            self._caption_html = html
            self._caption_texts = (html, compact)
            self._fit_caption()

    def _set_inset_visible(self, show):
        was = self._inset_caption.isVisible()
        for it in (self._inset, self._inset_frame, self._inset_caption):
            it.setVisible(show)
        if show and not was:
            self._fit_caption()

    def _update_legend(self):
        s = self._state
        mode = s.edge_mode  # what is drawn; set_edge_mode only states what was asked for
        if mode == "wants":
            sw = (
                self._h("wants (backprop):", colors.HIGHLIGHT, 9, True)
                + self._h(" ●", colors.POSITIVE, 9, True)
                + self._h(" up ", colors.MUTED)
                + self._h("●", colors.NEGATIVE, 9, True)
                + self._h(" down −∂C/∂a · ", colors.MUTED)
                + self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" grow ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(f" shrink −∂C/∂w · C = {s.example_cost:.3f}", colors.MUTED)
            )
        elif mode == "gradient":
            sw = (
                self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" −gradient &gt; 0: grow ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(" shrink", colors.MUTED)
            )
        else:
            sw = (
                self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" positive ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(" negative weight", colors.MUTED)
            )
        if getattr(self, "_wants_asked", False) and mode != "wants":
            sw += self._h(" (what each neuron wants: needs an example with a label)", colors.HIGHLIGHT)
        if self._edge_mode == "gradient" and mode == "weights":
            sw += self._h(" (−gradient: shown after a single step)", colors.HIGHLIGHT)
        k = len(s.edges[0]) // max(1, s.sizes[1]) if s.edges else 0
        parts = [sw, self._h(f"· first layer: {k} strongest of {s.sizes[0]} per neuron", colors.MUTED)]
        if s.activation == "relu" and len(s.sizes) > 2:
            sc = ", ".join(f"{h:.2g}" for h in self._scales[:-1])
            parts.append(self._h(f"· ReLU brightness = a / {sc} (layer max, at least 1)", colors.MUTED))
        elif s.activation == "tanh" and len(s.sizes) > 2:
            parts.append(self._h("· tanh brightness = |a|", colors.MUTED))
        if 0 <= s.label < s.sizes[-1] and self._labels:
            parts.append(
                self._h("· ", colors.MUTED)
                + self._h("◌", colors.TRUTH, 9, True)
                + self._h(" label ", colors.MUTED)
                + self._h("○", colors.HIGHLIGHT, 9, True)
                + self._h(" answer", colors.MUTED)
            )
        html = " ".join(parts)
        if html != getattr(self, "_legend_html", None):
            self._legend_html = html
            self._set_text(self._legend, html)
            if self._sizes is not None and getattr(self, "_reserved_legend", None) != html and not self._placing:
                # the room under the neurons was kept for another legend: keep it for this one
                self._placing = True
                try:
                    self._place()
                    self._render()
                finally:
                    self._placing = False

    # hover, click, pick

    def _to_widget(self, p: QPointF) -> QPointF:
        sp = self._vb.mapViewToScene(p)
        vp = self._gv.viewportTransform().map(sp)
        off = self._gv.viewport().mapTo(self, QPoint(0, 0))
        return QPointF(vp.x() + off.x(), vp.y() + off.y())

    def _neuron_at(self, p: QPointF):
        """``(layer, index)`` of the neuron under view point ``p``, or None."""
        if self._sizes is None or self._state is None:
            return None
        d = np.hypot(self._pos[:, 0] - p.x(), self._pos[:, 1] - p.y())
        k = int(np.argmin(d))
        if d[k] <= self._diam[k] * 0.6:
            return int(self._layer_of[k]), int(self._index_of[k])
        return None

    def _pixel_at(self, p: QPointF):
        r = self._img_rect
        if not r.contains(p):
            return None
        ih, iw = self._input_grid
        col = min(iw - 1, int((p.x() - r.left()) / self._cell))
        row = min(ih - 1, int((p.y() - r.top()) / self._cell))
        return row * iw + col

    def _edge_at(self, p: QPointF, tol_px=5.0):
        """``(weight layer, dst, src)`` of the drawn connection nearest to ``p`` within ``tol_px``."""
        s = self._state
        if s is None or not len(getattr(self, "_edges_xy", ())):
            return None
        e = self._edges_xy
        a, b = e[:, :2], e[:, 2:]
        ab = b - a
        q = np.array([p.x(), p.y()])
        t = np.clip(np.einsum("ij,ij->i", q - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
        d = np.hypot(*(a + t[:, None] * ab - q).T)
        k = int(np.argmin(d))
        px = self._vb.viewPixelSize()[0]
        if d[k] > tol_px * px:
            return None
        for l, es in enumerate(s.edges):
            if k < len(es):
                return l, int(es.dst[k]), int(es.src[k])
            k -= len(es)
        return None

    def _on_mouse_moved(self, scene_pos):
        if self._state is None:
            return
        p = self._vb.mapSceneToView(scene_pos)
        hit = self._neuron_at(p)
        if hit is not None:
            if hit != self._hover:
                self._hover = hit
                self._show_neuron_info(*hit)
                self.neuron_hovered.emit(*hit)
            return
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.neuron_hovered.emit(-1, -1)
        j = self._pixel_at(p)
        if j is not None:
            ih, iw = self._input_grid
            self._set_info(f"input pixel (row {j // iw}, col {j % iw}) = {self._state.activations[0][j]:.2f}")
        else:
            self._set_info_default()

    def leaveEvent(self, ev):
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.neuron_hovered.emit(-1, -1)
        self._set_info_default()
        super().leaveEvent(ev)

    def _show_neuron_info(self, layer, i):
        s = self._state
        L = len(s.sizes) - 1
        name = "output" if layer == L else f"hidden {layer}"
        names = getattr(self, "_class_names", None)
        what = (
            (f"digit {i}" if names is None else escape(names[i])) if layer == L and s.sizes[-1] == 10 else f"neuron {i}"
        )
        sep = "&nbsp;&nbsp;·&nbsp;&nbsp;"
        if s.wants is not None:
            w = s.wants[layer - 1][i]
            self._set_info(
                f"<b>{name}, {what}</b>{sep}a = {s.activations[layer][i]:.3f}{sep}the cost wants it "
                f"{'up' if w > 0 else 'down'}: −∂C/∂a = {w:+.4f}"
                + (" = −2(a − y)" if layer == L and s.cost != "cross_entropy" else ""),
                colors.FOREGROUND,
            )
            return
        self._set_info(
            f"<b>{name}, {what}</b>{sep}activation a = {s.activations[layer][i]:.3f}{sep}"
            f"bias b = {s.biases[layer - 1][i]:+.3f}{sep}weighted sum z = w·a + b = {s.zs[layer - 1][i]:+.3f}",
            colors.FOREGROUND,
        )

    def _set_info(self, text, color=colors.FOREGROUND):
        html = self._h(text, color, 9)
        if html != getattr(self, "_info_html", None):
            self._info_html = html
            self._set_text(self._info, html)

    def _set_info_default(self):
        if self._pending_param >= 0:
            name = self._layout.describe(self._pending_param)
            self._set_info(
                f"landscape: picked {name}; now pick a second weight or bias (right-click or Ctrl+click)",
                colors.HIGHLIGHT,
            )
        else:
            self._set_info(HINT, colors.MUTED)

    def _info_default_html(self):
        return self._h(HINT, colors.MUTED, 9)

    def _on_mouse_clicked(self, ev):
        if self._state is None:
            return
        p = self._vb.mapSceneToView(ev.scenePos())
        hit = self._neuron_at(p)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self._context_menu(hit, p, ev.screenPos())
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if ctrl:
            k = self._param_at(hit, p)
            if k >= 0:
                self._pick_parameter(k)
            ev.accept()
            return
        if hit is None:
            if self._selected != (-1, -1):
                self.select_neuron(-1, -1)
            return
        ev.accept()
        self.select_neuron(*hit)
        self.neuron_clicked.emit(*hit)

    def _param_at(self, hit, p):
        """Flat index of the bias under ``p`` (a neuron) or of the weight of the connection under it."""
        if hit is not None:
            layer, i = hit
            return self._layout.index(layer - 1, "b", i)
        e = self._edge_at(p)
        if e is not None:
            l, dst, src = e
            return self._layout.index(l, "w", dst, src)
        return -1

    def _context_menu(self, hit, p, screen_pos):
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        k = self._param_at(hit, p)
        if k >= 0:
            which = (
                "first of two"
                if self._pending_param < 0
                else f"second, with {self._layout.describe(self._pending_param)}"
            )
            menu.addAction(
                f"Use {self._layout.describe(k)} for the landscape ({which})", lambda: self._pick_parameter(k)
            )
        if hit is not None and hit[0] == 1:
            menu.addAction(
                f"Show the weights into hidden 1 #{hit[1]}",
                lambda: (self.select_neuron(*hit), self.neuron_clicked.emit(*hit)),
            )
        if self._pending_param >= 0:
            menu.addAction("Cancel the landscape pick", self._cancel_pick)
        if menu.isEmpty():
            return
        menu.popup(QPoint(int(screen_pos.x()), int(screen_pos.y())))
        self._menu = menu

    def _pick_parameter(self, k: int):
        """First call stores ``k``; the second emits ``parameters_picked(first, k)``."""
        if self._pending_param < 0:
            self._pending_param = int(k)
        elif k != self._pending_param:
            first, self._pending_param = self._pending_param, -1
            self.parameters_picked.emit(first, int(k))
        self._set_info_default()

    def _cancel_pick(self):
        self._pending_param = -1
        self._set_info_default()
