"""The fused engine against the NumPy reference: same batches, same parameters, same divergence."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from digitviz.core import fused
from digitviz.core.training import Diverged, TrainConfig, Trainer

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba not importable")



@pytest.fixture(autouse=True)
def one_blas_thread():
    # the NumPy reference's small products are much slower with two BLAS threads on a busy machine
    with threadpool_limits(1):
        yield


PAIRS = [(a, c) for a in ("sigmoid", "relu", "tanh") for c in ("quadratic", "cross_entropy")]


def rel(a, b):
    """Relative distance of two parameter vectors, ``|a - b| / |a|``."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(a.astype(np.float64)))


def pair(data, cfg):
    return Trainer(data, cfg, engine="numpy"), Trainer(data, cfg, engine="fused")


def run_both(ref, fast, n):
    """``n`` NumPy steps on ``ref`` (recording each batch's indices), ``n`` fused steps on ``fast``."""
    ref_idx = []
    for _ in range(n):
        ref.step()
        ref_idx.append(ref.last_batch[3].copy())
    done = 0
    costs = []
    while done < n:
        c, _ = fast.run_steps(n - done)
        costs.append(c)
        done += len(c)
    return ref_idx, np.concatenate(costs)


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_1000_steps_match_numpy(mnist, activation, cost):
    lr = 1.5 if (activation, cost) == ("sigmoid", "quadratic") else 0.05
    ref, fast = pair(mnist, TrainConfig(activation=activation, cost=cost, lr=lr))
    _, costs = run_both(ref, fast, 1000)
    assert fast.step_count == ref.step_count == 1000
    assert fast._pos == ref._pos and fast.examples_seen == ref.examples_seen
    np.testing.assert_array_equal(fast.last_batch[3], ref.last_batch[3])  # same batch order
    assert rel(ref.net.theta, fast.net.theta) < 1e-5
    assert rel(ref.net.theta, ref.theta0) > 1e-2  # it did train
    np.testing.assert_allclose(fast.history.costs.array(), ref.history.costs.array(), rtol=1e-3)
    assert len(costs) == 1000


@pytest.mark.parametrize("activation,cost,lr", [("sigmoid", "quadratic", 0.5), ("relu", "cross_entropy", 0.05),
                                                ("tanh", "cross_entropy", 0.05)])
def test_momentum_l2_doubt_decay_labels_odd_batch_match(mnist, activation, cost, lr):
    # batch 97: the epoch ends on a short batch of 54 and the rate decays; doubt draws noise every step
    cfg = TrainConfig(activation=activation, cost=cost, lr=lr, momentum=0.5, l2=1e-4, doubt=0.2, batch_size=97,
                      lr_decay=0.5, random_labels=True)
    ref, fast = pair(mnist, cfg)
    run_both(ref, fast, 1000)
    assert fast.epoch == ref.epoch == 1 and fast.opt.lr == ref.opt.lr
    for a, b in zip(fast.last_batch, ref.last_batch):
        np.testing.assert_array_equal(a, b)  # same rows, the same noise images and targets
    assert rel(ref.net.theta, fast.net.theta) < 1e-5
    assert rel(ref.opt.velocity, fast.opt.velocity) < 1e-4
    assert fast.history.path_steps == ref.history.path_steps


def test_run_steps_stops_at_the_epoch_end(mnist):
    tr = Trainer(mnist, TrainConfig(batch_size=1000), engine="fused")
    costs, gnorms = tr.run_steps(100)
    assert len(costs) == len(gnorms) == 60 and tr.epoch_done and tr.epoch == 0
    costs, _ = tr.run_steps(5)
    assert len(costs) == 5 and tr.epoch == 1


def test_float64_matches_closely(mnist):
    ref, fast = pair(mnist, TrainConfig(activation="tanh", cost="cross_entropy", lr=0.05, dtype="float64",
                                        momentum=0.5, batch_size=32))
    run_both(ref, fast, 200)
    assert fast.net.theta.dtype == np.float64
    assert rel(ref.net.theta, fast.net.theta) < 1e-12


def test_divergence_raises_like_numpy_and_keeps_theta(mnist):
    cfg = TrainConfig(activation="relu", cost="cross_entropy", lr=5.0)
    ref, fast = pair(mnist, cfg)
    with pytest.raises(Diverged) as want:
        for _ in range(1000):
            ref.step()
    with pytest.raises(Diverged) as got:
        fast.run_steps(1000)
    assert str(got.value) == str(want.value)
    assert fast.step_count == ref.step_count
    np.testing.assert_allclose(fast.net.theta, ref.net.theta, rtol=1e-4, atol=1e-4)
    assert np.all(np.isfinite(fast.net.theta))


def test_run_epoch_on_either_engine(toy_data):
    cfg = TrainConfig(activation="relu", cost="cross_entropy", lr=0.1)
    recs = [Trainer(toy_data, cfg, engine=e).run_epoch() for e in ("numpy", "fused")]
    assert recs[0]["step"] == recs[1]["step"] == 60
    assert recs[1]["test_acc"] == pytest.approx(recs[0]["test_acc"], abs=0.01)
    assert recs[1]["train_cost"] == pytest.approx(recs[0]["train_cost"], rel=1e-4)


def test_unknown_engine_is_refused(toy_data):
    with pytest.raises(ValueError, match="unknown engine"):
        Trainer(toy_data, TrainConfig(), engine="gpu")


def test_warm_up_in_the_background_becomes_ready():
    fused.start_warm_up()
    fused.warm_up()  # joins the compile lock; returns once the kernel is ready
    assert fused.is_ready()
