"""The cost landscape: the network's cost on a 2-D plane (or a 1-D line) through parameter space.

A :class:`Plane` is a centre ``theta`` and two directions ``d1, d2``; the surface is
``C(centre + a*d1 + b*d2)`` over a grid of ``(a, b)`` (tomgoldstein/loss-landscape, Li et al. 2018).
Directions come from the recorded descent path (PCA), from random filter-normalised vectors, or from
two single parameters. Snapshots are projected onto the plane by least squares, and the 1-D cost along
the straight line between two parameter vectors gives Goodfellow et al.'s (2015) linear interpolation.

Why the grid is fast: the first layer dominates (784 x 16 of 13,002 parameters), and its weighted sums
are linear in the parameters, ``X (W + a D + b E)^T = X W^T + a X D^T + b X E^T``. Those three products
are computed once per batch; per grid point the first layer then costs one tiny matrix product. The small
remaining layers of many grid points go through one batched ``np.matmul`` per layer. Inside, the data is
feature-major, ``(G points, features, examples)``, so that reductions over the 10 outputs are fast.
Two algebraic folds remove whole passes over the data (each a textbook identity, applied exactly):

* ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``: the 0.5s are folded into the next layer's weights and bias, so
  a sigmoid layer costs a single ``tanh`` pass, and the quadratic cost becomes
  ``0.25 * sum (tanh(z/2) - (2y - 1))**2``.
* biases ride along as an extra constant row whose activation is exactly 1 (``tanh(20) == 1`` in float32
  and float64, ``relu(1) == 1``), so no separate broadcast add is needed.

The grid is computed in the network's dtype (float32 is fast) and returned as float64. Nothing here reads
or writes ``net.theta``: only the network's layout, activation, cost and dtype are used, so a landscape can
be computed from a snapshot while training continues in another thread.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from digitviz.core.network import Network

PLANE_KINDS = ("pca", "random", "params")

# a = alpha + beta * g(gamma * z) for each hidden activation, with g(const) == 1 exactly.
# The factors alpha, beta are folded into the next layer; gamma into this layer's weights and bias.
_HIDDEN = {
    "sigmoid": (0.5, 0.5, 0.5, "tanh", 20.0),
    "tanh": (0.0, 1.0, 1.0, "tanh", 20.0),
    "relu": (0.0, 1.0, 1.0, "relu", 1.0),
}
_BLOCK_EXAMPLES = 1024  # examples per block: a block's buffers stay within a few MB (L2/L3-sized)
_BLOCK_POINT_EXAMPLES = 16384  # default grid points per chunk x examples per block
_PCA_MAX_ROWS = 1000


class Cancelled(Exception):
    """Raised by :func:`cost_grid` (and friends) when their ``cancel()`` callback returns True."""


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

    def __post_init__(self):
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

    def point(self, a, b) -> np.ndarray:
        """The parameter vector ``centre + a*d1 + b*d2`` (float64, shape ``(P,)``)."""
        return self.centre + a * self.d1 + b * self.d2


def _frozen_vector(v, name):
    v = np.array(v, dtype=np.float64)  # always a copy
    if v.ndim != 1:
        raise ValueError(f"{name} must be a flat vector, got shape {v.shape}")
    v.flags.writeable = False
    return v


# directions


def pca_directions(path, centre, rng: np.random.Generator | None = None, max_rows=_PCA_MAX_ROWS) -> Plane:
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
    dirs, explained = [], []
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


def _random_orthonormal(rng, P, others):
    for _ in range(100):
        u = rng.standard_normal(P)
        for d in others:
            u -= (d @ u) * d
        norm = np.linalg.norm(u)
        if norm > 1e-8:
            return u / norm
    raise ValueError(f"cannot find a direction orthogonal to {len(others)} others in {P} dimensions")


def random_directions(net: Network, centre, rng: np.random.Generator) -> Plane:
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


def parameter_directions(net: Network, centre, i: int, j: int) -> Plane:
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


def project(plane: Plane, thetas) -> tuple[np.ndarray, np.ndarray]:
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
    Q, T = np.linalg.qr(A)  # reduced: Q (P, 2) orthonormal, T (2, 2) upper triangular
    diag = np.abs(np.diag(T))
    if diag.min() > 1e-12 * max(diag.max(), 1e-300):
        inplane = R @ Q  # (K, 2): coordinates in the orthonormal basis Q
        coords = np.linalg.solve(T, inplane.T).T
    else:  # d1, d2 (nearly) parallel or zero: minimum-norm least squares
        coords = np.linalg.lstsq(A, R.T, rcond=None)[0].T
    R -= coords @ A.T  # the residual, formed explicitly: accurate even for points very near the plane
    return np.ascontiguousarray(coords), np.linalg.norm(R, axis=1)


def projected_gradient(plane: Plane, grad) -> tuple[float, float]:
    """Least-squares components ``(ga, gb)`` of a vector in the plane: ``grad ~ ga*d1 + gb*d2``.

    This projects a vector, not a point (the centre is not subtracted), so a step ``theta - eta*grad``
    moves the projected point by ``-eta*(ga, gb)``. For the slope of the drawn surface instead use
    :func:`surface_slope`.
    """
    grad = np.asarray(grad, dtype=np.float64)
    c, *_ = np.linalg.lstsq(plane.basis, grad, rcond=None)
    return float(c[0]), float(c[1])


def surface_slope(plane: Plane, grad) -> tuple[float, float]:
    """The surface's partial derivatives ``(dC/da, dC/db) = (d1 . grad, d2 . grad)`` (chain rule)."""
    grad = np.asarray(grad, dtype=np.float64)
    return float(plane.d1 @ grad), float(plane.d2 @ grad)


