"""The fast cost engine: the network's cost at many points of a plane (or a line) on one batch.

The surface is ``C(centre + a*d1 + b*d2)`` over a grid of ``(a, b)`` (tomgoldstein/loss-landscape,
Li et al. 2018); the 1-D cost along the straight line between two parameter vectors gives Goodfellow
et al.'s (2015) linear interpolation.

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
from collections.abc import Callable, Generator
from typing import Any

import numpy as np

from digitviz.core.network import Network

from .plane import Plane

# a = alpha + beta * g(gamma * z) for each hidden activation, with g(const) == 1 exactly.
# The factors alpha, beta are folded into the next layer; gamma into this layer's weights and bias.
_HIDDEN = {
    "sigmoid": (0.5, 0.5, 0.5, "tanh", 20.0),
    "tanh": (0.0, 1.0, 1.0, "tanh", 20.0),
    "relu": (0.0, 1.0, 1.0, "relu", 1.0),
}
_BLOCK_EXAMPLES = 1024  # examples per block: a block's buffers stay within a few MB (L2/L3-sized)
_BLOCK_POINT_EXAMPLES = 16384  # default grid points per chunk x examples per block


class Cancelled(Exception):
    """Raised by :func:`cost_grid` (and friends) when their ``cancel()`` callback returns True."""


class _Engine:
    """Costs of many parameter vectors of one network on one fixed batch ``(X, Y)``.

    The batch is cut into blocks of about ``_BLOCK_EXAMPLES`` examples; all arrays are feature-major
    per block. Layer ``l`` of G points is a stack of augmented matrices ``(G, n_out [+1], n_in [+1])``
    holding the folded weights, the folded bias as an extra column, and (hidden layers) a constant row.
    """

    def __init__(self, net: Network, X: np.ndarray, Y: np.ndarray, block_examples: int | None = None) -> None:
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
        block_examples = _BLOCK_EXAMPLES if block_examples is None else block_examples  # read at call time
        nblocks = max(1, math.ceil(self.N / block_examples))
        bsize = math.ceil(self.N / nblocks)
        self.blocks = [(s, min(s + bsize, self.N)) for s in range(0, self.N, bsize)]
        Y = np.asarray(Y, self.dtype)
        self.tiny_log = float(np.log(np.finfo(self.dtype).tiny))
        self.targets: list[tuple[np.ndarray, ...]] = []  # per block, feature-major and flattened to match (G, K * nb)
        for s, e in self.blocks:
            Yt = np.ascontiguousarray(Y[s:e].T)
            if self.cost_name == "quadratic":
                self.targets.append(((2.0 * Yt - 1.0).ravel(),))  # sigmoid = 0.5 + 0.5 tanh
            else:
                self.targets.append((Yt.ravel(), Yt.sum(axis=0)))
        self._buffers: dict[object, np.ndarray] = {}

    # parameters -> augmented layer matrices

    def layer_matrix(self, raw: np.ndarray, l: int, offset: int = 0) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Augmented matrices of layer ``l`` for G points, from raw parameters ``raw`` (G, ...).

        ``raw`` holds each point's flat parameters starting at flat index ``offset``. Layer 0 returns
        ``(A, bias)`` with ``A`` shape ``(G, rows, n_in)`` (its input X has no constant row); other
        layers return ``A`` shape ``(G, rows, n_in + 1)`` with the bias in the last column.
        """
        ws, bs = self.layout.slices[l]
        n_in, n_out = self.sizes[l], self.sizes[l + 1]
        G = raw.shape[0]
        W = raw[:, ws.start - offset : ws.stop - offset].reshape(G, n_out, n_in)
        b = raw[:, bs.start - offset : bs.stop - offset]
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

    def first_layer_stacks(self, vecs: np.ndarray) -> list[np.ndarray]:
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

    def _buffer(self, key: object, shape: tuple[int, ...]) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < shape[0] or buf.shape[1:] != shape[1:]:
            buf = self._buffers[key] = np.empty(shape, self.dtype)
        return buf[: shape[0]]

    def run(self, G: int, first_layer: Callable[[int, np.ndarray], None], tails: list) -> np.ndarray:
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

    def _activate(self, h: np.ndarray) -> None:
        if self.act == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0.0, out=h)

    def _output_cost(self, h: np.ndarray, bi: int) -> np.ndarray:
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


