"""The fixed sample of examples a run's landscape is measured on, and what every landscape job carries.

Imports: NumPy and :mod:`digitviz.core`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitviz.core.data import Dataset
from digitviz.core.network import Network, one_hot
from digitviz.core.training import TrainConfig, training_labels

SOURCES = ("train", "test")
_SAMPLE_SALT = 7  # seeds the sample's permutation: rng([config.seed, 7]) (the Trainer uses 1, 2, 3)


def sample_indices(n_total: int, n: int, seed: int) -> np.ndarray:
    """The first ``n`` of a seeded permutation of ``range(n_total)``: one fixed sample per run."""
    perm = np.random.default_rng([int(seed), _SAMPLE_SALT]).permutation(n_total)
    return perm[: max(1, min(int(n), n_total))]


def make_sample(data: Dataset, config: TrainConfig, n: int, source: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, 784), Y (n, n_out))`` in the network's dtype: the examples every job of a run uses.

    Training examples carry the labels the run trains on (permuted when ``config.random_labels``,
    exactly as :class:`~digitviz.core.training.Trainer` does), so the surface is the cost being descended.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    images = data.train_images if source == "train" else data.test_images
    labels = np.asarray(data.train_labels if source == "train" else data.test_labels, np.intp)
    if source == "train":
        labels = training_labels(labels, config)
    idx = sample_indices(len(images), n, config.seed)
    dtype = np.dtype(config.dtype)
    X = images[idx].astype(dtype)
    X /= dtype.type(255)  # as Dataset.images_as: 255 maps to exactly 1.0
    Y = one_hot(labels[idx], config.sizes[-1], dtype)
    X.flags.writeable = False
    Y.flags.writeable = False
    return X, Y


@dataclass(frozen=True, eq=False)
class RunSample:
    """Which run a landscape job belongs to and which examples its costs are averaged over.

    Attributes
    ----------
    id, generation : int
        The request id and the run's generation (a result of another run is stale).
    config : TrainConfig
    data : Dataset
        Read-only.
    sample_size : int
    source : {"train", "test"}
    """

    id: int
    generation: int
    config: TrainConfig
    data: Dataset
    sample_size: int
    source: str

    def inputs(self) -> tuple[Network, np.ndarray, np.ndarray]:
        """A fresh network of the run's layout (no weights needed: the jobs pass theta) and the sample."""
        c = self.config
        net = Network.from_config(c)  # its weights are never read: the jobs pass theta
        return (net, *make_sample(self.data, c, self.sample_size, self.source))
