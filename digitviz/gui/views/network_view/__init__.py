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

The package, one module per concern (``from digitviz.gui.views.network_view import NetworkView`` as before):

- :mod:`.view`: ``NetworkView`` itself: its items (built once), signals, public API, font scale and pens;
- :mod:`.geometry` (``GeometryMixin``): where everything sits, per architecture, on resize and zoom;
- :mod:`.texts` (``TextsMixin``): the texts in pixels: titles, output labels, legend, hover line, caption;
- :mod:`.drawing` (``DrawingMixin``): every frame: neurons, glow, connections, rings, labels, inset, legend;
- :mod:`.interaction` (``InteractionMixin``): hover, click, select, pick parameters, the context menu;
- :mod:`.items`: ``_LineSets`` (the connections' one item) and helpers without a widget;
- :mod:`.constants`: the diagram's numbers (positions in scene units, sizes, buckets) and the hint.

Imports: NumPy, PySide6, pyqtgraph, digitviz.core, digitviz.gui.colors and digitviz.gui.style (in the modules).
"""

from .constants import (
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
)
from .view import NetworkView

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
