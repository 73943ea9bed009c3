"""Series over training steps: one bounded buffer type, and the maths the learning curves draw with.

:class:`BoundedSeries` keeps ``(step, value)`` records of a run of any length in bounded memory. When
it is full it halves: either it keeps every other point (a descent path: each point is a real theta
the run went through) or it averages pairs (a cost curve: the mean stays the mean), and its stride
doubles. The training history, the controller's descent path and the learning curves all use it.

The curve helpers (:func:`peak_decimate`, :func:`subsample`, :func:`ema`, :func:`nice_ceil`) turn
long series into what a plot can draw in a few milliseconds.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
import numpy.typing as npt


@overload
def frozen_copy(a: np.ndarray, copy: bool = True) -> np.ndarray: ...
@overload
def frozen_copy(a: None, copy: bool = True) -> None: ...
def frozen_copy(a: np.ndarray | None, copy: bool = True) -> np.ndarray | None:
    """``a`` made read-only: a copy (default), or ``a`` itself with ``copy=False`` (None stays None).

    The one way an array is frozen before it crosses a thread or goes into a shared record.
    """
    if a is None:
        return None
    c = np.array(a, copy=True) if copy else a
    c.flags.writeable = False
    return c


class BoundedSeries:
    """Append-only records ``(step, value)`` with ascending steps, in at most ``capacity`` points.

    Parameters
    ----------
    capacity : int
        Most points kept (rounded up to an even number). When full, the series halves and
        ``stride`` doubles, so it always spans the whole run.
    width : int or None
        ``None``: each value is a scalar, ``values()`` has shape ``(n,)``. ``k``: each value is a
        row of ``k`` numbers, ``values()`` has shape ``(n, k)``.
    dtype : numpy dtype
        Of the values. ``object`` holds references (e.g. read-only theta vectors), never copies.
    mean : bool
        ``False``: halving keeps every other point (the first stays). ``True``: halving averages
        pairs, and later appends are averaged in buckets of ``stride`` raw points; each stored
        point's step is the last step of its bucket.
    initial : int
        First allocation; it doubles up to ``capacity`` as points arrive.

    Attributes
    ----------
    n : int
        Points stored.
    stride : int
        How many times the series has halved, as a power of two (1: nothing dropped or averaged).
    """

    def __init__(
        self,
        capacity: int = 1 << 18,
        width: int | None = None,
        dtype: npt.DTypeLike = np.float64,
        mean: bool = False,
        initial: int = 1024,
    ) -> None:
        self.capacity = max(2, int(capacity) + int(capacity) % 2)
        self.width = width
        self.dtype = np.dtype(dtype)
        self.mean = bool(mean)
        if self.mean and self.dtype.kind != "f":
            raise ValueError("a mean series needs float values")
        self._initial = max(2, min(int(initial), self.capacity))
        self.clear()

    def clear(self) -> None:
        """Forget every point (the allocation shrinks back to ``initial``)."""
        self.n = 0
        self.stride = 1
        self._steps = np.empty(self._initial, np.int64)
        self._values = np.empty((self._initial,) if self.width is None else (self._initial, self.width), self.dtype)
        self._acc: float | np.ndarray = 0.0  # mean mode: sum and count of the bucket being filled
        self._acc_n = 0
        self._last: int | None = None  # last raw step appended

    def __len__(self) -> int:
        return self.n

    def keep_last(self, k: int = 1) -> None:
        """Drop all but the last ``k`` stored points (the stride and last step stay as they were)."""
        k = max(0, min(int(k), self.n))
        if k < self.n:
            self._steps[:k] = self._steps[self.n - k : self.n]
            self._values[:k] = self._values[self.n - k : self.n]
            self._values[k : self.n] = 0 if self.dtype != object else None  # release dropped objects
            self.n = k

    @property
    def last_step(self) -> int | None:
        """The last step appended (also one still pending in a bucket), or None."""
        return self._last

    def steps(self) -> np.ndarray:
        """Steps of the stored points, shape ``(n,)`` int64 (a view: valid until the next append)."""
        return self._steps[: self.n]

    def values(self) -> np.ndarray:
        """Stored values, shape ``(n,)`` or ``(n, width)`` (a view: valid until the next append)."""
        return self._values[: self.n]

    # appending

    def append(self, step: int, value: float | np.ndarray) -> bool:
        """Add one point. A step not after the last one is ignored (returns False)."""
        # called once a training step by the history: kept to plain attribute work
        last = self._last
        if last is not None and step <= last:
            return False
        self._last = step
        if not self.mean:
            if self.n == len(self._steps) and not self._grow():
                self._halve()
            self._steps[self.n] = step
            self._values[self.n] = value
            self.n += 1
            return True
        if self.width is None:
            self._acc += value
        else:
            self._acc = self._acc + np.asarray(value, self.dtype)
        self._acc_n += 1
        if self._acc_n >= self.stride:
            n = self.n
            if n < len(self._steps):  # _flush, inlined for the common case
                self._steps[n] = step
                self._values[n] = self._acc / self._acc_n
                self.n = n + 1
                self._acc, self._acc_n = 0.0, 0
            else:
                self._flush(step)
        return True

    def extend(self, steps: np.ndarray, values: np.ndarray) -> None:
        """Add many points: ``steps`` (m,) ascending, ``values`` (m,) or (m, width)."""
        if not self.mean or self.dtype.kind == "O":
            for s, v in zip(steps, values):
                self.append(s, v)
            return
        steps = np.asarray(steps, np.int64)
        values = np.asarray(values, self.dtype).reshape((len(steps),) if self.width is None else (-1, self.width))
        if self._last is not None and len(steps) and steps[0] <= self._last:
            keep = steps > self._last
            steps, values = steps[keep], values[keep]
        m = len(steps)
        if not m:
            return
        self._last = int(steps[-1])
        i = 0
        while i < m:
            if self._acc_n or m - i < self.stride:  # fill the open bucket first
                take = min(self.stride - self._acc_n, m - i)
                self._acc = self._acc + values[i : i + take].sum(axis=0)
                self._acc_n += take
                i += take
                if self._acc_n >= self.stride:
                    self._flush(int(steps[i - 1]))
                continue
            room = len(self._steps) - self.n
            if not room:
                if not self._grow():
                    self._halve()
                continue
            s = self.stride
            k = min((m - i) // s, room)
            block = values[i : i + k * s]
            self._values[self.n : self.n + k] = block.reshape((k, s) + block.shape[1:]).mean(axis=1)
            self._steps[self.n : self.n + k] = steps[i + s - 1 : i + k * s : s]
            self.n += k
            i += k * s

    def _flush(self, step: int) -> None:
        """Store the full bucket; when there is no room, halve and keep it open (it is half full then)."""
        if self.n == len(self._steps) and not self._grow():
            self._halve()
            return
        self._steps[self.n] = step
        self._values[self.n] = self._acc / self._acc_n
        self.n += 1
        self._acc, self._acc_n = 0.0, 0

    def _grow(self) -> bool:
        size = len(self._steps)
        if size >= self.capacity:
            return False
        new = min(self.capacity, 2 * size)
        steps = np.empty(new, np.int64)
        values = np.empty((new,) + self._values.shape[1:], self.dtype)
        steps[: self.n] = self._steps[: self.n]
        values[: self.n] = self._values[: self.n]
        self._steps, self._values = steps, values
        return True

    def _halve(self) -> None:
        n = self.n
        if self.mean:
            h = n // 2
            v = self._values
            v[:h] = v[: 2 * h].reshape((h, 2) + v.shape[1:]).mean(axis=1)
            self._steps[:h] = self._steps[1 : 2 * h : 2]
        else:
            h = (n + 1) // 2
            self._values[:h] = self._values[0:n:2].copy()
            self._steps[:h] = self._steps[0:n:2].copy()
            if self.dtype.kind == "O":
                self._values[h:n] = None  # let the dropped arrays go
        self.n = h
        self.stride *= 2


# ---------------------------------------------------------------------------------------------------
# Curve maths


def nice_ceil(v: float) -> float:
    """The smallest "round" number >= v, from 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k (1.0 for v <= 0 or
    not finite). Plot ranges set to these change rarely, so axes are redrawn rarely."""
    if not v > 0 or not math.isfinite(v):
        return 1.0
    e = 10.0 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def peak_decimate(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~``2 n`` points that keep every bucket's minimum and maximum (the noise band stays visible).

    Parameters
    ----------
    x, y : ndarray, shape (m,)
    n : int
        Buckets (about one per pixel column).

    Returns
    -------
    x, y : ndarray
        ``(x, y)`` themselves when ``m < 2 n``; otherwise each bucket's first x twice, with its min and
        max, then the points left over.
    """
    k = len(x) // n
    if k < 2:
        return x, y
    m = k * (len(x) // k)
    yb = y[:m].reshape(-1, k)
    xs = np.repeat(x[:m:k], 2)
    ys = np.column_stack([yb.min(axis=1), yb.max(axis=1)]).ravel()
    return np.concatenate([xs, x[m:]]), np.concatenate([ys, y[m:]])


def subsample(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th point of a smooth curve (at most ~``n``), and the last one; ``(x, y)`` if short."""
    k = len(x) // n
    if k < 2:
        return x, y
    return np.append(x[::k], x[-1]), np.append(y[::k], y[-1])


def ema(values: np.ndarray, start: float, alpha: float, count: int | None = None) -> tuple[np.ndarray, float]:
    """Exponential moving average ``e <- e + alpha (v - e)`` of ``values`` (m,), continuing from ``start``.

    ``start`` NaN starts at the first value. With ``count`` (how many values ``start`` already averages)
    the first ``1 / alpha`` values get the running mean instead (weight ``max(alpha, 1 / (count + i + 1))``),
    so a curve of a few steps follows them rather than staying near the first one.
    Returns ``(averages (m,), last average)``.
    """
    values = np.asarray(values, np.float64)
    out = np.empty_like(values)
    e, a = float(start), float(alpha)
    n = None if count is None else int(count)
    for i, v in enumerate(values.tolist()):
        w = a if n is None else max(a, 1.0 / (n + i + 1))
        e = v if math.isnan(e) else e + w * (v - e)  # NaN: the very first step
        out[i] = e
    return out, e
