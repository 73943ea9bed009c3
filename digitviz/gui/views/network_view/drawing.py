"""Drawing every frame (:class:`DrawingMixin` of the diagram): neurons, connections, rings, labels, inset, legend.

A frame only calls ``setData``/``setImage``/``setBrush`` on the items built once and replaces line arrays.

Imports: NumPy, digitviz.core, digitviz.gui.colors and the package's own modules.
"""

from __future__ import annotations

import numpy as np

from ....core.diagram import symmetric_scale
from ... import colors
from .constants import DENSE_EDGES, FOCUS_PX, GLOW_LEVELS, N_BINS
from .items import _NO_BRUSH, _offsets


class DrawingMixin:
    """Drawing (every frame): a state's values onto the items.

    A mixin of :class:`~digitviz.gui.views.network_view.view.NetworkView` (it uses the view's items and state).
    """

    def _render(self):
        s = self._state
        if s is None:
            return
        L = len(s.sizes) - 1
        layer, i = self._selected
        if not (1 <= layer <= L and 0 <= i < s.sizes[layer]):
            self._selected = (-1, -1)
        ih, iw = self._input_grid
        self._image.setImage(s.activations[0].reshape(ih, iw), levels=(0.0, 1.0), autoLevels=False)

        # neurons: brightness = activation on a fixed scale per layer
        self._scales = []
        values = []
        for l in range(1, L + 1):
            a = s.activations[l]
            hi = 1.0
            if l < L and s.activation == "relu":
                hi = max(1.0, float(a.max()))
            elif l < L and s.activation == "tanh":
                a = np.abs(a)
            self._scales.append(hi)
            values.append(a / hi)
        v = np.concatenate(values)
        if s.wants is not None:
            # "what each neuron wants": -dC/da as a signed colour, on a symmetric scale per layer
            self.wants_scales = [max(float(np.abs(w).max()), 1e-12) for w in s.wants]
            self.wants_drawn = np.concatenate([w / sc for w, sc in zip(s.wants, self.wants_scales)])
            self._neurons.setBrush(colors.diverging_brushes(self.wants_drawn, 1.0))
            glow_i = np.clip(np.abs(self.wants_drawn) ** 1.5 * (GLOW_LEVELS - 1), 0, GLOW_LEVELS - 1).astype(np.intp)
        else:
            self.wants_drawn = None
            self._neurons.setBrush(colors.activation_brushes(v))
            glow_i = np.clip((v**1.5) * (GLOW_LEVELS - 1), 0, GLOW_LEVELS - 1).astype(np.intp)
        self._glow.setBrush(self._glow_table[glow_i])

        self._render_edges(s)
        self._render_rings(s)
        self._render_labels(s)
        self._place_titles()  # the subtitles name the activation, which a state may change
        self._render_inset(s)
        self._update_legend()
        if self._hover != (-1, -1):
            self._show_neuron_info(*self._hover)

    def _edge_points(self, l, src, dst):
        p0 = self._layer_pos[l][src]
        p1 = self._layer_pos[l + 1][dst]
        return p0, p1

    def _set_density(self, n_edges):
        """Fainter connections when there are many (wide layers), so the picture stays readable."""
        dense = n_edges > DENSE_EDGES
        if dense == self._dense:
            return
        self._dense = dense
        pens = colors.edge_pens(N_BINS, 20, 150) if dense else colors.edge_pens(N_BINS)
        self._edges.set_pens([pens[sign][b] for sign in (0, 1) for b in range(N_BINS)])

    def _render_edges(self, s):
        self._set_density(sum(len(e) for e in s.edges))
        p0s, p1s, keys = [], [], []
        for l, e in enumerate(s.edges):
            if len(e) == 0:
                continue
            p0, p1 = self._edge_points(l, e.src, e.dst)
            mag = np.abs(e.value)
            top = float(mag.max())
            b = (
                np.zeros(len(mag), np.intp)
                if top <= 0
                else np.minimum((mag / top * N_BINS).astype(np.intp), N_BINS - 1)
            )
            keys.append(np.where(e.value >= 0, 0, N_BINS) + b)
            p0s.append(p0)
            p1s.append(p1)
        if not keys:
            for bucket in range(2 * N_BINS):
                self._edges.set_lines(bucket, np.zeros((0, 4)))
            self._edges_xy = np.zeros((0, 4))
            self._render_focus(s)
            return
        key = np.concatenate(keys)
        p0 = np.concatenate(p0s)
        p1 = np.concatenate(p1s)
        self._edges_xy = np.column_stack([p0, p1])
        order = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=2 * N_BINS)
        xy = self._edges_xy[order]
        starts = np.concatenate([[0], np.cumsum(counts)])
        for bucket in range(2 * N_BINS):
            seg = xy[starts[bucket] : starts[bucket + 1]]
            offsets = self._thicken(bucket)
            if offsets and len(seg):
                seg = np.concatenate([seg] + [seg + (0.0, off * self._px, 0.0, off * self._px) for off in offsets])
            self._edges.set_lines(bucket, seg)
        self._render_focus(s)

    def _render_focus(self, s):
        """Draw the selected neuron's drawn incoming connections highlighted."""
        layer, i = self._selected
        if layer < 1 or layer > len(s.edges):
            self._focus_lines.set_lines(0, np.zeros((0, 4)))
            self._focus_px.setData([])
            self._focus_px.setVisible(False)
            return
        e = s.edges[layer - 1]
        m = e.dst == i
        p0, p1 = self._edge_points(layer - 1, e.src[m], e.dst[m])
        seg = np.column_stack([p0, p1])
        widen = _offsets(round(FOCUS_PX * self._font_scale))  # FOCUS_PX wide, more at a larger font scale
        self._focus_lines.set_lines(
            0, np.concatenate([seg] + [seg + (0.0, o * self._px, 0.0, o * self._px) for o in widen])
        )
        if layer == 1:  # outline the pixels this neuron's drawn connections read, in their colours
            pens = colors.edge_pens(N_BINS)
            self._focus_px.setData(
                pos=p0,
                size=self._cell * self._ppu,
                symbol="s",
                brush=_NO_BRUSH,
                pen=[pens[0 if v >= 0 else 1][-1] for v in e.value[m]],
            )
            self._focus_px.setVisible(True)
        else:
            self._focus_px.setData([])
            self._focus_px.setVisible(False)

    def _render_rings(self, s):
        L = len(s.sizes) - 1
        pos, size, pens = [], [], []
        out_d = float(self._diam[-1])
        pos.append(self._layer_pos[L][s.answer])
        size.append(out_d * 1.38)
        pens.append(self._answer_pen)
        if 0 <= s.label < s.sizes[-1] and self._labels:
            pos.append(self._layer_pos[L][s.label])
            size.append(out_d * 1.72)
            pens.append(self._truth_pen)
        layer, i = self._selected
        if 1 <= layer <= L:
            k = self._offsets[layer - 1] + i
            pos.append(self._pos[k])
            size.append(float(self._diam[k]) * 1.38)
            pens.append(self._selected_pen)
        self._rings.setData(pos=np.array(pos), size=np.array(size) * self._ppu, pen=pens, brush=_NO_BRUSH, symbol="o")

    def _render_labels(self, s):
        out = s.activations[-1]
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            is_answer = d == s.answer
            if self._label_answer[d] != is_answer:
                t.setHtml(
                    self._h(self._class_label(d), colors.HIGHLIGHT if is_answer else colors.FOREGROUND, 12, bold=True)
                )
                self._label_answer[d] = is_answer
            key = (f"{out[d]:.2f}", is_answer)
            if key != self._value_key[d]:
                v.setText(key[0], color=colors.HIGHLIGHT if is_answer else colors.MUTED)
                self._value_key[d] = key
        show = 0 <= s.label < len(self._labels)
        self._truth.setVisible(show)
        if show:
            self._truth.setPos(self._truth_x, self._layer_pos[-1][s.label, 1])

    def _render_inset(self, s):
        layer, i = self._selected
        show = layer == 1 and len(s.sizes) > 1 and 0 <= i < s.sizes[1]
        self._set_inset_visible(show)
        if not show:
            return
        ih, iw = self._input_grid
        W = s.weights[0]
        scale = symmetric_scale(W)
        self._inset.setImage(W[i].reshape(ih, iw), levels=(-scale, scale), autoLevels=False)
        html = (
            self._h(f"weights into hidden 1 · #{i}", colors.HIGHLIGHT, 9, bold=True)
            + "<br>"
            + self._h("blue +, orange −, dark 0", colors.MUTED, 8)
            + "<br>"
            + self._h(f"scale ±{scale:.2g}", colors.MUTED, 8)
        )
        compact = (  # for a narrow diagram (presentation mode's): the legend says what the colours are
            self._h(f"hidden 1 #{i}", colors.HIGHLIGHT, 9, bold=True)
            + "<br>"
            + self._h(f"weights in, ±{scale:.2g}", colors.MUTED, 8)
        )
        if html != getattr(self, "_caption_html", None):
            self._caption_html = html
            self._caption_texts = (html, compact)
            self._fit_caption()

    def _set_inset_visible(self, show):
        was = self._inset_caption.isVisible()
        for it in (self._inset, self._inset_frame, self._inset_caption):
            it.setVisible(show)
        if show and not was:
            self._fit_caption()

    def _update_legend(self):
        s = self._state
        mode = s.edge_mode  # what is drawn; set_edge_mode only states what was asked for
        if mode == "wants":
            sw = (
                self._h("wants (backprop):", colors.HIGHLIGHT, 9, True)
                + self._h(" ●", colors.POSITIVE, 9, True)
                + self._h(" up ", colors.MUTED)
                + self._h("●", colors.NEGATIVE, 9, True)
                + self._h(" down −∂C/∂a · ", colors.MUTED)
                + self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" grow ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(f" shrink −∂C/∂w · C = {s.example_cost:.3f}", colors.MUTED)
            )
        elif mode == "gradient":
            sw = (
                self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" −gradient &gt; 0: grow ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(" shrink", colors.MUTED)
            )
        else:
            sw = (
                self._h("━━", colors.POSITIVE, 9, True)
                + self._h(" positive ", colors.MUTED)
                + self._h("━━", colors.NEGATIVE, 9, True)
                + self._h(" negative weight", colors.MUTED)
            )
        if getattr(self, "_wants_asked", False) and mode != "wants":
            sw += self._h(" (what each neuron wants: needs an example with a label)", colors.HIGHLIGHT)
        if self._edge_mode == "gradient" and mode == "weights":
            sw += self._h(" (−gradient: shown after a single step)", colors.HIGHLIGHT)
        k = len(s.edges[0]) // max(1, s.sizes[1]) if s.edges else 0
        parts = [sw, self._h(f"· first layer: {k} strongest of {s.sizes[0]} per neuron", colors.MUTED)]
        if s.activation == "relu" and len(s.sizes) > 2:
            sc = ", ".join(f"{h:.2g}" for h in self._scales[:-1])
            parts.append(self._h(f"· ReLU brightness = a / {sc} (layer max, at least 1)", colors.MUTED))
        elif s.activation == "tanh" and len(s.sizes) > 2:
            parts.append(self._h("· tanh brightness = |a|", colors.MUTED))
        if 0 <= s.label < s.sizes[-1] and self._labels:
            parts.append(
                self._h("· ", colors.MUTED)
                + self._h("◌", colors.TRUTH, 9, True)
                + self._h(" label ", colors.MUTED)
                + self._h("○", colors.HIGHLIGHT, 9, True)
                + self._h(" answer", colors.MUTED)
            )
        html = " ".join(parts)
        if html != getattr(self, "_legend_html", None):
            self._legend_html = html
            self._set_text(self._legend, html)
            if self._sizes is not None and getattr(self, "_reserved_legend", None) != html and not self._placing:
                # the room under the neurons was kept for another legend: keep it for this one
                self._placing = True
                try:
                    self._place()
                    self._render()
                finally:
                    self._placing = False
