"""The cost landscape: planes, projections and the fast grid against plain forward passes (no Qt)."""

import numpy as np
import pytest

from digitviz.core import landscape as ls
from digitviz.core.network import ACTIVATIONS, COSTS, Network, one_hot

SIZES = (12, 6, 5, 4)
TOL = {np.float64: 1e-10, np.float32: 1e-5}


def make(activation="sigmoid", cost="quadratic", dtype=np.float64, n=40, sizes=SIZES, seed=3):
    net = Network(sizes, activation, cost, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0]))
    Y = one_hot(rng.integers(0, sizes[-1], n), sizes[-1], dtype)
    if cost == "quadratic":
        Y[0] = 0.0  # "not a digit" targets are allowed
    return net, X, Y


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grid_centre_and_random_point_match_direct_cost(dtype, rng):
    net, X, Y = make(dtype=dtype)
    plane = ls.random_directions(net, net.theta, rng)
    a, b = rng.uniform(-1.5, 1.5, 2)
    Z = ls.cost_grid(net, plane, X, Y, np.array([0.0, a]), np.array([0.0, b]))
    assert Z.dtype == np.float64 and Z.shape == (2, 2)
    assert rel(Z[0, 0], net.cost(X, Y)) < TOL[dtype]
    direct = net.cost(X, Y, theta=net.theta + a * plane.d1 + b * plane.d2)
    assert rel(Z[1, 1], direct) < TOL[dtype]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_grid_equals_plain_loop(activation, cost, dtype, rng):
    net, X, Y = make(activation, cost, dtype)
    plane = ls.pca_directions(net.theta + rng.standard_normal((6, net.n_params)), net.theta)
    alphas, betas = np.linspace(-2, 2, 5), np.linspace(-1, 1.5, 4)
    # chunk_points=3 splits the grid into uneven chunks, exercising the chunk edges
    Z = ls.cost_grid(net, plane, X, Y, alphas, betas, chunk_points=3)
    assert Z.shape == (4, 5)
    assert rel(Z, ls.cost_grid_loop(net, plane, X, Y, alphas, betas)) < TOL[dtype]


@pytest.mark.parametrize("sizes", [(12, 4), (12, 7, 4), (12, 6, 5, 5, 4)])
@pytest.mark.parametrize("cost", COSTS)
def test_other_depths_and_saturated_softmax(sizes, cost, rng):
    # far out along the directions the softmax underflows and network.cost_value's floor applies
    net, X, Y = make("relu", cost, sizes=sizes)
    plane = ls.random_directions(net, net.theta, rng)
    alphas, betas = np.array([-300.0, 0.0, 2.0, 2000.0]), np.array([-100.0, 0.0])
    Z = ls.cost_grid(net, plane, X, Y, alphas, betas)
    assert rel(Z, ls.cost_grid_loop(net, plane, X, Y, alphas, betas)) < 1e-10


def test_examples_are_split_into_blocks(rng, monkeypatch):
    monkeypatch.setattr(ls.engine, "_BLOCK_EXAMPLES", 16)
    net, X, Y = make("tanh", "cross_entropy", n=50)
    assert len(ls.engine._Engine(net, X, Y).blocks) == 4  # the patched size is used (read at call time)
    plane = ls.random_directions(net, net.theta, rng)
    alphas = np.linspace(-1, 1, 3)
    assert (
        rel(ls.cost_grid(net, plane, X, Y, alphas, alphas), ls.cost_grid_loop(net, plane, X, Y, alphas, alphas)) < 1e-10
    )


def test_grid_leaves_the_network_alone(rng):
    net, X, Y = make(dtype=np.float32)
    before = net.theta.copy()
    ls.cost_grid(net, ls.random_directions(net, net.theta, rng), X, Y, [0.0, 1.0], [0.0])
    np.testing.assert_array_equal(net.theta, before)


