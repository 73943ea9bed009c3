"""Going back in time: how long one move of the timeline slider takes, on real MNIST in the real window.

Trains the lesson preset in the MainWindow (every panel shown, 1280x800) for ``--epochs`` epochs, so the
timeline has its dense head and a thinned tail, then moves the slider to ``--moves`` random moments.
One move = fetching that moment's theta, the diagram's forward pass and redraw, the input panel's answer,
the weight images and the landscape's marker, and a synchronous repaint of the window (target < 50 ms).
The baseline, measured in the same run, is one live refresh of the diagram with a repaint.

Prints ``name: value unit`` lines: timeline_move_ms (median), timeline_move_max_ms, live_refresh_ms,
the ratio, and what the timeline keeps (timeline_points, timeline_mb, timeline_stride).

Usage: python benchmarks/timeline_speed.py [--data DIR] [--epochs 1] [--moves 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--moves", type=int, default=60)
    args = ap.parse_args(argv)

    import numpy as np
    from PySide6.QtCore import QSettings

    from digitviz.core.data import load_mnist
    from digitviz.core.training import PRESETS
    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow

    app = make_app()
    ds = load_mnist(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.IniFormat)
        w = MainWindow(data=ds, config=PRESETS["lesson"], settings=settings)
        w.confirm = lambda *a: True
        w.speed.setValue(w.speed.maximum())  # full speed (the app starts at 10 batches/s for a first look)
        w.resize(1280, 800)
        w.show()

        def wait(cond, timeout=600):
            t0 = time.perf_counter()
            while not cond():
                app.processEvents()
                time.sleep(0.002)
                if time.perf_counter() - t0 > timeout:
                    raise TimeoutError

        wait(lambda: w.controller.latest is not None)
        for _ in range(args.epochs):
            n = len(w.controller.latest.epochs)
            w.step_epoch()
            wait(lambda n=n: len(w.controller.latest.epochs) > n and not w.controller.latest.running)
        wait(lambda: w.controller.latest is w.controller._framed)
        for _ in range(20):
            app.processEvents()
        c = w.controller
        steps = c.timeline_steps()
        n_points = len(steps)

        rng = np.random.default_rng(0)
        moves, live = [], []
        for _ in range(args.moves):
            idx = int(rng.integers(n_points))
            t0 = time.perf_counter()
            w.timeline_bar.slider.setValue(idx)
            w.repaint()
            moves.append((time.perf_counter() - t0) * 1000)
            # baseline: one live refresh of the diagram (forward pass, state, set_state) and a repaint
            t0 = time.perf_counter()
            w._refresh_diagram(force=True)
            w.diagram.repaint()
            live.append((time.perf_counter() - t0) * 1000)
        tl = c.timeline
        med, base = statistics.median(moves), statistics.median(live)
        print(f"# lesson preset, {args.epochs} epoch(s), {c.latest.step:,} steps; {args.moves} moves")
        print(f"timeline_move_ms: {med:.1f} ms")
        print(f"timeline_move_p90_ms: {float(np.percentile(moves, 90)):.1f} ms")
        print(f"timeline_move_max_ms: {max(moves):.1f} ms")
        print(f"# first moves (ms): {', '.join(f'{m:.0f}' for m in moves[:5])}")
        print(f"live_refresh_ms: {base:.1f} ms")
        print(f"timeline_move_vs_live_refresh: {med / base:.2f} x")
        print(f"timeline_points: {n_points} points")
        print(f"timeline_mb: {tl.nbytes / 2**20:.1f} MiB")
        print(f"timeline_capacity: {tl.capacity} points")
        print(f"timeline_head_steps: {tl.head_steps} steps")
        print(f"timeline_stride: {tl.stride} steps")
        w.shutdown()
        w.close()


if __name__ == "__main__":
    main()
