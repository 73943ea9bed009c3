"""The worker hands the descent path to the GUI and keeps no second copy of it."""

import numpy as np

from .test_worker import running_worker  # noqa: F401 - the fixture


def test_the_path_is_sent_once_and_not_kept_in_the_worker(running_worker, qtbot):  # noqa: F811 - pytest passes the imported fixture
    thread, worker, sink = running_worker()
    worker.play()
    qtbot.waitUntil(lambda: sink.last.step > 1000, timeout=20_000)
    worker.pause()
    qtbot.waitUntil(lambda: not sink.last.running, timeout=5000)
    sent = [s for snap in sink.snaps for s, _ in snap.new_path]
    assert sent == sorted(set(sent)) and len(sent) >= 10  # every recorded point once, in order
    assert sent[0] == 0
    h = worker.trainer.history
    assert len(h.path_thetas) <= 1 and h.path_steps == sent[-1:]
    last = [th for snap in sink.snaps for s, th in snap.new_path if s == sent[-1]][0]
    np.testing.assert_array_equal(h.path_thetas[-1], last)


_LAUNCH = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from digitviz.gui.app import make_app
from digitviz.gui.main_window import MainWindow
from tests.gui import FAST, ToyData

app = make_app([])
w = MainWindow(data=ToyData(), config=FAST, settings=QSettings(sys.argv[1], QSettings.IniFormat))
w.show()
while w.controller.latest is None:
    app.processEvents()
for _ in range(50):
    app.processEvents()
print("numba at launch:", "numba" in sys.modules)
w.controller.worker.step(20)  # training (not a single step): the fused engine is wanted now
while w.controller.latest.step < 20 or w.controller.running:
    app.processEvents()
from digitviz.core import fused
fused._warm_thread.join(120)
print("numba after training:", "numba" in sys.modules and fused.is_ready())
w.shutdown()
"""


def test_numba_is_loaded_when_training_starts_not_at_launch(tmp_path):
    """Numba and the fused kernels take ~140 MB: a window that is only looked at never pays for them."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(tmp_path / "s.ini")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "PYTHONPATH": str(root)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "numba at launch: False" in out.stdout and "numba after training: True" in out.stdout, out.stdout