def grid_axes(path_coords, n: int, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
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


# costs


class _Engine:
    """Costs of many parameter vectors of one network on one fixed batch ``(X, Y)``.

    The batch is cut into blocks of about ``_BLOCK_EXAMPLES`` examples; all arrays are feature-major
    per block. Layer ``l`` of G points is a stack of augmented matrices ``(G, n_out [+1], n_in [+1])``
    holding the folded weights, the folded bias as an extra column, and (hidden layers) a constant row.
    """

    def __init__(self, net: Network, X, Y, block_examples=_BLOCK_EXAMPLES):
        self.layout = net.layout
        self.sizes = net.layout.sizes
        self.dtype = net.dtype
        self.cost_name = net.cost_name
        self.L = net.layout.n_layers
        X = np.asarray(X)
        Y = np.asarray(Y)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"expected inputs of shape (N, {self.sizes[0]}), got {X.shape}")
        if Y.shape != (X.shape[0], self.sizes[-1]):
            raise ValueError(f"expected targets of shape ({X.shape[0]}, {self.sizes[-1]}), got {Y.shape}")
        if X.shape[0] == 0:
            raise ValueError("need at least one example")
        self.X = np.asarray(X, self.dtype)
        self.N = X.shape[0]
        alpha, beta, gamma, g, const = _HIDDEN[net.activation]
        self.act = g
        self.const = const
        # gamma per layer (scale of its pre-activation), and (alpha, beta) of the activation it reads
        self.gammas = [gamma] * (self.L - 1) + [0.5 if self.cost_name == "quadratic" else 1.0]
        self.in_ab = [(0.0, 1.0)] + [(alpha, beta)] * (self.L - 1)
        # rows per layer's output: + 1 constant row for hidden layers
        self.rows = [n + 1 for n in self.sizes[1:-1]] + [self.sizes[-1]]
        nblocks = max(1, math.ceil(self.N / block_examples))
        bsize = math.ceil(self.N / nblocks)
        self.blocks = [(s, min(s + bsize, self.N)) for s in range(0, self.N, bsize)]
        Y = np.asarray(Y, self.dtype)
        self.tiny_log = float(np.log(np.finfo(self.dtype).tiny))
        self.targets = []  # per block, feature-major and flattened to match (G, K * nb)
        for s, e in self.blocks:
            Yt = np.ascontiguousarray(Y[s:e].T)
            if self.cost_name == "quadratic":
                self.targets.append(((2.0 * Yt - 1.0).ravel(),))  # sigmoid = 0.5 + 0.5 tanh
            else:
                self.targets.append((Yt.ravel(), Yt.sum(axis=0)))
        self._buffers = {}

    # parameters -> augmented layer matrices

    def layer_matrix(self, raw, l, offset=0):
        """Augmented matrices of layer ``l`` for G points, from raw parameters ``raw`` (G, ...).

        ``raw`` holds each point's flat parameters starting at flat index ``offset``. Layer 0 returns
        ``(A, bias)`` with ``A`` shape ``(G, rows, n_in)`` (its input X has no constant row); other
        layers return ``A`` shape ``(G, rows, n_in + 1)`` with the bias in the last column.
        """
        ws, bs = self.layout.slices[l]
        n_in, n_out = self.sizes[l], self.sizes[l + 1]
        G = raw.shape[0]
        W = raw[:, ws.start - offset:ws.stop - offset].reshape(G, n_out, n_in)
        b = raw[:, bs.start - offset:bs.stop - offset]
        alpha, beta = self.in_ab[l]
        gamma = self.gammas[l]
        # z = W (alpha + beta g) + b = (beta W) g + (b + alpha W 1), then scaled by gamma
        bias = gamma * (b + alpha * W.sum(axis=2)) if alpha else gamma * b
        hidden = l < self.L - 1
        A = np.zeros((G, self.rows[l], n_in + (l > 0)), self.dtype)
        A[:, :n_out, :n_in] = (gamma * beta) * W
        if l == 0:
            bias_full = np.zeros((G, self.rows[0]), self.dtype)
            bias_full[:, :n_out] = bias
            if hidden:
                bias_full[:, n_out] = self.const
            return A, bias_full
        A[:, :n_out, n_in] = bias
        if hidden:
            A[:, n_out, n_in] = self.const
        return A

    def first_layer_stacks(self, vecs):
        """Per block, ``(m, rows0 * nb)``: each vector's first-layer sums ``gamma (W X^T + b)`` with the
        constant row set for the first vector only (the centre, whose coefficient is always 1)."""
        A, bias = self.layer_matrix(np.asarray(vecs, np.float64), 0)
        if self.L > 1:
            bias[1:, -1] = 0.0  # the constant row belongs to the centre only
        m = A.shape[0]
        stacks = []
        for s, e in self.blocks:
            S = np.matmul(A, self.X[s:e].T)  # (m, rows0, nb)
            S += bias[:, :, None]
            stacks.append(S.reshape(m, -1))
        return stacks

    # the forward pass of G points over all blocks

    def _buffer(self, key, shape):
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < shape[0] or buf.shape[1:] != shape[1:]:
            buf = self._buffers[key] = np.empty(shape, self.dtype)
        return buf[: shape[0]]

    def run(self, G, first_layer, tails):
        """Average cost of each of G points: shape (G,) float64.

        ``first_layer(bi, out)`` writes layer 0's scaled sums for block ``bi`` into ``out``
        ``(G, rows0, nb)``; ``tails[l - 1]`` is layer l's stack of augmented matrices.
        """
        total = np.zeros(G)
        for bi, (s, e) in enumerate(self.blocks):
            nb = e - s
            h = self._buffer(("h", 0, nb), (G, self.rows[0], nb))
            first_layer(bi, h)
            for l in range(1, self.L):
                self._activate(h)
                out = self._buffer(("h", l, nb), (G, self.rows[l], nb))
                np.matmul(tails[l - 1], h, out=out)
                h = out
            total += self._output_cost(h, bi)
        return total / self.N

    def _activate(self, h):
        if self.act == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0.0, out=h)

    def _output_cost(self, h, bi):
        """Summed cost over the block for each point; ``h`` (G, K, nb) holds gamma * z (overwritten)."""
        G, K, nb = h.shape
        flat = h.reshape(G, K * nb)
        if self.cost_name == "quadratic":
            (c,) = self.targets[bi]
            np.tanh(h, out=h)
            flat -= c  # = 2 (a - y)
            sq = np.matmul(flat[:, None, :], flat[:, :, None]).reshape(G)
            return 0.25 * sq.astype(np.float64)
        Yt, sY = self.targets[bi]
        m = self._buffer(("m", nb), (G, nb))
        np.max(h, axis=1, out=m)
        h -= m[:, None, :]  # log-softmax before normalisation: z - max
        E = self._buffer(("E", nb), (G, K, nb))
        np.exp(h, out=E)
        logs = self._buffer(("s", nb), (G, nb))
        np.sum(E, axis=1, out=logs)
        np.log(logs, out=logs)
        # cost = -sum y log max(softmax, tiny) as in network.cost_value; without any clamping it is
        # sum_n (sum_k y) log s - sum y (z - max): two non-negative terms, no cancellation
        if float(h.min()) - float(logs.max()) >= self.tiny_log:
            return (logs @ sY).astype(np.float64) - (flat @ Yt).astype(np.float64)
        h -= logs[:, None, :]
        np.maximum(h, self.tiny_log, out=h)
        return -(flat @ Yt).astype(np.float64)


