"""'As sure as for X% of real digits'."""

import numpy as np
import pytest

from digitviz.core.confidence import sure_as_share, sure_as_text, top_outputs
from digitviz.core.network import Network


def test_share_of_real_digits_answered_less_surely():
    digits = np.array([0.2, 0.5, 0.5, 0.9, 0.99])
    assert sure_as_share(0.1, digits) == 0.0
    assert sure_as_share(0.5, digits) == pytest.approx(0.2)  # strictly below: only 0.2
    assert sure_as_share(0.95, digits) == pytest.approx(0.8)
    assert sure_as_share(1.0, digits) == 1.0
    assert np.allclose(sure_as_share(np.array([0.1, 0.95]), digits), [0.0, 0.8])
    assert sure_as_text(0.95, digits) == "as sure as for 80% of real digits"
    with pytest.raises(ValueError):
        sure_as_share(0.5, [])


def test_top_outputs(rng):
    net = Network(seed=0)
    X = rng.random((7, 784))
    assert np.allclose(top_outputs(net, X), net.feedforward(X).max(axis=1))
