"""The network: a fully connected feed-forward net whose parameters live in one flat vector.

Aim: readable and fast. Every weight and bias is a view into ONE contiguous vector ``theta``
(the lesson's "function of ~13,000 inputs"), and the gradient has exactly the same layout, so the
cost landscape, the gradient view and the optimiser can all treat the network as a point in
parameter space. Data is batch-major: a batch ``X`` has shape ``(N, 784)``.

Layer ``l`` maps ``a`` of shape ``(N, n_in)`` to ``act(a @ W.T + b)``, with ``W`` of shape
``(n_out, n_in)`` so that row ``j`` is neuron ``j``'s incoming weights (the lesson's notation
``W a + b``, and a 28x28 image of the row is that neuron's "weight image").

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .training import TrainConfig

ACTIVATIONS = ("sigmoid", "relu", "tanh")
COSTS = ("quadratic", "cross_entropy")
DEFAULT_SIZES = (784, 16, 16, 10)
# The largest network digitviz builds, loads or saves: 50 times the "wide" preset (784-4096-10 has
# 3.3 M). Its float64 parameters alone are 80 MB, and training keeps several vectors that size.
MAX_PARAMS = 10_000_000


class Layout:
    """Where each layer's ``W`` and ``b`` sit inside the flat parameter vector.

    Order: ``W1`` (row-major), ``b1``, ``W2``, ``b2``, ...

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, e.g. ``(784, 16, 16, 10)``.
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"need at least an input and an output layer of positive size, got {sizes}")
        self.sizes = sizes
        self.slices: list[tuple[slice, slice]] = []  # (W slice, b slice) per layer
        offset = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w = slice(offset, offset + n_in * n_out)
            offset = w.stop
            b = slice(offset, offset + n_out)
            offset = b.stop
            self.slices.append((w, b))
        self.size = offset

    @property
    def n_layers(self) -> int:
        """Number of weight layers (connections), i.e. ``len(sizes) - 1``."""
        return len(self.sizes) - 1

    def views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-layer ``(W, b)`` views into ``flat`` (no copies).

        ``W`` has shape ``(n_out, n_in)``, ``b`` shape ``(n_out,)``.
        """
        if flat.shape != (self.size,):
            raise ValueError(f"expected a flat vector of {self.size} parameters, got shape {flat.shape}")
        out = []
        for (ws, bs), n_in, n_out in zip(self.slices, self.sizes[:-1], self.sizes[1:]):
            out.append((flat[ws].reshape(n_out, n_in), flat[bs]))
        return out

    def index(self, layer: int, kind: str, i: int, j: int = 0) -> int:
        """Flat index of ``W[layer][i, j]`` (kind ``"w"``) or ``b[layer][i]`` (kind ``"b"``)."""
        ws, bs = self.slices[layer]
        if kind == "w":
            return ws.start + i * self.sizes[layer] + j
        return bs.start + i

    def locate(self, k: int) -> tuple[int, str, int, int | None]:
        """Where flat parameter ``k`` sits: ``(layer, "w", i, j)`` for ``W[layer][i, j]`` or
        ``(layer, "b", i, None)`` for ``b[layer][i]`` (layers from 0). The inverse of :meth:`index`."""
        for layer, (ws, bs) in enumerate(self.slices):
            if ws.start <= k < ws.stop:
                i, j = divmod(k - ws.start, self.sizes[layer])
                return layer, "w", i, j
            if bs.start <= k < bs.stop:
                return layer, "b", k - bs.start, None
        raise IndexError(k)

    def describe(self, k: int) -> str:
        """Human name of flat parameter ``k``, e.g. ``"w2[3,7]"`` or ``"b3[5]"`` (layers from 1)."""
        layer, kind, i, j = self.locate(k)
        return f"w{layer + 1}[{i},{j}]" if kind == "w" else f"b{layer + 1}[{i}]"


# Activations: f(z) written into ``out``, and f'(z) expressed through a = f(z) (cheaper: no second exp).


def _sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-z)) written as (1 + tanh(z/2)) / 2: same function, but tanh cannot overflow,
    # so a diverging run gives 0/1 instead of warnings, and it is one pass fewer than clip + exp
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(1.0, a, out=out)
    out *= a
    return out


def _relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=out)


def _relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.greater(z, 0.0, out=out)


def _tanh(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=out)


def _tanh_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)
    return out


_ACT = {"sigmoid": (_sigmoid, _sigmoid_prime), "relu": (_relu, _relu_prime), "tanh": (_tanh, _tanh_prime)}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Elementwise logistic function (a new array)."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    return _sigmoid(z, np.empty_like(z))


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax of ``z`` of shape ``(N, K)``."""
    if out is None:
        out = np.empty_like(z)
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


