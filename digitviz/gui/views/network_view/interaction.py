"""Hover, click and pick (:class:`InteractionMixin` of the diagram).

Hover a neuron for its numbers, click to select it, right-click (or Ctrl+click) a connection or a neuron to
pick its weight or bias for the cost landscape, twice (``parameters_picked``).

Imports: NumPy, PySide6, digitviz.gui.colors and the package's own modules.
"""

from __future__ import annotations

from html import escape

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMenu

from ... import colors
from .constants import HINT


class InteractionMixin:
    """Hover, click, pick: the mouse on the diagram.

    A mixin of :class:`~digitviz.gui.views.network_view.view.NetworkView` (it uses the view's items and state).
    """

    def _to_widget(self, p: QPointF) -> QPointF:
        sp = self._vb.mapViewToScene(p)
        vp = self._gv.viewportTransform().map(sp)
        off = self._gv.viewport().mapTo(self, QPoint(0, 0))
        return QPointF(vp.x() + off.x(), vp.y() + off.y())

    def _neuron_at(self, p: QPointF):
        """``(layer, index)`` of the neuron under view point ``p``, or None."""
        if self._sizes is None or self._state is None:
            return None
        d = np.hypot(self._pos[:, 0] - p.x(), self._pos[:, 1] - p.y())
        k = int(np.argmin(d))
        if d[k] <= self._diam[k] * 0.6:
            return int(self._layer_of[k]), int(self._index_of[k])
        return None

    def _pixel_at(self, p: QPointF):
        r = self._img_rect
        if not r.contains(p):
            return None
        ih, iw = self._input_grid
        col = min(iw - 1, int((p.x() - r.left()) / self._cell))
        row = min(ih - 1, int((p.y() - r.top()) / self._cell))
        return row * iw + col

    def _edge_at(self, p: QPointF, tol_px=5.0):
        """``(weight layer, dst, src)`` of the drawn connection nearest to ``p`` within ``tol_px``."""
        s = self._state
        if s is None or not len(getattr(self, "_edges_xy", ())):
            return None
        e = self._edges_xy
        a, b = e[:, :2], e[:, 2:]
        ab = b - a
        q = np.array([p.x(), p.y()])
        t = np.clip(np.einsum("ij,ij->i", q - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
        d = np.hypot(*(a + t[:, None] * ab - q).T)
        k = int(np.argmin(d))
        px = self._vb.viewPixelSize()[0]
        if d[k] > tol_px * px:
            return None
        for l, es in enumerate(s.edges):
            if k < len(es):
                return l, int(es.dst[k]), int(es.src[k])
            k -= len(es)
        return None

    def _on_mouse_moved(self, scene_pos):
        if self._state is None:
            return
        p = self._vb.mapSceneToView(scene_pos)
        hit = self._neuron_at(p)
        if hit is not None:
            if hit != self._hover:
                self._hover = hit
                self._show_neuron_info(*hit)
                self.neuron_hovered.emit(*hit)
            return
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.neuron_hovered.emit(-1, -1)
        j = self._pixel_at(p)
        if j is not None:
            ih, iw = self._input_grid
            self._set_info(f"input pixel (row {j // iw}, col {j % iw}) = {self._state.activations[0][j]:.2f}")
        else:
            self._set_info_default()

    def leaveEvent(self, ev):
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.neuron_hovered.emit(-1, -1)
        self._set_info_default()
        super().leaveEvent(ev)

    def _show_neuron_info(self, layer, i):
        s = self._state
        L = len(s.sizes) - 1
        name = "output" if layer == L else f"hidden {layer}"
        names = getattr(self, "_class_names", None)
        what = (
            (f"digit {i}" if names is None else escape(names[i])) if layer == L and s.sizes[-1] == 10 else f"neuron {i}"
        )
        sep = "&nbsp;&nbsp;·&nbsp;&nbsp;"
        if s.wants is not None:
            w = s.wants[layer - 1][i]
            self._set_info(
                f"<b>{name}, {what}</b>{sep}a = {s.activations[layer][i]:.3f}{sep}the cost wants it "
                f"{'up' if w > 0 else 'down'}: −∂C/∂a = {w:+.4f}"
                + (" = −2(a − y)" if layer == L and s.cost != "cross_entropy" else ""),
                colors.FOREGROUND,
            )
            return
        self._set_info(
            f"<b>{name}, {what}</b>{sep}activation a = {s.activations[layer][i]:.3f}{sep}"
            f"bias b = {s.biases[layer - 1][i]:+.3f}{sep}weighted sum z = w·a + b = {s.zs[layer - 1][i]:+.3f}",
            colors.FOREGROUND,
        )

    def _set_info(self, text, color=colors.FOREGROUND):
        html = self._h(text, color, 9)
        if html != getattr(self, "_info_html", None):
            self._info_html = html
            self._set_text(self._info, html)

    def _set_info_default(self):
        if self._pending_param >= 0:
            name = self._layout.describe(self._pending_param)
            self._set_info(
                f"landscape: picked {name}; now pick a second weight or bias (right-click or Ctrl+click)",
                colors.HIGHLIGHT,
            )
        else:
            self._set_info(HINT, colors.MUTED)

    def _info_default_html(self):
        return self._h(HINT, colors.MUTED, 9)

    def _on_mouse_clicked(self, ev):
        if self._state is None:
            return
        p = self._vb.mapSceneToView(ev.scenePos())
        hit = self._neuron_at(p)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self._context_menu(hit, p, ev.screenPos())
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if ctrl:
            k = self._param_at(hit, p)
            if k >= 0:
                self._pick_parameter(k)
            ev.accept()
            return
        if hit is None:
            if self._selected != (-1, -1):
                self.select_neuron(-1, -1)
            return
        ev.accept()
        self.select_neuron(*hit)
        self.neuron_clicked.emit(*hit)

    def _param_at(self, hit, p):
        """Flat index of the bias under ``p`` (a neuron) or of the weight of the connection under it."""
        if hit is not None:
            layer, i = hit
            return self._layout.index(layer - 1, "b", i)
        e = self._edge_at(p)
        if e is not None:
            l, dst, src = e
            return self._layout.index(l, "w", dst, src)
        return -1

    def _context_menu(self, hit, p, screen_pos):
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        k = self._param_at(hit, p)
        if k >= 0:
            which = (
                "first of two"
                if self._pending_param < 0
                else f"second, with {self._layout.describe(self._pending_param)}"
            )
            menu.addAction(
                f"Use {self._layout.describe(k)} for the landscape ({which})", lambda: self._pick_parameter(k)
            )
        if hit is not None and hit[0] == 1:
            menu.addAction(
                f"Show the weights into hidden 1 #{hit[1]}",
                lambda: (self.select_neuron(*hit), self.neuron_clicked.emit(*hit)),
            )
        if self._pending_param >= 0:
            menu.addAction("Cancel the landscape pick", self._cancel_pick)
        if menu.isEmpty():
            return
        menu.popup(QPoint(int(screen_pos.x()), int(screen_pos.y())))
        self._menu = menu

    def _pick_parameter(self, k: int):
        """First call stores ``k``; the second emits ``parameters_picked(first, k)``."""
        if self._pending_param < 0:
            self._pending_param = int(k)
        elif k != self._pending_param:
            first, self._pending_param = self._pending_param, -1
            self.parameters_picked.emit(first, int(k))
        self._set_info_default()

    def _cancel_pick(self):
        self._pending_param = -1
        self._set_info_default()
