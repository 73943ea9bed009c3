"""Planning a replay of the timeline: which kept moment each frame shows, and the accuracy it may claim."""

import math

import numpy as np
import pytest

from digitviz.core.replay import ReplayError, accuracy_notes, caption, plan_replay, spread


@pytest.mark.parametrize("k", [1, 2, 7, 31, 1290])
@pytest.mark.parametrize("n", [1, 2, 5, 31, 100, 450])
def test_spread_starts_at_the_first_moment_ends_at_the_last_and_never_goes_back(k, n):
    m = spread(k, n)
    assert m.shape == (n,) and m.dtype == np.int64
    assert m[-1] == k - 1 and (n == 1 or m[0] == 0)
    assert np.all(np.diff(m) >= 0) and np.all((0 <= m) & (m < k))
    counts = np.bincount(m, minlength=k)
    if n >= k:  # every moment shown, all held equally long to one frame
        assert counts.min() >= 1 and counts.max() - counts.min() <= 1
    else:  # distinct moments, evenly spread: gaps differ by at most one
        assert len(np.unique(m)) == n
        if n > 1:
            gaps = np.diff(m)
            assert gaps.max() - gaps.min() <= 1


def test_one_moment_a_frame_when_the_speed_is_the_frame_rate():
    steps = np.arange(31) * 2
    plan = plan_replay(steps, 15, moments_per_s=15)
    assert plan.frames == 31 and plan.frame_steps.tolist() == steps.tolist()
    assert plan.runs() == [(i, 1) for i in range(31)]
    assert plan.seconds == pytest.approx(31 / 15)


def test_slower_speeds_hold_each_moment_faster_ones_skip_some():
    steps = np.array([0, 1, 2, 3, 4, 8, 16, 32, 64, 128])
    slow = plan_replay(steps, 15, moments_per_s=5)  # 3 frames a moment
    assert slow.frames == 30 and slow.runs() == [(i, 3) for i in range(10)]
    fast = plan_replay(steps, 10, moments_per_s=20)  # every other moment, the last included
    assert fast.frames == 5 and fast.frame_steps.tolist() == [0, 2, 8, 32, 128]


def test_a_total_duration_fixes_the_number_of_frames():
    steps = np.arange(1000)
    plan = plan_replay(steps, 15, duration_s=30)
    assert plan.frames == 450 and plan.frame_steps[0] == 0 and plan.frame_steps[-1] == 999
    assert len(plan.runs()) == 450
    long = plan_replay(steps[:100], 15, duration_s=30)
    assert long.frames == 450 and sorted({c for _, c in long.runs()}) == [4, 5]


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(moments_per_s=10, steps=[]), "empty"),
        (dict(), "either"),
        (dict(moments_per_s=1, duration_s=3), "either"),
        (dict(moments_per_s=0), "positive"),
        (dict(duration_s=-1), "positive"),
        (dict(duration_s=float("nan")), "positive"),
        (dict(duration_s=3600), "at most"),
        (dict(moments_per_s=1, steps=[3, 2]), "increase"),
    ],
)
def test_bad_speeds_are_one_line(kw, words):
    steps = kw.pop("steps", [0, 1, 2])
    with pytest.raises(ReplayError) as e:
        plan_replay(steps, 15, **kw)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_bad_fps_is_refused():
    with pytest.raises(ReplayError, match="positive"):
        plan_replay([0, 1], 0, duration_s=2)


def test_each_moment_gets_the_accuracy_measured_at_or_last_before_it():
    notes = accuracy_notes([0, 50, 60, 61, 130], [(120, 0.9), (60, 0.8)])
    assert [n.epoch for n in notes] == [0, 0, 1, 1, 2]
    assert math.isnan(notes[0].accuracy) and notes[0].measured_at == -1
    assert (notes[2].accuracy, notes[2].measured_at) == (0.8, 60)
    assert (notes[3].accuracy, notes[3].measured_at) == (0.8, 60)
    assert (notes[4].accuracy, notes[4].measured_at) == (0.9, 120)
    assert notes[0].text(0) == "test accuracy not measured yet"
    assert notes[2].text(60) == "test accuracy 80.0%"
    assert notes[3].text(61) == "test accuracy 80.0% as last measured (step 60)"
    assert caption(61, notes[3]) == "replay · step 61  ·  epoch 1  ·  test accuracy 80.0% as last measured (step 60)"


def test_an_unmeasured_epoch_end_counts_as_an_epoch_not_as_a_measure():
    (note,) = accuracy_notes([70], [(60, float("nan"))])
    assert note.epoch == 1 and note.measured_at == -1 and "not measured" in note.text(70)


def test_each_moment_measured_on_a_sample_says_so():
    from digitviz.core.replay import AccuracyNote

    note = AccuracyNote(0.871, 40, 0, sample=1000)
    assert note.text(40) == "test accuracy 87.1% on 1,000 test images"


def test_measured_accuracies_are_those_of_evaluate(rng):
    from digitviz.core.replay import measure_accuracies
    from digitviz.core.training import TrainConfig, evaluate

    cfg = TrainConfig(sizes=(784, 16, 16, 10), seed=0)
    net = cfg.network()
    X = rng.random((300, 784)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    thetas = [net.theta.copy(), net.theta * 3, -net.theta]
    gen = measure_accuracies(lambda: False, net, thetas, X, y)
    progress = []
    try:
        while True:
            progress.append(next(gen))
    except StopIteration as stop:
        accs = stop.value
    assert progress == [1, 2, 3]
    assert accs.tolist() == [evaluate(net, X, y, theta=t).accuracy for t in thetas]
    stopped = measure_accuracies(lambda: True, net, thetas, X, y)
    with pytest.raises(StopIteration) as e:
        next(stopped)
    assert np.isnan(e.value.value).all()
