"""A replay of the run's timeline as a recording: which kept moment each frame shows, and what it says.

The timeline (:mod:`digitviz.core.timeline`) keeps the parameters at many past steps ("kept moments").
A replay plays them back, from the first to the latest, at a chosen speed: either so many kept moments
per second of video, or a total duration. :func:`plan_replay` turns that into one kept moment per video
frame:

* ``N >= K`` frames for ``K`` moments: frame ``i`` shows moment ``floor(i K / N)``; every moment is shown,
  for ``floor(N / K)`` or ``ceil(N / K)`` frames (held), the last frame shows the last moment;
* ``N < K``: the frames show ``N`` moments spread evenly by index, the first and the last included.

Moments are spread by index, not by step: the timeline keeps the first steps densely (every step of the
"fiddling phase") and later ones thinned, so a replay spends more of its time on the start of the run,
exactly as the timeline bar does.

:func:`accuracy_notes` says, for each moment, what test accuracy is known of it: the epoch records
measure the test set at an epoch's end, so a moment gets the accuracy measured at its own step if there
is one, else the one last measured before it (and says at which step), else none. Or each moment is
measured (:func:`measure_accuracies`, a job: one forward pass of a sample of the test set per moment), and
its caption says on how many test images.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_FRAMES = 3600
"""At most this many frames in a replay (4 minutes at 15 fps): a GIF keeps every frame in memory until
it is written."""


class ReplayError(ValueError):
    """A replay cannot be planned; the message is one line."""


@dataclass(frozen=True)
class ReplayPlan:
    """Which kept moment each frame of a replay shows.

    Attributes
    ----------
    steps : ndarray, shape (K,)
        The kept steps replayed, increasing.
    moments : ndarray, shape (N,)
        For each frame, the index into ``steps`` of the moment it shows (non-decreasing; starts at 0,
        ends at K - 1).
    fps : float
        Frames per second of the video.
    """

    steps: np.ndarray
    moments: np.ndarray
    fps: float

    @property
    def frames(self) -> int:
        return len(self.moments)

    @property
    def seconds(self) -> float:
        """Length of the video."""
        return self.frames / self.fps

    @property
    def frame_steps(self) -> np.ndarray:
        """The step each frame shows, shape (N,)."""
        return self.steps[self.moments]

    def runs(self) -> list[tuple[int, int]]:
        """``(moment index, frames)`` for each moment shown, in order: each is rendered once, held that
        many frames."""
        m = self.moments
        starts = np.flatnonzero(np.r_[True, m[1:] != m[:-1]])
        counts = np.diff(np.r_[starts, len(m)])
        return [(int(m[s]), int(c)) for s, c in zip(starts, counts, strict=True)]


def spread(k: int, n: int) -> np.ndarray:
    """``n`` moment indices out of ``k``, non-decreasing, first 0 and last ``k - 1``: each moment held
    equally long (to one frame) when ``n >= k``, moments spread evenly when ``n < k``. Shape (n,)."""
    if k < 1 or n < 1:
        raise ReplayError("nothing to replay")
    i = np.arange(n, dtype=np.int64)
    if n >= k:
        return (i * k) // n
    if n == 1:
        return np.array([k - 1], np.int64)
    return (i * (k - 1) * 2 + (n - 1)) // (2 * (n - 1))  # round(i (k-1) / (n-1)) in integers, halves up


def plan_replay(
    steps: Sequence[int] | np.ndarray,
    fps: float,
    *,
    moments_per_s: float | None = None,
    duration_s: float | None = None,
    max_frames: int = MAX_FRAMES,
) -> ReplayPlan:
    """The frames of a replay of ``steps`` (the kept moments) at ``fps``, at one of two speeds.

    Parameters
    ----------
    steps : array of int, shape (K,)
        The kept steps, increasing.
    fps : float
        Frames per second of the video.
    moments_per_s : float, optional
        Kept moments shown per second: ``N = round(K fps / moments_per_s)`` frames (at least 1).
    duration_s : float, optional
        Total length: ``N = round(duration_s fps)`` frames (at least 1). Give exactly one of the two.
    max_frames : int
        A plan longer than this is refused (one line saying so).

    Raises
    ------
    ReplayError
        One line: empty timeline, no or two speeds, a speed that is not positive, too many frames.
    """
    steps = np.asarray(steps, np.int64).reshape(-1)
    k = len(steps)
    if k == 0:
        raise ReplayError("the timeline is empty: train a few steps first")
    if np.any(np.diff(steps) <= 0):
        raise ReplayError("the kept steps must increase")
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ReplayError(f"frames per second must be positive, got {fps}")
    if (moments_per_s is None) == (duration_s is None):
        raise ReplayError("give the replay speed either in kept moments per second or as a total duration")
    if moments_per_s is not None:
        if not (math.isfinite(moments_per_s) and moments_per_s > 0):
            raise ReplayError(f"kept moments per second must be positive, got {moments_per_s}")
        n_real = k * fps / moments_per_s
    else:
        assert duration_s is not None
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise ReplayError(f"the replay's duration must be positive, got {duration_s}")
        n_real = duration_s * fps
    n = max(1, round(n_real))
    if n > max_frames:
        raise ReplayError(
            f"that replay would be {n:,} frames ({n / fps:,.0f} s); at most {max_frames:,}: choose a faster speed"
        )
    return ReplayPlan(steps.copy(), spread(k, n), float(fps))


@dataclass(frozen=True)
class AccuracyNote:
    """What test accuracy is known of one moment.

    Attributes
    ----------
    accuracy : float
        NaN when nothing was measured at or before the moment.
    measured_at : int
        The step it was measured at (-1: never); equal to the moment's step when measured there.
    epoch : int
        Epochs finished by the moment (epoch records at or before its step).

    sample : int
        0: measured on the whole test set (an epoch's end); else on that many test images.
    """

    accuracy: float
    measured_at: int
    epoch: int
    sample: int = 0

    def text(self, step: int) -> str:
        """The accuracy part of a caption for the moment at ``step``."""
        if self.measured_at < 0 or math.isnan(self.accuracy):
            return "test accuracy not measured yet"
        if self.measured_at == step and self.sample:
            return f"test accuracy {self.accuracy:.1%} on {self.sample:,} test images"
        if self.measured_at == step:
            return f"test accuracy {self.accuracy:.1%}"
        return f"test accuracy {self.accuracy:.1%} as last measured (step {self.measured_at:,})"


def accuracy_notes(steps: Iterable[int], measured: Iterable[tuple[int, float]]) -> list[AccuracyNote]:
    """For each of ``steps``, the test accuracy known of it.

    Parameters
    ----------
    steps : iterable of int
        Moments' steps.
    measured : iterable of (int, float)
        ``(step, test accuracy)`` of each measure (the epoch records), any order; NaN accuracies count as
        an epoch's end but not as a measure.
    """
    pts = sorted((int(s), float(a)) for s, a in measured)
    at = np.array([s for s, _ in pts], np.int64)
    good = [(s, a) for s, a in pts if not math.isnan(a)]
    good_at = np.array([s for s, _ in good], np.int64)
    out = []
    for s in steps:
        s = int(s)
        epoch = int(np.searchsorted(at, s, side="right"))
        j = int(np.searchsorted(good_at, s, side="right")) - 1
        if j < 0:
            out.append(AccuracyNote(float("nan"), -1, epoch))
        else:
            out.append(AccuracyNote(good[j][1], good[j][0], epoch))
    return out


def caption(step: int, note: AccuracyNote) -> str:
    """The text burned into a replayed frame: the moment's step, epoch and the accuracy known of it."""
    return f"replay · step {int(step):,}  ·  epoch {note.epoch}  ·  {note.text(int(step))}"


def measure_accuracies(
    control: Callable[[], bool], net: Any, thetas: Sequence[np.ndarray], X: np.ndarray, labels: np.ndarray
) -> Generator[int, None, np.ndarray]:
    """The accuracy on ``(X, labels)`` of ``net`` with each of ``thetas``; a generator for
    :mod:`digitviz.gui.jobs` (yields how many are measured; returns them, shape (M,)).

    Parameters
    ----------
    control : callable
        True once the job is cancelled: the measure stops (returns what it has, NaN for the rest).
    net : Network
        Its architecture (its own parameters are not used).
    thetas : sequence of ndarray, shape (P,)
    X : ndarray, shape (N, n_in)
    labels : ndarray, shape (N,)
    """
    labels = np.asarray(labels).astype(np.intp)
    out = np.full(len(thetas), np.nan)
    for i, theta in enumerate(thetas):
        if control():
            break
        out[i] = float(np.mean(np.argmax(net.feedforward(X, theta), axis=1) == labels))
        yield i + 1
    return out
