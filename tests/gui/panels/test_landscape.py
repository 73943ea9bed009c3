"""The cost-landscape panel and its jobs: snapshots from a real Trainer on toy data, offscreen."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from digitviz.core import landscape as ls
from digitviz.core.landscape import make_sample
from digitviz.core.network import Layout
from digitviz.core.snapshot import Snapshot, StepReport, frozen_copy
from digitviz.core.training import TrainConfig, Trainer
from digitviz.gui.panels import landscape as lp_mod
from digitviz.gui.panels.landscape import LandscapePanel

TIMEOUT = 10000


class Feeder:
    """Drives a Trainer and builds Snapshots the way the training worker does (new_path deltas)."""

    def __init__(self, data, config=None, stride=5, generation=0):
        self.trainer = Trainer(data, config or TrainConfig())
        self.trainer.history.path_stride = stride
        self.sent = -1
        self.generation = generation
        self.n_path = 0

    def snap(self, steps=0, running=True, report=None):
        tr = self.trainer
        for _ in range(steps):
            tr.step()
        h = tr.history
        new = tuple((s, frozen_copy(t)) for s, t in zip(h.path_steps, h.path_thetas) if s > self.sent)
        if new:
            self.sent = new[-1][0]
        self.n_path += len(new)
        return Snapshot(
            step=tr.step_count,
            epoch=tr.epoch,
            examples_seen=tr.examples_seen,
            theta=frozen_copy(tr.net.theta),
            config=tr.config,
            running=running,
            new_path=new,
            step_report=report,
            generation=self.generation,
        )


def trained_panel(qtbot, data, chunks=6, steps=10, **panel_kw):
    """A panel fed a short run (running), then a pause; returns (panel, feeder) once the surface is on."""
    panel = LandscapePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.set_dataset(data)
    feed = Feeder(data)
    panel.on_snapshot(feed.snap(0, running=True))
    for _ in range(chunks):
        panel.on_snapshot(feed.snap(steps, running=True))
    panel.on_snapshot(feed.snap(0, running=False))  # paused: the plane is refitted
    qtbot.waitUntil(lambda: not panel.busy and panel.surface is not None, timeout=TIMEOUT)
    return panel, feed


def test_panel_renders_heat_map_and_path_after_a_few_steps(qtbot, toy_data, tmp_path):
    panel, feed = trained_panel(qtbot, toy_data)
    panel.show()
    qtbot.waitExposed(panel)
    s = panel.surface
    assert s.final and s.Z.shape == (41, 41) and np.all(np.isfinite(s.Z))
    assert panel.plane.kind == "pca" and panel.plane.explained[1] > 0
    img = panel.view.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    img.save(str(tmp_path / "landscape.png"))
    arr = pg.functions.ndarray_from_qimage(img)
    rect = panel.view.mapFromScene(panel.image.sceneBoundingRect()).boundingRect()
    x0, y0 = max(rect.left() + 3, 0), max(rect.top() + 3, 0)
    x1, y1 = min(rect.right() - 3, arr.shape[1]), min(rect.bottom() - 3, arr.shape[0])
    assert x1 - x0 > 100 and y1 - y0 > 100, "the map should have a sensible size"
    patch = arr[y0:y1, x0:x1, :3].reshape(-1, 3)
    colours = {tuple(c) for c in patch[:: max(1, len(patch) // 5000)]}
    assert len(colours) > 20, "a heat map, not a flat fill"
    # the colour bar shows the same levels the image uses
    assert panel.colorbar.levels() == pytest.approx(panel.image.getLevels())


def test_path_has_one_vertex_per_snapshot_path_point_and_resets_on_generation(qtbot, toy_data):
    panel, feed = trained_panel(qtbot, toy_data)
    n = feed.n_path
    assert n == len(feed.trainer.history.path_steps) > 10
    assert len(panel.path_points.data) == n
    assert len(panel.path_line.xData) == n
    np.testing.assert_array_equal(panel.path_steps, feed.trainer.history.path_steps)
    # the start marker sits on the first point, the current marker on the projection of theta
    xy = np.column_stack([panel.path_line.xData, panel.path_line.yData])
    sx, sy = panel.start_marker.getData()
    assert (sx[0], sy[0]) == pytest.approx(tuple(xy[0]))
    ((a, b),), _ = ls.project(panel.plane, feed.trainer.net.theta)
    nx, ny = panel.now_marker.getData()
    assert (nx[0], ny[0]) == pytest.approx((a, b), abs=1e-6)
    # the path keeps growing live on the same plane
    plane = panel.plane
    panel.on_snapshot(feed.snap(10, running=True))
    assert len(panel.path_points.data) == feed.n_path > n and panel.plane is plane
    # a reset starts a new path
    fresh = Feeder(toy_data, generation=1)
    panel.on_snapshot(fresh.snap(0, running=False))
    assert len(panel.path_points.data) <= 1 and len(panel.path_steps) == 1


def test_path_costs_are_true_and_on_plane_costs_exact(qtbot, toy_data):
    panel, feed = trained_panel(qtbot, toy_data)
    qtbot.waitUntil(lambda: np.all(np.isfinite(panel.path_costs)), timeout=TIMEOUT)
    costs = panel.path_costs
    assert costs[-1] < costs[0], "training lowers the cost"
    # independent check of one point on the same sample
    X, Y = make_sample(toy_data, feed.trainer.config, panel.samples.value())
    net = feed.trainer.net.copy()
    k = len(costs) // 2
    assert costs[k] == pytest.approx(net.cost(X, Y, theta=feed.trainer.history.path_thetas[k]), rel=1e-4)
    # the plane was refitted through the current weights = the last path point: there both costs agree
    assert panel.path_steps[-1] == feed.trainer.step_count
    on_plane = panel._on_plane[: len(costs)]
    assert on_plane[-1] == pytest.approx(costs[-1], rel=1e-4)
    assert panel._dist[len(costs) - 1] == pytest.approx(0.0, abs=1e-6)
    # the true-cost curve in the side plot has one value per path point
    assert len(panel.true_curve.xData) == len(costs)
    # the gradient arrow is drawn, pointing where the projected negative gradient points
    assert panel.arrow_head.isVisible()


def test_switching_the_direction_mode_recomputes_on_a_new_plane(qtbot, toy_data):
    panel, _ = trained_panel(qtbot, toy_data)
    first = panel.surface
    with qtbot.waitSignal(panel.surface_applied, timeout=TIMEOUT, check_params_cb=lambda r: r.plane.kind == "random"):
        panel.set_mode("random")
    assert panel.plane.kind == "random" and panel.surface is not first
    assert "random" in panel.map_plot.getAxis("bottom").labelText
    with qtbot.waitSignal(panel.surface_applied, timeout=TIMEOUT, check_params_cb=lambda r: r.plane.kind == "pca"):
        panel.set_mode("pca")
    assert panel.plane.kind == "pca"


def test_cancel_stops_the_job_and_keeps_the_previous_surface(qtbot, toy_data):
    panel, _ = trained_panel(qtbot, toy_data)
    before = panel.surface
    applied = []
    panel.surface_applied.connect(applied.append)
    panel.resolution.setValue(101)
    with qtbot.waitSignal(panel.surface_cancelled, timeout=TIMEOUT) as blocker:
        job_id = panel.request_surface(refit=True)
        assert panel.cancel_btn.isEnabled() and panel.progress.isVisibleTo(panel)
        panel.cancel_btn.click()
    assert blocker.args == [job_id]
    qtbot.waitUntil(lambda: not panel.jobs.running, timeout=TIMEOUT)
    assert applied == [] and panel.surface is before and panel._shown is before
    assert not panel.cancel_btn.isEnabled() and not panel.progress.isVisibleTo(panel)
    assert panel.info.text().startswith("Cancelled")


def test_a_newer_request_supersedes_an_older_one(qtbot, toy_data):
    panel, _ = trained_panel(qtbot, toy_data)
    applied = []
    panel.surface_applied.connect(lambda r: applied.append(r.id))
    panel.resolution.setValue(101)
    old = panel.request_surface(refit=True)
    panel.resolution.setValue(21)
    new = panel.request_surface(refit=True)
    qtbot.waitUntil(lambda: bool(applied) and not panel.busy, timeout=TIMEOUT)
    assert applied == [new] and old not in applied
    assert panel.surface.Z.shape == (21, 21)


def test_use_parameters_switches_to_their_plane_with_their_names(qtbot, toy_data):
    panel, feed = trained_panel(qtbot, toy_data)
    layout = Layout(feed.trainer.config.sizes)
    i, j = layout.index(0, "w", 3, 300), layout.index(2, "b", 5)
    with qtbot.waitSignal(panel.surface_applied, timeout=TIMEOUT, check_params_cb=lambda r: r.plane.kind == "params"):
        panel.use_parameters(i, j)
    assert panel.mode.currentData() == "params"
    assert panel.plane.label1 == "w1[3,300]" and panel.plane.label2 == "b3[5]"
    assert "w1[3,300]" in panel.map_plot.getAxis("bottom").labelText
    assert "b3[5]" in panel.map_plot.getAxis("left").labelText
    assert panel.params_label.text() == "w1[3,300] and b3[5]" and panel.params_label.isVisibleTo(panel)
    # the axes show the parameters' own values: the current point sits at (theta[i], theta[j])
    theta = feed.trainer.net.theta
    nx, ny = panel.now_marker.getData()
    assert (nx[0], ny[0]) == pytest.approx((theta[i], theta[j]), abs=1e-5)
    panel.use_parameters(i, i)
    assert "two different" in panel.info.text()


def test_single_step_report_gradient_drives_the_arrow(qtbot, toy_data):
    panel, feed = trained_panel(qtbot, toy_data)
    grad = np.zeros(feed.trainer.net.n_params)
    grad[panel.plane.d1.argmax()] = 1.0  # any vector: the arrow must follow it
    rep = StepReport(1.0, 0.9, 1.0, 0.1, 1.5, frozen_copy(grad), frozen_copy(np.zeros(10)))
    panel.on_snapshot(feed.snap(1, running=False, report=rep))
    assert panel._grad is rep.grad
    c = np.linalg.pinv(panel.plane.basis) @ grad
    xs, ys = panel.arrow_line.getData()
    direction = np.array([xs[1] - xs[0], ys[1] - ys[0]])
    assert np.dot(direction, -c) > 0.99 * np.linalg.norm(direction) * np.linalg.norm(c)


def test_the_path_copy_is_bounded_and_keeps_the_start(qtbot, toy_data, monkeypatch):
    # read where the path is bookkept (the package re-exports the constant; patching it there changes nothing)
    monkeypatch.setattr(lp_mod.path, "PATH_BYTES", 16 * 13002 * 4)  # capacity 16 points
    panel = LandscapePanel()
    qtbot.addWidget(panel)
    feed = Feeder(toy_data, stride=1)
    for _ in range(8):
        panel.on_snapshot(feed.snap(5, running=True))
    assert feed.n_path == 41 and len(panel.path_steps) <= 16
    assert panel.path_steps[0] == 0 and np.all(np.diff(panel.path_steps) > 0)
    assert panel.path_steps[-1] == feed.trainer.step_count


def test_closing_stops_the_worker(qtbot, toy_data):
    panel, _ = trained_panel(qtbot, toy_data)
    panel.resolution.setValue(101)
    panel.request_surface(refit=True)
    panel.close()
    assert not panel.jobs.running and not panel.busy


def test_scale_switch_redraws_without_a_job_and_ticks_read_as_costs(qtbot, toy_data):
    panel, _ = trained_panel(qtbot, toy_data)
    Z = panel.surface.Z
    assert panel.image.getLevels() == pytest.approx(np.log10([Z.min(), Z.max()]))
    panel.scale.setCurrentIndex(panel.scale.findData("linear"))
    assert not panel.busy
    assert panel.image.getLevels() == pytest.approx([Z.min(), Z.max()])
    # log axes are labelled in cost: 1-2-5 over decades, round steps inside a narrow range
    wide = lp_mod.cost_ticks(np.log10(0.09), np.log10(3.2))
    assert [label for _, label in wide[0]] == ["0.01", "0.1", "1", "10"]
    narrow = lp_mod.cost_ticks(np.log10(0.0978), np.log10(0.1003))
    assert [label for _, label in narrow[0]] == ["0.098", "0.099", "0.100"]
    assert narrow[0][-1][0] == pytest.approx(-1.0)


def test_parameters_picked_before_the_first_snapshot_are_kept(qtbot, toy_data):
    panel = LandscapePanel()
    qtbot.addWidget(panel)
    panel.use_parameters(5, 12000)
    assert panel.mode.currentData() == "params"
    panel.set_dataset(toy_data)
    feed = Feeder(toy_data)
    with qtbot.waitSignal(panel.surface_applied, timeout=TIMEOUT):
        panel.on_snapshot(feed.snap(20, running=False))
    assert panel.plane.kind == "params" and panel.plane.label1 == "w1[0,5]"
    assert panel.params_label.text().startswith("w1[0,5] and ")
