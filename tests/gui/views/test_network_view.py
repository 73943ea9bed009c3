"""The network diagram: items fed by set_state, pixels where the lesson says, hover/click/pick."""

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from digitviz.core.diagram import diagram_state
from digitviz.core.network import Network
from digitviz.gui import colors
from digitviz.gui.views.network_view import NetworkView


def pixels(w):
    img = w.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    return pg.functions.ndarray_from_qimage(img).astype(int)


def at(arr, p):
    return arr[int(round(p.y())), int(round(p.x())), :3]


def viewport_pos(w, p):
    """Widget point -> the GraphicsView viewport's coordinates (where mouse events go)."""
    off = w._gv.viewport().mapTo(w, QPoint(0, 0))
    return QPoint(int(round(p.x())) - off.x(), int(round(p.y())) - off.y())


@pytest.fixture
def net():
    return Network((784, 16, 16, 10), seed=1)


@pytest.fixture
def x(rng):
    x = np.zeros(784, np.float32)
    x.reshape(28, 28)[6:22, 12:16] = 1.0  # a "1"
    return x


@pytest.fixture
def view(shown):
    return shown(NetworkView(), 900, 600)


def with_outputs(state, out):
    acts = list(state.activations)
    acts[-1] = np.asarray(out, np.float64)
    return dataclasses.replace(state, activations=acts, answer=int(np.argmax(out)))


def test_set_state_fills_the_items(view, net, x):
    s = diagram_state(net, x, label=1)
    view.set_state(s)
    assert len(view._neurons.data) == 16 + 16 + 10
    assert len(view._edges_xy) == sum(len(e) for e in s.edges) == 16 * 8 + 16 * 16 + 16 * 10
    # every edge is in its bucket's curve (the strongest buckets also hold 1-pixel-offset copies)
    assert len(view._edges_xy) <= view._edges.n_lines() <= 3 * len(view._edges_xy)
    np.testing.assert_array_equal(view._image.image, x.reshape(28, 28))
    assert view._image.levels is not None and list(view._image.levels) == [0.0, 1.0]
    assert [t.textItem.toPlainText() for t in view._titles[::2]] == ["input", "hidden 1", "hidden 2", "output"]
    assert [t.textItem.toPlainText() for t in view._labels] == [str(d) for d in range(10)]
    assert [t.textItem.toPlainText() for t in view._values] == [f"{a:.2f}" for a in s.activations[-1]]
    assert view._truth.isVisible() and view._truth.pos().y() == pytest.approx(view._layer_pos[-1][1, 1])


def test_items_are_reused(view, net, x, rng):
    view.set_state(diagram_state(net, x))
    before = set(map(id, view._vb.addedItems))
    for _ in range(3):
        view.set_state(diagram_state(net, rng.random(784), label=int(rng.integers(10))))
    assert set(map(id, view._vb.addedItems)) == before


def test_bright_output_is_brighter_than_dark_one(view, net, x):
    out = np.zeros(10)
    out[3] = 1.0
    view.set_state(with_outputs(diagram_state(net, x), out))
    arr = pixels(view)
    bright, dark = at(arr, view.output_center(3)), at(arr, view.output_center(7))
    assert bright.sum() > 700  # white fill
    assert dark.sum() < 150  # near the background
    assert bright.sum() > dark.sum() + 500


def test_activation_is_absolute_not_normalised(view, net, x):
    out = np.full(10, 0.05)  # a quiet layer stays quiet
    view.set_state(with_outputs(diagram_state(net, x), out))
    arr = pixels(view)
    assert max(at(arr, view.output_center(d)).sum() for d in range(10)) < 200


