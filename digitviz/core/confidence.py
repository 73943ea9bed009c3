"""Reading a confidence honestly: "as sure as for X% of real digits".

A top output of 0.43 on noise sounds hesitant, 0.98 sounds sure; but what counts is how the network
answers *real* digits. :func:`sure_as_share` gives the share of real test digits whose top output is
below a given one, so a noise answer reads "as sure as for 62% of real digits" whatever the network.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .network import Network


def top_outputs(net: Network, X: np.ndarray) -> np.ndarray:
    """The largest output of ``net`` for each row of ``X``: shape (N,), float64."""
    return net.feedforward(X).max(axis=1).astype(np.float64)


def sure_as_share(top: npt.ArrayLike, digits_top: np.ndarray) -> np.ndarray | float:
    """Share of real digits whose top output is strictly below ``top``.

    Parameters
    ----------
    top : float or ndarray
        Top output(s) of the answer(s) to place (e.g. for a noise image).
    digits_top : ndarray, shape (M,)
        Top outputs of the network for real test digits (:func:`top_outputs`).

    Returns
    -------
    float (for a scalar ``top``) or ndarray like ``top``, in [0, 1]
    """
    d = np.sort(np.asarray(digits_top, np.float64).ravel())
    if d.size == 0:
        raise ValueError("need the top outputs of at least one real digit")
    share = np.searchsorted(d, np.asarray(top, np.float64), side="left") / d.size
    return float(share) if np.ndim(share) == 0 else share


def sure_as_text(top: float, digits_top: np.ndarray) -> str:
    """``"as sure as for 62% of real digits"`` (share of real digits answered less surely)."""
    return f"as sure as for {sure_as_share(top, digits_top):.0%} of real digits"
