"""The weights panel: every first-hidden-layer neuron's weights as a tile, modes, selection."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from digitviz.core.diagram import symmetric_scale, tile_origin
from digitviz.core.network import Layout
from digitviz.core.snapshot import Snapshot, frozen_copy
from digitviz.core.training import TrainConfig
from digitviz.gui.panels.weights import WeightsPanel


def snap(theta, config=TrainConfig(), step=0, generation=0):
    return Snapshot(step=step, epoch=0, examples_seen=0, theta=frozen_copy(theta), config=config, generation=generation)


@pytest.fixture
def panel(shown):
    return shown(WeightsPanel(), 500, 560)


@pytest.fixture
def thetas(rng):
    cfg = TrainConfig()
    t0 = cfg.network().theta.copy()
    t1 = t0 + 0.1 * rng.standard_normal(t0.shape).astype(t0.dtype)
    return cfg, t0, t1


def W1(theta, sizes=(784, 16, 16, 10)):
    return Layout(sizes).views(theta)[0][0]


def tile(panel, i):
    x0, y0 = tile_origin(i, panel._grid[1])
    return panel.mosaic.image.image[y0 : y0 + 28, x0 : x0 + 28]


def test_tile_is_the_weight_row_on_the_shared_scale(panel, thetas):
    cfg, t0, _ = thetas
    panel.on_snapshot(snap(t0, cfg))
    assert panel._grid == (4, 4)
    for i in (0, 5, 15):
        np.testing.assert_array_equal(tile(panel, i), W1(t0)[i].reshape(28, 28))
    scale = symmetric_scale(W1(t0))
    assert list(panel.mosaic.image.levels) == pytest.approx([-scale, scale])
    assert panel.mosaic.bar.values == pytest.approx((-scale, scale))


def test_modes_initial_now_change(panel, thetas):
    cfg, t0, t1 = thetas
    panel.on_snapshot(snap(t0, cfg, step=0))
    panel.on_snapshot(snap(t1, cfg, step=100))
    assert panel.mode == "now"
    np.testing.assert_array_equal(tile(panel, 3), W1(t1)[3].reshape(28, 28))
    panel.set_mode("initial")
    np.testing.assert_array_equal(tile(panel, 3), W1(t0)[3].reshape(28, 28))
    assert panel.mode_buttons["initial"].isChecked()
    panel.set_mode("change")
    np.testing.assert_allclose(tile(panel, 3), (W1(t1)[3] - W1(t0)[3]).reshape(28, 28), rtol=1e-5, atol=1e-7)
    lo, hi = panel.mosaic.image.levels
    assert hi == pytest.approx(symmetric_scale(W1(t1).astype(np.float64) - W1(t0)))
    with pytest.raises(ValueError):
        panel.set_mode("later")


def test_mode_buttons_switch(qtbot, panel, thetas):
    cfg, t0, t1 = thetas
    panel.on_snapshot(snap(t0, cfg))
    panel.on_snapshot(snap(t1, cfg, step=5))
    qtbot.mouseClick(panel.mode_buttons["change"], Qt.MouseButton.LeftButton)
    assert panel.mode == "change"
    assert "now − initial" in panel.caption.text()


def test_new_generation_resets_initial(panel, thetas, rng):
    cfg, t0, t1 = thetas
    panel.on_snapshot(snap(t0, cfg, generation=0))
    panel.on_snapshot(snap(t1, cfg, step=50, generation=0))
    t2 = cfg.network().theta + 1.0
    panel.on_snapshot(snap(t2, cfg, step=0, generation=1))
    panel.set_mode("change")
    assert np.all(panel.mosaic.image.image[~np.isnan(panel.mosaic.image.image)] == 0)
    panel.set_mode("initial")
    np.testing.assert_array_equal(tile(panel, 0), W1(t2)[0].reshape(28, 28))


def test_unchanged_snapshot_is_not_redrawn(panel, thetas):
    cfg, t0, _ = thetas
    s = snap(t0, cfg)
    panel.on_snapshot(s)
    img = panel.mosaic.image.image
    panel.on_snapshot(s)
    assert panel.mosaic.image.image is img


def test_click_tile_selects_and_emits(qtbot, panel, thetas):
    cfg, t0, _ = thetas
    panel.on_snapshot(snap(t0, cfg))
    x0, y0 = tile_origin(6, 4)
    scene = panel.mosaic.vb.mapViewToScene(QPointF(x0 + 14, y0 + 14))
    p = panel.mosaic.mapFromScene(scene)
    with qtbot.waitSignal(panel.neuron_selected, timeout=2000) as sig:
        qtbot.mouseClick(panel.mosaic.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(p.x(), p.y()))
    assert sig.args == [6]
    assert panel.mosaic.highlight.isVisible()
    r = panel.mosaic.highlight.rect()
    assert r.contains(QPointF(x0 + 14, y0 + 14))
    assert "neuron 6" in panel.info.text()


def test_select_neuron_follows_without_emitting(qtbot, panel, thetas):
    cfg, t0, _ = thetas
    panel.on_snapshot(snap(t0, cfg))
    with qtbot.assertNotEmitted(panel.neuron_selected):
        panel.select_neuron(9)
    x0, y0 = tile_origin(9, 4)
    assert panel.mosaic.highlight.isVisible() and panel.mosaic.highlight.rect().contains(QPointF(x0 + 1, y0 + 1))
    panel.select_neuron(-1)
    assert not panel.mosaic.highlight.isVisible()


def test_wide_layer_grid(panel):
    cfg = TrainConfig(sizes=(784, 256, 10), activation="relu", cost="cross_entropy")
    t = cfg.network().theta
    panel.on_snapshot(snap(t, cfg))
    assert panel._grid == (16, 16)
    assert panel.mosaic.image.image.shape == (16 * 29 - 1, 16 * 29 - 1)
    np.testing.assert_array_equal(tile(panel, 200), W1(t, cfg.sizes)[200].reshape(28, 28))
    assert panel.mosaic.numbers == []  # no tile numbers on a 16x16 grid


def test_wide_layer_updates_are_throttled_but_the_last_one_lands(qtbot, panel, rng):
    cfg = TrainConfig(sizes=(784, 256, 10), activation="relu", cost="cross_entropy")
    t0 = cfg.network().theta
    panel.on_snapshot(snap(t0, cfg))
    last = None
    for step in range(1, 6):
        last = t0 + step * 0.01 * rng.standard_normal(t0.shape).astype(t0.dtype)
        panel.on_snapshot(snap(last, cfg, step=step))
    qtbot.waitUntil(lambda: np.array_equal(tile(panel, 7), W1(last, cfg.sizes)[7].reshape(28, 28)), timeout=2000)


def test_positive_weights_drawn_blue(qtbot, panel):
    cfg = TrainConfig()
    t = cfg.network().theta.copy()
    W = W1(t)
    W[...] = -0.5
    W[0] = 0.5
    panel.on_snapshot(snap(t, cfg))
    img = panel.mosaic.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    arr = pg.functions.ndarray_from_qimage(img).astype(int)

    def px(i):
        x0, y0 = tile_origin(i, 4)
        p = panel.mosaic.mapFromScene(panel.mosaic.vb.mapViewToScene(QPointF(x0 + 14, y0 + 14)))
        return arr[p.y(), p.x(), :3]

    pos, neg = px(0), px(1)
    assert pos[2] > pos[0] + 60  # blue
    assert neg[0] > neg[2] + 60  # orange


def test_set_dataset_is_accepted(panel):
    panel.set_dataset(None)