@pytest.mark.parametrize("sign", [+1.0, -1.0])
def test_connection_drawn_in_its_sign_colour(qtbot, view, x, sign):
    net = Network((784, 1, 1), seed=0)
    net.weights[1][...] = sign * 2.0  # the one hidden -> output connection
    view.set_state(diagram_state(net, x))
    a, b = view.neuron_center(1, 0), view.output_center(0)
    mid = (a + b) / 2
    arr = pixels(view)
    # the line is horizontal; look at a few rows around its middle for the most saturated pixel
    col = arr[int(mid.y()) - 2 : int(mid.y()) + 3, int(mid.x())]
    rgb = col[np.argmax(np.abs(col[:, 0] - col[:, 2]))][:3]
    want = np.array(pg.mkColor(colors.POSITIVE if sign > 0 else colors.NEGATIVE).getRgb()[:3])
    other = np.array(pg.mkColor(colors.NEGATIVE if sign > 0 else colors.POSITIVE).getRgb()[:3])
    assert np.abs(rgb - want).sum() < np.abs(rgb - other).sum()
    assert (rgb[2] > rgb[0]) if sign > 0 else (rgb[0] > rgb[2])


def test_input_image_upright(view, net):
    x = np.zeros(784, np.float32)
    x.reshape(28, 28)[:4, :] = 1.0  # top rows lit
    view.set_state(diagram_state(net, x))
    arr = pixels(view)
    top, bottom = at(arr, view.neuron_center(0, 1 * 28 + 14)), at(arr, view.neuron_center(0, 25 * 28 + 14))
    assert top.sum() > 700 and bottom.sum() < 60


def test_set_top_k_redraws_first_layer(view, net, x):
    view.set_state(diagram_state(net, x))
    view.set_top_k(3)
    assert view.top_k == 3
    assert len(view._state.edges[0]) == 16 * 3
    assert len(view._edges_xy) == 16 * 3 + 16 * 16 + 16 * 10
    # a state computed with another k is redrawn with the view's k
    view.set_state(diagram_state(net, x, top_k=8))
    assert len(view._state.edges[0]) == 16 * 3


def test_edge_mode_changes_legend(view, net, x):
    view.set_state(diagram_state(net, x))

    def legend():
        return view._legend.textItem.toPlainText()

    assert "negative weight" in legend() and "gradient" not in legend()
    view.set_edge_mode("gradient")  # asked for, but this state holds weights: the legend says both
    assert "negative weight" in legend() and "shown after a single step" in legend()
    with pytest.raises(ValueError):
        view.set_edge_mode("colour")
    grads = [np.ones_like(w) for w in net.weights]
    view.set_state(diagram_state(net, x, edge_values=grads))
    assert "−gradient > 0" in legend() and "negative weight" not in legend()


def test_hover_shows_numbers(qtbot, view, net, x):
    s = diagram_state(net, x)
    view.set_state(s)
    p = viewport_pos(view, view.neuron_center(2, 4))
    with qtbot.waitSignal(view.neuron_hovered, timeout=2000) as sig:
        qtbot.mouseMove(view._gv.viewport(), p)
    assert sig.args == [2, 4]
    text = view._info.textItem.toPlainText()
    assert "hidden 2" in text and f"{s.activations[2][4]:.3f}" in text and f"{s.biases[1][4]:+.3f}" in text
    assert f"{s.zs[1][4]:+.3f}" in text


def test_leaving_the_view_clears_the_hover(qtbot, view, net, x):
    # leaveEvent lives in a mixin (network_view/interaction.py): Qt must still call it
    view.set_state(diagram_state(net, x))
    with qtbot.waitSignal(view.neuron_hovered, timeout=2000):  # the scene's mouse-moved slot, on neuron (2, 4)
        view._on_mouse_moved(view._vb.mapViewToScene(QPointF(*map(float, view._layer_pos[2][4]))))
    assert view._hover == (2, 4)
    with qtbot.waitSignal(view.neuron_hovered, timeout=2000) as sig:
        QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))
    assert sig.args == [-1, -1] and view._hover == (-1, -1)
    assert view._info.textItem.toPlainText().startswith("hover a neuron")


