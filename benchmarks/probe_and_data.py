"""How long loading MNIST and the overconfidence probe take (the figures that used to be timed tests).

Prints one figure a line, ``name: value unit``, each against a baseline measured in the same run (the
machine is shared and noisy); comment lines start with '#'.

- data_load_s: ``load_mnist`` of the four files (target < 3 s), against gzip_read_s: reading and
  decompressing the same four files and nothing else.
- probe_ms: ``core.probe.probe`` of the lesson network after 500 steps, 1,000 noise images and the
  10,000 test digits (target < 1000 ms), against forward_10000_ms: one forward pass of the test digits.
- probe_panel_ms: the probe panel's own job (``ProbeRun.seconds``) on the same kind of network after
  300 steps (target < 1000 ms), offscreen.

BLAS is pinned to one thread (as in the app). Usage: python benchmarks/probe_and_data.py [--data DIR]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from threadpoolctl import threadpool_limits


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "mnist",
        help="folder with the four MNIST .gz files (default: ../shared/data/mnist)",
    )
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    threadpool_limits(1)

    from digitviz.core.data import load_mnist
    from digitviz.core.probe import probe
    from digitviz.core.training import PRESETS, Trainer

    files = sorted(args.data.glob("*-ubyte.gz"))
    t_gzip = median_time(lambda: [gzip.decompress(f.read_bytes()) for f in files], args.repeats)
    t_load = median_time(lambda: load_mnist(args.data), args.repeats)
    print(f"gzip_read_s: {t_gzip:.3f} s")
    print(f"data_load_s: {t_load:.3f} s")
    print(f"data_load_vs_gzip: {t_load / t_gzip:.2f} x")

    ds = load_mnist(args.data)
    tr = Trainer(ds, PRESETS["lesson"])
    for _ in range(500):
        tr.step()
    X, labels = ds.images_as("test"), ds.test_labels
    t_fwd = median_time(lambda: tr.net.feedforward(X), args.repeats)
    t_probe = median_time(lambda: probe(tr.net, X, labels, np.random.default_rng(0)), args.repeats)
    print(f"forward_10000_ms: {1000 * t_fwd:.1f} ms")
    print(f"probe_ms: {1000 * t_probe:.1f} ms")
    print(f"probe_vs_forward: {t_probe / t_fwd:.2f} x")

    from PySide6.QtWidgets import QApplication

    from digitviz.core.snapshot import Snapshot, frozen_copy
    from digitviz.gui.panels.probe import ProbePanel

    app = QApplication.instance() or QApplication([])
    panel = ProbePanel()
    panel.set_dataset(ds)
    seconds = []
    for _ in range(args.repeats):
        panel.on_snapshot(
            Snapshot(step=tr.step_count, epoch=0, examples_seen=0, theta=frozen_copy(tr.net.theta), config=tr.config)
        )
        got = []
        panel.probe_finished.connect(got.append)
        panel.probe_now()
        while not got:
            app.processEvents()
            panel.wait_idle(0.01)
        panel.probe_finished.disconnect(got.append)
        seconds.append(got[0].seconds)
    panel.shutdown()
    t_panel = statistics.median(seconds)
    print(f"probe_panel_ms: {1000 * t_panel:.1f} ms")
    print(f"probe_panel_vs_forward: {t_panel / t_fwd:.2f} x")
    ok = t_load < 3.0 and t_probe < 1.0 and t_panel < 1.0
    print(f"# targets: data_load_s < 3, probe_ms < 1000, probe_panel_ms < 1000: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
