"""Plot text that adapts to the room it has: titles and axis labels shrink, then elide, never spill.

``fit_plot_text(plot)`` keeps a :class:`pyqtgraph.PlotItem`'s title and axis labels inside the plot
whenever its view box is resized (and when the code sets new text): first a smaller font, down to
``MIN_PT``, then the text is cut with "…" (the full text becomes the plot's tooltip).
``fit_label(label, width)`` does the same for a free :class:`pyqtgraph.LabelItem` (an image's caption).

Imports: PySide6 and pyqtgraph.
"""

from __future__ import annotations

import math
import re

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from .style import font_scale

MIN_PT = 7.0
_TAG = re.compile(r"<[^>]+>")


def _lines(text: str) -> list[str]:
    return [_TAG.sub("", line) for line in re.split(r"<br\s*/?>|\n", text)]


def _pt(size, default: float) -> float:
    try:
        return float(str(size).replace("pt", "")) if size else default
    except ValueError:
        return default


def _fit(lines: list[str], room: float, pt0: float, bold=False) -> tuple[float, list[str] | None]:
    """The largest size from ``pt0`` down to MIN_PT at which every line fits ``room`` px, else MIN_PT and
    the lines elided."""
    pt = max(MIN_PT, pt0 * font_scale())  # larger in presentation mode (gui/style.py)
    while True:
        f = QFont()
        f.setPointSizeF(pt)
        f.setBold(bold)
        fm = QFontMetrics(f)
        if max((fm.horizontalAdvance(s) for s in lines), default=0) <= room:
            return pt, None
        if pt <= MIN_PT:
            return pt, [fm.elidedText(s, Qt.ElideRight, int(max(room, 10))) for s in lines]
        pt = max(MIN_PT, pt - 1)


def _zero_min(label: pg.LabelItem):
    h = label.itemRect().height()
    label.setMinimumWidth(0)
    label.setMinimumHeight(h)
    label._sizeHint = {
        Qt.SizeHint.MinimumSize: (0, h),
        Qt.SizeHint.PreferredSize: (0, h),
        Qt.SizeHint.MaximumSize: (-1, -1),
        Qt.SizeHint.MinimumDescent: (0, 0),
    }


def _no_min_width(label: pg.LabelItem):
    """pyqtgraph makes a label's text width its minimum, which keeps a plot wider than its view: a fitted
    label asks for no width of its own (it is fitted to what it gets). pyqtgraph sets that minimum again on
    every resize (``updateMin``), so the label's own ``updateMin`` is replaced, once."""
    if not label.__dict__.get("_fit_no_min"):
        label._fit_no_min = True
        label.updateMin = lambda: _zero_min(label)
    _zero_min(label)
    label.updateGeometry()


def _centred_room(item, default: float) -> float:
    """The widest centred text that stays inside the view: twice the distance from the item's centre to
    the nearer edge of the view (a title is centred over the plot area, not over the whole plot)."""
    scene = item.scene()
    views = scene.views() if scene is not None else []
    if not views:
        return default
    view = views[0]
    cx = view.mapFromScene(item.mapToScene(item.boundingRect().center())).x()
    return max(10.0, min(default, 2 * min(cx, view.viewport().width() - cx)))


def fit_label(label: pg.LabelItem, room_px: float, state: dict | None = None):
    """Fit a LabelItem's text into ``room_px`` (shrink, then elide)."""
    state = label.__dict__.setdefault("_fit_state", {}) if state is None else state
    if label.text != state.get("shown"):
        state["full"], state["pt"] = label.text, _pt(label.opts.get("size"), 9.0)
    full = state["full"]
    room_px = _centred_room(label, room_px)  # centred in its cell: it must also stay inside the view
    pt, elided = _fit(_lines(full), room_px - 6, state["pt"], bool(label.opts.get("bold")))
    text = full if elided is None else "<br>".join(elided)
    opts = {k: v for k, v in label.opts.items() if k not in ("size", "justify")}
    if (text, pt) != state.get("applied") or label.text != text:
        state["applied"] = (text, pt)
        label.setText(text, size=f"{pt:g}pt", **opts)
        label.setToolTip(_TAG.sub("", full) if elided is not None else "")
        _no_min_width(label)
    state["shown"] = label.text


