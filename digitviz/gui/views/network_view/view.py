"""The diagram's widget, :class:`NetworkView`: its items (built once), its signals and its public API.

The methods are grouped in mixins, one module each: :mod:`.geometry` (where everything sits),
:mod:`.texts` (texts in pixels), :mod:`.drawing` (every frame) and :mod:`.interaction` (hover, click, pick).

Imports: PySide6, pyqtgraph, digitviz.core, digitviz.gui.colors and digitviz.gui.style and the package's own
modules.
"""

from __future__ import annotations

from html import escape

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ....core.diagram import DEFAULT_TOP_K, DiagramState
from ... import colors, style
from .constants import N_BINS, THICKEN
from .drawing import DrawingMixin
from .geometry import GeometryMixin
from .interaction import InteractionMixin
from .items import _NO_BRUSH, _NO_PEN, _cached, _drop_atlas, _glow_brushes, _html, _LineSets, _offsets
from .texts import TextsMixin


class NetworkView(GeometryMixin, TextsMixin, DrawingMixin, InteractionMixin, QWidget):
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
