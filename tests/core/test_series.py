"""The one bounded series type and the curve maths (no Qt)."""

import numpy as np
import pytest

from digitviz.core.series import (
    BoundedSeries,
    ema,
    frozen_copy,
    nice_ceil,
    peak_decimate,
    subsample,
)


def test_keep_mode_keeps_every_other_point_and_spans_the_run():
    s = BoundedSeries(capacity=8, initial=2)
    for step in range(1, 40):
        s.append(step, 10.0 * step)
    assert len(s) <= 8 and s.steps()[0] == 1 and s.steps()[-1] == 39
    np.testing.assert_array_equal(s.values(), 10.0 * s.steps())  # real points, never averaged
    assert np.all(np.diff(s.steps()) > 0) and s.stride > 1


def test_a_step_not_after_the_last_is_ignored():
    s = BoundedSeries(capacity=4)
    assert s.append(3, 1.0) and not s.append(3, 2.0) and not s.append(1, 2.0)
    assert len(s) == 1 and s.last_step == 3


def test_object_values_are_kept_by_reference():
    s = BoundedSeries(capacity=4, dtype=object)
    thetas = [frozen_copy(np.full(3, k)) for k in range(9)]
    for k, th in enumerate(thetas):
        s.append(k, th)
    assert all(any(v is th for th in thetas) for v in s.values())
    assert s.values()[0] is thetas[0] and s.steps()[-1] == 8


def test_mean_mode_extend_equals_appending_one_by_one(rng):
    steps = np.arange(1, 1001)
    vals = rng.random((1000, 3))
    a = BoundedSeries(capacity=64, width=3, mean=True, initial=4)
    b = BoundedSeries(capacity=64, width=3, mean=True, initial=4)
    for chunk in np.array_split(np.arange(1000), 37):
        a.extend(steps[chunk], vals[chunk])
    for s, v in zip(steps, vals):
        b.append(s, v)
    assert a.stride == b.stride == 16 and len(a) == len(b)
    np.testing.assert_array_equal(a.steps(), b.steps())
    np.testing.assert_allclose(a.values(), b.values())
    # each stored point is the mean of its bucket, stamped with the bucket's last step
    np.testing.assert_allclose(a.values()[0], vals[:16].mean(axis=0))
    assert a.steps()[0] == 16


def test_clear_starts_over():
    s = BoundedSeries(capacity=4, mean=True)
    s.extend(np.arange(1, 20), np.ones(19))
    s.clear()
    assert len(s) == 0 and s.stride == 1 and s.last_step is None
    s.append(1, 2.0)
    assert s.values().tolist() == [2.0]


def test_frozen_copy():
    a = np.arange(3.0)
    c = frozen_copy(a)
    assert not c.flags.writeable and a.flags.writeable and c is not a
    same = frozen_copy(a, copy=False)
    assert same is a and not a.flags.writeable
    assert frozen_copy(None) is None


def test_peak_decimate_keeps_each_buckets_extremes():
    x = np.arange(1000.0)
    y = np.sin(x)
    xs, ys = peak_decimate(x, y, 100)
    assert len(xs) == len(ys) == 200
    assert ys.max() == y.max() and ys.min() == y.min()
    short, _ = peak_decimate(x[:150], y[:150], 100)  # fewer than two points a bucket: drawn as they are
    assert len(short) == 150


def test_subsample_keeps_the_last_point():
    x = np.arange(1000.0)
    xs, ys = subsample(x, 2 * x, 100)
    assert len(xs) <= 102 and xs[-1] == 999 and ys[-1] == 1998


def test_ema_continues_from_where_it_stopped():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    whole, last = ema(v, np.nan, 0.5)
    first, mid = ema(v[:2], np.nan, 0.5)
    rest, last2 = ema(v[2:], mid, 0.5)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole)
    assert whole[0] == 1.0 and whole[1] == 1.5 and last == last2


@pytest.mark.parametrize(
    "v,want", [(0.93, 1.0), (1.1, 1.2), (2.6, 3.0), (7.0, 8.0), (9000, 10000), (0, 1.0), (float("nan"), 1.0)]
)
def test_nice_ceil(v, want):
    assert nice_ceil(v) == pytest.approx(want)


def test_keep_last_drops_older_points_and_releases_objects():
    s = BoundedSeries(8, dtype=object)
    vals = [np.arange(3) + i for i in range(5)]
    for i, v in enumerate(vals):
        s.append(10 * i, v)
    s.keep_last(1)
    assert list(s.steps()) == [40] and s.values()[0] is vals[4] and s.last_step == 40
    assert all(x is None for x in s._values[1:5])  # the dropped vectors are not kept alive
    s.append(50, vals[0])
    assert list(s.steps()) == [40, 50]


def test_ema_with_a_count_is_the_running_mean_until_it_has_enough_values():
    """Issue 10 #9: with alpha 0.01 a curve of a few steps stayed at its first value."""
    import numpy as np

    from digitviz.core.series import ema

    v = np.array([4.0, 2.0, 0.0, 2.0])
    out, last = ema(v, float("nan"), 0.01, count=0)
    np.testing.assert_allclose(out, np.cumsum(v) / np.arange(1, 5))
    # continued in two parts, it is the same
    a, e = ema(v[:2], float("nan"), 0.01, count=0)
    b, e2 = ema(v[2:], e, 0.01, count=2)
    np.testing.assert_allclose(np.concatenate([a, b]), out) and None
    assert e2 == last
    # after 1 / alpha values it is the plain EMA again
    long = np.ones(200)
    long[150:] = 0.0
    out, _ = ema(long, float("nan"), 0.01, count=0)
    assert out[150] == 1.0 - 0.01