def _fit_axis(axis: pg.AxisItem, state: dict):
    if not axis.label.isVisible() or not axis.labelText:
        return
    key = axis.orientation
    st = state.setdefault(key, {})
    if axis.labelText != st.get("shown"):
        st["full"] = axis.labelText
        st["pt"] = _pt(axis.labelStyle.get("font-size"), QFont().pointSizeF() or 9.0)
    room = axis.height() if key in ("left", "right") else _centred_room(axis.label, axis.width())
    pt, elided = _fit([st["full"]], room - 6, st["pt"])
    text = st["full"] if elided is None else elided[0]
    if (text, pt) != st.get("applied") or axis.labelText != text:  # the code may have set the full text again
        st["applied"] = (text, pt)
        style = dict(axis.labelStyle)
        style["font-size"] = f"{pt:g}pt"
        axis.setLabel(text, units=axis.labelUnits or None, **style)
    st["shown"] = axis.labelText


SHORT_AXIS_PX = 120  # a left axis shorter than this gets its tick spacing from its height
TICK_ROOM_PX = 18  # px per tick label on it
NARROW_AXIS_PX = 260  # a bottom axis narrower than this gets its tick spacing from its labels' widths
TICK_GAP_PX = 10  # px between two tick labels of a bottom axis


def _label_px(axis: pg.AxisItem, lo: float, hi: float, major: float) -> float:
    """The widest tick label a bottom axis would print over [lo, hi] at spacing ``major``, in px."""
    fm = QFontMetrics(axis.style.get("tickFont") or QFont())
    decimals = max(0, -math.floor(math.log10(major) + 1e-9))
    return max(fm.horizontalAdvance(f"{v:.{decimals}f}") for v in (lo, hi, -abs(lo), (lo + hi) / 2))


def _space_axis(plot: pg.PlotItem, side: str, state: dict):
    """On a short left axis or a narrow bottom one pyqtgraph still labels every 0.2 of [0, 1] and the labels
    run together: there the spacing is the smallest 1-2-5 step that leaves each label its room (``TICK_ROOM_PX``
    of height on the left; its own width and a gap at the bottom)."""
    axis = plot.getAxis(side)
    key = ("own_spacing", side)
    if axis._tickLevels is not None or axis.logMode or state.get(key) is False:
        return
    length = plot.vb.height() if side == "left" else plot.vb.width()
    lo, hi = plot.vb.viewRange()[1 if side == "left" else 0]
    span = abs(hi - lo)
    short = SHORT_AXIS_PX if side == "left" else NARROW_AXIS_PX
    if length <= 0 or span <= 0 or not math.isfinite(span) or length >= short:
        if state.get(key):
            state[key] = None
            axis.setTickSpacing()  # back to pyqtgraph's own
        return
    major = None
    e = math.floor(math.log10(span * 8 / length))  # at most a label every 8 px: the first candidate
    for k in range(e, e + 4):
        for m in (1, 2, 5):
            step = m * 10.0**k
            room = TICK_ROOM_PX if side == "left" else _label_px(axis, lo, hi, step) + TICK_GAP_PX
            if step * length / span >= room:
                major = step
                break
        if major is not None:
            break
    if major is not None and state.get(key) != major:
        state[key] = major
        axis.setTickSpacing(levels=[(major, 0.0)])  # one level: two equal ones print each label twice


def _thinned_ticks(plot: pg.PlotItem, side: str, levels):
    """Ticks the code listed (``setTicks``: digits 0-9 under bars, a matrix's rows) thinned to every 2nd, 5th,
    ... when the axis is too short for all of them, for drawing; None when all of them fit."""
    axis = plot.getAxis(side)
    major = sorted(levels[0]) if levels and levels[0] else []
    if len(major) < 2:
        return None
    length = plot.vb.height() if side == "left" else plot.vb.width()
    lo, hi = plot.vb.viewRange()[1 if side == "left" else 0]
    step = min(b[0] - a[0] for a, b in zip(major, major[1:]))
    if length <= 0 or hi <= lo or step <= 0:
        return None
    px = step * length / (hi - lo)
    fm = QFontMetrics(axis.style.get("tickFont") or QFont())
    room = fm.height() if side == "left" else max(fm.horizontalAdvance(str(t)) for _, t in major) + TICK_GAP_PX
    k = next((k for k in (1, 2, 5, 10, 20, 50) if k * px >= room), len(major))
    return None if k == 1 else [major[::k]]


