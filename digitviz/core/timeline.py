"""A run as a timeline: the parameter vector at many steps, in bounded memory.

"Going back in time" needs ``theta`` at past steps. :class:`Timeline` keeps them in ONE preallocated
array of at most ``max_bytes`` (64 MiB by default: 1,290 copies of the lesson's 13,002 float32
parameters), in three parts:

* the **head**: every step from 0 to ``head_steps - 1`` (a quarter of the rows by default, so the
  first ~320 steps of the lesson's network, the "fiddling phase", are all there);
* the **tail**: steps from ``head_steps`` on that are multiples of ``stride``; when the tail is full,
  every other point is dropped (those not multiples of ``2 * stride``) and the stride doubles, so the
  tail always spans the whole run, evenly;
* the **latest** step recorded, always (so the end of the run can be returned to).

``theta_at(s)`` gives the point kept at the last kept step at or before ``s``, bit for bit as recorded.

Imports: NumPy and the standard library only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEFAULT_MAX_BYTES = 64 << 20


class Timeline:
    """Bounded store of ``(step, theta)``.

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
        Of the stored parameters (the network's).
    max_bytes : int
        Memory for the stored parameters; at least 8 rows are kept whatever the bound.
    head_share : float
        Share of the rows given to the dense head (every step from 0).
    store : bool
        False: decide only (:meth:`admit`), keep no parameters. The training worker runs such a twin of
        the GUI's timeline so that only the points the GUI will keep cross threads.
    """

    def __init__(
        self,
        n_params: int,
        dtype: npt.DTypeLike = np.float32,
        max_bytes: int = DEFAULT_MAX_BYTES,
        head_share: float = 0.25,
        store: bool = True,
    ) -> None:
        if not (0 <= head_share < 1):
            raise ValueError("head_share must be in [0, 1)")
        self.n_params = int(n_params)
        self.dtype = np.dtype(dtype)
        row = self.n_params * self.dtype.itemsize
        self.capacity = int(max(8, max_bytes // row))
        self.head_steps = int(self.capacity * head_share)
        self._tail_cap = self.capacity - self.head_steps - 1  # the last row holds the latest step
        self.store = bool(store)
        self._buf = np.empty((self.capacity, self.n_params) if store else (self.capacity, 0), self.dtype)
        self._steps = np.full(self.capacity, -1, np.int64)
        self.clear()

    def clear(self) -> None:
        """Forget every point (a new run)."""
        self._steps[:] = -1
        self._n_head = 0
        self._n_tail = 0
        self.stride = 1
        self._latest = -1

    @property
    def nbytes(self) -> int:
        """Bytes of the parameter store (fixed at construction: the memory bound)."""
        return self._buf.nbytes

    @property
    def latest_step(self) -> int:
        """The last step recorded (-1 when empty)."""
        return self._latest

    def __len__(self) -> int:
        return len(self.steps())

    def next_kept(self, after: int) -> int:
        """The first step after ``after`` that :meth:`record` would keep (so a trainer that runs many
        steps per call can end a call there and lose no kept moment)."""
        s = int(after) + 1
        if s < self.head_steps:
            return s
        if self._tail_cap <= 0:
            return 1 << 62
        stride = self.stride * (2 if self._n_tail == self._tail_cap else 1)
        return -(-s // stride) * stride

    def kept_after(self, after: int, n: int, limit: int) -> np.ndarray:
        """The steps in ``after < t <= after + n`` that :meth:`record` would keep if offered them all in
        order (at most the first ``limit``), the timeline left unchanged: a trainer that runs many steps per
        call copies ``theta`` at these, then offers them. Shape (k,), int64, increasing."""
        sim = Timeline.__new__(Timeline)
        sim.__dict__.update(self.__dict__)
        sim._steps, sim._buf, sim.store = self._steps.copy(), self._buf[:, :0], False
        out: list[int] = []
        s, end = max(int(after), sim._latest), int(after) + int(n)
        while len(out) < limit:
            s = sim.next_kept(s)
            if s > end:
                break
            sim.record(s, None)
            out.append(s)
        return np.array(out, np.int64)

    def admit(self, step: int) -> bool:
        """Whether :meth:`record` would keep ``step`` beyond the latest point; updates the bookkeeping
        (thinning included) exactly as :meth:`record` does, without parameters (``store=False``)."""
        return self.record(step, None)

    def record(self, step: int, theta: np.ndarray | None) -> bool:
        """Offer ``theta`` at ``step`` (steps must increase); returns whether it is kept beyond being
        the latest point."""
        step = int(step)
        if step <= self._latest:
            raise ValueError(f"steps must increase: got {step} after {self._latest}")
        if theta is None:
            theta = np.zeros(self._buf.shape[1], self.dtype)
        else:
            theta = np.asarray(theta)
            if theta.shape != (self.n_params,):
                raise ValueError(f"expected {self.n_params} parameters, got shape {theta.shape}")
            if not self.store:
                theta = theta[:0]
        self._latest = step
        last = self.capacity - 1
        self._buf[last] = theta
        self._steps[last] = step
        if step < self.head_steps:
            self._buf[self._n_head] = theta
            self._steps[self._n_head] = step
            self._n_head += 1
            return True
        if step % self.stride:
            return False
        if self._n_tail == self._tail_cap:
            self._thin()
            if step % self.stride:
                return False
        if self._tail_cap <= 0:
            return False
        i = self.head_steps + self._n_tail
        self._buf[i] = theta
        self._steps[i] = step
        self._n_tail += 1
        return True

    def _thin(self) -> None:
        h = self.head_steps
        steps = self._steps[h : h + self._n_tail]
        keep = np.flatnonzero(steps % (2 * self.stride) == 0)
        k = len(keep)
        self._buf[h : h + k] = self._buf[h + keep]
        self._steps[h : h + k] = steps[keep]
        self._steps[h + k : h + self._n_tail] = -1
        self._n_tail = k
        self.stride *= 2

    def _rows(self) -> np.ndarray:
        """Row indices of the kept points in step order."""
        rows = list(range(self._n_head)) + list(range(self.head_steps, self.head_steps + self._n_tail))
        last = self.capacity - 1
        if self._latest >= 0 and (not rows or self._steps[rows[-1]] != self._latest):
            rows.append(last)
        return np.array(rows, np.intp)

    def steps(self) -> np.ndarray:
        """The kept steps, increasing: shape (K,)."""
        return self._steps[self._rows()].copy()

    def theta_at(self, step: int) -> tuple[int, np.ndarray]:
        """``(kept_step, theta)`` of the last kept step at or before ``step`` (the first kept one if
        ``step`` is earlier); ``theta`` is a copy, exactly as recorded."""
        rows = self._rows()
        if len(rows) == 0:
            raise LookupError("the timeline is empty")
        steps = self._steps[rows]
        i = max(0, int(np.searchsorted(steps, int(step), side="right")) - 1)
        return int(steps[i]), self._buf[rows[i]].copy()
