"""Noise images, the preparation of drawings and pictures, and the NumPy brush (no Qt)."""

import numpy as np
import pytest

from digitviz.core.inputs import (
    BOX,
    CENTRE,
    NOISE_KINDS,
    centre_of_mass,
    draw_polyline,
    draw_segment,
    ink_bbox,
    is_dark_on_light,
    noise,
    prepare_drawing,
    prepare_image,
)


def _img(x):
    return x.reshape(28, 28)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_shapes_dtype_range(rng, kind):
    one = noise(rng, kind)
    batch = noise(rng, kind, 5)
    assert one.shape == (784,) and batch.shape == (5, 784)
    assert one.dtype == np.float32 and batch.dtype == np.float32
    assert batch.min() >= 0 and batch.max() <= 1


def test_noise_is_seeded_and_new_each_call():
    a = noise(np.random.default_rng(1), "uniform")
    b = noise(np.random.default_rng(1), "uniform")
    assert np.array_equal(a, b)
    g = np.random.default_rng(1)
    assert not np.array_equal(noise(g, "uniform"), noise(g, "uniform"))


def test_noise_statistics(rng):
    u = noise(rng, "uniform", 200)
    assert abs(u.mean() - 0.5) < 0.01
    g = noise(rng, "gaussian", 200)
    assert abs(g.mean() - 0.5) < 0.01
    assert 0.02 < np.mean((g == 0) | (g == 1)) < 0.08  # about 4.6% clipped at +-2 sd
    assert not noise(rng, "blank").any()


def test_noise_rejects_unknown_kind(rng):
    with pytest.raises(ValueError, match="unknown noise kind"):
        noise(rng, "pink")


def test_empty_canvas_gives_zeros_without_error():
    x = prepare_drawing(np.zeros((280, 280)))
    assert x.shape == (784,) and x.dtype == np.float32 and not x.any()
    assert not prepare_drawing(np.full((10, 10), np.nan)).any()


def test_stroke_in_a_corner_ends_up_centred():
    canvas = np.zeros((280, 280))
    draw_polyline(canvas, [(15, 15), (70, 20), (30, 90)], radius=8)  # top-left corner
    x = _img(prepare_drawing(canvas))
    r, c = centre_of_mass(x)
    assert abs(r - CENTRE[0]) < 0.1 and abs(c - CENTRE[1]) < 0.1
    r0, r1, c0, c1 = ink_bbox(x, 0.2)
    assert max(r1 - r0, c1 - c0) in (BOX, BOX + 1)  # the longer side fills the 20-pixel box
    assert x.max() > 0.95 and x.min() >= 0


def test_same_drawing_anywhere_gives_the_same_input():
    a = np.zeros((280, 280))
    b = np.zeros((280, 280))
    draw_polyline(a, [(20, 20), (60, 30), (40, 80)], radius=8)
    draw_polyline(b, [(200, 170), (240, 180), (220, 230)], radius=8)
    assert np.allclose(prepare_drawing(a), prepare_drawing(b), atol=1e-5)


@pytest.mark.parametrize("h,w", [(200, 50), (50, 200), (120, 120)])
def test_aspect_ratio_is_kept(h, w):
    canvas = np.zeros((280, 280))
    canvas[40 : 40 + h, 30 : 30 + w] = 1.0  # a filled rectangle
    x = _img(prepare_drawing(canvas))
    width = (x.sum(axis=1) / x.max()).max()  # the widest row, in pixels of ink
    height = (x.sum(axis=0) / x.max()).max()  # the tallest column
    assert max(height, width) == pytest.approx(BOX, abs=0.6)
    assert width / height == pytest.approx(w / h, rel=0.05)


def test_total_ink_is_conserved_when_shrinking():
    canvas = np.zeros((280, 280))
    canvas[100:240, 60:130] = 1.0  # 140 x 70: scale 1/7 -> 20 x 10 pixels of ink
    x = prepare_drawing(canvas)
    assert x.sum() == pytest.approx(200, rel=0.01)


def test_small_drawing_is_enlarged_smoothly():
    canvas = np.zeros((100, 100))
    draw_segment(canvas, (50, 45), (50, 55), radius=1.5, softness=1)
    x = _img(prepare_drawing(canvas))
    assert ink_bbox(x, 0.5)[1] - ink_bbox(x, 0.5)[0] >= BOX - 2
    assert x.max() <= 1.0


def test_mnist_digit_is_almost_a_fixed_point(mnist):
    X = mnist.images_as("test")[:50]
    err = [np.abs(prepare_drawing(x.reshape(28, 28)) - x).mean() for x in X]
    assert np.mean(err) < 0.05  # only the sub-pixel recentring blurs a little


def test_prepare_image_inverts_dark_on_light():
    paper = np.full((120, 90), 0.95)
    ink = np.zeros((120, 90))
    draw_polyline(ink, [(20, 20), (70, 20), (35, 100)], radius=5)
    picture = paper - 0.9 * ink  # dark grey ink on off-white paper
    assert is_dark_on_light(picture)
    x = prepare_image(picture)
    assert np.allclose(x, prepare_drawing(ink), atol=0.02)
    assert x.max() == pytest.approx(1.0, abs=0.01)


def test_prepare_image_keeps_light_on_dark():
    ink = np.zeros((64, 64))
    draw_polyline(ink, [(10, 10), (50, 50)], radius=3)
    assert not is_dark_on_light(ink)
    assert np.allclose(prepare_image(ink), prepare_drawing(ink), atol=1e-6)


def test_prepare_image_flat_picture_is_blank():
    assert not prepare_image(np.full((30, 40), 0.7)).any()
    with pytest.raises(ValueError):
        prepare_image(np.zeros((0, 5)))


def test_brush_is_soft_continuous_and_bounded():
    canvas = np.zeros((100, 100))
    changed = draw_segment(canvas, (10, 50), (90, 50), radius=6, softness=3)
    assert changed is not None
    assert canvas.max() == 1.0 and canvas.min() == 0.0
    assert (canvas[50, 10:91] == 1.0).all()  # no gaps along a long, fast segment
    profile = canvas[40:61, 50]
    assert 0 < profile[3] < 1  # the edge fades softly
    again = canvas.copy()
    draw_segment(canvas, (10, 50), (90, 50), radius=6, softness=3)
    assert np.array_equal(canvas, again)  # overlapping strokes combine by maximum: no darkening
    assert draw_segment(canvas, (-50, -50), (-40, -40), radius=3) is None
