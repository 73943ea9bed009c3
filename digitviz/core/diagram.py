"""What the network diagram and the weights panel draw, computed without Qt.

:func:`diagram_state` runs one input through the network and packs everything the diagram shows
(every layer's activations, weighted sums, biases and weights, the answer, and which connections
to draw) into an immutable :class:`DiagramState`. The views only map these arrays to colours.

The first layer has 784 x n connections, far too many to draw: for each neuron only its ``top_k``
strongest incoming connections (largest ``|w|``) are drawn. Later layers draw every connection
unless there are more than ``max_edges`` (a wide network), in which case they too keep the
strongest per neuron.

:func:`weight_mosaic` lays the first layer's weight rows out as a grid of 28x28 tiles (the
lesson's "what the hidden neurons look for") on one shared symmetric colour scale.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .network import Network

DEFAULT_TOP_K = 8
DEFAULT_MAX_EDGES = 800
EDGE_MODES = ("weights", "gradient", "wants")


@dataclass(frozen=True)
class EdgeSet:
    """The connections of one layer that the diagram draws.

    Attributes
    ----------
    src : ndarray of intp, shape (E,)
        Index of the source neuron (for the first layer: the input pixel, row-major in 28x28).
    dst : ndarray of intp, shape (E,)
        Index of the destination neuron.
    value : ndarray of float, shape (E,)
        What colours the connection: its weight, or (gradient mode) minus the cost's gradient.
    """

    src: np.ndarray
    dst: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True)
class DiagramState:
    """One forward pass of one input, as the diagram draws it (copies; safe to keep).

    Attributes
    ----------
    sizes : tuple of int
        Layer sizes, input first.
    activation, cost : str
        The network's hidden activation and cost (``"cross_entropy"`` means softmax outputs).
    activations : list of ndarray, float64
        Per layer, the input first: shapes ``(784,), (16,), (16,), (10,)`` for the lesson's net.
    zs : list of ndarray, float64
        Weighted sums ``W a + b`` per layer after the input.
    biases : list of ndarray
        Per layer after the input.
    weights : list of ndarray
        Per layer, ``W`` of shape ``(n_out, n_in)``.
    label : int
        The input's true digit, or -1 when unknown.
    answer : int
        The brightest output: the network's answer.
    edges : list of EdgeSet
        Per layer, the connections to draw.
    top_k : int
        Connections drawn per first-layer neuron.
    edge_mode : str
        ``"weights"`` (connections coloured by their weights), ``"gradient"`` (by the values
        passed as ``edge_values``, e.g. minus the gradient) or ``"wants"`` (by minus this example's
        gradient, with ``wants`` set).
    wants : list of ndarray or None
        ``"wants"`` mode: per layer after the input, ``-dC/da`` for this example and its label
        (:func:`digitviz.core.wants.neuron_wants`): how the cost wants each activation to change.
    example_cost : float
        ``"wants"`` mode: this example's cost (NaN otherwise).
    """

    sizes: tuple
    activation: str
    cost: str
    activations: list
    zs: list
    biases: list
    weights: list
    label: int
    answer: int
    edges: list
    top_k: int = DEFAULT_TOP_K
    edge_mode: str = "weights"
    edge_values: list | None = None
    wants: list | None = None
    example_cost: float = float("nan")

    @property
    def n_layers(self) -> int:
        """Number of layers including the input."""
        return len(self.sizes)

    def with_top_k(self, top_k: int, max_edges: int = DEFAULT_MAX_EDGES) -> DiagramState:
        """The same state drawing ``top_k`` connections per first-layer neuron."""
        values = self.edge_values if self.edge_values is not None else self.weights
        edges = select_edges(values, top_k, max_edges)
        return DiagramState(
            self.sizes,
            self.activation,
            self.cost,
            self.activations,
            self.zs,
            self.biases,
            self.weights,
            self.label,
            self.answer,
            edges,
            int(top_k),
            self.edge_mode,
            self.edge_values,
            self.wants,
            self.example_cost,
        )


def strongest_edges(W: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each destination neuron, its ``k`` incoming connections of largest ``|w|``.

    Parameters
    ----------
    W : ndarray, shape (n_out, n_in)
    k : int
        Connections per destination (all of them when ``k >= n_in``).

    Returns
    -------
    src, dst : ndarray of intp, shape (n_out * min(k, n_in),)
        Source and destination index of each chosen connection, grouped by destination; within a
        destination the strongest comes first.
    """
    W = np.asarray(W)
    n_out, n_in = W.shape
    k = int(max(0, min(k, n_in)))
    if k == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    mag = np.abs(W)
    if k < n_in:
        part = np.argpartition(mag, n_in - k, axis=1)[:, n_in - k :]
    else:
        part = np.broadcast_to(np.arange(n_in), (n_out, n_in))
    order = np.argsort(-np.take_along_axis(mag, part, axis=1), axis=1, kind="stable")
    src = np.take_along_axis(part, order, axis=1).astype(np.intp).ravel()
    dst = np.repeat(np.arange(n_out, dtype=np.intp), k)
    return src, dst