def test_costs_at_and_line_costs(rng):
    net, X, Y = make("sigmoid", "cross_entropy")
    thetas = net.theta + 0.3 * rng.standard_normal((5, net.n_params))
    direct = [net.cost(X, Y, theta=t) for t in thetas]
    assert rel(ls.costs_at(net, thetas, X, Y, chunk_points=2), direct) < 1e-10
    ts, costs = ls.line_costs(net, thetas[0], thetas[1], X, Y, n=11, extend=0.5)
    assert ts[0] == -0.5 and ts[-1] == 1.5 and costs.shape == (11,)
    ts, costs = ls.line_costs(net, thetas[0], thetas[1], X, Y, n=7)
    assert ts[0] == 0.0 and ts[-1] == 1.0
    assert rel(costs[[0, -1]], direct[:2]) < 1e-10
    mid = net.cost(X, Y, theta=(thetas[0] + thetas[1]) / 2)
    assert rel(costs[3], mid) < 1e-10


def test_line_costs_float32_endpoints(rng):
    net, X, Y = make(dtype=np.float32)
    other = net.copy()
    other.initialize(rng)
    _, costs = ls.line_costs(net, net.theta, other.theta, X, Y, n=5)
    assert rel(costs[[0, -1]], [net.cost(X, Y), other.cost(X, Y)]) < 1e-5


def test_pca_recovers_a_straight_line(rng):
    P = 50
    centre = rng.standard_normal(P)
    v = rng.standard_normal(P)
    path = centre + np.linspace(-3.0, 1.0, 9)[:, None] * v
    plane = ls.pca_directions(path, centre)
    assert abs(plane.d1 @ v) / np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
    assert plane.explained[0] == pytest.approx(1.0) and plane.explained[1] == 0.0
    assert plane.kind == "pca" and plane.label1 == "PC1"
    assert np.all(np.isfinite(plane.d2))
    assert np.linalg.norm(plane.d2) == pytest.approx(1.0) and abs(plane.d1 @ plane.d2) < 1e-12
    coords, dist = ls.project(plane, path)
    assert coords[0, 0] < 0  # the path's start lies at negative a
    assert np.max(dist) < 1e-10


def test_pca_of_a_curved_path_contains_it(rng):
    P = 40
    centre = rng.standard_normal(P)
    u, w = np.linalg.qr(rng.standard_normal((P, 2)))[0].T
    t = np.linspace(0, 1, 20)[:, None]
    path = centre + 5 * t * u + 2 * t**2 * w
    plane = ls.pca_directions(path, centre)
    np.testing.assert_allclose(plane.basis.T @ plane.basis, np.eye(2), atol=1e-12)
    assert sum(plane.explained) == pytest.approx(1.0)
    assert plane.explained[0] > plane.explained[1] > 0
    assert np.max(ls.project(plane, path)[1]) < 1e-9


@pytest.mark.parametrize("K", [0, 1])
def test_pca_degenerate_paths_give_orthonormal_directions(K, rng):
    centre = rng.standard_normal(30)
    path = centre + rng.standard_normal((K, 30)) if K else np.zeros((0, 30))
    plane = ls.pca_directions(path, centre)
    B = plane.basis
    assert np.all(np.isfinite(B))
    np.testing.assert_allclose(B.T @ B, np.eye(2), atol=1e-12)
    # the path at the centre itself is also degenerate
    plane = ls.pca_directions(np.tile(centre, (3, 1)), centre)
    np.testing.assert_allclose(plane.basis.T @ plane.basis, np.eye(2), atol=1e-12)
    assert plane.explained == (0.0, 0.0)