def _default_chunk(eng: _Engine) -> int:
    nb = eng.blocks[0][1] - eng.blocks[0][0]
    return max(1, _BLOCK_POINT_EXAMPLES // nb)


def _affine_costs(net, vecs, coefs, X, Y, *, progress=None, cancel=None, chunk_points=None,
                  progress_offset=0, progress_total=None):
    """Costs at ``coefs @ vecs`` for each row of ``coefs`` (G, m) whose first column is 1.

    ``vecs`` (m, P): the centre first, then directions. Returns float64 shape (G,).
    """
    vecs = np.asarray(vecs, np.float64)
    coefs = np.asarray(coefs, np.float64)
    eng = _Engine(net, X, Y)
    n_points = coefs.shape[0]
    total = n_points if progress_total is None else progress_total
    stacks = eng.first_layer_stacks(vecs)
    offset = net.layout.slices[1][0].start if eng.L > 1 else net.layout.size
    tail_vecs = vecs[:, offset:]
    chunk = int(chunk_points) if chunk_points else _default_chunk(eng)
    if chunk < 1:
        raise ValueError("chunk_points must be positive")
    out = np.empty(n_points)
    for p0 in range(0, n_points, chunk):
        if cancel is not None and cancel():
            raise Cancelled()
        c = coefs[p0:p0 + chunk]
        G = c.shape[0]
        tails = [eng.layer_matrix(c @ tail_vecs, l, offset) for l in range(1, eng.L)]
        c_dt = c.astype(eng.dtype)

        def first_layer(bi, h, c_dt=c_dt):
            np.matmul(c_dt, stacks[bi], out=h.reshape(G, -1))

        out[p0:p0 + G] = eng.run(G, first_layer, tails)
        if progress is not None:
            progress(progress_offset + p0 + G, total)
    return out


def cost_grid(net: Network, plane: Plane, X, Y, alphas, betas, *, progress=None, cancel=None,
              chunk_points=None) -> np.ndarray:
    """The cost on a grid in the plane: ``Z[j, i] = C(centre + alphas[i]*d1 + betas[j]*d2)``.

    Parameters
    ----------
    net : Network
        Supplies layout, activation, cost and dtype (its ``theta`` is not used).
    plane : Plane
    X : ndarray, shape (N, n_in)
    Y : ndarray, shape (N, n_out)
    alphas, betas : ndarray, shapes (nA,), (nB,)
    progress : callable(done, total), optional
        Called after each chunk of grid points; the last call has ``done == total``.
    cancel : callable() -> bool, optional
        Polled before each chunk; True raises :class:`Cancelled`.
    chunk_points : int, optional
        Grid points per batched pass (default: about 16k point-examples per block).

    Returns
    -------
    Z : ndarray, shape (nB, nA), float64
        Each entry is the same average cost as ``net.cost(X, Y, theta=...)``, computed in the
        network's dtype.
    """
    alphas = np.asarray(alphas, np.float64).ravel()
    betas = np.asarray(betas, np.float64).ravel()
    B, A = np.meshgrid(betas, alphas, indexing="ij")
    coefs = np.stack([np.ones(A.size), A.ravel(), B.ravel()], axis=1)
    vecs = np.stack([plane.centre, plane.d1, plane.d2])
    Z = _affine_costs(net, vecs, coefs, X, Y, progress=progress, cancel=cancel, chunk_points=chunk_points)
    return Z.reshape(len(betas), len(alphas))


def plane_costs(net: Network, plane: Plane, coords, X, Y, *, progress=None, cancel=None,
                chunk_points=None) -> np.ndarray:
    """The cost at arbitrary points of the plane: ``C(centre + a_k*d1 + b_k*d2)`` for each row.

    The same fast path as :func:`cost_grid` (no ``(K, P)`` array of parameter vectors is formed), for
    scattered points such as a path's projections onto the plane.

    Parameters
    ----------
    coords : ndarray, shape (K, 2)
        ``(a, b)`` per point.
    progress, cancel, chunk_points
        As for :func:`cost_grid`.

    Returns
    -------
    costs : ndarray, shape (K,), float64
    """
    coords = np.asarray(coords, np.float64).reshape(-1, 2)
    if coords.shape[0] == 0:
        return np.zeros(0)
    coefs = np.column_stack([np.ones(coords.shape[0]), coords])
    vecs = np.stack([plane.centre, plane.d1, plane.d2])
    return _affine_costs(net, vecs, coefs, X, Y, progress=progress, cancel=cancel, chunk_points=chunk_points)


def cost_grid_loop(net: Network, plane: Plane, X, Y, alphas, betas) -> np.ndarray:
    """Reference for :func:`cost_grid`: one ``net.cost`` per grid point (slow, obviously right)."""
    Z = np.empty((len(betas), len(alphas)))
    for j, b in enumerate(betas):
        for i, a in enumerate(alphas):
            Z[j, i] = net.cost(X, Y, theta=plane.point(a, b))
    return Z


def costs_at(net: Network, thetas, X, Y, *, chunk_points=None) -> np.ndarray:
    """The true cost of each parameter vector, shape (K,) float64 (batched forward passes).

    Parameters
    ----------
    thetas : ndarray, shape (K, P) or (P,)
    """
    thetas = np.atleast_2d(np.asarray(thetas))
    if thetas.shape[1] != net.layout.size:
        raise ValueError(f"thetas must have shape (K, {net.layout.size}), got {thetas.shape}")
    eng = _Engine(net, X, Y)
    K = thetas.shape[0]
    out = np.empty(K)
    chunk = int(chunk_points) if chunk_points else _default_chunk(eng)
    for p0 in range(0, K, chunk):
        raw = np.asarray(thetas[p0:p0 + chunk], np.float64)
        G = raw.shape[0]
        A0, bias0 = eng.layer_matrix(raw, 0)
        A0 = A0.reshape(G * eng.rows[0], -1)
        tails = [eng.layer_matrix(raw, l) for l in range(1, eng.L)]

        def first_layer(bi, h, A0=A0, bias0=bias0, G=G):
            s, e = eng.blocks[bi]
            np.matmul(A0, eng.X[s:e].T, out=h.reshape(G * eng.rows[0], -1))
            h += bias0[:, :, None]

        out[p0:p0 + G] = eng.run(G, first_layer, tails)
    return out


def line_costs(net: Network, theta_a, theta_b, X, Y, n=51, extend=0.0, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Cost along the straight line ``theta_a + t (theta_b - theta_a)`` (Goodfellow et al. 2015).

    Parameters
    ----------
    theta_a, theta_b : ndarray, shape (P,)
        E.g. the initial and the current weights, or two different networks.
    n : int
        Number of values of t, evenly spaced over ``[-extend, 1 + extend]``.
    **kw
        ``progress``, ``cancel``, ``chunk_points`` as for :func:`cost_grid`.

    Returns
    -------
    ts, costs : ndarray, shape (n,), float64
    """
    theta_a = np.asarray(theta_a, np.float64)
    theta_b = np.asarray(theta_b, np.float64)
    ts = np.linspace(-extend, 1.0 + extend, int(n))
    coefs = np.stack([np.ones_like(ts), ts], axis=1)
    costs = _affine_costs(net, np.stack([theta_a, theta_b - theta_a]), coefs, X, Y, **kw)
    return ts, costs


def coarse_to_fine(net: Network, plane: Plane, X, Y, alphas_fine, betas_fine, coarse=11, **kw):
    """Yield ``(alphas, betas, Z)`` for a quick coarse grid over the same range, then the fine grid.

    ``progress`` (if given in ``kw``) counts the points of both passes together; ``cancel`` is polled
    throughout. The coarse pass is skipped when it would not be coarser than the fine grid.
    """
    alphas_fine = np.asarray(alphas_fine, np.float64)
    betas_fine = np.asarray(betas_fine, np.float64)
    progress = kw.pop("progress", None)
    passes = []
    if coarse < len(alphas_fine) or coarse < len(betas_fine):
        ca = np.linspace(alphas_fine[0], alphas_fine[-1], min(coarse, len(alphas_fine)))
        cb = np.linspace(betas_fine[0], betas_fine[-1], min(coarse, len(betas_fine)))
        passes.append((ca, cb))
    passes.append((alphas_fine, betas_fine))
    total = sum(len(a) * len(b) for a, b in passes)
    done = 0
    for a, b in passes:
        if progress is not None:
            def prog(d, _t, base=done):
                progress(base + d, total)
        else:
            prog = None
        Z = cost_grid(net, plane, X, Y, a, b, progress=prog, **kw)
        done += len(a) * len(b)
        yield a, b, Z
