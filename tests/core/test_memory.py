"""The dataset's pixels are held once: uint8, plus one shared float32 copy of the test set.

The training set is never converted whole (it would be 188 MB of float32 beside 47 MB of uint8):
training gathers uint8 mini-batches and evaluates in chunks; subsets share their parent's copies.
"""

import numpy as np
import pytest

from digitviz.core import experiments as ex
from digitviz.core.data import ScaledImages
from digitviz.core.training import TrainConfig, Trainer, evaluate
from tests.conftest import make_toy_data


@pytest.fixture
def data():
    return make_toy_data(n_train=700, n_test=300)


def test_scaled_images_match_the_converted_array_row_for_row(data):
    full = data.images_as("train")
    lazy = data.scaled("train")
    assert len(lazy) == len(full) and lazy.shape == full.shape and lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy[3], full[3])
    np.testing.assert_array_equal(lazy[10:20], full[10:20])
    idx = np.array([5, 1, 650])
    np.testing.assert_array_equal(lazy[idx], full[idx])
    np.testing.assert_array_equal(np.asarray(lazy), full)
    np.testing.assert_array_equal(np.stack(list(lazy)), full)
    assert lazy[0].max() <= 1.0 and data.scaled("test", np.float64)[:2].dtype == np.float64
    covered = np.concatenate([x for _, x in ScaledImages(data.train_images).chunks(64)])
    np.testing.assert_array_equal(covered, full)
    with pytest.raises(ValueError):
        ScaledImages(data.train_images, np.int32)


def test_training_never_converts_the_whole_training_set(data):
    tr = Trainer(data, TrainConfig(epochs=1, batch_size=50))
    tr.run_epoch()
    assert ("train", np.dtype(np.float32)) not in data._converted
    assert isinstance(tr.X_train, ScaledImages)
    assert tr.X_test is data.images_as("test")  # the one shared test copy


def test_chunked_evaluation_agrees_with_the_whole_array(data, monkeypatch):
    tr = Trainer(data, TrainConfig(epochs=1, batch_size=50))
    tr.run_epoch()
    monkeypatch.setattr(ScaledImages, "CHUNK", 128)  # several chunks, the last one short
    lazy = evaluate(tr.net, tr.X_train, tr.train_labels)
    whole = evaluate(tr.net, data.images_as("train"), tr.train_labels)
    assert lazy.accuracy == whole.accuracy
    np.testing.assert_array_equal(lazy.predictions, whole.predictions)
    assert lazy.cost == pytest.approx(whole.cost, rel=1e-6)


def test_a_subset_shares_its_parents_converted_images(data):
    parent_test = data.images_as("test")
    sub = ex.subset(data, 200, 100)
    x = sub.images_as("test")
    assert np.shares_memory(x, parent_test) and x.shape == (100, 784)
    np.testing.assert_array_equal(x, parent_test[:100])
    subsub = sub.subset(50, 40)
    assert np.shares_memory(subsub.images_as("test"), parent_test)
    # what the parent never converted, the subset converts for itself (its rows only)
    own = sub.images_as("train")
    assert own.shape == (200, 784) and ("train", np.dtype(np.float32)) not in data._converted
