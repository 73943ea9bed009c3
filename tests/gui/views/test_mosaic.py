"""The mosaic view: tiles on one diverging scale, tile numbers, highlight, clicks name a tile."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from digitviz.core.diagram import mosaic_grid, tile_origin, weight_mosaic
from digitviz.gui.views.mosaic import MAX_NUMBERED, MosaicView


@pytest.fixture
def view(shown):
    return shown(MosaicView(), 400, 400)


def test_image_grid_numbers_and_highlight(view, rng):
    W = rng.standard_normal((16, 784))
    view.set_grid(16, mosaic_grid(16), (28, 28))
    image, scale = weight_mosaic(W, cols=4)
    view.set_image(image, scale)
    np.testing.assert_array_equal(view.image.image, image)
    assert list(view.image.levels) == pytest.approx([-scale, scale])
    assert len(view.numbers) == 16
    view.set_highlight(5)
    x0, y0 = tile_origin(5, 4)
    assert view.highlight.isVisible() and view.highlight.rect().contains(QPointF(x0 + 1, y0 + 1))
    view.set_highlight(-1)
    assert not view.highlight.isVisible()
    view.set_grid(MAX_NUMBERED + 1, mosaic_grid(MAX_NUMBERED + 1), (28, 28))
    assert view.numbers == []


def test_click_names_the_tile(qtbot, view):
    view.set_grid(16, (4, 4), (28, 28))
    image, scale = weight_mosaic(np.ones((16, 784)), cols=4)
    view.set_image(image, scale)
    x0, y0 = tile_origin(10, 4)
    p = view.mapFromScene(view.vb.mapViewToScene(QPointF(x0 + 14, y0 + 14)))
    with qtbot.waitSignal(view.tile_clicked, timeout=2000) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y()))
    assert sig.args == [10]
