"""The diagram's texts in pixels (:class:`TextsMixin`): column titles, output labels, legend, hover line, caption.

Texts have a size in pixels while the diagram is in scene units: these methods choose the title style that
fits, stack the subtitles, wrap the legend and the hover line and keep them inside the view, and fit the
inset's caption.

Imports: NumPy, PySide6, digitviz.gui.colors and the package's own modules.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QFont, QFontMetricsF, QTextDocument

from ... import colors
from .constants import BOTTOM_GAP_PX, LEGEND_STEP, LEGEND_Y, TITLE_PAD_PX, TITLE_STYLES, TOP, X0
from .items import _html


class TextsMixin:
    """Sizes and places of the diagram's texts, which are in pixels.

    A mixin of :class:`~digitviz.gui.views.network_view.view.NetworkView` (it uses the view's items and state).
    """

    def _subtitle(self, l, with_act):
        sizes = self._sizes
        L = len(sizes) - 1
        n = sizes[l]
        if l == 0:
            ih, iw = self._input_grid
            return f"{ih}×{iw}" if iw > 1 else f"{n} values"
        if not with_act:
            return f"{n}"
        act = (
            self._activation_name()
            if l < L
            else ("softmax" if self._state is not None and self._state.cost == "cross_entropy" else "sigmoid")
        )
        return f"{n} · {act}"

    def _place_titles(self):
        """Column titles in the roomiest style in which no two neighbours overlap (widths are in pixels)."""
        xs = list(self._title_x)
        if not xs or len(self._titles) != 2 * len(xs):
            return
        px = self._px if self._px > 0 else 0.1
        title_h = (
            self._titles[-2].textItem.boundingRect().height() - self._titles[-2].textItem.document().documentMargin()
        )
        label = self._labels[0].textItem if self._labels else None
        above = label is not None and (
            0.6 + title_h * px
            <= float(self._layer_pos[-1][0, 1]) - label.boundingRect().height() * label.scale() / 2 * px
        )
        if above and len(xs) >= 2:
            # "output" centred over its neurons and their digits and values (when it clears the top digit):
            # further from its neighbour's title
            x_out = float(self._layer_pos[-1][0, 0])
            f = self._labels[0].textItem.scale()
            text_w = f * (max(t.textItem.boundingRect().width() for t in self._labels) - 2)
            text_w += f * self._values[0].textItem.boundingRect().width()
            left = x_out - float(self._diam[-1]) / 2
            xs[-1] = (left + x_out + float(self._diam[-1]) / 2 + 1.2 + text_w * px) / 2
        for item in self._titles[-2:]:
            if abs(item.pos().x() - xs[-1]) > 1e-9:
                item.setPos(xs[-1], item.pos().y())
        gaps = [(b - a) / px for a, b in zip(xs, xs[1:])]

        cache = self._text_widths

        def width(text, pt, bold):
            w = cache.get((text, pt, bold))
            if w is None:
                f = QFont()
                f.setPointSizeF(pt)
                f.setBold(bold)
                w = cache[(text, pt, bold)] = QFontMetricsF(f).horizontalAdvance(text)
            return w

        for title_style in TITLE_STYLES:
            short, tpt, spt, with_act = title_style
            tpt, spt = self._pt(tpt), self._pt(spt)
            names = [n[1] if short else n[0] for n in self._title_names]
            subs = [self._subtitle(l, with_act) for l in range(len(xs))]
            tw = [width(n, tpt, True) for n in names]
            sw = [width(t, spt, False) for t in subs]
            if all(
                (tw[l] + tw[l + 1]) / 2 + TITLE_PAD_PX <= g and (sw[l] + sw[l + 1]) / 2 + TITLE_PAD_PX <= g
                for l, g in enumerate(gaps)
            ):
                break
        key = (title_style, tuple(subs))
        if key != self._title_key:
            self._title_key = key
            for l, (name, sub) in enumerate(zip(names, subs)):
                self._titles[2 * l].setHtml(_html(name, size=tpt, bold=True))
                self._titles[2 * l + 1].setHtml(_html(sub, colors.MUTED, spt))
                full = self._title_names[l][0]
                self._titles[2 * l].setToolTip(full if name != full else "")
        self._stack_subtitles()

    def _stack_subtitles(self):
        """Each subtitle just under its title, in pixels: a short diagram has fewer pixels per view unit, and
        a fixed offset in view units would put the subtitle over the title."""
        py = self._px  # view units per pixel, vertically (followed in _on_transform_changed)
        if not py or not self._titles:
            return
        t = self._titles[0].textItem
        ink = t.boundingRect().height() - t.document().documentMargin()  # the title's text, less its lower margin
        y = max(3.6, 0.6 + ink * py)
        # no room between the title and the top neurons (a short window): the subtitles give way, their
        # text stays in the title's tooltip
        s0 = self._titles[1].textItem
        sub_ink = (s0.boundingRect().height() - 2 * s0.document().documentMargin()) * py
        radius = float(np.max(self._diam)) / 2 if getattr(self, "_diam", None) is not None and len(self._diam) else 0.0
        room = y + sub_ink <= TOP - radius
        for l in range(len(self._titles) // 2):
            title, sub = self._titles[2 * l], self._titles[2 * l + 1]
            if abs(sub.pos().y() - y) > 1e-6:
                sub.setPos(sub.pos().x(), y)
            if sub.isVisible() != room:
                sub.setVisible(room)
            full = self._title_names[l][0]
            if not room:
                tip = f"{full} · {sub.textItem.toPlainText()}"
            else:
                tip = full if title.textItem.toPlainText() != full else ""
            if title.toolTip() != tip:
                title.setToolTip(tip)

    def _bottom_lines(self):
        """``(margin, ink height)`` in pixels of the legend and of the hover line, as drawn."""
        out = []
        for item in (self._legend, self._info):
            t = item.textItem
            m, f = t.document().documentMargin(), t.scale()
            out.append((m * f, max(0.0, t.boundingRect().height() - 2 * m) * f))
        return out

    def _bottom_offsets(self, upp, lines=None):
        """Where the hover line starts below the legend, and how far below the legend's top the view must
        reach, in view units at ``upp`` units per pixel: the legend's ink, a gap, the hover line's ink, a gap."""
        (lm, lh), (im, ih) = lines or self._bottom_lines()
        below = max(LEGEND_STEP, (lm + lh + BOTTOM_GAP_PX - im) * upp)
        return below, below + (im + ih + BOTTOM_GAP_PX) * upp

    def _text_lines(self, item, html, wrap_px):
        """``(margin, ink height)`` in pixels of ``html`` in ``item``'s font, wrapped as _fit_width would."""
        doc = QTextDocument()
        doc.setDefaultFont(item.textItem.font())
        m = item.textItem.document().documentMargin()
        doc.setDocumentMargin(m)
        doc.setHtml(html)
        if doc.size().width() > wrap_px:
            doc.setTextWidth(max(80.0, wrap_px))
        return m, max(0.0, doc.size().height() - 2 * m)

    def _bottom_start(self, off, width, upp):
        """Where the legend and the hover line start (units): under the image, or at the view's left when
        from there they would wrap (a wide view around a narrower diagram: larger text)."""
        longest = max(self._text_width(self._legend, html) for html in (self._legend_sample(), *self._info_samples()))
        return off + X0 if longest <= (width - off - X0) / upp - 2 else min(off + X0, X0)

    def _text_width(self, item, html):
        doc = QTextDocument()
        doc.setDefaultFont(item.textItem.font())
        doc.setDocumentMargin(item.textItem.document().documentMargin())
        doc.setHtml(html)
        return doc.size().width()

    def _legend_sample(self):
        return getattr(self, "_legend_html", None) or self._h("━━ positive ━━ negative weight", colors.MUTED)

    def _bottom_need(self, wrap_px, upp):
        """Pixels from the legend's top to the view's bottom the legend and the hover line need, wrapped to
        ``wrap_px``: the legend as it is, the hover line as its longest usual text (its text changes as the
        mouse moves; the diagram must not move with it). Only the texts and sizes count, never the past."""
        legend = self._legend_sample()
        self._reserved_legend = legend
        info = max((self._text_lines(self._info, html, wrap_px) for html in self._info_samples()), key=lambda mh: mh[1])
        lines = (self._text_lines(self._legend, legend, wrap_px), info)
        return self._bottom_offsets(upp, lines)[1] / upp

    def _info_samples(self):
        sep = "&nbsp;&nbsp;·&nbsp;&nbsp;"
        return (
            self._info_default_html(),
            self._h(
                f"<b>hidden 2, neuron 15</b>{sep}activation a = 0.000{sep}bias b = +0.000{sep}"
                f"weighted sum z = w·a + b = +0.000",
                colors.FOREGROUND,
            ),
        )

    def _place_bottom(self):
        """The legend under the neurons and the hover line under it, stacked in pixels, both inside the view
        (in a short view the pair moves up rather than leave it)."""
        x = getattr(self, "_bottom_x", None)
        if x is None or self._px <= 0:
            return
        below, need = self._bottom_offsets(self._px)
        y = LEGEND_Y
        visible_bottom = self._vb.viewRange()[1][1]
        y -= max(0.0, y + need - visible_bottom)  # a hover text longer than the room kept: up, not out
        for item, yy in ((self._legend, y), (self._info, y + below)):
            if abs(item.pos().x() - x) > 1e-9 or abs(item.pos().y() - yy) > 1e-9:
                item.setPos(x, yy)

    def _fit_width(self, item):
        """Wrap a bottom line (legend, info) into more lines when it is wider than the diagram, rather than cut
        it or shrink it (its text keeps the size presentation mode gave it); _place_bottom stacks the lines."""
        t = item.textItem
        natural = getattr(item, "natural_width", None)
        if natural is None:  # measured once per text (_set_text), unwrapped
            if t.textWidth() >= 0:
                item.setTextWidth(-1)
            natural = item.natural_width = t.boundingRect().width()
        x = getattr(self, "_bottom_x", item.pos().x())
        avail = (getattr(self, "_width", 0.0) - x) / self._px - 2 if self._px > 0 else natural
        want = -1.0 if natural <= avail else max(80.0, avail)
        if abs(t.textWidth() - want) > 0.5:
            item.setTextWidth(want)

    def _set_text(self, item, html):
        """New HTML for a bottom line: measured unwrapped again, then fitted to the diagram's width."""
        item.natural_width = None
        item.setHtml(html)
        self._fit_width(item)
        self._place_bottom()

    def _fit_caption(self):
        """The inset's caption wraps to the room between the inset and the first hidden layer, and shrinks (a
        short diagram) rather than reach under the neurons or the legend."""
        cap = self._inset_caption
        px = self._px
        if px <= 0 or not cap.isVisible() or getattr(self, "_col_x", None) is None or not self._col_x:
            return
        t = cap.textItem
        x0 = self._inset_rect.right() + 1.0
        x1 = self._col_x[0] - float(np.max(self._diam[: self._sizes[1]])) * 0.7  # clear of hidden 1's circles
        room_w = max(60.0, (x1 - x0) / px)
        room_h = max(20.0, (LEGEND_Y - self._inset_rect.top()) / px)
        texts = getattr(self, "_caption_texts", None)
        if texts is None:
            return
        for html in texts:  # the full caption if it fits (wrapped) at its size, else the compact one
            if html != getattr(self, "_caption_set", None):
                self._caption_set = html
                cap.setHtml(html)
            if t.textWidth() >= 0:
                cap.setTextWidth(-1)
            if t.boundingRect().width() > room_w:
                cap.setTextWidth(room_w)
            h, w = t.boundingRect().height(), t.boundingRect().width()
            f = min(1.0, room_h / h if h > 0 else 1.0, room_w / w if w > 0 else 1.0)
            if f >= 0.95:
                break
        if abs(t.scale() - f) > 1e-3:
            t.setScale(f)
            cap.updateTextPos()
        cap.setPos(x0, self._inset_rect.top())

    def _place_labels(self):
        """Output digit, value and the true-label marker side by side (text widths are in pixels)."""
        self._place_titles()
        self._fit_width(self._legend)
        self._fit_width(self._info)
        self._place_bottom()
        self._fit_caption()
        if not self._labels:
            return
        out = self._layer_pos[-1]
        x = out[0, 0] + self._diam[-1] / 2 + 1.2
        # rows closer than a line of text (a short window, a banner above): the labels shrink to the rows
        row_px = abs(out[1, 1] - out[0, 1]) / self._px if len(out) > 1 and self._px > 0 else math.inf
        t0 = self._labels[0].textItem
        ink = t0.boundingRect().height() - 2 * t0.document().documentMargin()
        f = 1.0 if ink <= 0 else min(1.0, max(0.4, (row_px + 2) / ink))
        for item in (*self._labels, *self._values, self._truth):
            if abs(item.textItem.scale() - f) > 1e-3:
                item.textItem.setScale(f)
        digit_w = f * max(t.textItem.boundingRect().width() for t in self._labels)
        value_w = f * self._values[0].textItem.boundingRect().width()
        for d, (t, v) in enumerate(zip(self._labels, self._values)):
            t.setPos(x, out[d, 1])
            v.setPos(x + (digit_w - 2) * self._px, out[d, 1])
        self._truth_x = x + (digit_w + value_w) * self._px

    def _activation_name(self):
        return self._state.activation if self._state is not None else ""
