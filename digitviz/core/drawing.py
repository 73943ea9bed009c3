"""Ask the network to draw: gradient descent on the 784 input pixels, the weights held fixed.

The lesson: the network "has no idea how to draw digits". :func:`draw_digit` checks it. Starting from a
blank image, uniform noise or any image, it lowers the lesson's cost against the one-hot target ``k``
(or raises output ``k``) by moving the *pixels*, each step followed by clipping them back into [0, 1]
(projected gradient descent). :func:`input_gradient` is the gradient it follows: backpropagation
carried one layer further, to the input.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .network import _ACT, Network, one_hot

OBJECTIVES = ("cost", "output")
STARTS = ("blank", "noise")


def input_gradient(
    net: Network, X: np.ndarray, Y: np.ndarray | None = None, k: int | np.ndarray | None = None, objective: str = "cost"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient of each example's own objective with respect to its input pixels, weights fixed.

    Parameters
    ----------
    net : Network
        Not modified.
    X : ndarray, shape (N, n_in) or (n_in,)
    Y : ndarray, shape (N, n_out), optional
        Desired outputs, for ``objective="cost"`` (default: one-hot of ``k``).
    k : int or ndarray of int, shape (N,), optional
        Target digit per example (needed for ``"output"``, or when ``Y`` is not given).
    objective : {"cost", "output"}
        ``"cost"``: the network's per-example cost (quadratic ``sum_j (a_j - y_j)**2`` or cross-entropy);
        ``"output"``: minus output ``k`` (so descending it raises output ``k``).

    Returns
    -------
    value : ndarray, shape (N,)
        Each example's objective.
    grad : ndarray, shape (N, n_in)
        Its gradient with respect to that example's pixels (dtype of the network).
    output : ndarray, shape (N, n_out)
        The outputs at ``X``.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    X = np.asarray(X, net.dtype)
    single = X.ndim == 1
    X = np.atleast_2d(X)
    n = X.shape[0]
    if Y is None or objective == "output":
        if k is None:
            raise ValueError("give the target digit k (or the desired outputs Y)")
        k = np.broadcast_to(np.asarray(k, np.intp), (n,))
        if Y is None:
            Y = one_hot(k, net.sizes[-1], net.dtype)
    Y = np.atleast_2d(np.asarray(Y, net.dtype))
    fwd = net.forward(X)
    A = fwd.output
    softmax = net.cost_name == "cross_entropy"
    rows = np.arange(n)
    if objective == "cost":
        if softmax:
            value = -np.sum(Y * np.log(np.maximum(A, np.finfo(A.dtype).tiny)), axis=1)
            delta = A - Y
        else:
            d = A - Y
            value = np.sum(d * d, axis=1)
            delta = 2 * d * A * (1 - A)
    else:
        ak = A[rows, k]
        value = -ak
        if softmax:
            delta = ak[:, None] * A  # d(-a_k)/dz_j = -a_k (delta_kj - a_j)
            delta[rows, k] -= ak
        else:
            delta = np.zeros_like(A)
            delta[rows, k] = -ak * (1 - ak)
    fprime = _ACT[net.activation][1]
    weights = net.weights
    for l in range(len(weights) - 1, 0, -1):
        prev = delta @ weights[l]
        z, a = fwd.zs[l - 1], fwd.activations[l]
        prev *= fprime(z, a, np.empty_like(z))
        delta = prev
    grad = delta @ weights[0]
    if single:
        return value[0], grad[0], A[0]
    return value, grad, A


@dataclass(frozen=True, eq=False)
class DrawStep:
    """One moment of a drawing.

    Attributes
    ----------
    step : int
        Gradient steps taken so far.
    images : ndarray, shape (N, n_in)
        The images now (a copy), pixels in [0, 1].
    outputs : ndarray, shape (N, n_out)
        The network's outputs for them.
    value : ndarray, shape (N,)
        The objective (the cost against one-hot ``k``, or minus output ``k``).
    k : ndarray of int, shape (N,)
    """

    step: int
    images: np.ndarray
    outputs: np.ndarray
    value: np.ndarray
    k: np.ndarray

    @property
    def confidence(self) -> np.ndarray:
        """Output ``k`` of each image, shape (N,)."""
        return self.outputs[np.arange(len(self.k)), self.k]


def start_images(
    start: str | np.ndarray,
    n: int,
    n_in: int = 784,
    rng: np.random.Generator | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """The images a drawing starts from: ``"blank"`` (all 0), ``"noise"`` (uniform in [0, 1] from ``rng``)
    or given pixels (shape ``(n_in,)`` for all, or ``(n, n_in)``), clipped into [0, 1]."""
    if isinstance(start, str):
        if start == "blank":
            return np.zeros((n, n_in), dtype)
        if start == "noise":
            rng = rng if rng is not None else np.random.default_rng()
            return rng.random((n, n_in), dtype=np.float32).astype(dtype)
        raise ValueError(f"unknown start {start!r}; choose from {', '.join(STARTS)} or give an image")
    x = np.array(start, dtype, copy=True)
    if x.shape == (n_in,):
        x = np.repeat(x[None, :], n, axis=0)
    if x.shape != (n, n_in):
        raise ValueError(f"a start image must have {n_in} pixels, got shape {np.shape(start)}")
    return np.clip(x, 0.0, 1.0, out=x)


def iter_draw(
    net: Network,
    k: int | Sequence[int],
    start: str | np.ndarray = "blank",
    steps: int = 300,
    lr: float = 1.0,
    rng: np.random.Generator | None = None,
    objective: str = "cost",
    every: int = 10,
    stop: Callable[[], bool] | None = None,
) -> Iterator[DrawStep]:
    """Draw digit(s) ``k``: projected gradient descent on the pixels, yielding the images as they evolve.

    Each step: ``x <- clip(x - lr * g / |g|, 0, 1)`` where ``g`` is :func:`input_gradient` of each
    image's own objective and ``|g|`` its Euclidean norm (per image): each step moves the image by
    ``lr`` in pixel space (steepest descent of fixed length), because the raw gradient of a sigmoid
    network spans many orders of magnitude depending on where the image is, and one fixed rate would
    crawl or jump. The work is done in float64 (a float32 sigmoid saturates to exactly 0 or 1 sooner,
    and its gradient with it), on a copy of the network.

    Parameters
    ----------
    net : Network
        Not modified.
    k : int or sequence of int
        The digit to draw; a sequence draws one image per entry (a batch, in one pass per step).
    start : {"blank", "noise"} or ndarray
    steps : int
    lr : float
        Length of each step (Euclidean distance in pixel space; a pixel moves by at most ``lr``).
    rng : numpy.random.Generator, optional
        For the noise start.
    objective : {"cost", "output"}
    every : int
        Yield every ``every`` steps (and always the start and the last step).
    stop : callable, optional
        Checked between steps; when it returns True the drawing stops after yielding where it is.

    Yields
    ------
    DrawStep
        Step 0 (the start), then every ``every`` steps, and the last step.
    """
    ks = np.atleast_1d(np.asarray(k, np.intp))
    if ks.size == 0 or ks.min() < 0 or ks.max() >= net.sizes[-1]:
        raise ValueError(f"digits to draw must be in 0..{net.sizes[-1] - 1}, got {k}")
    if steps < 0 or not lr > 0:
        raise ValueError("need steps >= 0 and lr > 0")
    out_dtype = net.dtype
    if net.dtype != np.float64:
        wide = Network(net.sizes, net.activation, net.cost_name, np.float64, seed=None, init=None)
        wide.set_theta(net.theta)
        net = wide
    x = start_images(start, len(ks), net.sizes[0], rng, np.float64)
    Y = one_hot(ks, net.sizes[-1], np.float64)
    every = max(1, int(every))
    for t in range(steps + 1):
        value, g, out = input_gradient(net, x, Y, ks, objective)
        if t % every == 0 or t == steps or (stop is not None and stop()):
            yield DrawStep(t, x.astype(out_dtype), out.astype(out_dtype), value.copy(), ks)
            if t == steps or (stop is not None and stop()):
                return
        norm = np.sqrt(np.einsum("ij,ij->i", g, g))[:, None]
        np.maximum(norm, 1e-300, out=norm)
        x -= (lr / norm) * g
        np.clip(x, 0.0, 1.0, out=x)


def draw_digit(
    net: Network,
    k: int | Sequence[int],
    start: str | np.ndarray = "blank",
    steps: int = 300,
    lr: float = 1.0,
    rng: np.random.Generator | None = None,
    objective: str = "cost",
    callback: Callable[[DrawStep], object] | None = None,
    every: int = 10,
    stop: Callable[[], bool] | None = None,
) -> DrawStep:
    """Run :func:`iter_draw` to the end (or until ``stop``) and return its last :class:`DrawStep`;
    ``callback`` gets every yielded step on the way."""
    last = None
    for last in iter_draw(net, k, start, steps, lr, rng, objective, every, stop):
        if callback is not None:
            callback(last)
    assert last is not None  # iter_draw always yields step 0 (or raises)
    return last


def mean_digit_images(X: np.ndarray, labels: np.ndarray, n_classes: int = 10, chunk: int = 8192) -> np.ndarray:
    """The average image of each digit: shape ``(n_classes, n_in)`` (NaN rows for absent digits).

    ``X`` (N, n_in) may be a float array or a :class:`~digitviz.core.data.ScaledImages`: it is read
    ``chunk`` rows at a time, so the training set is never converted to floats whole.
    """
    labels = np.asarray(labels, np.intp)
    sums = np.zeros((n_classes, X.shape[1]))
    for i in range(0, len(labels), chunk):
        x = np.asarray(X[i : i + chunk], np.float64)
        onehot = np.zeros((len(x), n_classes))
        onehot[np.arange(len(x)), labels[i : i + chunk]] = 1.0
        sums += onehot.T @ x
    counts = np.bincount(labels, minlength=n_classes)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching rows of ``a`` and ``b`` (both (N, P) or (P,)); 0 for a flat row."""
    a = np.atleast_2d(np.asarray(a, np.float64))
    b = np.atleast_2d(np.asarray(b, np.float64))
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    num = (a * b).sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
