"""TrainWorker on a real QThread with a small learnable toy dataset."""

import numpy as np
import pytest
from PySide6.QtCore import QObject, QThread, Slot

from digitviz.core.training import TrainConfig
from digitviz.gui.worker import TrainWorker

from . import ToyData

SMALL = TrainConfig(sizes=(784, 12, 10), batch_size=10, lr=1.0, seed=3)


class Collector(QObject):
    """Receives snapshots on the GUI thread (a queued connection from the worker thread)."""

    def __init__(self):
        super().__init__()
        self.snaps = []

    @Slot(object)
    def take(self, snap):
        self.snaps.append(snap)

    @property
    def last(self):
        return self.snaps[-1]


@pytest.fixture
def running_worker(qtbot):
    made = []

    def make(data="toy", config=SMALL, publish_interval=0.03):
        data = ToyData() if isinstance(data, str) else data
        thread = QThread()
        worker = TrainWorker(data, config, publish_interval=publish_interval)
        worker.moveToThread(thread)
        sink = Collector()
        worker.snapshot.connect(sink.take)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        made.append((thread, worker))
        thread.start()
        qtbot.waitUntil(lambda: len(sink.snaps) >= 1, timeout=5000)
        return thread, worker, sink

    yield make
    for thread, worker in made:
        worker.stop()
        thread.quit()
        assert thread.wait(3000)


def test_single_step_reports_and_lowers_the_batch_cost(running_worker, qtbot):
    thread, worker, sink = running_worker()
    first = sink.last
    assert first.step == 0 and not first.running
    worker.step(1)
    qtbot.waitUntil(lambda: sink.last.step_report is not None, timeout=5000)
    snap = sink.last
    assert snap.step == 1 and snap.examples_seen == SMALL.batch_size
    r = snap.step_report
    assert r.cost_after < r.cost_before
    assert r.step_norm == pytest.approx(SMALL.lr * r.grad_norm, rel=1e-4)
    assert r.grad.shape == snap.theta.shape and not r.grad.flags.writeable
    assert r.output_nudges.shape == (10,)
    assert snap.example is not None and snap.example.shape == (784,)
    assert list(snap.new_steps) == [1] and len(snap.new_costs) == 1
    assert snap.new_costs[0] == pytest.approx(r.cost_before)
    assert not np.array_equal(snap.theta, first.theta)


