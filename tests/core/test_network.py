import numpy as np
import pytest

from digitviz.core.network import ACTIVATIONS, COSTS, Layout, Network, one_hot


def numerical_gradient(net, X, Y, h=1e-6):
    theta = net.theta
    g = np.empty_like(theta)
    for k in range(theta.size):
        old = theta[k]
        theta[k] = old + h
        cp = net.cost(X, Y)
        theta[k] = old - h
        cm = net.cost(X, Y)
        theta[k] = old
        g[k] = (cp - cm) / (2 * h)
    return g


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("cost", COSTS)
def test_gradient_matches_central_differences(activation, cost, rng):
    net = Network((7, 5, 4, 3), activation, cost, dtype=np.float64, seed=3)
    X = rng.random((6, 7))
    Y = one_hot(rng.integers(0, 3, 6), 3, np.float64)
    if cost == "quadratic":
        Y[0] = 0.0  # a "not a digit" target is allowed
    _, g = net.backprop(X, Y)
    g = g.copy()
    n = numerical_gradient(net, X, Y)
    rel = np.max(np.abs(g - n)) / max(1e-8, np.max(np.abs(g) + np.abs(n)))
    assert rel < 1e-6, rel


def test_views_share_theta_and_layout():
    net = Network()
    assert net.n_params == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13002
    for w, b in zip(net.weights, net.biases):
        assert np.shares_memory(w, net.theta) and np.shares_memory(b, net.theta)
    net.weights[1][2, 3] = 42.0
    assert net.theta[net.layout.index(1, "w", 2, 3)] == 42.0
    assert net.layout.describe(net.layout.index(1, "w", 2, 3)) == "w2[2,3]"
    _, g = net.backprop(np.zeros((2, 784), np.float32), np.zeros((2, 10), np.float32))
    assert g.shape == net.theta.shape and g.dtype == np.float32


def test_seeded_init_is_deterministic_in_both_dtypes():
    a, b = Network(seed=7), Network(seed=7)
    assert np.array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, Network(seed=8).theta)
    c = Network(seed=7, dtype=np.float64)
    assert c.theta.dtype == np.float64
    np.testing.assert_allclose(c.theta, a.theta, rtol=1e-6)


def test_forward_returns_every_layer(rng):
    net = Network((784, 16, 16, 10))
    X = rng.random((5, 784)).astype(np.float32)
    fw = net.forward(X)
    assert [a.shape for a in fw.activations] == [(5, 784), (5, 16), (5, 16), (5, 10)]
    assert [z.shape for z in fw.zs] == [(5, 16), (5, 16), (5, 10)]
    np.testing.assert_allclose(fw.output, net.feedforward(X), rtol=1e-6)
    # the forward pass at another theta equals a network holding that theta
    other = Network(seed=99)
    np.testing.assert_allclose(net.feedforward(X, other.theta), other.feedforward(X), rtol=1e-6)


def test_softmax_outputs_sum_to_one(rng):
    net = Network((784, 16, 10), "relu", "cross_entropy")
    out = net.feedforward(rng.random((4, 784)))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="activation"):
        Network(activation="swish")
    with pytest.raises(ValueError, match="cost"):
        Network(cost="hinge")
    with pytest.raises(ValueError):
        Layout([784])
    with pytest.raises(ValueError, match="shape"):
        Network().feedforward(np.zeros((2, 10)))


def test_from_config_seeded_or_with_theta():
    from dataclasses import replace

    from digitviz.core.training import PRESETS

    cfg = replace(PRESETS["wide"], seed=4)
    a, b = Network.from_config(cfg), Network.from_config(cfg)
    assert np.array_equal(a.theta, b.theta) and a.arch_key == cfg.arch_key
    assert (a.sizes, a.activation, a.cost_name, a.dtype) == ((784, 256, 10), "relu", "cross_entropy", np.float32)
    theta = np.arange(a.n_params, dtype=np.float32)
    c = Network.from_config(cfg, theta)
    assert np.array_equal(c.theta, theta) and c.theta is not theta
    assert Network.from_config(replace(cfg, dtype="float64")).arch_key != cfg.arch_key
    with pytest.raises(ValueError, match="parameters"):
        Network.from_config(cfg, theta[:-1])
