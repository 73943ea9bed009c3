from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.network import Network, one_hot
from digitviz.core.series import BoundedSeries
from digitviz.core.training import PRESETS, SGD, Diverged, TrainConfig, Trainer, evaluate

SMALL = TrainConfig(sizes=(784, 16, 10), lr=1.0, batch_size=10, seed=1)


def test_sgd_step_follows_the_negative_gradient(rng):
    net = Network((784, 8, 10), dtype=np.float64, seed=0)
    X, Y = rng.random((5, 784)), one_hot(rng.integers(0, 10, 5), 10, np.float64)
    theta0 = net.theta.copy()
    _, g = net.backprop(X, Y)
    g = g.copy()
    res = SGD(net, lr=0.5).step(X, Y)
    np.testing.assert_allclose(net.theta, theta0 - 0.5 * g, rtol=1e-12, atol=1e-15)
    assert res.grad_norm == pytest.approx(np.linalg.norm(g))
    assert res.step_norm == pytest.approx(0.5 * np.linalg.norm(g))


def test_momentum_and_l2(rng):
    net = Network((784, 4, 10), dtype=np.float64, seed=0)
    X, Y = rng.random((3, 784)), one_hot([1, 2, 3], 10, np.float64)
    opt = SGD(net, lr=0.1, momentum=0.9, l2=0.01)
    w0 = net.weights[0].copy()
    _, g = net.copy().backprop(X, Y)
    gw = g[net.layout.slices[0][0]].reshape(4, 784) + 0.01 * w0
    opt.step(X, Y)
    np.testing.assert_allclose(net.weights[0], w0 - 0.1 * gw, rtol=1e-10)
    np.testing.assert_allclose(opt.velocity[net.layout.slices[0][0]].reshape(4, 784), -0.1 * gw, rtol=1e-10)


def test_training_lowers_the_cost_on_a_learnable_set(toy_data):
    tr = Trainer(toy_data, SMALL)
    before = tr.evaluate("train").cost
    for _ in range(3):
        tr.run_epoch()
    after = tr.evaluate("train")
    assert after.cost < 0.5 * before
    assert after.accuracy > 0.9


def test_same_seed_same_run(toy_data):
    a, b = Trainer(toy_data, SMALL), Trainer(toy_data, SMALL)
    for _ in range(25):
        ra, rb = a.step(), b.step()
        assert ra.cost == rb.cost
    assert np.array_equal(a.net.theta, b.net.theta)
    c = Trainer(toy_data, replace(SMALL, seed=2))
    c.step()
    assert not np.array_equal(a.theta0, c.theta0)


def test_epochs_visit_every_example_once(toy_data):
    tr = Trainer(toy_data, replace(SMALL, batch_size=7))
    seen = []
    while True:
        tr.step()
        seen.extend(tr.last_batch[3])
        if tr.epoch_done:
            break
    assert sorted(seen) == list(range(600))
    assert tr.steps_per_epoch == 86 and tr.step_count == 86
    tr.step()
    assert tr.epoch == 1


def test_random_labels_are_a_seeded_permutation(toy_data):
    tr = Trainer(toy_data, replace(SMALL, random_labels=True))
    true = toy_data.train_labels
    assert np.array_equal(np.bincount(tr.train_labels, minlength=10), np.bincount(true, minlength=10))
    assert np.mean(tr.train_labels == true) < 0.3
    assert np.array_equal(Trainer(toy_data, replace(SMALL, random_labels=True)).train_labels, tr.train_labels)


@pytest.mark.parametrize("cost,target", [("quadratic", 0.0), ("cross_entropy", 0.1)])
def test_doubt_mixes_noise_with_a_no_digit_target(toy_data, cost, target):
    cfg = replace(SMALL, cost=cost, doubt=0.5, batch_size=40)
    X, Y, labels, idx = Trainer(toy_data, cfg).next_batch()
    noise = labels == -1
    assert 5 < noise.sum() < 35
    np.testing.assert_allclose(Y[noise], target)
    assert np.all(Y[~noise].sum(axis=1) == 1)
    assert np.all(idx[noise] == -1)


def test_divergence_raises_and_keeps_theta(toy_data):
    cfg = TrainConfig(sizes=(784, 16, 10), activation="relu", cost="cross_entropy", lr=1e8, seed=0)
    tr = Trainer(toy_data, cfg)
    with pytest.raises(Diverged, match="too large"):
        for _ in range(50):
            before = tr.net.theta.copy()
            tr.step()
    assert np.all(np.isfinite(tr.net.theta))
    assert np.array_equal(tr.net.theta, before)


def test_evaluation_is_consistent(toy_data):
    tr = Trainer(toy_data, SMALL)
    tr.run_epoch()
    ev = tr.evaluate("test")
    assert ev.confusion.sum() == 200
    assert np.trace(ev.confusion) == round(ev.accuracy * 200)
    assert np.array_equal(ev.predictions, tr.net.predict(tr.X_test))
    per = [np.mean(ev.predictions[toy_data.test_labels == d] == d) for d in range(10)]
    np.testing.assert_allclose(ev.per_class, per)


