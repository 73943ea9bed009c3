"""The overconfidence probe on small, fixed networks (no Qt)."""

import numpy as np
import pytest

from digitviz.core.inputs import noise
from digitviz.core.network import Network
from digitviz.core.probe import probe


@pytest.fixture
def fake_test_set(rng):
    X = rng.random((300, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 300)
    return X, labels


def test_probe_matches_a_direct_computation(fake_test_set):
    X, labels = fake_test_set
    net = Network(seed=3)
    res = probe(net, X, labels, np.random.default_rng(7), n=200, kind="gaussian", threshold=0.6)

    g = np.random.default_rng(7)  # same order of draws: noise first, then the digit sample
    Xn = noise(g, "gaussian", 200)
    sample = g.choice(300, size=200, replace=False)
    out_n = net.feedforward(Xn)
    out_d = net.feedforward(X[sample])
    assert np.allclose(res.noise_top, out_n.max(axis=1))
    assert np.allclose(res.digits_top, out_d.max(axis=1))
    assert res.noise_confident_share == np.mean(out_n.max(axis=1) > 0.6)
    assert res.digits_confident_share == np.mean(out_d.max(axis=1) > 0.6)
    assert np.array_equal(res.noise_answers, np.bincount(out_n.argmax(axis=1), minlength=10))
    assert res.test_acc == np.mean(net.predict(X) == labels)
    assert res.digits_acc == np.mean(out_d.argmax(axis=1) == labels[sample])
    assert res.noise_answers.sum() == 200 and res.kind == "gaussian" and res.n == 200


def test_probe_is_reproducible_and_leaves_the_network_alone(fake_test_set):
    X, labels = fake_test_set
    net = Network(seed=1)
    theta = net.theta.copy()
    a = probe(net, X, labels, np.random.default_rng(0), n=100)
    b = probe(net, X, labels, np.random.default_rng(0), n=100)
    assert np.array_equal(a.noise_top, b.noise_top) and np.array_equal(a.digits_top, b.digits_top)
    assert np.array_equal(net.theta, theta)


def test_sample_is_capped_by_the_test_set(fake_test_set):
    X, labels = fake_test_set
    res = probe(Network(seed=1), X[:50], labels[:50], np.random.default_rng(0), n=100)
    assert res.noise_top.shape == (100,) and res.digits_top.shape == (50,)


def test_softmax_outputs_and_a_network_that_always_says_seven(fake_test_set):
    X, labels = fake_test_set
    net = Network(cost="cross_entropy", seed=2)
    net.weights[-1][...] = 0
    net.biases[-1][...] = 0
    net.biases[-1][7] = 10.0  # softmax gives digit 7 probability ~0.9999 for any input
    res = probe(net, X, labels, np.random.default_rng(0), n=100)
    assert res.noise_answers[7] == 100
    assert res.noise_confident_share == 1.0 and res.digits_confident_share == 1.0
    assert res.test_acc == pytest.approx(np.mean(labels == 7))


def test_doubting_network_is_unsure_of_noise(fake_test_set):
    X, labels = fake_test_set
    net = Network(seed=2)  # sigmoid outputs
    net.weights[-1][...] = 0
    net.biases[-1][...] = -5.0  # every output ~0.007: "not a digit"
    res = probe(net, X, labels, np.random.default_rng(0), n=100)
    assert res.noise_confident_share == 0.0
    assert res.noise_top.max() < 0.01


def test_empty_test_set_is_an_error():
    with pytest.raises(ValueError):
        probe(Network(seed=0), np.zeros((0, 784)), np.zeros(0), np.random.default_rng(0))


def test_probe_on_a_briefly_trained_lesson_network(mnist):
    from digitviz.core.training import PRESETS, Trainer

    tr = Trainer(mnist, PRESETS["lesson"])
    for _ in range(500):
        tr.step()
    # its speed is a benchmark figure: probe_ms in benchmarks/probe_and_data.py
    res = probe(tr.net, mnist.images_as("test"), mnist.test_labels, np.random.default_rng(0))
    assert res.test_acc > 0.5 and res.noise_answers.sum() == 1000