def test_random_directions_are_filter_normalised(rng):
    net, _, _ = make()
    plane = ls.random_directions(net, net.theta, rng)
    for d in (plane.d1, plane.d2):
        for (wd, bd), (wc, _) in zip(net.layout.views(d), net.layout.views(plane.centre)):
            np.testing.assert_allclose(np.linalg.norm(wd, axis=1), np.linalg.norm(wc, axis=1), rtol=1e-12)
            assert np.all(bd == 0)
    again = ls.random_directions(net, net.theta, np.random.default_rng(12345))
    np.testing.assert_array_equal(again.d1, plane.d1)  # rng fixture is seeded 12345
    assert not np.allclose(plane.d1, plane.d2)


def test_parameter_directions(rng):
    net, X, Y = make()
    i, j = net.layout.index(1, "w", 2, 3), net.layout.index(2, "b", 1)
    plane = ls.parameter_directions(net, net.theta, i, j)
    assert plane.label1 == "w2[2,3]" and plane.label2 == "b3[1]"
    assert plane.d1[i] == 1 and plane.d1.sum() == 1 and plane.d2[j] == 1 and plane.d2.sum() == 1
    Z = ls.cost_grid(net, plane, X, Y, [0.7], [-0.4])
    theta = net.theta.copy()
    theta[i] += 0.7
    theta[j] -= 0.4
    assert rel(Z[0, 0], net.cost(X, Y, theta=theta)) < 1e-10
    with pytest.raises(ValueError):
        ls.parameter_directions(net, net.theta, i, i)


def test_project_reconstructs_points_in_the_plane_and_measures_distance(rng):
    net, _, _ = make()
    plane = ls.random_directions(net, net.theta, rng)
    ab = rng.standard_normal((4, 2))
    on = np.array([plane.point(a, b) for a, b in ab])
    coords, dist = ls.project(plane, on)
    np.testing.assert_allclose(coords, ab, atol=1e-10)
    np.testing.assert_allclose(plane.centre + coords @ plane.basis.T, on, atol=1e-10)
    assert np.max(dist) < 1e-10
    # a step orthogonal to the plane shows up as distance, not as a change of coordinates
    normal = rng.standard_normal(net.n_params)
    normal -= plane.basis @ np.linalg.lstsq(plane.basis, normal, rcond=None)[0]
    normal *= 2.5 / np.linalg.norm(normal)
    coords2, dist2 = ls.project(plane, on + normal)
    np.testing.assert_allclose(coords2, ab, atol=1e-10)
    np.testing.assert_allclose(dist2, 2.5)


def test_projected_gradient_and_surface_slope(rng):
    net, X, Y = make()
    plane = ls.random_directions(net, net.theta, rng)
    assert ls.projected_gradient(plane, 2 * plane.d1 - 3 * plane.d2) == pytest.approx((2.0, -3.0))
    # the slope is the derivative of the drawn surface: compare with central differences of the grid
    _, grad = net.backprop(X, Y)
    h = 1e-5
    Z = ls.cost_grid(net, plane, X, Y, [-h, 0.0, h], [-h, 0.0, h])
    fd = ((Z[1, 2] - Z[1, 0]) / (2 * h), (Z[2, 1] - Z[0, 1]) / (2 * h))
    assert ls.surface_slope(plane, grad) == pytest.approx(fd, rel=1e-6)


def test_grid_axes():
    coords = np.array([[-4.0, 1.0], [-1.0, 0.5], [-0.5, 0.2]])
    alphas, betas = ls.grid_axes(coords, 9)
    assert len(alphas) == len(betas) == 9
    for axis, values in zip((alphas, betas), coords.T):
        assert axis[0] < min(values.min(), 0) and axis[-1] > max(values.max(), 0)
    assert alphas[-1] - alphas[0] == pytest.approx(betas[-1] - betas[0])  # square
    assert alphas[-1] - alphas[0] == pytest.approx(4.0 * 1.5)
    for empty in (np.zeros((0, 2)), np.zeros((3, 2))):
        alphas, betas = ls.grid_axes(empty, 5)
        np.testing.assert_array_equal(alphas, np.linspace(-1, 1, 5))
        np.testing.assert_array_equal(betas, np.linspace(-1, 1, 5))


