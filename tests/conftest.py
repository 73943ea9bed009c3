"""Shared fixtures. Qt runs offscreen so that the tests need no display."""

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from digitviz.core.data import load_mnist

    return load_mnist(mnist_dir)


def make_toy_data(n_train=600, n_test=200, seed=0):
    """A learnable 10-class dataset in MNIST's format: each class lights its own 28x28 region."""
    from digitviz.core.data import Dataset

    r = np.random.default_rng(seed)
    protos = np.zeros((10, 28, 28))
    for k in range(10):
        i, j = divmod(k, 4)
        protos[k, 2 + 6 * i : 8 + 6 * i, 2 + 6 * j : 8 + 6 * j] = 1.0
    protos = protos.reshape(10, 784)

    def split(n):
        labels = r.integers(0, 10, n).astype(np.uint8)
        imgs = np.clip(protos[labels] * 0.8 + r.random((n, 784)) * 0.3, 0, 1)
        return (imgs * 255).astype(np.uint8), labels

    tr, trl = split(n_train)
    te, tel = split(n_test)
    return Dataset(tr, trl, te, tel, Path("toy"))


@pytest.fixture
def toy_data():
    return make_toy_data()


@pytest.fixture
def shown(qtbot):
    """``shown(widget, w, h)``: register, resize, show and wait until it is on screen; returns it."""

    def show(widget, width, height):
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return show
