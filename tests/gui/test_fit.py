"""gui/fit.py: plot text that stays inside its view, whatever the order of resizes and new text."""

import pyqtgraph as pg
import pytest

from digitviz.gui.fit import fit_plot_text

from . import legibility


@pytest.fixture
def plot_widget(qtbot):
    def make(w, h, **labels):
        pw = pg.PlotWidget()
        qtbot.addWidget(pw)
        pw.resize(w, h)
        for side, text in labels.items():
            pw.setLabel(side, text)
        fit_plot_text(pw.getPlotItem())
        pw.show()
        qtbot.waitExposed(pw)
        return pw

    return make


def _settle(qtbot, pw):
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()


def test_a_longer_axis_label_set_later_is_centred_and_fitted_at_once(plot_widget, qtbot):
    # the landscape's map: a short label ("PC2") laid out, then its surface arrives with a long one
    pw = plot_widget(500, 240, left="PC2", bottom="PC1")
    pw.setTitle("cost over the plane")  # as the app's plots: room above the top tick label
    _settle(qtbot, pw)
    pw.setLabel("left", "random (path has 1 PC), a direction of its own")
    pw.setLabel("bottom", "PC1 (100% of the path's spread), the main direction of the path")
    _settle(qtbot, pw)
    assert not legibility.view_problems(pw, "plot")


def test_a_plot_made_narrower_than_its_title_and_labels_fits_its_view(plot_widget, qtbot):
    # pyqtgraph sizes the plot when its view is resized, clamped to the labels' widths at that moment
    pw = plot_widget(400, 300)
    pw.setTitle("a long title over a plot that becomes narrow", size="9pt")
    pw.getAxis("bottom").setTicks([[(i, str(i)) for i in range(3)], []])
    pw.setXRange(-0.6, 2.6, padding=0)
    _settle(qtbot, pw)
    pw.resize(100, 300)
    qtbot.waitUntil(lambda: pw.viewport().width() == 100)
    _settle(qtbot, pw)
    assert pw.getPlotItem().geometry().width() <= pw.viewport().width()
    assert not legibility.view_problems(pw, "plot")


@pytest.mark.parametrize("size", [(110, 200), (200, 60)])
def test_a_narrow_or_short_axis_labels_fewer_ticks(plot_widget, qtbot, size):
    pw = plot_widget(*size, left="accuracy", bottom="steps")
    pw.setXRange(0, 1, padding=0.02)
    pw.setYRange(0, 1, padding=0.02)
    _settle(qtbot, pw)
    assert not [p for p in legibility.view_problems(pw, "plot") if "overlaps" in p]


def test_listed_ticks_are_thinned_on_a_narrow_axis_and_come_back_when_wide(plot_widget, qtbot):
    # Draw & move's outputs: the digits 0-9 under ten bars, in a plot a third of a narrow dock wide
    pw = plot_widget(400, 200)
    pw.setTitle("its outputs")
    pw.getAxis("bottom").setTicks([[(i, f"{i}0") for i in range(10)], []])
    pw.setXRange(-0.6, 9.6, padding=0)
    _settle(qtbot, pw)
    digits = {f"tick {i}0" for i in range(10)}

    def shown():
        return [t for t, _ in legibility._text_rects(pw) if t in digits]

    assert len(shown()) == 10
    pw.resize(110, 200)
    qtbot.waitUntil(lambda: pw.viewport().width() == 110)
    _settle(qtbot, pw)
    assert not [p for p in legibility.view_problems(pw, "plot") if "overlaps" in p]
    assert 1 <= len(shown()) < 10
    pw.resize(400, 200)
    qtbot.waitUntil(lambda: pw.viewport().width() == 400)
    _settle(qtbot, pw)
    assert len(shown()) == 10


def test_listed_ticks_at_one_pixel_print_once(plot_widget, qtbot):
    # the landscape's cost profile: a flat curve, ticks 3.9500 and 3.9505 a hair apart in a padded range
    pw = plot_widget(300, 200, left="cost")
    pw.setTitle("cost along the path")
    _settle(qtbot, pw)
    pw.setYRange(0.0966, 1.0966, padding=0)
    pw.getAxis("left").setTicks([[(0.59660, "3.9500"), (0.59665, "3.9505")]])
    _settle(qtbot, pw)
    assert not [p for p in legibility.view_problems(pw, "plot") if "overlaps" in p]


def test_a_two_line_title_at_a_large_font_gets_a_row_as_tall_as_it(plot_widget, qtbot):
    # Many minima's line plot at 1920x1080 while presenting: pyqtgraph's fixed 30 px title row left its
    # second line's box 5 px above the plot
    pw = plot_widget(600, 300)
    pw.setTitle("Cost along the straight line<br>between two trained networks", size="14pt")
    pw.getPlotItem().fit_text()
    _settle(qtbot, pw)
    title = pw.getPlotItem().titleLabel
    assert title.itemRect().height() > 30  # two lines at 14 pt: taller than pyqtgraph's row
    assert pw.getPlotItem().layout.rowMinimumHeight(0) >= title.itemRect().height() - 1
    assert not legibility.view_problems(pw, "plot")
