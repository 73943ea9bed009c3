"""The experiments panel (pytest-qt, offscreen): its tabs on a small slice of real MNIST.

Every wait is on a signal or a condition, never a sleep.
"""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from digitviz.core import experiments as ex
from digitviz.core.network import Network
from digitviz.core.snapshot import Snapshot, StepReport, frozen_copy
from digitviz.core.training import PRESETS, TrainConfig, Trainer, evaluate
from digitviz.gui.panels.experiments import ExperimentsPanel

FAST = TrainConfig(activation="relu", cost="cross_entropy", lr=0.05, momentum=0.9, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def small(mnist):
    return ex.subset(mnist, 2000, 1000)


@pytest.fixture
def panel(qtbot):
    p = ExperimentsPanel()
    qtbot.addWidget(p)
    p.resize(1200, 800)
    yield p
    p.shutdown()


def _single_step(tr):
    """One step as the training worker reports it: the gradient of this batch, before the update."""
    theta_before = tr.net.theta.copy()
    res = tr.step()
    X, Y, labels, _ = tr.last_batch
    net = Network(tr.net.sizes, tr.net.activation, tr.net.cost_name, np.float64, seed=None, init=None)
    net.set_theta(theta_before)
    _, grad = net.backprop(X.astype(np.float64), Y.astype(np.float64))
    nudges = ex.output_nudges(net, X, Y)
    rep = StepReport(
        res.cost,
        tr.net.cost(X, Y),
        res.grad_norm,
        res.step_norm,
        res.lr,
        frozen_copy(tr.opt.last_grad),
        frozen_copy(nudges),
    )
    snap = Snapshot(
        step=tr.step_count,
        epoch=tr.epoch,
        examples_seen=tr.examples_seen,
        theta=frozen_copy(tr.net.theta),
        config=tr.config,
        example=frozen_copy(X[0]),
        example_label=int(labels[0]),
        step_report=rep,
    )
    return snap, grad.copy(), nudges


def test_gradient_tab_shows_the_cores_gradient_for_that_batch(qtbot, panel, small):
    tr = Trainer(small, PRESETS["lesson"], keep_grad=True)
    for _ in range(20):
        tr.step()
    snap, grad, nudges = _single_step(tr)
    tab = panel.gradient
    with qtbot.waitSignal(panel.gradient_shown, timeout=2000) as blocker:
        panel.on_snapshot(snap)

    # the diagram's edge values: minus the core's gradient for that batch, layer by layer
    edges = blocker.args[0]
    for e, (gw, _) in zip(edges, tr.net.layout.views(grad)):
        np.testing.assert_allclose(e, -gw, rtol=1e-4, atol=1e-7)
    # the table: the 20 largest components of that gradient, their shares adding up as stated
    ref, ref_total = ex.top_components(grad, tr.net.layout, 20)
    assert [tab.table.item(r, 1).text() for r in range(20)] == [c.name for c in ref]
    assert [c.index for c in tab.components] == [c.index for c in ref]
    shares = [float(tab.table.item(r, 4).text().rstrip("%")) / 100 for r in range(20)]
    assert sum(shares) == pytest.approx(ref_total, abs=20 * 0.00005 + 1e-9)
    assert tab.table.item(19, 5).text() == f"{ref_total:.1%}"
    assert f"{ref_total:.1%}" in tab.footer.text() and "13,002" in tab.footer.text()
    # output nudges as bars, and which step it is
    np.testing.assert_allclose(tab.bars.opts["height"], nudges, rtol=1e-6)
    assert f"Step {snap.step:,}" in tab.header.text() and tab.shown_step == snap.step

    # training moves on: the shown step stays, and says so
    later = Snapshot(step=snap.step + 50, epoch=0, examples_seen=0, theta=snap.theta, config=snap.config)
    panel.on_snapshot(later)
    assert tab.shown_step == snap.step and f"{snap.step + 50:,}" in tab.moved_on.text()
    # a reset clears it
    panel.on_snapshot(Snapshot(step=0, epoch=0, examples_seen=0, theta=snap.theta, config=snap.config, generation=1))
    assert tab.shown_step is None and tab.components == []


def test_random_labels_run_starts_stops_and_keeps_its_curves(qtbot, panel, small):
    tab = panel.labels
    assert not tab.start_button.isEnabled()  # no data yet
    panel.set_dataset(small)
    assert tab.start_button.isEnabled()

    tab.start(config=FAST, n_train=2000, epochs=500, n_test=500)  # far longer than the test waits
    job = tab.job
    assert job is not None and tab.stop_button.isEnabled() and not tab.start_button.isEnabled()
    qtbot.waitUntil(lambda: len(tab.runs[0].steps) >= 3, timeout=10_000)  # a few records have arrived
    with qtbot.waitSignal(job.finished, timeout=10_000):
        tab.stop_button.click()
    qtbot.waitUntil(lambda: tab.job is None, timeout=2000)
    [run] = tab.runs
    assert run.finished and 0 < run.steps[-1] < 500 * 63
    assert len(run.steps) >= 2
    view = tab.views[0]
    x, y = view.curves["cost", "shuffled"].getData()
    assert len(x) == len(run.steps)
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert "(running)" not in view.item.text()

    # a second, complete run: both overlaid, with a legend entry per copy
    with qtbot.waitSignal(tab.run_finished, timeout=20_000) as blocker:
        tab.start(config=FAST, n_train=2000, epochs=3, n_test=500)
    second = blocker.args[0]
    assert second.last("true", "train_acc") > second.last("shuffled", "train_acc")
    assert abs(second.last("shuffled", "test_acc") - 0.1) < 0.06
    qtbot.waitUntil(lambda: tab.job is None, timeout=2000)
    cost_plot = tab.plots["cost"]
    legend_names = [label.text for _, label in cost_plot.legend.items]
    assert legend_names == [
        "run 1: true labels",
        "run 1: shuffled labels",
        "run 2: true labels",
        "run 2: shuffled labels",
    ]

    # untick run 1: its curves leave the plots; remove it: it leaves the list
    view.item.setCheckState(Qt.Unchecked)
    assert view.curves["cost", "true"] not in cost_plot.items
    assert len(cost_plot.legend.items) == 2
    tab.run_list.setCurrentRow(0)
    tab.remove_button.click()
    assert tab.runs == [second] and tab.run_list.count() == 1

    # the epochs axis and log scale redraw the kept curves
    tab.x_mode.setCurrentText("epochs")
    x, _ = tab.views[0].curves["test_acc", "true"].getData()
    assert x[0] == 0 and x[-1] == pytest.approx(3.0, rel=0.02)
    tab.log_x.setChecked(True)  # step 0 has no logarithm: dropped
    x_log, _ = tab.views[0].curves["test_acc", "true"].getData()
    np.testing.assert_allclose(x_log, np.log10(x[1:]))


def test_many_minima_trains_each_seed_and_draws_the_line_between(qtbot, panel, small):
    tab = panel.minima
    panel.set_dataset(small)
    with qtbot.waitSignal(tab.finished, timeout=20_000) as blocker:
        tab.start(config=FAST, n_train=2000, epochs=1, n_seeds=2, n_test=500)
    results = blocker.args[0]
    assert [r.seed for r in results] == [0, 1]
    assert tab.table.rowCount() == 2
    assert tab.table.item(1, 1).text() == f"{results[1].test_acc:.2%}"
    assert tab.images[0].image is not None and tab.images[0].image.shape == tab.images[1].image.shape
    assert not np.allclose(np.nan_to_num(tab.images[0].image), np.nan_to_num(tab.images[1].image))
    t, costs = tab.line_curve.getData()
    assert len(t) == 51 and costs.max() - (costs[0] + costs[-1]) / 2 == pytest.approx(tab.lines[0, 1].line.barrier)


@pytest.fixture
def evaluated(qtbot, panel, small):
    """The panel showing the Mistakes tab of a briefly trained network."""
    tr = Trainer(small, FAST)
    for _ in range(60):
        tr.step()
    snap = Snapshot(
        step=tr.step_count, epoch=0, examples_seen=tr.examples_seen, theta=frozen_copy(tr.net.theta), config=FAST
    )
    panel.show_tab("mistakes")
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_dataset(small)
    with qtbot.waitSignal(panel.mistakes.evaluated, timeout=10_000):
        panel.on_snapshot(snap)
    X, labels = small.images_as("test"), np.asarray(small.test_labels, np.intp)
    return panel.mistakes, evaluate(tr.net, X, labels), X, labels


def test_confusion_matrix_counts_and_a_cell_click_shows_its_digits(qtbot, evaluated):
    tab, ev, X, labels = evaluated
    cm = tab.result.evaluation.confusion
    np.testing.assert_array_equal(cm, ev.confusion)
    assert cm.sum() == len(labels) and np.trace(cm) == np.sum(ev.predictions == labels)
    assert tab.cm_text[3][3].textItem.toPlainText() == str(cm[3, 3])
    # at first the gallery shows every mistake
    assert len(tab.gallery_indices) == min(len(labels) - np.trace(cm), 300)
    qtbot.waitUntil(lambda: tab.gallery_complete, timeout=2000)

    off = cm.copy()
    np.fill_diagonal(off, 0)
    t, a = np.unravel_index(np.argmax(off), off.shape)
    view = tab.cm_widget
    pos = view.mapFromScene(tab.cell_center_scene(t, a))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: tab.selected_cell == (t, a), timeout=2000)
    expected = np.flatnonzero((labels == t) & (ev.predictions == a))
    np.testing.assert_array_equal(tab.gallery_indices, expected)
    qtbot.waitUntil(lambda: tab.gallery.count() == cm[t, a], timeout=2000)
    assert f"True {t}, answered {a}" in tab.gallery_title.text()
    shown = [int(tab.gallery.item(k).data(Qt.UserRole)) for k in range(tab.gallery.count())]
    assert shown == expected.tolist()

    tab.all_button.click()
    assert tab.selected_cell is None
    qtbot.waitUntil(lambda: tab.gallery.count() == min(len(labels) - np.trace(cm), 300), timeout=2000)


