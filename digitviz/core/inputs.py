"""Inputs for the network besides MNIST itself: noise images, hand drawings and image files.

A drawing (or a picture) becomes what MNIST digits look like before it reaches the network, by
MNIST's own recipe: the ink's bounding box is scaled to fit a 20x20 box keeping its aspect ratio
(grey levels come from area averaging), and the result is placed in a 28x28 field so that its
centre of mass sits at the field's centre, pixel (14, 14) -- where the mean centre of mass of
the MNIST test digits is (13.99, 14.01). The scaling and the sub-pixel shift are one separable
resampling (two small matrices), so nothing is resampled twice.

The soft brush is NumPy too: a stroke between two mouse positions is a capsule (a segment with
round ends) whose edge fades over ``softness`` pixels. Consecutive mouse positions are joined by
such capsules, so a fast pen leaves a continuous line, and capsules of one stroke combine by
maximum, so their overlaps do not darken.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SIDE = 28  # MNIST images are 28 x 28
BOX = 20  # the digit's longer side after size normalisation
CENTRE = (14.0, 14.0)  # target centre of mass (row, col), in pixel indices
NOISE_KINDS = ("uniform", "gaussian", "blank")
GAUSSIAN_MEAN = 0.5
GAUSSIAN_STD = 0.25


def noise(
    rng: np.random.Generator,
    kind: str = "uniform",
    n: int | None = None,
    n_in: int = SIDE * SIDE,
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """Images that are not digits.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (each call draws new images).
    kind : {"uniform", "gaussian", "blank"}
        ``"uniform"``: every pixel independently uniform in [0, 1] (the lesson's noise).
        ``"gaussian"``: every pixel ~ N(0.5, 0.25^2), clipped to [0, 1] (about 4.6% of pixels
        end up exactly 0 or 1). ``"blank"``: all zeros (nothing drawn; ``rng`` is not used).
    n : int or None
        ``None`` for one image of shape ``(n_in,)``, otherwise a batch ``(n, n_in)``.
    n_in : int
        Pixels per image.
    dtype : numpy dtype

    Returns
    -------
    ndarray, shape (n_in,) or (n, n_in), values in [0, 1]
    """
    shape = (n_in,) if n is None else (int(n), n_in)
    if kind == "uniform":
        x = rng.random(shape, dtype=np.float32)
    elif kind == "gaussian":
        x = rng.normal(GAUSSIAN_MEAN, GAUSSIAN_STD, shape).astype(np.float32)
        np.clip(x, 0.0, 1.0, out=x)
    elif kind == "blank":
        x = np.zeros(shape, np.float32)
    else:
        raise ValueError(f"unknown noise kind {kind!r}; choose from {', '.join(NOISE_KINDS)}")
    return x.astype(dtype, copy=False)


def _resample_matrix(n_in: int, n_out: int, scale: float, offset: float) -> np.ndarray:
    """Weights ``R`` of shape ``(n_out, n_in)`` such that ``R @ v`` resamples the 1-D signal ``v``.

    Coordinates are continuous, pixel ``j`` covering ``[j, j + 1)``. Input position ``t`` lands at
    output position ``offset + scale * t``. Each output pixel averages the input over a box of
    width ``max(1, 1 / scale)`` input pixels around its centre: exactly its own footprint when
    shrinking (area averaging), one pixel when enlarging (which is bilinear interpolation).
    Input outside ``[0, n_in)`` counts as 0, so nothing is renormalised at the edges.
    """
    width = max(1.0, 1.0 / scale)
    centres = (np.arange(n_out) + 0.5 - offset) / scale
    lo = (centres - width / 2)[:, None]
    hi = lo + width
    j = np.arange(n_in)[None, :]
    overlap = np.minimum(hi, j + 1.0) - np.maximum(lo, j)
    return np.maximum(overlap, 0.0) / width


def ink_bbox(img: np.ndarray, threshold: float = 0.05) -> tuple[int, int, int, int] | None:
    """``(r0, r1, c0, c1)`` of the pixels brighter than ``threshold`` x the brightest, or None.

    ``r1`` and ``c1`` are exclusive. None means there is no ink (an all-zero image).
    """
    peak = float(img.max()) if img.size else 0.0
    if not peak > 0.0:
        return None
    mask = img > threshold * peak
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """``(row, col)`` intensity-weighted mean pixel index of a 2-D image (NaNs if it is all zero)."""
    total = float(img.sum())
    if total <= 0:
        return float("nan"), float("nan")
    r = float(img.sum(axis=1) @ np.arange(img.shape[0])) / total
    c = float(img.sum(axis=0) @ np.arange(img.shape[1])) / total
    return r, c


def prepare_drawing(canvas: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """Turn a drawing into an MNIST-like input.

    Parameters
    ----------
    canvas : ndarray, shape (H, W)
        Light ink on a dark ground, grey levels in [0, 1] (values outside are clipped, NaN is 0).
    threshold : float
        Pixels dimmer than ``threshold`` x the brightest one do not count for the bounding box
        (the faint fringe of a soft brush would otherwise make the digit look smaller).

    Returns
    -------
    ndarray, shape (784,), float32 in [0, 1]
        Row-major 28x28: the ink's bounding box scaled to fit 20x20 (aspect ratio kept), its
        centre of mass at pixel (14, 14). All zeros when there is no ink.
    """
    img = np.nan_to_num(np.asarray(canvas, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D canvas, got shape {img.shape}")
    np.clip(img, 0.0, 1.0, out=img)
    box = ink_bbox(img, threshold)
    if box is None:
        return np.zeros(SIDE * SIDE, np.float32)
    r0, r1, c0, c1 = box
    crop = img[r0:r1, c0:c1]
    scale = BOX / max(crop.shape)
    # Centre of mass of the crop in continuous coordinates (pixel centres at index + 0.5). Resampling
    # with a symmetric box keeps it, so it lands at offset + scale * com; put that at CENTRE + 0.5.
    cr, cc = centre_of_mass(crop)
    off_r = CENTRE[0] + 0.5 - scale * (cr + 0.5)
    off_c = CENTRE[1] + 0.5 - scale * (cc + 0.5)
    Rr = _resample_matrix(crop.shape[0], SIDE, scale, off_r)
    Rc = _resample_matrix(crop.shape[1], SIDE, scale, off_c)
    out = Rr @ crop @ Rc.T
    np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32).reshape(-1)


def prepare_image(gray: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """Turn a picture (e.g. a photo or scan of a digit) into an MNIST-like input.

    MNIST is light ink on black. If the picture's border is mostly light (dark ink on paper) it is
    inverted. The background level (the border's median) is then subtracted and the contrast
    stretched so the ink reaches 1, and the result goes through :func:`prepare_drawing`.

    Parameters
    ----------
    gray : ndarray, shape (H, W)
        Grey levels in [0, 1], 1 = white.

    Returns
    -------
    ndarray, shape (784,), float32 in [0, 1]
    """
    g = np.nan_to_num(np.asarray(gray, dtype=np.float64), nan=0.0)
    if g.ndim != 2 or g.size == 0:
        raise ValueError(f"expected a non-empty 2-D grey image, got shape {g.shape}")
    np.clip(g, 0.0, 1.0, out=g)
    if is_dark_on_light(g):
        g = 1.0 - g
    background = float(np.median(_border(g)))
    peak = float(g.max())
    if peak - background < 1e-3:  # a flat picture: nothing drawn
        return np.zeros(SIDE * SIDE, np.float32)
    g = np.clip((g - background) / (peak - background), 0.0, 1.0)
    return prepare_drawing(g, threshold)


def is_dark_on_light(gray: np.ndarray) -> bool:
    """True if the picture's border is mostly light, i.e. dark ink on a light ground."""
    return float(np.median(_border(np.asarray(gray)))) > 0.5


def _border(g: np.ndarray) -> np.ndarray:
    """The pixels of the outermost rows and columns (a 1-pixel frame; the whole image if tiny)."""
    if min(g.shape) <= 2:
        return g.ravel()
    return np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])


