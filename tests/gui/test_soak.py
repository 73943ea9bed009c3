"""Training on with the session's panels in front keeps a bounded number of snapshots and jobs alive.

benchmarks/footprint.py measures the same thing in MB on MNIST over 10 minutes; here it is counted: a
leak that keeps one snapshot (with its theta and timeline points) per evaluation, frame or epoch shows
as a count that grows with the steps trained.
"""

import gc

from digitviz.core.snapshot import Snapshot
from digitviz.gui.jobs import Job


def _alive(kind) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def test_training_on_with_the_experiments_in_front_keeps_snapshots_and_jobs_bounded(make_window, qtbot, monkeypatch):
    from digitviz.gui.panels.experiments import mistakes

    monkeypatch.setattr(mistakes, "FOLLOW_INTERVAL", 0.2)  # five evaluations a second, not one
    w = make_window()
    c, ex = w.controller, w.panels["experiments"]
    w.docks["probe"].raise_()
    w.docks["experiments"].raise_()
    ex.show_tab("mistakes")  # it follows training: an evaluation job every FOLLOW_INTERVAL
    evaluations = []
    ex.mistakes.evaluated.connect(lambda result: evaluations.append(result.step))
    c.play()
    qtbot.waitUntil(lambda: len(evaluations) >= 3, timeout=30_000)
    mid = (_alive(Snapshot), _alive(Job), len(evaluations))
    qtbot.waitUntil(lambda: len(evaluations) >= mid[2] + 6, timeout=60_000)
    end = (_alive(Snapshot), _alive(Job))
    c.pause()
    assert evaluations == sorted(evaluations) and c.latest.epoch >= 5  # it followed a run of many epochs
    assert end[1] <= mid[1] + 2 and end[1] <= 6, (mid, end)  # not one more job per evaluation
    assert end[0] <= mid[0] + 4 and end[0] <= 40, (mid, end)
