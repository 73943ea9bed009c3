"""The landscape panel's jobs as pure functions (no Qt, no threads): the sample, surfaces, path costs."""

import numpy as np
import pytest

from digitviz.core import landscape as ls
from digitviz.core.landscape import (
    PathJob,
    SurfaceJob,
    compute_path,
    compute_surface,
    make_sample,
)
from digitviz.core.snapshot import frozen_copy
from digitviz.core.training import TrainConfig, Trainer


def trained(data, steps=40, stride=5):
    tr = Trainer(data, TrainConfig())
    tr.history.path_stride = stride
    for _ in range(steps):
        tr.step()
    return tr


def test_sample_is_fixed_per_run_and_uses_the_trained_labels(toy_data):
    cfg = TrainConfig(seed=4)
    X1, Y1 = make_sample(toy_data, cfg, 100)
    X2, Y2 = make_sample(toy_data, cfg, 100)
    np.testing.assert_array_equal(X1, X2)
    assert X1.shape == (100, 784) and X1.dtype == np.float32 and not X1.flags.writeable
    X3, _ = make_sample(toy_data, cfg, 200)
    np.testing.assert_array_equal(X3[:100], X1)  # the first N of one permutation
    shuffled = TrainConfig(seed=4, random_labels=True)
    tr = Trainer(toy_data, shuffled)
    Xs, Ys = make_sample(toy_data, shuffled, 600)
    # each sampled example carries the label the trainer trains it on
    rows = {x.tobytes(): i for i, x in enumerate(tr.X_train)}
    idx = [rows[x.tobytes()] for x in Xs[:50]]
    np.testing.assert_array_equal(Ys[:50].argmax(1), tr.train_labels[idx])


def test_surface_and_path_jobs_agree_with_direct_costs(toy_data):
    tr = trained(toy_data)
    net = tr.net.copy()
    X, Y = make_sample(toy_data, tr.config, 300)
    path = tuple(frozen_copy(t) for t in tr.history.path_thetas)
    job = SurfaceJob(
        id=1,
        generation=0,
        config=tr.config,
        data=toy_data,
        sample_size=300,
        source="train",
        mode="pca",
        centre=frozen_copy(tr.net.theta),
        current=frozen_copy(tr.net.theta),
        path=path,
        steps=tuple(tr.history.path_steps),
        resolution=7,
        coarse=3,
    )
    partial, done = [], []
    res = compute_surface(job, net, X, Y, emit=partial.append, progress=lambda d, t: done.append((d, t)))
    assert [p.Z.shape for p in partial] == [(3, 3)] and res.final and res.Z.shape == (7, 7)
    assert done[-1][0] == done[-1][1]
    a, b = res.alphas[2], res.betas[5]
    assert res.Z[5, 2] == pytest.approx(net.cost(X, Y, theta=res.plane.point(a, b)), rel=1e-4)
    k = 3
    assert res.plane_costs[k] == pytest.approx(net.cost(X, Y, theta=res.plane.point(*res.coords[k])), rel=1e-4)
    assert res.line_t[0] == pytest.approx(-0.2) and res.line_t[-1] == pytest.approx(1.2)
    pj = PathJob(
        id=2,
        generation=0,
        config=tr.config,
        data=toy_data,
        sample_size=300,
        source="train",
        steps=tuple(tr.history.path_steps),
        thetas=path,
        plane=res.plane,
        grad_theta=frozen_copy(tr.net.theta),
        grad_step=tr.step_count,
    )
    pr = compute_path(pj, net, X, Y, chunk=3)
    assert pr.true_costs[k] == pytest.approx(net.cost(X, Y, theta=path[k]), rel=1e-4)
    np.testing.assert_allclose(pr.plane_costs, res.plane_costs, rtol=1e-5)
    _, g = tr.net.copy().backprop(X, Y)
    np.testing.assert_allclose(pr.grad, g, rtol=1e-4, atol=1e-7)
    with pytest.raises(ls.Cancelled):
        compute_surface(job, net, X, Y, cancel=lambda: True)


def test_surface_passes_are_coarse_to_fines_and_progress_only_grows(toy_data):
    tr = trained(toy_data)
    net = tr.net.copy()
    X, Y = make_sample(toy_data, tr.config, 200)
    path = tuple(frozen_copy(t) for t in tr.history.path_thetas)
    job = SurfaceJob(
        id=1,
        generation=0,
        config=tr.config,
        data=toy_data,
        sample_size=200,
        source="train",
        mode="random",
        centre=path[-1],
        current=path[-1],
        path=path,
        steps=tuple(tr.history.path_steps),
        resolution=9,
        coarse=4,
    )
    partial, done = [], []
    res = compute_surface(job, net, X, Y, emit=partial.append, progress=lambda d, t: done.append((d, t)))
    (ca, cb, Zc), (fa, fb, Zf) = ls.coarse_to_fine(net, res.plane, X, Y, res.alphas, res.betas, coarse=4)
    np.testing.assert_array_equal(partial[0].Z, Zc)
    np.testing.assert_array_equal(res.Z, Zf)
    counts = [d for d, _ in done]
    assert counts == sorted(counts) and len({t for _, t in done}) == 1
    assert done[-1][1] == 4 * 4 + len(path) + ls.LINE_POINTS + 9 * 9
    # a kept plane: no refit, the same directions
    kept = SurfaceJob(
        id=2,
        generation=0,
        config=tr.config,
        data=toy_data,
        sample_size=200,
        source="train",
        mode="random",
        centre=path[-1],
        current=path[-1],
        path=path,
        steps=job.steps,
        resolution=5,
        coarse=11,
        plane=res.plane,
    )
    again = compute_surface(kept, net, X, Y, emit=partial.append)
    assert len(partial) == 1  # 11 is not coarser than 5: no coarse pass
    assert again.plane is res.plane and again.Z.shape == (5, 5)


def test_params_mode_without_params_is_one_clear_error(toy_data):
    # it used to fail with "TypeError: Value after * must be an iterable, not NoneType"
    cfg = TrainConfig()
    net = cfg.network()
    job = SurfaceJob(
        id=1,
        generation=0,
        config=cfg,
        data=toy_data,
        sample_size=50,
        source="train",
        mode="params",
        centre=frozen_copy(net.theta),
        current=frozen_copy(net.theta),
        path=(),
        steps=(),
        resolution=5,
        coarse=5,
    )
    with pytest.raises(ValueError, match='plane mode "params" needs params'):
        ls.fit_plane(job, net, np.zeros((0, net.n_params)))


def test_run_sample_inputs_build_a_fresh_network_and_the_sample(toy_data):
    cfg = TrainConfig(seed=2)
    job = PathJob(id=1, generation=0, config=cfg, data=toy_data, sample_size=50, source="test")
    net, X, Y = job.inputs()
    assert net.sizes == cfg.sizes and X.shape == (50, 784) and Y.shape == (50, 10)
    X2, _ = make_sample(toy_data, cfg, 50, "test")
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="source"):
        make_sample(toy_data, cfg, 5, "validation")
