"""The run's timeline: bounded memory, dense head, thinned tail, exact restores."""

import numpy as np
import pytest

from digitviz.core.timeline import Timeline


def theta_of(step, p=50):
    return (np.arange(p) * 1e-3 + int(step)).astype(np.float32)  # a distinct vector per step


def test_restoring_a_kept_step_gives_exactly_its_theta():
    tl = Timeline(50, max_bytes=50 * 4 * 40)  # 40 rows: head of steps 0-9, tail of 29, latest
    assert tl.capacity == 40 and tl.head_steps == 10
    for s in range(5000):
        tl.record(s, theta_of(s))
    steps = tl.steps()
    assert np.all(np.diff(steps) > 0)
    for s in steps:
        kept, theta = tl.theta_at(s)
        assert kept == s and np.array_equal(theta, theta_of(s))
    # between kept points: the last one at or before
    kept, theta = tl.theta_at(steps[-2] + 1)
    assert kept == steps[-2] and np.array_equal(theta, theta_of(steps[-2]))
    assert tl.theta_at(-5)[0] == 0


def test_head_is_dense_tail_spans_the_run_and_memory_is_bounded():
    tl = Timeline(1000, max_bytes=1000 * 4 * 64)
    nbytes = tl.nbytes
    for s in range(100_000):
        tl.record(s, np.full(1000, s, np.float32))
    steps = tl.steps()
    assert tl.nbytes == nbytes <= 1000 * 4 * 64
    assert len(steps) <= tl.capacity
    assert list(steps[: tl.head_steps]) == list(range(tl.head_steps))  # every early step
    tail = steps[tl.head_steps : -1]
    assert len(tail) >= (tl.capacity - tl.head_steps - 1) // 2  # thinning keeps at least half
    assert np.all(tail % tl.stride == 0) and len(set(np.diff(tail))) == 1  # evenly spaced
    assert tail[-1] > 100_000 - 2 * tl.stride  # reaches the end of the run
    assert steps[-1] == 99_999 == tl.latest_step  # and the latest step is always there
    kept, theta = tl.theta_at(99_999)
    assert kept == 99_999 and np.all(theta == 99_999)


def test_sparse_recording_clear_and_bad_input():
    tl = Timeline(10, max_bytes=10 * 4 * 16)
    with pytest.raises(LookupError):
        tl.theta_at(0)
    for s in (0, 3, 100, 250):
        tl.record(s, theta_of(s, 10))
    assert list(tl.steps()) == [0, 3, 100, 250]
    with pytest.raises(ValueError):
        tl.record(250, theta_of(0, 10))
    with pytest.raises(ValueError):
        tl.record(300, np.zeros(3))
    tl.clear()
    assert len(tl) == 0 and tl.latest_step == -1
    tl.record(0, theta_of(0, 10))
    assert list(tl.steps()) == [0]


def test_default_bound_for_the_lesson_network():
    tl = Timeline(13_002)
    assert tl.nbytes <= 64 << 20 and tl.capacity == (64 << 20) // (13_002 * 4)
    assert tl.head_steps == tl.capacity // 4


def test_worker_twin_keeps_exactly_the_guis_points():
    """The worker's decide-only twin and the GUI's timeline agree through thinning."""
    rng = np.random.default_rng(0)
    twin = Timeline(5, np.float64, max_bytes=16 * 5 * 8, store=False)
    gui = Timeline(5, np.float64, max_bytes=16 * 5 * 8)
    sent = {}
    for s in range(200):
        theta = rng.random(5)
        if twin.admit(s):
            sent[s] = theta
            gui.record(s, theta)
    kept = gui.steps()
    assert len(kept) <= gui.capacity and kept[0] == 0 and twin.stride == gui.stride > 1
    for s in kept:
        np.testing.assert_array_equal(gui.theta_at(s)[1], sent[s])


def test_next_kept_names_exactly_the_steps_record_keeps():
    tl = Timeline(5, np.float32, max_bytes=40 * 5 * 4, head_share=0.25)
    kept, s = [], -1
    wanted = []
    for step in range(400):
        if step > s:
            wanted.append(tl.next_kept(s))
        if tl.record(step, np.full(5, step, np.float32)):
            kept.append(step)
        s = step
    # every step record kept was announced by next_kept just before it
    assert set(kept) <= set(wanted)
    t2, s, visited = Timeline(5, np.float32, max_bytes=40 * 5 * 4, head_share=0.25), -1, []
    while s < 400:  # a trainer that jumps from kept moment to kept moment keeps the same moments
        s = t2.next_kept(s)
        if s < 400:
            t2.record(s, np.full(5, s, np.float32))
            visited.append(s)
    assert list(t2.steps()) == [k for k in tl.steps() if k in kept]  # tl also holds its latest step, 399


@pytest.mark.parametrize("after,n,limit", [(-1, 30, 100), (5, 400, 7), (120, 900, 1000), (0, 1, 5), (2000, 50, 3)])
def test_kept_after_names_the_steps_record_would_keep_and_changes_nothing(after, n, limit):
    """What a trainer running n steps per call asks its kernel to copy: the very steps offering each step
    in order would keep, through the dense head and the tail's thinning."""
    tl = Timeline(5, np.float32, max_bytes=40 * 5 * 4, head_share=0.25)  # head of 10 steps, tail of 29
    for step in range(after + 1):
        tl.record(step, np.full(5, step, np.float32))
    before = (tl.steps(), tl.stride, tl.latest_step)
    got = tl.kept_after(after, n, limit)
    assert (tl.steps().tolist(), tl.stride, tl.latest_step) == (before[0].tolist(), before[1], before[2])
    twin = Timeline(5, np.float32, max_bytes=40 * 5 * 4, head_share=0.25)
    wanted = [s for s in range(after + n + 1) if twin.record(s, np.full(5, s, np.float32)) and s > after]
    assert got.dtype == np.int64 and got.tolist() == wanted[:limit]