@dataclass
class Forward:
    """Result of a forward pass over a batch.

    Attributes
    ----------
    zs : list of ndarray
        Weighted sums per layer after the input, shapes ``(N, n_l)``.
    activations : list of ndarray
        Activations per layer, the input first: ``activations[0]`` is ``X``.
    """

    zs: list
    activations: list

    @property
    def output(self) -> np.ndarray:
        """The output layer's activations, shape ``(N, n_out)``."""
        return self.activations[-1]


class Workspace:
    """Preallocated buffers for forward and backward passes on batches of ``n`` examples.

    One workspace per batch size is kept by :class:`Network`; its ``grad`` is a flat vector
    shaped like ``theta`` with per-layer views ``grad_views``.
    """

    def __init__(self, layout: Layout, n: int, dtype: npt.DTypeLike) -> None:
        self.n = n
        self.zs = [np.empty((n, s), dtype) for s in layout.sizes[1:]]
        self.acts = [np.empty((n, s), dtype) for s in layout.sizes[1:]]
        self.deltas = [np.empty((n, s), dtype) for s in layout.sizes[1:]]
        self.tmp = [np.empty((n, s), dtype) for s in layout.sizes[1:]]
        self.grad = np.empty(layout.size, dtype)
        self.grad_views = layout.views(self.grad)


