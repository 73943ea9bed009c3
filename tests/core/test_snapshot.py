"""Snapshots: merging undelivered records, typed events, the accuracy shown (no Qt)."""

from dataclasses import replace

import numpy as np

from digitviz.core.snapshot import Event, Snapshot, frozen_copy, merge_snapshots
from digitviz.core.training import EpochRecord, TrainConfig


def snap(step, steps=(), event=None, message="", **kw):
    steps = np.asarray(steps, np.int64)
    return Snapshot(
        step=step,
        epoch=0,
        examples_seen=0,
        theta=frozen_copy(np.zeros(3)),
        config=TrainConfig(),
        new_steps=frozen_copy(steps),
        new_costs=frozen_copy(steps * 0.5),
        new_grad_norms=frozen_copy(steps * 2.0),
        message=message,
        event=event,
        **kw,
    )


def test_merge_keeps_every_record_and_the_event():
    old = snap(
        3,
        [1, 2, 3],
        Event.DIVERGED,
        "Training blew up",
        restore_point=(2, 0.9),
        new_path=((3, frozen_copy(np.ones(3))),),
    )
    new = snap(5, [4, 5])
    m = merge_snapshots(old, new)
    assert m.new_steps.tolist() == [1, 2, 3, 4, 5] and m.new_costs.tolist() == [0.5, 1, 1.5, 2, 2.5]
    assert not m.new_steps.flags.writeable and not m.new_grad_norms.flags.writeable
    assert [s for s, _ in m.new_path] == [3]
    assert (m.event, m.message, m.restore_point) == (Event.DIVERGED, "Training blew up", (2, 0.9))
    assert m.step == 5
    newer = merge_snapshots(old, replace(new, message="No training data", event=Event.NO_DATA))
    assert newer.event is Event.NO_DATA


def test_test_acc_is_the_last_measured_else_the_last_epochs():
    s = snap(0, epochs=(EpochRecord(epoch=1, step=10, test_acc=0.9),))
    assert s.test_acc == 0.9
    assert replace(s, accuracy=0.1).test_acc == 0.1  # measured after the epoch: the weights changed
    assert np.isnan(snap(0).test_acc)


def test_merge_keeps_undelivered_timeline_points():
    from digitviz.core.snapshot import Snapshot, merge_snapshots
    from digitviz.core.training import TrainConfig

    th = np.zeros(3)
    a = Snapshot(step=1, epoch=0, examples_seen=10, theta=th, config=TrainConfig(), new_timeline=((1, th),))
    b = Snapshot(step=2, epoch=0, examples_seen=20, theta=th, config=TrainConfig(), new_timeline=((2, th),))
    assert [s for s, _ in merge_snapshots(a, b).new_timeline] == [1, 2]
