"""The main window end to end, on a small toy dataset (offscreen, temporary QSettings)."""

import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QPushButton

from digitviz.core.training import TrainConfig
from digitviz.gui.main_window import MainWindow

from . import FAST, ToyData


def wait_idle_at(qtbot, w, step):
    qtbot.waitUntil(lambda: w.controller.latest.step == step and not w.controller.latest.running, timeout=5000)


def test_opens_with_data_and_steps_one_batch(make_window, qtbot):
    w = make_window()
    assert not w.data_banner.isVisible()
    assert set(w.docks) >= {"settings", "curves"}
    before = getattr(w, "diagram_updates", 0)
    w.act_step.trigger()
    wait_idle_at(qtbot, w, 1)
    qtbot.waitUntil(lambda: w.status_labels["step"].text() == "step 1", timeout=2000)
    snap = w.controller.latest
    assert snap.examples_seen == FAST.batch_size
    assert w.status_labels["seen"].text() == "10 examples seen"
    assert "→" in w.step_readout.text()
    r = snap.step_report
    assert f"{r.cost_before:.4f}" in w.step_readout.text() and f"{r.cost_after:.4f}" in w.step_readout.text()
    assert w.diagram_updates > before
    assert w.panels["curves"].steps.n == 1


def test_opens_without_data(make_window, qtbot):
    w = make_window(data=None, load_data=False)
    assert w.data_banner.isVisible()
    assert "No MNIST data" in w.data_banner.label.text()
    assert w.download_button.isVisible() and w.open_button.isVisible()
    # the untrained network still answers an input
    x = np.zeros(784, np.float32)
    x[300:320] = 1
    w._on_input_changed(x, -1)
    assert w.diagram._state is not None
    np.testing.assert_allclose(w.diagram._state.activations[0], x)
    assert not w.act_step.isEnabled()  # nothing to train on: disabled (issue 10 #19) ...
    w.step_once()  # ... and the command itself gives a message, not a crash
    qtbot.waitUntil(lambda: "No training data" in w.statusBar().currentMessage(), timeout=2000)
    assert w.controller.latest.step == 0


def test_bad_data_folder_explains_in_one_line(make_window, qtbot, tmp_path):
    w = make_window(data=None, load_data=False)
    w.open_data_folder(str(tmp_path))
    qtbot.waitUntil(lambda: "missing" in w.data_banner.label.text(), timeout=5000)
    assert "Traceback" not in w.data_banner.label.text()


def test_play_then_pause(make_window, qtbot):
    w = make_window()
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.controller.running and w.controller.step > 30, timeout=5000)
    qtbot.waitUntil(lambda: w.act_play.text() == "Pause", timeout=2000)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: not w.controller.running, timeout=2000)
    qtbot.waitUntil(lambda: w.act_play.text() == "Play", timeout=2000)
    step = w.controller.step
    qtbot.waitUntil(lambda: w.status_labels["step"].text() == f"step {step:,}", timeout=2000)
    curves = w.panels["curves"]
    qtbot.waitUntil(lambda: curves.steps.n == step, timeout=2000)  # every step reached the curves once
    np.testing.assert_array_equal(curves.steps.steps(), np.arange(1, step + 1))


def test_epoch_then_reset(make_window, qtbot):
    w = make_window()
    w.act_epoch.trigger()
    qtbot.waitUntil(lambda: bool(w.controller.latest.epochs) and not w.controller.running, timeout=10000)
    qtbot.waitUntil(
        lambda: "test accuracy" in w.status_labels["accuracy"].text() and "%" in w.status_labels["accuracy"].text(),
        timeout=2000,
    )
    theta0 = FAST.network().theta
    gen = w.controller.generation
    asked = []
    w.confirm = lambda title, text: asked.append(text) or True
    w.act_reset.trigger()
    qtbot.waitUntil(lambda: w.controller.generation == gen + 1, timeout=5000)
    assert asked and "not saved" in asked[0]  # a trained, unsaved network is not thrown away silently
    np.testing.assert_array_equal(w.controller.latest.theta, theta0)
    qtbot.waitUntil(lambda: w.status_labels["step"].text() == "step 0", timeout=2000)
    assert w.panels["curves"].steps.n == 0


