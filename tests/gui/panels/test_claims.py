"""The "Draw & move" panel: drawing and robustness jobs show what the core computes."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from digitviz.core.drawing import draw_digit
from digitviz.core.snapshot import Snapshot
from digitviz.core.training import TrainConfig
from digitviz.core.transforms import rotation_curve, shift_curve
from digitviz.gui.panels.claims import ANGLES, SHIFTS, ClaimsPanel

from .. import ToyData

CFG = TrainConfig(sizes=(784, 16, 10), seed=2)


def snapshot_of(net, config, step=0, generation=0):
    theta = net.theta.copy()
    theta.flags.writeable = False
    return Snapshot(step=step, epoch=0, examples_seen=0, theta=theta, config=config, generation=generation)


@pytest.fixture
def panel(qtbot):
    w = ClaimsPanel()
    qtbot.addWidget(w)
    w.resize(800, 450)
    w.set_dataset(ToyData(n_train=300, n_test=150))
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def test_drawing_streams_to_the_diagram_and_ends_in_the_input_panel(qtbot, panel):
    net = CFG.network()
    panel.on_snapshot(snapshot_of(net, CFG, step=7))
    shown, sent = [], []
    panel.input_changed.connect(lambda x, label: shown.append(x))
    panel.send_to_input.connect(lambda x, label: sent.append(x))
    with qtbot.waitSignal(panel.draw.drawing_finished, timeout=20000) as blocker:
        assert panel.draw.start(k=4, start="blank", steps=60)
    qtbot.waitUntil(lambda: not panel.draw.running, timeout=20000)
    last = blocker.args[0]
    ref = draw_digit(net, 4, "blank", steps=60)
    assert np.allclose(last.images, ref.images, atol=1e-6)
    assert len(shown) >= 1 and len(sent) == 1 and np.array_equal(sent[0], last.images[0])
    assert np.array_equal(panel.draw.drawn_img.image, last.images[0].reshape(28, 28))
    assert panel.draw.second_answer in range(10)
    text = panel.draw.status.text()
    assert "output 4 is" in text and "real test digits" in text and "second network" in text


def test_robustness_curves_equal_the_core_and_runs_stay_overlaid(qtbot, panel):
    tab = panel.robustness
    net = CFG.network()
    panel.on_snapshot(snapshot_of(net, CFG, step=3))
    for expected_runs in (1, 2):
        with qtbot.waitSignal(tab.measured, timeout=20000) as blocker:
            assert tab.start()
        qtbot.waitUntil(lambda: not tab.running, timeout=20000)
        assert len(tab.runs) == expected_runs
    run = blocker.args[0]
    data = tab.data
    with threadpool_limits(1):
        X, y = data.images_as("test"), data.test_labels
        assert np.array_equal(run.shift_acc, shift_curve(net, X, y, SHIFTS, seed=0))
        assert np.array_equal(run.rotation_acc, rotation_curve(net, X, y, ANGLES, seed=0))
    _, y_shown = tab.shift_items[1].getData()
    assert np.array_equal(y_shown, run.shift_acc)
    assert len(tab.shift_items[0].getData()[0]) == len(SHIFTS)  # the first run stays
    assert "centred digits" in tab.legend.text()
    tab.clear()
    assert tab.shift_items[0].getData()[0] is None or len(tab.shift_items[0].getData()[0]) == 0
