"""Training on moved digits and the book preset (issue 11), kept apart from test_training.py."""

from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.training import (
    PRESET_BLURBS,
    PRESET_TARGETS,
    PRESETS,
    TrainConfig,
    Trainer,
    preset_of,
)
from digitviz.core.transforms import shift_images

SMALL = TrainConfig(sizes=(784, 16, 10), lr=1.0, batch_size=10, seed=1)


def test_moved_batches_keep_labels_and_shift_within_range(toy_data):
    plain = Trainer(toy_data, SMALL)
    moved = Trainer(toy_data, replace(SMALL, shift_px=2))
    seen = set()
    for _ in range(30):
        X0, Y0, l0, i0 = (a.copy() for a in plain.next_batch())
        X1, Y1, l1, i1 = moved.next_batch()
        assert np.array_equal(l0, l1) and np.array_equal(Y0, Y1) and np.array_equal(i0, i1)
        d = moved._augmenter.last_shifts
        assert np.abs(d).max() <= 2
        assert np.array_equal(X1, shift_images(X0, d[:, 0], d[:, 1]))
        seen.update(map(tuple, d))
    assert len(seen) == 25  # every shift in -2..2 x -2..2 was used
    # reproducible from the seed, and a reset starts the same moves again
    again = Trainer(toy_data, replace(SMALL, shift_px=2))
    first = again.next_batch()[0].copy()
    again.reset()
    assert np.array_equal(again.next_batch()[0], first)


def test_moved_training_steps_and_rotation_can_be_switched_on_live(toy_data):
    tr = Trainer(toy_data, SMALL)
    tr.step()
    tr.update_config(rotate_deg=15.0, shift_px=1)
    X_before = tr.X_train[tr._order[tr._pos : tr._pos + 10]]
    tr.step()
    X, _, labels, idx = tr.last_batch
    assert not np.allclose(X, X_before)
    assert np.array_equal(labels, tr.train_labels[idx])
    assert 0 <= X.min() and X.max() <= 1


def test_move_settings_are_validated():
    for bad in ({"shift_px": -1}, {"shift_px": 1.5}, {"shift_px": 20}, {"rotate_deg": -3}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)
    cfg = TrainConfig(shift_px=3, rotate_deg=10)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig.from_dict({"lr": 1.0}).shift_px == 0  # files saved before the option


def test_book_preset_is_the_videos_recipe():
    book = PRESETS["book"]
    assert (book.sizes, book.activation, book.cost, book.init) == (
        (784, 16, 16, 10),
        "sigmoid",
        "quadratic",
        "standard",
    )
    assert (book.lr, book.batch_size, book.epochs, book.momentum, book.l2) == (1.5, 10, 30, 0.0, 0.0)
    assert preset_of(book) == "book" and preset_of(PRESETS["lesson"]) == "lesson"
    assert "book" in PRESET_BLURBS and "book" in PRESET_TARGETS
    net = book.network()
    assert 0.9 < net.weights[0].std() < 1.1 and 0.5 < net.biases[0].std() < 1.5  # N(0, 1), not scaled
    assert book.needs_reset(PRESETS["lesson"])  # switching presets draws new weights


def test_cli_knows_the_book_preset():
    from digitviz.cli import build_parser

    a = build_parser().parse_args(["train", "--preset", "book"])
    assert a.preset == "book"


def test_cli_passes_the_move_options():
    from digitviz.cli import _config_from_args, build_parser

    a = build_parser().parse_args(["train", "--preset", "book", "--shift-px", "3", "--rotate-deg", "10"])
    cfg = _config_from_args(a)
    assert (cfg.shift_px, cfg.rotate_deg, cfg.init) == (3, 10.0, "standard")
