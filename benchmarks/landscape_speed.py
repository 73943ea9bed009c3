"""Time the cost-landscape grid against the plain loop (one forward pass per grid point).

Trains a 784-16-16-10 sigmoid/quadratic network for about one epoch of plain SGD (so the surface is a
realistic one), fits the PCA plane of the recorded path, then times:

* ``grid_41_1000_s``: a 41x41 grid on 1,000 test examples (median of several runs); target < 1 s;
* ``grid_101_10000_s``: a 101x101 grid on all 10,000 test examples; target < 30 s;
* ``loop_41_1000_s``: the plain loop on the 41x41 / 1,000 case (all points, or a subset extrapolated
  with ``--loop-points``; the output says which);
* ``speedup_vs_loop``: their ratio;
* ``panel_on_snapshot_ms``: the landscape panel's ``on_snapshot`` (median of 15, a surface on screen,
  training running; offscreen), target < 20 ms, against ``forward_1000_ms``, one forward pass of the
  1,000 examples (skip with ``--no-panel``).

BLAS is pinned to one thread, so the figures are single-core. Output: one ``name: value unit`` per line;
comment lines start with ``#``.

Usage: ``python benchmarks/landscape_speed.py [--data DIR] [--epochs 1] [--repeats 5] [--no-panel]``
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digitviz.core import landscape
from digitviz.core.network import Network, one_hot


def load(folder: Path):
    """(train_x, train_y, test_x, test_y): float32 images in [0, 1] and uint8 labels."""
    try:
        from digitviz.core.data import load_mnist
    except ImportError:  # the loader is not in this checkout yet: read the gzip IDX files directly

        def idx(name, offset):
            with gzip.open(folder / f"{name}.gz", "rb") as f:
                return np.frombuffer(f.read(), np.uint8, offset=offset)

        train_x = idx("train-images-idx3-ubyte", 16).reshape(-1, 784).astype(np.float32) / 255
        test_x = idx("t10k-images-idx3-ubyte", 16).reshape(-1, 784).astype(np.float32) / 255
        return train_x, idx("train-labels-idx1-ubyte", 8), test_x, idx("t10k-labels-idx1-ubyte", 8)
    ds = load_mnist(folder)
    return ds.images_as("train", np.float32), ds.train_labels, ds.images_as("test", np.float32), ds.test_labels


def train(train_x, train_y, epochs, rng, lr=1.5, batch=10, record_every=200):
    """Plain SGD on a fresh 784-16-16-10 sigmoid/quadratic net; returns (net, path (K, P))."""
    net = Network((784, 16, 16, 10), "sigmoid", "quadratic", np.float32, seed=0)
    Y = one_hot(train_y, 10, np.float32)
    path = [net.theta.copy()]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(train_x))
        for s in range(0, len(order) - batch + 1, batch):
            idx = order[s : s + batch]
            _, grad = net.backprop(train_x[idx], Y[idx])
            net.theta -= lr * grad
            step += 1
            if step % record_every == 0:
                path.append(net.theta.copy())
    if step % record_every:
        path.append(net.theta.copy())
    return net, np.array(path)


def panel_on_snapshot_ms(folder: Path, snapshots=15):
    """Median ms of LandscapePanel.on_snapshot while training runs (the surface is computed first)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from digitviz.core.data import load_mnist
    from digitviz.core.snapshot import Snapshot, frozen_copy
    from digitviz.core.training import TrainConfig, Trainer
    from digitviz.gui.panels.landscape import LandscapePanel

    app = QApplication.instance() or QApplication([])
    ds = load_mnist(folder)
    tr = Trainer(ds, TrainConfig())
    tr.history.path_stride = 5
    sent = [-1]

    def snap(steps, running=True):
        for _ in range(steps):
            tr.step()
        h = tr.history
        new = tuple((s, frozen_copy(t)) for s, t in zip(h.path_steps, h.path_thetas) if s > sent[0])
        if new:
            sent[0] = new[-1][0]
        return Snapshot(
            step=tr.step_count,
            epoch=tr.epoch,
            examples_seen=tr.examples_seen,
            theta=frozen_copy(tr.net.theta),
            config=tr.config,
            running=running,
            new_path=new,
        )

    panel = LandscapePanel()
    panel.resize(1000, 600)
    panel.set_dataset(ds)
    for _ in range(7):
        panel.on_snapshot(snap(10))
    panel.on_snapshot(snap(0, running=False))
    while panel.busy or panel.surface is None:
        app.processEvents()
        panel.jobs.wait(0.01)
    times = []
    for _ in range(snapshots):
        s = snap(5)
        t0 = time.perf_counter()
        panel.on_snapshot(s)
        times.append(time.perf_counter() - t0)
    panel.shutdown()
    return 1000 * statistics.median(times)


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "mnist",
        help="folder with the four MNIST .gz files (default: ../shared/data/mnist)",
    )
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5, help="runs of the 41x41 grid (median reported)")
    ap.add_argument("--no-panel", action="store_true", help="skip the panel figure (no Qt)")
    ap.add_argument(
        "--loop-points",
        type=int,
        default=0,
        help="time the plain loop on this many grid points and extrapolate (0: all 1,681)",
    )
    args = ap.parse_args(argv)

    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        train_x, train_y, test_x, test_y = load(args.data)
        t_train, (net, path) = timed(lambda: train(train_x, train_y, args.epochs, rng))
        test_Y = one_hot(test_y, 10, np.float32)
        acc = float(np.mean(net.predict(test_x) == test_y))
        print(f"# trained {args.epochs} epoch(s) in {t_train:.1f} s, test accuracy {acc:.3f}, {len(path)} path points")
        plane = landscape.pca_directions(path, net.theta)
        coords, dist = landscape.project(plane, path)
        print(
            f"# PCA explained {plane.explained[0]:.3f} + {plane.explained[1]:.3f}; "
            f"max distance of path from plane {dist.max():.3g}"
        )

        X1, Y1 = test_x[:1000], test_Y[:1000]
        a41, b41 = landscape.grid_axes(coords, 41)
        landscape.cost_grid(net, plane, X1, Y1, a41[:5], b41[:5])  # warm-up: buffers, BLAS init
        runs = []
        for _ in range(args.repeats):
            t, Z41 = timed(lambda: landscape.cost_grid(net, plane, X1, Y1, a41, b41))
            runs.append(t)
        t41 = statistics.median(runs)

        n_loop = args.loop_points or a41.size * b41.size
        pick = np.random.default_rng(1).choice(a41.size * b41.size, size=n_loop, replace=False)
        jj, ii = np.unravel_index(pick, (b41.size, a41.size))

        def loop():
            return np.array([net.cost(X1, Y1, theta=plane.point(a41[i], b41[j])) for j, i in zip(jj, ii)])

        t_loop_part, Z_loop = timed(loop)
        t_loop = t_loop_part * (a41.size * b41.size) / n_loop
        rel = float(np.max(np.abs(Z41[jj, ii] - Z_loop) / np.abs(Z_loop)))

        a101, b101 = landscape.grid_axes(coords, 101)
        t101, Z101 = timed(lambda: landscape.cost_grid(net, plane, test_x, test_Y, a101, b101))

    print(f"grid_41_1000_s: {t41:.3f} s")
    print(f"grid_101_10000_s: {t101:.2f} s")
    print(f"loop_41_1000_s: {t_loop:.2f} s")
    print(f"speedup_vs_loop: {t_loop / t41:.1f} x")
    how = "all points" if n_loop == a41.size * b41.size else f"{n_loop} random points, extrapolated"
    print(f"# loop timed on {how}; max relative difference fast vs loop {rel:.2e}")
    print(
        f"# 41x41 runs: {', '.join(f'{r:.3f}' for r in runs)} s; surface range "
        f"[{Z101.min():.3f}, {Z101.max():.3f}] on 10,000"
    )
    ok41, ok101 = t41 < 1.0, t101 < 30.0
    if not args.no_panel:
        with threadpool_limits(1):
            t_fwd = statistics.median(timed(lambda: net.cost(X1, Y1))[0] for _ in range(5))
        t_panel = panel_on_snapshot_ms(args.data)
        print(f"forward_1000_ms: {1000 * t_fwd:.2f} ms")
        print(f"panel_on_snapshot_ms: {t_panel:.2f} ms")
        print(f"panel_on_snapshot_vs_forward: {t_panel / (1000 * t_fwd):.2f} x")
        print(f"# target: panel_on_snapshot_ms < 20 {'met' if t_panel < 20 else 'NOT met'}")
        ok41 = ok41 and t_panel < 20
    print(
        f"# targets: 41x41/1000 < 1 s {'met' if ok41 else 'NOT met'} ({1.0 / t41:.1f}x margin); "
        f"101x101/10000 < 30 s {'met' if ok101 else 'NOT met'} ({30.0 / t101:.1f}x margin)"
    )
    return 0 if ok41 and ok101 else 1


if __name__ == "__main__":
    sys.exit(main())
