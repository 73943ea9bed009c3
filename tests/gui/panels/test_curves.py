"""Run comparison in the learning-curves panel: finished runs are kept, overlaid, hidden and removed."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from digitviz.core.snapshot import Snapshot, frozen_copy
from digitviz.core.training import PRESETS, EpochRecord, Trainer
from digitviz.gui.panels import curves as metrics_view
from digitviz.gui.panels.curves import MAX_RUNS, MetricsPanel, run_name

LESSON = PRESETS["lesson"]


def snap(generation, config=LESSON, start=0, n=0, epochs=(), cost0=2.0, running=False):
    """A snapshot carrying ``n`` new steps after step ``start``, with a falling cost."""
    steps = np.arange(start + 1, start + n + 1, dtype=np.int64)
    costs = cost0 / (1 + 0.01 * steps)
    grads = 0.5 / (1 + 0.001 * steps)
    return Snapshot(
        step=start + n,
        epoch=len(epochs),
        examples_seen=(start + n) * config.batch_size,
        theta=frozen_copy(np.zeros(3)),
        config=config,
        running=running,
        new_steps=frozen_copy(steps),
        new_costs=frozen_copy(costs),
        new_grad_norms=frozen_copy(grads),
        epochs=tuple(epochs),
        generation=generation,
    )


def epoch(k, train, test):
    return EpochRecord(epoch=k, step=0, train_acc=train, test_acc=test)


@pytest.fixture
def panel(shown):
    return shown(MetricsPanel(), 1000, 320)


def legend_labels(legend):
    return [label.text for _, label in legend.items]


def in_plot(plot, item):
    return item in plot.listDataItems()


def test_no_run_is_kept_before_a_reset_and_the_column_stays_hidden(panel):
    panel.on_snapshot(snap(0, n=50))
    assert panel.runs == []
    assert not panel.runs_box.isVisible()


def test_a_run_without_steps_is_not_kept(panel):
    panel.on_snapshot(snap(0))
    panel.on_snapshot(snap(1))
    assert panel.runs == [] and panel.run_list.count() == 0


def run_items(panel, i):
    return list(panel.runs[i].items.values())


def test_a_reset_keeps_the_previous_run(panel):
    cfg = replace(LESSON, lr=0.5)
    panel.on_snapshot(snap(0, cfg, n=3000, epochs=[epoch(1, 0.80, 0.81)], running=True))
    panel.on_snapshot(snap(0, cfg, start=3000, n=3000, epochs=[epoch(1, 0.80, 0.81), epoch(2, 0.88, 0.89)]))
    kept_ema = panel.steps.values()[:, 1].copy()
    kept_grad = panel.steps.values()[:, 3].copy()
    panel.on_snapshot(snap(1, LESSON, n=10))

    assert len(panel.runs) == 1 and panel.run_list.count() == 1
    run = panel.runs[0]
    assert run.name == "Run 1: lesson 784-16-16-10 sigmoid quadratic, lr 0.5, batch 10"
    assert panel.run_list.item(0).text() == run.name
    # kept unticked (issue 10 #8: every reset added a ticked run until the plots were unreadable) ...
    assert panel.run_list.item(0).checkState() == Qt.CheckState.Unchecked
    assert not any(item.isVisible() for item in run_items(panel, 0))
    panel.run_list.item(0).setCheckState(Qt.CheckState.Checked)  # ... and overlaid when ticked
    assert "learning rate 0.5" in panel.run_list.item(0).toolTip()
    assert "test 89.00%" in panel.run_list.item(0).toolTip()
    assert panel.runs_box.isVisible()

    # its curves hold the kept data: the smoothed cost and gradient, subsampled, and the epoch accuracies
    x, y = run.items["cost"].getData()
    assert len(x) <= metrics_view.KEEP_POINTS + 2
    assert x[0] == 1 and x[-1] == 6000
    np.testing.assert_allclose(y, np.interp(x, np.arange(1, 6001), kept_ema))
    gx, gy = run.items["grad"].getData()
    # the gradient plot is on a log scale: the item's original data is the norm itself
    np.testing.assert_allclose(run.items["grad"].yData, np.interp(gx, np.arange(1, 6001), kept_grad))
    np.testing.assert_array_equal(run.items["test"].getData()[1], [81, 89])
    np.testing.assert_array_equal(run.items["train"].getData()[1], [80, 88])
    for key, plot in (
        ("cost", panel.cost_plot),
        ("grad", panel.grad_plot),
        ("test", panel.acc_plot),
        ("train", panel.acc_plot),
    ):
        assert in_plot(plot, run.items[key]) and run.items[key].isVisible()
        assert run.items[key].zValue() < panel.ema_curve.zValue()  # the live run stays on top

    # the live run starts afresh, and the overlay keeps the ranges wide enough for the kept run
    assert panel.steps.n == 10
    assert panel._ranges[(id(panel.cost_plot), "x")][1] >= 6000
    assert panel._ranges[(id(panel.acc_plot), "x")][1] >= 5.5

    # legends name it by what differs from the live run
    assert "Run 1: lr 0.5" in legend_labels(panel.cost_plot.legend)
    assert "Run 1: lr 0.5" in legend_labels(panel.acc_plot.legend)
    assert "Run 1: lr 0.5" in legend_labels(panel.grad_legend)
    assert panel.grad_legend.isVisible()


def test_live_run_number_and_same_settings_label(panel):
    panel.on_snapshot(snap(0, n=20))
    panel.on_snapshot(snap(1, n=20))
    panel.on_snapshot(snap(2, n=20))
    assert [r.name for r in panel.runs] == [run_name(1, LESSON), run_name(2, LESSON)]
    assert run_name(2, LESSON) == "Run 2: lesson 784-16-16-10 sigmoid quadratic, lr 1.5, batch 10"
    assert not any(label.startswith("Run") for label in legend_labels(panel.cost_plot.legend))  # unticked
    panel.run_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert "Run 2: same settings" in legend_labels(panel.cost_plot.legend)
    assert panel.runs[0].color != panel.runs[1].color


def test_unchecking_hides_a_run_and_checking_shows_it_again(panel):
    panel.on_snapshot(snap(0, n=500))
    panel.on_snapshot(snap(1, n=10))
    run = panel.runs[0]
    panel.run_list.item(0).setCheckState(Qt.CheckState.Checked)  # earlier runs start unticked
    n_cost_legend = len(panel.cost_plot.legend.items)
    panel.run_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not any(item.isVisible() for item in run.items.values())
    assert len(panel.cost_plot.legend.items) == n_cost_legend - 1
    assert all(not label.startswith("Run") for label in legend_labels(panel.acc_plot.legend))
    assert not panel.grad_legend.isVisible()
    panel.run_list.item(0).setCheckState(Qt.CheckState.Checked)
    assert all(item.isVisible() for item in run.items.values())
    assert len(panel.cost_plot.legend.items) == n_cost_legend


def test_clicking_a_legend_sample_unchecks_the_run(panel):
    panel.on_snapshot(snap(0, n=500))
    panel.on_snapshot(snap(1, n=10))
    run = panel.runs[0]
    panel.cost_plot.legend.sigSampleClicked.emit(run.items["cost"])
    assert run.list_item.checkState() == Qt.CheckState.Unchecked
    assert not run.items["grad"].isVisible()


def test_remove_deletes_the_items_from_plots_and_legends(qtbot, panel):
    panel.on_snapshot(snap(0, n=500, epochs=[epoch(1, 0.5, 0.5)]))
    panel.on_snapshot(snap(1, n=10))
    run = panel.runs[0]
    items = dict(run.items)
    assert not panel.remove_button.isEnabled()
    panel.run_list.setCurrentRow(0)
    assert panel.remove_button.isEnabled()
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert panel.runs == [] and panel.run_list.count() == 0
    for item in items.values():
        for plot in (panel.cost_plot, panel.acc_plot, panel.grad_plot):
            assert not in_plot(plot, item)
        for legend in (panel.cost_plot.legend, panel.acc_plot.legend, panel.grad_legend):
            assert all(sample.item is not item for sample, _ in legend.items)
    assert legend_labels(panel.cost_plot.legend) == ["each batch", "smoothed"]
    assert not panel.runs_box.isVisible()


def test_at_most_max_runs_are_kept_oldest_dropped(panel):
    for g in range(MAX_RUNS + 3):
        panel.on_snapshot(snap(g, replace(LESSON, lr=0.1 * (g + 1)), n=20))
    panel.on_snapshot(snap(MAX_RUNS + 3, n=5))
    assert len(panel.runs) == MAX_RUNS == panel.run_list.count()
    assert [r.number for r in panel.runs] == list(range(4, MAX_RUNS + 4))
    kept = {id(r.items["cost"]) for r in panel.runs}
    assert {id(i) for i in panel.cost_plot.listDataItems()} == kept | {id(panel.raw_curve), id(panel.ema_curve)}
    assert len(panel.cost_plot.legend.items) == 2  # kept runs start unticked: the legend stays readable
    for i in range(panel.run_list.count()):
        panel.run_list.item(i).setCheckState(Qt.CheckState.Checked)
    assert len(panel.cost_plot.legend.items) == 2 + MAX_RUNS
    assert len({r.color for r in panel.runs}) == MAX_RUNS


def test_kept_items_are_reused_not_rebuilt_per_frame(panel):
    panel.on_snapshot(snap(0, n=200))
    panel.on_snapshot(snap(1, n=10))
    before = [id(i) for i in panel.cost_plot.listDataItems()]
    for k in range(5):
        panel.on_snapshot(snap(1, start=10 + 10 * k, n=10))
        panel.redraw()
    assert [id(i) for i in panel.cost_plot.listDataItems()] == before
    assert len(panel.runs) == 1


def test_live_lr_change_relabels_the_legend(panel):
    panel.on_snapshot(snap(0, replace(LESSON, lr=0.5), n=100))
    panel.on_snapshot(snap(1, replace(LESSON, lr=0.5), n=10))
    panel.run_list.item(0).setCheckState(Qt.CheckState.Checked)
    assert "Run 1: same settings" in legend_labels(panel.cost_plot.legend)
    panel.on_snapshot(snap(1, LESSON, start=10, n=10))
    assert "Run 1: lr 0.5" in legend_labels(panel.cost_plot.legend)


def test_runs_from_a_real_trainer(panel, toy_data):
    tr = Trainer(toy_data, replace(LESSON, lr=3.0))
    steps, costs, grads = [], [], []
    for _ in range(30):
        r = tr.step()
        steps.append(tr.step_count)
        costs.append(r.cost)
        grads.append(r.grad_norm)
    ev = tr.evaluate("test")
    s0 = Snapshot(
        step=tr.step_count,
        epoch=1,
        examples_seen=tr.examples_seen,
        theta=frozen_copy(tr.net.theta),
        config=tr.config,
        new_steps=np.array(steps),
        new_costs=np.array(costs),
        new_grad_norms=np.array(grads),
        epochs=(epoch(1, 0.5, ev.accuracy),),
        generation=0,
    )
    panel.on_snapshot(s0)
    panel.on_snapshot(
        replace(
            s0,
            new_steps=np.zeros(0, np.int64),
            new_costs=np.zeros(0),
            new_grad_norms=np.zeros(0),
            epochs=(),
            generation=1,
            config=LESSON,
        )
    )
    run = panel.runs[0]
    assert run.name == "Run 1: lesson 784-16-16-10 sigmoid quadratic, lr 3, batch 10"
    assert run.items["cost"].getData()[0][-1] == 30
    assert run.items["test"].getData()[1][0] == pytest.approx(100 * ev.accuracy)
    assert panel.steps.n == 0


def test_a_snapshot_delivered_again_adds_no_step(panel):
    # the window feeds a panel the latest snapshot again when its dock comes to the front (the contract):
    # steps it already recorded must not be appended twice
    first = snap(0, n=1)
    panel.on_snapshot(first)
    panel.on_snapshot(first)
    panel.on_snapshot(snap(0, start=1, n=3))
    np.testing.assert_array_equal(panel.steps.steps(), [1, 2, 3, 4])


def test_legends_sit_outside_the_data_and_a_few_steps_get_whole_step_ticks(panel):
    """Issue 10 #8, #9: legends covered the curves; 3 steps showed ticks at 0.5; the smoothed line stayed put."""
    panel.on_snapshot(snap(0, n=3))
    panel.redraw()
    for p in (panel.cost_plot, panel.acc_plot, panel.grad_plot):
        legend = p.legend.sceneBoundingRect()
        assert not legend.intersects(p.vb.sceneBoundingRect()), "a legend overlaps its plot's data area"
    major = panel.cost_plot.getAxis("bottom")._tickSpacing[0][0]
    assert major >= 1 and float(major).is_integer()
    ema = panel.steps.values()[:, 1]
    raw = panel.steps.values()[:, 0]
    np.testing.assert_allclose(ema, np.cumsum(raw) / np.arange(1, 4))  # the running mean of a few steps
