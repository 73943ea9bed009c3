"""The diagram's symbol atlases hold only the sizes drawn now, whatever sizes the view went through."""

import numpy as np

from digitviz.core.diagram import diagram_state
from digitviz.core.network import Network
from digitviz.gui.views.network_view import NetworkView


def atlas_sizes(item):
    return {round(float(key[1]), 3) for key in item.fragmentAtlas._coords}


def drawn_sizes(item):
    return {round(float(s), 3) for s in item.data["size"]}


def test_resizing_leaves_no_stale_symbols_in_the_atlas(qtbot, shown):
    # a view shown tiny first (as the first layout pass of a dock does) draws giant symbols; the atlas
    # used to keep them (and every later zoom step's) for good: 77 MB of the app's launch footprint
    view = shown(NetworkView(), 60, 40)
    rng = np.random.default_rng(0)
    net = Network((784, 16, 16, 10), seed=1)
    view.set_state(diagram_state(net, rng.random(784).astype(np.float32), label=3))
    for w, h in ((900, 600), (300, 200), (1200, 700)):
        view.resize(w, h)
        qtbot.waitUntil(lambda w=w: view._vb.width() > 0.8 * w - 200, timeout=2000)
        view.set_state(diagram_state(net, rng.random(784).astype(np.float32), label=3))
    for item in (view._glow, view._neurons):
        assert atlas_sizes(item) == drawn_sizes(item)
    total = sum(it.fragmentAtlas._data.nbytes for it in (view._glow, view._neurons, view._rings))
    assert total < 5e6, f"atlases hold {total / 1e6:.0f} MB"