def test_reset_and_live_settings(toy_data):
    tr = Trainer(toy_data, SMALL)
    theta0 = tr.net.theta.copy()
    for _ in range(5):
        tr.step()
    tr.update_config(lr=0.25, batch_size=20)
    assert tr.opt.lr == 0.25
    tr.step()
    assert len(tr.last_batch[0]) == 20
    with pytest.raises(ValueError, match="reset"):
        tr.update_config(sizes=(784, 5, 10))
    tr.reset()
    assert np.array_equal(tr.net.theta, theta0) and tr.step_count == 0
    tr.reset(replace(SMALL, sizes=(784, 5, 10)))
    assert tr.net.n_params == 784 * 5 + 5 + 50 + 10


def test_series_is_bounded_and_keeps_the_mean():
    s = BoundedSeries(capacity=8, mean=True)
    for v in range(100):
        s.append(v + 1, float(v))
    assert s.n <= 8 and s.stride == 16
    assert s.values().mean() == pytest.approx(np.arange(s.n * s.stride).mean())
    assert s.steps()[-1] == s.n * s.stride


def test_config_validation_and_round_trip():
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        TrainConfig(momentum=1.5)
    for cfg in PRESETS.values():
        assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_real_mnist_short_run_reaches_90_percent(mnist):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        tr = Trainer(mnist, PRESETS["lesson"])
        rec = tr.run_epoch()
        rec = tr.run_epoch()
    assert rec.test_acc >= 0.90, rec
    assert evaluate(tr.net, tr.X_test, tr.test_labels).accuracy == rec.test_acc


def test_upcoming_example_is_the_first_one_trained_on(toy_data):
    tr = Trainer(toy_data, SMALL)
    x, label = tr.upcoming_example()
    tr.step()
    X, _, labels, _ = tr.last_batch
    np.testing.assert_array_equal(x, X[0])
    assert label == labels[0]
    assert Trainer(None, SMALL).upcoming_example() == (None, -1)


def test_training_labels_are_what_the_trainer_trains_on(toy_data):
    from digitviz.core.training import training_labels

    for random_labels in (False, True):
        cfg = replace(SMALL, random_labels=random_labels)
        assert np.array_equal(training_labels(toy_data.train_labels, cfg), Trainer(toy_data, cfg).train_labels)


def test_arch_key_and_needs_reset():
    lesson = PRESETS["lesson"]
    assert lesson.arch_key == ((784, 16, 16, 10), "sigmoid", "quadratic", "float32")
    assert not lesson.needs_reset(replace(lesson, lr=3.0, batch_size=20, lr_decay=0.5))
    for change in (
        {"sizes": (784, 8, 10)},
        {"seed": 1},
        {"init": "standard"},
        {"random_labels": True},
        {"dtype": "float64"},
        {"cost": "cross_entropy"},
    ):
        assert lesson.needs_reset(replace(lesson, **change)), change


def test_epoch_record_is_a_dataclass(toy_data):
    tr = Trainer(toy_data, SMALL)
    rec = tr.run_epoch()
    assert rec.epoch == 1 and rec.step == 60 and tr.history.epochs == [rec]
    assert rec.to_dict()["test_acc"] == rec.test_acc == tr.test_acc


@pytest.mark.parametrize(
    "bad, phrase",
    [
        (dict(l2=float("nan")), "L2 must be a finite number"),
        (dict(l2=float("inf")), "L2 must be a finite number"),
        (dict(sizes=(784, 0, 10)), "layer sizes must be positive"),
        (dict(sizes=(784,)), "layer sizes must be positive"),
        (dict(epochs=0), "epochs must be at least 1"),
        (dict(seed=-1), "seed must be in 0 to"),
        (dict(activation="swish"), "unknown activation"),
        (dict(init="zeros"), "unknown activation, cost or init"),
    ],
)
def test_config_refuses_what_would_fail_later(bad, phrase):
    with pytest.raises(ValueError, match=phrase):
        TrainConfig(**bad)


def test_the_moved_names_are_still_importable_from_training():
    """divergence.py and history.py were cut out of training.py: the app, the benchmarks and the fused
    engine still import their names from training, so each must be the very same object there."""
    from digitviz.core import divergence, history, training

    moved = {
        divergence: [
            "BLOWUP",
            "RISE",
            "RISE_STEPS",
            "COST_ALPHA",
            "PROBE_SIZE",
            "PROBE_EVERY_EXAMPLES",
            "PINNED",
            "COLLAPSE_PINNED",
            "COLLAPSE_SAME",
            "format_lr",
            "Divergence",
            "Diverged",
            "divergence_text",
            "DivergenceWatch",
        ],
        history: ["Evaluation", "evaluate", "EpochRecord", "History"],
    }
    for module, names in moved.items():
        for name in names:
            assert getattr(training, name) is getattr(module, name), name
            assert name in training.__all__, name
    assert all(hasattr(training, name) for name in training.__all__)
