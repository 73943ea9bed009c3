"""The diagram's numbers: forward pass, chosen connections, weight mosaic (no Qt)."""

import numpy as np
import pytest

from digitviz.core.diagram import (
    DEFAULT_TOP_K,
    diagram_state,
    input_shape,
    strongest_edges,
    symmetric_scale,
    tile_at,
    tile_origin,
    weight_mosaic,
)
from digitviz.core.network import Network


@pytest.fixture
def net():
    return Network((784, 16, 16, 10), seed=3)


@pytest.fixture
def x(rng):
    return rng.random(784).astype(np.float32)


def test_activations_equal_forward(net, x):
    s = diagram_state(net, x, label=4)
    fw = net.forward(x[None])
    assert [a.shape for a in s.activations] == [(784,), (16,), (16,), (10,)]
    for a, ref in zip(s.activations, fw.activations):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, ref[0], rtol=1e-6)
    for z, ref in zip(s.zs, fw.zs):
        np.testing.assert_allclose(z, ref[0], rtol=1e-5, atol=1e-6)
    assert s.answer == int(np.argmax(fw.activations[-1][0]))
    assert s.label == 4 and s.sizes == (784, 16, 16, 10)
    assert s.activation == "sigmoid" and s.cost == "quadratic" and s.edge_mode == "weights"


def test_state_holds_copies(net, x):
    s = diagram_state(net, x)
    before = s.weights[0].copy(), s.biases[1].copy()
    net.theta[...] += 1.0
    np.testing.assert_array_equal(s.weights[0], before[0])
    np.testing.assert_array_equal(s.biases[1], before[1])
    assert not np.shares_memory(s.activations[0], x)


def test_strongest_edges_picks_largest_magnitudes():
    W = np.array([[0.1, -5.0, 0.3, 2.0], [4.0, 0.0, -0.2, -3.0]])
    src, dst = strongest_edges(W, 2)
    assert list(dst) == [0, 0, 1, 1]
    assert list(src) == [1, 3, 0, 3]  # strongest first within each neuron


def test_strongest_edges_random_matches_sort(rng):
    W = rng.standard_normal((7, 50))
    src, dst = strongest_edges(W, 5)
    for j in range(7):
        want = set(np.argsort(-np.abs(W[j]))[:5])
        assert set(src[dst == j]) == want


def test_strongest_edges_k_at_least_n_in_gives_all(rng):
    W = rng.standard_normal((3, 4))
    src, dst = strongest_edges(W, 10)
    assert len(src) == 12
    assert sorted(zip(dst, src)) == [(j, i) for j in range(3) for i in range(4)]


@pytest.mark.parametrize("k", [1, 3, 8, 20])
def test_top_k_bounds_first_layer_edges(net, x, k):
    s = diagram_state(net, x, top_k=k)
    e0 = s.edges[0]
    assert len(e0) == 16 * k
    assert np.all(np.bincount(e0.dst, minlength=16) == k)
    np.testing.assert_allclose(e0.value, s.weights[0][e0.dst, e0.src])
    # later layers: every connection
    assert len(s.edges[1]) == 16 * 16 and len(s.edges[2]) == 16 * 10
    assert s.top_k == k


def test_default_top_k(net, x):
    assert len(diagram_state(net, x).edges[0]) == 16 * DEFAULT_TOP_K


def test_wide_network_edges_capped(rng):
    net = Network((784, 256, 10), activation="relu", cost="cross_entropy", seed=0)
    s = diagram_state(net, rng.random(784), top_k=8, max_edges=1000)
    assert all(len(e) <= 1000 for e in s.edges)
    assert len(s.edges[0]) >= 256  # at least one per neuron
    assert np.all(np.bincount(s.edges[1].dst, minlength=10) == 100)


