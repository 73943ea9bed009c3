"""How much memory the real app holds: resident set size of the main window offscreen, with MNIST.

Drives the real MainWindow (1280x800, default layout, lesson preset) in this process and reads VmRSS from
/proc/self/status (Linux) at four points:

- rss_baseline_mb: Python, NumPy, PySide6, pyqtgraph and digitviz imported, a QApplication, no window.
  The baseline measured in the same run; the other figures are also printed as a ratio to it.
- rss_launch_mb: the window shown, MNIST loaded, the first frames drawn (target <= 350).
- rss_trained_mb: after 5 epochs of training at full speed.
- rss_session_mb: after 8 runs kept in the learning curves, the overconfidence probe, a cost-landscape
  surface and every experiment tab run once with its default settings (target <= 600).
- rss_growth_10min_pct: change of RSS over a further ``--minutes`` (default 10) of training with the
  panels open (target within 5%), once the run's bounded stores are full (the curves' 262,144 steps);
  each end's level is the median of its minute of 5-s samples (a single sample can land on a 25-50 MB
  evaluation held for a moment). The figure name says 10min; the comment line says how long it ran, and
  gives the single samples at both ends and the peak. Comment lines follow its progress (every
  ``--every`` s, with the backlog of snapshots not yet taken by the GUI thread) and RSS after
  ``malloc_trim(0)`` (what of it was free memory the allocator kept).

Usage: python benchmarks/footprint.py [--data DIR] [--minutes 10] [--epochs 5] [--every 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    """Resident set size of this process in MiB (VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (not Linux?)")


def pump_until(app, cond, timeout=60.0, what="the app"):
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.002)  # a script pumping events, not a test: let the worker threads have the CPU
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"{what} did not finish within {timeout:g} s")


def pump_for(app, seconds):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.005)


