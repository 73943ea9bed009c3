"""Moving digits: whole-pixel shifts, rotations and scalings of 28x28 images, vectorised over a batch.

The lesson's remark "it only ever saw centred, unmoving digits" is checked three ways:

* :func:`shift_images` / :func:`warp_images` move a batch of images (each by its own amount);
* :func:`shift_curve` / :func:`rotation_curve` measure test accuracy when every test digit is moved by
  0..8 pixels (random direction, fixed seed) or rotated by 0..45 degrees (random sense);
* :class:`Augmenter` moves each training mini-batch at random ("train on moved digits"); the trainer
  calls it when ``TrainConfig.shift_px`` or ``rotate_deg`` is set.

Images are rows of ``X`` of shape ``(N, 784)``, row-major 28x28, row ``r`` from the top and column ``c``
from the left. A shift by ``(dx, dy)`` moves ink ``dx`` pixels right and ``dy`` pixels down; what leaves
the frame is lost and what enters is blank (0). Rotations are counter-clockwise on screen for positive
angles, about the frame's centre (13.5, 13.5), with bilinear interpolation.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .network import Network

SIDE = 28
N_PIX = SIDE * SIDE
CENTRE = (SIDE - 1) / 2.0
_PAD = 2  # zero border of the padded images used by the bilinear warp

_R, _C = np.divmod(np.arange(N_PIX), SIDE)  # row and column of each flat pixel


def _per_image(v: float | np.ndarray, n: int, dtype: npt.DTypeLike) -> np.ndarray:
    v = np.asarray(v, dtype)
    if v.ndim == 0:
        return np.full(n, v, dtype)
    if v.shape != (n,):
        raise ValueError(f"expected a scalar or one value per image ({n}), got shape {v.shape}")
    return v


def _as_images(X: np.ndarray) -> tuple[np.ndarray, bool]:
    X = np.asarray(X)
    single = X.ndim == 1
    if single:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != N_PIX:
        raise ValueError(f"expected images of shape (N, {N_PIX}) or ({N_PIX},), got {X.shape}")
    return X, single


def shift_index(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Where each output pixel of a shifted image comes from.

    Parameters
    ----------
    dx, dy : int or ndarray of int, shape (N,)
        Pixels to move right and down.

    Returns
    -------
    ndarray of intp, shape (N, 784)
        Flat source index in ``0..783``, or ``784`` (a blank pixel) where the source lies outside.
    """
    dx = np.atleast_1d(np.asarray(dx, np.intp))
    dy = np.atleast_1d(np.asarray(dy, np.intp))
    r = _R[None, :] - dy[:, None]
    c = _C[None, :] - dx[:, None]
    inside = (r >= 0) & (r < SIDE) & (c >= 0) & (c < SIDE)
    return np.where(inside, r * SIDE + c, N_PIX)


