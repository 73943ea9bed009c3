"""TrainingController: what it sets up for the training thread, and puts back."""

import sys

import pytest

from digitviz.gui.controller import SWITCH_INTERVAL, TrainingController

from . import ToyData
from .test_worker import SMALL


@pytest.fixture
def default_switch_interval():
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default (a window another test left open may have lowered it)
    yield 0.005
    sys.setswitchinterval(old)


def test_the_gil_is_handed_over_within_a_millisecond_while_the_worker_lives(qtbot, default_switch_interval):
    c = TrainingController(ToyData(), SMALL)
    c.start()
    try:
        qtbot.waitUntil(lambda: c.latest is not None, timeout=5000)
        # a worker back from a GIL-free chunk waits at most this long for a GUI thread holding the GIL
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL) and SWITCH_INTERVAL <= 0.001
    finally:
        assert c.shutdown()
    assert sys.getswitchinterval() == pytest.approx(default_switch_interval)
    assert c.shutdown()  # idempotent: nothing changes a second time
    assert sys.getswitchinterval() == pytest.approx(default_switch_interval)


def test_frames_while_training_are_paced_by_the_cpu_time_training_had():
    from digitviz.gui.controller import MAX_FRAME_GAP, frame_due

    # a core free for training: the GUI may use 15% of the time elapsed, as before
    assert frame_due(0.1, gui_cpu=0.015, others_cpu=0.1)
    assert not frame_due(0.1, gui_cpu=0.02, others_cpu=0.1)
    assert frame_due(0.1, gui_cpu=0.015, others_cpu=0.3)  # other threads (jobs) busy too: no more than that
    assert not frame_due(0.1, gui_cpu=0.016, others_cpu=0.3)
    # cores shared with other programs: training got 40 ms of the 100, so the GUI may use 6 ms
    assert frame_due(0.1, gui_cpu=0.006, others_cpu=0.04)
    assert not frame_due(0.1, gui_cpu=0.01, others_cpu=0.04)
    # a frame still comes at least every MAX_FRAME_GAP, and a frame that cost nothing is always due
    assert frame_due(MAX_FRAME_GAP, gui_cpu=1.0, others_cpu=0.0)
    assert frame_due(0.01, gui_cpu=0.0, others_cpu=-0.001)  # clocks of coarse resolution
