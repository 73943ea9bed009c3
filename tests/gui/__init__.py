"""GUI tests (pytest-qt, offscreen). Shared helpers for the window and worker tests."""

from pathlib import Path

import numpy as np

from digitviz.core.data import Dataset
from digitviz.core.training import TrainConfig

FAST = TrainConfig(sizes=(784, 16, 16, 10), batch_size=10, lr=1.5, seed=0)


def ToyData(n_train=600, n_test=200, seed=0) -> Dataset:
    """A small learnable stand-in for MNIST, as a real :class:`Dataset`: digit k lights a bright 7x7 block
    at its own place."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        img = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, k in enumerate(labels):
            r, c = divmod(int(k), 4)
            img[i, 2 + 8 * r : 9 + 8 * r, 1 + 7 * c : 8 + 7 * c] = 255
        return img.reshape(n, 784), labels

    train, test = make(n_train), make(n_test)
    return Dataset(*train, *test, Path("toy"))
