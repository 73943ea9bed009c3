"""What the worker does between chunks of the fused engine: little, and nothing the GUI then drops."""

import numpy as np

from digitviz.gui import worker as worker_module
from digitviz.gui.worker import StepRecords

from .test_worker import running_worker  # noqa: F401 - the fixture


def test_step_records_hand_out_frozen_copies_and_reuse_their_buffers():
    rec = StepRecords(capacity=4)
    rec.add(1, np.array([0.5, 0.4, 0.3]), np.array([2.0, 1.5, 1.0]))
    rec.add(4, (0.25,), (0.75,))
    rec.add(5, np.full(6, 0.1), np.full(6, 0.2))  # grows past its capacity
    steps, costs, gnorms = rec.take()
    np.testing.assert_array_equal(steps, np.arange(1, 11))
    np.testing.assert_allclose(costs, [0.5, 0.4, 0.3, 0.25] + [0.1] * 6)
    np.testing.assert_allclose(gnorms, [2.0, 1.5, 1.0, 0.75] + [0.2] * 6)
    assert steps.dtype == np.int64 and costs.dtype == gnorms.dtype == np.float64
    assert not (steps.flags.writeable or costs.flags.writeable or gnorms.flags.writeable)
    assert len(rec) == 0 and len(rec.take()[0]) == 0
    buffer = rec.costs
    rec.add(11, (9.0,), (8.0,))
    assert rec.costs is buffer  # reused, and what was handed out before is not touched
    np.testing.assert_allclose(costs[:1], [0.5])
    assert rec.take()[1].tolist() == [9.0]


def test_the_path_stride_doubles_when_the_gui_thins_its_path(running_worker, qtbot, monkeypatch):  # noqa: F811
    from digitviz.core.series import BoundedSeries

    monkeypatch.setattr(worker_module, "PATH_CAPACITY", 8)  # the GUI keeps 8 points: it thins soon
    thread, worker, sink = running_worker()
    worker.step(3000)
    qtbot.waitUntil(lambda: sink.last.step == 3000 and not sink.last.running, timeout=20_000)
    gui = BoundedSeries(8, dtype=object)  # what TrainingController.path_series does with the points
    for snap in sink.snaps:
        for s, theta in snap.new_path:
            gui.append(s, theta)
    assert gui.stride > 1
    # the trainer now records its path as coarsely as the GUI keeps it: no theta copied for nothing
    assert worker.trainer.history.path_stride == 100 * gui.stride
    sent = [s for snap in sink.snaps for s, _ in snap.new_path]
    epoch_ends = set(range(0, 3001, worker.trainer.steps_per_epoch))
    assert len([s for s in sent if s not in epoch_ends]) < 3000 // 100 - 5