def test_a_gallery_click_sends_the_digit_and_its_true_label_to_the_input(qtbot, panel, evaluated):
    tab, ev, X, labels = evaluated
    qtbot.waitUntil(lambda: tab.gallery.count() > 2, timeout=2000)
    item = tab.gallery.item(2)
    i = int(tab.gallery_indices[2])
    assert labels[i] != ev.predictions[i]
    rect = tab.gallery.visualItemRect(item)
    with qtbot.waitSignal(panel.send_to_input, timeout=2000) as blocker:
        qtbot.mouseClick(tab.gallery.viewport(), Qt.LeftButton, pos=rect.center())
    x, label = blocker.args
    assert label == labels[i]
    assert x.shape == (784,) and x.dtype == np.float32
    np.testing.assert_array_equal(x, X[i])
    assert not np.shares_memory(x, X)


def test_following_mistakes_evaluate_the_last_snapshot_of_a_run(qtbot, evaluated):
    """Issue 10 #14: a snapshot that came within the follow interval was dropped, so an epoch's end was not shown."""
    import dataclasses

    tab, _, _, _ = evaluated
    first = tab.result.step
    base = tab.latest
    running = dataclasses.replace(base, step=first + 1, running=True)
    tab.on_snapshot(running)  # within the interval: waits
    end = dataclasses.replace(base, step=first + 2, running=False)  # training stopped: the epoch's end
    tab.on_snapshot(end)
    qtbot.waitUntil(lambda: tab.result.step == first + 2, timeout=5000)
    # while training goes on, the one that came too soon is evaluated when the interval is up
    late = dataclasses.replace(base, step=first + 3, running=True)
    tab._last_request = __import__("time").perf_counter()
    tab.on_snapshot(late)
    qtbot.waitUntil(lambda: tab.result.step == first + 3, timeout=5000)


def test_a_tab_asked_for_work_after_its_jobs_shut_down_starts_nothing(qtbot, panel):
    """The window closing shuts the tabs' runners down; a Mistakes refresh still pending then (its last
    job ending) raised TypeError from start_job, since the closed runner returns no job."""
    tab = panel.mistakes
    tab.start_job(lambda stop: 1)
    qtbot.waitUntil(lambda: not tab.jobs.running, timeout=5000)
    tab.jobs.shutdown()  # as when the app quits: the runner takes no more jobs
    tab.job = None
    tab.start_job(lambda stop: 2)
    assert tab.job is None and not tab.jobs.running