class Network:
    """A fully connected network with one flat parameter vector.

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes, input first. Default: the lesson's ``(784, 16, 16, 10)``.
    activation : {"sigmoid", "relu", "tanh"}
        Hidden-layer activation.
    cost : {"quadratic", "cross_entropy"}
        ``"quadratic"``: sigmoid outputs, cost per example ``sum_k (a_k - y_k)**2`` (the lesson's,
        no factor 1/2). ``"cross_entropy"``: softmax outputs, cost ``-sum_k y_k log a_k``.
        The network's cost is the average over the examples.
    dtype : numpy dtype
        ``float32`` (fast) or ``float64`` (gradient checks).
    seed : int or None
        Seed of the initialisation; the same seed gives the same numbers.
    init : {"scaled", "standard"}
        ``"scaled"``: weights ~ N(0, 1/n_in) (1/sqrt(n_in), He-style x2 for ReLU); ``"standard"``:
        N(0, 1) as in the book's network.py. Biases ~ N(0, 1) for scaled sigmoid/tanh, 0 for ReLU.

    Attributes
    ----------
    theta : ndarray, shape (P,)
        All parameters. ``weights[l]`` and ``biases[l]`` are views into it.
    """

    def __init__(
        self,
        sizes: Sequence[int] = DEFAULT_SIZES,
        activation: str = "sigmoid",
        cost: str = "quadratic",
        dtype: npt.DTypeLike = np.float32,
        seed: int | None = 0,
        init: str | None = "scaled",
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}; choose from {', '.join(COSTS)}")
        self.layout = Layout(sizes)
        self.activation = activation
        self.cost_name = cost
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError("dtype must be float32 or float64")
        self.theta = np.zeros(self.layout.size, self.dtype)
        self._views = self.layout.views(self.theta)
        self._workspaces: dict[int, Workspace] = {}
        self._f, self._fprime = _ACT[activation]
        if seed is not None or init:
            self.initialize(np.random.default_rng(seed), init)

    # structure

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.layout.sizes

    @property
    def weights(self) -> list[np.ndarray]:
        """Per-layer weight matrices, views of shape ``(n_out, n_in)`` into ``theta``."""
        return [w for w, _ in self._views]

    @property
    def biases(self) -> list[np.ndarray]:
        """Per-layer bias vectors, views into ``theta``."""
        return [b for _, b in self._views]

    @property
    def n_params(self) -> int:
        return self.layout.size

    @property
    def arch_key(self) -> tuple:
        """``(sizes, activation, cost, dtype name)``: what a flat ``theta`` needs to mean the same function.

        Equal to ``TrainConfig.arch_key`` of a config that builds this network.
        """
        return (self.sizes, self.activation, self.cost_name, self.dtype.name)

    @classmethod
    def from_config(cls, config: TrainConfig, theta: np.ndarray | None = None) -> Network:
        """The network a :class:`~digitviz.core.training.TrainConfig` describes.

        Parameters
        ----------
        config : TrainConfig
            Supplies sizes, activation, cost, dtype, and (without ``theta``) seed and init.
        theta : ndarray, shape (P,), optional
            Parameters to copy in. Without it the weights are freshly initialised from
            ``config.seed`` (the same seed gives the same numbers).
        """
        if theta is None:
            return cls(
                config.sizes, config.activation, config.cost, np.dtype(config.dtype), seed=config.seed, init=config.init
            )
        net = cls(config.sizes, config.activation, config.cost, np.dtype(config.dtype), seed=None, init=None)
        net.set_theta(theta)
        return net

    def __repr__(self) -> str:
        return (
            f"Network(sizes={self.sizes}, activation={self.activation!r}, cost={self.cost_name!r}, "
            f"dtype={self.dtype.name}, params={self.n_params})"
        )

    def initialize(self, rng: np.random.Generator, init: str | None = "scaled") -> None:
        """Fill ``theta`` in place with fresh random parameters from ``rng``."""
        for w, b in self._views:
            n_in = w.shape[1]
            if init == "standard":
                w[...] = rng.standard_normal(w.shape)
                b[...] = rng.standard_normal(b.shape)
            elif init == "scaled":
                gain = 2.0 if self.activation == "relu" else 1.0
                w[...] = rng.standard_normal(w.shape) * np.sqrt(gain / n_in)
                b[...] = 0.0 if self.activation == "relu" else rng.standard_normal(b.shape)
            else:
                raise ValueError(f"unknown init {init!r}")
        # the output layer's biases start at 0 for softmax: no class preferred before training
        if self.cost_name == "cross_entropy":
            self._views[-1][1][...] = 0.0

    def copy(self) -> Network:
        """An independent network with the same settings and a copy of ``theta``."""
        other = Network(self.sizes, self.activation, self.cost_name, self.dtype, seed=None, init=None)
        other.theta[...] = self.theta
        return other

    def set_theta(self, theta: np.ndarray) -> None:
        """Copy ``theta`` into this network's parameter vector (views stay valid)."""
        theta = np.asarray(theta)
        if theta.shape != self.theta.shape:
            raise ValueError(f"expected {self.theta.shape[0]} parameters, got {theta.shape}")
        self.theta[...] = theta

    def workspace(self, n: int) -> Workspace:
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) > 8:  # a few batch sizes at most; do not grow without bound
                self._workspaces.clear()
            ws = self._workspaces[n] = Workspace(self.layout, n, self.dtype)
        return ws

    # forward

    def _forward_into(self, X: np.ndarray, ws: Workspace, views: list | None = None) -> np.ndarray:
        views = self._views if views is None else views
        a = X
        last = len(views) - 1
        for l, (w, b) in enumerate(views):
            z = ws.zs[l]
            np.matmul(a, w.T, out=z)
            z += b
            if l == last:
                if self.cost_name == "cross_entropy":
                    softmax(z, out=ws.acts[l])
                else:
                    _sigmoid(z, ws.acts[l])
            else:
                self._f(z, ws.acts[l])
            a = ws.acts[l]
        return a

    def forward(self, X: np.ndarray, theta: np.ndarray | None = None) -> Forward:
        """Forward pass over a batch, returning every layer's weighted sums and activations (copies).

        Parameters
        ----------
        X : ndarray, shape (N, n_in) or (n_in,)
            Inputs in [0, 1].
        theta : ndarray, shape (P,), optional
            Parameters to use instead of the network's own (e.g. a snapshot).
        """
        X = self._as_batch(X)
        ws = Workspace(self.layout, X.shape[0], self.dtype)
        views = None if theta is None else self.layout.views(np.asarray(theta, self.dtype))
        self._forward_into(X, ws, views)
        return Forward(zs=ws.zs, activations=[X] + ws.acts)

    def feedforward(self, X: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Output activations for a batch ``X`` of shape ``(N, n_in)``: shape ``(N, n_out)``."""
        X = self._as_batch(X)
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        # chunk so that evaluating 60,000 examples does not allocate huge temporaries
        for s in range(0, X.shape[0], 4096):
            xs = X[s : s + 4096]
            ws = self.workspace(xs.shape[0]) if theta is None else Workspace(self.layout, xs.shape[0], self.dtype)
            views = None if theta is None else self.layout.views(np.asarray(theta, self.dtype))
            out[s : s + xs.shape[0]] = self._forward_into(xs, ws, views)
        return out

    def predict(self, X: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Predicted digit for each row of ``X``: the brightest output."""
        return np.argmax(self.feedforward(X, theta), axis=1)

    def _as_batch(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"expected inputs of shape (N, {self.sizes[0]}), got {X.shape}")
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        return X

    # cost

    def cost_of(self, A: np.ndarray, Y: np.ndarray) -> float:
        """Average cost of outputs ``A`` against desired outputs ``Y`` (both ``(N, n_out)``)."""
        return cost_value(self.cost_name, A, Y)

    def cost(self, X: np.ndarray, Y: np.ndarray, theta: np.ndarray | None = None) -> float:
        """Average cost over the batch ``X`` with desired outputs ``Y`` of shape ``(N, n_out)``."""
        return self.cost_of(self.feedforward(X, theta), np.asarray(Y))

    # backprop

    def backprop(self, X: np.ndarray, Y: np.ndarray, ws: Workspace | None = None) -> tuple[float, np.ndarray]:
        """Gradient of the batch's average cost with respect to ``theta``, by backpropagation.

        The whole batch goes through matrix products; there is no loop over examples.

        Parameters
        ----------
        X : ndarray, shape (N, n_in)
        Y : ndarray, shape (N, n_out)
            Desired outputs (one-hot for a digit; all zeros or uniform for "not a digit").
        ws : Workspace, optional
            Buffers to use; by default the network's own for this batch size.

        Returns
        -------
        cost : float
            The batch's average cost before any update.
        grad : ndarray, shape (P,)
            The gradient, laid out like ``theta``. It is the workspace's buffer: copy it to keep it.
        """
        X = self._as_batch(X)
        n = X.shape[0]
        ws = self.workspace(n) if ws is None else ws
        A = self._forward_into(X, ws)
        L = len(self._views) - 1
        delta = ws.deltas[L]
        # output error dC/dz for the batch-averaged cost
        np.subtract(A, Y, out=delta)
        if self.cost_name == "quadratic":
            cost = float(np.vdot(delta, delta)) / n
            _sigmoid_prime(ws.zs[L], A, ws.tmp[L])
            delta *= ws.tmp[L]
            delta *= 2.0 / n
        else:
            cost = cost_value("cross_entropy", A, Y)
            delta *= 1.0 / n
        # Nielsen's backprop indexes layers from the end; here l counts from the input, so layer l's
        # input activations are acts[l-1] (or X for l = 0).
        for l in range(L, -1, -1):
            gw, gb = ws.grad_views[l]
            a_in = X if l == 0 else ws.acts[l - 1]
            np.matmul(ws.deltas[l].T, a_in, out=gw)
            np.add.reduce(ws.deltas[l], axis=0, out=gb)  # np.sum's wrapper costs more than the sum
            if l > 0:
                prev = ws.deltas[l - 1]
                np.matmul(ws.deltas[l], self._views[l][0], out=prev)
                self._fprime(ws.zs[l - 1], ws.acts[l - 1], ws.tmp[l - 1])
                prev *= ws.tmp[l - 1]
        return cost, ws.grad


def cost_value(cost_name: str, A: np.ndarray, Y: np.ndarray) -> float:
    """Average over rows of the per-example cost of outputs ``A`` against targets ``Y``."""
    n = A.shape[0]
    if cost_name == "quadratic":
        d = A - Y
        return float(np.vdot(d, d)) / n
    # cross-entropy: -sum y log a; the floor keeps log finite when a softmax output underflows to 0
    tiny = np.finfo(A.dtype).tiny
    return float(-np.sum(Y * np.log(np.maximum(A, tiny)))) / n


def one_hot(labels: npt.ArrayLike, n_classes: int = 10, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Desired outputs for digit labels: shape ``(N, n_classes)``, 1 at the label, 0 elsewhere."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], n_classes), dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