def test_edge_values_replace_weights(net, x, rng):
    vals = [rng.standard_normal(w.shape) for w in net.weights]
    s = diagram_state(net, x, top_k=4, edge_values=vals)
    assert s.edge_mode == "gradient"
    e0 = s.edges[0]
    np.testing.assert_allclose(e0.value, vals[0][e0.dst, e0.src])
    for j in range(16):  # chosen by the new values, not by the weights
        assert set(e0.src[e0.dst == j]) == set(np.argsort(-np.abs(vals[0][j]))[:4])
    with pytest.raises(ValueError):
        diagram_state(net, x, edge_values=vals[:2])


def test_with_top_k_recomputes(net, x):
    s = diagram_state(net, x, top_k=8).with_top_k(2)
    assert len(s.edges[0]) == 32 and s.top_k == 2


def test_input_shape():
    assert input_shape(784) == (28, 28)
    assert input_shape(10) == (1, 10)


def test_weight_mosaic_tiles_are_rows(rng):
    W = rng.standard_normal((16, 784)).astype(np.float32)
    img, scale = weight_mosaic(W, pad=1)
    assert img.shape == (4 * 29 - 1, 4 * 29 - 1)
    for i in range(16):
        x0, y0 = tile_origin(i, 4)
        np.testing.assert_array_equal(img[y0 : y0 + 28, x0 : x0 + 28], W[i].reshape(28, 28))
    assert np.isnan(img[28, :]).all() and np.isnan(img[:, 28]).all()  # padding
    assert scale == pytest.approx(np.percentile(np.abs(W), 99.5))


def test_weight_mosaic_shared_scale_and_grid(rng):
    W = rng.standard_normal((10, 784))
    W[3] *= 10
    img, scale = weight_mosaic(W, cols=5, pad=0)
    assert img.shape == (56, 140)
    assert scale == pytest.approx(symmetric_scale(W))
    np.testing.assert_allclose(img[28:56, 84:112], W[8].reshape(28, 28), rtol=1e-6)


def test_weight_mosaic_incomplete_grid_is_nan(rng):
    img, _ = weight_mosaic(rng.standard_normal((5, 784)))  # 3x3 grid, 4 empty tiles
    assert img.shape == (2 * 29 - 1, 3 * 29 - 1)
    x0, y0 = tile_origin(5, 3)
    assert np.isnan(img[y0 : y0 + 28, x0 : x0 + 28]).all()


def test_tile_at_inverts_tile_origin():
    for i in range(16):
        x0, y0 = tile_origin(i, 4)
        assert tile_at(x0 + 3.5, y0 + 27.9, 16, 4) == i
    assert tile_at(28.5, 3, 16, 4) == -1  # padding column
    assert tile_at(-1, 3, 16, 4) == -1
    assert tile_at(3, 3 * 29 + 2, 13, 4) == 12 and tile_at(29 + 3, 3 * 29 + 2, 13, 4) == -1


def test_symmetric_scale_subsamples_large_arrays(rng):
    W = rng.standard_normal((256, 784))
    assert symmetric_scale(W) == pytest.approx(np.percentile(np.abs(W), 99.5), rel=0.03)


def test_symmetric_scale_floor():
    assert symmetric_scale(np.zeros(10)) == 1e-3
    assert symmetric_scale([-3.0, 1.0], q=100) == 3.0


def test_wants_mode_packs_one_examples_backprop():
    from digitviz.core.diagram import diagram_state
    from digitviz.core.network import Network
    from digitviz.core.wants import neuron_wants

    net = Network([784, 16, 16, 10], seed=0)
    x = np.random.default_rng(1).random(784).astype(np.float32)
    s = diagram_state(net, x, 4, wants=True)
    w = neuron_wants(net, x, label=4)
    assert s.edge_mode == "wants" and abs(s.example_cost - w.cost) < 1e-12
    for got, want in zip(s.wants, w.wants):
        np.testing.assert_array_equal(got, want)
    for l, e in enumerate(s.edges):  # chosen and coloured by minus this example's gradient
        np.testing.assert_array_equal(e.value, -w.grad_views[l][0][e.dst, e.src])
    assert s.with_top_k(3).wants is s.wants
    plain = diagram_state(net, x, -1, wants=True)  # no label: the cost wants nothing
    assert plain.wants is None and plain.edge_mode == "weights"
