"""The overconfidence probe: how sure is the network about images that are not digits?

The lesson's point: a network trained only on digits answers a random-noise image as confidently
as a real digit, because nothing in its training ever asked it to be unsure. :func:`probe` feeds
``n`` noise images and ``n`` test digits through a network (one forward pass each) and reports
the distribution of the top output for both, the share above a threshold, and which digits the
noise is taken for. Training with ``TrainConfig.doubt`` > 0 (outlier exposure, Hendrycks et al.
2019) should pull the noise histogram down; the test accuracy measures what doubting costs.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .inputs import noise

if TYPE_CHECKING:
    from .network import Network


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """What :func:`probe` measured.

    Attributes
    ----------
    noise_top : ndarray, shape (n,)
        The largest output for each noise image (a raw sigmoid activation, or a softmax probability).
    digits_top : ndarray, shape (n,)
        The largest output for each sampled test digit.
    noise_confident_share : float
        Share of noise images whose top output exceeds ``threshold``.
    digits_confident_share : float
        Share of sampled test digits whose top output exceeds ``threshold``.
    noise_answers : ndarray, shape (n_out,), int
        How many noise images were answered as each digit.
    test_acc : float
        Accuracy on all the test digits given (not only the sample).
    digits_acc : float
        Accuracy on the sampled test digits.
    kind : str
        The noise kind.
    threshold : float
    n : int
        Noise images fed (the digit sample has ``min(n, len(test_X))``).
    """

    noise_top: np.ndarray
    digits_top: np.ndarray
    noise_confident_share: float
    digits_confident_share: float
    noise_answers: np.ndarray
    test_acc: float
    digits_acc: float
    kind: str
    threshold: float
    n: int


def probe(
    net: Network,
    test_X: np.ndarray,
    test_labels: np.ndarray,
    rng: np.random.Generator,
    n: int = 1000,
    kind: str = "uniform",
    threshold: float = 0.9,
) -> ProbeResult:
    """Compare the network's confidence on noise images with its confidence on real digits.

    Parameters
    ----------
    net : Network
        Its own ``theta`` is used; it is not modified.
    test_X : ndarray, shape (M, n_in)
        Test images in [0, 1].
    test_labels : ndarray, shape (M,)
    rng : numpy.random.Generator
        Draws the ``n`` noise images first (:func:`digitviz.core.inputs.noise`), then the sample of
        ``min(n, M)`` test digits (without replacement), in that order.
    n : int
    kind : {"uniform", "gaussian", "blank"}
    threshold : float
        "Confident" means a top output strictly above this.

    Returns
    -------
    ProbeResult
    """
    test_X = np.asarray(test_X)
    test_labels = np.asarray(test_labels)
    if len(test_X) == 0 or len(test_X) != len(test_labels):
        raise ValueError(f"need test images and as many labels, got {len(test_X)} and {len(test_labels)}")
    X_noise = noise(rng, kind, n, n_in=net.sizes[0], dtype=net.dtype)
    sample = rng.choice(len(test_X), size=min(n, len(test_X)), replace=False)

    noise_out = net.feedforward(X_noise)
    # one pass over every test digit gives both the accuracy and the sample's outputs
    test_out = net.feedforward(test_X)
    predictions = test_out.argmax(axis=1)
    digits_out = test_out[sample]

    noise_top = noise_out.max(axis=1).astype(np.float64)
    digits_top = digits_out.max(axis=1).astype(np.float64)
    answers = np.bincount(noise_out.argmax(axis=1), minlength=net.sizes[-1])
    return ProbeResult(
        noise_top=noise_top,
        digits_top=digits_top,
        noise_confident_share=float(np.mean(noise_top > threshold)),
        digits_confident_share=float(np.mean(digits_top > threshold)),
        noise_answers=answers,
        test_acc=float(np.mean(predictions == test_labels)),
        digits_acc=float(np.mean(predictions[sample] == test_labels[sample])),
        kind=kind,
        threshold=float(threshold),
        n=int(n),
    )