def test_progress_reaches_total_and_cancel_raises(rng):
    net, X, Y = make()
    plane = ls.random_directions(net, net.theta, rng)
    calls = []
    ls.cost_grid(
        net,
        plane,
        X,
        Y,
        np.zeros(5),
        np.zeros(3),
        chunk_points=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(4, 15), (8, 15), (12, 15), (15, 15)]
    polls = []

    def cancel():
        polls.append(1)
        return len(polls) >= 2  # cancel once the first chunk is done

    with pytest.raises(ls.Cancelled):
        ls.cost_grid(net, plane, X, Y, np.zeros(5), np.zeros(3), chunk_points=4, cancel=cancel)
    assert len(polls) == 2


def test_coarse_to_fine(rng):
    net, X, Y = make()
    plane = ls.random_directions(net, net.theta, rng)
    alphas, betas = np.linspace(-1, 1, 9), np.linspace(-2, 0, 7)
    calls = []
    results = list(
        ls.coarse_to_fine(net, plane, X, Y, alphas, betas, coarse=3, progress=lambda d, t: calls.append((d, t)))
    )
    (ca, cb, cZ), (fa, fb, fZ) = results
    np.testing.assert_array_equal(ca, [-1, 0, 1])
    np.testing.assert_array_equal(cb, [-2, -1, 0])
    assert cZ.shape == (3, 3) and fZ.shape == (7, 9)
    np.testing.assert_allclose(fZ, ls.cost_grid(net, plane, X, Y, alphas, betas), rtol=1e-12)
    np.testing.assert_allclose(cZ[::2, ::2], fZ[::6, ::8], rtol=1e-12)
    assert calls[-1] == (9 + 63, 9 + 63)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    with pytest.raises(ls.Cancelled):
        list(ls.coarse_to_fine(net, plane, X, Y, alphas, betas, cancel=lambda: True))


def test_plane_is_frozen_and_read_only(rng):
    net, _, _ = make()
    plane = ls.random_directions(net, net.theta, rng)
    with pytest.raises(ValueError):
        plane.d1[0] = 1.0
    with pytest.raises(AttributeError):
        plane.kind = "pca"
    with pytest.raises(ValueError):
        ls.Plane(np.zeros(3), np.zeros(3), np.zeros(4), "pca", "a", "b", None)


def test_plane_costs_at_scattered_points(rng):
    net, X, Y = make("relu", "cross_entropy")
    plane = ls.random_directions(net, net.theta, rng)
    coords = rng.uniform(-1, 1, (7, 2))
    direct = [net.cost(X, Y, theta=plane.point(a, b)) for a, b in coords]
    assert rel(ls.plane_costs(net, plane, coords, X, Y, chunk_points=3), direct) < 1e-10
    assert ls.plane_costs(net, plane, np.zeros((0, 2)), X, Y).shape == (0,)
    with pytest.raises(ls.Cancelled):
        ls.plane_costs(net, plane, coords, X, Y, cancel=lambda: True)


def test_in_plane_share(rng):
    net, _, _ = make()
    plane = ls.random_directions(net, net.theta, rng)
    assert ls.in_plane_share(plane, 2.0 * plane.d1 - plane.d2) == pytest.approx(1.0)
    off = rng.standard_normal(net.n_params)
    off -= plane.basis @ np.linalg.lstsq(plane.basis, off, rcond=None)[0]  # orthogonal to the plane
    assert ls.in_plane_share(plane, off) == pytest.approx(0.0, abs=1e-12)
    g = plane.d1 / np.linalg.norm(plane.d1) + off / np.linalg.norm(off)  # 45 degrees out of the plane
    assert ls.in_plane_share(plane, g) == pytest.approx(np.sqrt(0.5))
    assert np.isnan(ls.in_plane_share(plane, np.zeros(net.n_params)))
