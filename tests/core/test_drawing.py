"""Asking the network to draw: the input gradient and projected gradient descent on the pixels."""

import numpy as np
import pytest

from digitviz.core.drawing import (
    correlation,
    draw_digit,
    input_gradient,
    iter_draw,
    mean_digit_images,
    start_images,
)
from digitviz.core.network import Network, one_hot


def objective(net, x, k, objective_name):
    A = net.feedforward(x[None, :])[0]
    if objective_name == "output":
        return -A[k]
    y = one_hot([k], 10, np.float64)[0]
    if net.cost_name == "quadratic":
        return np.sum((A - y) ** 2)
    return -np.log(A[k])


@pytest.mark.parametrize(
    "activation,cost,objective_name",
    [
        ("sigmoid", "quadratic", "cost"),
        ("sigmoid", "quadratic", "output"),
        ("relu", "cross_entropy", "cost"),
        ("tanh", "cross_entropy", "output"),
    ],
)
def test_input_gradient_matches_central_differences(rng, activation, cost, objective_name):
    net = Network((784, 12, 9, 10), activation, cost, np.float64, seed=4)
    X = rng.random((3, 784)) * 0.3
    k = np.array([2, 7, 0])
    value, grad, out = input_gradient(net, X, k=k, objective=objective_name)
    assert grad.shape == (3, 784) and out.shape == (3, 10)
    h = 1e-6
    for n in range(3):
        assert value[n] == pytest.approx(objective(net, X[n], k[n], objective_name), rel=1e-12)
        for i in rng.choice(784, 25, replace=False):
            xp, xm = X[n].copy(), X[n].copy()
            xp[i] += h
            xm[i] -= h
            fd = (objective(net, xp, k[n], objective_name) - objective(net, xm, k[n], objective_name)) / (2 * h)
            assert grad[n, i] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_input_gradient_of_one_image_and_given_targets(rng):
    net = Network((784, 8, 10), dtype=np.float64, seed=1)
    x = rng.random(784)
    v1, g1, _ = input_gradient(net, x, k=3)
    v2, g2, _ = input_gradient(net, x[None, :], Y=one_hot([3], 10, np.float64))
    assert g1.shape == (784,) and np.allclose(g1, g2[0]) and v1 == pytest.approx(v2[0])
    with pytest.raises(ValueError):
        input_gradient(net, x)
    with pytest.raises(ValueError):
        input_gradient(net, x, k=3, objective="wish")


def test_drawing_lowers_the_cost_keeps_pixels_in_range_and_streams(rng):
    net = Network(seed=0)  # float32: the drawing works on a float64 copy and leaves it alone
    theta = net.theta.copy()
    seen = []
    last = draw_digit(
        net, [3, 8], "noise", steps=60, lr=0.5, rng=np.random.default_rng(1), every=20, callback=seen.append
    )
    assert [s.step for s in seen] == [0, 20, 40, 60]
    assert np.array_equal(net.theta, theta)
    assert np.all(last.value < seen[0].value)
    for s in seen:
        assert s.images.dtype == np.float32 and s.images.min() >= 0 and s.images.max() <= 1
        assert np.allclose(s.outputs, net.feedforward(s.images), atol=1e-5)
    assert last.confidence.shape == (2,)
    # the noise start is the rng's uniform noise
    assert np.array_equal(seen[0].images, start_images("noise", 2, rng=np.random.default_rng(1)))
    # raising output k raises output k
    up = draw_digit(net, 5, "blank", steps=40, objective="output")
    assert up.confidence[0] > net.feedforward(np.zeros(784))[0, 5]


def test_drawing_stops_when_asked_and_starts_from_a_given_image():
    net = Network(seed=0)
    x0 = np.full(784, 0.25)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    steps = list(iter_draw(net, 1, x0, steps=500, every=1, stop=stop))
    assert steps[0].step == 0 and np.allclose(steps[0].images, 0.25)
    assert steps[-1].step < 10
    with pytest.raises(ValueError):
        list(iter_draw(net, 10))
    with pytest.raises(ValueError):
        start_images("paint", 1)
    with pytest.raises(ValueError):
        start_images(np.zeros(10), 1)


def test_mean_images_and_correlation(rng):
    X = rng.random((50, 784))
    labels = rng.integers(0, 3, 50)
    M = mean_digit_images(X, labels, n_classes=4)
    assert np.allclose(M[1], X[labels == 1].mean(axis=0)) and np.all(np.isnan(M[3]))
    assert correlation(X[0], X[0])[0] == pytest.approx(1.0)
    assert correlation(X[0], -X[0])[0] == pytest.approx(-1.0)
    assert correlation(X[0], np.ones(784))[0] == 0.0