def test_settings_reach_the_worker(make_window, qtbot):
    w = make_window()
    panel = w.panels["settings"]
    panel.lr.setValue(0.5)
    panel.doubt.setValue(20)
    qtbot.waitUntil(
        lambda: w.controller.latest.config.lr == 0.5 and w.controller.latest.config.doubt == 0.2, timeout=5000
    )
    w.act_step.trigger()
    wait_idle_at(qtbot, w, 1)
    # the architecture: asks first (declined: nothing changes), then resets when accepted
    w.confirm = lambda title, text: False
    panel.hidden.setText("12")
    panel.hidden.editingFinished.emit()
    assert w.controller.latest.config.sizes == (784, 16, 16, 10)
    assert panel.hidden.text() == "16 16"
    w.confirm = lambda title, text: True
    panel.hidden.setText("12")
    panel.hidden.editingFinished.emit()
    qtbot.waitUntil(lambda: w.controller.latest.config.sizes == (784, 12, 10), timeout=5000)
    assert w.controller.latest.step == 0 and w.controller.latest.config.lr == 0.5


def test_divergence_shows_an_alert_that_offers_reset(make_window, qtbot):
    cfg = TrainConfig(sizes=(784, 32, 10), activation="relu", cost="cross_entropy", lr=1e6, seed=1)
    w = make_window(config=cfg)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.alert.isVisible(), timeout=5000)
    assert "blew up" in w.alert.label.text() and "learning rate" in w.alert.label.text()
    assert w.alert_reset.isVisible() and not w.controller.running
    gen = w.controller.generation
    w.alert_reset.click()
    qtbot.waitUntil(lambda: w.controller.generation == gen + 1, timeout=5000)
    assert not w.alert.isVisible()


def test_closing_while_training_stops_the_thread(qtbot, settings):
    w = MainWindow(data=ToyData(n_train=2000), config=FAST, settings=settings)
    w.confirm = lambda title, text: True  # an epoch may finish: quitting then asks
    qtbot.addWidget(w)
    w.show()
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.controller.running, timeout=5000)
    w.close()
    assert w.controller.thread.isFinished()


def test_layout_and_settings_are_remembered(make_window, qtbot, settings):
    w = make_window()
    w.docks["curves"].hide()
    w.panels["settings"].lr.setValue(0.75)
    qtbot.waitUntil(lambda: w.controller.latest.config.lr == 0.75, timeout=5000)
    w.close()
    w2 = make_window(config=None)
    assert not w2.docks["curves"].isVisible()
    assert w2.controller.latest.config.lr == 0.75
    w2.act_reset_layout.trigger()
    assert w2.docks["curves"].isVisible()


def test_save_and_load_network(make_window, qtbot, tmp_path):
    w = make_window()
    w.act_step.trigger()
    wait_idle_at(qtbot, w, 1)
    theta = np.array(w.controller.latest.theta)
    path = w.save_network(tmp_path / "net")
    assert path.exists()
    w.act_reset.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step == 0, timeout=5000)
    gen = w.controller.generation
    assert w.load_network(path)
    qtbot.waitUntil(lambda: w.controller.generation == gen + 1, timeout=5000)
    np.testing.assert_array_equal(w.controller.latest.theta, theta)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert not w.load_network(bad)
    assert w.alert.isVisible() and "bad.npz" in w.alert.label.text()
    assert w.export_png(tmp_path / "diagram.png") and (tmp_path / "diagram.png").stat().st_size > 1000


def test_download_can_be_cancelled(make_window, qtbot, tmp_path):
    from digitviz.core.fetch import FetchError

    def fake_fetch(dest, progress, cancel):
        done = 0
        while not cancel():
            done = min(done + 65536, 9912422)
            progress("train-images-idx3-ubyte.gz", done, 9912422)
            time.sleep(0.001)  # a network read
        raise FetchError("cancelled")

    w = make_window(data=None, load_data=False)
    w.download_mnist(dest=tmp_path, fetch=fake_fetch)
    qtbot.waitUntil(lambda: w.download_dialog is not None and w.download_dialog.value() >= 0, timeout=2000)
    w.download_dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    qtbot.waitUntil(lambda: w.downloader is None, timeout=5000)
    assert "cancelled" in w.statusBar().currentMessage()