def _affine_costs(
    net: Network,
    vecs: np.ndarray,
    coefs: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    progress: Callable[[int, int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    chunk_points: int | None = None,
    progress_offset: int = 0,
    progress_total: int | None = None,
) -> np.ndarray:
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
        c = coefs[p0 : p0 + chunk]
        G = c.shape[0]
        tails = [eng.layer_matrix(c @ tail_vecs, l, offset) for l in range(1, eng.L)]
        c_dt = c.astype(eng.dtype)

        def first_layer(bi: int, h: np.ndarray, c_dt: np.ndarray = c_dt, G: int = G) -> None:
            np.matmul(c_dt, stacks[bi], out=h.reshape(G, -1))

        out[p0 : p0 + G] = eng.run(G, first_layer, tails)
        if progress is not None:
            progress(progress_offset + p0 + G, total)
    return out


def cost_grid(
    net: Network,
    plane: Plane,
    X: np.ndarray,
    Y: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    *,
    progress: Callable[[int, int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    chunk_points: int | None = None,
) -> np.ndarray:
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


def plane_costs(
    net: Network,
    plane: Plane,
    coords: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    progress: Callable[[int, int], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    chunk_points: int | None = None,
) -> np.ndarray:
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


def cost_grid_loop(
    net: Network, plane: Plane, X: np.ndarray, Y: np.ndarray, alphas: np.ndarray, betas: np.ndarray
) -> np.ndarray:
    """Reference for :func:`cost_grid`: one ``net.cost`` per grid point (slow, obviously right)."""
    Z = np.empty((len(betas), len(alphas)))
    for j, b in enumerate(betas):
        for i, a in enumerate(alphas):
            Z[j, i] = net.cost(X, Y, theta=plane.point(a, b))
    return Z


def costs_at(
    net: Network, thetas: np.ndarray, X: np.ndarray, Y: np.ndarray, *, chunk_points: int | None = None
) -> np.ndarray:
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
        raw = np.asarray(thetas[p0 : p0 + chunk], np.float64)
        G = raw.shape[0]
        A0, bias0 = eng.layer_matrix(raw, 0)
        A0 = A0.reshape(G * eng.rows[0], -1)
        tails = [eng.layer_matrix(raw, l) for l in range(1, eng.L)]

        def first_layer(bi: int, h: np.ndarray, A0: np.ndarray = A0, bias0: np.ndarray = bias0, G: int = G) -> None:
            s, e = eng.blocks[bi]
            np.matmul(A0, eng.X[s:e].T, out=h.reshape(G * eng.rows[0], -1))
            h += bias0[:, :, None]

        out[p0 : p0 + G] = eng.run(G, first_layer, tails)
    return out


def line_costs(
    net: Network,
    theta_a: np.ndarray,
    theta_b: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    n: int = 51,
    extend: float = 0.0,
    **kw: Any,
) -> tuple[np.ndarray, np.ndarray]:
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


def coarse_to_fine(
    net: Network,
    plane: Plane,
    X: np.ndarray,
    Y: np.ndarray,
    alphas_fine: np.ndarray,
    betas_fine: np.ndarray,
    coarse: int = 11,
    **kw: Any,
) -> Generator[tuple[np.ndarray, np.ndarray, np.ndarray], None, None]:
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
        prog = None if progress is None else (lambda d, _t, base=done: progress(base + d, total))
        Z = cost_grid(net, plane, X, Y, a, b, progress=prog, **kw)
        done += len(a) * len(b)
        yield a, b, Z
