"""The divergence rules (digitviz.core.divergence): each kind says what happened, a run that goes wrong is
caught (on its own, and inside the Trainer), a healthy one never is."""

from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.divergence import PROBE_EVERY_EXAMPLES, RISE_STEPS, Diverged, Divergence, DivergenceWatch
from digitviz.core.network import Network
from digitviz.core.training import PRESETS, TrainConfig, Trainer

SMALL = TrainConfig(sizes=(784, 16, 10), lr=1.0, batch_size=10, seed=1)  # as in test_training.py


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

    cfg = replace(PRESETS["lesson"], lr=100)
    with threadpool_limits(1):
        tr = Trainer(mnist, cfg)
        with pytest.raises(Diverged) as info:
            for _ in range(3 * PROBE_EVERY_EXAMPLES // cfg.batch_size):
                tr.step()
    assert info.value.kind is Divergence.COLLAPSE and tr.step_count <= 2 * PROBE_EVERY_EXAMPLES // cfg.batch_size


def test_a_cost_that_rises_and_stays_is_caught():
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