def select_edges(
    values: Sequence[np.ndarray], top_k: int = DEFAULT_TOP_K, max_edges: int = DEFAULT_MAX_EDGES
) -> list[EdgeSet]:
    """Which connections to draw, for every layer.

    Parameters
    ----------
    values : list of ndarray, each ``(n_out, n_in)``
        The value of every connection (weights, or minus the gradient).
    top_k : int
        Connections per neuron for the first layer.
    max_edges : int
        Any layer with more connections than this keeps only the strongest per neuron.

    Returns
    -------
    list of EdgeSet
    """
    edges = []
    for l, V in enumerate(values):
        V = np.asarray(V)
        n_out, n_in = V.shape
        k = min(int(top_k), n_in) if l == 0 else n_in
        k = max(1, min(k, max_edges // n_out)) if k * n_out > max_edges else k
        if k >= n_in:
            src = np.tile(np.arange(n_in, dtype=np.intp), n_out)
            dst = np.repeat(np.arange(n_out, dtype=np.intp), n_in)
        else:
            src, dst = strongest_edges(V, k)
        edges.append(EdgeSet(src, dst, V[dst, src].astype(np.float64)))
    return edges


def diagram_state(
    net: Network,
    x: np.ndarray,
    label: int = -1,
    top_k: int | None = None,
    edge_values: Sequence[np.ndarray] | None = None,
    max_edges: int = DEFAULT_MAX_EDGES,
    wants: bool = False,
) -> DiagramState:
    """One forward pass of ``x`` through ``net`` (with ``net.theta``), packed for the diagram.

    Parameters
    ----------
    net : Network
    x : ndarray, shape (784,)
        The input, values in [0, 1].
    label : int
        The input's true digit, or -1.
    top_k : int, optional
        Connections drawn per first-layer neuron (default 8).
    edge_values : list of ndarray, optional
        One array shaped like each ``W``: colours the connections instead of the weights (the
        "negative gradient" mode). The strongest connections are then chosen by these values.
    max_edges : int
        Cap on connections drawn per layer (wide networks).
    wants : bool
        "What each neuron wants": backpropagate this example's cost against its ``label``
        (:func:`digitviz.core.wants.neuron_wants`); the state carries ``-dC/da`` per neuron and the
        connections are coloured (and chosen) by minus this example's gradient. Ignored (plain
        weights) when ``label`` is -1: without a desired answer the cost wants nothing.
    """
    top_k = DEFAULT_TOP_K if top_k is None else int(top_k)
    x = np.asarray(x).reshape(-1)
    if wants and int(label) >= 0:
        from .wants import neuron_wants

        w = neuron_wants(net, x, label=int(label))
        state = diagram_state(net, x, label, top_k, [-gw for gw, _ in w.grad_views], max_edges)
        return replace(state, edge_mode="wants", wants=[np.array(v) for v in w.wants], example_cost=w.cost)
    fw = net.forward(x[None, :])
    activations = [np.array(a[0], dtype=np.float64) for a in fw.activations]
    zs = [np.array(z[0], dtype=np.float64) for z in fw.zs]
    weights = [w.copy() for w in net.weights]
    biases = [b.copy() for b in net.biases]
    if edge_values is not None:
        edge_values = [np.array(v, copy=True) for v in edge_values]
        if [v.shape for v in edge_values] != [w.shape for w in weights]:
            raise ValueError("edge_values must hold one array shaped like each weight matrix")
    edges = select_edges(weights if edge_values is None else edge_values, top_k, max_edges)
    return DiagramState(
        sizes=tuple(net.sizes),
        activation=net.activation,
        cost=net.cost_name,
        activations=activations,
        zs=zs,
        biases=biases,
        weights=weights,
        label=int(label),
        answer=int(np.argmax(activations[-1])),
        edges=edges,
        top_k=top_k,
        edge_mode="weights" if edge_values is None else "gradient",
        edge_values=edge_values,
    )


def input_shape(n_in: int) -> tuple:
    """The image shape of an input layer of ``n_in`` values: ``(28, 28)`` for 784, else a row."""
    s = math.isqrt(n_in)
    return (s, s) if s * s == n_in else (1, n_in)


def symmetric_scale(values: np.ndarray, q: float = 99.5, floor: float = 1e-3, max_samples: int = 1 << 15) -> float:
    """A colour scale ``s`` for data centred on zero, to be drawn on ``[-s, s]``.

    ``s`` is the ``q``-th percentile of ``|values|`` (a robust maximum: a handful of outliers
    do not wash the rest out), at least ``floor``. Past ``max_samples`` values the percentile is
    taken over an evenly strided subset (a 784x256 layer: 6 ms -> 1 ms, same scale to ~1%).
    """
    a = np.asarray(values).ravel()
    if a.size > max_samples:
        a = a[:: -(-a.size // max_samples)]
    a = np.abs(a.astype(np.float64))
    if a.size == 0:
        return float(floor)
    s = float(np.percentile(a, q)) if q < 100 else float(a.max())
    return max(s, float(floor)) if math.isfinite(s) else float(floor)


def mosaic_grid(n: int, cols: int | None = None) -> tuple:
    """``(rows, cols)`` of a grid holding ``n`` tiles: square-ish, e.g. 16 -> 4x4, 256 -> 16x16."""
    cols = int(cols) if cols else max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def tile_origin(i: int, cols: int, tile_shape: tuple[int, int] = (28, 28), pad: int = 1) -> tuple[int, int]:
    """``(x, y)`` of tile ``i``'s top-left pixel in the mosaic (column, row)."""
    r, c = divmod(int(i), cols)
    h, w = tile_shape
    return c * (w + pad), r * (h + pad)


def tile_at(x: float, y: float, n: int, cols: int, tile_shape: tuple[int, int] = (28, 28), pad: int = 1) -> int:
    """Index of the tile under mosaic pixel coordinates ``(x, y)``, or -1 (padding or outside)."""
    h, w = tile_shape
    if x < 0 or y < 0:
        return -1
    c, cx = divmod(int(math.floor(x)), w + pad)
    r, cy = divmod(int(math.floor(y)), h + pad)
    rows, cols_ = mosaic_grid(n, cols)
    if cx >= w or cy >= h or c >= cols_ or r >= rows:
        return -1
    i = r * cols_ + c
    return i if i < n else -1


def weight_mosaic(
    W: np.ndarray, cols: int | None = None, pad: int = 1, tile_shape: tuple[int, int] | None = None, q: float = 99.5
) -> tuple[np.ndarray, float]:
    """Every neuron's incoming weights as a tile, tiles in a grid, on one shared symmetric scale.

    Parameters
    ----------
    W : ndarray, shape (n, n_in)
        Row ``i`` is neuron ``i``'s incoming weights (for MNIST, 784 = one 28x28 image).
    cols : int, optional
        Tiles per row (default: a square-ish grid).
    pad : int
        Pixels between tiles. Padding pixels are NaN (drawn transparent).
    tile_shape : tuple, optional
        Default :func:`input_shape` of ``n_in``.
    q : float
        Percentile of ``|W|`` used as the scale (see :func:`symmetric_scale`).

    Returns
    -------
    image : ndarray of float32, shape (rows*(h+pad)-pad, cols*(w+pad)-pad)
        Tile ``i`` (row-major in the grid) holds ``W[i].reshape(h, w)``, unscaled.
    scale : float
        Draw the image with levels ``(-scale, scale)``.
    """
    W = np.asarray(W)
    n, n_in = W.shape
    h, w = tile_shape or input_shape(n_in)
    if h * w != n_in:
        raise ValueError(f"tile shape {(h, w)} does not hold {n_in} weights")
    rows, cols = mosaic_grid(n, cols)
    tiles = np.full((rows * cols, h + pad, w + pad), np.nan, np.float32)
    tiles[:n, :h, :w] = W.reshape(n, h, w)
    image = (
        tiles.reshape(rows, cols, h + pad, w + pad).transpose(0, 2, 1, 3).reshape(rows * (h + pad), cols * (w + pad))
    )
    if pad:
        image = image[:-pad, :-pad]
    return np.ascontiguousarray(image), symmetric_scale(W, q)
