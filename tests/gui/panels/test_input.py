"""The input panel: drawing with the mouse, noise, test digits, pictures, and the answer bars."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtTest import QTest

from digitviz.core.inputs import centre_of_mass
from digitviz.core.snapshot import Snapshot
from digitviz.core.training import TrainConfig
from digitviz.gui.panels.input import InputPanel

from .. import ToyData


def snapshot_of(net, config=TrainConfig(), step=0, example=None, label=-1):
    theta = net.theta.copy()
    theta.flags.writeable = False
    return Snapshot(
        step=step, epoch=0, examples_seen=0, theta=theta, config=config, example=example, example_label=label
    )


@pytest.fixture
def toy():
    return ToyData(n_train=10, n_test=200)


@pytest.fixture
def panel(qtbot, toy):
    w = InputPanel(seed=0)
    qtbot.addWidget(w)
    w.resize(520, 700)
    cfg = TrainConfig()
    w.on_snapshot(snapshot_of(cfg.network(), cfg))
    w.set_dataset(toy)
    w.show()
    qtbot.waitExposed(w)
    return w


def canvas_point(panel, fx, fy):
    """Widget position of the fraction (fx, fy) of the canvas square."""
    r = panel.canvas.target_rect()
    return QPoint(int(r.x() + fx * r.width()), int(r.y() + fy * r.height()))


def draw_stroke(panel, fractions, steps_between=4):
    """Press, move through the points (with a few in-between moves), release."""
    c = panel.canvas
    pts = [np.array(f, float) for f in fractions]
    QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, canvas_point(panel, *pts[0]))
    for a, b in zip(pts[:-1], pts[1:]):
        for k in range(1, steps_between + 1):
            QTest.mouseMove(c, canvas_point(panel, *(a + (b - a) * k / steps_between)))
    QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, canvas_point(panel, *pts[-1]))


SEVEN = [(0.1, 0.1), (0.35, 0.1), (0.3, 0.2), (0.22, 0.4)]  # a small 7 in the top-left corner


def test_drawing_changes_the_network_input_and_the_bars(qtbot, panel):
    bars_before = panel.bars.values.copy()
    with qtbot.waitSignal(panel.input_changed, timeout=2000) as blocker:
        draw_stroke(panel, SEVEN)
    qtbot.waitUntil(lambda: not panel._throttle.isActive())
    x, label = blocker.args
    assert label == -1 and x.shape == (784,) and x.dtype == np.float32
    assert panel.source == "drawing"
    img = panel.x.reshape(28, 28)
    assert img.max() > 0.9
    r, c = centre_of_mass(img)
    assert abs(r - 14) < 0.2 and abs(c - 14) < 0.2  # drawn in a corner, seen in the centre
    assert not np.allclose(panel.bars.values, bars_before)
    assert np.allclose(panel.bars.values, panel.net.feedforward(panel.x)[0], atol=1e-6)
    assert panel.answer_label.text() == str(int(panel.outputs.argmax()))


def test_the_28x28_view_shows_the_prepared_image(qtbot, panel):
    draw_stroke(panel, SEVEN)
    qtbot.waitUntil(lambda: panel.x.any())
    qtbot.waitUntil(lambda: not panel._throttle.isActive())
    shot = panel.pixels.grab().toImage()
    w, h = shot.width(), shot.height()
    side = min(w, h) - 2
    x0, y0 = (w - side) // 2, (h - side) // 2
    img = panel.x.reshape(28, 28)
    bright = np.unravel_index(np.argmax(img), img.shape)
    dark = (0, 0)

    def px(rc):
        return QColor(shot.pixel(int(x0 + (rc[1] + 0.5) * side / 28), int(y0 + (rc[0] + 0.5) * side / 28)))

    assert px(bright).lightness() > px(dark).lightness() + 120


def test_fast_pen_leaves_a_continuous_line(qtbot, panel):
    c = panel.canvas
    QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, canvas_point(panel, 0.1, 0.5))
    QTest.mouseMove(c, canvas_point(panel, 0.9, 0.5))  # one big jump between two mouse events
    QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, canvas_point(panel, 0.9, 0.5))
    row = c.canvas[int(0.5 * c.size_px)]
    lo, hi = int(0.12 * c.size_px), int(0.88 * c.size_px)
    assert (row[lo:hi] > 0.9).all()


def test_undo_restores_the_previous_stroke_and_clear_empties(qtbot, panel):
    draw_stroke(panel, [(0.2, 0.2), (0.8, 0.2)])
    one = panel.canvas.canvas.copy()
    draw_stroke(panel, [(0.5, 0.2), (0.5, 0.8)])
    assert not np.array_equal(panel.canvas.canvas, one)
    panel.undo()
    assert np.array_equal(panel.canvas.canvas, one)
    panel.clear()
    assert panel.canvas.is_empty
    qtbot.waitUntil(lambda: not panel.x.any())
    panel.undo()  # clearing is undoable too
    assert np.array_equal(panel.canvas.canvas, one)


def test_empty_canvas_gives_blank_input_without_error(qtbot, panel):
    panel.clear()
    qtbot.waitUntil(lambda: panel.source == "drawing" and not panel._throttle.isActive())
    assert not panel.x.any() and panel.outputs is not None


def test_noise_buttons_change_the_input(qtbot, panel):
    seen = []
    panel.input_changed.connect(lambda x, label: seen.append((x, label)))
    panel.uniform_button.click()
    a = panel.x.copy()
    panel.uniform_button.click()
    b = panel.x.copy()
    assert not np.array_equal(a, b) and 0.4 < a.mean() < 0.6
    panel.gaussian_button.click()
    assert panel.source == "noise" and 0.4 < panel.x.mean() < 0.6
    panel.blank_button.click()
    assert not panel.x.any()
    assert len(seen) == 4 and all(label == -1 for _, label in seen)
    assert panel.canvas.showing_preview


def test_noise_is_seeded(qtbot):
    a, b = InputPanel(seed=5), InputPanel(seed=5)
    qtbot.addWidget(a)
    qtbot.addWidget(b)
    a.show_noise("uniform")
    b.show_noise("uniform")
    assert np.array_equal(a.x, b.x)


def test_test_digits_show_their_true_label(qtbot, panel, toy):
    with qtbot.waitSignal(panel.input_changed) as blocker:
        panel.next_button.click()
    assert panel.test_index == 0 and blocker.args[1] == int(toy.test_labels[0])
    assert np.array_equal(panel.x, toy.images_as("test")[0])
    assert f"true label {toy.test_labels[0]}" in panel.truth_label.text()
    panel.prev_button.click()
    assert panel.test_index == len(toy.test_labels) - 1  # wraps around
    panel.random_button.click()
    assert panel.label == int(toy.test_labels[panel.test_index])


def test_next_mistake_lands_on_a_digit_the_network_gets_wrong(qtbot, panel, toy):
    preds = panel.net.predict(toy.images_as("test"))
    wrong = np.flatnonzero(preds != toy.test_labels)
    assert len(wrong) >= 2
    panel.mistake_button.click()
    assert panel.test_index == wrong[0]
    assert int(panel.outputs.argmax()) != panel.label
    assert "✗" in panel.truth_label.text()
    panel.next_mistake()
    assert panel.test_index == wrong[1]  # the next one, none skipped


def test_next_mistake_when_there_is_none(qtbot, panel, toy):
    cfg = TrainConfig()
    net = cfg.network()
    net.weights[-1][...] = 0
    net.biases[-1][...] = -9
    # every answer is "0"; relabel the toy test set so that this is always right
    toy = replace(toy, test_labels=np.zeros_like(toy.test_labels))
    panel.set_dataset(toy)
    panel.on_snapshot(snapshot_of(net, cfg, step=1))
    panel.next_mistake()
    assert panel.message_label.isVisible() and "every test digit right" in panel.message_label.text()


def _write_digit_png(path, dark_on_light=True, size=(90, 120), transparent=False):
    img = QImage(size[0], size[1], QImage.Format_ARGB32 if transparent else QImage.Format_RGB32)
    img.fill(QColor(0, 0, 0, 0) if transparent else QColor(245, 245, 240) if dark_on_light else QColor(0, 0, 0))
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QPen(QColor(20, 20, 20) if dark_on_light else QColor(255, 255, 255), 9, Qt.SolidLine, Qt.RoundCap))
    p.drawLine(15, 15, 70, 15)
    p.drawLine(70, 15, 35, 105)
    p.end()
    assert img.save(str(path))


@pytest.mark.parametrize(
    "name,dark_on_light,transparent",
    [
        ("seven.png", True, False),
        ("seven.png", False, False),
        ("seven.jpg", True, False),
        ("seven.png", True, True),  # black ink on a transparent background
    ],
)
def test_open_image_prepares_it_like_a_drawing(qtbot, panel, tmp_path, name, dark_on_light, transparent):
    path = tmp_path / name
    _write_digit_png(path, dark_on_light, transparent=transparent)
    with qtbot.waitSignal(panel.input_changed):
        assert panel.open_image(path)
    img = panel.x.reshape(28, 28)
    assert panel.source == "file" and not panel.message_label.isVisible()
    r, c = centre_of_mass(img)
    assert abs(r - 14) < 0.3 and abs(c - 14) < 0.3
    assert img[0].max() < 0.05 and img.max() > 0.9  # light ink on a black ground, whatever the file's polarity
    assert name in panel.source_label.text()


@pytest.mark.parametrize("content", [b"", b"not an image at all\n" * 10, b"\x89PNG\r\n\x1a\n" + bytes(range(200))])
def test_a_corrupt_or_non_image_file_gives_a_message(qtbot, panel, tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    x_before = panel.x.copy()
    assert panel.open_image(path) is False
    assert panel.message_label.isVisible() and "broken.png" in panel.message_label.text()
    assert np.array_equal(panel.x, x_before)


def test_missing_file_gives_a_message(qtbot, panel, tmp_path):
    assert panel.open_image(tmp_path / "nope.jpg") is False
    assert "nope.jpg" in panel.message_label.text()


def test_show_image_and_follow_training(qtbot, panel, toy):
    x = toy.images_as("test")[3]
    with qtbot.waitSignal(panel.input_changed) as blocker:
        panel.show_image(x.reshape(28, 28), 7)
    assert np.array_equal(blocker.args[0], x) and blocker.args[1] == 7 and panel.source == "external"
    with qtbot.waitSignal(panel.input_changed) as blocker:
        panel.follow_button.click()
    assert blocker.args == [None, -1] and panel.source == "training"
    # following training, the panel shows the snapshot's example without announcing it
    seen = []
    panel.input_changed.connect(lambda *a: seen.append(a))
    cfg = TrainConfig()
    panel.on_snapshot(
        snapshot_of(panel.net, cfg, step=5, example=toy.images_as("test")[4], label=int(toy.test_labels[4]))
    )
    assert np.array_equal(panel.x, toy.images_as("test")[4]) and panel.label == int(toy.test_labels[4])
    assert seen == []


def test_new_parameters_update_the_bars_for_the_same_input(qtbot, panel):
    panel.uniform_button.click()
    before = panel.bars.values.copy()
    cfg = TrainConfig()
    net = TrainConfig(seed=9).network()
    panel.on_snapshot(snapshot_of(net, cfg, step=1))
    assert not np.allclose(panel.bars.values, before)
    assert np.allclose(panel.bars.values, net.feedforward(panel.x)[0], atol=1e-6)


def test_softmax_network_shows_probabilities(qtbot, panel):
    cfg = TrainConfig(activation="relu", cost="cross_entropy")
    panel.on_snapshot(snapshot_of(cfg.network(), cfg))
    panel.gaussian_button.click()
    assert panel.bars.values.sum() == pytest.approx(1.0, abs=1e-5)
    assert "probabilities" in panel.bars_title.text()
    assert "sure" in panel.confidence_label.text()


def test_sigmoid_bars_say_they_need_not_sum_to_one(qtbot, panel):
    panel.uniform_button.click()
    assert "need not sum to 1" in panel.bars.toolTip()
    assert "need not sum to 1" in panel.bars_title.text()


def test_live_updates_are_throttled_but_the_last_state_arrives(qtbot, panel):
    seen = []
    panel.input_changed.connect(lambda x, label: seen.append(x))
    draw_stroke(panel, [(0.1, 0.1), (0.9, 0.1), (0.5, 0.9)], steps_between=60)  # 120 moves at once
    qtbot.waitUntil(lambda: not panel._throttle.isActive())
    assert 1 <= len(seen) < 20
    from digitviz.core.inputs import prepare_drawing

    assert np.allclose(seen[-1], prepare_drawing(panel.canvas.canvas))


def test_shortcuts(qtbot, panel):
    panel.activateWindow()
    panel.canvas.setFocus()
    qtbot.waitUntil(lambda: panel.canvas.hasFocus())
    QTest.keyClick(panel.canvas, Qt.Key_N)
    assert panel.source == "noise"
    QTest.keyClick(panel.canvas, Qt.Key_BracketRight)
    assert panel.source == "test" and panel.test_index == 0
    assert "(N)" in panel.uniform_button.toolTip() and "(M)" in panel.mistake_button.toolTip()


def test_without_network_or_data_nothing_breaks(qtbot):
    w = InputPanel()
    qtbot.addWidget(w)
    assert not w.next_button.isEnabled() and not w.mistake_button.isEnabled()
    w.show_noise("uniform")
    w.next_mistake()
    w.show_test_digit(3)
    assert w.outputs is None and w.message_label.text()
    w.set_dataset(None)