def shift_images(
    X: np.ndarray, dx: int | np.ndarray, dy: int | np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Shift each image by whole pixels, ``dx`` right and ``dy`` down (blank fill).

    Parameters
    ----------
    X : ndarray, shape (N, 784) or (784,)
    dx, dy : int or ndarray of int, shape (N,)
        One shift for all images, or one per image.
    out : ndarray, shape (N, 784), optional
        Where to write (may not be ``X``).

    Returns
    -------
    ndarray, same shape and dtype as ``X``
    """
    X, single = _as_images(X)
    n = X.shape[0]
    dx = _per_image(dx, n, np.intp)
    dy = _per_image(dy, n, np.intp)
    if out is None:
        out = np.zeros_like(X)
    else:
        if out is X:
            raise ValueError("shift_images cannot write into its input")
        out[...] = 0
    src = X.reshape(n, SIDE, SIDE)
    dst = out.reshape(n, SIDE, SIDE)
    # one slice copy per distinct shift (at most (2k+1)**2 of them), each over all its images at once
    codes, inverse = np.unique(dx * 4 * SIDE + dy, return_inverse=True)
    for g in range(len(codes)):
        sel = slice(None) if len(codes) == 1 else np.flatnonzero(inverse == g)
        first = np.flatnonzero(inverse == g)[0]
        a, b = int(dx[first]), int(dy[first])
        if abs(a) >= SIDE or abs(b) >= SIDE:
            continue
        r0, r1 = max(0, b), min(SIDE, SIDE + b)
        c0, c1 = max(0, a), min(SIDE, SIDE + a)
        dst[sel, r0:r1, c0:c1] = src[sel, r0 - b : r1 - b, c0 - a : c1 - a]
    return out[0] if single else out


def warp_images(
    X: np.ndarray,
    angle_deg: float | np.ndarray = 0.0,
    scale: float | np.ndarray = 1.0,
    dx: float | np.ndarray = 0.0,
    dy: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Rotate each image by ``angle_deg`` (counter-clockwise), scale it by ``scale`` about the
    centre, then shift it by ``(dx, dy)`` pixels (may be fractional); bilinear, blank fill.

    Parameters
    ----------
    X : ndarray, shape (N, 784) or (784,)
    angle_deg, scale, dx, dy : float or ndarray, shape (N,)

    Returns
    -------
    ndarray, same shape and dtype as ``X`` (values stay within the input's range)
    """
    X, single = _as_images(X)
    n = X.shape[0]
    t = np.deg2rad(_per_image(angle_deg, n, np.float64))[:, None]
    s = _per_image(scale, n, np.float64)[:, None]
    if np.any(s <= 0):
        raise ValueError("scale must be positive")
    ox = _C[None, :] - CENTRE - _per_image(dx, n, np.float64)[:, None]
    oy = _R[None, :] - CENTRE - _per_image(dy, n, np.float64)[:, None]
    # inverse map: output (x, y) relative to the centre comes from R(-t) (x, y) / s. On screen y points
    # down, so a counter-clockwise turn by t maps (x, y) to (x cos t + y sin t, -x sin t + y cos t).
    cos, sin = np.cos(t), np.sin(t)
    sx = (ox * cos - oy * sin) / s + CENTRE
    sy = (ox * sin + oy * cos) / s + CENTRE
    return _bilinear(X, sx, sy, single)


def _bilinear(X: np.ndarray, sx: np.ndarray, sy: np.ndarray, single: bool) -> np.ndarray:
    n = X.shape[0]
    side = SIDE + 2 * _PAD
    padded = np.zeros((n, side, side), X.dtype)
    padded[:, _PAD : _PAD + SIDE, _PAD : _PAD + SIDE] = X.reshape(n, SIDE, SIDE)
    np.clip(sx, -_PAD, SIDE, out=sx)
    np.clip(sy, -_PAD, SIDE, out=sy)
    x0 = np.floor(sx)
    y0 = np.floor(sy)
    fx = (sx - x0).astype(X.dtype)
    fy = (sy - y0).astype(X.dtype)
    base = (y0.astype(np.intp) + _PAD) * side + (x0.astype(np.intp) + _PAD) + (np.arange(n) * side * side)[:, None]
    flat = padded.ravel()
    v00 = flat[base]
    v01 = flat[base + 1]
    v10 = flat[base + side]
    v11 = flat[base + side + 1]
    top = v00 + fx * (v01 - v00)
    bottom = v10 + fx * (v11 - v10)
    res = top + fy * (bottom - top)
    return res[0] if single else res


def rotate_images(X: np.ndarray, angle_deg: float | np.ndarray) -> np.ndarray:
    """Rotate each image counter-clockwise by ``angle_deg`` about the centre (bilinear)."""
    return warp_images(X, angle_deg=angle_deg)


def scale_images(X: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """Scale each image by ``scale`` about the centre (bilinear; > 1 enlarges)."""
    return warp_images(X, scale=scale)


def random_directions(rng: np.random.Generator, n: int, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Whole-pixel offsets ``(dx, dy)`` (int arrays, shape (n,)) of length about ``distance`` in uniformly
    random directions: ``round(distance * (cos phi, sin phi))``."""
    phi = rng.uniform(0.0, 2 * np.pi, n)
    return (np.rint(distance * np.cos(phi)).astype(np.intp), np.rint(distance * np.sin(phi)).astype(np.intp))


def _accuracy(net: Network, X: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(net.predict(X) == labels))


def iter_shift_curve(
    net: Network,
    X: np.ndarray,
    labels: np.ndarray,
    shifts: Iterable[int] = range(9),
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, float]]:
    """Yield ``(shift, accuracy)``: ``net``'s accuracy on ``X`` with every image moved ``shift`` pixels in
    its own random direction (one direction per image, drawn once from ``seed``, for all shifts)."""
    X, _ = _as_images(X)
    labels = np.asarray(labels)
    phi = np.random.default_rng(seed).uniform(0.0, 2 * np.pi, len(X))
    cos, sin = np.cos(phi), np.sin(phi)
    for s in shifts:
        if stop is not None and stop():
            return
        dx = np.rint(s * cos).astype(np.intp)
        dy = np.rint(s * sin).astype(np.intp)
        yield int(s), _accuracy(net, shift_images(X, dx, dy), labels)


def iter_rotation_curve(
    net: Network,
    X: np.ndarray,
    labels: np.ndarray,
    angles: Iterable[float] = range(0, 46, 5),
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[float, float]]:
    """Yield ``(angle, accuracy)``: ``net``'s accuracy on ``X`` with every image rotated by ``angle``
    degrees, clockwise or counter-clockwise at random per image (drawn once from ``seed``)."""
    X, _ = _as_images(X)
    labels = np.asarray(labels)
    sense = np.where(np.random.default_rng(seed).random(len(X)) < 0.5, -1.0, 1.0)
    for a in angles:
        if stop is not None and stop():
            return
        Xr = X if a == 0 else rotate_images(X, sense * a)
        yield float(a), _accuracy(net, Xr, labels)


def shift_curve(
    net: Network, X: np.ndarray, labels: np.ndarray, shifts: Iterable[int] = range(9), seed: int = 0
) -> np.ndarray:
    """Accuracies of :func:`iter_shift_curve`, shape ``(len(shifts),)``."""
    return np.array([acc for _, acc in iter_shift_curve(net, X, labels, shifts, seed)])


def rotation_curve(
    net: Network, X: np.ndarray, labels: np.ndarray, angles: Iterable[float] = range(0, 46, 5), seed: int = 0
) -> np.ndarray:
    """Accuracies of :func:`iter_rotation_curve`, shape ``(len(angles),)``."""
    return np.array([acc for _, acc in iter_rotation_curve(net, X, labels, angles, seed)])


def rotation_tables(angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear rotation of one angle as a lookup: ``(idx (4, 784), w (4, 784))`` such that the rotated
    image is ``sum_j w[j] * x[idx[j]]``, with ``idx == 784`` for a corner outside the frame (a blank
    pixel) and ``w`` in float64. Agrees with :func:`rotate_images`."""
    t = np.deg2rad(float(angle_deg))
    ox = _C - CENTRE
    oy = _R - CENTRE
    sx = ox * np.cos(t) - oy * np.sin(t) + CENTRE
    sy = ox * np.sin(t) + oy * np.cos(t) + CENTRE
    x0 = np.floor(sx)
    y0 = np.floor(sy)
    fx, fy = sx - x0, sy - y0
    x0 = x0.astype(np.intp)
    y0 = y0.astype(np.intp)
    idx, w = [], []
    for ddy, ddx, wt in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        xx, yy = x0 + ddx, y0 + ddy
        inside = (xx >= 0) & (xx < SIDE) & (yy >= 0) & (yy < SIDE)
        idx.append(np.where(inside, yy * SIDE + xx, N_PIX))
        w.append(np.where(inside, wt, 0.0))
    return np.array(idx), np.array(w)


class Augmenter:
    """Moves each mini-batch at random: "train on moved digits".

    Each image is shifted by whole pixels, ``dx`` and ``dy`` independently uniform in
    ``-shift_px..shift_px``, and, with ``rotate_deg`` > 0, rotated first by an angle drawn uniformly
    from ``2 * ceil(rotate_deg) + 1`` evenly spaced angles in ``[-rotate_deg, rotate_deg]`` (about 1 degree
    apart; bilinear). Rotation and shift are composed into lookup tables made once, so a batch costs one
    gather (shift only) or four and a weighted sum (with rotation). Labels are not touched.

    Parameters
    ----------
    shift_px : int
    rotate_deg : float
    rng : numpy.random.Generator
    """

    def __init__(self, shift_px: int = 0, rotate_deg: float = 0.0, rng: np.random.Generator | None = None) -> None:
        if shift_px < 0 or rotate_deg < 0:
            raise ValueError("shift and rotation ranges must be >= 0")
        self.shift_px = int(shift_px)
        self.rotate_deg = float(rotate_deg)
        self.rng = rng if rng is not None else np.random.default_rng()
        k = self.shift_px
        # every shift's source-index table, once: a batch then costs one gather
        grid = np.arange(-k, k + 1)
        ddx, ddy = np.meshgrid(grid, grid)
        self._tables = shift_index(ddx.ravel(), ddy.ravel())  # (n_shifts, 784)
        self._n_shifts = len(self._tables)
        self._pad: dict = {}
        self._choices = np.zeros(0, np.intp)  # shift choices drawn ahead, in chunks (one rng call)
        self._last = np.zeros(0, np.intp)
        self.last_angles = np.zeros(0)  # degrees, per image of the last batch
        if self.rotate_deg > 0:
            self.angles = np.linspace(-self.rotate_deg, self.rotate_deg, 2 * int(np.ceil(self.rotate_deg)) + 1)
            tabs = [rotation_tables(a) for a in self.angles]
            n_a = len(self.angles)
            # one extra column: a blank source pixel stays blank (index 784, weight 0)
            self._rot_idx = np.full((n_a, 4, N_PIX + 1), N_PIX, np.intp)  # taken from flat, in C order
            self._rot_w = np.zeros((n_a, 4, N_PIX + 1), np.float32)
            for i, (idx, w) in enumerate(tabs):
                self._rot_idx[i, :, :N_PIX] = idx
                self._rot_w[i, :, :N_PIX] = w
        self._identity = np.arange(N_PIX)[None, :]

    @property
    def last_shifts(self) -> np.ndarray:
        """``(B, 2)``: ``(dx, dy)`` of each image of the last batch."""
        k = self.shift_px
        c = self._last
        return np.stack([c % (2 * k + 1) - k, c // (2 * k + 1) - k], axis=1)

    def _draw(self, n: int) -> np.ndarray:
        if len(self._choices) < n:
            self._choices = np.concatenate([self._choices, self.rng.integers(0, self._n_shifts, max(4096, n))])
        c, self._choices = self._choices[:n], self._choices[n:]
        return c

    def __call__(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Move the images of ``X`` (B, 784); writes into ``out`` (may be ``X``) and returns it."""
        X, _ = _as_images(X)
        n = X.shape[0]
        if out is None:
            out = np.empty_like(X)
        if self.rotate_deg > 0:
            return self._rotate_and_shift(X, out)
        if self.shift_px == 0:
            if X is not out:
                out[...] = X
            self._last = np.zeros(n, np.intp)
            return out
        src = X
        key = (n, X.dtype)
        pad = self._pad.get(key)
        if pad is None:
            if len(self._pad) > 4:
                self._pad.clear()
            offsets = (np.arange(n) * (N_PIX + 1))[:, None]
            # per batch size: a zero-padded copy buffer, and (when it fits in 16 MiB) every shift's table
            # already offset to each row, so a batch is two gathers and nothing else
            ahead = self._tables[None, :, :] + offsets[:, :, None] if n * self._n_shifts * N_PIX <= 2 << 20 else None
            pad = self._pad[key] = (np.zeros((n, N_PIX + 1), X.dtype), ahead, offsets, np.arange(n))
        buf, ahead, offsets, rows = pad
        buf[:, :N_PIX] = src
        choice = self._last = self._draw(n)
        if ahead is not None:
            idx = ahead[rows, choice]
        else:
            idx = self._tables[choice]
            idx += offsets
        np.take(buf.ravel(), idx, out=out)
        return out

    def _rotate_and_shift(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        a = self.rng.integers(0, len(self.angles), n)
        self.last_angles = self.angles[a]
        # rotate: each image's angle table (whole rows, a plain copy), one gather of its 4 corners, a weighted sum
        idx = self._rot_idx[a]  # (n, 4, 785)
        idx += (np.arange(n) * (N_PIX + 1))[:, None, None]
        buf = np.zeros((n, N_PIX + 1), X.dtype)
        buf[:, :N_PIX] = X
        vals = np.take(buf.ravel(), idx)
        vals *= self._rot_w[a]
        rotated = vals.sum(axis=1)  # (n, 785), the last column blank
        if not self.shift_px:
            self._last = np.zeros(n, np.intp)
            out[...] = rotated[:, :N_PIX]
            return out
        choice = self._last = self._draw(n)
        shift = self._tables[choice] + (np.arange(n) * (N_PIX + 1))[:, None]
        np.take(rotated.ravel(), shift, out=out)
        return out
