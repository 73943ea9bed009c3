"""Issue 10, as a new user meets the app: no lost work, no silent state, the first steps made obvious."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import ToyData


def train_an_epoch(qtbot, w):
    w.act_epoch.trigger()
    qtbot.waitUntil(lambda: bool(w.controller.latest.epochs) and not w.controller.latest.running, timeout=10000)


def test_quitting_with_an_unsaved_trained_network_asks_like_reset(make_window, qtbot):
    w = make_window()
    train_an_epoch(qtbot, w)
    asked = []
    w.confirm = lambda title, text: asked.append((title, text)) or False
    w.act_quit.trigger()  # Ctrl+Q
    assert asked and "not saved" in asked[0][1] and asked[0][0] == "Quit?"
    assert w.isVisible() and not w.controller.thread.isFinished()  # declined: nothing lost
    w.confirm = lambda title, text: True
    w.close()
    assert not w.isVisible() and w.controller.thread.isFinished()


def test_quitting_after_saving_does_not_ask(make_window, qtbot, tmp_path):
    w = make_window()
    train_an_epoch(qtbot, w)
    assert w.save_network(tmp_path / "net.npz") is not None
    asked = []
    w.confirm = lambda title, text: asked.append(text) or False
    w.close()
    assert not asked and w.controller.thread.isFinished()


def test_ctrl_c_in_the_terminal_quits_the_app_cleanly(tmp_path):
    """SIGINT (and SIGTERM) reach a Python handler although Qt's loop waits in C++; exit code 0, no traceback."""
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        PYTHONPATH=str(root),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    env.pop("DIGITVIZ_DATA", None)
    code = (
        "import sys\nfrom digitviz.gui.app import main\n"
        "sys.exit(main([], on_shown=lambda w: print('shown', flush=True)))\n"
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            assert proc.stdout.readline().strip() == "shown"
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode == 0, (sig, proc.returncode, err)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert (tmp_path / "config" / "digitviz" / "digitviz.conf").exists()  # settings were saved on the way out


def test_first_launch_speed_is_watchable_shown_in_words_and_epoch_ignores_it(make_window, qtbot):
    """Issue 10 #16: the slider started at max; '1 batch/s' at its end read as the current speed."""
    from digitviz.gui.actions import SPEEDS

    w = make_window(keep=("speed",))
    assert SPEEDS[w.speed.value()] == 10 and w.speed_label.text() == "10 batches/s"
    w.speed.setValue(0)
    assert w.speed_label.text() == "1 batch/s"
    w.speed.setValue(len(SPEEDS) - 1)
    assert w.speed_label.text() == "max"
    w.speed.setValue(0)  # 1 batch/s: an epoch of 60 batches would take a minute if Epoch obeyed it
    train_an_epoch(qtbot, w)
    assert w.controller.latest.step == 60


def test_a_loaded_network_is_evaluated_and_keeps_its_counters(make_window, qtbot, tmp_path):
    """Issue 10 #12: after loading, the status bar said epoch 0, step 0, 'test accuracy —'."""
    w = make_window()
    train_an_epoch(qtbot, w)
    acc = w.controller.latest.test_acc
    assert w.save_network(tmp_path / "net.npz") is not None
    w.confirm = lambda title, text: True
    w.reset_network()
    qtbot.waitUntil(lambda: w.controller.latest.step == 0, timeout=5000)
    assert w.load_network(tmp_path / "net.npz")
    qtbot.waitUntil(lambda: w.controller.latest.step == 60, timeout=5000)
    snap = w.controller.latest
    assert snap.epoch == 1 and snap.examples_seen == 600 and abs(snap.test_acc - acc) < 1e-9
    qtbot.waitUntil(lambda: w.status_labels["accuracy"].text() == f"test accuracy {acc:.2%}", timeout=2000)
    assert w.status_labels["epoch"].text() == "epoch 1" and w.status_labels["step"].text() == "step 60"
    assert not w._trained_unsaved()


def test_without_data_play_step_and_epoch_are_disabled_and_say_why(qtbot, settings):
    """Issue 10 #19: with no data they stayed enabled and the input panel said 'Following training…'."""
    from digitviz.gui.main_window import MainWindow

    w = MainWindow(data=None, settings=settings, load_data=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.controller.latest is not None, timeout=5000)
    for a in (w.act_play, w.act_step, w.act_epoch):
        assert not a.isEnabled() and "needs training data" in a.toolTip()
    assert w.data_banner.isVisible() and "Play, Step and Epoch wait" in w.data_banner.label.text()
    assert "Following training" not in w.panels["input"].source_label.text()
    w._on_data_loaded(ToyData(), "/toy")
    for a in (w.act_play, w.act_step, w.act_epoch):
        assert a.isEnabled() and "needs" not in a.toolTip()
    w.close()


def test_first_launch_says_what_to_press_and_a_step_gives_a_prominent_readout(make_window, qtbot):
    """Issue 10 #17."""
    w = make_window()
    qtbot.waitUntil(lambda: "Press → to take one step" in w.step_readout.text(), timeout=2000)
    w.act_step.trigger()
    qtbot.waitUntil(lambda: "batch cost" in w.step_readout.text(), timeout=5000)
    assert not w.step_readout.property("hint")
    assert w.step_readout.font().bold() and w.step_readout.font().pointSizeF() >= 1.2 * w._readout_pt - 1e-6


def test_a_folder_without_mnist_keeps_the_data_in_use_and_says_so(make_window, qtbot, tmp_path):
    """Issue 10 #13: it said 'No MNIST data yet… the untrained network' while the old data was in use."""
    w = make_window()
    w.data_folder = "/old/mnist"
    w.act_step.trigger()
    qtbot.waitUntil(lambda: w.controller.latest.step == 1, timeout=5000)
    (tmp_path / "empty").mkdir()
    w.open_data_folder(str(tmp_path / "empty"))
    qtbot.waitUntil(lambda: w.alert.isVisible(), timeout=5000)
    text = w.alert.label.text()
    assert "kept the data from /old/mnist" in text and "No MNIST data yet" not in text
    assert not w.data_banner.isVisible() and w.act_step.isEnabled() and w.controller.latest.step == 1


def test_new_data_replaces_the_input_panels_test_digit_with_the_new_sets(make_window, qtbot):
    """Issue 10 #13: after switching folders the input panel kept the old set's image under the new label."""
    import numpy as np

    w = make_window()
    panel = w.panels["input"]
    panel.show_test_digit(3)
    new = ToyData(seed=7)
    w._on_data_loaded(new, "/new")
    assert panel.test_index == 3 and panel.label == int(new.test_labels[3])
    np.testing.assert_allclose(panel.x, new.images_as("test")[3])


def test_during_play_the_diagram_and_the_input_panel_show_the_same_example(make_window, qtbot):
    """Issue 10 #11: both said 'the example being trained on' but showed different digits."""
    import numpy as np

    w = make_window(data=ToyData(n_train=6000))
    w.speed.setValue(5)  # 50 batches/s: many frames, each with a new example
    panel = w.panels["input"]
    seen = []

    def check(_snap):  # connected after the window's own slot: runs once the frame is drawn
        if w.controller.latest.running:
            seen.append(np.array_equal(np.asarray(panel.x, np.float64), w.diagram._state.activations[0]))

    w.controller.frame.connect(check)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: len(seen) >= 30, timeout=15000)
    w.act_play.trigger()
    assert all(seen), f"{seen.count(False)} of {len(seen)} frames disagreed"
