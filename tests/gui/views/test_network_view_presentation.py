"""The diagram on a projector (issue 12): its text and lines follow the presentation's font scale, nothing
overlaps or leaves the view, leaving restores every size; the inset caption is never crossed by a line."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from digitviz.core.diagram import diagram_state
from digitviz.core.network import Network
from digitviz.gui import style
from digitviz.gui.views.network_view import NetworkView

from .. import legibility

SCALE = 1.35  # presentation.FONT_SCALE
# the diagram's share of the screen in presentation mode at 1280x720 and 1920x1080 (the tour beside it),
# and the short diagram a bottom panel leaves it at 1280x720
SIZES = [(440, 610), (1300, 980), (440, 250)]


@pytest.fixture
def state():
    net = Network((784, 16, 16, 10), seed=1)
    x = np.zeros(784, np.float32)
    x.reshape(28, 28)[6:22, 12:16] = 1.0
    return diagram_state(net, x, label=7)


def _texts(view):
    return [
        t
        for t in [view._legend, view._info, view._truth, view._inset_caption, *view._titles]
        + list(view._labels)
        + list(view._values)
        if t.isVisible()
    ]


def _points(item):
    """Every font size (pt) the text item's document uses."""
    doc = item.textItem.document()
    default = item.textItem.font().pointSizeF()
    out = set()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid() and frag.text().strip():
                pt = frag.charFormat().fontPointSize()
                out.add(round(pt if pt > 0 else default, 1))
            it += 1
        block = block.next()
    return out


def _ink_h(item):
    t = item.textItem
    return (t.boundingRect().height() - 2 * t.document().documentMargin()) * t.scale()


def _look(view):
    """What leaving presentation mode must give back: every text's HTML, size, position and scale, the pens."""
    return (
        [
            (t.textItem.toHtml(), tuple(sorted(_points(t))), (t.pos().x(), t.pos().y()), t.textItem.scale())
            for t in _texts(view)
        ],
        [p.widthF() for p in (view._neuron_pen, view._answer_pen, view._truth_pen, view._selected_pen)],
        view._edges.n_lines(),
        view._focus_lines.n_lines(),
        view._neurons.data["size"].tolist(),
    )


def _settle(qtbot, view):
    qtbot.waitUntil(lambda: abs(view._aspect - view._vb.width() / view._vb.height()) < 0.03, timeout=3000)


@pytest.mark.parametrize("size", SIZES, ids=[f"{a}x{b}" for a, b in SIZES])
def test_presenting_scales_the_diagrams_text_and_lines_and_leaving_restores_them(qtbot, shown, state, size):
    view = shown(NetworkView(), *size)
    view.set_state(state)
    view.select_neuron(1, 3)  # the inset and its caption, the highlighted connections
    _settle(qtbot, view)
    assert view._inset_caption.isVisible()
    assert not legibility.view_problems(view._gv, "normal")
    normal = _look(view)
    pts = {id(t): _points(t) for t in _texts(view)}
    heights = {id(t): _ink_h(t) for t in _texts(view)}

    style.set_font_scale(SCALE)  # as presentation mode does, then tells the diagram
    try:
        view.set_presentation(True)
        _settle(qtbot, view)
        assert view.font_scale == SCALE
        titles = {id(t) for t in view._titles}
        for t in _texts(view):
            name = t.textItem.toPlainText()[:30]
            if id(t) in titles:  # the roomiest style that fits its neighbours, at the larger scale
                assert size[1] < 300 or min(_points(t)) >= 1.2 * min(pts[id(t)]), name
                continue
            assert _points(t) == {round(p * SCALE, 1) for p in pts[id(t)]}, name
            if size[1] > 300 and t is not view._inset_caption:  # room: nothing shrinks, it is larger on screen
                assert _ink_h(t) > 1.2 * heights[id(t)], name
        if size[1] > 300:
            assert view._inset_caption.textItem.scale() == 1.0  # wrapped or compact, never shrunk
        assert not legibility.view_problems(view._gv, "presenting")
        assert view._neuron_pen.widthF() == pytest.approx(1.2 * SCALE)
        assert view._focus_lines.n_lines() > normal[3]  # the highlighted connections are wider
    finally:
        style.set_font_scale(1.0)
    view.set_presentation(False)
    _settle(qtbot, view)
    assert _look(view) == normal


@pytest.mark.parametrize("height", [250, 220])
def test_the_hover_line_stays_inside_a_short_diagram(qtbot, shown, state, height):
    view = shown(NetworkView(), 440, height)
    view.set_state(state)
    _settle(qtbot, view)
    for scale in (1.0, SCALE):
        view.set_font_scale(scale)
        _settle(qtbot, view)
        info = legibility._to_view(view._gv, legibility._ink_rect(view._info.textItem))
        legend = legibility._to_view(view._gv, legibility._ink_rect(view._legend.textItem))
        assert info.bottom() <= view._gv.viewport().height(), scale
        assert legend.bottom() <= info.top() + 1, scale
        assert not legibility.view_problems(view._gv, f"scale {scale}")


def _render(view):
    img = view._gv.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    return pg.functions.ndarray_from_qimage(img).astype(int)


@pytest.mark.parametrize("scale", [1.0, SCALE])
def test_no_connection_crosses_the_inset_caption(qtbot, shown, state, scale):
    view = shown(NetworkView(), 900, 600)
    view.set_font_scale(scale)
    view.set_state(state)
    view.select_neuron(1, 3)
    _settle(qtbot, view)
    cap = view._inset_caption
    r = QRectF(view._gv.mapFromScene(cap.textItem.mapRectToScene(cap.textItem.boundingRect())).boundingRect())
    r = r.intersected(QRectF(view._gv.viewport().rect()))
    y0, y1, x0, x1 = int(r.top()) + 2, int(r.bottom()) - 2, int(r.left()) + 2, int(r.right()) - 2
    lines = (view._edges, view._focus_lines)

    def caption_area(show_lines, show_caption=True):
        for it in lines:
            it.setVisible(show_lines)
        cap.setVisible(show_caption)
        return _render(view)[y0:y1, x0:x1]

    # the test means something: there, the connections are drawn where the caption is
    assert (caption_area(True, False) != caption_area(False, False)).any()
    # with the caption: the same pixels with and without the connections
    np.testing.assert_array_equal(caption_area(True), caption_area(False))
    for it in lines:
        it.setVisible(True)
