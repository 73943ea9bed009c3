"""What each neuron wants: one example's backpropagation, against the core's batch backprop."""

import numpy as np
import pytest

from digitviz.core.network import Network, one_hot
from digitviz.core.wants import neuron_wants


@pytest.mark.parametrize(
    "activation,cost", [("sigmoid", "quadratic"), ("relu", "cross_entropy"), ("tanh", "quadratic")]
)
def test_wants_agree_with_backprop_for_that_example(rng, activation, cost):
    net = Network((784, 16, 16, 10), activation, cost, np.float64, seed=3)
    x = rng.random(784)
    w = neuron_wants(net, x, label=7)
    c, grad = net.backprop(x[None, :], one_hot([7], 10, np.float64))
    assert w.cost == pytest.approx(c, rel=1e-12)
    assert np.allclose(w.grad, grad, rtol=1e-10, atol=1e-14)  # every connection and bias
    fwd = net.forward(x)
    for l, (a, gb) in enumerate(zip(w.activations, net.layout.views(grad))):
        assert np.allclose(a, fwd.activations[l + 1][0])
        assert np.allclose(w.dC_dz[l], gb[1], rtol=1e-10, atol=1e-14)  # delta = bias gradient
    y = one_hot([7], 10, np.float64)[0]
    if cost == "quadratic":
        assert np.allclose(w.dC_da[-1], 2 * (w.activations[-1] - y))  # the lesson's 2(a - y)
    assert all(np.array_equal(want, -d) for want, d in zip(w.wants, w.dC_da))
    assert [len(v) for v in w.wants] == [16, 16, 10]


def test_hidden_wants_match_central_differences_on_the_activation(rng):
    net = Network((784, 6, 5, 10), dtype=np.float64, seed=1)
    x = rng.random(784)
    y = one_hot([2], 10, np.float64)[0]
    w = neuron_wants(net, x, y=y)
    _, (W2, b2), (W3, b3) = net.layout.views(net.theta)
    a1 = w.activations[0]

    def cost_from_a1(a):
        a2 = 1 / (1 + np.exp(-(W2 @ a + b2)))
        a3 = 1 / (1 + np.exp(-(W3 @ a2 + b3)))
        return np.sum((a3 - y) ** 2)

    h = 1e-6
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        fd = (cost_from_a1(a1 + e) - cost_from_a1(a1 - e)) / (2 * h)
        assert w.dC_da[0][j] == pytest.approx(fd, rel=1e-6, abs=1e-12)


def test_wants_use_a_given_theta_and_check_input(rng):
    net = Network((784, 8, 10), dtype=np.float32, seed=0)
    other = Network((784, 8, 10), dtype=np.float32, seed=5)
    x = rng.random(784)
    w = neuron_wants(net, x, label=1, theta=other.theta)
    assert np.allclose(w.activations[-1], other.feedforward(x)[0], atol=1e-6)
    with pytest.raises(ValueError):
        neuron_wants(net, x[:100], label=1)
    with pytest.raises(ValueError):
        neuron_wants(net, x)
