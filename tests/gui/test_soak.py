"""Training on with the session's panels in front keeps a bounded number of jobs alive.

benchmarks/footprint.py measures memory in MB on MNIST over 10 minutes; here it is counted: a job kept
alive after it finished (with the snapshot it was given) shows as a count that grows with every
evaluation. Live snapshots are not counted: how many wait in Qt's queue at a given moment varies (7 to
108 seen in one test), so their count could not tell a leak from a busy moment.
"""

import gc

from digitviz.gui.jobs import Job


def _alive(kind) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def test_training_on_with_the_experiments_in_front_frees_every_finished_job(make_window, qtbot, monkeypatch):
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
    mid = (_alive(Job), len(evaluations))
    qtbot.waitUntil(lambda: len(evaluations) >= mid[1] + 6, timeout=60_000)
    end = _alive(Job)
    c.pause()
    assert evaluations == sorted(evaluations) and c.latest.epoch >= 5  # it followed a run of many epochs
    assert end <= mid[0] + 2, (mid, end)  # not one more job per evaluation (relative: earlier tests' may live)
