"""The input panel's dumb views: drawing canvas, 28x28 pixel view, output bars, and the image helpers."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from digitviz.gui import colors
from digitviz.gui.views.drawing_canvas import DrawingCanvas
from digitviz.gui.views.images import array_to_qimage, qimage_to_gray
from digitviz.gui.views.output_bars import OutputBars
from digitviz.gui.views.pixel_view import PixelView


def test_canvas_draws_clears_and_undoes(qtbot, shown):
    c = shown(DrawingCanvas(), 300, 300)
    changes = []
    c.changed.connect(lambda: changes.append(1))
    with qtbot.waitSignal(c.stroke_started, timeout=1000):
        QTest.mousePress(c, Qt.LeftButton, pos=QPoint(100, 100))
    QTest.mouseMove(c, QPoint(200, 150))
    QTest.mouseRelease(c, Qt.LeftButton, pos=QPoint(200, 150))
    assert not c.is_empty and changes
    drawn = c.canvas.copy()
    row, col = c.to_canvas(c.target_rect().center())
    assert 0 < row < c.size_px and 0 < col < c.size_px
    c.clear()
    assert c.is_empty and c.can_undo
    assert c.undo() and np.array_equal(c.canvas, drawn)


def test_canvas_preview_replaces_the_drawing_until_cleared(shown):
    c = shown(DrawingCanvas(), 200, 200)
    img = np.zeros((28, 28))
    img[10:18, 10:18] = 1
    c.set_preview(img, "caption")
    assert c.showing_preview
    c.set_preview(None)
    assert not c.showing_preview


def test_pixel_view_shows_the_image(shown):
    v = shown(PixelView(), 140, 140)
    img = np.zeros((28, 28))
    img[:, 14:] = 1.0
    v.set_image(img)
    shot = v.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    arr = pg.functions.ndarray_from_qimage(shot).astype(int)
    h, w = arr.shape[:2]
    left, right = arr[h // 2, w // 4, :3], arr[h // 2, 3 * w // 4, :3]
    assert right.sum() > left.sum() + 300  # white on the right half, dark on the left


def test_output_bars_values_and_truth(shown):
    bars = shown(OutputBars(), 400, 160)
    v = np.linspace(0.05, 0.95, 10)
    bars.set_values(v, label=3)
    np.testing.assert_allclose(bars.values, v)
    assert bars._texts[9].textItem.toPlainText() == "0.95"
    assert bars._truth.isVisible()
    bars.set_values(None)
    assert not bars.values.any() and not bars._truth.isVisible()


def test_images_round_trip_grey_levels():
    a = np.linspace(0, 1, 28 * 28).reshape(28, 28)
    img = array_to_qimage(a)
    assert (img.width(), img.height()) == (28, 28)
    grey = QImage(4, 4, QImage.Format.Format_RGB32)
    grey.fill(QColor(255, 255, 255))
    assert qimage_to_gray(grey) == pytest.approx(np.ones((4, 4)), abs=1e-6)
    assert array_to_qimage(np.zeros((2, 2))).pixelColor(0, 0) == colors.activation_color(0.0)


def test_the_first_stroke_after_clear_repaints_the_hint_away(qtbot, shown):
    """Issue 10 #14: after C the stroke repainted only its own region, so 'Draw a digit here' stayed under it."""
    c = shown(DrawingCanvas(), 300, 300)
    c.canvas[10:20, 10:20] = 1.0  # an earlier drawing (no press: a second one would be a double click)
    c.clear()
    c.grab()  # painted: the hint is on screen again
    full, partial = [], []
    original = c.update

    def spy(*args):
        (partial if args else full).append(args)
        original(*args)

    c.update = spy
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent

    # the press itself (QTest's would be taken for a double click of an earlier test's press)
    c.mousePressEvent(
        QMouseEvent(
            QEvent.MouseButtonPress, QPointF(150, 150), QPointF(150, 150), Qt.LeftButton, Qt.LeftButton, Qt.NoModifier
        )
    )
    assert full, "the first stroke on an empty canvas must repaint all of it (the hint is everywhere)"
    c.grab()
    full.clear()
    QTest.mouseMove(c, QPoint(160, 160))
    assert not full and partial  # later movements still repaint only what the pen touched
    QTest.mouseRelease(c, Qt.LeftButton, pos=QPoint(160, 160))
