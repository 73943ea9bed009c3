"""Planes through parameter space: their directions, and projecting points and vectors onto them.

A :class:`Plane` is a centre ``theta`` and two directions ``d1, d2``. Directions come from the recorded
descent path (PCA, Li et al. 2018), from random filter-normalised vectors, or from two single
parameters. Points are projected onto the plane by least squares.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitviz.core.network import Network

PLANE_KINDS = ("pca", "random", "params")
_PCA_MAX_ROWS = 1000


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane ``centre + a*d1 + b*d2`` in parameter space.

    Attributes
    ----------
    centre, d1, d2 : ndarray, shape (P,)
        float64, read-only copies.
    kind : {"pca", "random", "params"}
    label1, label2 : str
        Axis names for the two directions (e.g. ``"PC1"``, ``"w1[3,7]"``).
    explained : tuple of float or None
        For PCA: the fraction of the path's squared distance from the centre along d1 and d2.
    """

    centre: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    kind: str
    label1: str
    label2: str
    explained: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in PLANE_KINDS:
            raise ValueError(f"unknown plane kind {self.kind!r}; choose from {', '.join(PLANE_KINDS)}")
        arrays = [_frozen_vector(getattr(self, name), name) for name in ("centre", "d1", "d2")]
        if not arrays[0].shape == arrays[1].shape == arrays[2].shape:
            raise ValueError(f"centre, d1, d2 must have one shape, got {[a.shape for a in arrays]}")
        for name, a in zip(("centre", "d1", "d2"), arrays):
            object.__setattr__(self, name, a)

    @property
    def basis(self) -> np.ndarray:
        """``[d1 d2]`` as columns, shape ``(P, 2)``."""
        return np.stack([self.d1, self.d2], axis=1)

    @cached_property
    def _qr(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """Reduced QR of :attr:`basis` (computed once per plane): ``Q (P, 2)``, ``T (2, 2)``, and
        whether ``T`` is well conditioned enough to solve with."""
        Q, T = np.linalg.qr(self.basis)
        diag = np.abs(np.diag(T))
        return Q, T, bool(diag.min() > 1e-12 * max(diag.max(), 1e-300))

    def point(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The parameter vector ``centre + a*d1 + b*d2`` (float64, shape ``(P,)``)."""
        return self.centre + a * self.d1 + b * self.d2


def _frozen_vector(v: np.ndarray, name: str) -> np.ndarray:
    v = np.array(v, dtype=np.float64)  # always a copy
    if v.ndim != 1:
        raise ValueError(f"{name} must be a flat vector, got shape {v.shape}")
    v.flags.writeable = False
    return v


# directions


def pca_directions(
    path: np.ndarray, centre: np.ndarray, rng: np.random.Generator | None = None, max_rows: int = _PCA_MAX_ROWS
) -> Plane:
    """The plane of the path's two principal directions through ``centre`` (Li et al. 2018).

    PCA of the rows of ``path - centre`` (not mean-centred: the plane passes through ``centre``,
    usually the latest point), via the eigenvectors of the small ``K x K`` Gram matrix.

    Parameters
    ----------
    path : ndarray, shape (K, P)
        Recorded parameter vectors, oldest first. Non-finite rows are ignored. If K exceeds
        ``max_rows``, evenly spaced rows (always including the first and last) are used.
    centre : ndarray, shape (P,)
    rng : np.random.Generator, optional
        Source of a fill-in direction when the path spans fewer than two dimensions
        (K < 2, or a straight line). Default: a fixed seed, so the result is reproducible.

    Returns
    -------
    Plane
        ``d1, d2`` orthonormal. Signs are chosen so that the first path point has coordinates <= 0.
        ``explained`` gives each direction's share of ``||path - centre||_F**2`` (0 for a fill-in).
        Never contains NaN.
    """
    centre = np.asarray(centre, dtype=np.float64)
    P = centre.shape[0]
    path = np.asarray(path, dtype=np.float64)
    if path.ndim == 1:
        path = path[None, :]
    if path.size == 0:
        path = np.zeros((0, P))
    if path.ndim != 2 or path.shape[1] != P:
        raise ValueError(f"path must have shape (K, {P}), got {path.shape}")
    path = path[np.all(np.isfinite(path), axis=1)]
    if path.shape[0] > max_rows:
        path = path[np.unique(np.linspace(0, path.shape[0] - 1, max_rows).round().astype(int))]
    M = path - centre
    dirs: list[np.ndarray] = []
    explained: list[float] = []
    if M.shape[0] > 0:
        gram = M @ M.T
        evals, evecs = np.linalg.eigh(gram)
        evals, evecs = evals[::-1], evecs[:, ::-1]
        total = float(np.trace(gram))
        for k in range(min(2, len(evals))):
            # the Gram matrix's eigenvalues are accurate to ~K * eps * lambda_max; smaller ones are noise
            if total <= 0 or evals[k] <= 1e-10 * evals[0] or evals[k] <= 0:
                break
            u = M.T @ evecs[:, k]
            for d in dirs:  # re-orthogonalise: the Gram trick loses a little orthogonality
                u -= (d @ u) * d
            norm = np.linalg.norm(u)
            if not norm > 0:
                break
            u /= norm
            # orient so that the path's start lies at a negative coordinate (stable between refreshes)
            s = M[0] @ u
            if s > 0 or (s == 0 and u[np.argmax(np.abs(u))] < 0):
                u = -u
            dirs.append(u)
            explained.append(float(evals[k] / total))
    labels = ["PC1", "PC2"][: len(dirs)]
    if len(dirs) < 2:
        rng = np.random.default_rng(0) if rng is None else rng
        while len(dirs) < 2:
            dirs.append(_random_orthonormal(rng, P, dirs))
            explained.append(0.0)
            labels.append(f"random (path has {len(labels)} PC{'s' if len(labels) != 1 else ''})")
    return Plane(centre, dirs[0], dirs[1], "pca", labels[0], labels[1], (explained[0], explained[1]))


def _random_orthonormal(rng: np.random.Generator, P: int, others: list[np.ndarray]) -> np.ndarray:
    for _ in range(100):
        u = rng.standard_normal(P)
        for d in others:
            u -= (d @ u) * d
        norm = np.linalg.norm(u)
        if norm > 1e-8:
            return u / norm
    raise ValueError(f"cannot find a direction orthogonal to {len(others)} others in {P} dimensions")


def random_directions(net: Network, centre: np.ndarray, rng: np.random.Generator) -> Plane:
    """Two random Gaussian directions, filter-normalised per neuron (Li et al. 2018).

    Each neuron's slice of a direction (its row of ``W``, i.e. its incoming weights) is rescaled to the
    norm of that neuron's weight row in ``centre``; biases get direction 0 (loss-landscape's
    ``ignore='biasbn'``). So ``a = 1`` moves every neuron by about its own weights' size.

    Parameters
    ----------
    net : Network
        Supplies the layout.
    centre : ndarray, shape (P,)
    rng : np.random.Generator
    """
    centre = np.asarray(centre, dtype=np.float64)
    layout = net.layout
    dirs = []
    for _ in range(2):
        d = rng.standard_normal(layout.size)
        for (w_d, b_d), (w_c, _) in zip(layout.views(d), layout.views(centre)):
            d_norm = np.linalg.norm(w_d, axis=1, keepdims=True)
            w_d *= np.linalg.norm(w_c, axis=1, keepdims=True) / np.maximum(d_norm, 1e-300)
            b_d[...] = 0.0
        dirs.append(d)
    return Plane(centre, dirs[0], dirs[1], "random", "random 1", "random 2", None)


def parameter_directions(net: Network, centre: np.ndarray, i: int, j: int) -> Plane:
    """The plane that moves only parameters ``i`` and ``j`` (flat indices): unit vectors ``e_i, e_j``."""
    P = net.layout.size
    i, j = int(i), int(j)
    if not (0 <= i < P and 0 <= j < P):
        raise IndexError(f"parameter indices must be in [0, {P}), got {i}, {j}")
    if i == j:
        raise ValueError("the two parameters must differ")
    d1 = np.zeros(P)
    d2 = np.zeros(P)
    d1[i] = 1.0
    d2[j] = 1.0
    return Plane(centre, d1, d2, "params", net.layout.describe(i), net.layout.describe(j), None)


# projections


def project(plane: Plane, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coordinates of parameter vectors in the plane, and their distance from it.

    Parameters
    ----------
    plane : Plane
    thetas : ndarray, shape (K, P) or (P,)

    Returns
    -------
    coords : ndarray, shape (K, 2)
        ``(a, b)`` minimising ``||theta - (centre + a*d1 + b*d2)||``.
    distance : ndarray, shape (K,)
        That minimum: how far each theta lies off the plane (0 for a point in it).
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    if thetas.shape[1] != plane.centre.shape[0]:
        raise ValueError(f"thetas must have shape (K, {plane.centre.shape[0]}), got {thetas.shape}")
    if thetas.shape[0] == 0:
        return np.zeros((0, 2)), np.zeros(0)
    R = thetas - plane.centre  # (K, P)
    A = plane.basis
    Q, T, solvable = plane._qr  # reduced: Q (P, 2) orthonormal, T (2, 2) upper triangular
    if solvable:
        inplane = R @ Q  # (K, 2): coordinates in the orthonormal basis Q
        coords = np.linalg.solve(T, inplane.T).T
    else:  # d1, d2 (nearly) parallel or zero: minimum-norm least squares
        coords = np.linalg.lstsq(A, R.T, rcond=None)[0].T
    R -= coords @ A.T  # the residual, formed explicitly: accurate even for points very near the plane
    return np.ascontiguousarray(coords), np.linalg.norm(R, axis=1)


def projected_gradient(plane: Plane, grad: np.ndarray) -> tuple[float, float]:
    """Least-squares components ``(ga, gb)`` of a vector in the plane: ``grad ~ ga*d1 + gb*d2``.

    This projects a vector, not a point (the centre is not subtracted), so a step ``theta - eta*grad``
    moves the projected point by ``-eta*(ga, gb)``. For the slope of the drawn surface instead use
    :func:`surface_slope`.
    """
    grad = np.asarray(grad, dtype=np.float64)
    c, *_ = np.linalg.lstsq(plane.basis, grad, rcond=None)
    return float(c[0]), float(c[1])


def in_plane_share(plane: Plane, grad: np.ndarray) -> float:
    """How much of a vector lies in the plane: ``||ga*d1 + gb*d2|| / ||grad||`` (NaN for a zero vector).

    ``(ga, gb)`` are :func:`projected_gradient`'s components; 1 means the plane contains the vector.
    """
    grad = np.asarray(grad, dtype=np.float64)
    norm = float(np.sqrt(grad @ grad))
    if not norm > 0:
        return float("nan")
    ga, gb = projected_gradient(plane, grad)
    v = ga * plane.d1 + gb * plane.d2
    return float(np.sqrt(v @ v)) / norm


def surface_slope(plane: Plane, grad: np.ndarray) -> tuple[float, float]:
    """The surface's partial derivatives ``(dC/da, dC/db) = (d1 . grad, d2 . grad)`` (chain rule)."""
    grad = np.asarray(grad, dtype=np.float64)
    return float(plane.d1 @ grad), float(plane.d2 @ grad)


def grid_axes(path_coords: np.ndarray, n: int, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Square-ish grid axes covering the projected path and the centre ``(0, 0)``.

    Both axes get the same span (the larger of the two, so distances look right at equal aspect),
    widened by ``margin`` times that span on each side. With no usable path, both run over ``[-1, 1]``.

    Parameters
    ----------
    path_coords : ndarray, shape (K, 2)
    n : int
        Points per axis.

    Returns
    -------
    alphas, betas : ndarray, shape (n,)
    """
    n = int(n)
    if n < 1:
        raise ValueError("need at least one grid point per axis")
    pts = np.asarray(path_coords, dtype=np.float64).reshape(-1, 2)
    pts = np.vstack([pts[np.all(np.isfinite(pts), axis=1)], np.zeros((1, 2))])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid = (lo + hi) / 2
    half = float(np.max(hi - lo)) / 2
    if not half > 1e-12 * max(1.0, float(np.max(np.abs(mid)))):
        mid, half = np.zeros(2), 1.0
    else:
        half *= 1.0 + 2.0 * margin
    return (np.linspace(mid[0] - half, mid[0] + half, n), np.linspace(mid[1] - half, mid[1] + half, n))