def test_snapshots_are_readonly_copies(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.step(1)
    qtbot.waitUntil(lambda: sink.last.step == 1, timeout=5000)
    snap = sink.last
    live = worker.trainer.net.theta
    assert not np.shares_memory(snap.theta, live)
    assert not snap.theta.flags.writeable and not snap.example.flags.writeable
    with pytest.raises(ValueError):
        snap.theta[0] = 1.0
    for _, theta in snap.new_path:
        assert not theta.flags.writeable and not np.shares_memory(theta, live)


def test_play_then_pause(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.play()
    qtbot.waitUntil(lambda: sink.last.running and sink.last.step > 20, timeout=5000)
    worker.pause()
    qtbot.waitUntil(lambda: not sink.last.running, timeout=5000)
    paused_at = sink.last.step
    steps = np.concatenate([s.new_steps for s in sink.snaps])
    assert np.array_equal(steps, np.arange(1, paused_at + 1))  # every step reported once, in order
    # after pausing nothing moves: a fresh snapshot still shows the same step
    n = len(sink.snaps)
    worker.request_snapshot()
    qtbot.waitUntil(lambda: len(sink.snaps) > n, timeout=5000)
    assert sink.last.step == paused_at


def test_step_epoch_evaluates(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.step_epoch()
    qtbot.waitUntil(lambda: bool(sink.snaps) and bool(sink.last.epochs) and not sink.last.running, timeout=10000)
    snap = sink.last
    assert snap.epoch == 1 and snap.step == 60  # 600 examples / 10
    assert 0 <= snap.test_acc <= 1 and snap.epochs[-1].step == 60


def test_reset_returns_to_seeded_weights(running_worker, qtbot):
    thread, worker, sink = running_worker()
    theta0 = sink.snaps[0].theta
    np.testing.assert_array_equal(theta0, SMALL.network().theta)
    worker.step(5)
    qtbot.waitUntil(lambda: sink.last.step == 5 and not sink.last.running, timeout=5000)
    gen = sink.last.generation
    worker.reset()
    qtbot.waitUntil(lambda: sink.last.generation == gen + 1, timeout=5000)
    assert sink.last.step == 0
    np.testing.assert_array_equal(sink.last.theta, theta0)


def test_update_config_reaches_the_worker(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.update_config(lr=0.25, momentum=0.5)
    qtbot.waitUntil(lambda: sink.last.config.lr == 0.25, timeout=5000)
    assert sink.last.config.momentum == 0.5
    worker.step(1)
    qtbot.waitUntil(lambda: sink.last.step_report is not None, timeout=5000)
    assert sink.last.step_report.lr == 0.25


def test_divergence_pauses_with_a_message(running_worker, qtbot):
    cfg = TrainConfig(sizes=(784, 32, 10), activation="relu", cost="cross_entropy", lr=1e6, seed=1)
    thread, worker, sink = running_worker(config=cfg)
    worker.play()
    qtbot.waitUntil(lambda: bool(sink.last.message), timeout=5000)
    snap = sink.last
    assert not snap.running
    assert "learning rate 1e+06 is too large" in snap.message and "paused" in snap.message
    assert np.all(np.isfinite(snap.theta))


def test_speed_limit_still_answers_commands(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.set_speed(1)
    worker.play()
    qtbot.waitUntil(lambda: sink.last.running, timeout=5000)
    worker.pause()  # answered at once, not after the one-second wait between batches
    qtbot.waitUntil(lambda: not sink.last.running, timeout=500)
    assert sink.last.step <= 2


def test_no_data_still_publishes(running_worker, qtbot):
    thread, worker, sink = running_worker(data=None)
    worker.play()
    qtbot.waitUntil(lambda: "No training data" in sink.last.message, timeout=5000)
    assert sink.last.step == 0 and sink.last.example is None


def test_stop_ends_the_thread_promptly(running_worker, qtbot):
    thread, worker, sink = running_worker()
    worker.play()
    qtbot.waitUntil(lambda: sink.last.step > 5, timeout=5000)
    with qtbot.waitSignal(thread.finished, timeout=1000):
        worker.stop()
    assert thread.isFinished()


def test_playing_trains_in_fused_chunks_and_says_so(running_worker, qtbot):
    from digitviz.core import fused

    if not fused.available():
        pytest.skip("numba not importable")
    fused.warm_up()
    thread, worker, sink = running_worker()
    worker.play()
    qtbot.waitUntil(lambda: sink.last.running and sink.last.engine == "fused" and sink.last.step > 200, timeout=10000)
    worker.pause()
    qtbot.waitUntil(lambda: not sink.last.running, timeout=5000)
    steps = np.concatenate([s.new_steps for s in sink.snaps])
    assert np.array_equal(steps, np.arange(1, sink.last.step + 1))  # every step once, in order
    assert worker._chunk > 1  # more than one step per call
    costs = np.concatenate([s.new_costs for s in sink.snaps])
    assert np.all(np.isfinite(costs)) and costs[-50:].mean() < costs[:50].mean()
    # the timeline still keeps every step of its dense start (the kernel copies theta there)
    kept = [step for snap in sink.snaps for step, _ in snap.new_timeline]
    head = min(worker.timeline.head_steps, sink.last.step)
    assert kept[:head] == list(range(0, head)) and kept == sorted(set(kept))


def test_the_timelines_dense_start_is_kept_exactly_without_a_kernel_call_a_step(running_worker, qtbot, monkeypatch):
    """Every step of the timeline's dense start is kept: the kernel copies theta at them, so a chunk no
    longer ends at each (that made the app's first minutes ~15% slower than training headless)."""
    from digitviz.core import fused
    from digitviz.core.training import Trainer

    if not fused.available():
        pytest.skip("numba not importable")
    fused.warm_up()
    calls = []
    call = fused._call
    monkeypatch.setattr(fused, "_call", lambda *a: calls.append(1) or call(*a))
    data = ToyData(n_train=6000)  # 600 steps an epoch: no epoch end in the way
    thread, worker, sink = running_worker(data)
    worker.step(500)
    qtbot.waitUntil(lambda: sink.last.step == 500 and not sink.last.running, timeout=20000)
    kept = [(step, theta) for snap in sink.snaps for step, theta in snap.new_timeline]
    assert [s for s, _ in kept] == list(range(0, 501))  # the dense start: every step
    assert len(calls) < 40  # 96 staged rows a call, not one call a step (500 before)
    ref = Trainer(data, SMALL)
    thetas = {0: ref.net.theta.copy()}
    while ref.step_count < 500:
        ref.run_steps(1)
        thetas[ref.step_count] = ref.net.theta.copy()
    for step, theta in kept:
        np.testing.assert_array_equal(theta, thetas[step])


def test_divergence_offers_the_kept_weights_and_restores_them_exactly(running_worker, qtbot):
    from digitviz.core.snapshot import Event

    thread, worker, sink = running_worker()
    worker.step(300)  # a network that learned: the trainer keeps recent good weights along the way
    qtbot.waitUntil(lambda: sink.last.step == 300 and not sink.last.running, timeout=10000)
    learned = sink.last.theta
    worker.update_config(lr=100)
    worker.play()
    qtbot.waitUntil(lambda: sink.last.event is Event.DIVERGED, timeout=10000)
    snap = sink.last
    good_step, good_acc = snap.restore_point
    assert not snap.running and 0 < good_step <= 300 and good_acc > 0.5
    assert f"go back to the weights of step {good_step:,} ({good_acc:.1%})" in snap.message
    assert snap.test_acc < good_acc  # the accuracy shown is of the weights there now, not of the last epoch
    kept = worker.trainer.watch.good_theta.copy()  # the worker is idle: nothing writes it now
    n = len(sink.snaps)
    worker.restore_good()
    qtbot.waitUntil(lambda: len(sink.snaps) > n and sink.last.event is Event.RESTORED, timeout=5000)
    snap = sink.last
    np.testing.assert_array_equal(snap.theta, kept)
    assert snap.test_acc == good_acc and not snap.running
    assert not np.array_equal(snap.theta, learned) or good_step == 300
