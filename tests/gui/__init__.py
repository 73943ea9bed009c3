"""GUI tests (pytest-qt, offscreen). Shared helpers for the window and worker tests."""

import numpy as np

from digitviz.core.training import TrainConfig

FAST = TrainConfig(sizes=(784, 16, 16, 10), batch_size=10, lr=1.5, seed=0)


class ToyData:
    """A small learnable stand-in for MNIST: digit k lights a bright 7x7 block at its own place.

    Any object with the four uint8 arrays and ``images_as`` works for the Trainer.
    """

    def __init__(self, n_train=600, n_test=200, seed=0):
        rng = np.random.default_rng(seed)
        self.train_images, self.train_labels = self._make(rng, n_train)
        self.test_images, self.test_labels = self._make(rng, n_test)
        self._cache = {}

    @staticmethod
    def _make(rng, n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        img = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, k in enumerate(labels):
            r, c = divmod(int(k), 4)
            img[i, 2 + 8 * r:9 + 8 * r, 1 + 7 * c:8 + 7 * c] = 255
        return img.reshape(n, 784), labels

    def images_as(self, which, dtype=np.float32):
        key = (which, np.dtype(dtype))
        if key not in self._cache:
            a = (self.train_images if which == "train" else self.test_images).astype(dtype) / 255
            a.flags.writeable = False
            self._cache[key] = a
        return self._cache[key]