def _space_short_axis(plot: pg.PlotItem, state: dict):
    for side in ("left", "bottom"):
        _space_axis(plot, side, state)


def _reclaim_view(item):
    """A view sizes its central item when the view is resized, clamped to the item's minimum at that moment;
    fitting text lowers that minimum afterwards, so the item would stay wider than its view (its right
    tick labels and title past the edge): give it the view's rect again."""
    scene = item.scene()
    for view in scene.views() if scene is not None else []:
        if getattr(view, "centralWidget", None) is item and item.geometry() != view.range:
            min_w = item.effectiveSizeHint(Qt.SizeHint.MinimumSize).width()
            if item.geometry().width() > view.range.width() and min_w <= view.range.width():
                item.setGeometry(view.range)


def _alive(item) -> bool:
    """False once Qt has deleted the item (its signals may still fire while the scene is torn down)."""
    try:
        item.titleLabel.isVisible()
    except RuntimeError:
        return False
    return True


def _refit_on_label(axis: pg.AxisItem, fit, state: dict):
    """New label text (set by the code, or a new SI prefix) is placed and fitted at once, not at the next
    resize (it may never come). pyqtgraph centres an axis label only when the axis is resized, for the
    text it had then: a longer text set later would start at the old centre and run past the view."""
    original = axis._updateLabel

    def update_label():
        original()
        axis.resizeEvent(None)  # centred for the text it has now
        if not state["busy"]:
            fit()

    axis._updateLabel = update_label


def _thin_when_drawn(plot: pg.PlotItem, side: str):
    """Listed ticks are drawn thinned for the range and length the axis has when it is drawn (a view box's
    auto-range is settled only when it paints); the axis keeps the full list the code gave it."""
    axis = plot.getAxis(side)
    draw_specs = axis.generateDrawSpecs

    def generate_draw_specs(p):
        levels = axis._tickLevels
        thin = _thinned_ticks(plot, side, levels) if levels is not None else None
        if thin is None:
            return draw_specs(p)
        axis._tickLevels = thin
        try:
            return draw_specs(p)
        finally:
            axis._tickLevels = levels

    axis.generateDrawSpecs = generate_draw_specs


TITLE_ROW_PX = 30  # pyqtgraph's fixed height of a plot's title row


def _title_row(plot: pg.PlotItem) -> None:
    """pyqtgraph fixes the title row at 30 px: a title of two lines, or a large font, then reaches above the
    plot. The row is as tall as the fitted title, at least 30 px."""
    h = max(TITLE_ROW_PX, math.ceil(plot.titleLabel.itemRect().height()))
    if plot.titleLabel.maximumHeight() != h:
        plot.titleLabel.setMaximumHeight(h)
        plot.layout.setRowFixedHeight(0, h)


def fit_plot_text(plot: pg.PlotItem):
    """Keep ``plot``'s title and axis labels inside it at every size (see the module docstring)."""
    state: dict = {"busy": False}

    def fit(*_):
        if state["busy"]:
            return
        state["busy"] = True
        try:
            if plot.titleLabel.isVisible() and plot.titleLabel.text:
                fit_label(plot.titleLabel, _centred_room(plot.titleLabel, plot.width()), state.setdefault("title", {}))
                _title_row(plot)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                _fit_axis(axis, state)
                # fewer tick labels on a short or narrow axis, so that they never run together
                length = plot.vb.height() if side == "left" else plot.vb.width()
                density = min(1.0, max(0.1, length / (160.0 if side == "left" else 260.0) / font_scale()))
                if state.get(("density", side)) != density:
                    state[("density", side)] = density
                    axis.setTickDensity(density)
            _space_short_axis(plot, state)
        finally:
            state["busy"] = False
        _reclaim_view(plot)

    plot.vb.sigResized.connect(fit)
    plot.vb.sigRangeChanged.connect(lambda *_: _space_short_axis(plot, state))
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.geometryChanged.connect(lambda: _alive(plot) and fit())  # an axis resized alone (a label came or went)
        _refit_on_label(axis, fit, state)
        _thin_when_drawn(plot, side)
    plot.fit_text = fit
    fit()
    return fit
