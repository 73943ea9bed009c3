"""The fused engine against the NumPy reference: same batches, same parameters, same divergence."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from digitviz.core import fused
from digitviz.core.training import PRESETS, PROBE_EVERY_EXAMPLES, Diverged, Divergence, History, TrainConfig, Trainer

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
    np.testing.assert_array_equal(fast.history.costs.steps(), ref.history.costs.steps())
    np.testing.assert_allclose(fast.history.costs.values(), ref.history.costs.values(), rtol=1e-3)
    np.testing.assert_array_equal(fast.history.path_steps, ref.history.path_steps)
    assert fast.watch.good_step == ref.watch.good_step > 0  # the probe checked the same steps
    assert rel(ref.watch.good_theta, fast.watch.good_theta) < 1e-5
    np.testing.assert_allclose(fast.watch.rise_state(), ref.watch.rise_state(), rtol=1e-4)
    assert len(costs) == 1000


@pytest.mark.parametrize(
    "activation,cost,lr",
    [("sigmoid", "quadratic", 0.5), ("relu", "cross_entropy", 0.05), ("tanh", "cross_entropy", 0.05)],
)
def test_momentum_l2_doubt_decay_labels_odd_batch_match(mnist, activation, cost, lr):
    # batch 97: the epoch ends on a short batch of 54 and the rate decays; doubt draws noise every step
    cfg = TrainConfig(
        activation=activation,
        cost=cost,
        lr=lr,
        momentum=0.5,
        l2=1e-4,
        doubt=0.2,
        batch_size=97,
        lr_decay=0.5,
        random_labels=True,
    )
    ref, fast = pair(mnist, cfg)
    run_both(ref, fast, 1000)
    assert fast.epoch == ref.epoch == 1 and fast.opt.lr == ref.opt.lr
    for a, b in zip(fast.last_batch, ref.last_batch):
        np.testing.assert_array_equal(a, b)  # same rows, the same noise images and targets
    assert rel(ref.net.theta, fast.net.theta) < 1e-5
    assert rel(ref.opt.velocity, fast.opt.velocity) < 1e-4
    np.testing.assert_array_equal(fast.history.path_steps, ref.history.path_steps)


def test_run_steps_stops_at_the_epoch_end(mnist):
    tr = Trainer(mnist, TrainConfig(batch_size=1000), engine="fused")
    costs, gnorms = tr.run_steps(100)
    assert len(costs) == len(gnorms) == 60 and tr.epoch_done and tr.epoch == 0
    costs, _ = tr.run_steps(5)
    assert len(costs) == 5 and tr.epoch == 1


def test_float64_matches_closely(mnist):
    ref, fast = pair(
        mnist,
        TrainConfig(activation="tanh", cost="cross_entropy", lr=0.05, dtype="float64", momentum=0.5, batch_size=32),
    )
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
    assert recs[0].step == recs[1].step == 60
    assert recs[1].test_acc == pytest.approx(recs[0].test_acc, abs=0.01)
    assert recs[1].train_cost == pytest.approx(recs[0].train_cost, rel=1e-4)


def test_unknown_engine_is_refused(toy_data):
    with pytest.raises(ValueError, match="unknown engine"):
        Trainer(toy_data, TrainConfig(), engine="gpu")


def test_warm_up_in_the_background_becomes_ready():
    fused.start_warm_up()
    fused.warm_up()  # joins the compile lock; returns once the kernel is ready
    assert fused.is_ready()


def test_warm_up_compiles_only_the_dtype_asked_for(monkeypatch):
    """A float32 run (the app's) never waits for float64's compile (~20 s cold), nor the reverse."""
    monkeypatch.setattr(fused, "_ready", {np.dtype(d): threading.Event() for d in ("f4", "f8")})
    called = []
    call = fused._call

    def recorded(theta, *args):
        called.append(theta.dtype)
        return call(theta, *args)

    monkeypatch.setattr(fused, "_call", recorded)
    fused.warm_up(np.float32)
    assert set(called) == {np.dtype(np.float32)}
    assert fused.is_ready(np.float32) and not fused.is_ready(np.float64)
    called.clear()
    fused.warm_up(np.float64)
    assert set(called) == {np.dtype(np.float64)} and fused.is_ready(np.float64)


@pytest.mark.parametrize("shift,rotate,batch", [(3, 0.0, 10), (3, 0.0, 97), (2, 10.0, 10), (0, 15.0, 32)])
def test_moved_digits_give_identical_batches(mnist, shift, rotate, batch):
    """Train on moved digits: the fused path moves each batch exactly as next_batch does (never drops it)."""
    cfg = TrainConfig(shift_px=shift, rotate_deg=rotate, batch_size=batch, doubt=0.1, lr=0.5)
    ref, fast = pair(mnist, cfg)
    n = 700 if batch < 50 else 650  # batch 97: across the epoch end (619 steps) with its short batch
    ref_batches = []
    for _ in range(n):
        ref.step()
        ref_batches.append(ref.last_batch[0].copy())
    got = []
    while fast.step_count < n:  # one step at a time: every batch is seen (chunks of up to 5 in between)
        fast.run_steps(1 if fast.step_count % 7 else 5)
        got.append((fast.step_count, fast.last_batch[0].copy()))
    for step, X in got:
        np.testing.assert_array_equal(X, ref_batches[step - 1])
    for a, b in zip(fast.last_batch, ref.last_batch):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ref_batches[-1], ref.X_train[np.maximum(ref.last_batch[3], 0)])  # they were moved
    if shift:
        np.testing.assert_array_equal(fast._augmenter.last_shifts, ref._augmenter.last_shifts)
    assert rel(ref.net.theta, fast.net.theta) < 1e-5


@pytest.mark.parametrize("name", ["lesson", "tweaked", "wide"])
def test_learning_rate_100_is_caught_for_every_preset_through_run_steps(mnist, name):
    """tests/core/test_training.py's case, trained in fused chunks: the watch sees every step."""
    cfg = PRESETS[name]
    warm = 3000 // cfg.batch_size + 1
    tr = Trainer(mnist, cfg, engine="fused")
    assert len(tr.run_steps(warm)[0]) == warm
    tr.update_config(lr=100)
    with pytest.raises(Diverged, match="learning rate 100 is too large") as info:
        for _ in range(400):
            before = tr.step_count
            tr.run_steps(400)
    assert 0 < tr.good_step <= warm
    assert tr.good_acc > 0.3 and tr.test_acc < tr.good_acc
    assert len(info.value.chunk[0]) == tr.step_count - before  # what the call did before raising (counted)
    kept = tr.watch.good_theta.copy()
    tr.restore_good()
    assert np.array_equal(tr.net.theta, kept)
    assert tr.test_acc == tr.good_acc == tr.evaluate("test").accuracy
    assert not np.any(tr.opt.velocity)


def test_lesson_at_lr_100_from_scratch_is_caught_through_run_steps(mnist):
    cfg = PRESETS["lesson"].__class__(lr=100)
    ref, fast = pair(mnist, cfg)
    with pytest.raises(Diverged) as want:
        for _ in range(3 * PROBE_EVERY_EXAMPLES // cfg.batch_size):
            ref.step()
    with pytest.raises(Diverged) as got:
        fast.run_steps(3 * PROBE_EVERY_EXAMPLES // cfg.batch_size)
    assert got.value.kind is Divergence.COLLAPSE and fast.step_count <= 2 * PROBE_EVERY_EXAMPLES // cfg.batch_size
    assert (got.value.kind, fast.step_count, str(got.value)) == (want.value.kind, ref.step_count, str(want.value))


def test_a_rise_is_caught_inside_a_chunk(mnist):
    """RISE runs in the kernel after every step: the run stops at the step that rose (applied, recorded)."""
    from digitviz.core.training import RISE_STEPS

    cfg = TrainConfig(activation="tanh", cost="cross_entropy", lr=0.05)
    ref, fast = pair(mnist, cfg)
    for tr in (ref, fast):
        tr.run_steps(300)
        tr.update_config(lr=2.0)  # too large: the cost climbs and stays up, finite (measured: RISE at step 368)
    with pytest.raises(Diverged) as want:
        for _ in range(3000):
            ref.step()
    with pytest.raises(Diverged) as got:
        fast.run_steps(3000)
    assert want.value.kind is got.value.kind is Divergence.RISE, (str(want.value), str(got.value))
    assert fast.watch.high_steps == RISE_STEPS and fast.history.costs.last_step == fast.step_count
    assert len(got.value.chunk[0]) == fast.step_count - 300
    assert got.value.cost == fast.watch.ema and got.value.reference == fast.watch.rise_reference
    assert abs(fast.step_count - ref.step_count) <= 20  # chaotic at this rate: rounding moves it a little


def test_the_kernels_rise_test_is_the_watchs():
    from digitviz.core.network import Network
    from digitviz.core.training import RISE_STEPS, DivergenceWatch

    net = Network((784, 4, 10), seed=0)
    w = DivergenceWatch(net.theta)
    wst = w.rise_state()
    costs = np.concatenate([1.0 / np.arange(1, 300) ** 0.5 + 0.2, np.full(10 * RISE_STEPS, 5.0)])
    costs *= 1 + 0.01 * np.random.default_rng(0).standard_normal(len(costs))
    fired = []
    for step, c in enumerate(costs, 1):
        try:
            w.observe(step, step * 10, float(c), net, 1.0)
        except Diverged:
            fired.append(("watch", step))
        if fused.kernels()._rise(wst, float(c), *fused._rise_constants()[:3]) >= RISE_STEPS:
            fired.append(("kernel", step))
        np.testing.assert_allclose(wst, w.rise_state(), rtol=1e-14)  # to rounding (LLVM may fuse a multiply-add)
        if fired:
            break
    assert [k for k, _ in fired] == ["watch", "kernel"] and fired[0][1] == fired[1][1] > 300


def test_record_steps_is_record_step_in_bulk():
    theta = np.arange(5.0)
    one, bulk = History(5), History(5)
    costs, gnorms = np.linspace(1, 2, 300), np.linspace(3, 4, 300)
    for s in range(300):
        one.record_step(s + 1, costs[s], gnorms[s], theta)
    bulk.record_steps(np.arange(1, 101), costs[:100], gnorms[:100], theta)
    bulk.record_steps(np.arange(101, 201), costs[100:200], gnorms[100:200], theta)
    bulk.record_steps(np.arange(201, 301), costs[200:], gnorms[200:], theta)
    for a, b in ((one.costs, bulk.costs), (one.grad_norms, bulk.grad_norms)):
        np.testing.assert_array_equal(a.steps(), b.steps())
        np.testing.assert_allclose(a.values(), b.values(), rtol=1e-12)
    np.testing.assert_array_equal(one.path_steps, bulk.path_steps)
    with pytest.raises(ValueError, match="path point"):
        bulk.record_steps(np.arange(301, 450), costs[:149], gnorms[:149], theta)  # 400 is inside


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_probe_outputs_are_the_networks(mnist, activation, cost):
    from digitviz.core.network import Network

    net = Network((784, 16, 12, 10), activation=activation, cost=cost, seed=1)
    X = mnist.images_as("train")[:256]
    np.testing.assert_allclose(
        fused.probe_outputs(net.theta, net.layout, activation, cost, X), net.feedforward(X), rtol=1e-4, atol=1e-6
    )


def test_a_b100_epoch_is_one_kernel_call_with_the_watch_inside(mnist, monkeypatch):
    """The probe checks (every 2,560 examples) and the path points (every 100 steps) no longer end a kernel
    call (they did: ~29 calls an epoch at mini-batch 100), yet check and record what the NumPy path does."""
    fused.warm_up()  # (its calls are not the epoch's)
    calls = []
    real = fused._call

    def counted(*args, **kwargs):
        calls.append(args[10])  # n_steps
        return real(*args, **kwargs)

    monkeypatch.setattr(fused, "_call", counted)
    cfg = TrainConfig(batch_size=100)
    ref, fast = pair(mnist, cfg)
    fast.run_steps(1 << 30)
    while not ref.epoch_done:
        ref.step()
    assert calls == [600] and fast.step_count == ref.step_count == 600
    np.testing.assert_array_equal(fast.history.path_steps, np.arange(0, 601, 100))
    np.testing.assert_array_equal(fast.history.path_steps, ref.history.path_steps)
    for a, b in zip(fast.history.path_thetas, ref.history.path_thetas):
        assert rel(b, a) < 1e-5 and not a.flags.writeable
    assert fast.watch.good_step == ref.watch.good_step > 5000 // 100  # checked inside the call
    assert fast.watch.next_check == ref.watch.next_check and fast.watch.best == ref.watch.best
    assert rel(ref.watch.good_theta, fast.watch.good_theta) < 1e-5


def _probe_outputs_cases():
    r = np.random.default_rng(5)
    healthy = r.random((256, 10)).astype(np.float32)
    collapsed = np.full((256, 10), 1e-4, np.float32)
    collapsed[:, 3] = 0.9999
    collapsed[:10, 3] = 0.5  # 99.6% pinned, all answer 3
    few_pinned = collapsed.copy()
    few_pinned[:4] = 0.5  # 98.4% pinned: not collapsed
    ties = np.full((256, 10), 0.5, np.float32)  # every row a tie: np.argmax answers 0
    at_limits = np.where(r.random((256, 10)) < 0.5, np.float32(1e-3), np.float32(0.999)).astype(np.float32)
    at_limits[:, 7] = 1.0  # outputs exactly at PINNED and 1 - PINNED (float32): not pinned
    nan = healthy.copy()
    nan[::3, 4] = np.nan  # np.argmax gives the first NaN
    return {
        "healthy": healthy,
        "collapsed": collapsed,
        "few_pinned": few_pinned,
        "ties": ties,
        "at_limits": at_limits,
        "nan": nan,
    }


@pytest.mark.parametrize("case", sorted(_probe_outputs_cases()))
@pytest.mark.parametrize("best", [-1.0, 0.09, 0.5])
def test_the_kernels_probe_check_is_the_watchs(case, best):
    from digitviz.core.network import Network
    from digitviz.core.training import DivergenceWatch

    out = _probe_outputs_cases()[case]
    net = Network((784, 4, 10), seed=0)
    r = np.random.default_rng(1)
    labels = r.integers(0, 10, 256)
    labels[::2] = np.argmax(out[::2], axis=1)  # accuracy about one half
    w = DivergenceWatch(net.theta, np.zeros((256, 784), np.float32), labels)
    for step, c in enumerate((1.0, 0.9, 0.8)):
        w.observe(step + 1, 10, c, net, 1.0)  # some RISE state (no probe check yet)
    w.best = best
    pst, wst = w.probe_state(), w.rise_state()
    verdict = fused.kernels()._probe(out.reshape(-1), 256, 10, labels, wst, pst, fused._watch_constants())
    try:
        w.probe(7, w.next_check, 0.8, net, 1.0, outputs=out)
    except Diverged as e:
        assert e.kind is Divergence.COLLAPSE and verdict == 1
        assert (e.answer, e.share) == (pst[3], pst[4])
    else:
        assert verdict == (2 if w.good_step == 7 else 0)
        assert pst[1] == w.best
    assert (case == "collapsed") == (verdict == 1)


def test_record_steps_takes_the_kernels_path_points_as_the_stride_doubles():
    from digitviz.core.series import BoundedSeries

    one, bulk = History(3), History(3)
    for h in (one, bulk):  # a path of 4 points: it halves (and the stride doubles) every few hundred steps
        h.path_capacity = 4
        h._path = BoundedSeries(4, dtype=object, initial=4)
    thetas = np.arange(1, 2001, dtype=np.float64)[:, None] * np.ones(3)  # theta after step t is [t, t, t]
    costs = np.linspace(1, 2, 2000)
    for t in range(1, 2001):
        one.record_step(t, costs[t - 1], 0.0, thetas[t - 1])
    for lo, hi in ((1, 250), (251, 251), (252, 1400), (1401, 2000)):  # chunks across several doublings
        at = [t for t in range(lo, hi + 1) if t % bulk.path_stride == 0]
        bulk.record_steps(
            np.arange(lo, hi + 1),
            costs[lo - 1 : hi],
            np.zeros(hi - lo + 1),
            thetas[hi - 1],
            path_thetas=thetas[np.array(at, int) - 1].reshape(-1, 3),
        )
    assert one.path_stride == bulk.path_stride > 100
    np.testing.assert_array_equal(bulk.path_steps, one.path_steps)
    np.testing.assert_array_equal(np.stack(list(bulk.path_thetas)), np.stack(list(one.path_thetas)))
    with pytest.raises(ValueError, match="path points"):
        bulk.record_steps(np.arange(2001, 5001), costs[:3000], costs[:3000], thetas[0], path_thetas=thetas[:1])


@pytest.mark.parametrize(
    "activation,cost", [("sigmoid", "quadratic"), ("relu", "cross_entropy"), ("tanh", "quadratic")]
)
def test_feature_major_layers_of_odd_widths_match_numpy(mnist, activation, cost):
    """Mini-batches of 32 or more store the narrow layers feature-major: widths that are not multiples of
    the kernels' tiles of 4, and a batch that is not either, give NumPy's parameters."""
    from digitviz.core._fused_kernels import _feature_major

    cfg = TrainConfig(sizes=(784, 13, 7, 10), activation=activation, cost=cost, batch_size=33, lr=0.1, momentum=0.5)
    assert _feature_major(np.array(cfg.sizes), 33) and not _feature_major(np.array(cfg.sizes), 31)
    assert not _feature_major(np.array(PRESETS["wide"].sizes), 100)  # a 256-wide layer stays batch-major
    ref, fast = pair(mnist, cfg)
    run_both(ref, fast, 300)
    assert rel(ref.net.theta, fast.net.theta) < 1e-5
    assert rel(ref.net.theta, ref.theta0) > 1e-2
    np.testing.assert_allclose(fast.history.costs.values(), ref.history.costs.values(), rtol=1e-4)


@pytest.mark.parametrize("engine", ["fused", "numpy"])
def test_run_steps_copies_theta_at_the_steps_asked_for(mnist, engine):
    """The app's timeline asks a chunk for theta at its kept moments: each row is theta after its step,
    exactly as stepping one at a time gives it (the path points stay as they were)."""
    cfg = TrainConfig(batch_size=10, lr=3.0)
    ref, tr = Trainer(mnist, cfg, engine=engine), Trainer(mnist, cfg, engine=engine)
    tr.history.path_stride = ref.history.path_stride = 7
    at = np.array([1, 2, 3, 7, 50, 99, 100, 140, 260], np.int64)  # 260: past the call, its row stays as it was
    out = np.full((len(at), tr.net.theta.size), -1.0, tr.dtype)
    costs, _ = tr.run_steps(200, at, out)
    assert len(costs) == 200
    thetas = {}
    for _ in range(200):
        ref.run_steps(1)
        thetas[ref.step_count] = ref.net.theta.copy()
    for j, s in enumerate(at):
        if s <= 200:
            np.testing.assert_array_equal(out[j], thetas[s])
        else:
            assert np.all(out[j] == -1.0)
    np.testing.assert_array_equal(tr.net.theta, ref.net.theta)
    assert tr.history.path_steps.tolist() == ref.history.path_steps.tolist()
    for a, b in zip(tr.history.path_thetas, ref.history.path_thetas):
        np.testing.assert_array_equal(a, b)


def test_run_steps_refuses_steps_not_after_now(mnist):
    tr = Trainer(mnist, TrainConfig(), engine="fused")
    tr.run_steps(5)
    with pytest.raises(ValueError, match="keep_at must increase"):
        tr.run_steps(5, np.array([5, 6]), np.zeros((2, tr.net.theta.size), tr.dtype))


def test_a_blas_the_warm_up_thread_loads_is_pinned_though_another_thread_controls_openblas():
    """Numba's first compilation loads SciPy's BLAS on the warm-up thread, while the GUI thread pinned
    OpenBLAS first; threadpoolctl (>= 3.6) then ignores limits set from any other thread, and SciPy's BLAS
    stayed on every core (a CI run saw it in a test that asserts one BLAS thread)."""
    from threadpoolctl import threadpool_info

    threadpool_limits(1)  # this thread sets OpenBLAS first, as the app's GUI thread does
    threadpool_limits(2)  # ... and a library that arrives with two threads
    try:
        t = threading.Thread(target=fused._one_thread_for_new_blas, args=(set(),))  # every library is new
        t.start()
        t.join()
        pools = threadpool_info()
        assert pools and all(pool["num_threads"] == 1 for pool in pools), pools
    finally:
        threadpool_limits(1)


def test_running_a_kernel_before_any_warm_up_leaves_every_blas_on_one_thread():
    """The first kernel call loads SciPy's BLAS (Numba's numba.np.arraymath); a test that called one before
    warm_up left it on every core for the rest of its process. kernels() now loads and pins it."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from threadpoolctl import threadpool_info, threadpool_limits\n"
        "threadpool_limits(1)\n"
        "from digitviz.core import fused\n"
        "wst = np.array([np.nan, np.nan, np.inf, 0.0])\n"
        "fused.kernels()._rise(wst, 1.0, 0.1, 1.5, 0.5)\n"
        "print([pool['num_threads'] for pool in threadpool_info()])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    threads = eval(out.stdout)
    assert len(threads) >= 1 and set(threads) == {1}, threads


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_the_kernels_evaluation_gives_evaluates_accuracy_and_cost(mnist, activation, cost):
    """The fused engine's epoch-end evaluation (one call without the GIL, from the uint8 images) against
    the NumPy reference: the same accuracy on the 10,000 test images, the cost to float32 rounding."""
    from digitviz.core.training import evaluate

    tr = Trainer(mnist, TrainConfig(activation=activation, cost=cost, lr=0.1 if activation != "sigmoid" else 3.0))
    tr.run_steps(300)
    ref = evaluate(tr.net, tr.X_test, tr.test_labels)
    net = tr.net
    acc, c = fused.evaluate_images(net.theta, net.layout, activation, cost, mnist.test_images, tr.test_labels)
    assert acc == ref.accuracy and 0.3 < acc < 1
    assert c == pytest.approx(ref.cost, rel=5e-5)
    net.theta[5] = np.nan  # every output NaN: np.argmax answers 0, the first NaN
    nan_ref = evaluate(net, tr.X_test[:500], tr.test_labels[:500])
    acc, _ = fused.evaluate_images(
        net.theta, net.layout, activation, cost, mnist.test_images[:500], tr.test_labels[:500]
    )
    assert acc == nan_ref.accuracy == np.mean(tr.test_labels[:500] == 0)


def test_end_epoch_on_the_fused_engine_evaluates_in_the_kernel(mnist, monkeypatch):
    from digitviz.core.training import evaluate

    calls = []
    real = fused.evaluate_images
    monkeypatch.setattr(fused, "evaluate_images", lambda *a: calls.append(len(a[-1])) or real(*a))
    tr = Trainer(mnist, TrainConfig(), engine="fused")
    tr.run_steps(200)
    rec = tr.end_epoch()
    assert calls == [10_000, 60_000]  # the test set, then the training set (the labels trained on)
    assert rec.test_acc == tr.test_acc == evaluate(tr.net, tr.X_test, tr.test_labels).accuracy
    assert rec.train_acc == evaluate(tr.net, tr.X_train, tr.train_labels).accuracy
    calls.clear()
    Trainer(mnist, TrainConfig(), engine="numpy").end_epoch()
    assert calls == []  # the NumPy engine evaluates with NumPy
