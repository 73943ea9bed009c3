"""Moving digits: shifts, rotations, scalings, robustness curves and the training augmentation."""

import numpy as np
import pytest

from digitviz.core.transforms import (
    Augmenter,
    iter_shift_curve,
    random_directions,
    rotate_images,
    rotation_curve,
    scale_images,
    shift_curve,
    shift_images,
    warp_images,
)


def dot(r, c, n=1):
    X = np.zeros((n, 784), np.float32)
    X[:, r * 28 + c] = 1.0
    return X


def where(X):
    return [divmod(int(i), 28) for i in np.argmax(X, axis=1)]


def test_a_shifted_one_pixel_image_lands_where_expected():
    X = dot(10, 12, 3)
    out = shift_images(X, np.array([3, -2, 0]), np.array([0, 5, -10]))
    assert where(out) == [(10, 15), (15, 10), (0, 12)]
    assert np.all(out.sum(axis=1) == 1.0)
    # one shift for all, and a single image
    assert where(shift_images(X, 1, 1)) == [(11, 13)] * 3
    assert divmod(int(np.argmax(shift_images(X[0], -12, 0))), 28) == (10, 0)


def test_shifting_out_of_the_frame_blanks_and_keeps_dtype(rng):
    X = rng.random((4, 784)).astype(np.float32)
    out = shift_images(X, 28, 0)
    assert out.dtype == np.float32 and np.all(out == 0)
    img = shift_images(X, 2, -1).reshape(4, 28, 28)
    assert np.array_equal(img[:, :27, 2:], X.reshape(4, 28, 28)[:, 1:, :26])
    assert np.all(img[:, :, :2] == 0) and np.all(img[:, 27, :] == 0)


def test_warp_with_whole_pixel_shift_equals_shift_and_identity_is_exact(rng):
    X = rng.random((5, 784)).astype(np.float32)
    assert np.allclose(warp_images(X), X)
    assert np.allclose(warp_images(X, dx=3, dy=-2), shift_images(X, 3, -2), atol=1e-6)


def test_rotation_turns_counter_clockwise_and_four_quarter_turns_come_back(rng):
    # a dot right of the centre goes to the top under a quarter turn counter-clockwise
    X = np.zeros((1, 784), np.float32)
    X[0, 13 * 28 + 20] = X[0, 14 * 28 + 20] = 1.0  # a symmetric pair about row 13.5, at column 20
    out = rotate_images(X, 90.0)[0].reshape(28, 28)
    r, col = np.unravel_index(np.argmax(out), out.shape)
    assert r == 7  # 6.5 rows above the centre (13.5), as the dot was 6.5 columns right of it
    assert col in (13, 14)
    assert out[:, :13].sum() == pytest.approx(out[:, 15:].sum(), abs=1e-5)
    img = rng.random((2, 784))
    back = rotate_images(rotate_images(rotate_images(rotate_images(img, 90), 90), 90), 90)
    assert np.allclose(back, img, atol=1e-9)
    # per-image angles: a batch rotated by (0, 180) keeps the first and reverses the second
    both = rotate_images(img, np.array([0.0, 180.0]))
    assert np.allclose(both[0], img[0]) and np.allclose(both[1], img[1][::-1], atol=1e-9)


def test_scaling_enlarges_about_the_centre():
    X = np.zeros((1, 784))
    X[0, 13 * 28 + 19] = X[0, 14 * 28 + 19] = 1.0  # 5.5 pixels right of the centre
    big = scale_images(X, 2.0)[0].reshape(28, 28)
    cols = np.nonzero(big.sum(axis=0))[0]
    assert cols.min() >= 23 and cols.max() <= 26  # 11 pixels right of the centre
    with pytest.raises(ValueError):
        scale_images(X, 0.0)


def test_random_directions_have_the_asked_length():
    dx, dy = random_directions(np.random.default_rng(0), 1000, 5)
    d = np.hypot(dx, dy)
    assert np.all(np.abs(d - 5) < 0.75)
    assert len(set(zip(dx.tolist(), dy.tolist()))) > 10


class BandNet:
    """Answers which band of ~2.8 rows holds the brightest pixel: moved dots change its answer."""

    def predict(self, X):
        return np.argmax(X, axis=1) // 79


def test_shift_curve_starts_at_the_plain_accuracy_and_is_reproducible(rng):
    net = BandNet()
    X = dot(0, 0, 200)
    X[np.arange(200)] = 0
    X[np.arange(200), rng.integers(0, 784, 200)] = 1.0
    labels = net.predict(X)  # right on every unmoved image
    curve = shift_curve(net, X, labels, shifts=range(4), seed=1)
    assert curve.shape == (4,) and curve[0] == 1.0 and curve[3] < 1.0
    assert np.array_equal(curve, shift_curve(net, X, labels, shifts=range(4), seed=1))
    assert list(iter_shift_curve(net, X, labels, shifts=range(4), stop=lambda: True)) == []
    rot = rotation_curve(net, X, labels, angles=(0, 30), seed=1)
    assert rot[0] == 1.0 and rot[1] < 1.0


def test_augmenter_shifts_within_range_and_keeps_the_ink(rng):
    aug = Augmenter(shift_px=3, rng=np.random.default_rng(5))
    X = np.zeros((200, 784), np.float32)
    X[:, 14 * 28 + 14] = 1.0  # a dot far from the border: never cut off
    out = aug(X)
    assert np.all(out.sum(axis=1) == 1.0)
    rc = np.array(where(out))
    d = rc - 14
    assert np.abs(d).max() == 3
    assert np.array_equal(d[:, ::-1], aug.last_shifts)  # (dy, dx) against (dx, dy)
    assert len({tuple(v) for v in d}) == 49  # every shift in -3..3 x -3..3 happens
    # in place, and the same seed gives the same batch
    Y = X.copy()
    Augmenter(3, rng=np.random.default_rng(5))(Y, out=Y)
    assert np.array_equal(Y, out)


def test_augmenter_rotation_only_and_bad_ranges(rng):
    X = rng.random((10, 784)).astype(np.float32)
    out = Augmenter(0, 20.0, np.random.default_rng(1))(X)
    assert out.shape == X.shape and not np.allclose(out, X)
    assert np.array_equal(Augmenter(0, 0.0)(X), X)
    with pytest.raises(ValueError):
        Augmenter(-1)


def test_augmenter_large_batches_use_the_same_moves(rng):
    X = rng.random((300, 784)).astype(np.float32)
    aug = Augmenter(8, rng=np.random.default_rng(2))  # 289 shifts x 300 rows: no table ahead
    out = aug(X)
    d = aug.last_shifts
    assert np.abs(d).max() <= 8
    assert np.array_equal(out, shift_images(X, d[:, 0], d[:, 1]))


def test_augmenter_rotation_tables_agree_with_rotate_images(rng):
    X = rng.random((40, 784)).astype(np.float32)
    aug = Augmenter(0, 10.0, np.random.default_rng(3))
    assert len(aug.angles) == 21 and aug.angles[0] == -10.0
    out = aug(X)
    assert np.allclose(out, rotate_images(X, aug.last_angles), atol=1e-5)
    assert len(set(aug.last_angles.tolist())) > 10
    both = Augmenter(2, 5.0, np.random.default_rng(4))
    out = both(X)
    d = both.last_shifts
    expected = shift_images(rotate_images(X, both.last_angles).astype(np.float32), d[:, 0], d[:, 1])
    assert np.allclose(out, expected, atol=1e-5) and np.abs(d).max() <= 2
