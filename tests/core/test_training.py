from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.network import Network, one_hot
from digitviz.core.series import BoundedSeries
from digitviz.core.training import PRESETS, SGD, Diverged, History, TrainConfig, Trainer, evaluate

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


def test_history_path_is_bounded_and_spans_the_run():
    h = History(n_params=10**6, itemsize=8, path_stride=1)
    assert h.path_capacity == 16
    for step in range(1, 200):
        h.record_step(step, 1.0, 1.0, np.zeros(3))
    steps, thetas = h.path()
    assert len(steps) <= 16 and steps[0] == 1 and steps[-1] > 150
    assert np.all(np.diff(steps) > 0)


def test_a_path_handed_on_and_forgotten_thins_like_a_kept_one():
    """The worker forgets each path point once the GUI has it: the stride must still double as the run
    grows, or it sends a theta every 100 steps forever (and the fused engine ends every call there)."""
    kept = History(n_params=10**6, itemsize=8, path_stride=1)
    handed = History(n_params=10**6, itemsize=8, path_stride=1)
    sent = []
    for step in range(1, 2000):
        kept.record_step(step, 1.0, 1.0, np.zeros(3))
        handed.record_step(step, 1.0, 1.0, np.zeros(3))
        new = [int(s) for s in handed.path_steps if not sent or s > sent[-1]]
        sent += new
        handed.forget_path()
        assert handed.path_stride == kept.path_stride
    assert kept.path_stride >= 64
    assert set(kept.path()[0]) <= set(sent)  # every point a kept path holds was handed on
    assert len(sent) <= 16 * 8  # at most a capacity's worth per doubling of the run, not one per stride


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


# Divergence: each kind says what happened


@pytest.mark.parametrize(
    "kind,cost,words",
    [
        ("NAN", float("nan"), "the cost became not-a-number (NaN)"),
        ("INF", float("inf"), "the cost became infinite"),
        ("BLOWUP", 52.0, "the cost blew up to 52, more than 10x where this run started (2.3)"),
        ("RISE", 1.8, "the cost rose to 1.8 and stayed there, 6x its lowest (0.3)"),
        ("COLLAPSE", 0.9, "the network collapsed (its outputs are pinned at 0 or 1 and it answers 6 for 98%"),
    ],
)
def test_each_kind_of_divergence_says_what_happened(kind, cost, words):
    from digitviz.core.training import Divergence

    ref = {"BLOWUP": 2.3, "RISE": 0.3}.get(kind, float("nan"))
    e = Diverged(Divergence[kind], cost, 100.0, reference=ref, answer=6, share=0.98)
    assert e.kind is Divergence[kind]
    assert str(e).startswith(words), str(e)
    assert str(e).endswith("learning rate 100 is too large for this network and cost")
    if kind != "NAN":
        assert "NaN" not in str(e)  # a finite blow-up is not "not-a-number"
    e.decayed_from(1.0 / 0.8**2 * 100, 2)
    assert "learning rate 100 (the 156.2 set, after 2 epochs of decay)" in str(e)


def test_a_finite_blowup_is_not_called_nan(toy_data):
    from digitviz.core.training import Divergence

    cfg = TrainConfig(sizes=(784, 16, 10), activation="relu", cost="cross_entropy", lr=30, seed=0)
    tr = Trainer(toy_data, cfg)
    with pytest.raises(Diverged) as info:
        for _ in range(200):
            tr.step()
    e = info.value
    assert e.kind is (
        Divergence.BLOWUP if np.isfinite(e.cost) else Divergence.NAN if np.isnan(e.cost) else Divergence.INF
    )
    assert ("NaN" in str(e)) == (e.kind is Divergence.NAN)


@pytest.mark.parametrize("name", ["lesson", "tweaked", "wide"])
def test_learning_rate_100_is_caught_for_every_preset(mnist, name):
    """The issue's case: a network that learned something, then lr 100. Sigmoid + quadratic cost can never
    cost 10x its first batch, so it must be caught otherwise (it collapses: every answer the same)."""
    from threadpoolctl import threadpool_limits

    cfg = PRESETS[name]
    warm = 3000 // cfg.batch_size + 1  # ~3,000 examples at the preset's own rate: one probe check at least
    with threadpool_limits(1):
        tr = Trainer(mnist, cfg)
        for _ in range(warm):
            tr.step()
        tr.update_config(lr=100)
        with pytest.raises(Diverged, match="learning rate 100 is too large"):
            for _ in range(400):
                tr.step()
    assert 0 < tr.good_step <= warm
    assert tr.good_acc > 0.3 and tr.test_acc < tr.good_acc  # measured: the good copy, and what is left
    kept = tr.watch.good_theta.copy()
    tr.restore_good()
    assert np.array_equal(tr.net.theta, kept)
    assert tr.test_acc == tr.good_acc == tr.evaluate("test").accuracy
    assert not np.any(tr.opt.velocity)


def test_lesson_at_lr_100_from_scratch_is_caught(mnist):
    from threadpoolctl import threadpool_limits

    from digitviz.core.training import PROBE_EVERY_EXAMPLES, Divergence

    cfg = replace(PRESETS["lesson"], lr=100)
    with threadpool_limits(1):
        tr = Trainer(mnist, cfg)
        with pytest.raises(Diverged) as info:
            for _ in range(3 * PROBE_EVERY_EXAMPLES // cfg.batch_size):
                tr.step()
    assert info.value.kind is Divergence.COLLAPSE and tr.step_count <= 2 * PROBE_EVERY_EXAMPLES // cfg.batch_size


def test_a_cost_that_rises_and_stays_is_caught():
    from digitviz.core.training import RISE_STEPS, Divergence, DivergenceWatch

    net = Network((784, 4, 10), seed=0)
    w = DivergenceWatch(net.theta)
    for step in range(1, 300):
        w.observe(step, step * 10, 1.0 / step**0.5 + 0.2, net, 1.0)  # a falling cost: fine
    low = w.low
    with pytest.raises(Diverged) as info:
        for step in range(300, 300 + 10 * RISE_STEPS):
            w.observe(step, step * 10, 5.0, net, 1.0)
    assert info.value.kind is Divergence.RISE and info.value.reference == pytest.approx(low)


def test_healthy_runs_never_diverge(toy_data):
    for cfg in (
        SMALL,
        replace(SMALL, random_labels=True),
        replace(SMALL, activation="relu", cost="cross_entropy", lr=0.1, momentum=0.9),
    ):
        tr = Trainer(toy_data, cfg)
        for _ in range(5):
            tr.run_epoch()


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
