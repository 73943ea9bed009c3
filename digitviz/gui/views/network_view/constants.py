"""The diagram's numbers: where things sit (scene units; one input pixel = one unit), sizes, buckets, the hint.

Imports: nothing.
"""

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