def draw_segment(
    canvas: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    radius: float = 12.0,
    softness: float = 4.0,
    value: float = 1.0,
) -> tuple[slice, slice] | None:
    """Paint a soft round-ended stroke from ``p0`` to ``p1`` into ``canvas``, in place.

    Parameters
    ----------
    canvas : ndarray, shape (H, W), float
        Modified in place: each pixel becomes the maximum of itself and the stroke.
    p0, p1 : (x, y)
        End points in pixel coordinates (x = column, y = row; pixel centres at index + 0.5).
        ``p0 == p1`` paints a round dab.
    radius : float
        Half the stroke width, in pixels (where the intensity has fallen to half).
    softness : float
        Width of the edge's fall-off from full to no ink, in pixels (> 0; ~1 is a crisp,
        anti-aliased edge).
    value : float
        Intensity in the stroke's core.

    Returns
    -------
    tuple of slice or None
        ``(rows, cols)`` of the region that may have changed, or None if the stroke is off the canvas.
    """
    h, w = canvas.shape
    (x0, y0), (x1, y1) = p0, p1
    reach = radius + softness / 2
    r_lo = max(int(np.floor(min(y0, y1) - reach)), 0)
    r_hi = min(int(np.ceil(max(y0, y1) + reach)) + 1, h)
    c_lo = max(int(np.floor(min(x0, x1) - reach)), 0)
    c_hi = min(int(np.ceil(max(x0, x1) + reach)) + 1, w)
    if r_lo >= r_hi or c_lo >= c_hi:
        return None
    py = np.arange(r_lo, r_hi, dtype=np.float64)[:, None] + 0.5
    px = np.arange(c_lo, c_hi, dtype=np.float64)[None, :] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        # parameter of the closest point on the segment, clamped to the end points
        t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
        d = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
    else:
        d = np.hypot(px - x0, py - y0)
    ink = np.clip((radius - d) / max(softness, 1e-6) + 0.5, 0.0, 1.0) * value
    region = canvas[r_lo:r_hi, c_lo:c_hi]
    np.maximum(region, ink, out=region)
    return slice(r_lo, r_hi), slice(c_lo, c_hi)


def draw_polyline(
    canvas: np.ndarray,
    points: Sequence[tuple[float, float]],
    radius: float = 12.0,
    softness: float = 4.0,
    value: float = 1.0,
) -> np.ndarray:
    """Paint a stroke through ``points`` (a sequence of (x, y)) into ``canvas``, in place."""
    pts = [(float(x), float(y)) for x, y in points]
    if len(pts) == 1:
        draw_segment(canvas, pts[0], pts[0], radius, softness, value)
    for a, b in zip(pts[:-1], pts[1:]):
        draw_segment(canvas, a, b, radius, softness, value)
    return canvas
