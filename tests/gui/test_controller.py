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
