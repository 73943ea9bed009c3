"""A run's records (digitviz.core.history): the descent path stays bounded and spans the run."""

import numpy as np

from digitviz.core.history import History


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


def test_a_series_of_path_points_thins_exactly_when_the_paths_stride_doubles():
    """The app's worker hands each path point on and forgets it; the GUI keeps them in a BoundedSeries of
    the same size. Its stride (how coarse it keeps them) is the History's, at every step, epoch-end points
    (off the stride) included, so no theta is copied for a point the GUI would drop."""
    from digitviz.core.series import BoundedSeries

    h = History(n_params=100, itemsize=4, path_stride=3, path_points=8)
    assert h.path_capacity == 8
    gui = BoundedSeries(8, dtype=object)
    sent = 0
    for step in range(1, 5000):
        h.record_step(step, 1.0, 1.0, np.zeros(3))
        if step % 97 == 0:  # an epoch's end: recorded off the stride
            h.record_theta(step, np.zeros(3))
        for s, theta in zip(h.path_steps, h.path_thetas):
            if s > sent:
                gui.append(int(s), theta)
                sent = int(s)
        h.forget_path()
        assert h.path_stride == 3 * gui.stride, step
    assert gui.stride >= 64