def test_click_first_hidden_neuron_shows_its_weights(qtbot, view, net, x):
    s = diagram_state(net, x)
    view.set_state(s)
    assert not view._inset.isVisible()
    p = viewport_pos(view, view.neuron_center(1, 5))
    with qtbot.waitSignal(view.neuron_clicked, timeout=2000) as sig:
        qtbot.mouseClick(view._gv.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert sig.args == [1, 5]
    assert view._inset.isVisible()
    np.testing.assert_array_equal(view._inset.image, s.weights[0][5].reshape(28, 28))
    lo, hi = view._inset.levels
    assert hi > 0 and lo == -hi
    # the inset follows training
    net.theta[...] *= 2
    s2 = diagram_state(net, x)
    view.set_state(s2)
    np.testing.assert_array_equal(view._inset.image, s2.weights[0][5].reshape(28, 28))
    # clicking empty space deselects
    view.select_neuron(-1, -1)
    assert not view._inset.isVisible()


def test_output_click_emits_without_inset(qtbot, view, net, x):
    view.set_state(diagram_state(net, x))
    p = viewport_pos(view, view.output_center(9))
    with qtbot.waitSignal(view.neuron_clicked, timeout=2000) as sig:
        qtbot.mouseClick(view._gv.viewport(), Qt.MouseButton.LeftButton, pos=p)
    assert sig.args == [3, 9]
    assert not view._inset.isVisible()


def test_ctrl_click_two_parameters(qtbot, view, net, x):
    view.set_state(diagram_state(net, x))
    vp = view._gv.viewport()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, ctrl, viewport_pos(view, view.neuron_center(1, 2)))
    assert "picked b1[2]" in view._info.textItem.toPlainText()
    # the second: a connection, clicked at the middle of hidden-2 neuron 0 -> output 0
    e = view._state.edges[2]
    mid = (view.neuron_center(2, 0) + view.output_center(0)) / 2
    with qtbot.waitSignal(view.parameters_picked, timeout=2000) as sig:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, ctrl, viewport_pos(view, mid))
    first, second = sig.args
    assert first == net.layout.index(0, "b", 2)
    # a weight of the hidden 2 -> output layer, one of the connections drawn there
    assert net.layout.describe(second).startswith("w3[")
    i, j = map(int, net.layout.describe(second)[3:-1].split(","))
    assert ((e.dst == i) & (e.src == j)).any()


def test_pick_ignores_the_same_parameter_twice(qtbot, view, net, x):
    view.set_state(diagram_state(net, x))
    with qtbot.assertNotEmitted(view.parameters_picked):
        view._pick_parameter(5)
        view._pick_parameter(5)
    with qtbot.waitSignal(view.parameters_picked) as sig:
        view._pick_parameter(7)
    assert sig.args == [5, 7]


def test_wide_network_is_compact(qtbot, view, rng):
    net = Network((784, 256, 10), activation="relu", cost="cross_entropy", seed=0)
    s = diagram_state(net, rng.random(784))
    view.set_state(s)
    assert len(view._neurons.data) == 266
    assert all(len(e) <= 800 for e in s.edges)
    # every neuron inside the widget, none overlapping its neighbour
    pts = np.array([[view.neuron_center(1, i).x(), view.neuron_center(1, i).y()] for i in range(256)])
    assert (pts >= 0).all() and (pts[:, 0] < view.width()).all() and (pts[:, 1] < view.height()).all()
    assert len({(round(a), round(b)) for a, b in pts}) == 256
    assert "ReLU" in view._legend.textItem.toPlainText()


@pytest.mark.parametrize("sizes", [(6, 5, 4, 3), (784, 10), (784, 30, 20, 10, 10)])
def test_other_architectures(view, rng, sizes):
    net = Network(sizes, seed=0)
    view.set_state(diagram_state(net, rng.random(sizes[0])))
    assert len(view._neurons.data) == sum(sizes[1:])
    view.grab()


def test_architecture_change_rebuilds_labels(view, rng):
    view.set_state(diagram_state(Network((784, 16, 10), seed=0), rng.random(784)))
    view.set_state(diagram_state(Network((784, 16, 5), seed=0), rng.random(784)))
    assert len(view._labels) == 5
    assert len(view._titles) == 2 * 3


def test_resize_keeps_neurons_inside(qtbot, view, net, x):
    view.set_state(diagram_state(net, x))
    view.resize(500, 700)
    qtbot.waitUntil(lambda: abs(view._aspect - view._vb.width() / view._vb.height()) < 0.05)
    for d in range(10):
        p = view.output_center(d)
        assert 0 <= p.x() < view.width() and 0 <= p.y() < view.height()
