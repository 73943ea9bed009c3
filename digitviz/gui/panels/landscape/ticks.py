"""Axis labelling for the landscape's plots: cost ticks on a log axis, training steps written short.

Imports: NumPy and pyqtgraph.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg


def cost_ticks(lo: float, hi: float):
    """Tick levels for an axis that shows log10(cost) over ``[lo, hi]``, labelled in cost.

    Over a decade or more: powers of ten first, then 2x and 5x (pyqtgraph drops a level that
    does not fit). Over a narrower range: evenly spaced round costs, placed at their logarithms.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [[]]
    if hi - lo >= 1.0:
        e0, e1 = math.floor(lo), math.ceil(hi)
        major = [(float(e), f"{10.0**e:g}") for e in range(e0, e1 + 1)]
        minor = [(math.log10(m * 10.0**e), f"{m * 10.0**e:g}") for e in range(e0, e1 + 1) for m in (2, 5)]
        return [major, minor]
    c_lo, c_hi = 10.0**lo, 10.0**hi
    raw = (c_hi - c_lo) / 4
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    values = np.arange(math.ceil(c_lo / step) * step, c_hi + 1e-9 * step, step)
    digits = max(0, -math.floor(math.log10(step)))
    return [[(math.log10(v), f"{v:.{digits}f}") for v in values if v > 0]]


class _StepAxis(pg.AxisItem):
    """Training steps written short (20k, 1.5M), so a narrow plot's tick labels do not run together."""

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            v = v * scale
            a = abs(v)
            if a >= 1e6:
                out.append(f"{v / 1e6:g}M")
            elif a >= 1e3:
                out.append(f"{v / 1e3:g}k")
            else:
                out.append(f"{v:g}")
        return out