def test_diagram_shows_the_answer_brightest(make_window, qtbot, tmp_path, mnist):
    w = make_window(data=mnist)
    w.act_epoch.trigger()  # one pass over real MNIST: the answers become confident
    qtbot.waitUntil(lambda: bool(w.controller.latest.epochs) and not w.controller.running, timeout=20000)
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step_report is not None, timeout=5000)
    view = w.diagram
    qtbot.waitUntil(
        lambda: (
            view._state is not None
            and np.array_equal(view._state.activations[0], np.asarray(w.controller.latest.example, np.float64))
        ),
        timeout=2000,
    )
    out = view._state.activations[-1]
    hi, lo = int(np.argmax(out)), int(np.argmin(out))
    assert out[hi] - out[lo] > 0.5
    img = view.grab().toImage().convertToFormat(QImage.Format_RGBA8888)
    img.save(str(tmp_path / "diagram.png"))
    arr = pg.functions.ndarray_from_qimage(img)
    ratio = img.width() / view.width()  # device pixel ratio

    def brightness(digit):
        p = view.output_center(digit)
        x, y = int(p.x() * ratio), int(p.y() * ratio)
        return arr[y - 1 : y + 2, x - 1 : x + 2, :3].astype(float).mean()

    assert brightness(hi) > brightness(lo) + 60


def test_keyboard_drives_training(make_window, qtbot):
    from PySide6.QtCore import Qt

    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.diagram.setFocus()
    qtbot.keyClick(w.diagram, Qt.Key_Right)
    wait_idle_at(qtbot, w, 1)
    qtbot.keyClick(w.diagram, Qt.Key_Space)
    qtbot.waitUntil(lambda: w.controller.running, timeout=2000)
    qtbot.keyClick(w.diagram, Qt.Key_Space)
    qtbot.waitUntil(lambda: not w.controller.running, timeout=2000)
    gen = w.controller.generation
    qtbot.keyClick(w.diagram, Qt.Key_R, Qt.ControlModifier)
    qtbot.waitUntil(lambda: w.controller.generation == gen + 1, timeout=2000)


def test_input_from_a_panel_redraws_the_diagram_at_once(make_window, qtbot):
    w = make_window()
    source = next((p for p in w.panels.values() if hasattr(p, "input_changed")), None)
    if source is None:
        pytest.skip("no panel emits input_changed")
    x = np.zeros(784, np.float32)
    x[100:200] = 1
    source.input_changed.emit(x, 7)  # paused: no frame needed
    np.testing.assert_allclose(w.diagram._state.activations[0], x)
    assert w.diagram._state.label == 7
    source.input_changed.emit(None, -1)  # follow training again
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step == 1, timeout=5000)
    qtbot.waitUntil(
        lambda: np.array_equal(w.diagram._state.activations[0], np.asarray(w.controller.latest.example, np.float64)),
        timeout=2000,
    )


def test_divergence_offers_to_go_back_and_the_status_bar_follows_the_weights(make_window, qtbot):
    from digitviz.core.snapshot import Event

    w = make_window()
    w.controller.worker.step(300)
    qtbot.waitUntil(lambda: w.controller.latest.step == 300 and not w.controller.running, timeout=10000)
    w.controller.update_config(lr=100)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: w.alert.isVisible(), timeout=10000)
    snap = w.controller.latest
    assert snap.event is Event.DIVERGED
    good_step, good_acc = snap.restore_point
    assert w.alert_restore.isVisible() and w.alert_reset.isVisible()
    assert w.alert_restore.text() == f"Go back to step {good_step:,} ({good_acc:.1%})"
    qtbot.waitUntil(lambda: w.status_labels["accuracy"].text() == f"test accuracy {snap.test_acc:.2%}", timeout=2000)
    assert snap.test_acc < good_acc
    w.alert_restore.click()
    qtbot.waitUntil(lambda: w.controller.latest.event is Event.RESTORED, timeout=5000)
    assert not w.alert.isVisible()
    np.testing.assert_array_equal(w.controller.latest.theta, w.controller.worker.trainer.watch.good_theta)
    qtbot.waitUntil(lambda: w.status_labels["accuracy"].text() == f"test accuracy {good_acc:.2%}", timeout=2000)


def test_loading_any_malformed_network_shows_one_line_and_prints_nothing(make_window, qtbot, tmp_path, capfd):
    from ..core.test_persist import NAMED

    w = make_window()
    capfd.readouterr()
    (tmp_path / "folder.npz").mkdir()
    cases = {"folder.npz": None, **{f"bad{k}.npz": make for k, (make, _) in enumerate(NAMED.values())}}
    for name, make in cases.items():
        if make is not None:
            (tmp_path / name).write_bytes(make(tmp_path))
        w.alert.hide()
        assert not w.load_network(tmp_path / name)
        text = w.alert.label.text()
        assert w.alert.isVisible() and text.startswith(f"Could not load the network: {name}: "), text
        assert "\n" not in text and "allow_pickle" not in text
    out, err = capfd.readouterr()
    assert err == "", err
