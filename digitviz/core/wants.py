"""What each neuron wants: backpropagation for one example, layer by layer.

The lesson calls backpropagation the heart of learning: for one training example, the cost "wants"
each output neuron to move towards its desired value, in proportion to how far off it is (for the
lesson's quadratic cost ``C = sum_j (a_j - y_j)**2``, ``dC/da_j = 2 (a_j - y_j)``), and each hidden
neuron's wish is the sum of the wishes of the neurons it feeds, weighted by the connections and the
slopes of their activations: ``dC/da^(l) = W^(l+1).T (f'(z^(l+1)) * dC/da^(l+1))``.

:func:`neuron_wants` returns, for one example, ``dC/da`` of every neuron and the "wants" ``-dC/da``
(positive: the cost would fall if this activation rose), plus the gradient of that example's cost for
every connection and bias, laid out like ``theta``.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .network import _ACT, Network, one_hot


@dataclass(frozen=True, eq=False)
class Wants:
    """Backpropagation of one example's cost.

    Attributes
    ----------
    activations : list of ndarray
        ``a`` per layer after the input, shapes ``(n_l,)``.
    dC_da : list of ndarray
        ``dC/da`` per layer after the input, shapes ``(n_l,)``; the output layer's is ``2 (a - y)`` for
        the quadratic cost (``-y / a`` for softmax cross-entropy).
    dC_dz : list of ndarray
        ``dC/dz`` per layer after the input (backprop's ``delta``); equals the bias gradient.
    grad : ndarray, shape (P,)
        Gradient of this example's cost with respect to ``theta`` (connections and biases).
    grad_views : list of (ndarray, ndarray)
        Per-layer ``(dC/dW (n_out, n_in), dC/db (n_out,))`` views into ``grad``.
    cost : float
        This example's cost.
    """

    activations: list
    dC_da: list
    dC_dz: list
    grad: np.ndarray
    grad_views: list
    cost: float

    @property
    def wants(self) -> list:
        """``-dC/da`` per layer after the input: how the cost wants each activation to change."""
        return [-d for d in self.dC_da]


def neuron_wants(
    net: Network, x: np.ndarray, y: np.ndarray | None = None, label: int | None = None, theta: np.ndarray | None = None
) -> Wants:
    """Backpropagate one example's cost through ``net`` (in float64).

    Parameters
    ----------
    net : Network
        Not modified.
    x : ndarray, shape (n_in,)
    y : ndarray, shape (n_out,), optional
        Desired outputs; default one-hot of ``label``.
    label : int, optional
    theta : ndarray, shape (P,), optional
        Parameters to use instead of the network's own (e.g. a snapshot's).

    Returns
    -------
    Wants
    """
    x = np.asarray(x, np.float64).reshape(-1)
    if x.shape != (net.sizes[0],):
        raise ValueError(f"expected one input of {net.sizes[0]} values, got shape {np.shape(x)}")
    if y is None:
        if label is None:
            raise ValueError("give the desired outputs y or the label")
        y = one_hot([label], net.sizes[-1], np.float64)[0]
    y = np.asarray(y, np.float64)
    theta = np.asarray(net.theta if theta is None else theta, np.float64)
    views = net.layout.views(theta)
    f, fprime = _ACT[net.activation]
    softmax = net.cost_name == "cross_entropy"
    zs, acts = [], []
    a = x
    L = len(views) - 1
    for l, (w, b) in enumerate(views):
        z = w @ a + b
        if l < L:
            a = f(z, np.empty_like(z))
        elif softmax:
            e = np.exp(z - z.max())
            a = e / e.sum()
        else:
            a = 1.0 / (1.0 + np.exp(-z))
        zs.append(z)
        acts.append(a)
    A = acts[-1]
    if softmax:
        tiny = np.finfo(np.float64).tiny
        cost = float(-np.sum(y * np.log(np.maximum(A, tiny))))
        da = -y / np.maximum(A, tiny)
        dz = A - y
    else:
        cost = float(np.sum((A - y) ** 2))
        da = 2.0 * (A - y)
        dz = da * A * (1.0 - A)
    # filled from the output layer back: every entry is an array once the loop below is done
    dC_da: list[Any] = [None] * len(views)
    dC_dz: list[Any] = [None] * len(views)
    dC_da[L], dC_dz[L] = da, dz
    for l in range(L, 0, -1):
        da = views[l][0].T @ dC_dz[l]
        dC_da[l - 1] = da
        dC_dz[l - 1] = da * fprime(zs[l - 1], acts[l - 1], np.empty_like(da))
    grad = np.empty(net.layout.size, np.float64)
    gviews = net.layout.views(grad)
    for l, (gw, gb) in enumerate(gviews):
        a_in = x if l == 0 else acts[l - 1]
        np.outer(dC_dz[l], a_in, out=gw)
        gb[...] = dC_dz[l]
    return Wants(acts, dC_da, dC_dz, grad, gviews, cost)