def figure(name, value, unit, base=None, target=None):
    extra = ""
    if base:
        extra += f"  # {value / base:.2f}x baseline"
    if target:
        extra += f"{'  #' if not extra else ','} target {target}"
    print(f"{name}: {value:.1f} {unit}{extra}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--minutes", type=float, default=10.0, help="length of the growth measurement")
    p.add_argument("--every", type=float, default=60.0, help="seconds between the growth phase's progress lines")
    a = p.parse_args(argv)

    from PySide6.QtCore import QSettings

    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow

    app = make_app([])
    pump_for(app, 0.2)
    base = rss_mb()
    print(f"# digitviz footprint: lesson preset, 1280x800, platform {os.environ.get('QT_QPA_PLATFORM')}, data {a.data}")
    figure("rss_baseline_mb", base, "MB")

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "footprint.ini"), QSettings.IniFormat)
        w = MainWindow(data_dir=a.data, settings=settings)
        w.confirm = lambda title, text: True
        w.resize(1280, 800)
        w.show()
        pump_until(app, lambda: w.dataset is not None, what="loading MNIST")
        c = w.controller
        pump_until(app, lambda: c.latest is not None and c.latest.generation is not None, what="first frame")
        pump_for(app, 2.0)
        figure("rss_launch_mb", rss_mb(), "MB", base, "<= 350")

        c.set_speed(None)
        c.play()
        pump_until(app, lambda: c.latest.epoch >= a.epochs, timeout=600, what=f"{a.epochs} epochs")
        c.pause()
        pump_until(app, lambda: not c.latest.running, what="pausing")
        pump_for(app, 1.0)
        figure("rss_trained_mb", rss_mb(), "MB", base)

        # 8 kept runs: each reset keeps the run before it in the learning curves
        curves = w.panels["curves"]
        for _ in range(8):
            g0 = c.latest.generation
            w.reset_network()
            pump_until(app, lambda g0=g0: c.latest.generation != g0, what="reset")
            c.play()
            pump_until(app, lambda: c.latest.step >= 2000, timeout=120, what="a short run")
            c.pause()
            pump_until(app, lambda: not c.latest.running, what="pausing")
            pump_for(app, 1.0)  # the curves panel sees this generation before the next reset
        pump_for(app, 0.5)
        print(f"# kept runs: {len(curves.runs)}")

        probe = w.panels["probe"]
        w.docks["probe"].raise_()
        pump_for(app, 0.3)
        if probe.probe_now():
            pump_until(app, lambda: not probe.running, timeout=120, what="the probe")

        land = w.panels["landscape"]
        w.docks["landscape"].raise_()
        pump_for(app, 0.3)
        land.request_surface()
        pump_until(app, lambda: not land.busy, timeout=300, what="the landscape")

        ex = w.panels["experiments"]
        w.docks["experiments"].raise_()
        for name in ("gradient", "labels", "minima", "mistakes"):
            ex.show_tab(name)
            tab = getattr(ex, name)
            pump_for(app, 0.3)
            if name == "gradient":
                c.step_once()  # the tab shows the gradient of the step just taken
                pump_for(app, 1.0)
                continue
            if name == "mistakes":
                tab.refresh()
            else:
                tab.start()
            pump_until(app, lambda t=tab: t.job is None, timeout=1200, what=f"the {name} experiment")
            pump_for(app, 0.5)
        figure("rss_session_mb", rss_mb(), "MB", base, "<= 600")

        # growth: training with the panels open (the experiments dock in front, as the session left it)
        from digitviz.gui.panels.curves import MAX_POINTS

        c.play()
        # Settle: the run's bounded stores (the curves' MAX_POINTS steps, the descent path, the timeline)
        # fill up first. That is a bounded rise, not growth; by steps, not seconds, so that a slow or
        # loaded machine measures the same thing as a fast one.
        t_play = time.perf_counter()
        pump_until(
            app,
            lambda: time.perf_counter() - t_play >= 20.0 and c.latest.step >= 1.1 * MAX_POINTS,
            timeout=900,
            what="the run's bounded stores to fill",
        )
        print(f"# settled after {time.perf_counter() - t_play:.0f} s, at step {c.latest.step:,}", flush=True)
        start, t0 = rss_mb(), time.perf_counter()
        peak, step0, said = start, c.latest.step, 0.0
        samples = [(0.0, start)]  # (s, MB) every 5 s
        while time.perf_counter() - t0 < a.minutes * 60:
            pump_for(app, 5.0)
            now, t = rss_mb(), time.perf_counter() - t0
            peak = max(peak, now)
            samples.append((t, now))
            if t - said >= a.every:
                said = t
                # snapshots the worker published that the GUI thread has not taken yet (each holds a theta)
                backlog = c.worker._published - c.snapshots_received
                print(f"# {t:.0f} s: {now:.1f} MB, {c.latest.step - step0:,} steps, backlog {backlog}", flush=True)
        end = rss_mb()
        c.pause()
        # Epoch-end evaluations and experiment jobs hold 25-50 MB for a moment, and a single sample can land
        # on one: the level at each end is the median of that end's minute of samples.
        span = min(60.0, a.minutes * 30)
        first = float(np.median([m for t, m in samples if t <= span]))
        last = float(np.median([m for t, m in samples if t >= samples[-1][0] - span]))
        print(
            f"# growth over {a.minutes:g} min of training ({c.latest.step - step0:,} steps): median of the first "
            f"and last {span:g} s {first:.1f} -> {last:.1f} MB; single samples {start:.1f} -> {end:.1f} MB "
            f"({100.0 * (end - start) / start:+.1f}%), peak {peak:.1f} MB",
            flush=True,
        )
        figure("rss_growth_10min_pct", 100.0 * (last - first) / first, "%", target="within 5")
        from digitviz.memory import trim

        if trim():  # what of the end figure was free memory the allocator kept, not memory the app holds
            print(f"# after malloc_trim(0): {rss_mb():.1f} MB", flush=True)
        w.close()
        pump_for(app, 0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
