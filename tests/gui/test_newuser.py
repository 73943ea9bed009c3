"""Issue 10, as a new user meets the app: no lost work, no silent state, the first steps made obvious."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from . import FAST, ToyData


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
    env = dict(os.environ, PYTHONPATH=str(root), QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("DIGITVIZ_DATA", None)
    code = ("import sys\nfrom digitviz.gui.app import main\n"
            "sys.exit(main([], on_shown=lambda w: print('shown', flush=True)))\n")
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
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

    w = make_window()
    assert SPEEDS[w.speed.value()] == 10 and w.speed_label.text() == "10 batches/s"
    w.speed.setValue(0)
    assert w.speed_label.text() == "1 batch/s"
    w.speed.setValue(len(SPEEDS) - 1)
    assert w.speed_label.text() == "max"
    w.speed.setValue(0)  # 1 batch/s: an epoch of 60 batches would take a minute if Epoch obeyed it
    train_an_epoch(qtbot, w)
    assert w.controller.latest.step == 60
