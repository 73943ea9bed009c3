"""The overconfidence probe panel: computed off the GUI thread, equal to the core, previous run kept."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from digitviz.core.probe import probe
from digitviz.core.snapshot import Snapshot
from digitviz.core.training import TrainConfig
from digitviz.gui.panels import probe as pp
from digitviz.gui.panels.probe import ProbePanel

from .. import ToyData


def snapshot_of(net, config, step=0, generation=0):
    theta = net.theta.copy()
    theta.flags.writeable = False
    return Snapshot(step=step, epoch=0, examples_seen=0, theta=theta, config=config, generation=generation)


@pytest.fixture
def toy():
    return ToyData(n_train=10, n_test=400)


@pytest.fixture
def panel(qtbot, toy):
    w = ProbePanel(seed=3, n=300)
    qtbot.addWidget(w)
    w.resize(900, 520)
    w.set_dataset(toy)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.wait_idle()


def run_probe(qtbot, panel, snap):
    panel.on_snapshot(snap)
    with qtbot.waitSignal(panel.probe_finished, timeout=10000) as blocker:
        assert panel.probe_now()
    return blocker.args[0]


def test_numbers_are_what_the_core_computes(qtbot, panel, toy):
    cfg = TrainConfig(seed=4)
    net = cfg.network()
    run = run_probe(qtbot, panel, snapshot_of(net, cfg, step=12))
    # BLAS is pinned to one thread for the whole process (gui/jobs.py): the job and this reference
    # sum in the same order, so they give the same bits
    pools = threadpool_info()
    assert all(pool["num_threads"] == 1 for pool in pools), pools
    ref = probe(
        net, toy.images_as("test"), toy.test_labels, np.random.default_rng(3), n=300, kind="uniform", threshold=0.9
    )
    r = run.result
    assert np.array_equal(r.noise_top, ref.noise_top) and np.array_equal(r.digits_top, ref.digits_top)
    assert np.array_equal(r.noise_answers, ref.noise_answers)
    assert (r.noise_confident_share, r.digits_confident_share, r.test_acc) == (
        ref.noise_confident_share,
        ref.digits_confident_share,
        ref.test_acc,
    )
    shown = [lab.text() for lab in panel.now_values]
    assert shown == [f"{ref.noise_confident_share:.1%}", f"{ref.digits_confident_share:.1%}", f"{ref.test_acc:.1%}"]
    # the histogram drawn is the histogram of the result
    x, y = panel.curves["noise"][0].getData()
    counts, edges = np.histogram(ref.noise_top, bins=pp.N_BINS, range=(0, 1))
    assert np.allclose(x, edges) and np.allclose(y, counts / 300)
    assert "step 12" in panel.now_title.text()


def test_gaussian_kind_is_used(qtbot, panel, toy):
    cfg = TrainConfig()
    net = cfg.network()
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("gaussian"))
    run = run_probe(qtbot, panel, snapshot_of(net, cfg))
    ref = probe(net, toy.images_as("test"), toy.test_labels, np.random.default_rng(3), n=300, kind="gaussian")
    assert run.result.kind == "gaussian" and np.array_equal(run.result.noise_top, ref.noise_top)


def test_previous_run_is_kept_for_comparison_and_can_be_pinned(qtbot, panel):
    cfg = TrainConfig()
    nets = [TrainConfig(seed=s).network() for s in (1, 2, 3)]
    a = run_probe(qtbot, panel, snapshot_of(nets[0], cfg, step=1))
    assert panel.current is a and panel.before is None
    assert [lab.text() for lab in panel.before_values] == ["–"] * 3
    doubt = TrainConfig(doubt=0.2)
    b = run_probe(qtbot, panel, snapshot_of(nets[1], doubt, step=2, generation=1))
    assert panel.current is b and panel.before is a
    assert panel.before_values[2].text() == f"{a.result.test_acc:.1%}"
    assert "doubt 20%" in panel.now_title.text() and "doubt 0%" in panel.before_title.text()
    assert "→" in panel.summary_label.text()
    x, _ = panel.curves["digits"][1].getData()
    assert x is not None and len(x) == pp.N_BINS + 1  # the "before" outline is drawn

    panel.pin_button.setChecked(True)  # b becomes the fixed reference
    c = run_probe(qtbot, panel, snapshot_of(nets[2], cfg, step=3))
    d = run_probe(qtbot, panel, snapshot_of(nets[0], cfg, step=4))
    assert panel.before is b and panel.current is d and c is not d
    panel.pin_button.setChecked(False)
    e = run_probe(qtbot, panel, snapshot_of(nets[1], cfg, step=5))
    assert panel.before is d and panel.current is e


def test_the_probe_runs_off_the_gui_thread(qtbot, panel, monkeypatch):
    threads = []
    real = pp.probe

    def spy(*a, **kw):
        threads.append(threading.current_thread())
        return real(*a, **kw)

    monkeypatch.setattr(pp, "probe", spy)
    cfg = TrainConfig()
    run_probe(qtbot, panel, snapshot_of(cfg.network(), cfg))
    assert threads and threads[0] is not threading.main_thread()


def test_button_needs_a_network_and_test_digits(qtbot):
    w = ProbePanel()
    qtbot.addWidget(w)
    assert not w.probe_button.isEnabled() and w.probe_now() is False
    cfg = TrainConfig()
    w.on_snapshot(snapshot_of(cfg.network(), cfg))
    assert not w.probe_button.isEnabled() and "test digits" in w.status_label.text()
    w.set_dataset(ToyData(n_train=10, n_test=50))
    assert w.probe_button.isEnabled()
    w.set_dataset(None)
    assert not w.probe_button.isEnabled()


def test_a_failing_probe_reports_instead_of_raising(qtbot, panel):
    cfg = TrainConfig(sizes=(784, 8, 10))
    bad = Snapshot(step=0, epoch=0, examples_seen=0, theta=np.zeros(5, np.float32), config=cfg)
    panel.on_snapshot(bad)
    assert panel.probe_now()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    assert "probe failed" in panel.status_label.text() and panel.current is None
    assert panel.probe_button.isEnabled()


def test_one_probe_at_a_time(qtbot, panel):
    cfg = TrainConfig()
    panel.on_snapshot(snapshot_of(cfg.network(), cfg))
    with qtbot.waitSignal(panel.probe_finished, timeout=10000):
        assert panel.probe_now()
        assert panel.probe_now() is False and not panel.probe_button.isEnabled()
    assert panel.probe_button.isEnabled()


def test_lesson_network_probe_on_mnist(qtbot, mnist):
    from digitviz.core.training import PRESETS, Trainer

    tr = Trainer(mnist, PRESETS["lesson"])
    for _ in range(300):
        tr.step()
    w = ProbePanel()
    qtbot.addWidget(w)
    w.set_dataset(mnist)
    run = run_probe(qtbot, w, snapshot_of(tr.net, PRESETS["lesson"], step=300))
    # how long it takes is a benchmark figure: probe_panel_ms in benchmarks/probe_and_data.py
    assert run.result.noise_top.shape == (1000,) and run.result.test_acc > 0.5
    w.wait_idle()


def test_summary_reads_the_noise_answer_against_real_digits(qtbot, panel):
    from digitviz.core.confidence import sure_as_share

    cfg = TrainConfig(seed=4)
    run = run_probe(qtbot, panel, snapshot_of(cfg.network(), cfg, step=1))
    share = sure_as_share(float(np.median(run.result.noise_top)), run.result.digits_top)
    assert f"as sure as for {share:.0%} of real digits" in panel.summary_label.text()
