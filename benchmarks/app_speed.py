"""How fast the desktop app trains and draws, compared with training headless in the same process.

Drives the real MainWindow at 1280x800 with every panel shown, on real MNIST, with the lesson preset.
Prints one figure a line, ``name: value unit``; comment lines start with '#'.

- headless_rate / in_app_rate: examples/s of a Trainer loop (BLAS pinned to one thread, an evaluation at
  each epoch's end, exactly what the app's worker does) and of the app playing at full speed. They are
  measured in alternating rounds, so that a busy machine slows both alike; the ratio is the median of
  the per-round ratios (target >= 0.70).
- diagram_repaint_ms: median of one full diagram update (forward pass + diagram state + set_state) and
  a synchronous repaint (target < 8).
- step_latency_ms: median from triggering Step to the diagram's repaint showing the new step (< 50).
- startup_s: a fresh interpreter launching the app, until the window is first shown (< 2 s; MNIST
  loads in the background).

Usage: python benchmarks/app_speed.py [--data DIR] [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP_SCRIPT = """
import sys, time
from PySide6.QtWidgets import QApplication
from digitviz.gui.app import main
def shown(window):
    print("SHOWN", flush=True)
    QApplication.instance().quit()
sys.exit(main(data_dir=sys.argv[1], on_shown=shown))
"""


def startup_seconds(data_dir) -> float:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = home  # never read or write the user's QSettings
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-c", STARTUP_SCRIPT, str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for line in p.stdout:
            if line.startswith("SHOWN"):
                dt = time.perf_counter() - t0
                break
        else:
            dt = float("nan")
        p.wait(30)
    return dt


def headless_rate(trainer, seconds) -> float:
    from threadpoolctl import threadpool_limits

    n0 = trainer.examples_seen
    with threadpool_limits(1):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            trainer.run_steps(1000)  # the trainer's engine (fused by default), in chunks like the worker's
            if trainer.epoch_done:
                trainer.end_epoch()
        dt = time.perf_counter() - t0
    return (trainer.examples_seen - n0) / dt


def pump_until(app, cond, timeout=10.0):
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the app did not answer in time")


def in_app_rate(app, w, seconds) -> float:
    c = w.controller
    c.play()
    pump_until(app, lambda: c.latest.running)
    from PySide6.QtCore import QEventLoop, QTimer

    n0, t0 = c.latest.examples_seen, time.perf_counter()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()  # the real event loop: frames, panels and painting as in the app
    n1, t1 = c.latest.examples_seen, time.perf_counter()
    c.pause()
    pump_until(app, lambda: not c.latest.running)
    return (n1 - n0) / (t1 - t0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--seconds", type=float, default=3.0, help="length of each rate measurement")
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)

    from PySide6.QtCore import QEvent, QObject, QSettings

    from digitviz.core.data import load_mnist
    from digitviz.core.training import PRESETS, Trainer
    from digitviz.gui.app import make_app
    from digitviz.gui.main_window import MainWindow

    print(f"# digitviz app benchmark: lesson preset, 1280x800, platform {os.environ.get('QT_QPA_PLATFORM', 'xcb')}")
    startup = startup_seconds(a.data)

    app = make_app([])
    ds = load_mnist(a.data)
    config = PRESETS["lesson"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.IniFormat)
        w = MainWindow(data=ds, config=config, settings=settings)
        w.confirm = lambda *args: True
        w.speed.setValue(w.speed.maximum())  # full speed (the app starts at 10 batches/s for a first look)
        w.resize(1280, 800)
        w.show()
        for dock in w.docks.values():
            dock.show()
        pump_until(app, lambda: w.controller.latest is not None and w.isVisible())
        for _ in range(20):
            app.processEvents()

        # rates, alternating
        trainer = Trainer(ds, config)
        ratios, head, inapp = [], [], []
        for _ in range(a.rounds):
            h = headless_rate(trainer, a.seconds)
            r = in_app_rate(app, w, a.seconds)
            head.append(h)
            inapp.append(r)
            ratios.append(r / h)

        # diagram: one full update + repaint, for different inputs
        X = ds.images_as("test")
        times = []
        for i in range(40):
            t0 = time.perf_counter()
            w._on_input_changed(X[i], int(ds.test_labels[i]))
            w.diagram.repaint()
            times.append(time.perf_counter() - t0)
        w._on_input_changed(None, -1)
        repaint_ms = 1e3 * statistics.median(times[5:])

        # step latency: Step pressed -> the diagram painted with the new step
        class PaintWatch(QObject):
            painted = 0

            def eventFilter(self, obj, ev):
                if ev.type() == QEvent.Paint:
                    PaintWatch.painted += 1
                return False

        target = getattr(w.diagram, "_gv", w.diagram)
        target = target.viewport() if hasattr(target, "viewport") else target
        watch = PaintWatch()
        target.installEventFilter(watch)
        lat = []
        for _ in range(25):
            step = w.controller.step
            updates = w.diagram_updates
            t0 = time.perf_counter()
            w.act_step.trigger()
            pump_until(
                app, lambda step=step, updates=updates: w.controller.step == step + 1 and w.diagram_updates > updates
            )
            painted = PaintWatch.painted
            pump_until(app, lambda painted=painted: PaintWatch.painted > painted)
            lat.append(time.perf_counter() - t0)
        target.removeEventFilter(watch)
        w.close()

    print(
        f"# rounds of {a.seconds:g} s: headless {', '.join(f'{x:,.0f}' for x in head)}; "
        f"in app {', '.join(f'{x:,.0f}' for x in inapp)} examples/s"
    )
    print(f"headless_rate: {statistics.median(head):.0f} examples/s")
    print(f"in_app_rate: {statistics.median(inapp):.0f} examples/s")
    print(f"in_app_rate_ratio: {statistics.median(ratios):.2f}")
    print(f"diagram_repaint_ms: {repaint_ms:.1f} ms")
    print(f"step_latency_ms: {1e3 * statistics.median(lat):.1f} ms")
    print(f"startup_s: {startup:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
