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

