"""The lesson's experiments (digitviz.core.experiments): no Qt, small seeded runs on real MNIST."""

import numpy as np
import pytest

from digitviz.core import experiments as ex
from digitviz.core.network import Layout, Network, one_hot
from digitviz.core.training import PRESETS, TrainConfig, Trainer, evaluate

# 784-16-16-10 ReLU + softmax with momentum: learns in a few hundred steps (fixed here, not a preset that may change)
FAST = TrainConfig(activation="relu", cost="cross_entropy", lr=0.05, momentum=0.9, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def small(mnist):
    return ex.subset(mnist, 5000, 2000)


# the gradient of one step


def test_top_components_are_the_largest_and_shares_add_up(rng):
    layout = Layout((12, 5, 4, 3))
    grad = rng.standard_normal(layout.size)
    comps, total = ex.top_components(grad, layout, k=20)
    assert len(comps) == 20
    order = np.argsort(-(grad**2), kind="stable")[:20]
    assert [c.index for c in comps] == list(order)
    sq = float(np.vdot(grad, grad))
    for c in comps:
        assert c.value == pytest.approx(-grad[c.index])  # the NEGATIVE gradient: which way to nudge
        assert c.share == pytest.approx(grad[c.index] ** 2 / sq)
        assert c.name == layout.describe(c.index)
    shares = [c.share for c in comps]
    assert shares == sorted(shares, reverse=True)
    assert total == pytest.approx(sum(shares))
    assert total == pytest.approx(np.sort(grad**2)[-20:].sum() / sq)
    all_comps, all_total = ex.top_components(grad, layout, k=layout.size)
    assert all_total == pytest.approx(1.0)
    assert ex.top_components(np.zeros(layout.size), layout, 5)[1] == 0.0
    ranks, shares = ex.cumulative_shares(grad)
    assert ranks[0] == 1 and ranks[-1] == layout.size and shares[-1] == pytest.approx(1.0)
    assert np.all(np.diff(shares) >= 0)
    assert shares[list(ranks).index(20)] == pytest.approx(total)


def test_gradient_of_a_step_equals_the_cores_gradient_for_that_batch(small):
    tr = Trainer(small, PRESETS["lesson"], keep_grad=True)
    for _ in range(3):
        tr.step()
    theta_before = tr.net.theta.copy()
    tr.step()
    X, Y, labels, _ = tr.last_batch
    ref = Network(tr.net.sizes, tr.net.activation, tr.net.cost_name, np.float64, seed=None, init=None)
    ref.set_theta(theta_before)
    _, g = ref.backprop(X.astype(np.float64), Y.astype(np.float64))
    np.testing.assert_allclose(tr.opt.last_grad, g, rtol=1e-4, atol=1e-7)

    edges = ex.gradient_edge_values(tr.net.layout, tr.opt.last_grad)
    assert [e.shape for e in edges] == [w.shape for w in tr.net.weights]
    for e, (gw, _) in zip(edges, ref.layout.views(g)):
        np.testing.assert_allclose(e, -gw, rtol=1e-4, atol=1e-7)
        assert not np.shares_memory(e, tr.opt.last_grad)

    nudges = ex.output_nudges(ref, X, Y)
    A = ref.feedforward(X.astype(np.float64))
    np.testing.assert_allclose(nudges, (2 * (Y - A)).mean(axis=0), rtol=1e-12)
    # the batch's digits are asked to go up, on average
    present = np.unique(labels)
    assert nudges[present].mean() > nudges[np.setdiff1d(np.arange(10), present)].mean()


def test_plain_names_say_what_a_parameter_connects():
    layout = Layout((784, 16, 16, 10))
    assert ex.plain_name(layout, layout.index(0, "w", 3, 14 * 28 + 15)) == "pixel (row 14, col 15) \u2192 hidden 1 #3"
    assert ex.plain_name(layout, layout.index(2, "w", 7, 2)) == "hidden 2 #2 \u2192 output 7"
    assert ex.plain_name(layout, layout.index(2, "b", 5)) == "bias of output 5"


# structure against random labels


def test_true_labels_beat_shuffled_ones_and_shuffled_test_accuracy_is_chance(small):
    recs = list(ex.compare_labels(small, FAST, steps=300, every=100))
    assert [r.step for r in recs] == [0, 1, 2, 4, 8, 16, 32, 64, 100, 200, 300]
    assert recs[-1].final and not any(r.final for r in recs[:-1])
    first, last = recs[0], recs[-1]
    # same initial weights: identical test results at step 0
    assert first.true.test_acc == first.shuffled.test_acc
    assert last.true.train_acc > last.shuffled.train_acc + 0.5
    assert last.true.cost < last.shuffled.cost
    assert abs(last.shuffled.test_acc - 0.1) < 0.04
    assert last.true.test_acc > 0.8

    run = ex.LabelsRun(FAST, 5000)
    for r in recs:
        run.add(r)
    steps, acc = run.series("shuffled", "train_acc")
    assert steps.tolist() == [r.step for r in recs] and acc[-1] == last.shuffled.train_acc
    epochs, _ = run.series("true", "cost", x="epochs")
    np.testing.assert_allclose(epochs, [r.epoch for r in recs])
    assert run.finished


def test_compare_labels_stops_between_steps_with_a_final_record(small):
    count = {"n": 0}

    def stop():
        count["n"] += 1
        return count["n"] > 25

    recs = list(ex.compare_labels(small, FAST, steps=10_000, every=10, stop=stop, n_probe=200, n_test_probe=200))
    assert recs[-1].final and recs[-1].step == 25
    assert [r.step for r in recs] == [0, 1, 2, 4, 8, 10, 20, 25]


# many minima


def test_train_seeds_gives_different_weights_of_similar_quality_and_a_line_between(small):
    out = list(ex.train_seeds(small, FAST, seeds=(1, 2), epochs=2.0, every=50))
    results = [r for r in out if isinstance(r, ex.SeedResult)]
    progress = [r for r in out if isinstance(r, ex.SeedProgress)]
    assert [r.seed for r in results] == [1, 2]
    assert progress and progress[0].steps == 2 * 157 and progress[0].seed == 1
    a, b = results
    assert not np.allclose(a.theta, b.theta)
    assert not a.theta.flags.writeable
    assert min(a.test_acc, b.test_acc) > 0.75 and abs(a.test_acc - b.test_acc) < 0.06

    net = FAST.network()
    X, labels = small.images_as("test")[:500], small.test_labels[:500]
    line = ex.line_barrier(net, a.theta, b.theta, X, labels, n=11)
    Y = one_hot(labels, 10)
    assert line.t[0] == 0 and line.t[-1] == 1 and line.costs.shape == (11,)
    assert line.costs[0] == pytest.approx(net.cost(X, Y, a.theta), rel=1e-4)
    assert line.costs[-1] == pytest.approx(net.cost(X, Y, b.theta), rel=1e-4)
    assert line.barrier == pytest.approx(line.costs.max() - (line.costs[0] + line.costs[-1]) / 2)
    assert line.barrier > 0  # two independently trained networks: a hill between them
    pairs = list(ex.pair_lines(FAST, results, X, labels, n=11))
    assert [(p.a, p.b, p.seed_a, p.seed_b) for p in pairs] == [(0, 1, 1, 2)]
    np.testing.assert_allclose(pairs[0].line.costs, line.costs)


def test_train_seeds_stops(small):
    out = list(ex.train_seeds(small, FAST, seeds=(1, 2, 3), epochs=5, every=10, stop=lambda: True))
    assert out == []


# where it goes wrong


def test_confusion_matrix_sums_to_the_test_set_and_its_diagonal_to_the_correct_ones(small):
    tr = Trainer(small, FAST)
    for _ in range(150):
        tr.step()
    X, labels = tr.X_test, tr.test_labels
    ev = evaluate(tr.net, X, labels)
    out = ev.outputs
    ref = evaluate(tr.net, X, labels)
    np.testing.assert_array_equal(ev.confusion, ref.confusion)
    assert ev.confusion.sum() == len(labels) == 2000
    assert np.trace(ev.confusion) == np.sum(ev.predictions == labels) == round(ev.accuracy * 2000)
    np.testing.assert_allclose(ev.per_class, np.diag(ev.confusion) / np.bincount(labels, minlength=10))
    for t in range(10):
        for p in range(10):
            idx = ex.confusion_examples(ev, labels, t, p)
            assert len(idx) == ev.confusion[t, p]
            assert np.all(labels[idx] == t) and np.all(ev.predictions[idx] == p)
    wrong = ex.mistakes(ev, labels, out)
    assert len(wrong) == len(labels) - np.trace(ev.confusion)
    conf = out[wrong, ev.predictions[wrong]]
    assert np.all(np.diff(conf) <= 0)  # the most confident mistakes first
    assert sorted(wrong) == sorted(ex.mistakes(ev, labels))


# what training did to the first layer


def test_init_correlation(rng):
    W0 = rng.standard_normal((16, 784))
    assert ex.init_correlation(W0, W0) == pytest.approx(1.0)
    assert ex.init_correlation(W0, 3 * W0 + 0.5) == pytest.approx(1.0)
    assert abs(ex.init_correlation(W0, rng.standard_normal((16, 784)))) < 0.05
    mixed = W0 + rng.standard_normal((16, 784))  # half the variance from the start
    assert ex.init_correlation(W0, mixed) == pytest.approx(2**-0.5, abs=0.05)
    assert ex.row_correlations(W0, mixed).shape == (16,)
    with pytest.raises(ValueError):
        ex.row_correlations(W0, W0[:3])


def test_subset_is_views(mnist):
    s = ex.subset(mnist, 100, 50)
    assert s.train_images.shape == (100, 784) and s.test_labels.shape == (50,)
    assert np.shares_memory(s.train_images, mnist.train_images)
    assert TrainConfig().batch_size == 10
