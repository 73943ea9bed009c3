"""Drawing the landscape (:class:`DrawingMixin`): the map, its contours, the path, the markers and the arrow.

Only existing items are updated (``setImage``, ``setData``, ``setPos``); nothing is rebuilt.

Imports: NumPy, PySide6, pyqtgraph, :mod:`digitviz.core.landscape`, :mod:`digitviz.gui.colors` and this
package's constants and ticks.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from digitviz.core import landscape as ls

from ... import colors
from .constants import ARROW_FRACTION, COLOR_NOW, COLOR_START, MIN_COST, N_CONTOURS
from .ticks import cost_ticks


class DrawingMixin:
    """Drawing for :class:`~digitviz.gui.panels.landscape.LandscapePanel`."""

    def _display(self, costs):
        costs = np.asarray(costs, np.float64)
        if self.scale.currentData() == "log":
            with np.errstate(invalid="ignore"):
                return np.log10(np.maximum(costs, MIN_COST))
        return costs

    def _draw_surface(self, res):
        Zd = self._display(res.Z)
        finite = Zd[np.isfinite(Zd)]
        if finite.size == 0:
            return
        # the map's own range: path points beyond it take the end colours (and the side plot tells)
        lo, hi = float(finite.min()), float(finite.max())
        if not hi > lo:
            hi = lo + max(1e-6, abs(lo) * 1e-3)
        self._levels = (lo, hi)
        Zd = np.nan_to_num(Zd, nan=hi, posinf=hi, neginf=lo)
        self.image.setImage(Zd, levels=self._levels)
        a, b = res.alphas, res.betas
        da = (a[-1] - a[0]) / max(1, len(a) - 1) if len(a) > 1 else 1.0
        db = (b[-1] - b[0]) / max(1, len(b) - 1) if len(b) > 1 else 1.0
        ox, oy = self._offset
        self.image.setRect(QRectF(a[0] - da / 2 + ox, b[0] - db / 2 + oy, da * len(a), db * len(b)))
        self.colorbar.setLevels((lo, hi))
        log = self.scale.currentData() == "log"
        self.colorbar.axis.setTicks(cost_ticks(lo, hi) if log else None)
        self.colorbar.getAxis("left").setLabel("cost" + (" (log scale)" if log else ""))
        for level, c in zip(np.linspace(lo, hi, N_CONTOURS + 2)[1:-1], self.contours):
            c.setData(Zd, level)
        plane = res.plane
        self.map_plot.setLabel("bottom", self._axis_label(plane, 0))
        self.map_plot.setLabel("left", self._axis_label(plane, 1))
        self.map_plot.fit_text()  # new labels: fitted to the room they have
        self.map_plot.setRange(xRange=(a[0] + ox, a[-1] + ox), yRange=(b[0] + oy, b[-1] + oy), padding=0.0)

    def _axis_label(self, plane, k):
        name = (plane.label1, plane.label2)[k]
        if plane.kind == "pca" and plane.explained is not None and plane.explained[k] > 0:
            return f"{name} ({100 * plane.explained[k]:.0f}% of the path's spread)"
        if plane.kind == "random":
            return f"{name} (filter-normalised, seed {self.seed.value()})"
        if plane.kind == "params":
            return f"{name} (its value)"
        return name

    def _clear_surface(self):
        self.plane = None
        self._shown = None
        self.surface = None
        self._offset = np.zeros(2)
        self.image.clear()
        for c in self.contours:
            c.setData(None)
        self._line = None
        self._draw_line()
        self.now_marker.setData([], [])
        self._now_ab = None
        for item in (self.arrow_line, self.arrow_head, self.now_text):
            item.setVisible(False)
        self._path_dirty = True
        self._redraw_path()

    def _redraw_path(self):
        self._path_dirty = False
        n = self._n
        steps = self._steps[:n]
        true, on_plane = self._display(self._true[:n]), self._display(self._on_plane[:n])
        self.true_curve.setData(steps, true, connect="finite")
        self.plane_curve.setData(steps, on_plane, connect="finite")
        self._set_cost_ticks(self.path_plot, true, on_plane)
        self.dist_curve.setData(steps, self._dist[:n], connect="finite")
        if self.plane is None or n == 0:
            self.path_line.setData([], [])
            self.path_points.setData([], [])
            self.start_marker.setData([], [])
            self.start_text.setVisible(False)
            return
        xy = self._coords[:n] + self._offset
        self.path_line.setData(xy[:, 0], xy[:, 1])
        self.path_points.setData(pos=xy, brush=self._path_brushes(self._true[:n]))
        self.start_marker.setData(pos=xy[:1])
        self.start_text.setPos(*xy[0])
        self.start_text.setVisible(True)
        self._update_tail()

    def _set_cost_ticks(self, plot, *arrays):
        if self.scale.currentData() != "log":
            plot.getAxis("left").setTicks(None)
            return
        vals = np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
        vals = vals[np.isfinite(vals)]
        if vals.size:
            pad = 0.05 * max(float(np.ptp(vals)), 1e-3)
            plot.getAxis("left").setTicks(cost_ticks(float(vals.min()) - pad, float(vals.max()) + pad))

    def _draw_line(self):
        if self._line is None:
            self.line_curve.setData([], [])
            self.line_marks.setData([], [])
            return
        t, costs = self._line
        y = self._display(costs)
        self.line_curve.setData(t, y)
        self._set_cost_ticks(self.line_plot, y)
        ends = [int(np.argmin(np.abs(t - v))) for v in (0.0, 1.0)]
        self.line_marks.setData(
            t[ends],
            y[ends],
            brush=[pg.mkBrush(COLOR_START), pg.mkBrush(COLOR_NOW)],
            symbol=["s", "star"],
            size=[9, 15],
            pen=pg.mkPen("#14161a"),
        )

    def _path_brushes(self, costs):
        lo, hi = self._levels
        d = self._display(costs)
        idx = np.full(len(d), len(self._brushes) - 1)
        ok = np.isfinite(d)
        idx[ok] = colors.levels_index(d[ok], lo, hi)
        return self._brushes[idx]

    def _update_now(self):
        snap = self._snap
        if snap is None or self.plane is None:
            return
        self._drawn_step = snap.step
        ab, _ = self._project(snap.theta)
        self._now_ab = ab
        x, y = ab + self._offset
        self.now_marker.setData([x], [y])
        self.now_text.setPos(x, y)
        (x0, x1), (y0, y1) = self.map_plot.vb.viewRange()
        # near the right or top edge the label goes to the other side of the star: it stays on the map
        self.now_text.setAnchor(
            (1.25 if x > x0 + 0.75 * (x1 - x0) else -0.25, -0.1 if y > y0 + 0.8 * (y1 - y0) else 1.1)
        )
        self.now_text.setVisible(True)
        self._update_tail()
        self._update_arrow(x, y)

    def _update_tail(self):
        if self._now_ab is None or self._n == 0:
            self.path_tail.setData([], [])
            return
        last = self._coords[self._n - 1] + self._offset
        now = self._now_ab + self._offset
        self.path_tail.setData([last[0], now[0]], [last[1], now[1]])

    def _update_arrow(self, x, y):
        g = self._grad
        s = self._shown
        if g is None or s is None or self.plane is None or g.shape != self.plane.centre.shape:
            for item in (self.arrow_line, self.arrow_head):
                item.setVisible(False)
            return
        key = (id(g), id(self.plane))
        if self._grad_key != key:  # the gradient's components change with the gradient or the plane only
            self._grad_key = key
            self._grad_c = np.array(ls.projected_gradient(self.plane, g))  # least-squares, in the plane
            self._grad_share = ls.in_plane_share(self.plane, g)
        d = -self._grad_c
        norm = float(np.hypot(*d))
        if not norm > 0:
            for item in (self.arrow_line, self.arrow_head):
                item.setVisible(False)
            return
        length = ARROW_FRACTION * (s.alphas[-1] - s.alphas[0])
        tip = np.array([x, y]) + d / norm * length
        self.arrow_line.setData([x, tip[0]], [y, tip[1]])
        self.arrow_head.setPos(*tip)
        # ArrowItem points left at angle 0 and turns clockwise on screen (y down): 180 - theta
        self.arrow_head.setStyle(angle=180.0 - math.degrees(math.atan2(d[1], d[0])))
        for item in (self.arrow_line, self.arrow_head):
            item.setVisible(True)
